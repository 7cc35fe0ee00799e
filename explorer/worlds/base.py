"""World: what every world is to the rest of the explorer, a set of parameters that builds a ProgramTable.

Priors, scenarios, story evidence, regime maps and views see a world only through this interface, so a
new world plugs in by subclassing World and adding itself to explorer.worlds.WORLDS:

- its parameters are param Parameters (bounds, docs, defaults), set by flat name through a Simulation;
- `check()` raises ExplorerError for what bounds alone cannot say (n_test must exceed n_train, ...);
- `table(progress, should_stop)` builds the table; a long build calls `progress(done, total)` now and then
  and stops with BuildStopped once `should_stop()` says so;
- `measured` is True where the table comes from running programs (expensive: a Simulation keeps such
  tables in the disk cache, explorer.table_cache); `machine_params` name the parameters that say how
  much or where to compute, which a preset leaves as the user set them; `result_free_params` name those
  that do not change the table's numbers (the back end), which the disk cache leaves out of its key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import param

from explorer.errors import ExplorerError
from explorer.params import set_values
from explorer.table import ProgramTable

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


class BuildStopped(ExplorerError):
    """A table build ended early because its `should_stop()` said so; nothing was kept."""


class World(param.Parameterized):
    """A world: parameters in, ProgramTable out."""

    measured: ClassVar[bool] = False
    machine_params: ClassVar[tuple[str, ...]] = ()
    result_free_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params):
        super().__init__()
        set_values(self, self.in_order(params))

    @classmethod
    def in_order(cls, params: dict) -> dict:
        """`params` in declaration order (unknown names last), so that a parameter whose change resets
        another (the neural proposal resets its penalties) is set before the one it resets."""
        order = {n: i for i, n in enumerate(cls.param)}
        return dict(sorted(params.items(), key=lambda kv: order.get(kv[0], len(order))))

    def check(self) -> None:
        """Cross-parameter checks that bounds alone cannot express; raises ExplorerError."""

    def table(self, progress: Progress | None = None, should_stop: ShouldStop | None = None) -> ProgramTable:
        raise NotImplementedError(f"{type(self).__name__}.table")
