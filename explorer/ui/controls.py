"""Widgets generated from the core's parameters: bounds, defaults and descriptions come from the
param definitions in explorer.worlds.abstract and explorer.priors, never restated here.

A widget change goes through SimulationState.apply; if the core rejects it, the widget snaps back to
the last good value and the state's message says why.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from explorer.backend import available_backends
from explorer.table import KINDS
from explorer.simulation import parameter
from explorer.ui import markup
from explorer.ui.state import SimulationState

#: The controls, grouped as they appear on the page.
GROUPS = {
    "Penalty weights": ["w_simplicity", "w_max", "w_avg"],
    "What looks good": ["performance_threshold", "generalization_check", "compute_budget"],
    "Misbehaviour": ["misbehaviour_cost", "deception_overhead", "deception_check_strength", "memory",
                     "deceptive_efficiency", "deception_bits_offset"],
    "Program space": ["kind_mix", "lookup_bits_per_task", "n_programs", "seed", "backend"],
}

#: Slider ranges where the parameter's own bounds are too wide for a slider (the URL still takes the full range).
SLIDER_RANGES = {
    "w_simplicity": (0.0, 10.0, 0.05), "w_max": (0.0, 10.0, 0.05), "w_avg": (0.0, 10.0, 0.05),
    "performance_threshold": (0.0, 1.0, 0.01), "lookup_bits_per_task": (0.0, 16.0, 0.25),
}

#: Labels in plain words (the flat parameter name stays what links, the CLI and stories use).
LABELS = {
    "w_simplicity": "Simplicity weight (per bit)", "w_max": "Max-compute weight", "w_avg": "Average-compute weight",
    "performance_threshold": "Looks good at train performance", "generalization_check": "Check held-out tasks too",
    "compute_budget": "Compute budget (max compute)", "misbehaviour_cost": "Goof-off misbehaviour cost",
    "deception_overhead": "Deception overhead per task", "deception_check_strength": "Deception check strength",
    "memory": "Cross-episode memory", "deceptive_efficiency": "Deceptive programs' efficiency",
    "deception_bits_offset": "Extra bits of deception", "lookup_bits_per_task": "Lookup bits per task",
    "n_programs": "Programs", "seed": "Seed", "backend": "Back end",
}

#: Program counts offered (any other count can come from a link or the CLI).
SIZES = [1_000, 10_000, 100_000, 1_000_000]


def _label(name: str, p: param.Parameter) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


class Controls(pn.viewable.Viewer):
    """One widget per parameter in GROUPS, kept in step with the state's simulation."""

    state = param.ClassSelector(class_=SimulationState, doc="The simulation the widgets drive.")

    def __init__(self, **params):
        super().__init__(**params)
        self._syncing = False
        values = self.state.simulation.params()
        self.widgets: dict[str, pn.widgets.Widget] = {}
        self.help: dict[str, str] = {}  # descriptions of widgets that have no tooltip of their own
        for names in GROUPS.values():
            for name in names:
                if name == "kind_mix":
                    for kind in KINDS:
                        self.widgets[f"kind_mix.{kind}"] = pn.widgets.FloatSlider(
                            label=f"Share of {kind.replace('_', '-')} programs", start=0.0, end=1.0, step=0.05,
                            value=float(values["kind_mix"].get(kind, 0.0)))
                        self.help[f"kind_mix.{kind}"] = f"{parameter('kind_mix').doc} Shares are normalised to sum to one."
                else:
                    self.widgets[name] = self._make(name, values[name])
                    if "description" not in self.widgets[name].param:
                        self.help[name] = parameter(name).doc
        for key, widget in self.widgets.items():
            widget.param.watch(lambda event, key=key: self._changed(key, event.new), "value")
        # Whatever changed the simulation (a preset, a tour step, a link), the widgets show it.
        self.state.param.watch(lambda *_: self.refresh(), "version")

    def _make(self, name: str, value: Any) -> pn.widgets.Widget:
        p = parameter(name)
        common = {"label": _label(name, p), "description": p.doc}
        if isinstance(p, param.Boolean):
            return pn.widgets.Checkbox(value=bool(value), label=common["label"])
        if name == "backend":
            return pn.widgets.Select(options=available_backends(), value=value, **common)
        if isinstance(p, param.Selector):
            return pn.widgets.Select(options=list(p.objects), value=value, **common)
        if name == "n_programs":
            return pn.widgets.Select(options=sorted(set(SIZES) | {int(value)}), value=int(value), **common)
        if isinstance(p, param.Integer):
            lo, hi = p.bounds
            return pn.widgets.IntInput(value=int(value), start=lo, end=hi, **common)
        if p.allow_None:  # compute_budget: empty means no budget
            return pn.widgets.FloatInput(value=value, start=p.bounds[0], placeholder="none", **common)
        lo, hi, step = SLIDER_RANGES.get(name, (*p.bounds, 0.1))
        return pn.widgets.FloatSlider(start=lo, end=max(hi, float(value)), step=step, value=float(value), label=common["label"])

    def _changed(self, key: str, value: Any) -> None:
        if self._syncing:
            return
        if key.startswith("kind_mix."):
            change = {"kind_mix": {k: self.widgets[f"kind_mix.{k}"].value for k in KINDS}}
        else:
            change = {key: value}
        if not self.state.apply(**change):
            self.refresh()  # snap back to the last good values; state.message says why

    def refresh(self) -> None:
        """Show the simulation's current values (after a preset, a reset or a link)."""
        values = self.state.simulation.params()
        self._syncing = True
        try:
            for key, widget in self.widgets.items():
                if key.startswith("kind_mix."):
                    value = float(values["kind_mix"].get(key.split(".", 1)[1], 0.0))
                else:
                    value = values[key]
                if isinstance(widget, pn.widgets.FloatSlider) and value > widget.end:
                    widget.end = value
                if isinstance(widget, pn.widgets.Select) and value not in widget.options:
                    widget.options = sorted({*widget.options, value}) if key == "n_programs" else [*widget.options, value]
                widget.value = value
        finally:
            self._syncing = False

    def _row(self, key: str):
        if key not in self.help:
            return self.widgets[key]
        return pn.Row(self.widgets[key], pn.widgets.TooltipIcon(value=self.help[key], width=24, margin=(22, 0, 0, 0)),
                      sizing_mode="stretch_width")

    def __panel__(self):
        cards = []
        for title, names in GROUPS.items():
            keys = [k for n in names for k in ([f"kind_mix.{kind}" for kind in KINDS] if n == "kind_mix" else [n])]
            cards.append(markup.card(title, *[self._row(k) for k in keys], collapsed=title == "Program space",
                                     sizing_mode="stretch_width"))
        return pn.Column(*cards, sizing_mode="stretch_width")
