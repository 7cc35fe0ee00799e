"""Widgets for every part of a training story, each form bound to one object of the story model.

A form builds its widgets from the object it edits and writes every change straight back into that
object, then calls `changed(structural)`: structural when ids, names or the number of parts changed
(the editor then refreshes the choices that list them), plain for text. The editor (story_editor.py)
owns the story and composes the forms; nothing here knows about files or the library.

Safety: user text only ever sits in text widgets, or is shown through explorer.stories.render. Bokeh's
MultiChoice renders option labels as HTML, so ids offered there are labelled with their escaped text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import panel as pn
import param

from explorer.checks import OPERATORS, literal, parse_text
from explorer.errors import ExplorerError
from explorer.params import parse_value
from explorer.scenarios import SCENARIOS
from explorer.simulation import PRIOR_PARAMS, parameter, world_param_names
from explorer.stories.cells import describe_cell
from explorer.stories.model import (
    Assumption, Claim, ClassChoice, Component, Criterion, Evidence, Predicate, Story, Sweep,
)
from explorer.stories.vocabulary import (
    CLAIM_PREFIX, COMPONENTS, CRITERIA, FAILURE_MODES, FINDINGS, GOAL_CLASSES, RATINGS, RATIONALE_CLASSES,
)
from explorer.ui import markup
from explorer.worlds import WORLDS

Changed = Callable[[bool], None]

#: Parameters an assumption can set: the numeric ones, of every world (and the priors).
NUMERIC_PARAMS = tuple(dict.fromkeys(
    n for w in WORLDS for n in (*world_param_names(w), *PRIOR_PARAMS)
    if isinstance(parameter(n, w), param.Number) and not isinstance(parameter(n, w), param.Boolean)))

#: The colour of each claim status (Okabe-Ito, readable on white with white text).
STATUS_COLOURS = {"supported": "#009E73", "refuted": "#D55E00", "stale": "#E69F00", "undeveloped": "#6c757d",
                  "unchecked": "#0072B2"}

CUSTOM = "custom"
GOAL_DEFAULT = next(iter(GOAL_CLASSES))
TEXT = {"auto_grow": True, "rows": 2, "max_rows": 12, "sizing_mode": "stretch_width"}


# ---- small helpers --------------------------------------------------------------------------------

def badge(status: str, title: str = "") -> str:
    """A coloured status badge as HTML (status from the fixed vocabulary; escaped all the same)."""
    colour = STATUS_COLOURS.get(status, "#6c757d")
    return (f'<span class="story-status story-status-{markup.html_text(status)}" title="{markup.html_text(title)}" '
            f'style="background:{colour};color:white;border-radius:4px;padding:1px 7px;font-size:0.85em">'
            f'{markup.html_text(status)}</span>')


def id_options(ids: Iterable[str]) -> dict[str, str]:
    """MultiChoice options {escaped label: id}: Bokeh's MultiChoice renders labels as HTML."""
    return {markup.html_text(i): i for i in dict.fromkeys(ids)}


def format_value(value: Any) -> str:
    """A parameter value as `name=value` text (the inverse of explorer.params.parse_value)."""
    if isinstance(value, dict):
        return ",".join(f"{k}:{v:g}" if isinstance(v, (int, float)) else f"{k}:{v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    return str(value)


def parse_params(text: str, world: str = "abstract") -> tuple[dict[str, Any], list[str]]:
    """`name=value` lines to parameters (parsed against each parameter's type, never evaluated).

    Returns what parsed and one problem per line that did not, so a typo in one line keeps the rest."""
    params, problems = {}, []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"line {n}: {line[:60]!r} is not name=value")
            continue
        try:
            params[name] = parse_value(parameter(name, world), value)
        except ExplorerError as exc:
            problems.append(f"line {n}: {exc}")
    return params, problems


def parse_conditions(text: str, metrics: set[str]) -> tuple[list[Predicate], list[str]]:
    """Lines `metric op value` (or `metric op other_metric`, a name in `metrics`) to predicates, through
    the one parser of explorer.checks; nothing is evaluated."""
    out, problems = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(parse_text(line, metrics))
        except ExplorerError as exc:
            problems.append(f"line {n}: {exc}")
    return out, problems


def format_conditions(predicates: list[Predicate]) -> str:
    return "\n".join(p.text() for p in predicates)


def params_text(params: dict[str, Any]) -> str:
    """Parameters as the `name=value` lines parse_params reads."""
    return "\n".join(f"{k}={format_value(v)}" for k, v in params.items())


def with_current(options: Iterable[str], value: str | None) -> list[str]:
    """The options, plus the current value if it is not one of them (kept visible for validation to name)."""
    options = list(options)
    return options + ([value] if value is not None and value not in options else [])


def _default_scenario() -> str:
    """The scenario new evidence and sweeps start with: the dashboard's default preset when it is there."""
    return "goof-off" if "goof-off" in SCENARIOS else next(iter(SCENARIOS))


def _world(scenario: str | None) -> str:
    """The world of a scenario id ('abstract' for an unknown one, which validation names)."""
    try:
        return SCENARIOS[scenario].world if scenario in SCENARIOS else "abstract"
    except ExplorerError:
        return "abstract"


def _metrics(scenario: str | None, params: dict[str, Any]) -> set[str]:
    try:
        return SCENARIOS[scenario].metric_names(params) if scenario else set()
    except (ExplorerError, ValueError, TypeError):
        return set()


def _watch_text(widget, setter: Callable[[str], None], changed: Changed, structural: bool = False, live: bool = True):
    """Write a text widget's value into the model as the user types (`live`) or when they commit it."""

    def update(event):
        if event.new is None:
            return
        setter(event.new)
        changed(structural)

    widget.param.watch(update, ["value", "value_input"] if live else ["value"])
    return widget


def live(widget):
    """Make `text_of(widget)` follow the widget as the user types (value_input) and commits (value):
    whichever changed last wins, in the browser and when code sets either."""
    widget._latest_text = widget.value

    def remember(event):
        if event.new is not None:
            widget._latest_text = event.new

    widget.param.watch(remember, ["value", "value_input"])  # registered first, so it runs first
    return widget


def text_of(widget) -> str:
    latest = getattr(widget, "_latest_text", None)
    return latest if latest is not None else (widget.value or "")


def _watch(widget, setter: Callable[[Any], None], changed: Changed, structural: bool = False):
    def update(event):
        setter(event.new)
        changed(structural)

    widget.param.watch(update, "value")
    return widget


def remove_identical(items: list, item) -> None:
    """Remove this very object (dataclasses compare equal by value: two equal claims are still two)."""
    del items[next(i for i, x in enumerate(items) if x is item)]


def _remove_button(description: str, on_click: Callable[[], None]) -> pn.widgets.Button:
    button = pn.widgets.Button(label="Remove", color="light", description=description, width=90, align="end")
    button.on_click(lambda _event: on_click())
    return button


class Choices:
    """The ids a story defines now, for the multi-choices that refer to them; refreshed after each
    structural change. Current values that no longer exist stay listed (validation reports them)."""

    def __init__(self, story: Story):
        self.story = story
        self._widgets: list[tuple[pn.widgets.MultiChoice, Callable[[], list[str]]]] = []

    def claims(self) -> list[str]:
        return list(self.story.claims())

    def evidence(self) -> list[str]:
        return [e.id for e in self.story.evidence]

    def assumptions(self) -> list[str]:
        return [a.name for a in self.story.assumptions]

    def multi(self, label: str, value: list[str], source: Callable[[], list[str]], **kw) -> pn.widgets.MultiChoice:
        widget = pn.widgets.MultiChoice(label=label, value=list(value), options=id_options([*source(), *value]),
                                        sizing_mode="stretch_width", **kw)
        self._widgets.append((widget, source))
        return widget

    def forget(self, widgets: Iterable[Any]) -> None:
        gone = {id(w) for w in widgets}
        self._widgets = [(w, s) for w, s in self._widgets if id(w) not in gone]

    def refresh(self) -> None:
        for widget, source in self._widgets:
            options = id_options([*source(), *widget.value])
            if options != widget.options:
                widget.options = options


# ---- the header: title, authors, classes, failure modes --------------------------------------------

class HeaderForm:
    """Title, authors, goal class, rationale classes and failure modes."""

    where = "story header"

    def __init__(self, story: Story, changed: Changed):
        self.story = story
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.title = _watch_text(pn.widgets.TextInput(label="Title", value=story.title, sizing_mode="stretch_width",
                                                      css_classes=["story-title-input"]),
                                 lambda v: setattr(story, "title", v), changed)
        self.authors = _watch_text(
            pn.widgets.TextAreaInput(label="Authors (one per line)", value="\n".join(story.authors), **TEXT),
            lambda v: setattr(story, "authors", [a.strip() for a in v.splitlines() if a.strip()]), changed)
        goal = story.goal_class
        goal_options = {label.split(":")[0]: gid for gid, label in GOAL_CLASSES.items()}
        if goal.id is not None and goal.id not in GOAL_CLASSES:
            goal_options[f"unknown: {goal.id}"] = goal.id  # kept visible so validation can name it
        goal_options["Custom (describe it)"] = CUSTOM
        self.goal_class = pn.widgets.Select(label="Goal class", options=goal_options,
                                            value=CUSTOM if goal.custom is not None else goal.id or GOAL_DEFAULT,
                                            description="What kind of model the training goal aims at.")
        self.goal_custom = live(pn.widgets.TextInput(label="Custom goal class", value=goal.custom or "",
                                                     visible=goal.custom is not None, sizing_mode="stretch_width"))
        self.goal_class.param.watch(lambda e: self._goal(changed), "value")
        _watch_text(self.goal_custom, lambda v: self._set_goal(), changed)
        known = [c.id for c in story.rationale_classes if c.id is not None]
        self.rationale = pn.widgets.MultiChoice(
            label="Rationale classes", value=known,
            options={**{label.split(":")[0]: rid for rid, label in RATIONALE_CLASSES.items()},
                     **{markup.html_text(f"unknown: {k}"): k for k in known if k not in RATIONALE_CLASSES}},
            sizing_mode="stretch_width", description="Why training should reach the goal.")
        self.rationale_custom = live(pn.widgets.TextAreaInput(
            label="Custom rationale classes (one per line)",
            value="\n".join(c.custom for c in story.rationale_classes if c.custom is not None), **TEXT))
        self.rationale.param.watch(lambda e: self._set_rationale(changed), "value")
        _watch_text(self.rationale_custom, lambda v: self._set_rationale(None), changed)
        self.failure_modes = pn.widgets.MultiChoice(
            label="Failure modes it addresses", value=list(story.failure_modes),
            options={**{fid.replace("-", " "): fid for fid in FAILURE_MODES},
                     **{markup.html_text(f"unknown: {f}"): f for f in story.failure_modes if f not in FAILURE_MODES}},
            sizing_mode="stretch_width")
        _watch(self.failure_modes, lambda v: setattr(story, "failure_modes", list(v)), changed)

    def _goal(self, changed: Changed) -> None:
        self.goal_custom.visible = self.goal_class.value == CUSTOM
        self._set_goal()
        changed(False)

    def _set_goal(self) -> None:
        if self.goal_class.value == CUSTOM:
            self.story.goal_class = ClassChoice(custom=text_of(self.goal_custom))
        else:
            self.story.goal_class = ClassChoice(id=self.goal_class.value)

    def _set_rationale(self, changed: Changed | None) -> None:
        custom = text_of(self.rationale_custom)
        self.story.rationale_classes = [ClassChoice(id=r) for r in self.rationale.value] + [
            ClassChoice(custom=line.strip()) for line in (custom or "").splitlines() if line.strip()]
        if changed is not None:
            changed(False)

    def panel(self) -> pn.Column:
        return pn.Column(self.messages, self.title, self.authors, pn.Row(self.goal_class, self.goal_custom),
                         self.goal_custom_help(), self.rationale, self.rationale_custom, self.failure_modes,
                         sizing_mode="stretch_width")

    @staticmethod
    def goal_custom_help() -> pn.pane.HTML:
        items = "".join(f"<li>{markup.html_text(label)}</li>" for label in GOAL_CLASSES.values())
        return markup.html(f"<details><summary>The goal classes</summary><ul>{items}</ul></details>",
                            sizing_mode="stretch_width")


# ---- components and claims --------------------------------------------------------------------------

class ClaimForm:
    """One claim: id, text, evidence and rests-on references, undeveloped, and its status badge."""

    @property
    def where(self) -> str:
        """The form's name in a problem's line (the part it is about, as the form labels it)."""
        return f"claim {self.claim.id}"

    def __init__(self, claim: Claim, choices: Choices, changed: Changed, remove: Callable[[ClaimForm], None]):
        self.claim = claim
        self.id = _watch_text(pn.widgets.TextInput(label="Claim id", value=claim.id, width=160),
                              lambda v: setattr(claim, "id", v.strip()), changed, structural=True, live=False)
        self.text = _watch_text(pn.widgets.TextAreaInput(label="Claim", value=claim.text, css_classes=["claim-text"],
                                                         **TEXT),
                                lambda v: setattr(claim, "text", v), changed)
        self.evidence = _watch(choices.multi("Evidence", claim.evidence, choices.evidence),
                               lambda v: setattr(claim, "evidence", list(v)), changed)
        self.rests_on = _watch(choices.multi("Rests on claims", claim.rests_on,
                                             lambda: [c for c in choices.claims() if c != claim.id]),
                               lambda v: setattr(claim, "rests_on", list(v)), changed)
        self.undeveloped = _watch(pn.widgets.Checkbox(label="undeveloped", value=claim.undeveloped, align="end"),
                                  lambda v: setattr(claim, "undeveloped", bool(v)), changed)
        self.status = markup.html(badge("unchecked"), width=100, align="end")
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.widgets = [self.evidence, self.rests_on]
        self.layout = pn.Column(
            pn.Row(self.id, self.status, self.undeveloped, _remove_button("Remove this claim", lambda: remove(self))),
            self.text, pn.Row(self.evidence, self.rests_on), self.messages,
            styles={"border-left": "3px solid #ddd", "padding-left": "8px"}, sizing_mode="stretch_width")


class ComponentForm:
    """One of the four components: undeveloped, a note, and its claims (add and remove).

    The editor lays the parts out flat (`parts()`: the heading, each claim's form, the Add button) so
    that every claim's form is a direct child of one scrolling column it can scroll to; `relayout` is
    called after a claim is added or removed so the editor can lay the parts out again."""

    def __init__(self, name: str, story: Story, choices: Choices, changed: Changed):
        self.name, self.story, self.choices, self.changed = name, story, choices, changed
        comp = story.components.setdefault(name, Component())
        self.component = comp
        self.where = COMPONENTS[name]
        self.undeveloped = _watch(pn.widgets.Checkbox(label="Not worked out yet (undeveloped)", value=comp.undeveloped),
                                  lambda v: setattr(comp, "undeveloped", bool(v)), changed)
        self.note = _watch_text(pn.widgets.TextAreaInput(label="Note", value=comp.note, **TEXT),
                                lambda v: setattr(comp, "note", v), changed)
        self.claims = [ClaimForm(c, choices, changed, self.remove) for c in comp.claims]
        self.add_button = pn.widgets.Button(label="Add claim", color="light",
                                            description=f"A new claim in {COMPONENTS[name]}")
        self.add_button.on_click(lambda _event: self.add())
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.head = pn.Column(markup.html(f"<h3 style='margin:8px 0 0 0'>{markup.html_text(COMPONENTS[name])}</h3>"),
                              pn.Row(self.undeveloped), self.note, self.messages, sizing_mode="stretch_width",
                              css_classes=["story-component"])
        self.relayout: Callable[[], None] = lambda: None

    def parts(self) -> list[Any]:
        return [self.head, *(f.layout for f in self.claims), self.add_button]

    def add(self, text: str = "") -> ClaimForm:
        taken = set(self.story.claims())
        prefix = CLAIM_PREFIX[self.name]
        n = 1
        while f"{prefix}{n}" in taken:
            n += 1
        claim = Claim(id=f"{prefix}{n}", text=text)
        self.component.claims.append(claim)
        form = ClaimForm(claim, self.choices, self.changed, self.remove)
        self.claims.append(form)
        self.relayout()
        self.changed(True)
        return form

    def remove(self, form: ClaimForm) -> None:
        remove_identical(self.component.claims, form.claim)
        self.claims.remove(form)
        self.choices.forget(form.widgets)
        self.relayout()
        self.changed(True)


class CriterionForm:
    """One criterion: rating, the claims it rests on, a note."""

    @property
    def where(self) -> str:
        return f"criterion {self.label.split(':')[0].lower()}"

    def __init__(self, name: str, story: Story, choices: Choices, changed: Changed):
        crit = story.criteria.setdefault(name, Criterion())
        self.criterion, self.label = crit, CRITERIA[name]
        ratings = {"(no rating)": "", **{r: r for r in RATINGS}}
        if crit.rating and crit.rating not in RATINGS:
            ratings[f"unknown: {crit.rating}"] = crit.rating
        self.rating = _watch(pn.widgets.Select(label="Rating", options=ratings, value=crit.rating, width=150),
                             lambda v: setattr(crit, "rating", v or ""), changed)
        self.basis = _watch(choices.multi("Basis (claims)", crit.basis, choices.claims),
                            lambda v: setattr(crit, "basis", list(v)), changed)
        self.note = _watch_text(pn.widgets.TextAreaInput(label="Note", value=crit.note, **TEXT),
                                lambda v: setattr(crit, "note", v), changed)
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.layout = pn.Column(markup.html(f"<b>{markup.html_text(CRITERIA[name])}</b>"), pn.Row(self.rating, self.basis),
                                self.note, self.messages, sizing_mode="stretch_width")


# ---- assumptions, evidence, sweeps --------------------------------------------------------------------

class ListForm:
    """A list of parts (assumptions, evidence, sweeps) with add and remove; `make` builds one part's form."""

    def __init__(self, items: list, make: Callable, new: Callable[[], Any], label: str, changed: Changed,
                 choices: Choices):
        self.items, self.make, self.new, self.changed, self.choices = items, make, new, changed, choices
        self.forms = [make(item, self.remove) for item in items]
        self.add_button = pn.widgets.Button(label=f"Add {label}", color="light")
        self.add_button.on_click(lambda _event: self.add())
        #: Called after a part is added or removed (the editor lays its forms out flat, see ComponentForm).
        self.relayout: Callable[[], None] = lambda: None

    def parts(self) -> list[Any]:
        return [*(f.layout for f in self.forms), self.add_button]

    def add(self):
        item = self.new()
        self.items.append(item)
        form = self.make(item, self.remove)
        self.forms.append(form)
        self.relayout()
        self.changed(True)
        return form

    def remove(self, form) -> None:
        remove_identical(self.items, form.item)
        self.forms.remove(form)
        self.choices.forget(getattr(form, "widgets", []))
        self.relayout()
        self.changed(True)


def _unique(prefix: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


class AssumptionForm:
    """An assumption: name, the parameter it sets, nominal value and range, note."""

    @property
    def where(self) -> str:
        return f"assumption {self.item.name}"

    def __init__(self, item: Assumption, changed: Changed, remove):
        self.item = item
        self.name = _watch_text(pn.widgets.TextInput(label="Name", value=item.name, width=140),
                                lambda v: setattr(item, "name", v.strip()), changed, structural=True, live=False)
        self.parameter = _watch(pn.widgets.Select(label="Sets parameter", value=item.parameter, width=180,
                                                  options=with_current(NUMERIC_PARAMS, item.parameter)),
                                lambda v: setattr(item, "parameter", v), changed)
        self.nominal = _watch(pn.widgets.FloatInput(label="Nominal", value=item.nominal, width=90),
                              lambda v: self._set("nominal", v), changed)
        self.low = _watch(pn.widgets.FloatInput(label="Range from", value=item.range[0], width=90),
                          lambda v: self._range(0, v), changed)
        self.high = _watch(pn.widgets.FloatInput(label="to", value=item.range[1], width=90),
                           lambda v: self._range(1, v), changed)
        self.note = _watch_text(pn.widgets.TextInput(label="Note", value=item.note, sizing_mode="stretch_width"),
                                lambda v: setattr(item, "note", v), changed)
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.layout = pn.Column(pn.Row(self.name, self.parameter, self.nominal, self.low, self.high,
                                       _remove_button("Remove this assumption", lambda: remove(self))),
                                self.note, self.messages, sizing_mode="stretch_width")

    def _set(self, key: str, value) -> None:
        if value is not None:
            setattr(self.item, key, float(value))

    def _range(self, i: int, value) -> None:
        if value is not None:
            rng = list(self.item.range)
            rng[i] = float(value)
            self.item.range = (rng[0], rng[1])


class EvidenceForm:
    """Evidence: a simulation (scenario, parameters, assumptions, predicate) or an external source."""

    SIMULATION, SOURCE = "Simulation", "External source"

    @property
    def where(self) -> str:
        return f"evidence {self.item.id}"

    def __init__(self, item: Evidence, choices: Choices, changed: Changed, remove):
        self.item, self.changed = item, changed
        self.id = _watch_text(pn.widgets.TextInput(label="Evidence id", value=item.id, width=240),
                              lambda v: setattr(item, "id", v.strip()), changed, structural=True, live=False)
        self.kind = pn.widgets.RadioButtonGroup(options=[self.SIMULATION, self.SOURCE],
                                                value=self.SIMULATION if item.simulated else self.SOURCE, align="end")
        self.kind.param.watch(lambda e: self._set_kind(), "value")
        pred = item.predicate or Predicate(metric="average_speed.actually_good", op=">=", value=0.5)
        scenario = item.scenario or _default_scenario()
        self.scenario = pn.widgets.Select(label="Scenario", options=with_current(SCENARIOS, scenario), value=scenario,
                                          width=200)
        self.params = live(pn.widgets.TextAreaInput(
            label="Parameters (name=value per line)", value=params_text(item.params),
            placeholder="none: the scenario's own (for example w_avg=2)", **TEXT))
        self.assumptions = _watch(
            choices.multi("Assumptions (at their nominal values)", item.assumptions, choices.assumptions),
            lambda v: setattr(item, "assumptions", list(v)), changed)
        self.metric = pn.widgets.Select(label="Metric", options=[pred.metric], value=pred.metric, width=260)
        self.op = pn.widgets.Select(label="Op", options=with_current(OPERATORS, pred.op), value=pred.op,
                                    width=70)
        self.against = pn.widgets.Select(label="Compared with", options=["a value"], value="a value", width=260)
        self.value = live(pn.widgets.TextInput(label="Value", width=100,
                                               value="" if pred.value is None else format_value(pred.value)))
        if pred.other is not None:
            self.against.options = ["a value", pred.other]
            self.against.value = pred.other
        self.source = live(pn.widgets.TextInput(label="Source", value=item.source or "", sizing_mode="stretch_width"))
        finding = item.finding or FINDINGS[0]
        self.finding = pn.widgets.Select(label="Finding", options=with_current(FINDINGS, finding), value=finding,
                                         width=120)
        self.note = _watch_text(pn.widgets.TextAreaInput(label="Note", value=item.note, **TEXT),
                                lambda v: setattr(item, "note", v), changed)
        self.problems = markup.html("", sizing_mode="stretch_width", visible=False)
        self.result = markup.html("", sizing_mode="stretch_width")
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.widgets = [self.assumptions]
        self._refresh_metrics()
        for w in (self.scenario, self.metric, self.op, self.against):
            w.param.watch(lambda e: self._set_simulation(), "value")
        self.params.param.watch(lambda e: self._set_simulation(), ["value", "value_input"])
        self.value.param.watch(lambda e: self._set_simulation(), ["value", "value_input"])
        self.source.param.watch(lambda e: self._set_source(), ["value", "value_input"])
        self.finding.param.watch(lambda e: self._set_source(), "value")
        self.simulation_part = pn.Column(pn.Row(self.scenario, self.assumptions), self.params,
                                         pn.Row(self.metric, self.op, self.against, self.value),
                                         sizing_mode="stretch_width", visible=item.simulated)
        self.source_part = pn.Row(self.source, self.finding, visible=not item.simulated, sizing_mode="stretch_width")
        # A cited claims-matrix cell is neither kind: the form shows it and leaves it as the file says.
        self.cell_part = markup.html("" if item.cell is None else
                                     f"<p>Cites the {markup.html_text(describe_cell(item.cell))} (change it in the "
                                     "file's front matter).</p>", sizing_mode="stretch_width", visible=item.cell is not None)
        if item.cell is not None:
            self.kind.disabled = True
            self.simulation_part.visible = self.source_part.visible = False
        self.layout = pn.Column(
            pn.Row(self.id, self.kind, _remove_button("Remove this evidence", lambda: remove(self))),
            self.cell_part, self.simulation_part, self.source_part, self.note, self.problems, self.result, self.messages,
            styles={"border-left": "3px solid #ddd", "padding-left": "8px"}, sizing_mode="stretch_width")

    def _refresh_metrics(self) -> None:
        params, _ = parse_params(text_of(self.params), _world(self.scenario.value))
        metrics = sorted(_metrics(self.scenario.value, params))
        keep = [m for m in (self.metric.value,) if m and m not in metrics]
        self.metric.options = keep + metrics
        others = ["a value"] + metrics + [m for m in (self.against.value,) if m not in metrics and m != "a value"]
        if self.against.options != others:
            self.against.options = others
        self.value.disabled = self.against.value != "a value"

    def _set_kind(self) -> None:
        simulated = self.kind.value == self.SIMULATION
        self.simulation_part.visible, self.source_part.visible = simulated, not simulated
        self._set_simulation() if simulated else self._set_source()

    def _set_simulation(self) -> None:
        if self.kind.value != self.SIMULATION:
            return
        self._refresh_metrics()
        item = self.item
        item.source = item.finding = None
        item.scenario = self.scenario.value
        params, problems = parse_params(text_of(self.params), _world(item.scenario))
        item.params = params
        other = None if self.against.value == "a value" else self.against.value
        value = None if other is not None else literal(text_of(self.value))
        old = item.predicate  # the form does not edit per-side overrides; a file's stay as written
        item.predicate = Predicate(metric=self.metric.value, op=self.op.value, value=value, other=other,
                                   params=dict(old.params) if old else {},
                                   other_params=dict(old.other_params) if old and other is not None else {})
        self.problems.object = "".join(f"<div class='story-problem'>{markup.html_text(p)}</div>" for p in problems)
        self.problems.visible = bool(problems)
        self.changed(False)

    def _set_source(self) -> None:
        if self.kind.value != self.SOURCE:
            return
        item = self.item
        item.scenario, item.params, item.assumptions, item.predicate, item.recorded = None, {}, [], None, None
        item.source = text_of(self.source)
        item.finding = self.finding.value
        self.problems.visible = False
        self.changed(False)


class SweepForm:
    """A sensitivity sweep: scenario, the assumptions it varies, grid points and the two failure conditions."""

    @property
    def where(self) -> str:
        return f"sweep {self.item.id}"

    def __init__(self, item: Sweep, choices: Choices, changed: Changed, remove):
        self.item, self.changed = item, changed
        self.id = _watch_text(pn.widgets.TextInput(label="Sweep id", value=item.id, width=200),
                              lambda v: setattr(item, "id", v.strip()), changed, structural=True, live=False)
        self.scenario = pn.widgets.Select(label="Scenario", options=with_current(SCENARIOS, item.scenario),
                                          value=item.scenario, width=200)
        self.assumptions = _watch(choices.multi("Assumptions varied", item.assumptions, choices.assumptions),
                                  lambda v: setattr(item, "assumptions", list(v)), changed)
        self.points = _watch(pn.widgets.IntInput(label="Points per assumption", value=item.points, start=2, end=101,
                                                 width=160),
                             lambda v: setattr(item, "points", int(v)) if v is not None else None, changed)
        self.params = live(pn.widgets.TextAreaInput(label="Parameters (name=value per line)",
                                                    value=params_text(item.params), **TEXT))
        self.safely = live(pn.widgets.TextAreaInput(label="Fails safely when all hold (metric op value, one per line)",
                                                    value=format_conditions(item.fails_safely), **TEXT))
        self.catastrophically = live(pn.widgets.TextAreaInput(
            label="Fails catastrophically when all hold (metric op value, one per line)",
            value=format_conditions(item.fails_catastrophically), **TEXT))
        self.output = _watch_text(pn.widgets.TextInput(label="Output metric (Morris screening)",
                                                       value=item.output or "", width=300),
                                  lambda v: setattr(item, "output", v.strip() or None), changed, live=False)
        self.note = _watch_text(pn.widgets.TextAreaInput(label="Note", value=item.note, **TEXT),
                                lambda v: setattr(item, "note", v), changed)
        self.problems = markup.html("", sizing_mode="stretch_width", visible=False)
        self.messages = markup.html("", sizing_mode="stretch_width", visible=False)
        self.widgets = [self.assumptions]
        self.scenario.param.watch(lambda e: self._set(), "value")
        for w in (self.params, self.safely, self.catastrophically):
            w.param.watch(lambda e: self._set(), ["value", "value_input"])
        self.layout = pn.Column(
            pn.Row(self.id, self.scenario, self.points, _remove_button("Remove this sweep", lambda: remove(self))),
            self.assumptions, self.params, self.safely, self.catastrophically, self.output, self.note, self.problems,
            self.messages, styles={"border-left": "3px solid #ddd", "padding-left": "8px"}, sizing_mode="stretch_width")

    def _set(self) -> None:
        item = self.item
        item.scenario = self.scenario.value
        params, problems = parse_params(text_of(self.params), _world(item.scenario))
        item.params = params
        metrics = _metrics(item.scenario, params)
        item.fails_safely, p1 = parse_conditions(text_of(self.safely), metrics)
        item.fails_catastrophically, p2 = parse_conditions(text_of(self.catastrophically), metrics)
        problems += [f"fails safely, {p}" for p in p1] + [f"fails catastrophically, {p}" for p in p2]
        self.problems.object = "".join(f"<div class='story-problem'>{markup.html_text(p)}</div>" for p in problems)
        self.problems.visible = bool(problems)
        self.changed(False)


def new_assumption(story: Story) -> Assumption:
    name = _unique("assumption", story.assumption_by_name())
    p = parameter("w_avg")
    return Assumption(name=name, parameter="w_avg", nominal=float(p.default), range=(0.0, 4.0))


def new_evidence(story: Story) -> Evidence:
    return Evidence(id=_unique("E", story.evidence_by_id()), scenario=_default_scenario(),
                    predicate=Predicate(metric="average_speed.actually_good", op=">=", value=0.5))


def new_sweep(story: Story) -> Sweep:
    names = [a.name for a in story.assumptions][:1]
    return Sweep(id=_unique("S", story.sweep_by_id()), scenario=_default_scenario(), assumptions=names,
                 fails_safely=[Predicate(metric="average_speed.actually_good", op="<", value=0.5)],
                 fails_catastrophically=[Predicate(metric="average_speed.posterior.goof_off", op=">", value=0.5)])
