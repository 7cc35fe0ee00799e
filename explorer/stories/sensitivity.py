"""Sensitivity analysis of a training story: how far can its assumptions move before it fails, and how?

A sweep names a scenario, one or more of the story's assumptions and two conditions over the selection
metrics (`PRIOR.METRIC`, as in evidence). Every point it samples runs the scenario with

    parameters = scenario preset  <-  sweep.params  <-  {assumption.parameter: value for each assumption}

and is classified, worst first:

- `fails_catastrophically` when every predicate of `fails_catastrophically` holds,
- `fails_safely` when every predicate of `fails_safely` holds,
- `good` otherwise.

An empty condition never holds (a sweep that lists no safe-failure predicates has no safe failures).

One or two assumptions: a grid of `points` values per assumption, evenly spaced over each range, plus the
nominal point (every assumption at its nominal value). The *breakpoint* is the sampled point nearest the
nominal one whose class differs from the nominal class, with distance measured after scaling each axis by
its range width, d = sqrt(sum_i ((x_i - nominal_i) / (hi_i - lo_i))^2); ties go to the first in grid
order. The *verdict* is `fails_catastrophically` if any point (the nominal one included) is catastrophic,
else `fails_safely` if any fails safely, else `robust`.

More than two assumptions: Morris elementary-effects screening (Morris 1991, as implemented by SALib),
with `points` trajectories over `num_levels = 4`, a fixed seed, and the sweep's numeric `output` metric
(default: the metric of its first fails-catastrophically predicate). For assumption i the elementary
effect of one step is EE_i = (y(x + delta e_i) - y(x)) / delta, and the ranking is by mu*_i = mean |EE_i|
(sigma_i, their standard deviation, says how much i interacts or bends). Every sampled point is also
classified, and the same verdict and breakpoint rules apply to them.

Points run serially (`workers=1`), in a local process pool (a 'forkserver' or 'spawn' context, so a
threaded caller such as the Panel server is never forked), or on a Dask distributed cluster
(`scheduler="tcp://..."`). Each point is a pure function of its parameters, so the result is the same
whichever runs it. `should_stop()` is checked after every finished point; stopping cancels the pending
points and returns a partial result marked `complete=False`, whose verdict (and Morris ranking) is None
because the points not run could still change it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import param

from explorer.checks import OPERATORS, code_version, evaluate, flat_metrics, new_simulation, plain
from explorer.errors import ExplorerError
from explorer.scenarios import SCENARIOS
from explorer.simulation import parameter
from explorer.stories.messages import Message, errors
from explorer.stories.model import Assumption, Predicate, Story, Sweep

#: Point classes, best first, with their labels.
CLASSES = {"good": "good", "fails_safely": "fails safely", "fails_catastrophically": "fails catastrophically"}
#: Verdicts of a whole sweep, with their labels.
VERDICTS = {"robust": "robust", "fails_safely": "fails safely", "fails_catastrophically": "fails catastrophically"}
#: One letter per class for the text map.
LETTERS = {"good": "G", "fails_safely": "S", "fails_catastrophically": "C"}

#: Grid points per assumption a sweep may ask for (the file format allows the same range).
GRID_POINTS = (2, 101)
#: Morris trajectories a sweep may ask for (each costs one point more than there are assumptions).
TRAJECTORIES = (2, 1000)
MORRIS_LEVELS = 4
#: Morris sampling and bootstrap seed: the same story gives the same screening.
SEED = 0

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


class SweepError(ExplorerError):
    """A sweep that cannot run as written; carries located messages like a story check does."""

    def __init__(self, messages: Sequence[Message]):
        self.messages = list(messages)
        super().__init__("\n".join(map(str, self.messages)))


# ---- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Axis:
    """One swept assumption: what it sets, its range and nominal value, and the grid values (grids only)."""

    name: str
    parameter: str
    nominal: float
    range: tuple[float, float]
    values: tuple[float, ...] = ()
    integer: bool = False

    @property
    def width(self) -> float:
        return self.range[1] - self.range[0]

    def label(self) -> str:
        return f"{self.name} ({self.parameter})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "parameter": self.parameter, "nominal": self.nominal,
                "range": list(self.range), "values": list(self.values)}


@dataclass(frozen=True)
class Point:
    """One sampled point: the assumption values, its class, and the metrics its conditions read."""

    values: dict[str, float]
    cls: str
    metrics: dict[str, Any] = field(default_factory=dict)
    distance: float | None = None  # from the nominal point, in range widths (set for the breakpoint)

    def to_dict(self) -> dict[str, Any]:
        out = {"values": dict(self.values), "class": self.cls, "metrics": dict(self.metrics)}
        if self.distance is not None:
            out["distance"] = self.distance
        return out


@dataclass
class SweepResult:
    """What a sweep found; `to_dict()` is its JSON form."""

    sweep: str
    scenario: str
    method: str  # "grid" or "morris"
    axes: list[Axis]
    points: list[Point]
    nominal: Point | None
    breakpoint: Point | None
    verdict: str | None
    params: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, list[str]] = field(default_factory=dict)
    output: str | None = None
    ranking: list[dict[str, Any]] | None = None
    total: int = 0
    complete: bool = True
    code_version: str = ""

    @property
    def done(self) -> int:
        return len(self.points) + (self.nominal is not None)

    def counts(self) -> dict[str, int]:
        """How many sampled points fell in each class."""
        return {c: sum(p.cls == c for p in self.points) for c in CLASSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep, "scenario": self.scenario, "method": self.method, "params": dict(self.params),
            "assumptions": [a.to_dict() for a in self.axes], "conditions": dict(self.conditions),
            "output": self.output,
            "points": [p.to_dict() for p in self.points],
            "nominal": None if self.nominal is None else self.nominal.to_dict(),
            "breakpoint": None if self.breakpoint is None else self.breakpoint.to_dict(),
            "verdict": self.verdict, "verdict_label": VERDICTS.get(self.verdict) if self.verdict else None,
            "ranking": None if self.ranking is None else [dict(r) for r in self.ranking],
            "counts": self.counts(), "complete": self.complete, "done": self.done, "total": self.total,
            "code_version": self.code_version,
        }


# ---- checking and planning ----------------------------------------------------------------------

def check_sweep(story: Story, sweep: Sweep, points: int | None = None) -> list[Message]:
    """Located messages about everything that would stop `sweep` from running (or make it meaningless)."""
    out: list[Message] = []

    def say(code, text, line, severity="error"):
        out.append(Message(code, f"sweep {sweep.id}: {text}", line or sweep.line, severity))

    if sweep.scenario not in SCENARIOS:
        say("TS-V11", f"unknown scenario {sweep.scenario!r}; known scenarios: {', '.join(SCENARIOS)}", sweep.line)
        return out
    scenario = SCENARIOS[sweep.scenario]
    base = {**scenario.params, **sweep.params}
    try:
        new_simulation(scenario.world, base)  # checks names, types and bounds of the sweep's own parameters; builds nothing
    except ExplorerError as exc:
        say("TS-V11" if "unknown parameter" in str(exc) else "TS-V07", f"params: {exc}", sweep.line)
        return out

    if not sweep.assumptions:
        say("TS-V13", "it sweeps no assumptions; name one or more", sweep.line)
    known = story.assumption_by_name()
    seen: set[str] = set()
    for name in sweep.assumptions:
        if name in seen:
            say("TS-V10", f"assumption {name!r} is listed twice", sweep.line)
        seen.add(name)
        if name not in known:
            say("TS-V04", f"assumption {name!r} is not defined; the story defines: {', '.join(known) or 'none'}",
                sweep.line)
            continue
        out.extend(_check_assumption(known[name], sweep, scenario.world))
    parameters = [known[n].parameter for n in sweep.assumptions if n in known]
    if len(set(parameters)) < len(parameters):
        say("TS-V13", "two of its assumptions set the same parameter, so they cannot vary independently", sweep.line)

    n = points if points is not None else sweep.points
    morris = len(sweep.assumptions) > 2
    lo, hi = TRAJECTORIES if morris else GRID_POINTS
    if not lo <= n <= hi:
        what = "Morris trajectories" if morris else "grid points per assumption"
        say("TS-V07", f"{n} {what}; allowed {lo} to {hi}", sweep.line)

    produced = scenario.metric_names(sweep.params)
    for which in ("fails_safely", "fails_catastrophically"):
        for pred in getattr(sweep, which):
            if pred.params or pred.other_params:
                say("TS-V13", f"{which}: a condition is read at every point of the sweep, so it cannot set its own "
                              "params or other_params; vary the parameter with an assumption instead", pred.line)
            if pred.op not in OPERATORS:
                say("TS-V02", f"{which}: unknown operator {pred.op!r}; allowed: {', '.join(OPERATORS)}", pred.line)
            for name in (pred.metric, pred.other):
                if name is not None and name not in produced:
                    say("TS-V06", f"{which}: scenario {sweep.scenario} does not produce metric {name!r} "
                                  f"(it produces PRIOR.METRIC names such as {_examples(produced)})", pred.line)
    if not sweep.fails_safely and not sweep.fails_catastrophically:
        say("TS-V13", "it has no failure condition, so every point would be good", sweep.line, "warning")

    output = output_metric(sweep) if morris or sweep.output else None
    if morris and output is None:
        say("TS-V13", "Morris screening needs a numeric `output` metric (or a fails_catastrophically predicate)",
            sweep.line)
    elif output is not None and output not in produced:
        say("TS-V06", f"output: scenario {sweep.scenario} does not produce metric {output!r}", sweep.line)
    elif morris and output.endswith(".map.kind"):
        say("TS-V13", f"output {output!r} is not a number; Morris screening needs a numeric metric", sweep.line)
    return out


def _check_assumption(a: Assumption, sweep: Sweep, world: str) -> list[Message]:
    out = []
    where = f"sweep {sweep.id}: assumption {a.name}"
    try:
        p = parameter(a.parameter, world)
    except ExplorerError as exc:
        return [Message("TS-V11", f"{where}: {exc}", a.line or sweep.line)]
    if not isinstance(p, param.Number) or isinstance(p, param.Boolean):
        return [Message("TS-V13", f"{where}: parameter {a.parameter} is not a number, so it cannot be swept",
                        a.line or sweep.line)]
    lo, hi = a.range
    if not lo < hi:
        out.append(Message("TS-V07", f"{where}: its range [{lo:g}, {hi:g}] is empty; the low end must be below the high end",
                           a.line or sweep.line))
    if not lo <= a.nominal <= hi:
        out.append(Message("TS-V07", f"{where}: nominal value {a.nominal:g} is outside its range [{lo:g}, {hi:g}]",
                           a.line or sweep.line))
    b_lo, b_hi = p.bounds or (None, None)
    lo_in, hi_in = getattr(p, "inclusive_bounds", (True, True))
    below = b_lo is not None and (lo < b_lo if lo_in else lo <= b_lo)
    above = b_hi is not None and (hi > b_hi if hi_in else hi >= b_hi)
    if below or above:
        from explorer.params import allowed

        out.append(Message("TS-V07", f"{where}: range [{lo:g}, {hi:g}] leaves what {a.parameter} allows "
                                     f"({allowed(p)})", a.line or sweep.line))
    return out


def _examples(names: set[str]) -> str:
    return ", ".join(sorted(n for n in names if n.startswith("average_speed."))[:4])


def output_metric(sweep: Sweep) -> str | None:
    """The metric Morris screening ranks by: `output`, else the first fails-catastrophically metric."""
    if sweep.output:
        return sweep.output
    return sweep.fails_catastrophically[0].metric if sweep.fails_catastrophically else None


@dataclass(frozen=True)
class Plan:
    """Everything a sweep will compute: the axes, the rows of assumption values, the metrics to keep."""

    sweep: Sweep
    method: str
    axes: list[Axis]
    base: dict[str, Any]
    metrics: tuple[str, ...]
    nominal: dict[str, float]
    rows: list[dict[str, float]]
    sample: np.ndarray | None = None  # the Morris design, one row per point, in `axes` order
    trajectories: int = 0

    def params_of(self, values: Mapping[str, float]) -> dict[str, Any]:
        """The parameters one point runs with (the scenario preset is put underneath by `point_metrics`)."""
        out = dict(self.base)
        for axis in self.axes:
            v = values[axis.name]
            out[axis.parameter] = round(v) if axis.integer else float(v)
        return out


def plan(story: Story, sweep_id: str, points: int | None = None) -> Plan:
    """Check a sweep and lay out its points; SweepError (located messages) if it cannot run."""
    sweep = get_sweep(story, sweep_id)
    if points is not None and not isinstance(points, int) or isinstance(points, bool):
        raise ExplorerError(f"points: {points!r} is not an integer")
    problems = errors(sweep_problems(story, sweep, points))
    if problems:
        raise SweepError(problems)
    known = story.assumption_by_name()
    n = points if points is not None else sweep.points
    assumptions = [known[name] for name in sweep.assumptions]
    world = SCENARIOS[sweep.scenario].world
    integer = [isinstance(parameter(a.parameter, world), param.Integer) for a in assumptions]
    nominal = {a.name: a.nominal for a in assumptions}
    wanted = [p.metric for p in (*sweep.fails_safely, *sweep.fails_catastrophically)]
    wanted += [p.other for p in (*sweep.fails_safely, *sweep.fails_catastrophically) if p.other is not None]
    out = output_metric(sweep) if len(assumptions) > 2 or sweep.output else None
    names = tuple(dict.fromkeys(wanted + ([out] if out else [])))
    if len(assumptions) <= 2:
        axes = [Axis(a.name, a.parameter, float(a.nominal), (float(a.range[0]), float(a.range[1])),
                     _grid(a.range, n, i), i) for a, i in zip(assumptions, integer)]
        grids = np.meshgrid(*[ax.values for ax in axes], indexing="ij")
        rows = [{ax.name: float(g.flat[k]) for ax, g in zip(axes, grids)} for k in range(grids[0].size)]
        return Plan(sweep, "grid", axes, dict(sweep.params), names, nominal, rows)
    from SALib.sample import morris as morris_sample

    axes = [Axis(a.name, a.parameter, float(a.nominal), (float(a.range[0]), float(a.range[1])), (), i)
            for a, i in zip(assumptions, integer)]
    design = morris_sample.sample(_problem(axes), n, num_levels=MORRIS_LEVELS, seed=SEED)
    # SALib scales levels onto the ranges in floating point (1.5000000000000002); 12 digits read better.
    rows = [{ax.name: _tidy(v) for ax, v in zip(axes, row)} for row in design]
    return Plan(sweep, "morris", axes, dict(sweep.params), names, nominal, rows, design, n)


def _grid(rng: tuple[float, float], n: int, integer: bool) -> tuple[float, ...]:
    values = np.linspace(float(rng[0]), float(rng[1]), n)
    if integer:
        return tuple(float(v) for v in sorted({round(v) for v in values}))
    return tuple(_tidy(v) for v in values)


def _tidy(value: float) -> float:
    return float(f"{float(value):.12g}")


def _problem(axes: Sequence[Axis]) -> dict[str, Any]:
    return {"num_vars": len(axes), "names": [a.name for a in axes], "bounds": [list(a.range) for a in axes]}


def get_sweep(story: Story, sweep_id: str) -> Sweep:
    """The story's sweep with this id; an unknown id raises ExplorerError listing the ids there are."""
    sweeps = story.sweep_by_id()
    if sweep_id not in sweeps:
        there = ", ".join(sweeps) if sweeps else "none (the story defines no sweeps)"
        raise ExplorerError(f"unknown sweep {sweep_id!r}; this story's sweeps: {there}")
    return sweeps[sweep_id]


def sweep_problems(story: Story, sweep: Sweep, points: int | None = None) -> list[Message]:
    """What stops (or qualifies) a sweep: the story validator's errors about it when it has any, else
    `check_sweep`'s messages (which add what only a sweep needs: point counts, a Morris output)."""
    theirs = _validator_errors(story, sweep)
    return theirs if theirs else check_sweep(story, sweep, points)


def _validator_errors(story: Story, sweep: Sweep) -> list[Message]:
    """The story validator's errors about this sweep or an assumption it varies.

    The validator (explorer.stories.validate) checks the whole story; only the errors that name this
    sweep or one of its assumptions stop it, so a story with a dangling claim can still be swept.
    """
    try:
        from explorer.stories.validate import validate
    except ImportError:  # pragma: no cover - the validator ships with the project
        return []
    end = r"(?='|,|;|:|\s|$)"
    this_sweep = re.compile(r"(?:^|\s)" + re.escape(f"sweep {sweep.id}") + end)
    its_assumptions = re.compile("^(?:" + "|".join(re.escape(f"assumption {a}") for a in sweep.assumptions) + ")" + end)
    return [m for m in validate(story) if m.severity == "error"
            and (this_sweep.search(m.text) or (sweep.assumptions and its_assumptions.match(m.text)))]


# ---- one point ----------------------------------------------------------------------------------

_local = threading.local()


def point_metrics(scenario: str, base: Mapping[str, Any], point: Mapping[str, Any],
                  names: Sequence[str]) -> dict[str, Any]:
    """The named metrics of one sweep point of a scenario known to this process (see `scenario_point`)."""
    s = SCENARIOS[scenario]
    return scenario_point(s.world, s.params, base, point, names)


def scenario_point(world: str, preset: Mapping[str, Any], base: Mapping[str, Any], point: Mapping[str, Any],
                   names: Sequence[str]) -> dict[str, Any]:
    """The named metrics of one sweep point, as plain values (None where the point has no value).

    Runs wherever the point is sent (this process, a pool worker, a Dask worker). The scenario travels as
    its world and preset, not its id, so a worker need not see the user's scenario folders. Each thread
    keeps the Simulation of the last (world, preset, base, swept names) it ran, so points that change only
    prior weights reuse the program table. The swept names are part of the key: every point of one key
    sets all of them, so no value lingers from an earlier point (or from another sweep over other
    parameters).
    """
    key = (world, repr(sorted(preset.items())), repr(sorted(base.items())), tuple(sorted(point)))
    cached = getattr(_local, "simulation", None)
    if cached is None or cached[0] != key:
        cached = (key, new_simulation(world, {**preset, **base}))
        _local.simulation = cached
    sim = cached[1]
    sim.update(**point)
    metrics = flat_metrics(sim.select())
    return {name: plain(metrics.get(name)) for name in names}


def _task(args: tuple) -> dict[str, Any]:
    return scenario_point(*args)


def classify(sweep: Sweep, metrics: Mapping[str, Any]) -> str:
    """good, fails_safely or fails_catastrophically (an empty condition never holds)."""
    if _all_hold(sweep.fails_catastrophically, metrics):
        return "fails_catastrophically"
    if _all_hold(sweep.fails_safely, metrics):
        return "fails_safely"
    return "good"


def _all_hold(predicates: Sequence[Predicate], metrics: Mapping[str, Any]) -> bool:
    return bool(predicates) and all(evaluate(p, metrics)[0] for p in predicates)


# ---- running ------------------------------------------------------------------------------------

def run_sweep(story: Story, sweep_id: str, points: int | None = None, workers: int | None = None,
              scheduler: str | None = None, progress: ProgressFn | None = None,
              should_stop: StopFn | None = None) -> SweepResult:
    """Run one of the story's sweeps (see the module docstring for the classes, breakpoint and verdict).

    `points`: grid points per assumption, or Morris trajectories (default: the sweep's own). `workers`:
    local processes (default os.cpu_count(); 1 runs here, serially). `scheduler`: a Dask scheduler
    address, which takes precedence over `workers`. `progress(done, total)` is called after every
    point; `should_stop()` after every point too, and a True stops the sweep with a partial result.
    """
    p = plan(story, sweep_id, points)
    scenario = SCENARIOS[p.sweep.scenario]
    tasks = [(scenario.world, dict(scenario.params), p.base, p.params_of(values), p.metrics)
             for values in [p.nominal, *p.rows]]
    total = len(tasks)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ExplorerError(f"workers: {workers!r} is not valid; expected an integer >= 1")
    if scheduler:
        runner = _on_dask(tasks, scheduler)
    elif min(workers or os.cpu_count() or 1, total) > 1:
        runner = _in_processes(tasks, min(workers or os.cpu_count() or 1, total))
    else:
        runner = _here(tasks)
    results: list[dict[str, Any] | None] = [None] * total
    done = 0
    stopped = bool(should_stop and should_stop())
    if progress:
        progress(0, total)
    try:
        while not stopped:
            try:
                i, metrics = next(runner)
            except StopIteration:
                break
            except ExplorerError as exc:
                raise ExplorerError(f"sweep {p.sweep.id}: a point cannot run: {exc}") from None
            results[i] = metrics
            done += 1
            if progress:
                progress(done, total)
            stopped = bool(should_stop and should_stop()) and done < total
    finally:
        runner.close()  # cancels whatever has not started
    return _result(p, results, total, complete=done == total)


# The runners below hand out (index, fn(task)) as tasks finish; `fn` (default: one sweep point) must be a
# module-level function so that it reaches a worker process by name. explorer.claims runs its own tasks on them.

def _here(tasks: list[tuple], fn: Callable[[tuple], Any] | None = None) -> Iterator[tuple[int, Any]]:
    for i, task in enumerate(tasks):
        yield i, (fn or _task)(task)


def _in_processes(tasks: list[tuple], workers: int, fn: Callable[[tuple], Any] | None = None) -> Iterator[tuple[int, Any]]:
    # Never fork: the caller may be a threaded server, and a forked child inherits its locks held.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    try:
        futures = {pool.submit(fn or _task, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


#: What a Dask scheduler address looks like: tcp://host:port (or tls://, or a bare host:port).
DASK_ADDRESS = re.compile(r"^(?:(?:tcp|tls)://)?(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")


def _on_dask(tasks: list[tuple], address: str, fn: Callable[[tuple], Any] | None = None) -> Iterator[tuple[int, Any]]:
    """Connect now (so a wrong address is reported as such), then hand out results as points finish."""
    from distributed import Client

    if not DASK_ADDRESS.match(address):
        raise ExplorerError(f"--scheduler: {address!r} is not a scheduler address; expected tcp://HOST:PORT "
                            "such as tcp://127.0.0.1:8786")
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExplorerError(f"--scheduler: cannot reach a Dask scheduler at {address} ({exc})") from None
    return _dask_results(client, tasks, fn)


def _dask_results(client, tasks: list[tuple], fn: Callable[[tuple], Any] | None = None) -> Iterator[tuple[int, Any]]:
    from distributed import as_completed as dask_completed

    futures = []
    try:
        futures = client.map(fn or _task, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for future in dask_completed(futures, loop=client.loop):
            yield index[future.key], future.result()
    finally:
        if futures:
            client.cancel(futures)
        client.close()


def _result(p: Plan, results: list[dict[str, Any] | None], total: int, complete: bool) -> SweepResult:
    sweep = p.sweep
    nominal = None
    if results[0] is not None:
        nominal = Point(dict(p.nominal), classify(sweep, results[0]), results[0])
    points = [Point(values, classify(sweep, m), m) for values, m in zip(p.rows, results[1:]) if m is not None]
    ranking = _morris_ranking(p, results[1:]) if p.method == "morris" and complete else None
    return SweepResult(
        sweep=sweep.id, scenario=sweep.scenario, method=p.method, axes=list(p.axes), points=points,
        nominal=nominal, breakpoint=breakpoint_of(p.axes, nominal, points),
        verdict=verdict_of(([nominal] if nominal else []) + points) if complete else None,
        params=dict(p.base), output=output_metric(sweep) if p.method == "morris" or sweep.output else None,
        conditions={"fails_safely": [q.describe() for q in sweep.fails_safely],
                    "fails_catastrophically": [q.describe() for q in sweep.fails_catastrophically]},
        ranking=ranking, total=total, complete=complete, code_version=code_version())


def distance(axes: Sequence[Axis], values: Mapping[str, float], nominal: Mapping[str, float]) -> float:
    """Distance between two points with every axis measured in widths of its range."""
    return math.sqrt(sum(((values[a.name] - nominal[a.name]) / a.width) ** 2 for a in axes))


def breakpoint_of(axes: Sequence[Axis], nominal: Point | None, points: Sequence[Point]) -> Point | None:
    """The point nearest `nominal` whose class differs from it (first in order on a tie), or None."""
    if nominal is None:
        return None
    best: tuple[float, Point] | None = None
    for point in points:
        if point.cls != nominal.cls:
            d = distance(axes, point.values, nominal.values)
            if best is None or d < best[0]:
                best = (d, point)
    if best is None:
        return None
    return Point(best[1].values, best[1].cls, best[1].metrics, plain(best[0]))


def verdict_of(points: Sequence[Point]) -> str:
    """fails_catastrophically if any point is catastrophic, else fails_safely if any fails, else robust."""
    classes = {p.cls for p in points}
    for worst in ("fails_catastrophically", "fails_safely"):
        if worst in classes:
            return worst
    return "robust"


def _morris_ranking(p: Plan, results: Sequence[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Assumptions by Morris mu* (mean absolute elementary effect), largest first."""
    from SALib.analyze import morris as morris_analyze

    out = output_metric(p.sweep)
    y = np.array([np.nan if r is None or r.get(out) is None else float(r[out]) for r in results])
    analysis = morris_analyze.analyze(_problem(p.axes), p.sample, y, num_levels=MORRIS_LEVELS, seed=SEED)
    rows = [{"name": a.name, "parameter": a.parameter, "mu_star": plain(float(analysis["mu_star"][i])),
             "sigma": plain(float(analysis["sigma"][i])), "mu": plain(float(analysis["mu"][i])),
             "mu_star_conf": plain(float(analysis["mu_star_conf"][i]))} for i, a in enumerate(p.axes)]
    return sorted(rows, key=lambda r: -(r["mu_star"] if r["mu_star"] is not None else -math.inf))


# ---- in words ------------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _values(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())


def report(result: SweepResult) -> str:
    """A readable account of a sweep: what was varied, the verdict, the breakpoint and a text map."""
    lines = [f"Sweep {result.sweep} on scenario {result.scenario}"]
    for axis in result.axes:
        lines.append(f"  {axis.label()}: nominal {_fmt(axis.nominal)}, range [{_fmt(axis.range[0])}, {_fmt(axis.range[1])}]")
    for which in ("fails_catastrophically", "fails_safely"):
        conds = result.conditions.get(which) or ["(never)"]
        lines.append(f"  {CLASSES[which]} when: {' and '.join(conds)}")
    if result.nominal is not None:
        lines.append(f"  nominal point ({_values(result.nominal.values)}): {CLASSES[result.nominal.cls]}")
    counts = result.counts()
    lines.append(f"  {len(result.points)} points: " + ", ".join(f"{counts[c]} {CLASSES[c]}" for c in CLASSES))
    if not result.complete:
        lines.append(f"  stopped after {result.done} of {result.total} points: no verdict")
    else:
        lines.append(f"  verdict: {VERDICTS[result.verdict]}")
    bp = result.breakpoint
    if bp is not None:
        lines.append(f"  breakpoint nearest the nominal values: {_values(bp.values)} ({CLASSES[bp.cls]}), "
                     f"{_fmt(bp.distance)} range widths away")
    elif result.nominal is not None:
        lines.append(f"  no breakpoint: every point is {CLASSES[result.nominal.cls]}, like the nominal point")
    if result.method == "morris":
        lines += _ranking_table(result)
    elif result.complete:
        lines += _text_map(result)
    return "\n".join(lines)


def _ranking_table(result: SweepResult) -> list[str]:
    if not result.ranking:
        return []
    lines = [f"  Morris screening of {result.output} ({len(result.points)} points):",
             f"    {'rank':<5}{'assumption (parameter)':<40}{'mu*':>10}{'sigma':>10}"]
    for i, r in enumerate(result.ranking, 1):
        lines.append(f"    {i:<5}{r['name'] + ' (' + r['parameter'] + ')':<40}{_fmt(r['mu_star']):>10}{_fmt(r['sigma']):>10}")
    return lines


def _text_map(result: SweepResult) -> list[str]:
    """One letter per grid point; the breakpoint in brackets. Rows: second assumption, high at the top."""
    legend = ", ".join(f"{LETTERS[c]} {CLASSES[c]}" for c in CLASSES)
    classes = {tuple(p.values[a.name] for a in result.axes): p.cls for p in result.points}
    bp = tuple(result.breakpoint.values[a.name] for a in result.axes) if result.breakpoint else None
    x = result.axes[0]
    ys = result.axes[1].values[::-1] if len(result.axes) == 2 else (None,)
    width = max(len(_fmt(v)) for v in ys) if ys[0] is not None else 0
    lines = [f"  map ({legend}; [ ] the breakpoint):"]
    if len(result.axes) == 2:
        lines.append(f"    {result.axes[1].label()} (rows) against {x.label()} (columns)")
    for y in ys:
        cells = []
        for v in x.values:
            key = (v,) if y is None else (v, y)
            letter = LETTERS[classes[key]] if key in classes else "?"
            cells.append(f"[{letter}]" if key == bp else f" {letter} ")
        label = "" if y is None else _fmt(y).rjust(width) + " |"
        lines.append(f"    {label}{''.join(cells)}")
    lines.append(f"    {x.label()}: {', '.join(_fmt(v) for v in x.values)}")
    return lines
