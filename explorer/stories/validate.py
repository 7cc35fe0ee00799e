"""What a readable story says, checked: classes, references, cycles, metrics, ranges and staleness.

The loader (fileformat) already guarantees the shape and the types of the front matter; this module
checks its meaning and returns coded, located messages (errors apart from warnings) instead of raising,
so the command line, the editor and the tests show every problem at once. It never runs a simulation:
metric names, parameter bounds and scenario presets are all known without one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import param

from explorer.checks import ALL_METRICS, OPERATORS, code_version, meaning_problem
from explorer.errors import ExplorerError
from explorer.params import allowed, set_values, type_name
from explorer.priors import PRIORS, PriorSettings
from explorer.scenarios import DECIDED_BY, SCENARIOS
from explorer.simulation import PRIOR_PARAMS, parameter, world_param_names
from explorer.stories.messages import Message, StoryFormatError
from explorer.stories.model import MatrixCell, Predicate, Recorded, Story, effective_params, is_stale, normalised
from explorer.stories.vocabulary import (
    CLAIM_PREFIX,
    COMPONENTS,
    CRITERIA,
    FAILURE_MODES,
    FINDINGS,
    GOAL_CLASSES,
    RATINGS,
    RATIONALE_CLASSES,
)
from explorer.worlds import WORLDS, get_world


def known_params(world: str | None = None) -> tuple[str, ...]:
    """The flat parameter names of `world` and the priors (of every world when None), sorted."""
    worlds = WORLDS if world is None else (world,)
    return tuple(sorted({n for w in worlds for n in world_param_names(w)} | set(PRIOR_PARAMS)))


def _world_of(name: str) -> str:
    """The first world that has parameter `name` (an assumption is not tied to one world)."""
    return next((w for w in WORLDS if name in world_param_names(w)), "abstract")


def validate(story: Story, file: str = "") -> list[Message]:
    """Every problem of a loaded story, errors and warnings, located and sorted by line."""
    messages = _Validator(story).run()
    return sorted((m.located(file) if file else m for m in messages), key=lambda m: m.line)


def validate_text(text: str, name: str = "<story>") -> list[Message]:
    """Messages for story text: the loader's (TS-F) if it cannot be read, else `validate`'s."""
    from explorer.stories.fileformat import loads

    try:
        story = loads(text, name)
    except StoryFormatError as exc:
        return list(exc.messages)
    return validate(story, name)


def _quoted(items: Iterable[Any]) -> str:
    return ", ".join(str(i) for i in items)


def _suggest(word: Any, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for a close known name, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""




def _fits_type(p: param.Parameter, value: Any) -> bool:
    """Whether a literal has the type parameter `p` takes (bounds are checked separately)."""
    if value is None:
        return bool(p.allow_None)
    if isinstance(p, param.Boolean):
        return isinstance(value, bool)
    if isinstance(p, param.Integer):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(p, param.Number):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(p, param.Selector):
        return isinstance(value, str)
    if isinstance(p, param.Dict):
        return isinstance(value, dict)
    return True


def _continuous(p: param.Parameter) -> bool:
    """A parameter an assumption may set: a real number (an assumption's values vary continuously)."""
    return isinstance(p, param.Number) and not isinstance(p, param.Integer)


def _trial(name: str, world: str) -> param.Parameterized:
    return get_world(world)() if name in world_param_names(world) else PriorSettings()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    return repr(value) if isinstance(value, str) else str(value)


class _Validator:
    """One pass over a story, collecting messages."""

    def __init__(self, story: Story):
        self.story = story
        self.messages: list[Message] = []

    # -- plumbing -------------------------------------------------------------------------------------

    def error(self, code: str, text: str, line: int, severity: str = "error") -> None:
        one_line = text.replace("\r", "\\r").replace("\n", "\\n")  # a story made in code may hold newlines
        self.messages.append(Message(code, one_line, line or self.story.line, severity))

    def warn(self, code: str, text: str, line: int) -> None:
        self.error(code, text, line, "warning")

    def source_line(self, *path: Any) -> int:
        """The file line of a key or list item of the parsed front matter (0 when unknown)."""
        node = self.story.source
        try:
            for key in path[:-1]:
                node = node[key]
            last = path[-1]
            pos = node.lc.item(last) if isinstance(last, int) else node.lc.key(last)
            return pos[0] + 2  # line 1 of the file is the opening '---'
        except (AttributeError, KeyError, IndexError, TypeError):
            return 0

    def run(self) -> list[Message]:
        self.required()
        self.classes()
        self.components()
        self.claims()
        self.criteria()
        self.assumptions()
        self.evidence()
        self.sweeps()
        return self.messages

    # -- parts ----------------------------------------------------------------------------------------

    def required(self) -> None:
        """What the loader guarantees for a file, checked again for a story made in code (the editor)."""
        s = self.story
        if not s.title.strip():
            self.error("TS-F06", "the story has no title", self.source_line("title"))
        for ev in s.evidence:
            if ev.simulated:
                for key in ("scenario", "predicate"):
                    if getattr(ev, key) is None:
                        self.error("TS-F06", f"evidence {ev.id} has no {key} (or give 'source' and 'finding' "
                                   "to cite an external source)", ev.line)

    def classes(self) -> None:
        s = self.story
        goal = s.goal_class
        if goal.custom is None and goal.id is None:
            self.error("TS-V02", f"the story names no goal class; choose one of: {_quoted(GOAL_CLASSES)} "
                       "(or {custom: \"a description\"})", goal.line or self.source_line("goal_class"))
        elif goal.custom is None and goal.id not in GOAL_CLASSES:
            self.error("TS-V02", f"unknown goal class {goal.id!r}{_suggest(goal.id, GOAL_CLASSES)}; known goal "
                       f"classes: {_quoted(GOAL_CLASSES)} (or {{custom: \"a description\"}})", goal.line)
        for choice in s.rationale_classes:
            if choice.custom is None and choice.id not in RATIONALE_CLASSES:
                self.error("TS-V02", f"unknown rationale class {choice.id!r}{_suggest(choice.id, RATIONALE_CLASSES)}; "
                           f"known rationale classes: {_quoted(RATIONALE_CLASSES)} (or {{custom: \"a description\"}})",
                           choice.line)
        for i, mode in enumerate(s.failure_modes):
            if mode not in FAILURE_MODES:
                self.error("TS-V02", f"unknown failure mode {mode!r}{_suggest(mode, FAILURE_MODES)}; known failure "
                           f"modes: {_quoted(FAILURE_MODES)}", self.source_line("failure_modes", i)
                           or self.source_line("failure_modes"))

    def components(self) -> None:
        for name, comp in self.story.components.items():
            if name not in COMPONENTS:  # only a story made in code can have one
                self.error("TS-F04", f"unknown component {name!r}; components: {_quoted(COMPONENTS)}", comp.line)
                continue
            if not comp.claims and not comp.undeveloped:
                prefix = CLAIM_PREFIX[name]
                self.error("TS-V01", f"component {name} has no claims and is not marked undeveloped; add a claim "
                           f"(id {prefix}1, ...) or write 'undeveloped: true'",
                           comp.line or self.source_line("components"))

    def claims(self) -> None:
        s = self.story
        evidence_ids = {e.id for e in s.evidence}
        seen: dict[str, int] = {}
        for comp in s.components.values():
            for claim in comp.claims:
                if claim.id in seen:
                    self.error("TS-V10", f"claim id {claim.id} is defined twice (first at line {seen[claim.id]}); "
                               "give each claim its own id", claim.line)
                else:
                    seen[claim.id] = claim.line
        claim_ids = set(seen)
        for comp in s.components.values():
            for claim in comp.claims:
                if not claim.evidence and not claim.undeveloped:
                    hint = f" (resting on {_quoted(claim.rests_on)} is not evidence)" if claim.rests_on else ""
                    self.error("TS-V03", f"claim {claim.id} has no evidence and is not marked undeveloped{hint}; "
                               "list evidence ids under 'evidence' or write 'undeveloped: true'", claim.line)
                for ref in claim.evidence:
                    if ref not in evidence_ids:
                        hint = (f"; {ref} is a claim, so list it under rests_on" if ref in claim_ids
                                else _suggest(ref, evidence_ids))
                        self.error("TS-V04", f"claim {claim.id} cites evidence {ref}, which the story does not define"
                                   f"{hint}; evidence ids: {_quoted(sorted(evidence_ids)) or 'none'}", claim.line)
                for ref in claim.rests_on:
                    if ref not in claim_ids:
                        hint = (f"; {ref} is evidence, so list it under evidence" if ref in evidence_ids
                                else _suggest(ref, claim_ids))
                        self.error("TS-V04", f"claim {claim.id} rests on claim {ref}, which the story does not "
                                   f"define{hint}; claim ids: {_quoted(sorted(claim_ids)) or 'none'}", claim.line)
        self.cycles()

    def cycles(self) -> None:
        """Name one cycle of each knot of claims resting on each other."""
        claims = self.story.claims()
        order = {cid: i for i, cid in enumerate(claims)}
        edges = {cid: [r for r in c.rests_on if r in claims] for cid, c in claims.items()}
        remaining = set(claims)
        while True:
            # Claims resting on nothing (left) cannot be on a cycle: peel them off until none are left.
            changed = True
            while changed:
                changed = False
                for cid in sorted(remaining, key=order.get):
                    if not any(r in remaining for r in edges[cid]):
                        remaining.discard(cid)
                        changed = True
            if not remaining:
                return
            # Every claim left rests on another claim left, so walking always finds a cycle.
            path, at = [], min(remaining, key=order.get)
            while at not in path:
                path.append(at)
                at = next(r for r in edges[at] if r in remaining)
            cycle = path[path.index(at):]
            first = min(cycle, key=order.get)
            k = cycle.index(first)
            cycle = cycle[k:] + cycle[:k]
            self.error("TS-V05", f"claims rest on each other in a cycle: {' -> '.join(cycle + [first])}; an argument "
                       "cannot support itself, so remove one of these rests_on links", claims[first].line)
            remaining -= set(cycle)

    def criteria(self) -> None:
        claim_ids = set(self.story.claims())
        for name, crit in self.story.criteria.items():
            if name not in CRITERIA:  # only a story made in code can have one
                self.error("TS-F04", f"unknown criterion {name!r}; criteria: {_quoted(CRITERIA)}", crit.line)
                continue
            line = crit.line or self.source_line("criteria")
            missing = [what for what, value in (("rating", crit.rating), ("basis", crit.basis)) if not value]
            if missing:
                self.error("TS-V08", f"criterion {name} has no {' and no '.join(missing)}; give a rating "
                           f"({_quoted(RATINGS)}) and a basis (the claim ids it rests on)", line)
            if crit.rating and crit.rating not in RATINGS:
                self.error("TS-V02", f"criterion {name} has unknown rating {crit.rating!r}"
                           f"{_suggest(crit.rating, RATINGS)}; "
                           f"ratings: {_quoted(RATINGS)}", self.source_line("criteria", name, "rating") or line)
            for ref in crit.basis:
                if ref not in claim_ids:
                    self.error("TS-V04", f"criterion {name} rests on claim {ref}, which the story does not define"
                               f"{_suggest(ref, claim_ids)}; claim ids: {_quoted(sorted(claim_ids)) or 'none'}",
                               self.source_line("criteria", name, "basis") or line)

    def assumptions(self) -> None:
        seen: dict[str, int] = {}
        used = {name for e in self.story.evidence for name in e.assumptions}
        used |= {name for s in self.story.sweeps for name in s.assumptions}
        for a in self.story.assumptions:
            what = f"assumption {a.name}"
            if a.name in seen:
                self.error("TS-V10", f"assumption name {a.name} is defined twice (first at line {seen[a.name]}); "
                           "give each assumption its own name", a.line)
            else:
                seen[a.name] = a.line
            lo, hi = a.range
            if not lo <= a.nominal <= hi:
                self.error("TS-V07", f"{what}'s nominal value {a.nominal:g} is outside its range [{lo:g}, {hi:g}]",
                           a.line)
            known = known_params()
            if a.parameter not in known:
                self.error("TS-V11", f"{what} sets unknown parameter {a.parameter!r}"
                           f"{_suggest(a.parameter, known)}; "
                           f"known parameters: {_quoted(known)}", a.line)
            else:
                p = parameter(a.parameter, _world_of(a.parameter))
                if not _continuous(p):
                    numbers = [n for n in known if _continuous(parameter(n, _world_of(n)))]
                    self.error("TS-V11", f"{what} sets {a.parameter}, which takes {allowed(p)}; an assumption varies "
                               f"over a range of real numbers, so it may set only: {_quoted(numbers)} (set "
                               f"{a.parameter} as a literal in params instead)", a.line)
                else:
                    bad = [v for v in (lo, hi) if not self.accepts(a.parameter, v, _world_of(a.parameter))]
                    if bad:
                        self.error("TS-V07", f"{what}'s range [{lo:g}, {hi:g}] goes outside what {a.parameter} allows: "
                                   f"{allowed(p)}", a.line)
            if a.name not in used:
                self.warn("TS-V13", f"{what} is used by no evidence and no sweep; list it under an evidence entry's "
                          "or a sweep's assumptions, or remove it", a.line)

    def evidence(self) -> None:
        s = self.story
        seen: dict[str, int] = {}
        for i, ev in enumerate(s.evidence):
            what = f"evidence {ev.id}"
            if ev.id in seen:
                self.error("TS-V10", f"evidence id {ev.id} is defined twice (first at line {seen[ev.id]}); give each "
                           "evidence entry its own id", ev.line)
            else:
                seen[ev.id] = ev.line
            if ev.cell is not None:
                self.cell(ev.cell, f"{what}'s cell", ev.cell.line or ev.line)
                continue
            if not ev.simulated:
                if ev.finding not in FINDINGS:
                    self.error("TS-V02", f"{what} has unknown finding {ev.finding!r}{_suggest(ev.finding, FINDINGS)}; "
                               f"findings: {_quoted(FINDINGS)}", ev.line)
                continue
            scenario_ok = self.scenario(ev.scenario, what, ev.line)
            world = SCENARIOS[ev.scenario].world if scenario_ok else None
            params = self.params(ev.params, f"{what}'s params", ev.line, ("evidence", i), world)
            assumed = self.assumed(ev.assumptions, what, ev.line, world)
            if scenario_ok:
                self.cross_check(ev.scenario, {**params, **assumed}, what, ev.line)
            if ev.predicate is not None:
                self.predicate(ev.predicate, params if scenario_ok else None, f"{what}'s predicate", ev.scenario)
            if ev.recorded is not None:
                self.stale(ev, ev.recorded)

    def sweeps(self) -> None:
        seen: dict[str, int] = {}
        for i, sw in enumerate(self.story.sweeps):
            what = f"sweep {sw.id}"
            if sw.id in seen:
                self.error("TS-V10", f"sweep id {sw.id} is defined twice (first at line {seen[sw.id]}); give each "
                           "sweep its own id", sw.line)
            else:
                seen[sw.id] = sw.line
            scenario_ok = self.scenario(sw.scenario, what, sw.line)
            world = SCENARIOS[sw.scenario].world if scenario_ok else None
            params = self.params(sw.params, f"{what}'s params", sw.line, ("sweeps", i), world)
            assumed = self.assumed(sw.assumptions, what, sw.line, world)
            if scenario_ok:
                self.cross_check(sw.scenario, {**params, **assumed}, what, sw.line)
            if not sw.assumptions:
                self.warn("TS-V13", f"{what} varies no assumption, so it cannot run; list one or two assumptions "
                          "(more than two are screened by the Morris method)", sw.line)
            if not sw.fails_safely and not sw.fails_catastrophically:
                self.warn("TS-V13", f"{what} has no failure condition (fails_safely and fails_catastrophically are "
                          "both empty), so every point would count as good", sw.line)
            names = SCENARIOS[sw.scenario].metric_names(params) if scenario_ok else None
            for key in ("fails_safely", "fails_catastrophically"):
                for pred in getattr(sw, key):
                    self.predicate(pred, params if scenario_ok else None, f"a predicate of {what}'s {key}", sw.scenario)
            if sw.output is not None and names is not None and sw.output not in names:
                self.unknown_metric(sw.output, names, f"{what}'s output", sw.scenario,
                                    self.source_line("sweeps", i, "output") or sw.line)

    # -- shared checks --------------------------------------------------------------------------------

    def cell(self, cell: MatrixCell, what: str, line: int) -> None:
        """A cited claims-matrix cell names a known scenario, a world it is checked in, an order and a way of deciding."""
        if self.scenario(cell.scenario, what, line) and cell.world not in SCENARIOS[cell.scenario].worlds:
            worlds = SCENARIOS[cell.scenario].worlds
            self.error("TS-V11", f"{what}: scenario {cell.scenario} is not checked in the {cell.world!r} world"
                       f"{_suggest(cell.world, worlds)}; its worlds: {_quoted(worlds)}", line)
        if cell.op not in OPERATORS or cell.op in ("==", "!="):
            ops = [op for op in OPERATORS if op not in ("==", "!=")]
            self.error("TS-V02", f"{what} has operator {cell.op!r}, which cannot bound a share; use one of: "
                       f"{_quoted(ops)}", line)
        if cell.by is not None and cell.by not in DECIDED_BY:
            self.error("TS-V02", f"{what} has unknown by {cell.by!r}{_suggest(cell.by, DECIDED_BY)}; "
                       f"by: {_quoted(DECIDED_BY)}", line)

    def scenario(self, scenario: str | None, what: str, line: int) -> bool:
        if scenario is None:
            return False
        if scenario not in SCENARIOS:
            self.error("TS-V11", f"{what} uses unknown scenario {scenario!r}{_suggest(scenario, SCENARIOS)}; known "
                       f"scenarios: {_quoted(SCENARIOS)}", line)
            return False
        return True

    def accepts(self, name: str, value: Any, world: str) -> bool:
        try:
            set_values(_trial(name, world), {name: value})
        except ExplorerError:
            return False
        return True

    def params(self, params: Mapping[str, Any], what: str, line: int, path: tuple = (),
               world: str | None = None) -> dict[str, Any]:
        """Check literal parameters of `world` (every world's names when None: the scenario is unknown);
        return the ones that are fine (the others have a message).

        `path` leads to the entry in the parsed front matter, so each message points at its own key."""
        good = {}
        known = known_params(world)
        for name, value in params.items():
            at = (self.source_line(*path, "params", name) if path else 0) or line
            if name not in known:
                where = f" of the {world} world" if world else ""
                self.error("TS-V11", f"{what} set unknown parameter {name!r}{_suggest(name, known)}; known "
                           f"parameters{where}: {_quoted(known)}", at)
                continue
            w = world or _world_of(name)
            p = parameter(name, w)
            if not _fits_type(p, value):
                shown = repr(value) if isinstance(value, float) else _fmt(value)
                self.error("TS-V11", f"{what} set {name} to {shown} ({type_name(value)}); {name} takes "
                           f"{allowed(p)}", at)
                continue
            try:
                set_values(_trial(name, w), {name: value})
            except ExplorerError as exc:
                if isinstance(p, param.Number):
                    self.error("TS-V07", f"{what} set {name} to {_fmt(value)}, outside what {name} allows: "
                               f"{allowed(p)}", at)
                else:
                    self.error("TS-V07", f"{what} set {name} to a value it does not allow: {exc}", at)
                continue
            good[name] = value
        return good

    def assumed(self, names: list[str], what: str, line: int, world: str | None = None) -> dict[str, Any]:
        """The parameters a list of assumptions sets at their nominal values; dangling names, and
        assumptions setting a parameter `world` lacks, get a message."""
        known = self.story.assumption_by_name()
        out = {}
        for name in names:
            if name not in known:
                self.error("TS-V04", f"{what} uses assumption {name}, which the story does not define"
                           f"{_suggest(name, known)}; assumptions: {_quoted(known) or 'none'}", line)
                continue
            a = known[name]
            if world is not None and a.parameter in known_params() and a.parameter not in known_params(world):
                self.error("TS-V11", f"{what} uses assumption {name}, which sets {a.parameter}, a parameter the "
                           f"{world} world does not have; its parameters: {_quoted(known_params(world))}", line)
                continue
            w = world or _world_of(a.parameter)
            settable = a.parameter in known_params(w) and _continuous(parameter(a.parameter, w))
            if settable and self.accepts(a.parameter, a.nominal, w):
                out[a.parameter] = a.nominal
        return out

    def cross_check(self, scenario: str, params: dict[str, Any], what: str, line: int) -> None:
        """Checks across parameters (difficulty_min below difficulty_max) under the scenario's presets."""
        s = SCENARIOS[scenario]
        names = world_param_names(s.world)
        trial = get_world(s.world)()
        try:
            set_values(trial, {k: v for k, v in {**s.params, **params}.items() if k in names})
            trial.check()
        except ExplorerError as exc:
            self.error("TS-V07", f"{what} cannot run scenario {scenario} with these parameters: {exc}", line)

    def predicate(self, pred: Predicate, params: dict[str, Any] | None, what: str, scenario: str | None) -> None:
        """Operator, metrics (each side with its own overrides, when the scenario is known) and meaning."""
        line = pred.line
        if pred.op not in OPERATORS:
            self.error("TS-V02", f"{what} has unknown operator {pred.op!r}; operators: {_quoted(OPERATORS)}", line)
        world = SCENARIOS[scenario].world if params is not None else None
        missing = False
        sides = [(pred.metric, pred.params, "params")]
        if pred.other is not None:
            sides.append((pred.other, pred.other_params, "other_params"))
        for metric, overrides, key in sides:
            own = self.params(overrides, f"{what}'s {key}", line, (), world) if overrides else {}
            if params is None:
                continue
            names = SCENARIOS[scenario].metric_names({**params, **own})
            if metric not in names:
                self.unknown_metric(metric, names, what, scenario, line)
                missing = True
        if missing or pred.op not in OPERATORS:
            return
        problem = meaning_problem(pred)
        if problem:
            right = pred.other if pred.other is not None else ("null" if pred.value is None else _fmt(pred.value))
            self.error("TS-V14", f"{what} ({pred.metric} {pred.op} {right}) cannot mean what it says: {problem}",
                       pred.line)

    def unknown_metric(self, metric: str, names: set[str], what: str, scenario: str | None, line: int) -> None:
        prior, _, short = metric.partition(".")
        if metric in ALL_METRICS:  # a posterior of a kind the scenario's program mix leaves out
            kind = short.removeprefix("posterior.")
            why = (f"; scenario {scenario} (with these params) has no {kind} programs: add {kind} to kind_mix "
                   "or ask about another kind")
        elif prior not in PRIORS:
            why = f"{_suggest(metric, names)}; a metric is PRIOR.METRIC with PRIOR one of {_quoted(PRIORS)}"
        else:
            short_names = sorted({n.partition('.')[2] for n in names})
            why = f"{_suggest(metric, names)}; metrics after {prior}. are: {_quoted(short_names)}"
        self.error("TS-V06", f"{what} uses metric {metric}, which scenario {scenario} does not produce{why}", line)

    def stale(self, ev, recorded: Recorded) -> None:
        try:
            params = effective_params(self.story, ev)
        except ExplorerError:
            return  # a dangling assumption, reported as TS-V04
        if not is_stale(recorded, params):
            return
        reasons = []
        now = code_version()
        if recorded.code_version != now:
            reasons.append(f"code version {recorded.code_version} (now {now})")
        old, new = normalised(recorded.params), normalised(params)
        show = lambda side, k: _fmt(side[k]) if k in side else "unset"
        changed = [f"{k} {show(old, k)} (now {show(new, k)})"
                   for k in sorted(set(old) | set(new)) if (k in old, old.get(k)) != (k in new, new.get(k))]
        if changed:
            reasons.append("parameters " + ", ".join(changed))
        self.warn("TS-V09", f"evidence {ev.id}'s recorded result is stale: it was computed with {'; '.join(reasons)}; "
                  "record a new one with `story check --record --replace`", recorded.line or ev.line)
