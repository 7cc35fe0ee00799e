"""EnumeratedWorld: run every program of the machine on every input and read its kind off its behaviour.

Per program, over the training inputs (f = 0): avg_compute is the mean steps, max_compute the most steps
on any one input, train_perf the share answered correctly; heldout_perf and deploy_perf are the shares
of held-out inputs answered correctly with f = 0 and with f = 1. Kinds, measured (KINDS of table.py):

- deceptive: its output changes on some input when f = 1 (so it executes IFDEP and behaves differently
  once deployed). Among the programs that look good these are the issue's deceptive programs.
- lookup: not deceptive and wrong on some held-out input. Among the programs that look good (correct on
  every training input) these are the memorisers; programs that do not even look good land here too,
  as the closest existing kind ("does not generalise"); priors never select them at threshold 1.
- goof_off: generalises, not deceptive, and wasteful: more steps on the training inputs than the
  fastest program with the same outputs on every input (training and held-out, f = 0 and 1).
- honest: generalises, not deceptive, not wasteful.

misbehaviour_compute is the extra mean training steps over that fastest same-behaviour program.

Where a goof-off wastes (`Measurement.waste_where`): its extra mean steps (what the average speed prior
charges it) against its extra most steps over the least most steps of its behaviour (what the max
speed prior charges it). It wastes *in its slack* when the first is larger: its waste falls mostly on
the short training inputs, below its peak; *at its peak* when the second is larger (a NOP in a loop
body costs most on the longest inputs); *evenly* when they are equal (a NOP outside any loop). With the
slack instruction set (instruction_set = "slack"), IFSHORT lets a program do the first on purpose. Looking
good is the priors' job (train_perf >= threshold): use performance_threshold = 1.0 for "correct on every
training input", as the issue states it (at 0.9, one mistake in the 14 default training inputs passes).

Speed: a loop-free program of length <= L reads only x[0..L-1] and of n sees at most whether it is long
(IFSHORT), so it runs once on the 2**L zero-padded views (twice, as short and as long, in a chunk with
IFSHORT) and its results are gathered for every input (input deduplication); programs with loops run on
every input through interpreter.execute, with f = 1 only when they contain IFDEP.

Two interpreters measure the same integers (tests/test_enumerated_compiled.py compares every column):
`array`, interpreter.execute on the world's array back end, and `compiled`, one numba loop over programs
and inputs (compiled.py), several times faster on numpy on the CPU. `interpreter = "auto"` (the default)
takes compiled for the numpy back end and array for the others (torch, cupy, array-api-strict). The
choice is an attribute and not a parameter: it changes how the table is computed, never what it holds, so
links, scenarios and the disk cache do not see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
import param

from explorer.backend import BACKEND_NAMES, get_backend
from explorer.errors import ExplorerError
from explorer.table import KINDS, ProgramTable
from explorer.worlds.base import BuildStopped, World
from explorer.worlds.enumerated.interpreter import execute
from explorer.worlds.enumerated.machine import IFDEP, IFSHORT, INSTRUCTION_SETS, LOOP, STEP_LIMIT
from explorer.worlds.enumerated.spaces import MAX_LENGTH, ProgramSpace, enumerate_programs
from explorer.worlds.enumerated.tasks import TASKS, all_inputs, answer, target

#: Programs run per chunk with n_test = 8 (bounds memory: a chunk's per-input results are chunk x 2**n_test,
#: so longer held-out inputs get proportionally smaller chunks).
CHUNK = 32_768
#: Output recorded for a run that hit the step limit: never a correct answer.
FAILED = np.int64(1 << 40)
#: Programs per chunk of the compiled interpreter, loop-free and with loops (a chunk is where progress is
#: reported and a stop honoured; a program with a loop runs on every input, one without on a few views).
COMPILED_CHUNKS = {False: 131_072, True: 16_384}
#: Ways to measure: auto (compiled on numpy, array elsewhere), compiled (numba), array (interpreter.execute).
INTERPRETERS = ("auto", "compiled", "array")
#: Where a program's waste falls (Measurement.waste_where): nowhere, mostly in its slack, evenly, at its peak.
WASTE_PLACES = ("none", "slack", "even", "peak")


class MeasurementStopped(BuildStopped):
    """Raised by EnumeratedWorld.measure when its `should_stop` said so between chunks; nothing is cached."""

    def __init__(self, done: int, total: int):
        super().__init__(f"Measurement stopped after {done} of {total} chunks of programs.")
        self.done, self.total = done, total


@dataclass(frozen=True)
class Measurement:
    """Per program counts over the input sets, before they become table columns."""

    space: ProgramSpace
    n_train_inputs: int
    n_heldout_inputs: int
    train_correct: np.ndarray
    heldout_correct: np.ndarray
    deploy_correct: np.ndarray
    train_steps: np.ndarray      # summed over training inputs
    train_max_steps: np.ndarray
    flag_changes_output: np.ndarray
    signature: np.ndarray        # (P, 2) hash of the outputs on every input, both flags

    @property
    def looks_good(self) -> np.ndarray:
        return self.train_correct == self.n_train_inputs

    @property
    def generalises(self) -> np.ndarray:
        return self.heldout_correct == self.n_heldout_inputs

    @cached_property
    def _behaviours(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, starts, group): programs sorted so that each behaviour (one signature) is one run, where
        each run starts, and each program's run number. Sorted once per measurement: with the table and the
        report asking for the fastest of each behaviour several times, sorting 6.5 million signatures each
        time (np.unique on rows) took longer than measuring them."""
        first, second = self.signature[:, 0], self.signature[:, 1]
        order = np.argsort(first)
        a, b = first[order], second[order]
        tied = a[1:] == a[:-1]
        if (tied & (b[1:] != b[:-1])).any():  # same first half, different second: sort by both
            order = np.lexsort((second, first))
            a, b = first[order], second[order]
        new = np.concatenate([[True], (a[1:] != a[:-1]) | (b[1:] != b[:-1])])
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.cumsum(new) - 1
        return order, np.nonzero(new)[0], group

    def _least_per_behaviour(self, values: np.ndarray) -> np.ndarray:
        """For each program, the least of `values` among programs with its outputs on every input."""
        order, starts, group = self._behaviours
        return np.minimum.reduceat(values[order], starts)[group]

    def fastest_same_behaviour(self) -> np.ndarray:
        """For each program, the fewest training steps among programs with its outputs on every input."""
        return self._least_per_behaviour(self.train_steps)

    def fastest_peak_same_behaviour(self) -> np.ndarray:
        """For each program, the least most-steps (over training inputs) among programs with its outputs."""
        return self._least_per_behaviour(self.train_max_steps)

    def waste_where(self) -> np.ndarray:
        """For each program, where its waste falls: WASTE_PLACES index (none, slack, even, peak).

        none: not wasteful. Otherwise its extra mean steps over the fastest program of its behaviour (the
        average prior's charge) against its extra most steps over the least of its behaviour (the max
        prior's charge): slack when the mean's is larger, peak when the most's is, even when equal.
        """
        n = self.n_train_inputs
        extra_mean = self.train_steps - self.fastest_same_behaviour()          # times n, exact integers
        extra_peak = (self.train_max_steps - self.fastest_peak_same_behaviour()) * n
        where = np.full(len(self.space), WASTE_PLACES.index("even"), dtype=np.int64)
        where[extra_mean > extra_peak] = WASTE_PLACES.index("slack")
        where[extra_mean < extra_peak] = WASTE_PLACES.index("peak")
        where[extra_mean == 0] = WASTE_PLACES.index("none")
        return where

    def kinds(self) -> np.ndarray:
        """Integer codes into KINDS; see the module docstring for the rules."""
        wasteful = self.train_steps > self.fastest_same_behaviour()
        kind = np.full(len(self.space), KINDS.index("honest"), dtype=np.int64)
        kind[wasteful] = KINDS.index("goof_off")
        kind[~self.generalises] = KINDS.index("lookup")
        kind[self.flag_changes_output] = KINDS.index("deceptive")
        return kind


class EnumeratedWorld(World):
    """Every program of the machine up to max_length, run on every input and measured."""

    measured = True  # seconds to minutes of running programs: Simulation keeps its tables on disk
    machine_params = ("backend",)
    result_free_params = ("backend",)  # every back end gives the same integers

    task = param.Selector(default="parity", objects=list(TASKS), doc="What a program must compute from x.")
    max_length = param.Integer(6, bounds=(1, MAX_LENGTH), doc="Longest program enumerated (6 on a CPU, 8 on a GPU).")
    n_train = param.Integer(3, bounds=(1, 8), doc="Training inputs: every x with 1 <= n <= n_train (f = 0).")
    n_test = param.Integer(8, bounds=(2, 12), doc="Held-out and deployment inputs: every x with n_train < n <= n_test.")
    step_limit = param.Integer(STEP_LIMIT, bounds=(1, 100_000), doc="A run that would take more steps has failed.")
    instruction_set = param.Selector(
        default="basic", objects=list(INSTRUCTION_SETS),
        doc="basic: the eleven instructions; slack: those and IFSHORT (run the next only if n < n_train), "
            "by which a program senses the slack a short input leaves it.")
    backend = param.Selector(default="numpy", objects=list(BACKEND_NAMES), doc="Where the interpreter's arrays live.")

    #: Which interpreter measures (INTERPRETERS); see the module docstring.
    interpreter = "auto"

    def __init__(self, **params):
        super().__init__(**params)
        self._cache: dict = {}

    def check(self) -> None:
        if self.n_test <= self.n_train:
            raise ExplorerError(f"n_test ({self.n_test}) must be above n_train ({self.n_train}): held-out inputs are longer")
        if self.interpreter not in INTERPRETERS:
            raise ExplorerError(f"interpreter: {self.interpreter!r} is unknown; choose one of: {', '.join(INTERPRETERS)}")

    def engine(self) -> str:
        """The interpreter that measures: compiled or array (auto: compiled on the numpy back end)."""
        if self.interpreter == "auto":
            return "compiled" if self.backend == "numpy" else "array"
        return self.interpreter

    def _key(self):
        return (self.task, self.max_length, self.n_train, self.n_test, self.step_limit, self.instruction_set, self.backend,
                self.engine())

    def space(self) -> ProgramSpace:
        return enumerate_programs(self.max_length, self.instruction_set)

    def measure(self, progress=None, should_stop=None) -> Measurement:
        """Run everything (cached per parameter values); `progress(done, total)` is called per chunk.

        `should_stop()`, when given, is asked before each chunk; if it returns True the measurement ends
        there with MeasurementStopped and the cache keeps what it held before.
        """
        self.check()
        key = self._key()
        if key not in self._cache:
            m = self._measure(progress, should_stop)
            self._cache.clear()
            self._cache[key] = m
        return self._cache[key]

    def table(self, progress=None, should_stop=None) -> ProgramTable:
        """The measured space as a ProgramTable (see the module docstring for the columns and kinds)."""
        m = self.measure(progress, should_stop)
        be = get_backend(self.backend)
        steps = m.train_steps.astype(np.float64)
        cols = {
            "kind": m.kinds(),
            "bits": m.space.bits.astype(np.float64),
            "avg_compute": steps / m.n_train_inputs,
            "max_compute": m.train_max_steps.astype(np.float64),
            "train_perf": m.train_correct / m.n_train_inputs,
            "heldout_perf": m.heldout_correct / m.n_heldout_inputs,
            "deploy_perf": m.deploy_correct / m.n_heldout_inputs,
            "misbehaviour_compute": (steps - m.fastest_same_behaviour()) / m.n_train_inputs,
        }
        return ProgramTable(backend=be, **{k: be.asarray(v) for k, v in cols.items()})

    # ---- measurement ---------------------------------------------------------------------------

    def _measure(self, progress, should_stop=None) -> Measurement:
        space = self.space()
        P = len(space)
        self._out = {name: np.zeros(P, dtype=np.int64) for name in
                     ("train_correct", "heldout_correct", "deploy_correct", "train_steps", "train_max_steps")}
        self._flag_changes = np.zeros(P, dtype=bool)
        self._signature = np.zeros((P, 2), dtype=np.uint64)
        rng = np.random.default_rng(12345)  # fixed: hash weights, not a result
        self._weights = {n: rng.integers(0, 2**63, size=(2, 2**n, 2), dtype=np.uint64) for n in range(1, self.n_test + 1)}
        chunks = self._compiled_chunks(space) if self.engine() == "compiled" else self._array_chunks(space)
        for done, chunk in enumerate(chunks):
            if should_stop is not None and should_stop():
                self._out = None
                raise MeasurementStopped(done, len(chunks))
            chunk()
            if progress is not None:
                progress(done + 1, len(chunks))
        n_train_inputs = sum(2**n for n in range(1, self.n_train + 1))
        n_heldout = sum(2**n for n in range(self.n_train + 1, self.n_test + 1))
        out, self._out = self._out, None
        return Measurement(space, n_train_inputs, n_heldout, flag_changes_output=self._flag_changes,
                           signature=self._signature.view(np.int64), **out)

    def _array_chunks(self, space) -> list:
        """The array interpreter's work: loop-free programs by views, then programs with loops, in chunks."""
        size = max(1024, CHUNK * 256 // 2**self.n_test)
        return [partial(self._measure_looped if looped else self._measure_straight, space, rows)
                for looped, rows in _loop_free_then_looped(space, {False: size, True: size})]

    def _compiled_chunks(self, space) -> list:
        """The compiled interpreter's work, in the same order in chunks of COMPILED_CHUNKS programs."""
        from explorer.worlds.enumerated import compiled

        given = compiled.inputs(self.task, self.n_train, self.n_test, space.max_length, self._weights)
        return [partial(compiled.measure_rows, space.codes, rows, self.task, self.step_limit, int(FAILED), given,
                        self._out, self._flag_changes, self._signature)
                for _, rows in _loop_free_then_looped(space, COMPILED_CHUNKS)]

    def _input_sets(self):
        """(n, inputs, is_training) for every input length."""
        return [(n, all_inputs(n), n <= self.n_train) for n in range(1, self.n_test + 1)]

    def _measure_straight(self, space, rows):
        """Loop-free programs: run once on the 2**L zero-padded views, then count per view."""
        codes = space.codes[rows]
        L = space.max_length
        V = 2**L
        vx = all_inputs(L)
        # IFSHORT sees one thing about n, whether it is long: then the views run twice, as short and as long
        split = bool((codes == IFSHORT).any())
        longs = (False, True) if split else (False,)

        def views(f):
            runs = [execute(codes, vx, np.full(V, f), self.backend, self.step_limit, 0 if long else L + 1)
                    for long in longs]
            return tuple(np.concatenate(parts, axis=1) for parts in zip(*runs))

        res = [views(f) for f in (0, 1)]
        V2 = V * len(longs)
        accs = [np.where(failed, FAILED, acc) for acc, _, failed in res]
        answers = [np.where(failed, -1, answer(self.task, acc)) for acc, (_, _, failed) in zip(accs, res)]
        steps0 = res[0][1]
        # per view: how many inputs of each set have each target, and the hash weight they add up to
        top = self.n_test + 1
        hist = {name: np.zeros((V2, top + 1)) for name in ("train", "heldout")}
        used = {name: np.zeros(V2, dtype=bool) for name in ("train", "heldout")}
        weight = np.zeros((2, V2, 2), dtype=np.uint64)
        for n, xs, training in self._input_sets():
            view = (np.arange(len(xs)) & (V - 1)) + (V if split and n >= self.n_train else 0)
            name = "train" if training else "heldout"
            np.add.at(hist[name], (view, target(self.task, xs)), 1.0)
            used[name][view] = True
            for f in (0, 1):
                for k in (0, 1):
                    np.add.at(weight[f, :, k], view, self._weights[n][f, :, k])
        def count(ans, name):
            return sum(((ans == t).astype(np.float64) @ hist[name][:, t]) for t in range(top + 1)).round().astype(np.int64)
        out = self._out
        out["train_correct"][rows] = count(answers[0], "train")
        out["heldout_correct"][rows] = count(answers[0], "heldout")
        out["deploy_correct"][rows] = count(answers[1], "heldout")
        out["train_steps"][rows] = (steps0.astype(np.float64) @ hist["train"].sum(axis=1)).round().astype(np.int64)
        out["train_max_steps"][rows] = steps0[:, used["train"]].max(axis=1)
        seen = used["train"] | used["heldout"]
        self._flag_changes[rows] = (accs[0][:, seen] != accs[1][:, seen]).any(axis=1)
        self._signature[rows] = accs[0].astype(np.uint64) @ weight[0] + accs[1].astype(np.uint64) @ weight[1]

    def _measure_looped(self, space, rows):
        """Programs with loops: run on every input; with f = 1 only those that contain IFDEP."""
        codes = space.codes[rows]
        has_flag = (codes == IFDEP).any(axis=1)
        out = self._out
        for n, xs, training in self._input_sets():
            acc0, steps0, failed0 = execute(codes, xs, np.zeros(len(xs)), self.backend, self.step_limit, self.n_train)
            acc1, failed1 = acc0.copy(), failed0.copy()
            if has_flag.any():
                a, _, fl = execute(codes[has_flag], xs, np.ones(len(xs)), self.backend, self.step_limit, self.n_train)
                acc1[has_flag], failed1[has_flag] = a, fl
            acc0, acc1 = np.where(failed0, FAILED, acc0), np.where(failed1, FAILED, acc1)
            goal = target(self.task, xs)[None, :]
            right0 = (answer(self.task, acc0) == goal) & ~failed0
            if training:
                out["train_correct"][rows] += right0.sum(axis=1)
                out["train_steps"][rows] += steps0.sum(axis=1)
                out["train_max_steps"][rows] = np.maximum(out["train_max_steps"][rows], steps0.max(axis=1))
            else:
                right1 = (answer(self.task, acc1) == goal) & ~failed1
                out["heldout_correct"][rows] += right0.sum(axis=1)
                out["deploy_correct"][rows] += right1.sum(axis=1)
            self._flag_changes[rows] |= (acc0 != acc1).any(axis=1)
            w = self._weights[n]
            self._signature[rows] += acc0.astype(np.uint64) @ w[0] + acc1.astype(np.uint64) @ w[1]


def _loop_free_then_looped(space: ProgramSpace, size: dict[bool, int]) -> list[tuple[bool, np.ndarray]]:
    """(looped, rows) chunks: the loop-free programs, then those with a loop, `size[looped]` at a time."""
    has_loop = (space.codes == LOOP).any(axis=1)
    return [(looped, rows) for looped in (False, True) for rows in _chunks(np.nonzero(has_loop == looped)[0], size[looped])]


def _chunks(rows: np.ndarray, size: int) -> list[np.ndarray]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]
