"""A library story beside a simulation, its evidence following the simulation's current parameters.

The panel shows the claims of one story with a status each, and under every claim its evidence. A
piece of simulated evidence is a predicate over the selection metrics; here it is evaluated on the
metrics of the app's simulation as it stands now (whatever preset and slider values produced them), so
moving a slider shows at once which claims still hold. Evidence of another scenario is evaluated all
the same and says so: the question is what the current settings say about the claim.

By default each preset shows `scenarios/<preset id>` from the library, else `speed-prior`. Story text
is shown escaped (safe_inline); a story file that does not load shows its located messages instead.

The panel needs of its `state` only a `version` parameter bumped when results change, `results` (each
prior's PriorResult) and `settings()` (what they were computed with): a SimulationState, or another
world's results, such as the neural app's trained networks (MeasuredSelection). With no preset (scenario None) it shows
`story_name`, and every piece of evidence says which scenario it was written for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.priors import PriorResult
from explorer.scenarios import SCENARIOS
from explorer.stories.evidence import Result, claim_statuses, code_version, compare, flat_metrics
from explorer.stories.library import StoryLibrary
from explorer.stories.messages import StoryFormatError
from explorer.stories.model import Story
from explorer.stories.render import safe_inline
from explorer.stories.vocabulary import COMPONENTS
from explorer.ui.state import SimulationState
from explorer.ui.story_forms import badge

log = logging.getLogger(__name__)

#: The story shown for a preset that has no story of its own.
FALLBACK = "speed-prior"
NONE = "(no story)"


@dataclass(frozen=True)
class LiveResult:
    """One piece of evidence evaluated on the current metrics (or why it could not be)."""

    evidence: str
    holds: bool | None
    value: Any = None
    right: Any = None
    problem: str = ""


def default_story(library: StoryLibrary, scenario: str) -> str | None:
    """`scenarios/<scenario>` if the library has it, else `speed-prior`, else none."""
    for name in (f"scenarios/{scenario}", FALLBACK):
        if library.exists(name):
            return name
    return None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class MeasuredSelection(param.Parameterized):
    """A state for StoryPanel beside a world without a SimulationState (trained networks, enumerated
    programs): each prior's selection on the last measured table, and the settings that produced it."""

    version = param.Integer(0, doc="Bumped each time a new selection is shown (or cleared).")

    def __init__(self, **params):
        super().__init__(**params)
        self.results: dict[str, PriorResult] = {}
        self._settings: dict[str, Any] = {}

    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def show(self, results: dict[str, PriorResult], settings: dict[str, Any]) -> None:
        self.results, self._settings = results, settings
        self.version += 1


class StoryPanel(pn.viewable.Viewer):
    """A training story's claims, with statuses computed from the simulation beside it."""

    scenario = param.Selector(default="goof-off", objects=list(SCENARIOS), allow_None=True,
                              doc="The app's preset; picks the default story (none: not a preset; story_name is shown).")
    evaluated_on = param.String("the current settings", doc="What the evidence is evaluated on, in words.")
    story_name = param.String(default=None, allow_None=True, doc="The library story on show (none: no story).")

    def __init__(self, state: SimulationState, library: StoryLibrary | None = None, **params):
        """`state`: a SimulationState, or anything with a `version` parameter, `results` and `settings()`."""
        super().__init__(**params)
        self.state = state
        self.library = library or StoryLibrary()
        self.story: Story | None = None
        self.problem = ""
        self.live: dict[str, LiveResult] = {}
        self.picker = pn.widgets.Select(label="Training story", options=[NONE], value=NONE, sizing_mode="stretch_width")
        self.view = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["story-panel"])
        self._picking = False
        self.picker.param.watch(self._picked, "value")
        self.state.param.watch(lambda _e: self.evaluate(), "version")
        self._scenario_changed()

    # ---- which story --------------------------------------------------------------------------

    @param.depends("scenario", watch=True)
    def _scenario_changed(self) -> None:
        self.show(default_story(self.library, self.scenario) if self.scenario is not None else self.story_name)

    def _picked(self, event) -> None:
        if not self._picking:
            self.show(None if event.new == NONE else event.new)

    def show(self, name: str | None) -> None:
        """Show a library story (none: no story); a story that cannot be read shows why."""
        self.story, self.problem = None, ""
        try:
            names = self.library.names()
        except OSError as exc:
            names, self.problem = [], f"the story library cannot be read: {exc}"
        if name is not None:
            try:
                self.story = self.library.open(name)
            except StoryFormatError as exc:
                self.problem = "\n".join(map(str, exc.messages))
            except ExplorerError as exc:
                self.problem = str(exc)
        self._picking = True
        try:
            self.picker.options = [NONE] + names + ([name] if name and name not in names else [])
            self.picker.value = name or NONE
        finally:
            self._picking = False
        self.story_name = name
        self.evaluate()

    # ---- evidence on the current metrics ---------------------------------------------------------

    def evaluate(self) -> None:
        """Evaluate every simulated predicate on the state's current metrics, and redraw."""
        self.live = {}
        if self.story is not None and self.state.results:
            metrics = flat_metrics(self.state.results)
            for ev in self.story.evidence:
                if not ev.simulated or ev.predicate is None:
                    continue
                try:
                    holds, left, right = compare(ev.predicate, metrics)
                except ExplorerError as exc:
                    self.live[ev.id] = LiveResult(ev.id, None, problem=str(exc).split(";")[0])
                    continue
                self.live[ev.id] = LiveResult(ev.id, holds, left, right)
        self.view.object = self.html()

    def results(self) -> dict[str, Result]:
        """The live evaluations as evidence Results (for claim statuses)."""
        params = self.state.settings()
        return {eid: Result(eid, bool(r.holds), r.value, r.right, params, code_version())
                for eid, r in self.live.items() if r.holds is not None}

    def statuses(self) -> dict[str, str]:
        return claim_statuses(self.story, self.results()) if self.story is not None else {}

    # ---- showing ----------------------------------------------------------------------------------

    def _evidence_line(self, eid: str) -> str:
        ev = self.story.evidence_by_id().get(eid)
        if ev is None:
            return f"<li>{safe_inline(eid)}: <i>not defined in the story</i></li>"
        if not ev.simulated:
            return f"<li>{safe_inline(eid)}: {safe_inline(ev.source or '')} ({safe_inline(ev.finding or '')})</li>"
        r = self.live.get(eid)
        pred = ev.predicate
        other = "" if ev.scenario == self.scenario else f" <i>(written for {safe_inline(ev.scenario or '')})</i>"
        if r is None or r.holds is None:
            why = r.problem if r is not None else ("nothing measured yet" if not self.state.results else "not a predicate")
            return f"<li>{safe_inline(eid)}: <i>cannot be evaluated here: {safe_inline(why)}</i>{other}</li>"
        word = "holds" if r.holds else "fails"
        right = safe_inline(_fmt(r.right))
        if pred.other is not None:
            right = f"{safe_inline(pred.other)} = {right}"
        return (f"<li class='story-evidence story-{word}'>{safe_inline(eid)}: {safe_inline(pred.metric)} = "
                f"<b>{safe_inline(_fmt(r.value))}</b> {safe_inline(pred.op)} {right}: "
                f"<b style='color:{'#009E73' if r.holds else '#D55E00'}'>{word}</b>{other}</li>")

    def html(self) -> str:
        """The panel's content as sanitised HTML (also used by the dashboard's HTML export)."""
        if self.problem:
            return (f"<div class='alert alert-danger story-panel-error' style='white-space:pre-wrap'>"
                    f"{safe_inline(self.problem)}</div>")
        if self.story is None:
            return "<i>No training story for this preset.</i>"
        story = self.story
        statuses = self.statuses()
        link = f"./stories?story={quote(self.story_name or '', safe='/')}"
        parts = [f"<h3 class='story-title'>{safe_inline(story.title)}</h3>",
                 f"<div><a href='{safe_inline(link)}' target='_blank' rel='noopener'>"
                 "Open in the story editor</a></div>",
                 f"<div style='font-size:0.85em;color:#555'>Evidence is evaluated on {safe_inline(self.evaluated_on)}.</div>"]
        for name, label in COMPONENTS.items():
            comp = story.components.get(name)
            parts.append(f"<h4>{safe_inline(label)}</h4>")
            if comp is None or not comp.claims:
                undeveloped = comp is not None and comp.undeveloped
                parts.append(f"<div><i>{'undeveloped' if undeveloped else 'no claims'}</i></div>")
                continue
            for claim in comp.claims:
                status = statuses.get(claim.id, "unchecked")
                evidence = "".join(self._evidence_line(e) for e in claim.evidence)
                parts.append(f"<div class='story-claim'>{badge(status)} <b>{safe_inline(claim.id)}</b> "
                             f"{safe_inline(claim.text)}<ul style='margin:2px 0 8px 0'>{evidence}</ul></div>")
        return "".join(parts)

    def report(self) -> dict[str, Any]:
        """The story on show, its claims with their live statuses and evidence results (JSON-ready)."""
        if self.story is None:
            return {"name": self.story_name, "problem": self.problem or None}
        statuses = self.statuses()
        claim_component = self.story.claim_component()
        return {
            "name": self.story_name, "title": self.story.title, "revision": self.story.revision,
            "claims": [{"id": cid, "component": claim_component[cid], "text": c.text, "status": statuses.get(cid)}
                       for cid, c in self.story.claims().items()],
            "evidence": {eid: {"holds": r.holds, "value": r.value, "right": r.right, "problem": r.problem or None}
                         for eid, r in self.live.items()},
        }

    def __panel__(self):
        return pn.Column(self.picker, self.view, sizing_mode="stretch_width")
