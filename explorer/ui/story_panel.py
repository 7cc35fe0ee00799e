"""A library story beside a simulation: its claims with the statuses `story check` gives them, and beside
every piece of evidence what the same test says here.

Two evaluations, always labelled:

- **As written.** Each piece of simulated evidence run with its own scenario, parameters and assumptions
  (at their nominal values), exactly as `python -m explorer story check` runs it (`evidence.as_checked`).
  The claim statuses come from this alone, so the panel and `story check` never disagree. The
  simulations are shared by every session of the process (`evidence.SHARED`, keyed by scenario,
  parameters and code version): the first session to open a story pays for them, on a worker thread
  when served (the page opens at once and says "checking"), and everyone after gets them from the cache.
- **Here.** Evidence is also evaluated on the page's current metrics (its SimulationState's results),
  again after every change (the state's `version`), with the parameters in which the page differs from
  the evidence as written, by the same rules on every world:
  - only evidence whose scenario is of the page's world (a test of the enumerated world says nothing
    about trained networks); the rest says which world it was written for;
  - on a page with a preset (`scenario`: the priors dashboard), only evidence of that preset, and it
    speaks for its claim here when its own parameters are the page's (the preset's are shared);
  - on a page without one (`scenario` None: the programs and neural pages), evidence of any scenario of
    its world, and it speaks for its claim here only when every parameter it was written with (its
    scenario's preset and its own) is the page's, machine parameters aside;
  - a test with parameters of its own on one side (`params`, `other_params`) needs another simulation,
    so it is not evaluated here.
  A claim whose tests that speak here fail is flagged, and its status stays.

By default each preset shows `scenarios/<preset id>` from the library, else `speed-prior`. Every piece of
story text is escaped (markup.html_text) and the pane is markup's sanitising HTML pane; a story file
that does not load shows its located messages instead.

The panel needs of its `state` a `version` parameter bumped when results change, `results` (each
prior's PriorResult), `settings()` (what they were computed with) and `world_name`: a SimulationState.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.scenarios import SCENARIOS, preset_params
from explorer.stories.argument import Argument, argument
from explorer.stories.cells import cell_status, cell_verdict, describe_cell, describe_verdict
from explorer.stories.evidence import (
    Checked,
    as_checked,
    as_checked_is_cached,
    claim_statuses,
    compare,
    effective_params,
    evidence_status,
    flat_metrics,
    plain,
)
from explorer.stories.library import StoryLibrary
from explorer.stories.messages import StoryFormatError
from explorer.stories.model import Evidence, Story
from explorer.stories.vocabulary import COMPONENTS
from explorer.ui import markup
from explorer.ui.argument_map import ArgumentMap
from explorer.ui.page_thread import Worker, on_page
from explorer.ui.state import SimulationState
from explorer.ui.story_forms import badge
from explorer.worlds import get_world

log = logging.getLogger(__name__)

#: The story shown for a preset that has no story of its own.
FALLBACK = "speed-prior"
NONE = "(no story)"

#: Where the claim statuses come from, in words (shown on the panel and in the JSON export).
STATUSES_FROM = ("python -m explorer story check: each piece of evidence run with the story's own parameters "
                 "(its scenario, parameters and assumptions at their nominal values), as written")
#: The label of the page-settings evaluation beside the priors dashboard.
HERE_PRIORS = "at this page's settings"
#: At most this many differing parameters are named on one line.
MAX_DIFFERENCES = 4

GREEN, RED, GREY = "#009E73", "#D55E00", "#555"


@dataclass(frozen=True)
class LiveResult:
    """One piece of evidence evaluated here (on the page's current metrics), or why not.

    `holds` None: not evaluated here (`problem` says why). `differs`: (parameter, as written, here) for
    each parameter in which here differs from the evidence as written. `counts`: whether it speaks for
    its claim here (see the module docstring)."""

    evidence: str
    holds: bool | None
    value: Any = None
    right: Any = None
    problem: str = ""
    differs: tuple[tuple[str, Any, Any], ...] = ()
    counts: bool = False


def default_story(library: StoryLibrary, scenario: str) -> str | None:
    """`scenarios/<scenario>` if the library has it, else `speed-prior`, else none."""
    for name in (f"scenarios/{scenario}", FALLBACK):
        if library.exists(name):
            return name
    return None


def _fmt(value: Any) -> str:
    """A metric or parameter value in words: floats to 4 significant digits, booleans as true/false."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    return str(value)


def _same(a: Any, b: Any) -> bool:
    """Parameter values equal as a story means them (numbers to SIGNIFICANT digits, mixes by kind)."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return False
        keys = set(a) | set(b)
        return all(_same(float(a.get(k, 0.0)), float(b.get(k, 0.0))) for k in keys)
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return plain(float(a)) == plain(float(b))
    return a == b


def _machine(world: str) -> tuple[str, ...]:
    """A world's machine parameters that change its numbers (n_programs does; the back end does not)."""
    cls = get_world(world)
    return tuple(n for n in cls.machine_params if n not in cls.result_free_params)


def written_params(evidence: Evidence, own: dict[str, Any]) -> dict[str, Any]:
    """Every parameter the evidence ran with as written: defaults (machine parameters included), its
    scenario's preset, its own on top."""
    world = SCENARIOS[evidence.scenario].world
    cls = get_world(world)
    return {**{n: cls.param[n].default for n in _machine(world)}, **preset_params(evidence.scenario), **own}


class StoryPanel(pn.viewable.Viewer):
    """A training story's claims with `story check`'s statuses, and what each test says here."""

    scenario = param.Selector(default="goof-off", objects=list(SCENARIOS), allow_None=True,
                              doc="The app's preset; picks the default story (none: not a preset; story_name "
                                  "is shown, and evidence of any scenario of the page's world is evaluated here).")
    evaluated_on = param.String("the current settings", doc="What the evidence is compared with here, in words.")
    here_label = param.String(HERE_PRIORS, doc="The short label of the evaluation here ('at this page's settings', "
                                               "'on the networks trained here').")
    story_name = param.String(default=None, allow_None=True, doc="The library story on show (none: no story).")
    checking = param.Boolean(False, doc="True while the story's evidence runs with its own parameters.")

    def __init__(self, state: SimulationState, library: StoryLibrary | None = None, **params):
        """`state`: a SimulationState (anything with a `version` parameter, `results`, `settings()` and
        `world_name`)."""
        super().__init__(**params)
        self.state = state
        self.library = library or StoryLibrary()
        self.story: Story | None = None
        self.problem = ""
        self.checked: Checked | None = None  # the evaluation as written (story check's)
        self.here: dict[str, LiveResult] = {}
        self._own: dict[str, dict[str, Any]] = {}  # each simulated evidence's own parameters
        self._generation = 0
        self._worker = Worker("story-panel-check")
        self.picker = pn.widgets.Select(label="Training story", options=[NONE], value=NONE, sizing_mode="stretch_width")
        self.view = markup.html("", sizing_mode="stretch_width", css_classes=["story-panel"])
        # The argument map above the claims: its colours follow evaluate(); a tap says what the node is.
        self.map = ArgumentMap(on_tap=self.focus, css_classes=("story-panel-map",))
        self.show_map = pn.widgets.Checkbox(label="Argument map", value=True, css_classes=["story-map-toggle"])
        self.focused = markup.html("", sizing_mode="stretch_width", visible=False, css_classes=["story-map-focus"])
        self.map.layout.visible = self.show_map.value
        self.show_map.param.watch(lambda e: setattr(self.map.layout, "visible", e.new), "value")
        self._focus: tuple[str, str] | None = None
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
        self._focus = None
        self._check()
        self.evaluate()

    # ---- as written: the story's own parameters (story check's statuses) ---------------------------

    def _check(self) -> None:
        """Evaluate the evidence as written: here if it costs nothing (cached) or there is no served
        session, else on a worker thread whose result the page takes when it comes."""
        self._generation += 1
        generation, story = self._generation, self.story
        self.checked, self._own = None, {}
        if story is None:
            self.checking = False
            return
        doc = _served_doc()
        if doc is None or as_checked_is_cached(story):
            self._take(generation, _as_checked(story))
            return
        self.checking = True
        self._worker.start(self._check_in_background, generation, story, doc)

    def _check_in_background(self, generation: int, story: Story, doc) -> None:
        checked = _as_checked(story)
        on_page(doc, partial(self._checked, generation, checked))

    def _checked(self, generation: int, checked: Checked) -> None:
        """On the page: take a finished run as written (unless another story was shown meanwhile)."""
        if generation == self._generation:
            self._take(generation, checked)
            self.evaluate()

    def _take(self, generation: int, checked: Checked) -> None:
        self.checked = checked
        self._own = {eid: dict(r.params) for eid, r in (checked.results or {}).items()}
        self.checking = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a run as written under way on a worker thread; True if none runs afterwards."""
        return self._worker.wait(timeout)

    @property
    def as_written(self) -> dict[str, Any]:
        """Each simulated evidence's Result as written (empty while checking or when it could not run)."""
        return dict(self.checked.results or {}) if self.checked is not None else {}

    def statuses(self) -> dict[str, str]:
        """Each claim's status, as `story check` gives it (empty while the evidence runs)."""
        if self.story is None or self.checked is None:
            return {}
        return dict(self.checked.statuses)

    # ---- here: the page's current metrics ------------------------------------------------------------

    def evaluate(self) -> None:
        """Evaluate the evidence here (on the state's current metrics), and redraw."""
        self.here = {}
        if self.story is not None and self.state.results:
            metrics = flat_metrics(self.state.results)
            settings = self.state.settings()
            for ev in self.story.evidence:
                if ev.simulated and ev.predicate is not None and ev.scenario in SCENARIOS:
                    self.here[ev.id] = self._here_one(ev, metrics, settings)
        self.view.object = self.html()
        self._draw_map()

    # ---- the argument map ---------------------------------------------------------------------------

    def argument(self) -> Argument:
        """The story as an argument map: story check's statuses, and the verdicts here as rings."""
        if self.story is None:
            return Argument()
        results = self.checked.results if self.checked is not None else None
        evidence = {ev.id: evidence_status(self.story, ev, results) for ev in self.story.evidence}
        claims = self.statuses() or {cid: "unchecked" for cid in self.story.claims()}  # unchecked while checking
        here = {f"claim:{cid}": v for cid, v in self.here_verdicts().items()}
        here.update({f"evidence:{eid}": "holds" if r.holds else "fails" for eid, r in self.here.items()
                     if r.holds is not None and r.counts})
        return argument(self.story, claims, evidence, here)

    def _draw_map(self) -> None:
        self.map.show(self.argument())
        self.focus(*self._focus) if self._focus else setattr(self.focused, "visible", False)

    def focus(self, kind: str, item: str) -> None:
        """Say what a node of the map is (a tap), with a link to its form in the story editor."""
        t = markup.html_text
        try:
            node = self.map.argument.node(f"{kind}:{item}")
        except StopIteration:
            self.focused.visible = False
            return
        self._focus = (kind, item)
        here = {"holds": " &middot; holds here", "fails": " &middot; <b style='color:#D55E00'>fails here</b>"}
        link = (f"./stories?story={quote(self.story_name or '', safe='/')}&item={quote(kind + ':' + item, safe=':')}")
        status = f" &middot; {t(node.status)}" if node.status else ""
        self.focused.object = (f"<div style='font-size:0.9em'><b>{t(item)}</b> <small>({t(kind)}{status}"
                               f"{here.get(node.here or '', '')})</small> {t(node.detail)}<br>{t(node.text, limit=600)}"
                               f"<br><a href='{t(link)}' target='_blank'>Open it in the story editor</a></div>")
        self.focused.visible = True

    def _here_one(self, ev: Evidence, metrics: dict[str, Any], settings: dict[str, Any]) -> LiveResult:
        own = self._own.get(ev.id)
        if own is None:  # not run as written (yet): its own parameters from the story
            try:
                own = effective_params(self.story, ev)
            except ExplorerError as exc:
                return LiveResult(ev.id, None, problem=str(exc))
        world, page_world = SCENARIOS[ev.scenario].world, self.state.world_name
        if world != page_world:
            return LiveResult(ev.id, None, problem=f"written for the {world} world ({ev.scenario}); "
                                                   f"this page shows the {page_world} world")
        if self.scenario is not None and ev.scenario != self.scenario:  # a page with a preset: only its evidence
            return LiveResult(ev.id, None, problem=f"written for {ev.scenario}; this page shows {self.scenario}")
        if ev.predicate.params or ev.predicate.other_params:
            return LiveResult(ev.id, None, problem="not evaluated here: a side of this test has parameters of its "
                                                   "own, which needs another simulation")
        written = written_params(ev, own)
        differs = tuple((k, v, settings[k]) for k, v in written.items() if k in settings and not _same(v, settings[k]))
        if self.scenario is not None:  # the preset's parameters are the page's: its own decide
            counts = all(k in settings and _same(v, settings[k]) for k, v in own.items())
        else:  # no preset: everything it was written with must be the page's, machine parameters aside
            machine = _machine(world)
            counts = all(k in machine for k, _w, _h in differs) and all(k in settings for k in own)
        try:
            holds, left, right = compare(ev.predicate, metrics)
        except ExplorerError as exc:
            return LiveResult(ev.id, None, problem=str(exc).split(";")[0], differs=differs)
        return LiveResult(ev.id, holds, left, right, differs=differs, counts=counts)

    def here_verdicts(self) -> dict[str, str]:
        """Per claim, `holds` or `fails` here, from the evidence that speaks for it here (`counts`);
        claims with none are left out. This never changes a status."""
        if self.story is None:
            return {}
        out = {}
        for cid, claim in self.story.claims().items():
            mine = [self.here[e] for e in claim.evidence if e in self.here
                    and self.here[e].holds is not None and self.here[e].counts]
            if mine:
                out[cid] = "holds" if all(r.holds for r in mine) else "fails"
        return out

    # ---- showing ----------------------------------------------------------------------------------

    def _label(self) -> str:
        return self.here_label[:1].upper() + self.here_label[1:]

    def _predicate(self, ev: Evidence, value: Any, right: Any) -> str:
        pred, t = ev.predicate, markup.html_text
        rhs = t(_fmt(right))
        if pred.other is not None:
            rhs = f"{t(pred.other)} = {rhs}"
        return f"{t(pred.metric)} = <b>{t(_fmt(value))}</b> {t(pred.op)} {rhs}"

    @staticmethod
    def _word(holds: bool) -> str:
        return f"<b style='color:{GREEN if holds else RED}'>{'holds' if holds else 'fails'}</b>"

    def _written_for(self, ev: Evidence) -> str:
        own = self._own.get(ev.id)
        if own is None:
            try:
                own = effective_params(self.story, ev)
            except ExplorerError:
                own = dict(ev.params)
        params = ", ".join(f"{k} = {_fmt(v)}" for k, v in own.items())
        return f"(written for {ev.scenario or '?'}{' with ' + params if params else ''})"

    def _evidence_line(self, eid: str) -> str:
        t = markup.html_text
        ev = self.story.evidence_by_id().get(eid)
        if ev is None:
            return f"<li>{t(eid)}: <i>not defined in the story</i></li>"
        if ev.cell is not None:  # a cited cell of the claims matrix: its verdict from the recorded matrix
            cls = {"supported": "story-holds", "refuted": "story-fails"}.get(cell_status(ev.cell), "story-unknown")
            return (f"<li class='story-evidence {cls}'><b>{t(eid)}</b> <small>({t(describe_cell(ev.cell))})</small>"
                    f"<div class='story-as-written'>Recorded matrix: {t(describe_verdict(ev.cell))}</div></li>")
        if not ev.simulated:
            return f"<li>{t(eid)}: {t(ev.source or '')} ({t(ev.finding or '')})</li>"
        status = evidence_status(self.story, ev, self.checked.results if self.checked else None)
        cls = {"supported": "story-holds", "refuted": "story-fails"}.get(status, "story-unknown")
        lines = [f"<li class='story-evidence {cls}'><b>{t(eid)}</b> <small>{t(self._written_for(ev))}</small>"]
        lines.append(f"<div class='story-as-written'>As written: {self._as_written_text(ev)}</div>")
        here = self.here.get(eid)
        if self.state.results and here is not None:
            lines.append(f"<div class='story-here' style='color:{GREY};font-size:0.9em'>{t(self._label())}: "
                         f"{self._here_text(ev, here)}</div>")
        return "".join(lines) + "</li>"

    def _as_written_text(self, ev: Evidence) -> str:
        t = markup.html_text
        if self.checked is None:
            return "<i>checking…</i>"
        r = (self.checked.results or {}).get(ev.id)
        if r is not None:
            right = r.other if ev.predicate.other is not None else ev.predicate.value
            return f"{self._predicate(ev, r.value, right)}: {self._word(r.holds)}"
        if self.checked.results is None:
            why = "not run: the story has errors (see the story editor)"
        else:
            why = f"cannot run: {self.checked.problems.get(ev.id, 'no predicate')}"
        rec = ev.recorded
        recorded = "" if rec is None else f"; recorded result: {'holds' if rec.holds else 'fails'}"
        return f"<i>{t(why + recorded)}</i>"

    def _here_text(self, ev: Evidence, r: LiveResult) -> str:
        t = markup.html_text
        if r.holds is None:
            return f"<i>{t(r.problem or 'not evaluated')}</i>"
        out = f"{self._predicate(ev, r.value, r.right)}: {self._word(r.holds)}"
        if r.differs:
            named = [f"{k} = {_fmt(h)} (as written {_fmt(w)})" for k, w, h in r.differs[:MAX_DIFFERENCES]]
            more = len(r.differs) - MAX_DIFFERENCES
            where = "this page has" if self.scenario is not None else "here:"
            out += f". <i>{t(where + ' ' + '; '.join(named) + (f'; and {more} more' if more > 0 else ''))}</i>"
        return out

    def _legend(self) -> str:
        t = markup.html_text
        head = ("Statuses are those of <code>python -m explorer story check</code>: each piece of evidence run "
                "with the story's own parameters (<b>as written</b>).")
        if self.scenario is not None:
            rest = (f"Under it, in grey, the same test <b>{t(self.here_label)}</b>, for evidence written for this "
                    f"preset ({t(self.scenario)}). It follows the sliders and never changes a status.")
        else:
            rest = (f"Under it, in grey, the same test <b>{t(self.here_label)}</b> ({t(self.evaluated_on)}), "
                    f"for evidence written for the {t(self.state.world_name)} world; it counts for its claim only "
                    "where every parameter it was written with is this page's, and never changes a status.")
            if not self.state.results:
                rest += f" {t(self._label())}: nothing measured yet."
        checking = " <i>Running the evidence as written…</i>" if self.checking else ""
        return f"<div class='story-legend' style='font-size:0.85em;color:{GREY}'>{head} {rest}{checking}</div>"

    def html(self) -> str:
        """The panel's content as HTML built from escaped parts (also used by the dashboard's HTML export)."""
        t = markup.html_text
        if self.problem:
            return (f"<div class='alert alert-danger story-panel-error' style='white-space:pre-wrap'>"
                    f"{t(self.problem, limit=20_000)}</div>")
        if self.story is None:
            return "<i>No training story for this preset.</i>"
        story = self.story
        statuses = self.statuses()
        verdicts = self.here_verdicts()
        link = f"./stories?story={quote(self.story_name or '', safe='/')}"
        parts = [f"<h3 class='story-title'>{t(story.title)}</h3>",
                 f"<div><a href='{t(link)}' target='_blank'>Open in the story editor</a></div>",
                 self._legend()]
        if self.checked is not None and self.checked.errors:
            parts.append(f"<div class='story-panel-errors' style='color:{RED};font-size:0.85em'>The story has errors, "
                         "so its evidence is not run (as story check does not); statuses come from its recorded "
                         "results.</div>")
        for name, label in COMPONENTS.items():
            comp = story.components.get(name)
            parts.append(f"<h4>{t(label)}</h4>")
            if comp is None or not comp.claims:
                undeveloped = comp is not None and comp.undeveloped
                parts.append(f"<div><i>{'undeveloped' if undeveloped else 'no claims'}</i></div>")
                continue
            for claim in comp.claims:
                status = statuses.get(claim.id, "checking" if self.checking else "unchecked")
                evidence = "".join(self._evidence_line(e) for e in claim.evidence)
                verdict = verdicts.get(claim.id)
                tested = [e for e in claim.evidence if e in self.here and self.here[e].counts
                          and self.here[e].holds is not None]
                flag = ""
                if verdict == "fails":
                    failing = ", ".join(e for e in tested if self.here[e].holds is False)
                    flag = (f"<div class='story-here-claim story-here-fails' style='color:{RED};font-size:0.9em'>"
                            f"{t(self._label())}: this claim would not hold ({t(failing)} fails). Its status "
                            f"({t(status)}) stays the one story check gives with the story's own parameters.</div>")
                elif verdict == "holds":
                    flag = (f"<div class='story-here-claim story-here-holds' style='color:{GREY};font-size:0.9em'>"
                            f"{t(self._label())}: holds ({t(', '.join(tested))}).</div>")
                parts.append(f"<div class='story-claim'>{badge(status, 'as story check gives it')} "
                             f"<b class='story-claim-id'>{t(claim.id)}</b> {t(claim.text)}{flag}"
                             f"<ul style='margin:2px 0 8px 0'>{evidence}</ul></div>")
        return "".join(parts)

    def report(self) -> dict[str, Any]:
        """The story on show: claims with story check's statuses and the verdict here, and each piece of
        evidence as written and here, labelled (JSON-ready)."""
        if self.story is None:
            return {"name": self.story_name, "problem": self.problem or None}
        statuses, verdicts = self.statuses(), self.here_verdicts()
        claim_component = self.story.claim_component()
        results = self.checked.results if self.checked is not None else None
        evidence: dict[str, Any] = {}
        for ev in self.story.evidence:
            item: dict[str, Any] = {"scenario": ev.scenario,
                                    "status": evidence_status(self.story, ev, results) if self.checked else None}
            if ev.cell is not None:
                v = cell_verdict(ev.cell)
                item.update(scenario=ev.cell.scenario, world=ev.cell.world, cell=describe_cell(ev.cell),
                            holds=v.holds, share=v.share, by=v.by, problem=v.problem or None)
                evidence[ev.id] = item
                continue
            if not ev.simulated:
                item.update(source=ev.source, finding=ev.finding, problem=None)
                evidence[ev.id] = item
                continue
            r = (results or {}).get(ev.id)
            problem = None if r is not None else (
                "checking" if self.checked is None else
                "not run: the story has errors" if results is None else self.checked.problems.get(ev.id, "not run"))
            item["problem"] = problem
            item["as_written"] = None if r is None else {"holds": r.holds, "value": r.value, "other": r.other,
                                                         "params": r.params, "code_version": r.code_version}
            h = self.here.get(ev.id)
            item["at_this_page"] = None if h is None else {
                "label": self.here_label, "holds": h.holds, "value": h.value, "right": h.right,
                "problem": h.problem or None, "counts_for_claim": h.counts,
                "differs": {k: {"as_written": w, "here": v} for k, w, v in h.differs}}
            evidence[ev.id] = item
        return {
            "name": self.story_name, "title": self.story.title, "revision": self.story.revision,
            "statuses_from": STATUSES_FROM, "checking": self.checking,
            "at_this_page": {"label": self.here_label, "evaluated_on": self.evaluated_on, "scenario": self.scenario,
                             "settings": self.state.settings() if self.state.results else None,
                             "note": "what each test gives here; it never changes a status"},
            "claims": [{"id": cid, "component": claim_component[cid], "text": c.text, "status": statuses.get(cid),
                        "at_this_page": verdicts.get(cid)}
                       for cid, c in self.story.claims().items()],
            "evidence": evidence,
        }

    def __panel__(self):
        return pn.Column(self.picker, self.show_map, self.map, self.focused, self.view, sizing_mode="stretch_width")


def _served_doc():
    """The served session's document, or None (a test, a notebook run as a script): then work is done here."""
    doc = pn.state.curdoc
    return doc if doc is not None and doc.session_context is not None else None


def _as_checked(story: Story) -> Checked:
    """`as_checked`, with an unexpected failure turned into problems (the page goes on)."""
    try:
        return as_checked(story)
    except Exception as exc:  # a bug or a back end that fails: say so on the panel, keep the traceback
        log.exception("story panel: running the evidence as written failed")
        problems = {ev.id: f"{type(exc).__name__}: {exc}" for ev in story.evidence if ev.simulated}
        return Checked({}, problems, claim_statuses(story, {}))
