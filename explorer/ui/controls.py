"""Widgets generated from the core's parameters: bounds, defaults and descriptions come from the
param definitions in explorer.worlds.abstract and explorer.priors, never restated here.

A widget change goes through SimulationState.apply; if the core rejects it, the widget snaps back to
the last good value and the state's message says why.

A presenter sees what moved: a control whose value differs from `baseline` (the preset's values and the
page's own program count and back end: `baseline_values`) has its label marked and a small "↺ value"
button beside it that puts the preset's value back. `show_only` hides controls (a link for the room).
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from explorer.backend import available_backends
from explorer.scenarios import preset_params
from explorer.simulation import parameter
from explorer.table import KINDS
from explorer.ui import markup
from explorer.ui.deferred import after_update
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


#: How a changed control looks: its label bold with a dot before it (the class is set on the widget's host).
CHANGED_CSS = """
:host(.changed) .bk-slider-title, :host(.changed) label, :host(.changed) .bk-label { font-weight: 700; }
:host(.changed) .bk-slider-title::before, :host(.changed) label::before, :host(.changed) .bk-label::before {
  content: "\\25CF  "; color: #c2410c; }
"""
#: A control's reset button keeps its place and is only hidden while the control is at the preset's value:
#: toggling a class repaints one button, where showing and hiding it re-laid out the sidebar on every slider
#: move (some 18 ms of each move's latency in the browser benchmark).
RESET_CSS = ":host(:not(.reset-shown)) { visibility: hidden; }"


def baseline_values(scenario: str, initial: dict[str, Any]) -> dict[str, Any]:
    """What a control is "changed" from: the preset's values (the world's defaults where the preset sets
    nothing), and the page's initial program count and back end, which no preset sets (as in the link)."""
    return {**preset_params(scenario), **initial}


def _value_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _label(name: str, p: param.Parameter) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


class Controls(pn.viewable.Viewer):
    """One widget per parameter in GROUPS, kept in step with the state's simulation."""

    state = param.ClassSelector(class_=SimulationState, doc="The simulation the widgets drive.")
    baseline = param.Dict(default=None, allow_None=True,
                          doc="The values a control is marked as changed from (none: no marks); see baseline_values.")

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
        self.resets: dict[str, pn.widgets.Button] = {}
        for key, widget in self.widgets.items():
            widget.param.watch(lambda event, key=key: self._changed(key, event.new), "value")
            widget.stylesheets = [*widget.stylesheets, CHANGED_CSS]
            self.resets[key] = button = pn.widgets.Button(label="↺", color="light", width=40, stylesheets=[RESET_CSS],
                                                          margin=(0, 0, 0, 2) if isinstance(widget, pn.widgets.Checkbox)
                                                          else (20, 0, 0, 2))
            button.on_click(lambda _, key=key: self.reset_one(key))
        self.rows = {key: self._row(key) for key in self.widgets}
        self.cards = {}
        for title, names in GROUPS.items():
            keys = [k for n in names for k in ([f"kind_mix.{kind}" for kind in KINDS] if n == "kind_mix" else [n])]
            self.cards[title] = markup.card(title, *[self.rows[k] for k in keys], collapsed=title == "Program space",
                                            sizing_mode="stretch_width")
        # Whatever changed the simulation (a preset, a tour step, a link), the widgets and marks show it.
        self.state.param.watch(lambda *_: self.refresh(), "version")
        self.param.watch(lambda *_: self._mark(), "baseline")

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
        self._mark_soon()

    # ---- changed from the preset ------------------------------------------------------------------

    def _values(self, values: dict[str, Any]) -> dict[str, Any]:
        """The value behind every widget key (a kind_mix slider's share, 0 where the mix lacks the kind)."""
        return {key: float(values["kind_mix"].get(key.split(".", 1)[1], 0.0)) if key.startswith("kind_mix.")
                else values.get(key) for key in self.widgets}

    def changed(self) -> dict[str, Any]:
        """The controls that differ from the baseline, with the baseline's value for each."""
        if self.baseline is None:
            return {}
        now, base = self._values(self.state.simulation.params()), self._values(self.baseline)
        return {key: base[key] for key in self.widgets if now[key] != base[key]}

    def _mark_soon(self) -> None:
        """Mark the changed controls just after this update has gone out: the picture and the picks are what a
        slider move is for, and restyling the sidebar in the same message delayed their paint (some 18 ms a
        move in the browser benchmark). Off a server (a notebook, a test) the marks follow at once."""
        after_update(self._mark)

    def _mark(self) -> None:
        changed = self.changed()
        with pn.io.hold():
            for key, widget in self.widgets.items():
                was = key in changed
                classes = [c for c in widget.css_classes if c != "changed"] + (["changed"] if was else [])
                if classes != widget.css_classes:
                    widget.css_classes = classes
                button = self.resets[key]
                if was:  # the preset's value: the same on every move until the preset changes
                    text = _value_text(changed[key])
                    label, width = f"↺ {text}", min(96, 34 + 8 * len(text))
                    if (button.label, button.width) != (label, width):
                        button.param.update(label=label, width=width, description=(
                            f"Changed from the preset: click to put back its value ({text})."))
                shown = [c for c in button.css_classes if c != "reset-shown"] + (["reset-shown"] if was else [])
                if shown != button.css_classes:
                    button.css_classes = shown

    def reset_shown(self, key: str) -> bool:
        """Whether the control's reset button shows (the control differs from the preset)."""
        return "reset-shown" in self.resets[key].css_classes

    def reset_one(self, key: str) -> bool:
        """Put the baseline's value back in one control (one kind's share of the mix for a kind_mix slider)."""
        if self.baseline is None:
            return False
        if key.startswith("kind_mix."):
            kind = key.split(".", 1)[1]
            mix = dict(self.state.simulation.params()["kind_mix"])
            mix[kind] = float(self.baseline["kind_mix"].get(kind, 0.0))
            change = {"kind_mix": {k: v for k, v in mix.items() if v or k in self.baseline["kind_mix"]}}
        else:
            change = {key: self.baseline[key]}
        if not self.state.apply(**change):
            self.refresh()
            return False
        return True

    # ---- which controls show ------------------------------------------------------------------------

    def show_only(self, names=None) -> None:
        """Show only the controls of the flat parameter names in `names` (a kind_mix name shows all its
        sliders), and hide a group with none shown; None shows every control."""
        with pn.io.hold():
            for key, row in self.rows.items():
                row.visible = names is None or key.split(".", 1)[0] in names
            for title, card in self.cards.items():
                card.visible = names is None or any(n in names for n in GROUPS[title])

    def _row(self, key: str) -> pn.Row:
        tip = [pn.widgets.TooltipIcon(value=self.help[key], width=24, margin=(22, 0, 0, 0))] if key in self.help else []
        return pn.Row(self.widgets[key], *tip, self.resets[key], sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Column(*self.cards.values(), sizing_mode="stretch_width")
