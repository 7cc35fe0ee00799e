"""What every view of a simulation watches: its results, a version number, and the last error.

Views depend on `version` (bumped after each successful recompute) and read the Simulation and its
results; they never recompute by themselves. A change the core rejects leaves the results and the
version alone and puts the reason in `message`, so the page keeps its last good state.

One update path: every view redraws from the same `results` inside one `pn.io.hold()`, so the browser
gets the table, bars, picks, scatter and story panel of one computed result in one message, never a
mix of old and new.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.priors import PriorResult
from explorer.simulation import Simulation


class SimulationState(param.Parameterized):
    """A core Simulation with observable results."""

    version = param.Integer(0, doc="Bumped after every successful recompute; views depend on it.")
    message = param.String("", doc="Why the last change was not applied (empty when it was).")
    max_programs = param.Integer(
        None, allow_None=True, bounds=(10, None),
        doc="Most programs this state will compute (served apps set it, so one link cannot exhaust a shared "
            "server's memory); none means no limit.")

    def __init__(self, simulation: Simulation | None = None, max_programs: int | None = None, **params):
        super().__init__(max_programs=max_programs)
        self.simulation = simulation or Simulation(**params)
        self.results: dict[str, PriorResult] = self.simulation.select()

    def settings(self) -> dict[str, Any]:
        """The parameters the current results were computed with (story evidence records them)."""
        return self.simulation.params()

    def apply(self, **params: Any) -> bool:
        """Set parameters by flat name and recompute; on a user error keep the last good state."""
        before, updated = self.simulation.params(), False
        try:
            n = params.get("n_programs")
            if self.max_programs is not None and isinstance(n, int) and n > self.max_programs:
                raise ExplorerError(f"n_programs: {n:,} is more than this server computes (at most "
                                    f"{self.max_programs:,}); use the command line for larger spaces")
            self.simulation.update(**params)  # atomic: a rejected update changes nothing
            updated = True
            results = self.simulation.select()
        except ExplorerError as exc:
            if updated:  # accepted but could not be computed: back to the values that last worked
                self.simulation.update(**before)
            self.message = str(exc)
            return False
        with pn.io.hold():  # every watcher's changes reach the browser together
            self.results = results
            self.message = ""
            self.version += 1
        return True
