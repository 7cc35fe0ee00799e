"""Running a story's evidence against the simulation, and what that says of each claim.

Evidence can also cite a cell of the claims matrix (explorer/stories/cells.py): its status comes from the
recorded matrix, not from a run here.

A piece of simulated evidence names a scenario (of any world), parameters (literals, plus assumptions
at their nominal values or at values a sweep chooses) and a predicate of explorer.checks, the grammar
scenarios and tours use: `PRIOR.METRIC op value|other`, with optional overrides per side. It runs in
the scenario's world with the scenario's parameters underneath, through checks.Runner; nothing a story
says is evaluated as code.

Claim statuses: `supported` (all its evidence holds), `refuted` (some evidence fails, or an external
source refutes it), `stale` (its evidence has a recorded result computed from other parameters or code),
`undeveloped` (marked so), `unchecked` (evidence not run yet).

`as_checked` gives the statuses exactly as `story check` computes them, for the apps' story panels; with
`shared` its simulations come from checks.SHARED, the process's bounded, thread-safe cache keyed by
world, scenario, parameters and code version, so every session showing one story pays for its
simulations once. The command line (`run_all`, `run` without `shared`) does not use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from explorer import checks
from explorer.checks import SHARED, SIGNIFICANT, Runner, code_version, flat_metrics, plain
from explorer.checks import evaluate as compare  # the one evaluator, under the name the story panel uses
from explorer.errors import ExplorerError
from explorer.scenarios import get_scenario
from explorer.stories.cells import cell_status
from explorer.stories.model import Evidence, Recorded, Story, effective_params, is_stale, same_value

__all__ = ["SHARED", "SIGNIFICANT", "STATUSES", "Checked", "Result", "as_checked", "as_checked_is_cached",
           "claim_statuses", "code_version", "compare", "effective_params", "evidence_status", "flat_metrics",
           "is_stale", "metric_names", "plain", "run", "run_all", "run_each", "simulate"]

#: Claim statuses, in the order the editor explains them.
STATUSES = ("supported", "refuted", "stale", "undeveloped", "unchecked")


def metric_names(scenario: str, params: Mapping[str, Any] | None = None) -> set[str]:
    """The `PRIOR.METRIC` names a scenario produces with `params` (see checks.metric_names)."""
    return get_scenario(scenario).metric_names(params)


def simulate(scenario: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run a scenario (in its world) with parameter overrides and return its flat metrics."""
    s = get_scenario(scenario)
    return checks.simulate(s.world, {**s.params, **params})


def _runner(scenario: str, params: Mapping[str, Any], shared: bool) -> Runner:
    return get_scenario(scenario).runner(shared=shared, **params)


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
        if recorded is None or is_stale(recorded, self.params):
            return False
        return ((recorded.holds, same_value(recorded.value), same_value(recorded.other))
                == (self.holds, same_value(self.value), same_value(self.other)))


def run(story: Story, evidence: Evidence, values: Mapping[str, float] | None = None,
        overrides: Mapping[str, Any] | None = None, shared: bool = False,
        runners: dict[tuple, Runner] | None = None) -> Result:
    """Run one piece of simulated evidence. `values` sets assumptions by name; `overrides` sets parameters;
    `shared` takes the simulations from the process-wide cache (checks.SHARED) when they are there;
    `runners` (a dict the caller keeps) lets pieces with the same scenario and parameters share one
    simulation."""
    if not evidence.simulated or evidence.predicate is None or evidence.scenario is None:
        raise ExplorerError(f"evidence {evidence.id} cites a source; there is nothing to run")
    params = {**effective_params(story, evidence, values), **(overrides or {})}
    key = (evidence.scenario, checks.frozen(params))
    runners = {} if runners is None else runners
    if key not in runners:
        runners[key] = _runner(evidence.scenario, params, shared)
    outcome = runners[key].check(evidence.predicate)
    other = outcome.right if evidence.predicate.other is not None else None
    return Result(evidence.id, outcome.passed, outcome.left, other, params, code_version())


def run_all(story: Story, overrides: Mapping[str, Any] | None = None, shared: bool = False) -> dict[str, Result]:
    """Run every piece of simulated evidence (same scenario and parameters share one simulation; with
    `shared`, the simulations come from, and go into, checks.SHARED)."""
    runners: dict[tuple, Runner] = {}
    return {ev.id: run(story, ev, overrides=overrides, shared=shared, runners=runners) for ev in story.evidence
            if ev.simulated and ev.predicate is not None and ev.scenario is not None}


def evidence_status(story: Story, evidence: Evidence, results: Mapping[str, Result] | None = None) -> str:
    """supported / refuted / stale / unchecked for one piece of evidence (from a run, else its record; a cited
    claims-matrix cell from the recorded matrix)."""
    if evidence.cell is not None:
        return cell_status(evidence.cell)
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
    """Whether every simulation `as_checked(story)` needs is in checks.SHARED already (so it costs none)."""
    try:
        return all(_runner(ev.scenario, effective_params(story, ev), True).is_cached(ev.predicate)
                   for ev in story.evidence if ev.simulated and ev.predicate is not None and ev.scenario is not None)
    except ExplorerError:
        return False
