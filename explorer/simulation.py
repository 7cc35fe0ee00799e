"""A world and its prior settings addressed by flat parameter names, recomputing only what changed.

The CLI, scenarios, stories and apps all speak of parameters by one flat name (`misbehaviour_cost`,
`w_avg`, `performance_threshold`). A Simulation routes each name to the world or to the prior
settings, rebuilds the table only when a world parameter changes, refilters the candidates only when
the looks-good filter changes, and otherwise just re-selects (a weight change costs milliseconds).
"""

from __future__ import annotations

from typing import Any

import param

from explorer.backend import get_backend
from explorer.errors import ExplorerError
from explorer.params import set_values, values_of
from explorer.priors import Candidates, PriorResult, PriorSettings
from explorer.table import ProgramTable
from explorer.worlds.abstract import AbstractWorld

WORLD_PARAMS = tuple(n for n in AbstractWorld.param if n != "name")
PRIOR_PARAMS = tuple(n for n in PriorSettings.param if n != "name")
FILTER_PARAMS = ("performance_threshold", "generalization_check", "compute_budget")


def parameter(name: str) -> param.Parameter:
    """The core parameter (bounds, type, doc) behind a flat name."""
    if name in WORLD_PARAMS:
        return AbstractWorld.param[name]
    if name in PRIOR_PARAMS:
        return PriorSettings.param[name]
    raise ExplorerError(f"unknown parameter {name!r}; known parameters: {', '.join(sorted(WORLD_PARAMS + PRIOR_PARAMS))}")


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Route flat names to (world, priors); an unknown name raises ExplorerError listing the known ones."""
    world, priors = {}, {}
    for name, value in params.items():
        if name in WORLD_PARAMS:
            world[name] = value
        elif name in PRIOR_PARAMS:
            priors[name] = value
        else:
            known = ", ".join(sorted(WORLD_PARAMS + PRIOR_PARAMS))
            raise ExplorerError(f"unknown parameter {name!r}; known parameters: {known}")
    return world, priors


class Simulation:
    """World + prior settings; `select()` gives each prior's PriorResult."""

    def __init__(self, **params):
        self.world = AbstractWorld()
        self.priors = PriorSettings()
        self._table: tuple[tuple, ProgramTable] | None = None
        self._candidates: tuple[tuple, Candidates] | None = None
        self.update(**params)

    def update(self, **params) -> None:
        """Set parameters by flat name; all are checked before any is applied."""
        world, priors = split_params(params)
        trial_world, trial_priors = AbstractWorld(**values_of(self.world)), PriorSettings(**values_of(self.priors))
        set_values(trial_world, world)
        set_values(trial_priors, priors)
        trial_world.check()
        if "backend" in world:
            get_backend(trial_world.backend)  # a back end this machine lacks is refused here, not at build time
        set_values(self.world, world)
        set_values(self.priors, priors)

    def params(self) -> dict[str, Any]:
        """Every parameter's current value, by flat name."""
        return {**values_of(self.world), **values_of(self.priors)}

    def table(self) -> ProgramTable:
        key = _key(values_of(self.world))
        if self._table is None or self._table[0] != key:
            self._table = (key, self.world.table())
            self._candidates = None
        return self._table[1]

    def candidates(self) -> Candidates:
        table = self.table()
        key = tuple(getattr(self.priors, n) for n in FILTER_PARAMS)
        if self._candidates is None or self._candidates[0] != key:
            threshold, check, budget = key
            self._candidates = (key, Candidates(table, threshold, check, budget))
        return self._candidates[1]

    def select(self) -> dict[str, PriorResult]:
        """What each of the four priors selects under the current parameters."""
        return self.candidates().select(self.priors.weights())


def _key(values: dict[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in values.items()))
