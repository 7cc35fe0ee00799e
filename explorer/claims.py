"""The claims matrix: every scenario's claim, in every world it is checked in, with how robust it is.

A scenario's checks pass or fail at one seed and one preset; a researcher needs to know whether they
would pass at another seed, or with the preset nudged, and how far each parameter can move before the
answer changes. For every (scenario, world case) (explorer.scenarios.Scenario.cases) this module runs
the case's checks over

- seeds: seed i sets the world's `seed` parameter to the case's own seed + i, where the world has one
  (the abstract and neural worlds). The enumerated world has none: it is deterministic, so its runs
  differ only by their perturbations;
- perturbations: for each seed, run 0 is the unperturbed preset and runs 1..PERTURBED_PER_SEED multiply
  every numeric parameter of the case's params by its own factor 1 + u, u ~ U(-perturb, +perturb)
  (a parameter at 0 is shifted by u times the width of its regime-map range instead), clipped to its bounds
  and rounded for an integer. A check's override of a perturbed parameter keeps its ratio to the preset
  value (a zero baseline stays zero), so "doubling the cost lowers the mass" still doubles.

Runs with identical parameters run once: `runs` counts distinct runs, and `holds` is the share of them
in which every check holds.

Breakpoints: for each numeric parameter of the case's params, the verdict (all checks hold) at the
unperturbed preset and seed is compared with GRID values spanning the parameter's whole allowed range
(its bounds; see `search_range` for the sizes of a world; log spaced where explorer.regimes spaces the
parameter so); the sampled value nearest the
preset's whose verdict differs is found by explorer.stories.sensitivity.breakpoint_of (distance in range
widths, of log10 values on a log axis), then refined by BISECT_STEPS bisections towards the preset. A
breakpoint is that flipped value, or None when no sampled value flips the verdict. A flip narrower than
the grid spacing can be missed.

The neural world trains networks for every new seed and every new size (seconds to minutes each, then
disk-cached), so it runs at most NEURAL_SEEDS seeds and searches its breakpoints on NEURAL_GRID values
with NEURAL_BISECT_STEPS bisections; each cell says so in its notes.

Tasks (one per run, one per breakpoint search) run here, in local processes or on a Dask cluster, with
the sweep runners of explorer.stories.sensitivity; each thread keeps one Simulation per world and
reuses it, so a run that changes only prior settings does not rebuild the table. `should_stop()` is
asked after every finished task; a True cancels the rest and returns the cells as far as they got,
with complete=False.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import param

from explorer.checks import Predicate, code_version, evaluate, flat_metrics, frozen, new_simulation, plain
from explorer.errors import ExplorerError
from explorer.priors import PriorSettings
from explorer.regimes import DEFAULT_RANGES, axis_values, default_range, numeric_params
from explorer.scenarios import WorldCase, all_scenarios
from explorer.simulation import parameter, world_param_names
from explorer.stories import sensitivity
from explorer.stories.sensitivity import Axis, Point, breakpoint_of
from explorer.worlds import WORLDS, get_world

#: The recorded full matrix (`python -m explorer claims --seeds 20 --json > assets/claims/matrix.json`).
RECORDED = Path(__file__).resolve().parent.parent / "assets" / "claims" / "matrix.json"

#: Perturbed runs per seed, besides the unperturbed run 0.
PERTURBED_PER_SEED = 2
#: Values sampled over a parameter's range in a breakpoint search, and bisection steps after it.
GRID = 9
BISECT_STEPS = 6
#: The neural world's caps: seeds, breakpoint grid values and bisections (each new value trains networks).
NEURAL_SEEDS = 3
NEURAL_GRID = 5
NEURAL_BISECT_STEPS = 3
#: Parameters that size a world (a breakpoint search spans the regime maps' range of them, not their bounds).
SIZES = ("n_programs", "n_tasks", "max_length", "n_train", "n_test", "step_limit", "bits", "steps")
#: Narrower still: parity of more bits trains for minutes per network on one CPU thread.
SEARCH_RANGES = {"bits": (2, 12)}
#: The order worlds' tasks start in: the slowest first.
COST_ORDER = {"neural": -2, "enumerated": -1}
#: How a world decides a claim (as scenario files say it).
DECIDED_BY = ("construction", "measurement")

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


# ---- results ------------------------------------------------------------------------------------

@dataclass
class ClaimCell:
    """One scenario's claim in one world: the share of runs whose checks all hold, and its breakpoints."""

    scenario: str
    world: str
    title: str
    holds: float | None
    runs: int
    by: str
    reason: str
    breakpoints: dict[str, float | None]
    params: dict[str, Any]
    stated: bool = True
    failing: list[str] = field(default_factory=list)
    seeds: int = 0
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    #: Seconds its tasks took, added up over the workers (trainings and measurements included).
    task_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "world": self.world, "holds": self.holds, "runs": self.runs,
                "by": self.by, "breakpoints": dict(self.breakpoints), "title": self.title, "reason": self.reason,
                "params": _jsonable(self.params), "failing": list(self.failing), "stated": self.stated,
                "seeds": self.seeds, "notes": list(self.notes), "complete": self.complete, "task_s": self.task_s}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClaimCell:
        return cls(scenario=d["scenario"], world=d["world"], title=d.get("title", ""), holds=d.get("holds"),
                   runs=int(d.get("runs", 0)), by=d.get("by", "measurement"), reason=d.get("reason", ""),
                   breakpoints=dict(d.get("breakpoints") or {}), params=dict(d.get("params") or {}),
                   stated=bool(d.get("stated", True)), failing=list(d.get("failing") or []),
                   seeds=int(d.get("seeds", 0)), notes=list(d.get("notes") or []),
                   complete=bool(d.get("complete", True)), task_s=float(d.get("task_s", 0.0)))


@dataclass
class ClaimsMatrix:
    """Every cell, with the settings they were computed under; `to_dict()` is the JSON form."""

    cells: list[ClaimCell]
    seeds: int
    perturb: float
    complete: bool
    elapsed_s: float
    code_version: str

    def cell(self, scenario: str, world: str | None = None) -> ClaimCell | None:
        """The cell of `scenario` in `world` (default: the first cell of that scenario, its own world)."""
        return next((c for c in self.cells if c.scenario == scenario and (world is None or c.world == world)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"claims": [c.to_dict() for c in self.cells], "seeds": self.seeds, "perturb": self.perturb,
                "complete": self.complete, "elapsed_s": self.elapsed_s, "code_version": self.code_version,
                "perturbed_per_seed": PERTURBED_PER_SEED, "grid": GRID, "bisect_steps": BISECT_STEPS,
                "neural_seeds": NEURAL_SEEDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClaimsMatrix:
        if not isinstance(d, Mapping) or not isinstance(d.get("claims"), list):
            raise ExplorerError("a claims matrix is a mapping with a 'claims' list")
        return cls(cells=[ClaimCell.from_dict(c) for c in d["claims"]], seeds=int(d.get("seeds", 0)),
                   perturb=float(d.get("perturb", 0.0)), complete=bool(d.get("complete", True)),
                   elapsed_s=float(d.get("elapsed_s", 0.0)), code_version=str(d.get("code_version", "")))


def load_recorded(path: Path | None = None) -> ClaimsMatrix | None:
    """The recorded matrix (RECORDED), or None when there is none."""
    path = path or RECORDED
    if not path.is_file():
        return None
    try:
        return ClaimsMatrix.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ExplorerError(f"{path}: not a claims matrix ({exc})") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return plain(value)


# ---- planning -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """One run of a case: the parameters (seed and perturbations applied) and the checks (overrides scaled)."""

    params: dict[str, Any]
    checks: tuple[Predicate, ...]
    seed: int
    perturbed: bool

    def key(self) -> Any:
        return frozen({"params": self.params, "checks": [(p.params, p.other_params) for p in self.checks]})


def perturbable(case: WorldCase) -> list[str]:
    """The case's own numeric parameters (not the seed, not machine settings): what runs perturb and
    breakpoints search."""
    names = set(numeric_params(case.world)) - {"seed"} - set(get_world(case.world).machine_params)
    return [n for n, v in case.params.items() if n in names and _is_number(v)]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def seeds_for(world: str, seeds: int) -> int:
    """Seeds actually run in `world` (the neural world is capped at NEURAL_SEEDS)."""
    return min(seeds, NEURAL_SEEDS) if world == "neural" else seeds


def has_seed(world: str) -> bool:
    return "seed" in world_param_names(world)


def _fit(name: str, world: str, value: float) -> float | int:
    """`value` clipped to `name`'s bounds (an excluded bound stays out of reach), rounded for an integer."""
    p = parameter(name, world)
    lo, hi = p.bounds or (None, None)
    lo_in, hi_in = getattr(p, "inclusive_bounds", (True, True))
    integer = isinstance(p, param.Integer)
    if integer:
        value = round(value)
    if lo is not None and (value < lo or (value == lo and not lo_in)):
        value = lo if lo_in else (lo + 1 if integer else math.nextafter(lo, math.inf))
    if hi is not None and (value > hi or (value == hi and not hi_in)):
        value = hi if hi_in else (hi - 1 if integer else math.nextafter(hi, -math.inf))
    return int(value) if integer else float(value)


def _width(name: str, world: str, params: Mapping[str, Any]) -> float:
    lo, hi = default_range(name, dict(params), world)
    return float(hi - lo)


def moved(case: WorldCase, values: Mapping[str, float], checks: Sequence[Predicate] | None = None
          ) -> tuple[dict[str, Any], tuple[Predicate, ...]]:
    """The case's params with `values` set, and its checks with every override of a moved parameter
    keeping its ratio to the case's own value (shifted by the same amount where that value is 0)."""
    params = {**case.params, **values}

    def scale(overrides: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(overrides)
        for name, own in case.params.items():
            if name in values and name in out and _is_number(out[name]):
                new = values[name]
                target = out[name] * (new / own) if own else out[name] + (new - own)
                out[name] = _fit(name, case.world, target)
        return out

    scaled = tuple(replace(p, params=scale(p.params), other_params=scale(p.other_params))
                   for p in (case.checks if checks is None else checks))
    return params, scaled


def perturbed_values(case: WorldCase, fraction: float, rng: np.random.Generator) -> dict[str, float | int]:
    """Every perturbable parameter times its own 1 + U(-fraction, fraction) (a 0 shifted by that times
    its range width), clipped and rounded (see the module docstring)."""
    out = {}
    for name in perturbable(case):
        own = case.params[name]
        u = float(rng.uniform(-fraction, fraction))
        value = own * (1 + u) if own else own + u * _width(name, case.world, case.params)
        out[name] = _fit(name, case.world, value)
    return out


def plan_runs(scenario: str, case: WorldCase, seeds: int, perturb: float) -> list[Run]:
    """The distinct runs of one case (see the module docstring), in seed order."""
    runs: list[Run] = []
    seen: set = set()
    names = perturbable(case)
    own_seed = int(case.params.get("seed", get_world(case.world).param["seed"].default)) if has_seed(case.world) else 0
    for i in range(seeds_for(case.world, seeds)):
        seed_params = {"seed": _fit("seed", case.world, own_seed + i)} if has_seed(case.world) else {}
        for k in range(1 + (PERTURBED_PER_SEED if names and perturb > 0 else 0)):
            rng = np.random.default_rng([i, k, zlib.crc32(f"{scenario}:{case.world}".encode())])
            values = perturbed_values(case, perturb, rng) if k else {}
            params, checks = moved(case, values)
            run = Run({**params, **seed_params}, checks, own_seed + i, bool(k))
            if run.key() not in seen:
                seen.add(run.key())
                runs.append(run)
    return runs


def search_range(name: str, case: WorldCase) -> tuple[float, float, str]:
    """(low, high, spacing) a breakpoint search spans, widened to hold the case's own value: the
    parameter's bounds, its whole allowed range; the regime maps' default range (explorer.regimes) for a
    parameter without bounds and for one that sizes the world (SIZES, where the bounds reach runs of
    minutes); SEARCH_RANGES where a world needs less still; a log axis starts where the regime maps' does."""
    p = parameter(name, case.world)
    if name in SEARCH_RANGES:
        lo, hi = SEARCH_RANGES[name]
    elif name in SIZES or not p.bounds or None in p.bounds:
        lo, hi = default_range(name, dict(case.params), case.world)
    else:
        lo, hi = p.bounds
    spacing = DEFAULT_RANGES.get(name, (0, 0, "linear"))[2]
    if spacing == "log":
        lo = max(float(lo), DEFAULT_RANGES[name][0])
    own = float(case.params[name])
    lo, hi = min(float(lo), own), max(float(hi), own)
    if spacing == "log" and not lo > 0:
        spacing = "linear"
    return lo, hi, spacing


# ---- running one task (here, in a worker process, or on a Dask worker) ---------------------------

_local = threading.local()
_DEFAULTS: dict[str, dict[str, Any]] = {}


def _defaults(world: str) -> dict[str, Any]:
    """Every parameter of `world` and the priors at its default, machine settings left out: set in full
    on every run, so nothing lingers in a reused Simulation from an earlier run."""
    if world not in _DEFAULTS:
        fixed = set(get_world(world).machine_params)
        _DEFAULTS[world] = {n: c.param[n].default for c in (get_world(world), PriorSettings) for n in c.param
                            if n != "name" and n not in fixed}
    return {k: dict(v) if isinstance(v, dict) else v for k, v in _DEFAULTS[world].items()}


def _metrics(world: str, params: Mapping[str, Any], machine: Mapping[str, Any]) -> dict[str, Any]:
    sims = getattr(_local, "simulations", None)
    if sims is None:
        sims = _local.simulations = {}
    key = (world, frozen(dict(machine)))
    if key not in sims:
        sims[key] = new_simulation(world, dict(machine))
    sim = sims[key]
    sim.update(**{**_defaults(world), **params, **machine})
    return flat_metrics(sim.select())


def check_run(world: str, params: Mapping[str, Any], checks: Sequence[Predicate],
              machine: Mapping[str, Any] | None = None) -> list[bool]:
    """Whether each check holds with `params` (each side under its own overrides), using this thread's
    Simulation of `world`."""
    machine = {k: v for k, v in (machine or {}).items() if k in world_param_names(world)}
    done: dict[Any, dict[str, Any]] = {}

    def side(overrides: Mapping[str, Any]) -> dict[str, Any]:
        full = {**params, **overrides}
        key = frozen(full)
        if key not in done:
            done[key] = _metrics(world, full, machine)
        return done[key]

    # The checks were read against the world's metric names; one a run leaves out (a MAP's fields where
    # nothing looks good) has no value there, so its check does not hold.
    absent = {n: None for p in checks for n in (p.metric, p.other) if n is not None}
    return [evaluate(p, {**absent, **side(p.params)}, {**absent, **side(p.other_params)} if p.other is not None else None)[0]
            for p in checks]


def _task(task: tuple) -> dict[str, Any]:
    kind, *args = task
    start = time.monotonic()
    try:
        out = _run_task(*args) if kind == "run" else _breakpoint_task(*args)
    except ExplorerError as exc:
        out = {"error": str(exc)}
    return {**out, "seconds": time.monotonic() - start}


def _run_task(world: str, params: dict, checks: tuple, machine: dict) -> dict[str, Any]:
    held = check_run(world, params, checks, machine)
    return {"holds": all(held), "failed": [p.describe() for p, ok in zip(checks, held) if not ok]}


def _breakpoint_task(world: str, case: WorldCase, name: str, seed_params: dict, machine: dict,
                     grid: int, steps: int) -> dict[str, Any]:
    return {"value": find_breakpoint(case, name, seed_params, machine, grid, steps)}


def find_breakpoint(case: WorldCase, name: str, seed_params: Mapping[str, Any] | None = None,
                    machine: Mapping[str, Any] | None = None, grid: int = GRID, steps: int = BISECT_STEPS
                    ) -> float | int | None:
    """The value of `name` nearest the case's own where the verdict (every check holds) differs from the
    preset's, or None (see the module docstring)."""
    own = case.params[name]
    lo, hi, spacing = search_range(name, case)
    if not hi > lo:
        return None
    integer = isinstance(parameter(name, case.world), param.Integer)
    log = spacing == "log"
    t = (lambda v: math.log10(v)) if log else float  # noqa: E731

    def verdict(v) -> bool:
        params, checks = moved(case, {name: v})
        return all(check_run(case.world, {**params, **(seed_params or {})}, checks, machine))

    nominal = verdict(own)
    sampled = {}
    for v in axis_values(name, lo, hi, grid, spacing, case.world).tolist():
        v = _fit(name, case.world, v)
        if v != own and v not in sampled:
            sampled[v] = verdict(v)
    axis = Axis(name, name, t(own), (t(lo), t(hi)), integer=integer)
    cls = {True: "holds", False: "fails"}
    points = [Point({name: t(v)}, cls[h]) for v, h in sampled.items()]
    found = breakpoint_of([axis], Point({name: t(own)}, cls[nominal]), points)
    if found is None:
        return None
    flipped = next(v for v in sampled if t(v) == found.values[name])
    between = [v for v in sampled if min(own, flipped) < v < max(own, flipped)]
    near = min(between, key=lambda v: abs(v - flipped)) if between else own
    for _ in range(steps):
        if integer and abs(flipped - near) <= 1:
            break
        mid = math.sqrt(near * flipped) if log else (near + flipped) / 2
        mid = _fit(name, case.world, mid)
        if mid in (near, flipped):
            break
        if verdict(mid) == nominal:
            near = mid
        else:
            flipped = mid
    return plain(flipped)


# ---- the matrix ---------------------------------------------------------------------------------

def select_cases(worlds: Iterable[str] | None = None, scenarios: Iterable[str] | None = None
                 ) -> list[tuple[str, str, Any, WorldCase]]:
    """(scenario id, world, scenario, case) for every case asked for, scenarios in their order."""
    known = all_scenarios()
    worlds = list(worlds) if worlds else None
    wanted = list(scenarios) if scenarios else None
    for w in worlds or ():
        if w not in WORLDS:
            raise ExplorerError(f"world: unknown world {w!r}; worlds: {', '.join(WORLDS)}")
    for s in wanted or ():
        if s not in known:
            raise ExplorerError(f"scenario: unknown scenario {s!r}; scenarios: {', '.join(known)}")
    out = []
    for sid, s in known.items():
        if wanted is not None and sid not in wanted:
            continue
        for w in s.worlds:
            if worlds is None or w in worlds:
                out.append((sid, w, s, s.case(w)))
    return out


def check_settings(seeds: Any, perturb: Any, workers: Any = None) -> None:
    """One message naming the setting that is wrong."""
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise ExplorerError(f"seeds: {seeds!r} is not valid; expected an integer >= 1")
    if isinstance(perturb, bool) or not isinstance(perturb, (int, float)) or not 0 <= perturb < 1:
        raise ExplorerError(f"perturb: {perturb!r} is not valid; expected a fraction from 0 up to (not including) 1")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ExplorerError(f"workers: {workers!r} is not valid; expected an integer >= 1")


def run_claims(worlds: Iterable[str] | None = None, scenarios: Iterable[str] | None = None, seeds: int = 5,
               perturb: float = 0.1, workers: int | None = None, scheduler: str | None = None,
               progress: ProgressFn | None = None, should_stop: StopFn | None = None, breakpoints: bool = True,
               settings: Mapping[str, Any] | None = None) -> ClaimsMatrix:
    """The claims matrix (see the module docstring).

    `worlds`, `scenarios`: restrict the cells (default: all). `workers`: local processes (default
    os.cpu_count(); 1 runs here); `scheduler`: a Dask scheduler address, which takes precedence.
    `settings`: machine settings put on every run of a world that has them (n_programs=5000 for a quick
    matrix). `progress(done, total)` after every task; `should_stop()` too (True: a partial matrix).
    """
    check_settings(seeds, perturb, workers)
    start = time.monotonic()
    settings = dict(settings or {})
    cases = select_cases(worlds, scenarios)
    tasks: list[tuple] = []
    owner: list[tuple[int, str, Any]] = []  # per task: (cell index, "run" or "breakpoint", run or name)
    plans = []
    for ci, (sid, world, s, case) in enumerate(cases):
        machine = {k: v for k, v in settings.items() if k in world_param_names(world)}
        runs = plan_runs(sid, case, seeds, perturb)
        plans.append(runs)
        for run in runs:
            tasks.append(("run", world, run.params, run.checks, machine))
            owner.append((ci, "run", run))
        if breakpoints:
            seed_params = {"seed": runs[0].params["seed"]} if has_seed(world) else {}
            grid, steps = (NEURAL_GRID, NEURAL_BISECT_STEPS) if world == "neural" else (GRID, BISECT_STEPS)
            for name in perturbable(case):
                tasks.append(("breakpoint", world, case, name, seed_params, machine, grid, steps))
                owner.append((ci, "breakpoint", name))
    # The slowest first (trainings, then measurements; searches before single runs), so that no long task
    # starts last while the other workers sit idle.
    order = sorted(range(len(tasks)), key=lambda i: (COST_ORDER.get(tasks[i][1], 0), tasks[i][0] != "breakpoint"))
    ran: list[dict[str, Any] | None] = [None] * len(tasks)
    done = _run_tasks([tasks[i] for i in order], ran, workers, scheduler, progress, should_stop)
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    for at, i in enumerate(order):
        results[i] = ran[at]
    cells = [_cell(sid, world, s, case, plans[ci], [(o, r) for o, r in zip(owner, results) if o[0] == ci],
                   seeds, perturb, breakpoints)
             for ci, (sid, world, s, case) in enumerate(cases)]
    return ClaimsMatrix(cells=cells, seeds=seeds, perturb=float(perturb), complete=done == len(tasks),
                        elapsed_s=round(time.monotonic() - start, 2), code_version=code_version())


def _run_tasks(tasks: list[tuple], results: list, workers: int | None, scheduler: str | None,
               progress: ProgressFn | None, should_stop: StopFn | None) -> int:
    """Run `tasks` into `results` with the sweeps' runners; the number finished."""
    total = len(tasks)
    stopped = bool(should_stop and should_stop())
    if progress:
        progress(0, total)
    if stopped or not total:
        return 0
    n = min(workers or os.cpu_count() or 1, total)
    if scheduler:
        runner = sensitivity._on_dask(tasks, scheduler, _task)
    elif n > 1:
        runner = sensitivity._in_processes(tasks, n, _task)
    else:
        runner = sensitivity._here(tasks, _task)
    done = 0
    try:
        while not stopped:
            try:
                i, result = next(runner)
            except StopIteration:
                break
            except BaseException:  # a Ctrl-C reaches the worker processes too, which then fail their tasks
                if should_stop and should_stop():
                    break
                raise
            results[i] = result
            done += 1
            if progress:
                progress(done, total)
            stopped = bool(should_stop and should_stop()) and done < total
    finally:
        runner.close()
    return done


def _cell(sid: str, world: str, s, case: WorldCase, runs: list[Run], finished: list[tuple[tuple, Any]],
          seeds: int, perturb: float, breakpoints: bool) -> ClaimCell:
    held, failing, errors, complete, seconds = [], [], [], True, 0.0
    found: dict[str, float | None] = {}
    for (_, what, item), result in finished:
        if result is None:
            complete = False
            continue
        seconds += result.get("seconds", 0.0)
        if "error" in result:
            errors.append(result["error"])
            continue
        if what == "run":
            held.append(result["holds"])
            failing += [d for d in result["failed"] if d not in failing]
        else:
            found[item] = result["value"]
    notes = []
    if not has_seed(world):
        notes.append(f"the {world} world is deterministic: its runs differ only by their perturbed parameters, "
                     "and identical ones run once")
    elif seeds_for(world, seeds) < seeds:
        notes.append(f"seeds capped at {seeds_for(world, seeds)} of {seeds}: every seed trains the networks anew; "
                     f"breakpoints from {NEURAL_GRID} values and {NEURAL_BISECT_STEPS} bisections")
    if not perturbable(case):
        notes.append("no numeric parameter of its own to perturb or search")
    if errors:
        notes.append(f"{len(errors)} task(s) could not run: {errors[0]}")
    if not complete:
        notes.append("stopped before every run and breakpoint search finished; the ones not run are left out")
    return ClaimCell(scenario=sid, world=world, title=s.title, holds=plain(sum(held) / len(held)) if held else None,
                     runs=len(held), by=case.by, reason=case.reason,
                     breakpoints={n: found[n] for n in perturbable(case) if n in found},
                     params=dict(case.params), stated=case.stated, failing=failing,
                     seeds=seeds_for(world, seeds), notes=notes, complete=complete, task_s=round(seconds, 1))
