"""The abstract world's task sets, sorted for counting, and the prefix-sum solve over them.

A program of capacity c, efficiency e and per-task overhead o solves exactly the training tasks with
difficulty d <= (c - o) e, so with the difficulties sorted, how many it solves is a count and what it
spends on them a prefix sum. The whole build (explorer.worlds.abstract) and the build by kind
(explorer.worlds.abstract_kept) both work through these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.backend import Backend


def solve_by_prefix(xp, sets: MergedTasks, c, e, o, T: float):
    """(at, k, k as float, compute on the solved tasks, total compute) from the sorted training difficulties'
    prefix sums: a program solves the k tasks with d <= x = (c - o) e, spends S[k] / e on them, o planning
    on each, and its whole capacity c on each of the others. `at` is x's place among all three task sets."""
    x = (c - o) * e  # the hardest task the program can still solve
    # One count over the three task sets merged, then a count per set: cheaper than three.
    at = sets.merged.count(xp, x)
    k = xp.take(sets.counts[0], at)
    kf = xp.astype(k, xp.float64)
    solved_compute = xp.take(sets.prefix_sums, k) / e
    return at, k, kf, solved_compute, solved_compute + kf * o + (T - kf) * c


def goof_off_slack(xp, sets: MergedTasks, c, e, m, k, kf, solved_compute):
    """Total misbehaviour over the training tasks: tasks with d <= (c - m) e get the full m extra, the
    other solved ones c - d/e (exactly 0 where m = 0)."""
    j = xp.minimum(sets.train.count(xp, (c - m) * e), k)
    jf = xp.astype(j, xp.float64)
    return jf * m + (kf - jf) * c - (solved_compute - xp.take(sets.prefix_sums, j) / e)


@dataclass(frozen=True)
class Tasks:
    """Sorted task difficulties (host arrays)."""

    train: np.ndarray
    heldout: np.ndarray
    deploy: np.ndarray

    def __iter__(self):
        return iter((self.train, self.heldout, self.deploy))


@dataclass(frozen=True)
class SortedCounter:
    """Counts #{v <= x} over sorted values for many x: a lookup grid, or a binary search.

    A binary search over a few dozen task difficulties costs more than the rest of the build here (its
    branches mispredict). The grid splits [v_0, v_last] into bins with at most a few values each:
    bin(x) = floor(clip((x - v_0) * scale, 0, bins - 1)) is monotone in x, so every value in a lower
    bin is <= x, every value in a higher bin is > x, and only the values in x's own bin (stored in
    `slots`, padded with +inf) need a comparison. Host and device compute bin() with the same float
    operations, so the count is exact. Values too crowded for a grid fall back to the binary search.
    """

    values: object
    grid: tuple | None  # (v_0, scale, bins - 1, count of values below each bin, slots)

    MAX_PER_BIN = 4
    MAX_BINS = 1 << 14

    @classmethod
    def of(cls, be: Backend, values: np.ndarray) -> SortedCounter:
        return cls(be.asarray(values), cls._grid(be, values))

    @classmethod
    def _grid(cls, be: Backend, values: np.ndarray):
        lo, hi = float(values[0]), float(values[-1])
        if not hi - lo > 1e-9 * max(abs(lo), abs(hi)):  # all equal, or so close that scale overflows
            return None
        best = None
        for bins in [f * values.size for f in (4, 16, 64, 256) if f * values.size <= cls.MAX_BINS] or [cls.MAX_BINS]:
            scale = float(bins) / (hi - lo)
            binned = np.floor(np.clip((values - lo) * scale, 0.0, bins - 1.0)).astype(np.int64)
            per_bin = np.bincount(binned, minlength=bins)
            if best is None or per_bin.max() < best[2].max():
                best = (bins, scale, per_bin, binned)
            if per_bin.max() == 1:
                break
        bins, scale, per_bin, binned = best
        if per_bin.max() > cls.MAX_PER_BIN:
            return None
        below = np.concatenate([[0], np.cumsum(per_bin)[:-1]])
        slots = np.full((int(per_bin.max()), bins), np.inf)
        slots[np.arange(values.size) - below[binned], binned] = values
        return lo, scale, float(bins - 1), be.asarray(below), tuple(be.asarray(s) for s in slots)

    def count(self, xp, x):
        """#{v <= x} for each x (the same as searchsorted(values, x, side="right"))."""
        if self.grid is None:
            return xp.searchsorted(self.values, x, side="right")
        lo, scale, top, below, slots = self.grid
        b = xp.astype(xp.floor(xp.clip((x - lo) * scale, 0.0, top)), xp.int64)
        k = xp.take(below, b)
        for s in slots:
            k = k + xp.astype(x >= xp.take(s, b), xp.int64)
        return k


@dataclass(frozen=True)
class MergedTasks:
    """The task sets ready for counting: training difficulties with their prefix sums, and the three
    sets merged, with counts[s][i] = how many of set s are among the i smallest merged values."""

    train: SortedCounter
    prefix_sums: object
    merged: SortedCounter
    counts: tuple

    @classmethod
    def of(cls, be: Backend, tasks: Tasks) -> MergedTasks:
        values = np.concatenate(list(tasks))
        order = np.argsort(values, kind="stable")
        which = np.repeat(np.arange(3), [len(t) for t in tasks])[order]
        counts = tuple(be.asarray(np.concatenate([[0], np.cumsum(which == s)])) for s in range(3))
        prefix_sums = be.asarray(np.concatenate([[0.0], np.cumsum(tasks.train)]))
        return cls(SortedCounter.of(be, tasks.train), prefix_sums, SortedCounter.of(be, values[order]), counts)
