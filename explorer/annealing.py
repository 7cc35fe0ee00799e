"""Proposal 0, computational annealing: search among cheap programs first, then allow more compute.

Why: an average-case speed prior is hard to impose directly, but a search can approximate it. Let P(C)
be the programs whose average compute is at most C. A search of finite speed draws `search_speed`
programs per step from P(C) (uniformly, or weighted 2^(-w bits) when the search itself prefers short
programs) and stops at the first that looks good, while C rises step by step. If C rises slowly
compared with the search speed, the search has time to find something while P(C) holds only the
cheapest good-looking programs, so it lands near c_min, the least average compute of any good-looking
program; misbehaviour costs compute, so those programs tend to behave. If C rises fast, C overshoots
c_min and the program found is closer to a random good-looking one. This module measures C* (the C at
which a run found its program) and the kind found, over many runs, as the rise rate per sample
(rate / search_speed) changes.

Procedure. Programs are sorted by average compute once, so P(C) is a prefix of that order, of size
n(C), holding k(C) good-looking programs. One step at bound C draws s = search_speed programs from P(C)
with weights w_i (1 for uniform sampling, 2^(-w_simplicity bits_i) for simplicity sampling). With
p = (weight of the good-looking programs in P(C)) / (weight of P(C)), the step finds something with
probability

    q = 1 - (1 - p)^s

and the first good-looking draw is distributed as one weighted draw among the good-looking programs of
P(C). Drawing "found?" and then "which?" this way has exactly the distribution of drawing the s programs
one by one, at a cost that does not grow with s. Simplicity weights are kept as log cumulative sums
(a log-sum-exp prefix scan), so w_simplicity up to 100 on bit spreads of hundreds never underflows.

Schedules, from C_0 (c_start, default the least average compute in the table):

    linear     C_t = C_0 + rate t
    geometric  C_t = C_0 (1 + rate)^t
    backoff    each run rises by r = rate per step until a step finds a good-looking program, then falls
               by r * backoff_fall per step while steps keep finding one; at the first step that finds
               none the round ends and the run rises again with r <- r * backoff_slowdown. After
               backoff_rounds rounds it stops; its result is the program found at the lowest C.

Budget. Steps below c_min can find nothing, so they are skipped (and still counted in a run's steps);
max_steps counts from the first step at which every run can find something. A very slow rise (the
audit's `anneal --ratios 1e-6`) therefore reaches its slow limit instead of running out of steps on the
way up; a rise that could not reach c_min within REACH_LIMIT steps is refused with a message.

Quanta (the essay's jumps in computation). With quantum Q > 0, compute is granted in whole quanta, as
when a large network ponders (each rollout costs Q), against Q = 0, a grant as fine as early exit per
layer: a step at bound C searches P(G), G the last grant phase + Q k not above C. The first grant
that admits c_min admits every good-looking program up to it at once, slower misbehaving ones
included, so the search stops on whichever it draws first. `quanta_sweep` measures the share of runs
whose find misbehaves, per quantum. Where c_min falls between two grants is an accident of sizes, so
unless quantum_phase fixes the grid, each run draws its offset in [0, Q) from its own stream.

Every run advances together, one array operation per step over the runs still searching. Uniforms are
drawn on the host from `seed` (see explorer/backend.py), so every back end gives the same runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import param

from explorer.errors import ExplorerError
from explorer.table import ProgramTable

#: Default sweep of rate / search_speed (compute units C rises per program drawn, linear schedule),
#: half-decades from slow to fast. On the default AbstractWorld with default PriorSettings, uniform
#: sampling, the slow end lands within 0.1 of c_min and finds only honest programs; the fast end
#: overshoots c_min by about 4 in the median, and about half of what it finds misbehaves.
DEFAULT_RATIOS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
#: Default quanta of granted compute for `quanta_sweep`: 0 (continuous, early exit per layer), then coarser.
DEFAULT_QUANTA = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Rise rate / search speed at which `quanta_sweep` compares quanta unless told: slow, so that with
#: continuous grants (default AbstractWorld) every run finds an honest program.
QUANTA_RATIO = 1e-3
#: The kinds that look good but misbehave: what a coarse first grant may let the search find.
MISBEHAVING = ("goof_off", "deceptive")
#: The most steps a schedule may take to rise from C_0 to c_min (step counts stay exact in a float64).
REACH_LIMIT = 2**53
#: The most steps `trace` records (every step is kept in memory).
TRACE_LIMIT = 10_000_000


class AnnealingSettings(param.Parameterized):
    """How C rises, how the search draws programs from P(C), and how many runs to simulate."""

    schedule = param.Selector(
        default="linear", objects=["linear", "geometric", "backoff"],
        doc="How C rises: linear C_0 + rate t, geometric C_0 (1 + rate)^t, or backoff (rise until a find, "
            "fall slowly while finds continue, rise again slower).")
    sampling = param.Selector(
        default="uniform", objects=["uniform", "simplicity"],
        doc="How the search draws from P(C): uniformly, or weighted 2^(-w_simplicity bits) (the search's own bias).")
    search_speed = param.Integer(8, bounds=(1, 100_000), doc="Programs the search draws per step.")
    rate = param.Number(
        0.08, bounds=(0.0, 1e6), inclusive_bounds=(False, True),
        doc="How fast C rises per step, above 0: compute units per step for linear and backoff, a fraction "
            "per step for geometric (C is multiplied by 1 + rate).")
    runs = param.Integer(1000, bounds=(1, 1_000_000), doc="Independent search runs, simulated together.")
    max_steps = param.Integer(
        100_000, bounds=(1, 10_000_000),
        doc="Steps a run may search once C has reached c_min, the least average compute of a good-looking program "
            "(the steps before, where nothing can be found, are skipped and not charged to this budget); a run that "
            "found nothing by then reports kind none.")
    seed = param.Integer(0, bounds=(0, 2**32 - 1), doc="Seed of the searches' random draws; same seed, same runs.")
    c_start = param.Number(
        None, allow_None=True, bounds=(0.0, None),
        doc="C at the first step; none starts at the least average compute in the table.")
    w_simplicity = param.Number(
        1.0, bounds=(0.0, 100.0), doc="With simplicity sampling, each bit of description length halves a program's weight this many times.")
    backoff_fall = param.Number(
        0.1, bounds=(0.0, 1.0), inclusive_bounds=(False, True),
        doc="Backoff: after a find, C falls per step by this fraction of the rise rate that found it.")
    backoff_slowdown = param.Number(
        0.25, bounds=(0.0, 1.0), inclusive_bounds=(False, True),
        doc="Backoff: each new rise goes at this fraction of the previous rise rate.")
    backoff_rounds = param.Integer(3, bounds=(1, 100), doc="Backoff: rise/fall rounds before a run stops.")
    quantum = param.Number(
        0.0, bounds=(0.0, None),
        doc="Compute is granted in whole quanta of this size (pondering with a large network: every rollout costs "
            "a quantum): P(C) holds the programs whose average compute is at most the last grant not above C, "
            "quantum_phase + quantum k. "
            "0 grants compute continuously (early exit per layer).")
    quantum_phase = param.Number(
        None, allow_None=True, bounds=(0.0, None),
        doc="Offset of the quantum grid: grants are quantum_phase + quantum k. None draws each run's offset "
            "uniformly in [0, quantum): where c_min falls between two grants is an accident of the network's "
            "size, so shares are averaged over it.")

    def __init__(self, **params):
        from explorer.params import set_values

        super().__init__()
        set_values(self, params)

    def start(self, smallest: float) -> float:
        """C_0 for a table whose least average compute is `smallest`, checked against the schedule."""
        c0 = smallest if self.c_start is None else float(self.c_start)
        if self.schedule == "geometric" and not c0 > 0:
            where = "c_start" if self.c_start is not None else "the least average compute in the table (c_start none)"
            raise ExplorerError(
                f"c_start: the geometric schedule multiplies C each step, so C_0 must be above 0, but {where} is {c0:g}; "
                "set c_start above 0 or use schedule linear")
        return c0


@dataclass(frozen=True)
class AnnealResult:
    """Per-run outcomes of `anneal` (host arrays), with the ideal answer c_min for comparison."""

    c_star: np.ndarray
    kind: np.ndarray
    index: np.ndarray
    steps: np.ndarray
    kinds: tuple[str, ...]
    c_min: float

    def summary(self) -> dict[str, Any]:
        """Shares of kinds found and quantiles of C* (None where no run found anything), JSON-able."""
        runs = int(self.kind.shape[0])
        found = self.index >= 0
        kind = {name: float(np.mean(self.kind == i)) for i, name in enumerate(self.kinds)}
        kind["none"] = float(np.mean(~found))
        c = self.c_star[found]

        def stat(values, f):
            return float(f(values)) if values.size else None

        return {
            "runs": runs,
            "found": float(np.mean(found)),
            "kind": kind,
            "c_star": {
                "mean": stat(c, np.mean),
                "p10": stat(c, lambda v: np.quantile(v, 0.1)),
                "median": stat(c, np.median),
                "p90": stat(c, lambda v: np.quantile(v, 0.9)),
            },
            "c_min": None if math.isnan(self.c_min) else float(self.c_min),
            "overshoot_median": stat(c - self.c_min, np.median) if not math.isnan(self.c_min) else None,
            "steps_median": float(np.median(self.steps)),
        }


class _Search:
    """P(C) and its good-looking programs for one table, mask and sampling; reused across a sweep."""

    def __init__(self, table: ProgramTable, looks_good, sampling: str, w_simplicity: float):
        be = table.backend
        xp = be.xp
        self.table = table
        self.uniform = sampling == "uniform"
        order = xp.argsort(table.avg_compute, stable=True)
        self.avg = xp.take(table.avg_compute, order)  # all programs, cheapest first
        good = xp.nonzero(xp.take(looks_good, order))[0]
        self.good_row = xp.take(order, good)  # table row of each good-looking program, cheapest first
        self.good_avg = xp.take(self.avg, good)
        self.n = int(self.avg.shape[0])
        self.n_good = int(good.shape[0])
        self.smallest = float(be.to_numpy(self.avg[:1])[0]) if self.n else math.nan
        self.c_min = float(be.to_numpy(self.good_avg[:1])[0]) if self.n_good else math.nan
        if not self.uniform and self.n:
            log_w = xp.take(table.bits, order) * (-w_simplicity * math.log(2.0))
            self.log_all = _log_cumsum_exp(xp, log_w)
            self.log_good = _log_cumsum_exp(xp, xp.take(log_w, good)) if self.n_good else None

    def step(self, c, s: int, u_hit, u_pick):
        """One step of each run at bound c (per run): (found, table row of the program found)."""
        xp = self.table.backend.xp
        n = xp.searchsorted(self.avg, c, side="right")
        k = xp.searchsorted(self.good_avg, c, side="right")
        last_k = xp.maximum(k - 1, xp.zeros_like(k))
        if self.uniform:
            p = xp.astype(k, xp.float64) / xp.astype(xp.maximum(n, xp.ones_like(n)), xp.float64)
            pos = xp.astype(xp.floor(u_pick * xp.astype(k, xp.float64)), k.dtype)
        else:
            log_good = xp.take(self.log_good, last_k)
            log_all = xp.take(self.log_all, xp.maximum(n - 1, xp.zeros_like(n)))
            p = xp.where(k > 0, xp.exp(xp.minimum(log_good - log_all, xp.zeros_like(log_all))), xp.zeros_like(log_all))
            # the first cumulative weight reaching a uniform share (1 - u, in (0, 1]) of the good weight in P(C)
            pos = xp.searchsorted(self.log_good, log_good + xp.log(1.0 - u_pick), side="left")
        # q = 1 - (1 - p)^s, written to keep precision for small p; p = 1 is set apart (log1p(-1) = -inf)
        certain = p >= 1.0
        q = xp.where(certain, xp.ones_like(p), -xp.expm1(s * xp.log1p(-xp.where(certain, xp.zeros_like(p), p))))
        found = (u_hit < q) & (k > 0)
        row = xp.take(self.good_row, xp.minimum(pos, last_k))
        return found, row


def _log_cumsum_exp(xp, x):
    """L_i = log sum_{j <= i} exp(x_j), by a doubling scan: log2(n) passes of logaddexp, never underflowing."""
    shift = 1
    n = x.shape[0]
    while shift < n:
        x = xp.concat([x[:shift], xp.logaddexp(x[shift:], x[:-shift])])
        shift *= 2
    return x


def anneal(table: ProgramTable, looks_good, settings: AnnealingSettings,
           progress: Callable[[int, int], Any] | None = None) -> AnnealResult:
    """Simulate `settings.runs` annealing searches over `table`; `looks_good` is a mask on its back end.

    `progress(step, n_active)` is called once per step when given.
    """
    search = _Search(table, looks_good, settings.sampling, settings.w_simplicity)
    return _anneal(search, settings, progress)


def sweep(table: ProgramTable, looks_good, settings: AnnealingSettings, ratios: Sequence[float] = DEFAULT_RATIOS,
          progress: Callable[[int, int], Any] | None = None) -> list[dict[str, Any]]:
    """One `anneal` per ratio = rate / search_speed (rate = ratio * search_speed), as summary rows.

    `progress(done, total)` is called after each ratio when given.
    """
    ratios = [float(r) for r in ratios]
    if not ratios or any(not (r > 0 and math.isfinite(r)) for r in ratios):
        raise ExplorerError(f"ratios: every ratio must be a positive number, got {ratios}")
    search = _Search(table, looks_good, settings.sampling, settings.w_simplicity)
    values = {k: v for k, v in settings.param.values().items() if k != "name"}
    rows = []
    for i, ratio in enumerate(ratios):
        rate = ratio * settings.search_speed
        point = AnnealingSettings(**{**values, "rate": rate})
        try:
            result = _anneal(search, point, None)
        except ExplorerError as exc:
            raise ExplorerError(f"ratios: ratio {ratio:g} is too slow: {str(exc).removeprefix('rate: ')}") from None
        rows.append({"ratio": ratio, "rate": rate, **result.summary()})
        if progress is not None:
            progress(i + 1, len(ratios))
    return rows


def quanta_sweep(table: ProgramTable, looks_good, settings: AnnealingSettings, quanta: Sequence[float] = DEFAULT_QUANTA,
                 ratios: Sequence[float] = (QUANTA_RATIO,),
                 progress: Callable[[int, int], Any] | None = None) -> list[dict[str, Any]]:
    """One `anneal` per (ratio, quantum): how coarse grants of compute change what the search finds first.

    With quanta, the first grant that admits c_min admits every good-looking program up to that grant at
    once, the slower misbehaving ones included, and a slow search then stops on whichever it draws. Each
    row is a summary (as `sweep` gives) plus `quantum`, `misbehaving` and `honest` (shares of the runs:
    misbehaving counts the kinds in MISBEHAVING) and `slow_limit`: the misbehaving share a search finds
    in the limit of a slow rise, computed from the table (see `slow_limit`), to compare with.
    `progress(done, total)` is called after each row when given.
    """
    quanta = [float(q) for q in quanta]
    if not quanta or any(not (q >= 0 and math.isfinite(q)) for q in quanta):
        raise ExplorerError(f"quanta: every quantum must be a number of at least 0 (0: continuous), got {quanta}")
    ratios = [float(r) for r in ratios]
    if not ratios or any(not (r > 0 and math.isfinite(r)) for r in ratios):
        raise ExplorerError(f"ratios: every ratio must be a positive number, got {ratios}")
    search = _Search(table, looks_good, settings.sampling, settings.w_simplicity)
    values = {k: v for k, v in settings.param.values().items() if k not in ("name", "quantum", "rate")}
    rows, total = [], len(ratios) * len(quanta)
    for ratio in ratios:
        rate = ratio * settings.search_speed
        for q in quanta:
            point = AnnealingSettings(**{**values, "rate": rate, "quantum": q})
            try:
                result = _anneal(search, point, None)
            except ExplorerError as exc:
                raise ExplorerError(f"ratios: ratio {ratio:g} is too slow: {str(exc).removeprefix('rate: ')}") from None
            summary = result.summary()
            rows.append({"ratio": ratio, "rate": rate, "quantum": q,
                         "misbehaving": sum(summary["kind"].get(k, 0.0) for k in MISBEHAVING),
                         "honest": summary["kind"].get("honest", 0.0),
                         "slow_limit": _slow_limit(search, point), **summary})
            if progress is not None:
                progress(len(rows), total)
    return rows


def slow_limit(table: ProgramTable, looks_good, settings: AnnealingSettings) -> float | None:
    """The share of misbehaving finds as the rise gets slow, at settings' quantum, sampling and grid offset.

    A slow enough search stays at the first grant G >= c_min until it finds something, and its find is
    one weighted draw among the good-looking programs in P(G): the misbehaving share is m(G), their
    share of that weight. Without quanta G = c_min; with a fixed grid G = phase + Q ceil((c_min - phase) / Q);
    with an offset drawn per run, G is uniform on [c_min, c_min + Q) and the share is m's mean over it,
    a sum over the steps of m. None when nothing looks good.
    """
    return _slow_limit(_Search(table, looks_good, settings.sampling, settings.w_simplicity), settings)


def _slow_limit(search: _Search, s: AnnealingSettings) -> float | None:
    if not search.n_good:
        return None
    be = search.table.backend
    avg = np.asarray(be.to_numpy(search.good_avg), dtype=np.float64)
    rows = be.to_numpy(search.good_row)
    kind = np.asarray(be.to_numpy(search.table.kind))[rows]
    bad = np.isin(kind, [search.table.kinds.index(k) for k in MISBEHAVING if k in search.table.kinds])
    if search.uniform:
        w = np.ones(avg.shape[0])
    else:
        log_w = np.asarray(be.to_numpy(search.table.bits), dtype=np.float64)[rows] * (-s.w_simplicity * math.log(2.0))
        w = np.exp(log_w - log_w.max())
    bad_w, all_w = np.cumsum(np.where(bad, w, 0.0)), np.cumsum(w)

    def m(g: float) -> float:  # misbehaving weight share among good-looking programs with compute <= g
        i = int(np.searchsorted(avg, g, side="right")) - 1
        return float(bad_w[i] / all_w[i])

    c_min, q = search.c_min, s.quantum
    if not q > 0:
        return m(c_min)
    if s.quantum_phase is not None:
        return m(s.quantum_phase + q * math.ceil((c_min - s.quantum_phase) / q))
    # G uniform on [c_min, c_min + q): m is a step function, constant between the computes in that range
    cuts = np.unique(np.concatenate([[c_min], avg[(avg > c_min) & (avg < c_min + q)], [c_min + q]]))
    return float(sum(m(a) * (b - a) for a, b in zip(cuts[:-1], cuts[1:])) / q)


def _anneal(search: _Search, s: AnnealingSettings, progress) -> AnnealResult:
    table = search.table
    be = table.backend
    xp = be.xp
    runs = s.runs
    c_star = np.full(runs, np.nan)
    index = np.full(runs, -1, dtype=np.int64)
    steps = np.full(runs, s.max_steps, dtype=np.int64)

    def result() -> AnnealResult:
        kind = np.full(runs, -1, dtype=np.int64)
        found = index >= 0
        if found.any():
            kind[found] = be.to_numpy(xp.take(table.kind, be.asarray(index[found])))
        return AnnealResult(c_star, kind, index, steps, tuple(table.kinds), search.c_min)

    if search.n == 0:
        return result()
    c0 = s.start(search.smallest)
    if search.n_good == 0:  # nothing looks good: every run would search until max_steps in vain
        return result()

    def shared_c(t: int) -> float:
        """C_t of the first rise, common to every run (and the whole schedule for linear and geometric)."""
        return _rise(s, c0, t)

    # Before the compute granted reaches c_min no step can find anything, so every run skips those steps
    # together. The step budget starts once every run can find something, so a slow rise still gets
    # max_steps steps of real search.
    phase = _phases(s, runs)

    def reach(pick):
        def granted_at(t: int) -> float:
            return float(pick(_grant(s, shared_c(t), phase)))
        t = _first_step_reaching(granted_at, search.c_min, REACH_LIMIT)
        if granted_at(t) < search.c_min:
            raise ExplorerError(
                f"rate: at rate {s.rate:g} ({s.schedule} schedule) C would not reach {search.c_min:g}, the least "
                f"average compute of a good-looking program, from C_0 = {c0:g} within {REACH_LIMIT:.3g} steps; "
                "raise the rate (in a sweep, the ratio)")
        return t

    t = reach(np.max)
    limit = reach(np.min) + s.max_steps
    steps[:] = limit
    live = np.arange(runs)  # run ids still searching (host)
    rng = np.random.default_rng(s.seed)
    if s.schedule == "backoff":
        state = {
            "c": be.asarray(np.full(runs, shared_c(t))),
            "rise": be.asarray(np.full(runs, float(s.rate))),
            "rounds": be.asarray(np.zeros(runs, dtype=np.int64)),
            "best_c": be.asarray(np.full(runs, np.inf)),
            "best_row": be.asarray(np.full(runs, -1, dtype=np.int64)),
            "falling": be.asarray(np.zeros(runs, dtype=bool)),
        }
        if phase is not None:
            state["phase"] = be.asarray(phase)

    while t < limit and live.size:
        if progress is not None:
            progress(t, int(live.size))
        u = rng.random((2, live.size))
        u_hit, u_pick = be.asarray(u[0]), be.asarray(u[1])
        if s.schedule != "backoff":
            c_t = np.full(live.size, shared_c(t)) if phase is None else _grant(s, shared_c(t), phase[live])
            found, row = search.step(be.asarray(c_t), s.search_speed, u_hit, u_pick)
            done = be.to_numpy(found)
            if done.any():
                c_star[live[done]] = c_t[done]
                index[live[done]] = be.to_numpy(row)[done]
        else:
            done = _backoff_step(search, s, state, u_hit, u_pick)
            if done.any():
                c_star[live[done]] = be.to_numpy(state["best_c"])[done]
                index[live[done]] = be.to_numpy(state["best_row"])[done]
        steps[live[done]] = t + 1
        t += 1
        if done.any():
            keep = np.nonzero(~done)[0]
            live = live[keep]
            if s.schedule == "backoff":
                keep_d = be.asarray(keep)
                state = {k: xp.take(v, keep_d) for k, v in state.items()}
    if s.schedule == "backoff" and live.size:  # out of steps mid-round: keep the best find so far
        best_row = be.to_numpy(state["best_row"])
        has = best_row >= 0
        c_star[live[has]] = be.to_numpy(state["best_c"])[has]
        index[live[has]] = best_row[has]
    return result()


def _backoff_step(search: _Search, s: AnnealingSettings, state: dict, u_hit, u_pick) -> np.ndarray:
    """Advance every live backoff run one step (updating `state`); returns which runs finished (host)."""
    xp = search.table.backend.xp
    c, rise = state["c"], state["rise"]
    granted = c if "phase" not in state else _grant(s, c, state["phase"], xp)
    found, row = search.step(granted, s.search_speed, u_hit, u_pick)
    better = found & (granted < state["best_c"])
    state["best_c"] = xp.where(better, granted, state["best_c"])
    state["best_row"] = xp.where(better, row, state["best_row"])
    # A find starts or continues the fall; the first step of a fall without one ends the round.
    round_ends = state["falling"] & ~found
    state["rounds"] = state["rounds"] + xp.astype(round_ends, state["rounds"].dtype)
    rise = xp.where(round_ends, rise * s.backoff_slowdown, rise)
    state["c"] = xp.where(found, c - rise * s.backoff_fall, c + rise)
    state["rise"] = rise
    state["falling"] = found
    return search.table.backend.to_numpy(round_ends & (state["rounds"] >= s.backoff_rounds))


def _phases(s: AnnealingSettings, runs: int) -> np.ndarray | None:
    """Each run's offset of the quantum grid (None without quanta): quantum_phase, or drawn in [0, quantum)."""
    if not s.quantum > 0:
        return None
    if s.quantum_phase is not None:
        return np.full(runs, float(s.quantum_phase))
    return np.random.default_rng([s.seed, 2]).random(runs) * s.quantum  # own stream: the search's draws stay put


def _grant(s: AnnealingSettings, c, phase, xp=np):
    """The compute granted at bound c: the largest phase + quantum k (k an integer) not above c; c without quanta."""
    if phase is None:
        return c
    return phase + xp.floor((c - phase) / s.quantum) * s.quantum


def _first_step_reaching(c_of_t: Callable[[int], float], target: float, limit: int) -> int:
    """The least t in [0, limit] with c_of_t(t) >= target (c_of_t non-decreasing), else limit."""
    if c_of_t(limit) < target:
        return limit
    lo, hi = -1, limit  # c_of_t(lo) < target <= c_of_t(hi), with c_of_t(-1) read as -inf
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if c_of_t(mid) < target else (lo, mid)
    return hi


# ---- one run, step by step (for the animation) ---------------------------------------------------

@dataclass(frozen=True)
class Trace:
    """One annealing run step by step, as host arrays indexed by step t = 0 .. steps - 1.

    `c[t]` is C_t; `n[t]` = |P(C_t)|; `k[t]` counts the good-looking programs in P(C_t); `drawn[t]` is how
    many programs the search drew at step t (search_speed, fewer at the step of a find, none while P(C_t)
    is empty); `found[t]` says whether one of them looked good and `found_row[t]` is its table row (-1
    without one). The draws kept for display are `samples[offsets[t]:offsets[t + 1]]`, table rows in draw
    order (at most `show` per step; at a find, the last of them is the program found). `c_star`, `index`
    and `kind` are the run's result as `anneal` reports it (nan, -1 and "none" without one).
    """

    c: np.ndarray
    n: np.ndarray
    k: np.ndarray
    drawn: np.ndarray
    found: np.ndarray
    found_row: np.ndarray
    samples: np.ndarray
    offsets: np.ndarray
    c_star: float
    index: int
    kind: str
    c_min: float
    run: int
    settings: dict[str, Any]

    @property
    def steps(self) -> int:
        return int(self.c.shape[0])

    def samples_at(self, t: int) -> np.ndarray:
        """Table rows drawn (and kept for display) at step t."""
        return self.samples[self.offsets[t]:self.offsets[t + 1]]

    def samples_until(self, t: int) -> np.ndarray:
        """Table rows drawn (and kept for display) at steps 0 .. t."""
        return self.samples[:self.offsets[t + 1]]

    def best_until(self, t: int) -> tuple[int, int]:
        """(step, table row) of the find at the lowest C among steps 0 .. t, the earliest on a tie; (-1, -1) if none."""
        finds = np.nonzero(self.found[:t + 1])[0]
        if not finds.size:
            return -1, -1
        best = int(finds[np.argmin(self.c[finds])])  # argmin keeps the first of equal minima, as anneal does
        return best, int(self.found_row[best])


class _Recorder:
    """Stands in for a _Search inside `_anneal` and keeps what one run saw at each step.

    Which slot of the step's arrays belongs to the run follows from when every run stopped (known from a
    first, identical pass): at step t the live runs are those with steps > t, in run order.
    """

    def __init__(self, search: _Search, run: int, ends: np.ndarray):
        self._search = search
        self._run = run
        self._ends = ends
        self.t: int | None = None
        self.first: int | None = None
        self.kept: list[tuple[int, float, bool, int]] = []

    def __getattr__(self, name):
        return getattr(self._search, name)

    def progress(self, t: int, n_active: int) -> None:
        self.t = t
        if self.first is None:
            self.first = t

    def step(self, c, s: int, u_hit, u_pick):
        found, row = self._search.step(c, s, u_hit, u_pick)
        t = self.t
        if t < self._ends[self._run]:
            pos = int(np.count_nonzero(self._ends[:self._run] > t))
            to_np = self._search.table.backend.to_numpy
            self.kept.append((t, float(to_np(c[pos:pos + 1])[0]), bool(to_np(found[pos:pos + 1])[0]),
                              int(to_np(row[pos:pos + 1])[0])))
        return found, row


def _schedule_c(s: AnnealingSettings, c0: float, steps: int, phase: float | None = None) -> np.ndarray:
    """C_t for t < steps on the first rise (the whole schedule for linear and geometric).

    Python floats, term by term, exactly as `_anneal` computes them, so a trace's C_t equals the C_t of
    the run it records to the last bit.
    """

    return np.array([_grant(s, _rise(s, c0, t), phase) for t in range(steps)], dtype=np.float64)


def _rise(s: AnnealingSettings, c0: float, t: int) -> float:
    """C_t on the first rise: C_0 + rate t (linear, backoff) or C_0 (1 + rate)^t (geometric)."""
    if s.schedule == "geometric":
        try:
            return c0 * (1.0 + s.rate) ** t
        except OverflowError:
            return math.inf
    return c0 + s.rate * t


def trace(table: ProgramTable, looks_good, settings: AnnealingSettings, run: int = 0, show: int = 64) -> Trace:
    """Run `run` of `anneal(table, looks_good, settings)` recorded step by step, with the draws it made.

    What the run finds, where and when is `anneal`'s own result for that run, not a re-simulation: the
    same `_anneal` loop runs with a recorder in place of the search (twice: once to learn when each run
    stops, once to read this run's slot). Cost: two `anneal` calls of `settings.runs` runs, so trace with
    runs=1 to follow one search cheaply.

    `anneal` never draws programs one at a time; it decides "found?" and "which?" per step in closed form.
    The draws shown here are sampled afterwards, from the distribution of one-at-a-time draws given that
    outcome: at a step without a find, every draw is a not-good-looking program of P(C_t), weighted as
    the search weights them (uniform or 2^(-w_simplicity bits)); at a find, the number J of failed draws
    before it follows

        P(J = j) = (1 - p)^j p / (1 - (1 - p)^s),   j = 0 .. s - 1,

    (p the weight share of good-looking programs in P(C_t), s = search_speed), then come J failures
    and the program found. Together with the closed-form outcome this is exactly the one-at-a-time search.
    These draws use their own random stream (from seed and run), so they never change what anneal finds.
    Steps before C reaches c_min, which `_anneal` skips because nothing can be found there, are filled in
    the same way. At most `show` draws per step are kept: the first ones, or at a find the last ones.
    Memory is about steps * min(search_speed, show) table rows.
    """
    if not isinstance(run, (int, np.integer)) or not 0 <= run < settings.runs:
        raise ExplorerError(
            f"run: must be an integer in [0, {settings.runs - 1}] (runs is {settings.runs}), got {run!r}")
    if not isinstance(show, (int, np.integer)) or show < 1:
        raise ExplorerError(f"show: must be an integer of at least 1, got {show!r}")
    run = int(run)
    search = _Search(table, looks_good, settings.sampling, settings.w_simplicity)
    values = {k: v for k, v in settings.param.values().items() if k != "name"}
    if search.n == 0:  # no programs at all: nothing to draw, no C_0 to start from
        none = np.zeros(0, dtype=np.int64)
        return Trace(c=np.zeros(0), n=none, k=none, drawn=none, found=np.zeros(0, dtype=bool), found_row=none,
                     samples=none, offsets=np.zeros(1, dtype=np.int64), c_star=math.nan, index=-1, kind="none",
                     c_min=search.c_min, run=run, settings=values)
    c0 = settings.start(search.smallest)
    first = _anneal(search, settings, None)
    recorder = _Recorder(search, run, first.steps)
    again = _anneal(recorder, settings, recorder.progress)
    if not (np.array_equal(again.index, first.index) and np.array_equal(again.steps, first.steps)):
        raise RuntimeError("trace: the recording pass of _anneal did not repeat the first pass")

    steps = int(first.steps[run])
    if steps > TRACE_LIMIT:
        raise ExplorerError(
            f"rate: this run takes {steps:,} steps, more than a trace keeps ({TRACE_LIMIT:,}); raise the rate, "
            "c_start or the search speed, or lower max_steps")
    start = steps if recorder.first is None else min(recorder.first, steps)  # the steps _anneal skipped
    c = np.empty(steps, dtype=np.float64)
    found_row = np.full(steps, -1, dtype=np.int64)
    phases = _phases(settings, settings.runs)
    c[:start] = _schedule_c(settings, c0, start, None if phases is None else phases[run])
    for t, c_t, hit, row in recorder.kept:
        c[t] = c_t
        if hit:
            found_row[t] = row

    cols = table.to_numpy()
    order = np.argsort(cols["avg_compute"], kind="stable")
    avg = cols["avg_compute"][order]
    good_sorted = np.asarray(table.backend.to_numpy(looks_good), dtype=bool)[order]
    n = np.searchsorted(avg, c, side="right").astype(np.int64)
    k = np.searchsorted(avg[good_sorted], c, side="right").astype(np.int64)
    drawn, samples, offsets = _draws(settings, run, cols["bits"], order, good_sorted, c, n, k, found_row, show)
    index = int(first.index[run])
    return Trace(c=c, n=n, k=k, drawn=drawn, found=found_row >= 0, found_row=found_row, samples=samples,
                 offsets=offsets, c_star=float(first.c_star[run]), index=index,
                 kind="none" if index < 0 else table.kinds[int(cols["kind"][index])], c_min=search.c_min,
                 run=run, settings=values)


def _draws(s: AnnealingSettings, run: int, bits, order, good_sorted, c, n, k, found_row, show: int):
    """(drawn per step, rows kept for display, offsets): the one-at-a-time draws behind each step's outcome."""
    rng = np.random.default_rng([s.seed, run, 1])
    steps = c.shape[0]
    speed = s.search_speed
    found = found_row >= 0
    bad = np.nonzero(~good_sorted)[0]  # positions (in compute order) of the programs that do not look good
    m = n - k  # not-good-looking programs in P(C_t)
    if s.sampling == "uniform":
        log_bad = None
        p = np.where(n > 0, k / np.maximum(n, 1), 0.0)
    else:
        log_w = bits[order] * (-s.w_simplicity * math.log(2.0))
        log_all = np.logaddexp.accumulate(log_w)
        log_good = np.logaddexp.accumulate(log_w[good_sorted]) if good_sorted.any() else np.zeros(0)
        log_bad = np.logaddexp.accumulate(log_w[bad]) if bad.size else np.zeros(0)
        share = np.exp(np.minimum(log_good[np.maximum(k - 1, 0)] - log_all[np.maximum(n - 1, 0)], 0.0)) \
            if log_good.size else np.zeros(steps)
        p = np.where(k > 0, share, 0.0)
    # failures before the find: J by inverting the truncated geometric distribution's CDF
    fails = np.zeros(steps, dtype=np.int64)
    at = np.nonzero(found)[0]
    if at.size:
        pf = p[at]
        u = rng.random(at.size)
        sure = pf >= 1.0
        log_miss = np.log1p(-np.where(sure, 0.0, pf))  # log(1 - p)
        q = -np.expm1(speed * log_miss)  # 1 - (1 - p)^s
        with np.errstate(divide="ignore", invalid="ignore"):
            j = np.ceil(np.log1p(-u * q) / log_miss) - 1
        fails[at] = np.where(sure, 0, np.clip(np.nan_to_num(j, nan=0.0), 0, speed - 1)).astype(np.int64)
    drawn = np.where(found, fails + 1, np.where(n > 0, speed, 0)).astype(np.int64)
    kept = np.minimum(drawn, show)
    kept_bad = kept - found  # failures kept: all kept draws but the find itself
    offsets = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
    step_of = np.repeat(np.arange(steps), kept_bad)
    u = rng.random(step_of.size)
    pool = m[step_of]
    if log_bad is None:
        pick = np.minimum((u * pool).astype(np.int64), pool - 1)
    else:
        top = log_bad[np.maximum(pool - 1, 0)]
        pick = np.minimum(np.searchsorted(log_bad, top + np.log1p(-u), side="left"), pool - 1)
    samples = np.empty(offsets[-1], dtype=np.int64)
    is_find = np.zeros(offsets[-1], dtype=bool)
    is_find[offsets[1:][found] - 1] = True
    samples[is_find] = found_row[found]
    samples[~is_find] = order[bad[pick]]
    return drawn, samples, offsets
