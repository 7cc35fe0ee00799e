"""A world and its prior settings addressed by flat parameter names, recomputing only what changed.

The CLI, scenarios, stories and apps all speak of parameters by one flat name (`misbehaviour_cost`,
`max_length`, `w_avg`, `performance_threshold`). A Simulation of any world (explorer.worlds.WORLDS)
routes each name to the world or to the prior settings, rebuilds the table only when a world parameter
changes, refilters the candidates only when the looks-good filter changes, and otherwise just
re-selects (a weight change costs milliseconds).

A measured world's table (World.measured) is read from the disk cache when it is there and written to
it when built (explorer.table_cache). An app builds it with progress and Stop on a worker thread,
`table(progress, should_stop)`, after which `select()` is cheap; the neural app, which trains with a
live curve of its own, hands its finished table over with `adopt_table`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import param

from explorer import jobs, shared, table_cache
from explorer.backend import get_backend
from explorer.errors import ExplorerError
from explorer.params import set_values, values_of
from explorer.priors import Candidates, PriorResult, PriorSettings
from explorer.table import ProgramTable
from explorer.worlds import World, get_world
from explorer.worlds.base import Progress, ShouldStop

PRIOR_PARAMS = tuple(n for n in PriorSettings.param if n != "name")
FILTER_PARAMS = ("performance_threshold", "generalization_check", "compute_budget")


def world_param_names(world: str = "abstract") -> tuple[str, ...]:
    """The flat names of a world's own parameters, in their declaration order."""
    return tuple(n for n in get_world(world).param if n != "name")


#: The abstract world's parameters (the names most links, stories and sweeps use).
WORLD_PARAMS = world_param_names("abstract")


def _known(world: str) -> str:
    return ", ".join(sorted(world_param_names(world) + PRIOR_PARAMS))


def parameter(name: str, world: str = "abstract") -> param.Parameter:
    """The core parameter (bounds, type, doc) behind a flat name in `world`."""
    if name in world_param_names(world):
        return get_world(world).param[name]
    if name in PRIOR_PARAMS:
        return PriorSettings.param[name]
    raise ExplorerError(f"unknown parameter {name!r} for the {world} world; known parameters: {_known(world)}")


def split_params(params: dict[str, Any], world: str = "abstract") -> tuple[dict[str, Any], dict[str, Any]]:
    """Route flat names to (world, priors); an unknown name raises ExplorerError listing that world's names."""
    names = world_param_names(world)
    world_values, priors = {}, {}
    for name, value in params.items():
        if name in names:
            world_values[name] = value
        elif name in PRIOR_PARAMS:
            priors[name] = value
        else:
            raise ExplorerError(f"unknown parameter {name!r} for the {world} world; known parameters: {_known(world)}")
    return get_world(world).in_order(world_values), priors


class Simulation:
    """A World + prior settings; `select()` gives each prior's PriorResult."""

    def __init__(self, world: str = "abstract", **params):
        self.world_name = world
        self.world: World = get_world(world)()
        self.priors = PriorSettings()
        self._table: tuple[tuple, ProgramTable] | None = None
        self._candidates: tuple[tuple, Candidates] | None = None
        self._last_candidates: Candidates | None = None  # what a rebuilt table's candidates may reuse
        self.update(**params)

    def update(self, **params) -> None:
        """Set parameters by flat name; all are checked before any is applied."""
        world, priors = split_params(params, self.world_name)
        cls = type(self.world)
        set_values(PriorSettings(**values_of(self.priors)), priors)
        if world:  # a trial world only when one changes (making one costs more than a weight's re-selection)
            trial_world = cls(**values_of(self.world))
            set_values(trial_world, world)
            trial_world.check()
            if "backend" in world:
                get_backend(trial_world.backend)  # a back end this machine lacks is refused here, not at build time
            set_values(self.world, cls.in_order(values_of(trial_world)))
        set_values(self.priors, priors)

    def params(self) -> dict[str, Any]:
        """Every parameter's current value, by flat name."""
        return {**values_of(self.world), **values_of(self.priors)}

    def _world_key(self) -> tuple:
        return _key(values_of(self.world))

    def has_table(self) -> bool:
        """True when the table of the current world parameters is built (select() will not build)."""
        return self._table is not None and self._table[0] == self._world_key()

    def table(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
              on_wait: Callable[[int], None] | None = None) -> ProgramTable:
        """The world's table, built only when a world parameter changed (measured worlds: disk-cached).

        Tables are shared read-only by every Simulation of the process (explorer.shared). A measured
        build waits for a slot of the server's job pool (explorer.jobs), hearing its place in line through
        `on_wait(n)`, and shares one build with identical requests; it reports `progress(done, total)`
        and ends with BuildStopped when `should_stop()` says so (JobCancelled while still in line); the
        Simulation then keeps the table it had."""
        if self.has_table():
            return self._table[1]
        key, shared_key = self._world_key(), self._shared_key()
        table = shared.TABLES.get(shared_key)
        if table is None and self.world.measured:
            table = table_cache.load(self.world_name, self.world)
            if table is None:
                table = jobs.pool().run(("table", shared_key), self._measure, should_stop=should_stop,
                                        progress=progress, on_wait=on_wait,
                                        cached=lambda: table_cache.load(self.world_name, self.world))
            table = shared.TABLES.put(shared_key, table)
        elif table is None:
            self.world.check()
            table = shared.TABLES.get_or_compute(shared_key, lambda: self.world.table(progress, should_stop))
        self._table, self._candidates = (key, table), None
        return table

    def _measure(self, progress: Progress | None, should_stop: ShouldStop | None) -> ProgramTable:
        """A measured world's build, on a slot of the job pool; written to the disk cache for other processes."""
        self.world.check()
        table = self.world.table(progress, should_stop)
        table_cache.save(self.world_name, self.world, table)
        return table

    def adopt_table(self, table: ProgramTable) -> None:
        """Use `table` as the current world parameters' table: one the caller built from this very world
        (the neural app trains with a live curve of its own). A measured world's table is also cached."""
        if self.world.measured:
            table_cache.save(self.world_name, self.world, table)
        table = shared.TABLES.put(self._shared_key(), table)
        self._table, self._candidates = (self._world_key(), table), None

    def _shared_key(self) -> tuple[str, str]:
        """The world and every parameter value, as text: the key of the process-wide shared results."""
        return self.world_name, json.dumps(values_of(self.world), sort_keys=True, default=repr)

    def candidates(self) -> Candidates:
        table = self.table()
        key = tuple(getattr(self.priors, n) for n in FILTER_PARAMS)
        if self._candidates is None or self._candidates[0] != key:
            threshold, check, budget = key
            previous = self._last_candidates
            found = shared.CANDIDATES.get_or_compute((self._shared_key(), key),
                                                     lambda: Candidates(table, threshold, check, budget, previous))
            self._candidates, self._last_candidates = (key, found), found
        return self._candidates[1]

    def select(self) -> dict[str, PriorResult]:
        """What each named prior selects under the current parameters."""
        candidates = self.candidates()
        weights = np.asarray(self.priors.weights())
        key = (self._shared_key(), self._candidates[0], weights.shape, weights.tobytes())
        return dict(shared.SELECTIONS.get_or_compute(key, lambda: candidates.select(weights)))


def _key(values: dict[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in values.items()))
