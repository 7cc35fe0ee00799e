"""Local search on the enumerated world: where mutation and acceptance by the prior end, next to the posterior.

Why: the essay reasons with the posterior (the prior restricted to good-looking programs) as if training
found it, which assumes low path dependence. Training is a local search: it moves from program to a
nearby program and keeps what scores better. Here every program up to max_length is already run and
measured, so a chain's move is a table lookup, and where many chains end can be set against the
posterior's mass per kind and its MAP.

Moves. From a program of length L over K instructions: change one instruction to another (L (K - 1)
moves), insert one at any of L + 1 places (K (L + 1) moves, while L < max_length), delete one (L moves,
while L > 1), wrap a block in a loop (LOOP before it, END after it: (L + 1)(L + 2) / 2 blocks, while
L + 2 <= max_length) or unwrap one of its loops (one move per loop). A loop is one unit: a single
instruction cannot open one (LOOP without END is no program), so without wrap and unwrap the programs
with a loop and those without would never meet. One step draws one of these M(p) moves uniformly; a
move to an invalid program (nested or unbalanced loops, a test before END) is rejected and the chain
stays. Every move has its inverse (insert at place i / delete at place i, wrap / unwrap that loop), so
x reaches y by as many moves as y reaches x, and the proposal's only asymmetry is 1 / M(p).

Target. A chain scores a program by

    log target(p) = log prior(p) - fit * loss(p),
    loss(p) = 0 if p looks good, else 1 + (1 - train_perf) (+ 1 - heldout_perf with the held-out check),

the prior's own log weight (explorer.priors, in float64) and a training loss that is 0 exactly on the
good-looking programs, so among them the target is the posterior. Acceptance:

    metropolis  accept with probability min(1, exp((log target(y) - log target(x)) / T) M(x) / M(y)):
                at T = 1 its stationary distribution is the target, so given that a chain sits at a
                good-looking program, it is distributed as the posterior, however far apart the programs lie.
    greedy      accept when log target(y) >= log target(x) (sideways moves too): hill climbing, like
                training without noise; where it ends depends on where it started.

Chains start at a uniformly drawn program (start random) or a uniformly drawn one-instruction program
(start short). Every chain advances together, one array operation per step; draws come from `seed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import param

from explorer.errors import ExplorerError
from explorer.priors import FEATURES, PRIORS, PriorSettings, looks_good
from explorer.table import ProgramTable
from explorer.worlds.enumerated.machine import END, LOOP, instruction_set
from explorer.worlds.enumerated.spaces import PAD, ProgramSpace


class LocalSearchSettings(param.Parameterized):
    """How the chains move, accept and start, and how many run for how long."""

    chains = param.Integer(500, bounds=(1, 1_000_000), doc="Independent chains, run together.")
    steps = param.Integer(5000, bounds=(0, 10_000_000), doc="Moves each chain proposes.")
    acceptance = param.Selector(
        default="metropolis", objects=["metropolis", "greedy"],
        doc="metropolis: accept by the target's ratio at temperature T (with the proposal's correction); "
            "greedy: accept any move that does not lower the target.")
    temperature = param.Number(
        1.0, bounds=(0.0, 1e6), inclusive_bounds=(False, True),
        doc="Metropolis temperature T: 1 samples the target; below 1 sharpens it, above 1 flattens it.")
    fit = param.Number(
        10.0, bounds=(0.0, 1e6),
        doc="Nats of log target a program loses per unit of training loss (0 on good-looking programs).")
    start = param.Selector(
        default="random", objects=["random", "short"],
        doc="Where chains start: a uniformly drawn program, or a uniformly drawn one-instruction program.")
    seed = param.Integer(0, bounds=(0, 2**32 - 1), doc="Seed of the chains' draws; same seed, same chains.")

    def __init__(self, **params):
        from explorer.params import set_values

        super().__init__()
        set_values(self, params)


def log_prior(table: ProgramTable, prior: str, settings: PriorSettings) -> np.ndarray:
    """Each program's log prior weight (unnormalised, float64) under `prior`, as explorer.priors defines it."""
    if prior not in PRIORS:
        raise ExplorerError(f"prior: {prior!r} is unknown; choose one of: {', '.join(PRIORS)}")
    cols = table.to_numpy()
    avg = cols["avg_compute"].astype(np.float64)
    features = {"bits": cols["bits"] * math.log(2.0), "max_compute": cols["max_compute"].astype(np.float64),
                "avg_compute": avg, "log_steps": np.log(np.maximum(avg, 1.0))}
    weights = settings.weights()[:, PRIORS.index(prior)]
    return -sum(w * features[f] for f, w in zip(FEATURES, weights) if w)


class Moves:
    """The program space as a lookup: every program's row from its codes, and the moves out of each program."""

    def __init__(self, space: ProgramSpace):
        self.space = space
        self.k = len(instruction_set(space.instructions))
        self.max_length = space.max_length
        self.base = self.k + 1  # codes shift by one so that PAD counts 0 in a key
        self._powers = self.base ** np.arange(self.max_length, dtype=np.int64)
        keys = self.keys(space.codes)
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]
        if np.any(self._sorted[1:] == self._sorted[:-1]):
            raise RuntimeError("two programs of the space share a key")
        codes = space.codes
        # loops follow one another (never nested): the q-th LOOP and the q-th END of a program bound its q-th loop
        is_loop, is_end = codes == LOOP, codes == END
        self.loops = is_loop.sum(axis=1)
        most = max(int(self.loops.max()), 1)
        self.loop_at = np.stack([np.argmax(is_loop & (np.cumsum(is_loop, axis=1) == q + 1), axis=1) for q in range(most)], 1)
        self.end_at = np.stack([np.argmax(is_end & (np.cumsum(is_end, axis=1) == q + 1), axis=1) for q in range(most)], 1)
        # wrap slots for a program of length L: the blocks [a, b), 0 <= a <= b <= L, in a fixed order
        pairs = [[(a, b) for a in range(n + 1) for b in range(a, n + 1)] for n in range(self.max_length + 1)]
        size = max(len(p) for p in pairs)
        self._wrap = np.zeros((self.max_length + 1, size, 2), dtype=np.int64)
        for n, p in enumerate(pairs):
            self._wrap[n, :len(p)] = p
        self.counts = self._counts(space.lengths, self.loops)

    def keys(self, codes: np.ndarray) -> np.ndarray:
        return (codes.astype(np.int64) + 1) @ self._powers

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """The space row of each code row (padded with PAD), -1 where it is not a valid program."""
        keys = self.keys(codes)
        pos = np.minimum(np.searchsorted(self._sorted, keys), self._sorted.shape[0] - 1)
        return np.where(self._sorted[pos] == keys, self._order[pos], -1)

    def _parts(self, length: np.ndarray, loops: np.ndarray) -> tuple[np.ndarray, ...]:
        """Moves of each type out of a program: change, insert, delete, wrap, unwrap (one per loop)."""
        change = length * (self.k - 1)
        insert = np.where(length < self.max_length, (length + 1) * self.k, 0)
        delete = np.where(length > 1, length, 0)
        wrap = np.where(length + 2 <= self.max_length, (length + 1) * (length + 2) // 2, 0)
        unwrap = np.where(length > 2, loops, 0)
        return change, insert, delete, wrap, unwrap

    def _counts(self, length: np.ndarray, loops: np.ndarray) -> np.ndarray:
        return sum(self._parts(length, loops))

    def apply(self, rows: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Move number j (0 <= j < counts[row]) out of each program `rows`: the codes it leads to."""
        cur = self.space.codes[rows].astype(np.int16)
        n = cur.shape[0]
        length = self.space.lengths[rows]
        idx = np.arange(self.max_length)[None, :]
        at = np.arange(n)
        change, insert, delete, wrap, _ = self._parts(length, self.loops[rows])
        pad = np.full((n, 2), PAD, np.int16)
        padded = np.concatenate([pad, cur, pad], axis=1)  # padded[:, 2 + i] is cur[:, i]

        def shifted(by):  # cur[:, idx - by] (PAD outside the program)
            return padded[:, 2 - by: 2 - by + self.max_length]

        # change: position j // (K - 1) takes the (j % (K - 1))-th other instruction
        pos = np.minimum(j // (self.k - 1), self.max_length - 1)
        other = j % (self.k - 1)
        changed = cur.copy()
        changed[at, pos] = other + (other >= cur[at, pos])
        # insert: code c at place p, the rest shifted right
        j = j - change
        p, c = (j // self.k)[:, None], (j % self.k)[:, None]
        inserted = np.where(idx < p, cur, np.where(idx == p, c, shifted(1)))
        kind = np.where(j < 0, 0, np.where(j < insert, 1, 2))
        # delete: place p removed, the rest shifted left
        j = j - insert
        p = j[:, None]
        deleted = np.where(idx < p, cur, shifted(-1))
        kind = np.where((kind == 2) & (j >= delete), 3, kind)
        # wrap: LOOP before place a, END after the block [a, b)
        j = j - delete
        slot = self._wrap[np.minimum(length, self.max_length), np.clip(j, 0, self._wrap.shape[1] - 1)]
        a, b = slot[:, :1], slot[:, 1:]
        wrapped = np.where(idx < a, cur, np.where(idx == a, LOOP, np.where(idx <= b, shifted(1),
                           np.where(idx == b + 1, END, shifted(2)))))
        kind = np.where((kind == 3) & (j >= wrap), 4, kind)
        # unwrap: the (j - wrap)-th loop's LOOP and END removed
        q = np.clip(j - wrap, 0, self.loop_at.shape[1] - 1)
        a, e = self.loop_at[rows, q][:, None], self.end_at[rows, q][:, None]
        unwrapped = np.where(idx < a, cur, np.where(idx < e - 1, shifted(-1), shifted(-2)))
        kind = kind[:, None]
        return np.choose(kind, [changed, inserted, deleted, wrapped, unwrapped])

    def neighbours(self, row: int) -> np.ndarray:
        """Every move's destination row from `row` (-1 for an invalid program), in move order."""
        m = int(self.counts[row])
        return self.rows(self.apply(np.full(m, row), np.arange(m)))


@dataclass(frozen=True)
class Chains:
    """Where each chain started and ended (space rows), how often moves were accepted, and (optionally)
    how many steps the chains spent at each program, summed over chains."""

    start: np.ndarray
    end: np.ndarray
    accepted: float
    visits: np.ndarray | None


def target(table: ProgramTable, mask: np.ndarray, prior_log: np.ndarray, fit: float,
           generalization_check: bool) -> np.ndarray:
    """log target = log prior - fit * loss, loss 0 on good-looking programs (see the module docstring)."""
    cols = table.to_numpy()
    loss = 1.0 + (1.0 - cols["train_perf"])
    if generalization_check:
        loss = loss + (1.0 - cols["heldout_perf"])
    return prior_log - fit * np.where(mask, 0.0, loss)


def run_chains(moves: Moves, log_target: np.ndarray, settings: LocalSearchSettings, record_visits: bool = False,
               progress: Callable[[int, int], Any] | None = None, initial: np.ndarray | None = None) -> Chains:
    """Run `settings.chains` chains of `settings.steps` steps over the space of `moves`.

    `initial`, when given, holds each chain's first program (space rows) in place of settings.start.
    `progress(step, steps)` is called every 100 steps when given.
    """
    space = moves.space
    if log_target.shape[0] != len(space):
        raise ExplorerError(f"the target has {log_target.shape[0]} programs, the space {len(space)}")
    rng = np.random.default_rng(settings.seed)
    pool = np.arange(len(space)) if settings.start == "random" else np.nonzero(space.lengths == 1)[0]
    row = pool[rng.integers(0, pool.shape[0], size=settings.chains)]
    if initial is not None:
        row = np.asarray(initial, dtype=np.int64).copy()
        if row.shape != (settings.chains,) or row.min() < 0 or row.max() >= len(space):
            raise ExplorerError(f"initial: expected {settings.chains} rows of the space, got {row.shape}")
    start = row.copy()
    visits = np.zeros(len(space), dtype=np.int64) if record_visits else None
    greedy = settings.acceptance == "greedy"
    accepted = 0
    for t in range(settings.steps):
        if progress is not None and t % 100 == 0:
            progress(t, settings.steps)
        u = rng.random((2, row.shape[0]))
        m = moves.counts[row]
        j = np.minimum((u[0] * m).astype(np.int64), m - 1)
        new = moves.rows(moves.apply(row, j))
        ok = new >= 0
        dest = np.where(ok, new, row)
        gain = log_target[dest] - log_target[row]
        if greedy:
            take = ok & (gain >= 0)
        else:
            log_a = gain / settings.temperature + np.log(m) - np.log(moves.counts[dest])
            take = ok & (np.log(u[1]) < log_a)
        row = np.where(take, dest, row)
        accepted += int(take.sum())
        if visits is not None:
            visits += np.bincount(row, minlength=len(space))
    if progress is not None:
        progress(settings.steps, settings.steps)
    rate = accepted / (settings.chains * settings.steps) if settings.steps else 0.0
    return Chains(start, row, rate, visits)


def posterior(mask: np.ndarray, prior_log: np.ndarray) -> np.ndarray:
    """The prior restricted to the good-looking programs and normalised (zeros elsewhere; float64)."""
    p = np.zeros(prior_log.shape[0])
    if mask.any():
        w = np.exp(prior_log[mask] - prior_log[mask].max())
        p[mask] = w / w.sum()
    return p


def compare(table: ProgramTable, space: ProgramSpace, mask: np.ndarray, prior_log: np.ndarray, chains: Chains,
            top: int = 5) -> dict[str, Any]:
    """Where the chains ended against the posterior: kinds, MAP, programs; JSON-able.

    `end_kind` holds the kinds' shares among chains that ended at a good-looking program (`ended_good` is
    their share of all chains); `tv_kind` is the total variation distance between it and the posterior's
    mass per kind. `map` lists the MAP program(s) (all rows within a tie), `map_mass` their posterior mass
    and `at_map` the share of all chains that ended at one of them.
    """
    cols = table.to_numpy()
    kinds = list(table.kinds)
    post = posterior(mask, prior_log)
    mass = {k: float(post[cols["kind"] == i].sum()) for i, k in enumerate(kinds)}
    end = chains.end
    good_end = mask[end]
    n_good = int(good_end.sum())
    end_kind = {k: (float(np.mean(cols["kind"][end[good_end]] == i)) if n_good else 0.0) for i, k in enumerate(kinds)}
    tv = 0.5 * sum(abs(end_kind[k] - mass[k]) for k in kinds) if n_good else None
    report: dict[str, Any] = {
        "chains": int(end.shape[0]), "accepted": chains.accepted, "ended_good": n_good / end.shape[0],
        "end_kind": end_kind, "posterior_kind": mass, "tv_kind": tv, "n_good_looking": int(mask.sum()),
    }
    if not mask.any():
        return {**report, "map": [], "map_mass": 0.0, "at_map": 0.0, "end_programs": [], "posterior_programs": []}
    best = prior_log[mask].max()
    map_rows = np.nonzero(mask & (prior_log == best))[0]

    def program(row: int, share: float) -> dict[str, Any]:
        return {"row": int(row), "program": space.listing(int(row)), "kind": kinds[int(cols["kind"][row])],
                "avg_compute": float(cols["avg_compute"][row]), "bits": float(cols["bits"][row]), "share": share}

    rows, counts = np.unique(end[good_end], return_counts=True)
    order = np.lexsort((rows, -counts))[:top]
    by_post = np.lexsort((np.arange(post.shape[0]), -post))[:top]
    return {**report,
            "map": [program(r, float(post[r])) for r in map_rows[:top]], "map_ties": int(map_rows.shape[0]),
            "map_mass": float(post[map_rows].sum()), "at_map": float(np.isin(end, map_rows).mean()),
            "end_programs": [program(rows[i], float(counts[i] / end.shape[0])) for i in order],
            "posterior_programs": [program(r, float(post[r])) for r in by_post if post[r] > 0]}


def local_search(world, table: ProgramTable, priors: PriorSettings, prior: str, settings: LocalSearchSettings,
                 progress: Callable[[int, int], Any] | None = None, top: int = 5) -> dict[str, Any]:
    """Chains under `prior` on an EnumeratedWorld's measured `table`, compared with that prior's posterior."""
    space = world.space()
    if len(space) != len(table):
        raise ExplorerError(f"the table has {len(table)} programs, the world's space {len(space)}")
    mask = np.asarray(table.backend.to_numpy(
        looks_good(table, priors.performance_threshold, priors.generalization_check, priors.compute_budget)), dtype=bool)
    prior_log = log_prior(table, prior, priors)
    log_t = target(table, mask, prior_log, settings.fit, priors.generalization_check)
    chains = run_chains(Moves(space), log_t, settings, progress=progress)
    return {"prior": prior, **compare(table, space, mask, prior_log, chains, top)}
