"""What every view of a simulation watches: its results, a version number, and the last error.

Views depend on `version` (bumped after each successful recompute) and read the Simulation and its
results; they never recompute by themselves. A change the core rejects leaves the results and the
version alone and puts the reason in `message`, so the page keeps its last good state.
"""

from __future__ import annotations

from typing import Any

import param

from explorer.errors import ExplorerError
from explorer.priors import PriorResult
from explorer.simulation import Simulation


class SimulationState(param.Parameterized):
    """A core Simulation with observable results."""

    version = param.Integer(0, doc="Bumped after every successful recompute; views depend on it.")
    message = param.String("", doc="Why the last change was not applied (empty when it was).")

    def __init__(self, simulation: Simulation | None = None, **params):
        super().__init__()
        self.simulation = simulation or Simulation(**params)
        self.results: dict[str, PriorResult] = self.simulation.select()

    def apply(self, **params: Any) -> bool:
        """Set parameters by flat name and recompute; on a user error keep the last good state."""
        try:
            self.simulation.update(**params)
            results = self.simulation.select()
        except ExplorerError as exc:
            self.message = str(exc)
            return False
        self.results = results
        self.message = ""
        self.version += 1
        return True
