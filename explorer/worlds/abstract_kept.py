"""The abstract world rebuilt from kept random draws: a world slider recomputes only what it touches.

The essay's own knobs (misbehaviour cost, deception overhead, checks, memory, deceptive efficiency, the
bit offsets) each change a few columns of one kind of program. A whole build draws every program's five
random numbers again and works out all eight columns of every program: some 90 ms at 1e6 programs, for a
slider that changes, say, the average compute of the 20% that are deceptive.

So for each (seed, n_programs, back end) a process keeps (in explorer.shared.KEPT, bounded by
EXPLORER_SHARED_MB):

- the programs' uniforms, and per kind its rows and its uniforms gathered;
- each column of the last few tables built, labelled by what it depends on, kind by kind (DEPENDS:
  e.g. the deceptive rows of `avg_compute` depend on the overhead, the goof-off rows on the
  misbehaviour cost, the lookup rows on neither);
- per kind, the last few results of its costly steps (capacity and efficiency, the prefix-sum solve).

A build then takes each column whose label it has, as it is (tables are read-only), and makes each other
column from the kept one that shares the most kinds with it: a copy, with the rows of the kinds that
differ worked out again, by the same formulas the whole build uses (so the table is the same, bit for
bit). When a change reaches most programs' solve (the task sets, efficiency_min, the kind mix) the whole
table is built again, still from the kept draws.

Only the prefix-sum build (no caveat on: AbstractWorld.task_by_task is False) and back ends that assign
through an index array (numpy, torch, cupy) go this way; the others always build whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from explorer.backend import Backend
from explorer.table import COLUMNS, KINDS, itemsize
from explorer.worlds.abstract_tasks import MergedTasks, goof_off_slack, solve_by_prefix

HONEST, GOOF_OFF, DECEPTIVE, LOOKUP = range(len(KINDS))

TASKS = ("n_tasks", "difficulty_distribution", "difficulty_min", "difficulty_max", "heldout_shift", "deploy_shift")
CAPACITY = ("difficulty_min", "difficulty_max", "capacity_max")
#: What the prefix-sum solve of an honest or goof-off program reads (a deceptive one reads OVERHEAD too).
SOLVE = (*TASKS, *CAPACITY, "efficiency_min")
OVERHEAD = ("deception_overhead", "memory", "deception_check_strength")
DECEPTIVE_SOLVE = (*SOLVE, "deceptive_efficiency", *OVERHEAD)
BITS = ("base_bits", "efficiency_bits", "bits_spread")
SLACK = (*SOLVE, "misbehaviour_cost")

#: Per column, per kind (in KINDS order): the world parameters its values depend on, besides the seed, the
#: number of programs and the kind mix (which every entry depends on). Tests change every parameter and
#: compare with a whole build, so a name missing here fails them.
DEPENDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "kind": ((), (), (), ()),
    "bits": (BITS, (*BITS, "goof_off_bits_offset"), (*BITS, "deception_bits_offset"),
             ("lookup_bits_per_task", "bits_spread", "n_tasks")),
    "avg_compute": (SOLVE, SLACK, DECEPTIVE_SOLVE, ("lookup_compute",)),
    "max_compute": (CAPACITY, CAPACITY, CAPACITY, ("lookup_compute",)),
    "train_perf": (SOLVE, SOLVE, DECEPTIVE_SOLVE, ("n_tasks",)),
    "heldout_perf": (SOLVE, SOLVE, DECEPTIVE_SOLVE, ()),
    "deploy_perf": (SOLVE, SOLVE, (), ()),
    "misbehaviour_compute": ((), SLACK, (*CAPACITY, *OVERHEAD), ()),
}

#: Tables' columns kept per column, and results kept per costly step and kind.
VERSIONS = 3
STEPS = 2
#: A bound on the bytes kept per program: 40 of uniforms, 192 of VERSIONS columns (mostly the same arrays
#: as the shared tables'), and per program of a kind, for each of STEPS settings, 48 of its rows and
#: uniforms, 16 of capacity and efficiency, 40 of the solve and 8 of slack. explorer.shared.KEPT counts
#: it, so a size past EXPLORER_SHARED_MB is never kept.
BYTES_PER_PROGRAM = 480
#: Build whole when the kinds whose solve must be redone hold more than this share of the programs.
WHOLE_SHARE = 0.5


class Setting:
    """A world's parameter values read once for one build (param's getters cost microseconds each, and a
    build asks for them hundreds of times), with the kind mix's edges."""

    def __init__(self, world):
        self.world = world
        self.values = world.param.values()
        self.partition = tuple(float(e) for e in np.cumsum(world.kind_shares())[:-1])

    def of(self, names) -> tuple:
        return tuple(self.values[p] for p in names)


def kept_draws(world, be: Backend) -> KeptDraws | None:
    """The kept draws of this world's seed and size on `be` (drawn now if need be), or None where they are
    not kept: a back end that cannot patch, or a size whose bound is past the shared memory's."""
    from explorer import shared

    if not patches(be) or BYTES_PER_PROGRAM * world.n_programs > shared.KEPT.max_bytes:
        return None
    return shared.KEPT.get_or_compute((world.seed, world.n_programs, be.name),
                                      lambda: KeptDraws(be, be.asarray(world.uniforms())))


def patches(be: Backend) -> bool:
    """Whether this back end can write rows through an index array (the Array API standard cannot)."""
    return be.name in ("numpy", "torch:cpu", "torch:cuda", "cupy")


class KeptDraws:
    """One (seed, n_programs, back end)'s uniforms and what was built from them; see the module docstring."""

    def __init__(self, be: Backend, uniforms):
        self.be = be
        self.u = uniforms  # (len(UNIFORMS), n) on the back end
        self.n = int(uniforms.shape[1])
        self.nbytes_bound = BYTES_PER_PROGRAM * self.n
        self._columns: dict[str, OrderedDict] = {c: OrderedDict() for c in COLUMNS}
        self._steps: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.last: dict[str, Any] = {}  # what the last build did (the benchmark and the tests read it)

    def held_bytes(self) -> int:
        """Bytes of the arrays held now (at most nbytes_bound, which the tests check)."""
        def size(value) -> int:
            if isinstance(value, (tuple, list)):
                return sum(size(v) for v in value)
            if isinstance(value, dict):
                return sum(size(v) for v in value.values())
            shape = getattr(value, "shape", None)
            return 0 if shape is None else int(np.prod(shape)) * itemsize(value.dtype)

        with self._lock:
            arrays = [self.u, *(a for kept in self._columns.values() for a in kept.values()),
                      *(v if k[0] != "tasks" else () for k, v in self._steps.items())]
        return sum(size(a) for a in arrays)

    # ---- labels -----------------------------------------------------------------------------------

    @staticmethod
    def label(s: Setting, column: str) -> tuple:
        """What column's values depend on, kind by kind (DEPENDS), after the kind mix's edges."""
        return s.partition, tuple(s.of(names) for names in DEPENDS[column])

    def kind_labels(self, s: Setting) -> tuple:
        """ProgramTable.kind_labels for a table built here: its origin, and each column's labels by kind."""
        origin = (s.values["seed"], self.n, self.be.name, s.partition)
        return origin, {column: self.label(s, column)[1] for column in COLUMNS}

    def plan(self, s: Setting) -> dict[str, tuple] | None:
        """Per column: (label, base label or None when kept as it is, kinds to work out again, the kept
        array: held here, as another thread's build may drop it from the kept ones); None when the table
        is better built whole."""
        plan, resolve = {}, set()
        with self._lock:
            for column in COLUMNS:
                want = self.label(s, column)
                kept = self._columns[column]
                if want in kept:
                    plan[column] = (want, None, (), kept[want])
                    continue
                bases = [have for have in kept if have[0] == want[0]]
                if not bases:
                    return None
                base = max(bases, key=lambda have: sum(a == b for a, b in zip(have[1], want[1])))
                kinds = tuple(k for k in range(len(KINDS)) if base[1][k] != want[1][k])
                plan[column] = (want, base, kinds, kept[base])
                resolve.update(k for k in kinds if k != LOOKUP and column not in ("kind", "bits", "max_compute"))
        share = sum(float(s.world.kind_shares()[k]) for k in resolve if not self._has_solve(s, k))
        return None if share > WHOLE_SHARE else plan

    # ---- kept columns ---------------------------------------------------------------------------

    def keep(self, s: Setting, columns: dict) -> None:
        """Remember a table's columns under their labels (the newest first to go last)."""
        with self._lock:
            for column, array in columns.items():
                kept = self._columns[column]
                kept[self.label(s, column)] = array
                kept.move_to_end(self.label(s, column))
                while len(kept) > VERSIONS:
                    kept.popitem(last=False)

    def build(self, s: Setting, plan: dict[str, tuple]) -> dict:
        """The table's columns by `plan`: kept ones as they are, the others patched kind by kind."""
        xp = self.be.xp
        out, patched = {}, {}
        for column, (want, base, kinds, have) in plan.items():
            if base is None:
                out[column] = have
                continue
            array = xp.asarray(have, copy=True)
            for k in kinds:
                rows = self.rows(s, k)[0]
                array[rows] = self.part(s, column, k)
            out[column] = array
            patched[column] = [KINDS[k] for k in kinds]
        self.last = {"how": "patched", "columns": patched}
        return out

    # ---- kinds and their steps ------------------------------------------------------------------

    def _step(self, key: tuple, compute):
        with self._lock:
            if key in self._steps:
                self._steps.move_to_end(key)
                return self._steps[key]
        value = compute()
        with self._lock:
            self._steps[key] = value
            same = [k for k in self._steps if k[:2] == key[:2]]
            for old in same[:-STEPS]:
                del self._steps[old]
        return value

    def rows(self, s: Setting, k: int):
        """(rows of kind k, their uniforms) under the world's kind mix."""
        def gather():
            xp = self.be.xp
            edges = s.partition
            u0 = self.u[0, ...]
            inside = u0 >= edges[k - 1] if k > 0 else xp.ones_like(u0, dtype=xp.bool)
            if k < len(edges):
                inside = inside & (u0 < edges[k])
            rows = xp.nonzero(inside)[0]
            return rows, xp.take(self.u, rows, axis=1)

        return self._step(("rows", k, s.partition), gather)

    def _has_solve(self, s: Setting, k: int) -> bool:
        key = ("solve", k, s.partition, s.of(DECEPTIVE_SOLVE if k == DECEPTIVE else SOLVE))
        with self._lock:
            return key in self._steps

    def capacity_efficiency(self, s: Setting, k: int):
        """Kind k's capacities and efficiencies. The capacities are read from a kept max_compute column where
        one has them: torch's vectorised pow can differ by a unit in the last place from its scalar pow on a
        vector's tail, so computing them on the kind's rows alone would not always give the whole build's bits."""
        def compute():
            u = self.rows(s, k)[1]
            factor = s.world.deceptive_efficiency if k == DECEPTIVE else 1.0
            return self._capacities(s, k, u), s.world.efficiencies(u[2, ...], factor)

        names = (*CAPACITY, "efficiency_min", "deceptive_efficiency") if k == DECEPTIVE else (*CAPACITY, "efficiency_min")
        return self._step(("ce", k, s.partition, s.of(names)), compute)

    def _capacities(self, s: Setting, k: int, u):
        want = self.label(s, "max_compute")
        with self._lock:
            have = [a for label, a in self._columns["max_compute"].items()
                    if label[0] == want[0] and label[1][k] == want[1][k]]
        if have:
            return self.be.xp.take(have[-1], self.rows(s, k)[0])
        return s.world.capacities(u[1, ...])

    def solve(self, s: Setting, k: int, tasks) -> tuple:
        """The prefix-sum solve of kind k's programs (see explorer.worlds.abstract_tasks.solve_by_prefix)."""
        def compute():
            c, e = self.capacity_efficiency(s, k)
            o = self._const(s.world.overhead if k == DECEPTIVE else 0.0)
            return solve_by_prefix(self.be.xp, tasks, c, e, o, float(s.world.n_tasks))

        names = DECEPTIVE_SOLVE if k == DECEPTIVE else SOLVE
        return self._step(("solve", k, s.partition, s.of(names)), compute)

    def _const(self, value: float):
        device = {"device": self.be.device} if self.be.device is not None else {}
        return self.be.xp.asarray(value, dtype=self.be.xp.float64, **device)

    def part(self, s: Setting, column: str, k: int):
        """Column `column` for kind k's rows (an array of them, or a 0-d fill), by the whole build's formulas."""
        xp, u = self.be.xp, self.rows(s, k)[1]
        T, zero = float(s.world.n_tasks), self._const(0.0)
        if column == "kind":
            return self.be.asarray(np.int64(k))
        if k == LOOKUP:
            memorised = s.world.memorised(u[4, ...])
            return {
                "bits": s.world.lookup_bits(memorised, s.world.bits_spread * u[3, ...]),
                "avg_compute": self._const(s.world.lookup_compute),
                "max_compute": self._const(s.world.lookup_compute),
                "train_perf": memorised / T,
            }.get(column, zero)
        if column == "bits":
            offset = {GOOF_OFF: s.world.goof_off_bits_offset, DECEPTIVE: s.world.deception_bits_offset}.get(k, 0.0)
            return s.world.description_bits(u[2, ...], s.world.bits_spread * u[3, ...], self._const(offset), zero)
        c, e = self.capacity_efficiency(s, k)
        if column == "max_compute":
            return c
        if column == "misbehaviour_compute" and k == HONEST:
            return zero
        if column == "misbehaviour_compute" and k == DECEPTIVE:
            return xp.minimum(self._const(s.world.overhead), c)
        if column == "deploy_perf" and k == DECEPTIVE:
            return zero
        tasks = self._tasks(s)
        at, count, kf, solved_compute, total = self.solve(s, k, tasks)
        if column == "train_perf":
            return kf / T
        if column in ("heldout_perf", "deploy_perf"):
            counts = tasks.counts[1 if column == "heldout_perf" else 2]
            return xp.astype(xp.take(counts, at), xp.float64) / T
        if k != GOOF_OFF:  # avg_compute: a goof-off's slack is exactly 0 for the others (abstract._build_chunk)
            return total / T
        m = self._const(s.world.misbehaviour_cost)
        slack = self._step(("slack", k, s.partition, s.of(SLACK)),
                           lambda: goof_off_slack(xp, tasks, c, e, m, count, kf, solved_compute))
        return (total + slack) / T if column == "avg_compute" else slack / T

    def _tasks(self, s: Setting):
        return self._step(("tasks", 0, (s.values["seed"], s.of(TASKS))),
                          lambda: MergedTasks.of(self.be, s.world.tasks()))
