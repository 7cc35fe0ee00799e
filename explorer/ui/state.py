"""What every view of a simulation watches: its results, a version number, and the last error.

Views depend on `version` (bumped after each successful recompute) and read the Simulation and its
results; they never recompute by themselves. A change the core rejects leaves the results and the
version alone and puts the reason in `message`, so the page keeps its last good state.

One update path: every view redraws from the same `results` inside one `pn.io.hold()`, so the browser
gets the table, bars, picks, scatter and story panel of one computed result in one message, never a
mix of old and new.

The same state serves every world. A measured world's table takes seconds to minutes, so its page
builds it on a worker thread, `built(progress, should_stop, **params)`, and hands the result to
`apply(simulation=...)` on the page thread; until then such a state may hold no results (`select=False`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.priors import PriorResult
from explorer.scenarios import looked_once
from explorer.simulation import Simulation
from explorer.worlds.base import Progress, ShouldStop


class SimulationState(param.Parameterized):
    """A core Simulation (of any world) with observable results."""

    version = param.Integer(0, doc="Bumped after every successful recompute; views depend on it.")
    message = param.String("", doc="Why the last change was not applied (empty when it was).")
    max_programs = param.Integer(
        None, allow_None=True, bounds=(10, None),
        doc="Most programs this state will compute in a world that has n_programs (served apps set it, so one "
            "link cannot exhaust a shared server's memory); none means no limit. The measured worlds' pages "
            "cap their own sizes (the programs page's longest length, the neural page's Limits).")

    def __init__(self, simulation: Simulation | None = None, max_programs: int | None = None, select: bool = True,
                 **params):
        """`simulation`, or a new one from `params` (`world=...` included); `select=False` leaves the
        results empty until the first `apply` (a measured world's page builds its table in the background)."""
        super().__init__(max_programs=max_programs)
        self.simulation = simulation or Simulation(**params)
        self.results: dict[str, PriorResult] = self.simulation.select() if select else {}

    @property
    def world_name(self) -> str:
        return self.simulation.world_name

    def settings(self) -> dict[str, Any]:
        """The parameters the current results were computed with (story evidence records them)."""
        return self.simulation.params()

    def _check_size(self, params: dict[str, Any]) -> None:
        n = params.get("n_programs")
        if self.max_programs is not None and isinstance(n, int) and n > self.max_programs:
            raise ExplorerError(f"n_programs: {n:,} is more than this server computes (at most "
                                f"{self.max_programs:,}); use the command line for larger spaces")

    def built(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
              on_wait: Callable[[int], None] | None = None, **params) -> Simulation:
        """A copy of this state's simulation with `params` applied and its table built, for a worker thread;
        give it to `apply(simulation=...)` on the page thread. Raises ExplorerError (BuildStopped when
        `should_stop()` ended the build); the state itself does not change here. A measured build may wait
        in the server's job pool first: `on_wait(n)` hears its place in line (explorer.jobs)."""
        self._check_size(params)
        sim = Simulation(self.simulation.world_name, **{**self.simulation.params(), **params})
        sim.table(progress, should_stop, on_wait)
        return sim

    def apply(self, simulation: Simulation | None = None, **params: Any) -> bool:
        """Set parameters by flat name and recompute; on a user error keep the last good state.

        With `simulation` (from `built`, of the same world), take it, its table and parameters, instead."""
        with looked_once():  # one update asks for presets many times (story, link, marks): read the folders once
            if simulation is not None:
                if simulation.world_name != self.world_name:
                    raise ValueError(f"a {simulation.world_name} simulation given to a state of the {self.world_name} world")
                return self._publish(simulation, simulation.select)
            return self._apply(params)

    def _apply(self, params: dict[str, Any]) -> bool:
        before, updated = self.simulation.params(), False
        try:
            self._check_size(params)
            self.simulation.update(**params)  # atomic: a rejected update changes nothing
            updated = True
            results = self.simulation.select()
        except ExplorerError as exc:
            if updated:  # accepted but could not be computed: back to the values that last worked
                self.simulation.update(**before)
            self.message = str(exc)
            return False
        return self._publish(self.simulation, lambda: results)

    def _publish(self, simulation: Simulation, select) -> bool:
        try:
            results = select()
        except ExplorerError as exc:
            self.message = str(exc)
            return False
        with pn.io.hold():  # every watcher's changes reach the browser together
            self.simulation = simulation
            self.results = results
            self.message = ""
            self.version += 1
        return True

    def clear(self) -> None:
        """No results (a measured page while it builds a new table): views and the story panel show none."""
        with pn.io.hold():
            self.results = {}
            self.version += 1
