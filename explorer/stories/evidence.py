"""Running a story's evidence against the simulation, and what that says of each claim.

A piece of simulated evidence names a scenario, parameters (literals, plus assumptions at their nominal
values or at values a sweep chooses) and a predicate over the selection metrics. Metrics are named
`PRIOR.METRIC` (`average_speed.posterior.deceptive`, `simplicity.map.kind`), from the vocabulary of
`explorer.priors.METRIC_NAMES`. Predicates are compared with a whitelisted operator; nothing a story
says is evaluated as code.

Claim statuses: `supported` (all its evidence holds), `refuted` (some evidence fails, or an external
source refutes it), `stale` (its evidence has a recorded result computed from other parameters or code),
`undeveloped` (marked so), `unchecked` (evidence not run yet).

`as_checked` gives the statuses exactly as `story check` computes them, for the apps' story panels; with
`shared` its simulations come from SHARED, a bounded, thread-safe cache of one process keyed by scenario,
parameters and code version, so every session showing one story pays for its simulations once. The
command line (`run_all`, `run` without `shared`) does not use it.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Mapping

import explorer
from explorer.errors import ExplorerError
from explorer.priors import METRIC_NAMES, PRIORS, PriorResult
from explorer.scenarios import OPERATORS, SCENARIOS
from explorer.simulation import Simulation
from explorer.stories.model import Evidence, Predicate, Recorded, Story
from explorer.table import KINDS

#: Claim statuses, in the order the editor explains them.
STATUSES = ("supported", "refuted", "stale", "undeveloped", "unchecked")

#: Floats are compared after rounding to this many significant digits, so a recorded result written to
#: YAML and read back (or computed on another back end) still matches.
SIGNIFICANT = 6


def code_version() -> str:
    """The code version a recorded result is stamped with; a different one makes it stale."""
    return explorer.__version__


def metric_names(scenario: str, params: Mapping[str, Any] | None = None) -> set[str]:
    """The `PRIOR.METRIC` names a scenario produces: `posterior.KIND` only for kinds in its program mix."""
    if scenario not in SCENARIOS:
        raise ExplorerError(f"unknown scenario {scenario!r}; known scenarios: {', '.join(SCENARIOS)}")
    full = {**SCENARIOS[scenario].params, **(params or {})}
    mix = full.get("kind_mix")
    if mix is None:
        from explorer.worlds.abstract import DEFAULT_KIND_MIX

        mix = DEFAULT_KIND_MIX
    absent = {f"posterior.{k}" for k in KINDS if not float(mix.get(k, 0.0)) > 0}
    return {f"{p}.{m}" for p in PRIORS for m in METRIC_NAMES if m not in absent}


def flat_metrics(results: Mapping[str, PriorResult]) -> dict[str, Any]:
    """Every prior's metrics under `PRIOR.METRIC` names."""
    return {f"{prior}.{name}": value for prior, r in results.items() for name, value in r.metrics().items()}


def plain(value: Any) -> Any:
    """A metric value as a plain, YAML-friendly Python value (floats rounded to SIGNIFICANT digits)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}") if math.isfinite(value) else None
    return value


def compare(predicate: Predicate, metrics: Mapping[str, Any]) -> tuple[bool, Any, Any]:
    """(holds, left, right) of a predicate over named metrics; an unknown metric or operator is an ExplorerError."""
    if predicate.op not in OPERATORS:
        raise ExplorerError(f"unknown operator {predicate.op!r}; allowed: {', '.join(OPERATORS)}")
    for name in (predicate.metric, predicate.other):
        if name is not None and name not in metrics:
            raise ExplorerError(f"unknown metric {name!r}; this scenario produces: {', '.join(sorted(metrics))}")
    left = plain(metrics[predicate.metric])
    right = plain(metrics[predicate.other]) if predicate.other is not None else predicate.value
    if left is None or right is None:
        return False, left, right
    if isinstance(left, str) != isinstance(right, str):
        return False, left, right
    try:
        return bool(OPERATORS[predicate.op](left, right)), left, right
    except TypeError:
        return False, left, right


def effective_params(story: Story, evidence: Evidence, values: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The parameters evidence runs with: its literals, then its assumptions (nominal, or `values[name]`).

    The scenario's own preset parameters sit underneath (see `simulate`); they are not repeated here so
    that a recorded result lists only what the story chose.
    """
    assumptions = story.assumption_by_name()
    params = dict(evidence.params)
    for name in evidence.assumptions:
        if name not in assumptions:
            raise ExplorerError(f"evidence {evidence.id} uses assumption {name!r}, which the story does not define")
        a = assumptions[name]
        params[a.parameter] = (values or {}).get(name, a.nominal)
    return params


def simulate(scenario: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run a scenario with parameter overrides and return its flat metrics."""
    if scenario not in SCENARIOS:
        raise ExplorerError(f"unknown scenario {scenario!r}; known scenarios: {', '.join(SCENARIOS)}")
    sim = Simulation(**{**SCENARIOS[scenario].params, **params})
    return flat_metrics(sim.select())


def _frozen(value: Any) -> Any:
    """A parameter value as a hashable key part, exactly (no rounding) and typed, so True is not 1.0."""
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_frozen(v) for v in value))
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("num", float(value))
    return ("repr", repr(value))


class SharedSimulations:
    """A process-wide, bounded, thread-safe cache of `simulate` results, keyed by (scenario, normalised
    parameters, code version).

    Every session of one server that shows the same story shares its simulations, and two sessions
    asking for the same one at once compute it once: the second waits for the first. A run that raises
    is not cached (the next asker tries again). Callers get a copy of the metrics.
    """

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._running: dict[tuple, threading.Event] = {}

    @staticmethod
    def key(scenario: str, params: Mapping[str, Any]) -> tuple:
        return scenario, _frozen(dict(params)), code_version()

    def has(self, scenario: str, params: Mapping[str, Any]) -> bool:
        with self._lock:
            return self.key(scenario, params) in self._done

    def get(self, scenario: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """`simulate(scenario, params)`, from the cache when it is there."""
        key = self.key(scenario, params)
        while True:
            with self._lock:
                if key in self._done:
                    self._done.move_to_end(key)
                    return dict(self._done[key])
                event = self._running.get(key)
                mine = event is None
                if mine:
                    event = self._running[key] = threading.Event()
            if not mine:
                event.wait()
                continue  # done now, or it failed and this caller tries itself
            try:
                metrics = simulate(scenario, params)  # looked up at call time, so tests can replace it
                with self._lock:
                    self._done[key] = dict(metrics)
                    while len(self._done) > self.maxsize:
                        self._done.popitem(last=False)
                return dict(metrics)
            finally:
                with self._lock:
                    self._running.pop(key, None)
                event.set()

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


#: The simulations story evidence shares across a process (the apps' story panels use it).
SHARED = SharedSimulations()


@dataclass(frozen=True)
class Result:
    """One run of one piece of evidence."""

    evidence: str
    holds: bool
    value: Any
    other: Any
    params: dict[str, Any]
    code_version: str

    def recorded(self) -> Recorded:
        return Recorded(holds=self.holds, value=self.value, other=self.other, params=dict(self.params),
                        code_version=self.code_version)

    def matches(self, recorded: Recorded | None) -> bool:
        """Whether a recorded result says the same (same parameters, code, holds and values)."""
        return recorded is not None and not is_stale(recorded, self.params) and (
            recorded.holds, _same(recorded.value), _same(recorded.other)) == (self.holds, _same(self.value), _same(self.other))


def _same(value):
    return plain(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def is_stale(recorded: Recorded, params: Mapping[str, Any]) -> bool:
    """A recorded result is stale when its parameters or code version differ from the current ones."""
    return recorded.code_version != code_version() or _norm(recorded.params) != _norm(params)


def _norm(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ({kk: _same(vv) for kk, vv in v.items()} if isinstance(v, dict) else _same(v)) for k, v in params.items()}


def run(story: Story, evidence: Evidence, values: Mapping[str, float] | None = None,
        overrides: Mapping[str, Any] | None = None, shared: bool = False) -> Result:
    """Run one piece of simulated evidence. `values` sets assumptions by name; `overrides` sets parameters;
    `shared` takes the simulation from the process-wide cache (SHARED) when it is there."""
    if not evidence.simulated or evidence.predicate is None or evidence.scenario is None:
        raise ExplorerError(f"evidence {evidence.id} cites a source; there is nothing to run")
    params = {**effective_params(story, evidence, values), **(overrides or {})}
    metrics = SHARED.get(evidence.scenario, params) if shared else simulate(evidence.scenario, params)
    holds, left, right = compare(evidence.predicate, metrics)
    return Result(evidence.id, holds, left, right if evidence.predicate.other is not None else None, params, code_version())


def run_all(story: Story, overrides: Mapping[str, Any] | None = None, shared: bool = False) -> dict[str, Result]:
    """Run every piece of simulated evidence (same parameters share one simulation; with `shared`, the
    simulations come from, and go into, the process-wide cache SHARED)."""
    cache: dict[tuple, dict[str, Any]] = {}
    out = {}
    for ev in story.evidence:
        if not ev.simulated or ev.predicate is None or ev.scenario is None:
            continue
        params = {**effective_params(story, ev), **(overrides or {})}
        key = (ev.scenario, repr(sorted(params.items())))
        if key not in cache:
            cache[key] = SHARED.get(ev.scenario, params) if shared else simulate(ev.scenario, params)
        holds, left, right = compare(ev.predicate, cache[key])
        out[ev.id] = Result(ev.id, holds, left, right if ev.predicate.other is not None else None, params, code_version())
    return out


def evidence_status(story: Story, evidence: Evidence, results: Mapping[str, Result] | None = None) -> str:
    """supported / refuted / stale / unchecked for one piece of evidence (from a run, else its record)."""
    if not evidence.simulated:
        return "refuted" if evidence.finding == "refutes" else "supported"
    if results is not None and evidence.id in results:
        return "supported" if results[evidence.id].holds else "refuted"
    rec = evidence.recorded
    if rec is None:
        return "unchecked"
    try:
        params = effective_params(story, evidence)
    except ExplorerError:
        return "stale"
    if is_stale(rec, params):
        return "stale"
    return "supported" if rec.holds else "refuted"


def claim_statuses(story: Story, results: Mapping[str, Result] | None = None) -> dict[str, str]:
    """Each claim's status: refuted beats stale beats unchecked beats supported."""
    evidence = story.evidence_by_id()
    out = {}
    for cid, claim in story.claims().items():
        if claim.undeveloped or not claim.evidence:
            out[cid] = "undeveloped"
            continue
        states = {evidence_status(story, evidence[e], results) if e in evidence else "unchecked" for e in claim.evidence}
        for status in ("refuted", "stale", "unchecked"):
            if status in states:
                out[cid] = status
                break
        else:
            out[cid] = "supported"
    return out


@dataclass(frozen=True)
class Checked:
    """What `python -m explorer story check` finds for one story (without --record): `results` of the
    evidence that ran (None: not run, since the story has validation errors, as check does), `problems`
    of evidence that could not run, by id, and each claim's status."""

    results: dict[str, Result] | None
    problems: dict[str, str]
    statuses: dict[str, str]
    errors: tuple[str, ...] = ()


def as_checked(story: Story, shared: bool = True) -> Checked:
    """Claim statuses exactly as `story check` computes them: validate; with no errors run every piece of
    simulated evidence with the story's own parameters (run_all, then one by one when one cannot run);
    statuses from those results (evidence without a result falls back to its record)."""
    from explorer.stories.messages import errors as errors_of
    from explorer.stories.validate import validate

    errors = tuple(str(m) for m in errors_of(validate(story)))
    if errors:
        return Checked(None, {}, claim_statuses(story, None), errors)
    results, problems = run_each(story, shared=shared)
    return Checked(results, problems, claim_statuses(story, results))


def run_each(story: Story, shared: bool = False) -> tuple[dict[str, Result], dict[str, str]]:
    """Every piece of simulated evidence's result, and why each that could not run did not: `run_all`, and
    when one cannot run, one by one so the others still count (what `story check` reports)."""
    try:
        return run_all(story, shared=shared), {}
    except ExplorerError:
        results, problems = {}, {}
        for ev in story.evidence:
            if not ev.simulated:
                continue
            try:
                results[ev.id] = run(story, ev, shared=shared)
            except ExplorerError as exc:
                problems[ev.id] = str(exc)
        return results, problems


def as_checked_is_cached(story: Story) -> bool:
    """Whether every simulation `as_checked(story)` needs is in SHARED already (so it costs no simulation)."""
    try:
        todo = [(ev.scenario, effective_params(story, ev)) for ev in story.evidence
                if ev.simulated and ev.predicate is not None and ev.scenario is not None]
    except ExplorerError:
        return False
    return all(SHARED.has(scenario, params) for scenario, params in todo)
