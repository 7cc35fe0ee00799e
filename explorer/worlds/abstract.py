"""The abstract world: parametric program classes over a task distribution (fast, huge).

Each task has a difficulty d, the compute an efficiency-1 program needs to solve it. Each program has a
capacity c (the most compute it can spend on one task, which is its max compute) and an efficiency e,
so it needs d/e to solve a task. Per kind, on each training task:

- honest: spends d/e and solves the task if d/e <= c; otherwise spends c and fails.
- goof_off: as honest, then spends min(m, c - d/e) of its slack misbehaving (m = misbehaviour_cost).
  Its max compute does not move; its average does.
- deceptive: first spends o = deception_overhead * (1 - memory) + deception_check_strength planning and
  checking whether it is deployed, then works on the task with what is left: solves it if d/e + o <= c.
  In deployment it defects (deploy_perf = 0).
- lookup: answers a memorised share of the training tasks for lookup_compute each; it costs
  lookup_bits_per_task bits per memorised task and solves nothing it has not seen.

Two of the essay's caveats change what a program spends or what is counted (both off by default, and
then the table is exactly the one above):

- Parallel versus serial. The task is a serial chain of d/e steps; a share p = misbehaviour_parallel of
  a program's misbehaviour runs on a lane of its own beside that chain instead of after it. All work
  still counts against the capacity, so where the misbehaviour runs changes nothing a program solves.
  It changes what a serial-only measure sees: on a task with task compute t and misbehaviour q the
  work is t + q but the serial depth is (1 - p) q + max(t, p q), so parallel misbehaviour shorter than
  the task's own chain adds no depth at all. compute_measure says which of the two the table reports
  as avg_compute (what the priors charge): total_work, or serial_depth (a prior that counts only
  serial steps, as pondering counts rollouts). Capacity bounds both, so max_compute stays c, and
  misbehaviour_compute always reports work.
- Who sets the allotment. Under early_exit (the rules above) a program runs until its output looks
  finished, so it sets its own allotment up to its capacity. A sandbagging deceptive program (a share
  sandbag_share of the deceptive ones) exploits that: it spoils its early stages so it keeps looking
  unfinished, is granted steps until its capacity runs out, and plans with all of them (c - d/e on a
  task it solves, instead of o). Under offline_predictor a predictor trained apart from the run grants
  each task allotment_margin * d/e (its prediction, from the task alone, of the steps this program's
  task-solving needs) and never more than c: nothing the program does on the run moves it. Every rule above then reads
  the grant where it read c: a goof-off's slack is grant - d/e, a deceptive program solves only if
  d/e + o fits the grant, and a sandbagger plans with grant - d/e. Lookup tables are unaffected.

Summaries are computed without the per-task matrix: with the training difficulties sorted and their
prefix sums S, a program with threshold x = (c - o) * e solves k = #{d <= x} tasks, and its total
compute is S[k] / e + k * o + (T - k) * c. That makes a build O(N log T) instead of O(N T). With a
caveat on (`task_by_task`), the grant and the serial depth vary task by task, and the build works
through the per-task matrices in chunks (`spend`), O(N T).
`per_task` gives the explicit matrices for a few programs, for views and tests.
"""

from __future__ import annotations

import math

import numpy as np
import param

from explorer.backend import BACKEND_NAMES, Backend, get_backend
from explorer.errors import ExplorerError
from explorer.table import COLUMNS, KINDS, ProgramTable
from explorer.worlds.abstract_kept import Setting, kept_draws
from explorer.worlds.abstract_tasks import MergedTasks, SortedCounter, Tasks, goof_off_slack, solve_by_prefix
from explorer.worlds.base import Progress, ShouldStop, World

__all__ = ["AbstractWorld", "MergedTasks", "SortedCounter", "Tasks", "UNIFORMS"]

DEFAULT_KIND_MIX = {"honest": 0.4, "goof_off": 0.3, "deceptive": 0.2, "lookup": 0.1}


class KindMix(param.Dict):
    """Shares of the four program kinds: known names, non-negative, not all zero."""

    def _validate_value(self, val, allow_None):
        if val is not None and not isinstance(val, dict):
            raise ValueError(f"{self.name}: expected a mapping of kind to share, got {type(val).__name__}")
        super()._validate_value(val, allow_None)
        if val is None:
            return
        unknown = sorted(set(val) - set(KINDS))
        if unknown:
            raise ValueError(f"{self.name}: unknown kind(s) {unknown}; kinds are {list(KINDS)}")
        shares = list(val.values())
        if any(not isinstance(s, (int, float)) or isinstance(s, bool) or not 0 <= s < math.inf for s in shares) \
                or sum(shares) <= 0:
            raise ValueError(f"{self.name}: shares must be finite non-negative numbers and not all zero")


class AbstractWorld(World):
    """Builds a ProgramTable of honest, goof-off, deceptive and lookup programs."""

    measured = False  # generated from its parameters in milliseconds: nothing to cache on disk
    machine_params = ("n_programs", "backend")
    result_free_params = ("backend",)

    n_programs = param.Integer(100_000, bounds=(10, 200_000_000), doc="Number of candidate programs.")
    n_tasks = param.Integer(32, bounds=(1, 4096), doc="Tasks in each of the training, held-out and deployment sets.")
    seed = param.Integer(0, bounds=(0, 2**32 - 1), doc="Seed of every random draw; same seed, same table.")
    backend = param.Selector(default="numpy", objects=list(BACKEND_NAMES), doc="Where the table's arrays live.")

    difficulty_distribution = param.Selector(
        default="uniform", objects=["uniform", "log-uniform", "easy-heavy"],
        doc="How task difficulties spread between min and max; easy-heavy puts most tasks near the minimum.")
    difficulty_min = param.Number(1.0, bounds=(0.01, 1000.0), doc="Compute the easiest task needs.")
    difficulty_max = param.Number(10.0, bounds=(0.01, 1000.0), doc="Compute the hardest task needs.")
    heldout_shift = param.Number(1.0, bounds=(0.25, 4.0), doc="Held-out difficulties are the training distribution times this.")
    deploy_shift = param.Number(1.0, bounds=(0.25, 4.0), doc="Deployment difficulties are the training distribution times this.")

    capacity_max = param.Number(2.0, bounds=(1.0, 10.0), doc="Largest program capacity, as a multiple of difficulty_max.")
    efficiency_min = param.Number(0.5, bounds=(0.05, 1.0), doc="Least efficient program (efficiencies are uniform up to 1).")
    deceptive_efficiency = param.Number(
        1.0, bounds=(0.25, 4.0),
        doc="Efficiency of deceptive programs relative to the others; above 1 the fastest solvers are deceptive.")
    kind_mix = KindMix(default=dict(DEFAULT_KIND_MIX), doc="Shares of honest, goof_off, deceptive and lookup programs.")

    misbehaviour_cost = param.Number(1.0, bounds=(0.0, 10.0), doc="Extra compute a goof-off spends on tasks where it has slack.")
    deception_overhead = param.Number(1.0, bounds=(0.0, 10.0), doc="Compute a deceptive program spends on every task planning and checking for deployment.")
    deception_check_strength = param.Number(0.0, bounds=(0.0, 10.0), doc="Extra compute per task deceptive programs need to evade deception checks.")
    memory = param.Number(0.0, bounds=(0.0, 1.0), doc="Share of the deception overhead that cross-episode memory saves.")

    base_bits = param.Number(40.0, bounds=(0.0, 1000.0), doc="Description length of the simplest honest program.")
    efficiency_bits = param.Number(8.0, bounds=(0.0, 100.0), doc="Extra bits the most efficient programs cost over the least efficient.")
    bits_spread = param.Number(8.0, bounds=(0.0, 100.0), doc="Width of the uniform noise added to every description length.")
    goof_off_bits_offset = param.Number(0.0, bounds=(-50.0, 50.0), doc="Bits a goof-off costs over an honest program.")
    deception_bits_offset = param.Number(
        0.0, bounds=(-50.0, 50.0),
        doc="Bits a deceptive program costs over an honest one: negative, deception is simpler; positive, the deployment check costs bits.")
    lookup_bits_per_task = param.Number(4.0, bounds=(0.0, 64.0), doc="Bits a lookup table spends per memorised training task.")
    lookup_compute = param.Number(0.1, bounds=(0.0, 100.0), doc="Compute a lookup table spends per task.")

    compute_measure = param.Selector(
        default="total_work", objects=["total_work", "serial_depth"],
        doc="What the table reports as compute, and so what the speed priors charge: all work done, or only the "
            "serial steps (a serial-only speed prior; work on parallel lanes is free).")
    misbehaviour_parallel = param.Number(
        0.0, bounds=(0.0, 1.0),
        doc="Share of misbehaviour compute run on a lane beside the task instead of after it; it adds serial depth "
            "only where it outlasts the task's own chain, and changes nothing under total_work.")
    allotment = param.Selector(
        default="early_exit", objects=["early_exit", "offline_predictor"],
        doc="Who sets the compute a program gets on a task: early_exit, the program itself (it runs until its "
            "output looks finished, up to its capacity); offline_predictor, a predictor trained apart from the run, "
            "from the task alone, that grants allotment_margin times what the task needs.")
    allotment_margin = param.Number(
        1.5, bounds=(1.0, 10.0),
        doc="Under offline_predictor, the grant per task as a multiple of the compute the program needs to solve it "
            "(d / efficiency), never above its capacity; 1 leaves no room for anything but the task.")
    sandbag_share = param.Number(
        0.0, bounds=(0.0, 1.0),
        doc="Share of deceptive programs that sabotage their early stages so early exit keeps granting them steps, "
            "up to their capacity, which they spend planning; an offline predictor's grant does not move.")

    # ---- inputs -------------------------------------------------------------------------------

    def check(self) -> None:
        """Cross-parameter checks that bounds alone cannot express."""
        if self.difficulty_min >= self.difficulty_max:
            raise ExplorerError(
                f"difficulty_min ({self.difficulty_min:g}) must be below difficulty_max ({self.difficulty_max:g})")

    @property
    def task_by_task(self) -> bool:
        """Whether a caveat is on that the prefix-sum build does not cover (then the build goes task by task)."""
        return ((self.compute_measure == "serial_depth" and self.misbehaviour_parallel > 0)
                or self.allotment == "offline_predictor" or self.sandbag_share > 0)

    @property
    def grant_margin(self) -> float | None:
        """The offline predictor's margin, or None under early exit (the program sets its own allotment)."""
        return self.allotment_margin if self.allotment == "offline_predictor" else None

    @property
    def serial_share(self) -> float | None:
        """p, the parallel share of misbehaviour, when the table reports serial depth; None for total work."""
        return self.misbehaviour_parallel if self.compute_measure == "serial_depth" else None

    def sandbag_edge(self) -> float:
        """A deceptive program sandbags when its kind uniform is at least this: the top sandbag_share of the
        band of uniforms that makes a program deceptive (so no new random stream is needed)."""
        edges = np.cumsum(self.kind_shares())
        lo, hi = float(edges[1]), float(edges[2])
        return hi - self.sandbag_share * (hi - lo)

    @property
    def overhead(self) -> float:
        """o = deception_overhead * (1 - memory) + deception_check_strength, per task."""
        return self.deception_overhead * (1.0 - self.memory) + self.deception_check_strength

    def kind_shares(self) -> np.ndarray:
        shares = np.array([float(self.kind_mix.get(k, 0.0)) for k in KINDS])
        return shares / shares.sum()

    def _difficulties(self, u: np.ndarray, scale: float) -> np.ndarray:
        lo, hi = self.difficulty_min, self.difficulty_max
        if self.difficulty_distribution == "uniform":
            d = lo + (hi - lo) * u
        elif self.difficulty_distribution == "log-uniform":
            d = lo * (hi / lo) ** u
        else:  # easy-heavy: density falls linearly from the minimum
            d = lo + (hi - lo) * (1.0 - np.sqrt(1.0 - u))
        return np.sort(d * scale)

    def tasks(self) -> Tasks:
        """The sorted difficulties of the training, held-out and deployment tasks."""
        self.check()
        u = np.random.Generator(np.random.PCG64(_streams(self.seed)[0])).random((3, self.n_tasks))
        return Tasks(self._difficulties(u[0], 1.0), self._difficulties(u[1], self.heldout_shift),
                     self._difficulties(u[2], self.deploy_shift))

    def uniforms(self, start: int = 0, stop: int | None = None, indices=None) -> np.ndarray:
        """The programs' random inputs, shape (len(UNIFORMS), count), host float64.

        Row r is stream r of the seed, read at program positions start..stop (or at `indices`). Each
        stream is its own generator advanced to the position, so a chunk's values never depend on the
        chunk size, and a few programs can be redrawn without drawing them all.
        """
        streams = _streams(self.seed)[1:]
        if indices is not None:
            idx = np.asarray(indices, dtype=np.int64).ravel()
            out = np.empty((len(UNIFORMS), idx.size))
            for r, ss in enumerate(streams):
                for i, at in enumerate(idx):
                    bg = np.random.PCG64(ss)
                    bg.advance(int(at))
                    out[r, i] = np.random.Generator(bg).random()
            return out
        stop = self.n_programs if stop is None else stop
        out = np.empty((len(UNIFORMS), stop - start))
        for r, ss in enumerate(streams):
            bg = np.random.PCG64(ss)
            bg.advance(start)
            np.random.Generator(bg).random(out=out[r])
        return out

    def programs(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Kind, capacity, efficiency, overhead and misbehaviour cost from uniforms (host); the
        reference implementation and `per_task` use it, the vectorised build does the same on device."""
        kind = np.searchsorted(np.cumsum(self.kind_shares())[:-1], u[0], side="right")
        c_lo, c_hi = self.capacity_range()
        efficiency = self.efficiency_min + (1.0 - self.efficiency_min) * u[2]
        is_dec = kind == KINDS.index("deceptive")
        return {
            "kind": kind,
            "capacity": c_lo * (c_hi / c_lo) ** u[1],
            "efficiency": np.where(is_dec, efficiency * self.deceptive_efficiency, efficiency),
            "overhead": np.where(is_dec, self.overhead, 0.0),
            "misbehaviour": np.where(kind == KINDS.index("goof_off"), self.misbehaviour_cost, 0.0),
            "memorised": np.floor((0.5 + 0.5 * u[4]) * self.n_tasks),
            "sandbag": is_dec & (u[0] >= self.sandbag_edge()),
        }

    def capacity_range(self) -> tuple[float, float]:
        """Capacities are log-uniform between these."""
        return 0.25 * self.difficulty_min, self.capacity_max * self.difficulty_max

    # ---- the build ----------------------------------------------------------------------------

    def table(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
              backend: str | Backend | None = None) -> ProgramTable:
        """Build the ProgramTable on `backend` (default: this world's `backend` parameter).

        From the kept draws of this seed and size where they are kept (explorer.worlds.abstract_kept), a
        world slider's change recomputes only the kinds and columns it touches. A build takes milliseconds
        to seconds, so it reports one step of progress and is never stopped."""
        be = get_backend(backend or self.backend)
        self.check()
        kept = kept_draws(self, be)
        setting = None if kept is None or self.task_by_task else Setting(self)
        plan = None if setting is None else kept.plan(setting)
        if plan is not None:
            cols = kept.build(setting, plan)
        else:
            cols = self._build_whole(be, None if kept is None else kept.u)
            if setting is not None:
                kept.last = {"how": "whole"}
        labels = None
        if setting is not None:
            kept.keep(setting, cols)
            labels = kept.kind_labels(setting)
        if progress is not None:
            progress(1, 1)
        return ProgramTable(backend=be, kind_labels=labels, **cols)

    def _build_whole(self, be: Backend, uniforms=None) -> dict:
        """Every column of every program, chunk by chunk; from `uniforms` (all programs', on `be`) when
        given, else drawn chunk by chunk."""
        tasks = self.tasks()
        n = self.n_programs
        xp = be.xp
        cols = {c: xp.empty((n,), dtype=xp.int64 if c == "kind" else xp.float64, **_device(be)) for c in COLUMNS}
        sets = MergedTasks.of(be, tasks)
        # Chunks that fit in cache: on these machines a fresh allocation of a whole column costs more
        # than the arithmetic on it, so the CPU build works through 64k programs at a time.
        gpu = be.name in ("torch:cuda", "cupy")
        chunk = n if gpu else CPU_CHUNK
        if self.task_by_task:  # rows of difficulties, and chunks whose per-task matrices stay small
            sets = tuple(be.xp.reshape(be.asarray(t), (1, -1)) for t in tasks)
            chunk = max(1, min(chunk, (GPU_CELLS if gpu else CPU_CELLS) // self.n_tasks))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            u = be.asarray(self.uniforms(start, stop)) if uniforms is None else uniforms[:, start:stop]
            part = self._build_chunk(be, sets, u)
            for c in COLUMNS:
                cols[c][start:stop] = part[c]
        return cols

    def _build_chunk(self, be: Backend, sets: MergedTasks | tuple, u) -> dict:
        xp = be.xp
        f64, i64 = xp.float64, xp.int64
        T = float(self.n_tasks)

        def const(v):
            return xp.asarray(v, dtype=f64, **_device(be))

        def per_kind(default=0.0, **values):  # a value per kind, gathered by each program's kind
            return xp.take(be.asarray(np.array([float(values.get(k, default)) for k in KINDS])), kind)

        # kind = how many cumulative shares u[0] reaches (searchsorted(edges, u[0], side="right"))
        u0 = u[0, ...]
        edges = np.cumsum(self.kind_shares())[:-1]
        kind = xp.astype(u0 >= float(edges[0]), i64)
        for edge in edges[1:]:
            kind += xp.astype(u0 >= float(edge), i64)
        is_dec = kind == KINDS.index("deceptive")
        is_lookup = kind == KINDS.index("lookup")

        c = self.capacities(u[1, ...])
        e = self.efficiencies(u[2, ...], per_kind(1.0, deceptive=self.deceptive_efficiency))
        o = per_kind(deceptive=self.overhead)
        m = per_kind(goof_off=self.misbehaviour_cost)

        if self.task_by_task:
            avg, misbehaviour, kf, heldout, deploy = self._by_task(be, sets, kind, c, e, o, m, u0)
        else:
            at, k, kf, solved_compute, total = solve_by_prefix(xp, sets, c, e, o, T)
            # The kinds other than goof-off have m = 0, so their slack comes out exactly 0.
            extra = goof_off_slack(xp, sets, c, e, m, k, kf, solved_compute)
            avg, misbehaviour = (total + extra) / T, xp.where(is_dec, xp.minimum(o, c), extra / T)
            heldout, deploy = (xp.astype(xp.take(counts, at), f64) for counts in sets.counts[1:])

        memorised = self.memorised(u[4, ...])
        zero, lookup_compute = const(0.0), const(self.lookup_compute)
        spread = self.bits_spread * u[3, ...]
        bits = self.description_bits(u[2, ...], spread, per_kind(goof_off=self.goof_off_bits_offset,
                                                                  deceptive=self.deception_bits_offset), zero)
        # Non-deceptive programs have o = 0, so x is also their deployment threshold c e.
        return {
            "kind": kind,
            "bits": xp.where(is_lookup, self.lookup_bits(memorised, spread), bits),
            "avg_compute": xp.where(is_lookup, lookup_compute, avg),
            "max_compute": xp.where(is_lookup, lookup_compute, c),
            "train_perf": xp.where(is_lookup, memorised, kf) / T,
            "heldout_perf": xp.where(is_lookup, zero, heldout / T),
            "deploy_perf": xp.where(is_lookup | is_dec, zero, deploy / T),
            "misbehaviour_compute": xp.where(is_lookup, zero, misbehaviour),
        }

    # The per-program formulas, shared by the whole-table build and the build by kind
    # (explorer.worlds.abstract_kept), so both give the same bits.

    def capacities(self, u1):
        c_lo, c_hi = self.capacity_range()
        return c_lo * (c_hi / c_lo) ** u1

    def efficiencies(self, u2, factor):
        """Efficiencies from their uniform, times `factor` (deceptive_efficiency for deceptive programs, else 1)."""
        return (self.efficiency_min + (1.0 - self.efficiency_min) * u2) * factor

    def memorised(self, u4):
        """How many training tasks a lookup table has memorised: half of them to all."""
        return _xp_of(u4).floor((0.5 + 0.5 * u4) * float(self.n_tasks))

    def description_bits(self, u2, spread, offset, zero):
        """Bits of a non-lookup program: base, efficiency and noise, plus its kind's offset, never below 0."""
        xp = _xp_of(u2)
        return xp.maximum(self.base_bits + self.efficiency_bits * u2 + spread + offset, zero)

    def lookup_bits(self, memorised, spread):
        return self.lookup_bits_per_task * memorised + spread

    def _by_task(self, be: Backend, sets: tuple, kind, c, e, o, m, u0) -> tuple:
        """Mean charged compute, mean misbehaviour and the solved counts of each task set, task by task."""
        xp = be.xp
        f64 = xp.float64
        T = float(self.n_tasks)

        def col(v):
            return xp.reshape(v, (-1, 1))

        goof = col(kind == KINDS.index("goof_off"))
        sandbag = col((kind == KINDS.index("deceptive")) & (u0 >= self.sandbag_edge()))
        zero = xp.asarray(0.0, dtype=f64, **_device(be))
        c, e, o, m = (col(v) for v in (c, e, o, m))
        task, mis, solved = spend(xp, sets[0], c, e, o, m, goof, sandbag, self.grant_margin, zero)
        p = self.serial_share
        charged = task + mis if p is None else serial_depth(xp, task, mis, p)
        counts = [xp.sum(xp.astype(solved, f64), axis=1)]
        for d in sets[1:]:  # held-out and deployment: only whether each task is solved
            counts.append(xp.sum(xp.astype(solves(xp, d, c, e, o, self.grant_margin), f64), axis=1))
        return (xp.sum(charged, axis=1) / T, xp.sum(mis, axis=1) / T, *counts)

    # ---- per-task detail for a few programs -----------------------------------------------------

    def per_task(self, indices) -> dict[str, np.ndarray]:
        """Explicit per-task compute for the programs at `indices` (host arrays, shape len x n_tasks).

        Returns `task_compute` (compute spent on the task itself), `misbehaviour_compute` (both work),
        `serial_depth` (the serial steps of that work, with misbehaviour_parallel of the misbehaviour on
        its own lane), `solved` and the training `difficulty`, worked out task by task rather than from
        prefix sums: the views draw it and the tests check the table against it.
        """
        d = self.tasks().train[None, :]
        p = self.programs(self.uniforms(indices=indices))
        c, e, o, m = (p[k][:, None] for k in ("capacity", "efficiency", "overhead", "misbehaviour"))
        kind = p["kind"][:, None]
        lookup = kind == KINDS.index("lookup")
        task, mis, solved = spend(np, d, c, e, o, m, kind == KINDS.index("goof_off"), p["sandbag"][:, None],
                                  self.grant_margin, np.float64(0.0))
        lookup_solved = np.arange(self.n_tasks)[None, :] < p["memorised"][:, None]
        return {
            "task_compute": np.where(lookup, self.lookup_compute, task),
            "misbehaviour_compute": np.where(lookup, 0.0, mis),
            "serial_depth": np.where(lookup, self.lookup_compute, serial_depth(np, task, mis, self.misbehaviour_parallel)),
            "solved": np.where(lookup, lookup_solved, solved & ~lookup),
            "difficulty": d[0],
        }


#: The per-program random streams, in row order of `AbstractWorld.uniforms`.
UNIFORMS = ("kind", "capacity", "efficiency", "bits", "memorised")

#: Programs per chunk of a CPU build.
CPU_CHUNK = 1 << 16
#: Cells (programs x tasks) per chunk of a task-by-task build, on a CPU and on a GPU.
CPU_CELLS, GPU_CELLS = 1 << 20, 1 << 26


def solves(xp, d, c, e, o, margin: float | None):
    """Whether each program solves each task: its task-solving (d/e) plus its planning (o) fits the
    allotment, its capacity c under early exit, min(c, margin d/e) under an offline predictor."""
    need = d / e
    return need + o <= (c if margin is None else xp.minimum(c, margin * need))


def spend(xp, d, c, e, o, m, goof, sandbag, margin: float | None, zero):
    """(task compute, misbehaviour compute, solved) for programs (rows: c, e, o, m, goof, sandbag) on tasks
    (columns of d), by the module's rules. `zero` is a 0-d array of the back end."""
    need = d / e
    allotted = c if margin is None else xp.minimum(c, margin * need)
    solved = need + o <= allotted
    task = xp.where(solved, need, xp.maximum(allotted - o, zero))
    planned = xp.where(sandbag, allotted - need, o)  # a sandbagger plans with every step it is granted
    used = xp.where(goof, xp.minimum(m, allotted - need), planned)
    return task, xp.where(solved, used, xp.minimum(o, allotted)), solved


def serial_depth(xp, task, mis, p: float):
    """Serial steps of a task: the misbehaviour's serial part, then the longer of the task's chain and the
    misbehaviour's parallel lane."""
    return (1.0 - p) * mis + xp.maximum(task, p * mis)


def _streams(seed: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences: one for the tasks, then one per program stream."""
    return np.random.SeedSequence(seed).spawn(1 + len(UNIFORMS))


def _xp_of(array):
    from array_api_compat import array_namespace

    return array_namespace(array)


def _device(be: Backend) -> dict:
    return {"device": be.device} if be.device is not None else {}
