"""Regime maps: which kind of program a prior favours over a grid of two parameters.

A single selection answers "what wins here?"; a regime map answers "where does the answer change?".
Pick two numeric parameters by their flat names (say w_avg against misbehaviour_cost), a list of values
for each, and one prior. For every cell (x_i, y_j) the map records what that prior's posterior looks
like with the base parameters plus x = x_i, y = y_j: the mass on each kind, the kind of the MAP program,
the mass on programs that are actually good, and the expected deployment performance.

Arrays are indexed [j, i]: row j is y_values[j], column i is x_values[i], as in an image.

Cost. A world parameter change rebuilds the program table (the expensive step), a change of the
looks-good filter refilters it, a weight change only re-selects (a few passes over the candidates). The
loops therefore put the costlier axis outside: with a world parameter against a weight, the table is
built once per world value and the Simulation's cache re-uses it across the whole row of weights.

No randomness of its own: the map is a function of the base parameters (seed included) and the grid.

Any world (explorer.worlds.WORLDS) can be mapped, `world="enumerated"` say: the axes are then that
world's numeric parameters or the priors'. A measured world's table for each world value comes from the
disk cache when it is there (explorer.table_cache); `should_stop` also ends a measurement under way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import param

from explorer.errors import ExplorerError
from explorer.params import allowed
from explorer.priors import PRIORS
from explorer.simulation import FILTER_PARAMS, PRIOR_PARAMS, Simulation, parameter, world_param_names
from explorer.table import KINDS
from explorer.worlds import BuildStopped
from explorer.worlds.abstract import AbstractWorld


def numeric_params(world: str = "abstract") -> tuple[str, ...]:
    """Flat parameter names that can be an axis in `world`: its numeric parameters and the priors'."""
    return tuple(n for n in world_param_names(world) + PRIOR_PARAMS if isinstance(parameter(n, world), param.Number))


#: The abstract world's axes (every numeric world or prior parameter).
NUMERIC_PARAMS = numeric_params("abstract")

#: Penalty weights: spaced logarithmically by default, since their effect is multiplicative.
WEIGHT_PARAMS = ("w_simplicity", "w_max", "w_avg")

#: Default axis ranges where a parameter's bounds are missing or far wider than the interesting part:
#: (low, high, spacing). Other parameters span their bounds linearly.
DEFAULT_RANGES: dict[str, tuple[float, float, str]] = {
    "w_simplicity": (0.01, 10.0, "log"),
    "w_max": (0.01, 10.0, "log"),
    "w_avg": (0.01, 10.0, "log"),
    "n_programs": (1_000, 100_000, "log"),
    "n_tasks": (4, 128, "log"),
    "difficulty_min": (0.1, 5.0, "linear"),  # stays below difficulty_max's range
    "difficulty_max": (6.0, 50.0, "linear"),
    "performance_threshold": (0.5, 1.0, "linear"),
    "base_bits": (0.0, 100.0, "linear"),
    "efficiency_bits": (0.0, 32.0, "linear"),
    "bits_spread": (0.0, 32.0, "linear"),
    "goof_off_bits_offset": (-20.0, 20.0, "linear"),
    "deception_bits_offset": (-20.0, 20.0, "linear"),
    "lookup_bits_per_task": (0.0, 16.0, "linear"),
    "lookup_compute": (0.0, 2.0, "linear"),
    "max_length": (2, 6, "linear"),  # the enumerated world: longer is a batch job (L = 6 takes ~15 s)
}


def cost_rank(name: str, world: str = "abstract") -> int:
    """How much a change of `name` costs a Simulation: 2 rebuilds the table, 1 refilters, 0 re-selects."""
    if name in world_param_names(world):
        return 2
    return 1 if name in FILTER_PARAMS else 0


def check_axis(name: str, world: str = "abstract") -> param.Parameter:
    """The parameter behind an axis name; ExplorerError if it cannot be an axis."""
    names = numeric_params(world)
    if name not in names:
        where = "" if world == "abstract" else f" of the {world} world"
        raise ExplorerError(f"{name!r} cannot be a regime-map axis{where}; numeric parameters are: {', '.join(names)}")
    return parameter(name, world)


def axis_values(name: str, low: float, high: float, n: int, spacing: str | None = None,
                world: str = "abstract") -> np.ndarray:
    """n values from low to high for axis `name`.

    Spacing is "log" or "linear"; by default log for the penalty weights (and the sizes) when low > 0.
    Integer parameters get rounded, distinct values, so there may be fewer than n of them.
    """
    p = check_axis(name, world)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ExplorerError(f"cells per axis: {n!r} is not valid; expected an integer >= 1")
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ExplorerError(f"{name}: the range {low:g} to {high:g} is not valid; expected finite low <= high")
    if spacing is None:
        spacing = DEFAULT_RANGES.get(name, (0, 0, "linear"))[2]
    if spacing not in ("log", "linear"):
        raise ExplorerError(f"spacing: {spacing!r} is not valid; expected log or linear")
    if spacing == "log" and low > 0:
        values = np.geomspace(low, high, n)
    else:
        values = np.linspace(low, high, n)
    if isinstance(p, param.Integer):
        values = np.unique(np.round(values)).astype(np.int64)
    return values


def default_range(name: str, base: dict[str, Any] | None = None, world: str = "abstract") -> tuple[float, float]:
    """The (low, high) a regime map spans for `name` unless told otherwise.

    compute_budget has no upper bound; in the abstract world its default range runs over the base
    world's capacities (the budgets that cut some programs but not all), elsewhere over the base table's
    max compute (which builds that table).
    """
    p = check_axis(name, world)
    if name == "compute_budget":
        if world == "abstract":
            names = world_param_names(world)
            return AbstractWorld(**{k: v for k, v in (base or {}).items() if k in names}).capacity_range()
        sim = Simulation(world, **{k: v for k, v in (base or {}).items() if k in world_param_names(world)})
        table = sim.table()
        top = float(table.backend.to_numpy(table.max_compute).max()) if len(table) else 1.0
        return 0.0, max(top, 1.0)
    if name == "seed":
        return 0.0, 9.0
    if name in DEFAULT_RANGES:
        return DEFAULT_RANGES[name][:2]
    return p.bounds


def default_values(name: str, n: int, base: dict[str, Any] | None = None, world: str = "abstract") -> np.ndarray:
    """n values spanning `name`'s default range (log spaced for the weights), for a view's first map."""
    low, high = default_range(name, base, world)
    return axis_values(name, low, high, n, world=world)


@dataclass
class RegimeMap:
    """What one prior selects on every cell of a two-parameter grid.

    Arrays have shape (len(y_values), len(x_values)). Cells not computed (the run was stopped) hold
    NaN and None. A cell where nothing looks good has zero mass everywhere and no winner.
    """

    x: str
    y: str
    x_values: np.ndarray
    y_values: np.ndarray
    prior: str
    base: dict[str, Any]
    mass: dict[str, np.ndarray]
    map_kind: np.ndarray  # object array of kind names; None where not computed or nothing looks good
    actually_good: np.ndarray
    deploy_perf: np.ndarray
    n_candidates: np.ndarray  # float: NaN where not computed
    done: np.ndarray  # bool: True where the cell was computed
    complete: bool = True
    world: str = "abstract"

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.y_values), len(self.x_values)

    @property
    def winner(self) -> np.ndarray:
        """The kind with the most posterior mass in each cell (what the view colours by default)."""
        return self.winners("mass")

    def winners(self, by: str = "mass") -> np.ndarray:
        """Each cell's winning kind: by "mass" (the kind holding most posterior mass) or "map" (the
        kind of the single most probable program). The two differ where many slightly worse programs
        of one kind outweigh the best program of another. None where not computed or nothing looks good.
        """
        if by == "map":
            return self.map_kind.copy()
        if by != "mass":
            raise ExplorerError(f"winner by {by!r}: expected mass or map")
        stacked = np.stack([self.mass[k] for k in KINDS])
        out = np.full(self.shape, None, dtype=object)
        ok = self.done & (self.n_candidates > 0)
        out[ok] = np.asarray(KINDS, dtype=object)[np.argmax(stacked[:, ok], axis=0)]
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: nested lists [row j][column i], NaN as None."""

        def grid(a):
            return [[_plain(v) for v in row] for row in a.tolist()]

        return {
            "world": self.world,
            "x": self.x,
            "y": self.y,
            "x_values": [_plain(v) for v in self.x_values.tolist()],
            "y_values": [_plain(v) for v in self.y_values.tolist()],
            "prior": self.prior,
            "complete": self.complete,
            "base": self.base,
            "winner": grid(self.winner),
            "map_kind": grid(self.map_kind),
            "mass": {k: grid(v) for k, v in self.mass.items()},
            "actually_good": grid(self.actually_good),
            "deploy_perf": grid(self.deploy_perf),
            "n_candidates": grid(self.n_candidates),
        }


def _plain(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def check_grid(base_params: dict, x: str, x_values, y: str, y_values, prior: str = "combined",
               world: str = "abstract") -> tuple[np.ndarray, np.ndarray]:
    """Validate a regime map's inputs without computing anything; returns the axis values as host
    arrays. Every cell's parameter combination is checked, so cross-parameter rules (difficulty_min
    below difficulty_max) fail here too, before any table is built."""
    if prior not in PRIORS:
        raise ExplorerError(f"prior: {prior!r} is not valid; expected one of: {', '.join(PRIORS)}")
    px, py = check_axis(x, world), check_axis(y, world)
    if x == y:
        raise ExplorerError(f"the two axes must be different parameters; both are {x!r}")
    Simulation(world, **base_params)  # the base itself (a Simulation builds nothing until select())
    xs, ys = _host_values(x, px, x_values), _host_values(y, py, y_values)
    for name, values in ((x, xs), (y, ys)):
        probe = Simulation(world, **base_params)
        for v in values.tolist():
            probe.update(**{name: v})
    names = world_param_names(world)
    if x in names and y in names:  # only world parameters have cross-parameter rules
        probe = Simulation(world, **base_params)
        for vx in xs.tolist():
            for vy in ys.tolist():
                probe.update(**{x: vx, y: vy})
    return xs, ys


def _host_values(name: str, p: param.Parameter, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ExplorerError(f"{name}: axis values must be numbers; expected {allowed(p)}") from None
    if arr.size == 0:
        raise ExplorerError(f"{name}: the axis needs at least one value")
    if not np.all(np.isfinite(arr)):
        raise ExplorerError(f"{name}: axis values must be finite; expected {allowed(p)}")
    if isinstance(p, param.Integer):
        if not np.all(arr == np.round(arr)):
            raise ExplorerError(f"{name}: axis values must be whole numbers; expected {allowed(p)}")
        return arr.astype(np.int64)
    return arr


def regime_map(base_params: dict, x: str, x_values, y: str, y_values, prior: str = "combined",
               progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None, world: str = "abstract") -> RegimeMap:
    """The selection of `prior` on every cell of the grid x_values by y_values over `base_params`.

    `progress(done, total)` is called after each cell; `should_stop()` is asked before each cell, and
    when it returns True the map comes back with the cells done so far and complete=False. Bad axis
    names or values raise ExplorerError before any table is built.
    """
    xs, ys = check_grid(base_params, x, x_values, y, y_values, prior, world)
    sim = Simulation(world, **base_params)
    ny, nx = len(ys), len(xs)
    nan = np.full((ny, nx), np.nan)
    out = RegimeMap(
        x=x, y=y, x_values=xs, y_values=ys, prior=prior, base=sim.params(),
        mass={k: nan.copy() for k in KINDS}, map_kind=np.full((ny, nx), None, dtype=object),
        actually_good=nan.copy(), deploy_perf=nan.copy(), n_candidates=nan.copy(),
        done=np.zeros((ny, nx), dtype=bool), world=world)

    # Costlier axis outside (ties: x outside), so the Simulation's caches see the fewest changes.
    x_outer = cost_rank(x, world) >= cost_rank(y, world)
    outer, inner = ((x, xs), (y, ys)) if x_outer else ((y, ys), (x, xs))
    total, done = nx * ny, 0
    for io, vo in enumerate(outer[1].tolist()):
        for ii, vi in enumerate(inner[1].tolist()):
            if should_stop is not None and should_stop():
                out.complete = False
                return out
            sim.update(**{outer[0]: vo, inner[0]: vi})
            try:
                sim.table(should_stop=should_stop)  # a measured world's build can be stopped midway
            except BuildStopped:
                out.complete = False
                return out
            result = sim.select()[prior]
            i, j = (io, ii) if x_outer else (ii, io)
            for k in KINDS:
                out.mass[k][j, i] = result.mass[k]
            out.map_kind[j, i] = None if result.map is None else result.map["kind"]
            out.actually_good[j, i] = result.actually_good
            out.deploy_perf[j, i] = result.deploy_perf
            out.n_candidates[j, i] = result.n_candidates
            out.done[j, i] = True
            done += 1
            if progress is not None:
                progress(done, total)
    return out
