"""Compare two settings: pin the current one as A, change the controls (B), and see both side by side.

A is a copy of the simulation's parameters and of its selection when pinned. A uses the page's program
count and back end (A and B always speak of the same program space), so A is recomputed, with a second
Simulation, only when it is pinned from a link or when those two change; every other change moves only B.

In the link, `pin=` carries A as the same name=value text the page's own link uses, joined by `;`:
`pin=scenario=memory;w_avg=2.5;kind_mix=honest:0.5,lookup:0.5` (A's preset, and what in A differs from
it). It is read with the same parser as the rest of the link (explorer.params.parse_value), never
evaluated; each bad part is one message naming `pin` and the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.params import parse_value, quoted
from explorer.priors import PRIORS, PriorResult
from explorer.scenarios import machine_params, preset_params, scenarios_of
from explorer.simulation import PRIOR_PARAMS, WORLD_PARAMS, Simulation, parameter
from explorer.table import KINDS
from explorer.ui import markup
from explorer.ui.controls import LABELS
from explorer.ui.state import SimulationState
from explorer.ui.url import MAX_FIELDS, settings_pairs

#: The page's own settings, which A shares with B.
SHARED = machine_params("abstract")  # n_programs, backend
#: A fixed layout, so the table fits the story column (~300 px): a prior's name runs over its empty row.
TABLE_CSS = """
table.pinned-compare { border-collapse: collapse; font-size: 14px; line-height: 1.25; table-layout: fixed; width: 100%; }
table.pinned-compare th, table.pinned-compare td { padding: 0 3px; }
table.pinned-compare th { border-bottom: 2px solid #888; text-align: right; font-size: 12px; font-weight: 600; }
table.pinned-compare th:nth-child(1) { width: 18px; }
table.pinned-compare th:nth-child(2) { width: 26%; }
table.pinned-compare tr.prior td { padding-top: 4px; font-weight: 700; white-space: nowrap; overflow: visible; }
table.pinned-compare tr.B td { border-bottom: 1px solid #ccc; }
"""


def pin_text(scenario: str, params: dict[str, Any]) -> str:
    """A's `pin=` value: its preset and what differs from it, `name=value` joined by `;`."""
    pairs = settings_pairs(scenario, params, {}, skip=SHARED)
    return ";".join(f"{name}={text}" for name, text in pairs)


def parse_pin(text: str) -> tuple[str | None, dict[str, Any], list[str]]:
    """A `pin=` value read: (A's preset, A's settings over it, one message per part not used); the preset
    is None when the value names none that this page has (then nothing is pinned)."""
    problems, values, scenario = [], {}, None
    for item in [i for i in text.split(";") if i.strip()][:MAX_FIELDS]:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            problems.append(f"pin: {quoted(item)} is not name=value")
        elif name == "scenario":
            if value in scenarios_of("abstract"):
                scenario = value
            else:
                problems.append(f"pin: scenario: {quoted(value)} is not one of: {', '.join(scenarios_of('abstract'))}")
        elif name in SHARED:
            problems.append(f"pin: {name} is the page's own (A uses the page's {name}); left out")
        elif name in WORLD_PARAMS or name in PRIOR_PARAMS:
            try:
                values[name] = parse_value(parameter(name), value)
            except ExplorerError as exc:
                problems.append(f"pin: {exc}")
        else:
            problems.append(f"pin: unknown parameter {quoted(name)}")
    if scenario is None and not any("scenario" in p for p in problems):
        problems.append("pin: names no scenario (pin=scenario=NAME;...), so nothing was pinned")
    return scenario, values, problems


class PinnedComparison(pn.viewable.Viewer):
    """A pinned setting A beside the current one B: each prior's pick and posterior mass per kind."""

    state = param.ClassSelector(class_=SimulationState, doc="The page's simulation (B).")
    pinned = param.Dict(default=None, allow_None=True, doc="A's parameters (none: nothing pinned).")
    scenario = param.String(default="", doc="A's preset (what its link text is relative to).")
    version = param.Integer(0, doc="Bumped when A's results change.")

    link_names = ("pin",)
    link_watch = ("pinned",)

    def __init__(self, current_scenario: Callable[[], str] = lambda: "goof-off", **params):
        """`current_scenario()` is the page's preset when "Pin as A" is pressed."""
        super().__init__(**params)
        self._current_scenario = current_scenario
        self.results: dict[str, PriorResult] = {}
        self._key: tuple | None = None  # the (n_programs, backend) A's results were computed for
        self._view = markup.html("", sizing_mode="stretch_width", name="compare", stylesheets=[TABLE_CSS])
        self._heading = markup.markdown("", sizing_mode="stretch_width")
        self.pin_button = pn.widgets.Button(label="Pin as A", color="primary",
                                            description="Keep the current settings as A, then change the controls to compare.")
        self.pin_button.on_click(lambda _: self.pin(self._current_scenario()))
        self.unpin_button = pn.widgets.Button(label="Unpin", color="light", visible=False)
        self.unpin_button.on_click(lambda _: self.unpin())
        self.state.param.watch(self._on_state, "version")
        self.param.watch(lambda *_: self._draw(), "version")
        self._draw()

    # ---- A --------------------------------------------------------------------------------------------

    def pin(self, scenario: str) -> None:
        """Pin the current settings (of preset `scenario`) and their selection as A."""
        params = self.state.simulation.params()
        self.results = dict(self.state.results)
        self._key = tuple(params[n] for n in SHARED)
        self.param.update(pinned={k: v for k, v in params.items() if k not in SHARED}, scenario=scenario)
        self.version += 1

    def unpin(self) -> None:
        self.results, self._key = {}, None
        self.param.update(pinned=None, scenario="")
        self.version += 1

    def _compute(self) -> None:
        """A's selection at the page's current program count and back end."""
        current = self.state.simulation.params()
        shared = {n: current[n] for n in SHARED}
        self.results = Simulation("abstract", **self.pinned, **shared).select()
        self._key = tuple(shared.values())
        self.version += 1

    def _on_state(self, *_) -> None:
        if self.pinned is None:
            return
        key = tuple(self.state.simulation.params()[n] for n in SHARED)
        if key != self._key:
            try:
                self._compute()
            except ExplorerError as exc:
                self.state.message = f"Pinned setting A: {exc}"
                return
        self._draw()

    # ---- the link -------------------------------------------------------------------------------------

    def link_pairs(self) -> list[tuple[str, str]]:
        return [("pin", pin_text(self.scenario, self.pinned))] if self.pinned is not None else []

    def apply_link(self, values: dict[str, str]) -> list[str]:
        """Pin A from a link's `pin=`; one message per part not used."""
        if "pin" not in values:
            return []
        scenario, settings, problems = parse_pin(values["pin"])
        if scenario is None:
            return problems
        params = {k: v for k, v in preset_params(scenario).items() if k not in SHARED}
        try:
            Simulation("abstract", **params).update(**settings)  # each is checked alone; now all together
            params.update(settings)
        except ExplorerError as exc:
            problems.append(f"pin: {exc}; A is the preset {scenario} without the link's changes")
        self.param.update(pinned=params, scenario=scenario)
        try:
            self._compute()
        except ExplorerError as exc:
            problems.append(f"pin: {exc}")
            self.unpin()
        return problems

    # ---- the view -------------------------------------------------------------------------------------

    def differences(self) -> list[tuple[str, str, str]]:
        """(name, A's value, B's value) for each setting where A and B differ."""
        if self.pinned is None:
            return []
        b = self.state.simulation.params()
        return [(n, _text(v), _text(b[n])) for n, v in self.pinned.items() if b.get(n) != v]

    def table_html(self) -> str:
        """For each prior a row with its name, then rows A and B: the pick (MAP kind) and the posterior mass
        per kind; B's cells that differ from A's are highlighted. Narrow enough for the story column."""
        head = "".join(f"<th>{markup.html_text(k.replace('_', '-'))}</th>" for k in KINDS)
        rows = []
        for prior in PRIORS:
            a, b = self.results.get(prior), self.state.results.get(prior)
            if a is None or b is None:
                continue
            rows.append(f"<tr class='prior'><td class='name'>{markup.html_text(prior)}</td>"
                        + "<td></td>" * (len(KINDS) + 1) + "</tr>")
            for label, r, other in (("A", a, None), ("B", b, a)):
                cells = [_cell(_pick(r), other is not None and _pick(r) != _pick(other))]
                for k in KINDS:  # highlighted where the numbers shown differ (a cell never says 55% vs 55%)
                    cells.append(_cell(_percent(r.mass[k]), other is not None and _percent(r.mass[k]) != _percent(other.mass[k])))
                rows.append(f"<tr class='{label}'><td><b>{label}</b></td>{''.join(cells)}</tr>")
        return (f"<table class='pinned-compare'><thead><tr><th></th><th>pick</th>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def _draw(self) -> None:
        if self.pinned is None:
            self._heading.object = ("Nothing pinned yet. **Pin as A** (in the sidebar, under the preset) keeps the "
                                    "current settings; then change the controls and read A beside B here.")
            self._view.object = ""
            self.unpin_button.visible = False
            return
        diff = self.differences()
        said = "; ".join(f"{markup.text(LABELS.get(n, n))}: A {markup.text(a)}, B {markup.text(b)}" for n, a, b in diff[:8])
        more = f"; and {len(diff) - 8} more" if len(diff) > 8 else ""
        self._heading.object = (f"**A**: pinned (preset {markup.text(self.scenario)}). **B**: the current settings. "
                                + (f"They differ in {said}{more}." if diff else "They are the same settings."))
        self._view.object = self.table_html()
        self.unpin_button.visible = True

    def controls(self) -> pn.Row:
        """The sidebar's part: Pin as A and Unpin (what is pinned shows beside the results)."""
        return pn.Row(self.pin_button, self.unpin_button, sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Column(self._heading, self._view, sizing_mode="stretch_width", name="Compare A and B")


def _pick(result: PriorResult) -> str:
    return (result.map or {}).get("kind", "none").replace("_", "-")


def _percent(mass: float) -> str:
    return f"{mass:.0%}"


def _cell(text: str, changed: bool) -> str:
    style = " style='background: #fde68a; font-weight: 700'" if changed else ""
    return f"<td align='right'{style}>{markup.html_text(text)}</td>"


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:g}" for k, v in value.items())
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
