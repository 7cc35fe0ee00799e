"""The measurement as one compiled loop (numba): every program, every input, straight into its counts.

The array interpreter (interpreter.py) pays for generality: it runs on any array back end, so each
instruction of each schedule group is a handful of whole-array operations, and every result goes through
a (programs, inputs) matrix before it is counted. On the CPU with numpy the same work is cheaper as plain
loops compiled by numba, one program at a time: a loop-free program runs view by view in the obvious
interpreter (`_run`, machine.run's loop), a program with a loop runs all inputs of one length in lockstep
over its schedule (`_run_inputs`), and each run is added into the program's counts at once, so nothing of
size programs x inputs is ever held. Neither checks the step limit while running: every program stops
(loops run n times), so a run has failed exactly when its unbounded steps exceed the limit.

The shortcuts are the array path's, so the counts are the same integers:

- a loop-free program with k NEXTs reads only x[0..k], so it runs once per view (those bits, zero-padded,
  and with IFSHORT whether the input is long) and each view stands for every input it covers: per view,
  `Inputs` holds how many training and held-out inputs it covers with each answer, and the sum of their
  signature weights;
- f = 1 is run only for programs that contain IFDEP (without it the run is the f = 0 run).

The signature is the same sum modulo 2**64 (uint64 arithmetic wraps in numba as in numpy), so programs
group into the same behaviours bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from explorer.worlds.enumerated.machine import ADDX, DEC, END, HALT, IFDEP, IFSHORT, IFX, INC, LOOP, NEXT, NOP, XORX
from explorer.worlds.enumerated.tasks import TASKS, all_inputs, target

#: Task codes inside the kernel, in TASKS order (parity, count, first, majority).
PARITY, COUNT, FIRST, MAJORITY = (TASKS.index(t) for t in ("parity", "count", "first", "majority"))


def _jit(function):
    """numba.njit with an on-disk cache where one can be written (next to this file, or numba's user-wide
    folder); without any writable place (a read-only install and no writable home) compile on each run.

    nogil: a served page measures on a worker thread, and the server's event loop must keep running
    meanwhile (the kernel touches only its own arrays)."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(function)


@dataclass(frozen=True)
class Inputs:
    """The task's inputs as the kernel reads them.

    Per input (all of length n concatenated, input c of length n at 2**n - 2 + c; x[j] is bit j of c):
    its answer and its two signature weights per flag. Per view (width w = 1..max_length bits, and long:
    n >= n_train; view v at offset[w] + 2 * v + long): the training and held-out inputs it covers, by answer,
    and the sums of their signature weights.
    """

    n_train: int
    n_test: int
    targets: np.ndarray        # (inputs,) int64
    weights: np.ndarray        # (2, inputs, 2) uint64: flag, input, hash component
    offset: np.ndarray         # (max_length + 1,) int64: first view of each width
    view_train: np.ndarray     # (views, answers) int64: training inputs covered, by their answer
    view_heldout: np.ndarray   # (views, answers) int64
    view_train_count: np.ndarray  # (views,) int64: training inputs covered (the most steps are over those it covers)
    view_any: np.ndarray       # (views,) bool: covers some input
    view_weights: np.ndarray   # (2, views, 2) uint64


def inputs(task: str, n_train: int, n_test: int, max_length: int, weights: dict[int, np.ndarray]) -> Inputs:
    """The kernel's view of the inputs; `weights[n]` is the (2, 2**n, 2) uint64 signature weights of length n."""
    answers = n_test + 2  # count's answers 0..n_test, and room for "none of them"
    targets = np.concatenate([target(task, all_inputs(n)) for n in range(1, n_test + 1)])
    flat_weights = np.concatenate([weights[n] for n in range(1, n_test + 1)], axis=1)
    offset = np.zeros(max_length + 1, dtype=np.int64)
    for w in range(1, max_length):
        offset[w + 1] = offset[w] + 2 * 2**w
    views = int(offset[max_length] + 2 * 2**max_length)
    view_train = np.zeros((views, answers), dtype=np.int64)
    view_heldout = np.zeros((views, answers), dtype=np.int64)
    view_train_count = np.zeros(views, dtype=np.int64)
    view_any = np.zeros(views, dtype=bool)
    view_weights = np.zeros((2, views, 2), dtype=np.uint64)
    for w in range(1, max_length + 1):
        for n in range(1, n_test + 1):
            c = np.arange(2**n)
            view = offset[w] + 2 * (c & (2**w - 1)) + int(n >= n_train)
            goal = target(task, all_inputs(n))
            np.add.at(view_train if n <= n_train else view_heldout, (view, goal), 1)
            view_any[view] = True
            if n <= n_train:
                np.add.at(view_train_count, view, 1)
            for f in (0, 1):
                for k in (0, 1):
                    np.add.at(view_weights[f, :, k], view, weights[n][f, :, k])  # wraps modulo 2**64
    return Inputs(n_train, n_test, targets, np.ascontiguousarray(flat_weights), offset, view_train, view_heldout,
                  view_train_count, view_any, view_weights)


def measure_rows(codes: np.ndarray, rows: np.ndarray, task: str, step_limit: int, failed_output: int,
                 given: Inputs, out: dict[str, np.ndarray], flag_changes: np.ndarray, signature: np.ndarray) -> None:
    """Measure the programs `rows` of `codes` (int8, PAD-padded) into the per-program arrays of `out`
    (train_correct, heldout_correct, deploy_correct, train_steps, train_max_steps), `flag_changes` and
    `signature` ((P, 2) uint64), as world.Measurement holds them."""
    _measure_rows(codes, np.asarray(rows, dtype=np.int64), TASKS.index(task), given.n_train, given.n_test, step_limit,
                  np.int64(failed_output), given.targets, given.weights, given.offset, given.view_train,
                  given.view_heldout, given.view_train_count, given.view_any, given.view_weights,
                  out["train_correct"], out["heldout_correct"], out["deploy_correct"], out["train_steps"],
                  out["train_max_steps"], flag_changes, signature)


def compile_seconds() -> float:
    """Compile (or load from numba's cache) the kernel by measuring one tiny space; returns the seconds."""
    import time

    started = time.perf_counter()
    codes = np.array([[LOOP, XORX, END]], dtype=np.int8)
    given = inputs("parity", 1, 2, 3, {n: np.ones((2, 2**n, 2), dtype=np.uint64) for n in (1, 2)})
    out = {k: np.zeros(1, dtype=np.int64) for k in ("train_correct", "heldout_correct", "deploy_correct",
                                                  "train_steps", "train_max_steps")}
    measure_rows(codes, np.arange(1), "parity", 10, 1 << 40, given, out, np.zeros(1, dtype=bool), np.zeros((1, 2), np.uint64))
    return time.perf_counter() - started


@_jit
def _run(prog, length, partner, x, nbits, f, long):
    """One run of the program on input bits x (x[j] = bit j of the integer x; nbits = n): (acc, steps).

    machine.run's loop, without its step limit (every program stops: loops run n times)."""
    acc = 0
    i = 0
    steps = 0
    pc = 0
    passes = 0
    skip = False
    while pc < length:
        op = prog[pc]
        if skip:
            skip = False
            pc = partner[pc] + 1 if op == LOOP else pc + 1
            continue
        steps += 1
        nxt = pc + 1
        if op == INC:
            acc += 1
        elif op == DEC:
            acc -= 1
        elif op == ADDX:
            acc += (x >> i) & 1
        elif op == XORX:
            acc ^= (x >> i) & 1
        elif op == NEXT:
            i += 1
        elif op == LOOP:
            if nbits == 0:
                nxt = partner[pc] + 1
            else:
                passes = 0
                i = 0
        elif op == END:
            passes += 1
            if passes < nbits:
                i = passes
                nxt = partner[pc] + 1
        elif op == IFX:
            skip = ((x >> i) & 1) == 0
        elif op == IFDEP:
            skip = f == 0
        elif op == IFSHORT:
            skip = long
        elif op == HALT:
            nxt = length
        pc = nxt
    return acc, steps


@_jit
def _run_inputs(prog, length, partner, n, f, long, acc, steps, work):
    """_run on every input of length n at once (input c has bits c): acc[c], steps[c] for c < 2**n.

    The machine's control flow is fixed once n is known (straight code once, a loop body n times; HALT and
    skips only switch work off), so all 2**n runs walk one schedule together, each instruction one pass
    over the inputs with its effect masked where a run has halted, skips it or sits in a skipped loop.
    With the instruction fixed inside each pass there is no per-step dispatch to mispredict."""
    N = 2**n
    index, live, skip, outside = work[0], work[1], work[2], work[3]  # outside: not in a skipped loop
    for c in range(N):
        acc[c] = 0
        steps[c] = 0
        index[c] = 0
        live[c] = 1
        skip[c] = 0
        outside[c] = 1
    pos = 0
    while pos < length:
        op = prog[pos]
        if op == LOOP:
            end = partner[pos]
            for c in range(N):
                enter = live[c] & (1 - skip[c])
                outside[c] = 1 - (live[c] & skip[c])
                skip[c] = 0
                steps[c] += enter
            for j in range(n):
                for c in range(N):
                    if live[c] & outside[c]:
                        index[c] = j
                for q in range(pos + 1, end):
                    _step(prog[q], N, f, long, acc, steps, index, live, skip, outside)
                for c in range(N):
                    steps[c] += live[c] & outside[c]  # END
            for c in range(N):
                outside[c] = 1
            pos = end + 1
        else:
            _step(op, N, f, long, acc, steps, index, live, skip, outside)
            pos += 1


@_jit
def _step(op, N, f, long, acc, steps, index, live, skip, outside):
    """One instruction (not LOOP or END) on inputs 0..N-1: where it runs (a), its effect and its step."""
    if op == INC or op == DEC or op == NOP:
        delta = 1 if op == INC else -1 if op == DEC else 0
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            acc[c] += a * delta
            skip[c] = 0
    elif op == ADDX:
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            acc[c] += a & (c >> index[c])
            skip[c] = 0
    elif op == XORX:
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            acc[c] ^= a & (c >> index[c])
            skip[c] = 0
    elif op == NEXT:
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            index[c] += a
            skip[c] = 0
    elif op == IFX:
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            skip[c] = a & (1 - ((c >> index[c]) & 1))
    elif op == IFDEP or op == IFSHORT:
        skipping = (f == 0) if op == IFDEP else long
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            skip[c] = a & skipping
    elif op == HALT:
        for c in range(N):
            a = live[c] & outside[c] & (1 - skip[c])
            steps[c] += a
            live[c] &= 1 - a
            skip[c] = 0


@_jit
def _answer(task, acc):
    """tasks.answer for one output."""
    if task == PARITY or task == FIRST:
        return acc & 1  # acc mod 2, also for negative acc (two's complement)
    if task == COUNT:
        return acc
    return 1 if acc > 0 else 0


@_jit
def _measure_rows(codes, rows, task, n_train, n_test, step_limit, failed_output, targets, weights, offset,
                  view_train, view_heldout, view_train_count, view_any, view_weights,
                  train_correct, heldout_correct, deploy_correct, train_steps, train_max_steps, flag_changes,
                  signature):
    width = codes.shape[1]
    answers = view_train.shape[1]
    partner = np.zeros(width, dtype=np.int64)
    acc0 = acc1 = s0 = s1 = 0
    most_inputs = 2**n_test
    acc_f0, steps_f0 = np.zeros(most_inputs, dtype=np.int64), np.zeros(most_inputs, dtype=np.int64)
    acc_f1, steps_f1 = np.zeros(most_inputs, dtype=np.int64), np.zeros(most_inputs, dtype=np.int64)
    work = np.zeros((4, most_inputs), dtype=np.int64)
    for r in rows:
        prog = codes[r]
        length = 0
        nexts = 0
        looped = False
        has_flag = False
        has_short = False
        opened = 0
        for pos in range(width):
            op = prog[pos]
            if op < 0:
                break
            length += 1
            if op == NEXT:
                nexts += 1
            elif op == LOOP:
                looped = True
                opened = pos
            elif op == END:
                partner[opened] = pos
                partner[pos] = opened
            elif op == IFDEP:
                has_flag = True
            elif op == IFSHORT:
                has_short = True
        right = 0
        right_held = 0
        right_deploy = 0
        steps_sum = 0
        most = 0
        changes = False
        sig0 = np.uint64(0)
        sig1 = np.uint64(0)
        if looped:
            # every input: length n at 2**n - 2 + c, bits c; all 2**n of one length in lockstep
            for n in range(1, n_test + 1):
                long = n >= n_train
                base = 2**n - 2
                N = 2**n
                _run_inputs(prog, length, partner, n, 0, long, acc_f0, steps_f0, work)
                if has_flag:
                    _run_inputs(prog, length, partner, n, 1, long, acc_f1, steps_f1, work)
                for c in range(N):
                    acc0, s0 = acc_f0[c], steps_f0[c]
                    acc1, s1 = (acc_f1[c], steps_f1[c]) if has_flag else (acc0, s0)
                    failed0 = s0 > step_limit
                    failed1 = s1 > step_limit
                    out0 = failed_output if failed0 else acc0
                    out1 = failed_output if failed1 else acc1
                    goal = targets[base + c]
                    if n <= n_train:
                        if not failed0 and _answer(task, acc0) == goal:
                            right += 1
                        s = min(s0, step_limit)
                        steps_sum += s
                        most = max(most, s)
                    else:
                        if not failed0 and _answer(task, acc0) == goal:
                            right_held += 1
                        if not failed1 and _answer(task, acc1) == goal:
                            right_deploy += 1
                    if out0 != out1:
                        changes = True
                    sig0 += np.uint64(out0) * weights[0, base + c, 0] + np.uint64(out1) * weights[1, base + c, 0]
                    sig1 += np.uint64(out0) * weights[0, base + c, 1] + np.uint64(out1) * weights[1, base + c, 1]
        else:
            # one run per view: x[0..w-1] (w = NEXTs + 1, at most the longest program), short and long
            w = min(nexts + 1, width)
            for v in range(2**w):
                for long in (False, True):
                    at = offset[w] + 2 * v + long
                    if not view_any[at]:
                        continue
                    if has_short or not long or not view_any[at - 1]:  # without IFSHORT, long runs as short
                        acc0, s0 = _run(prog, length, partner, v, w, 0, long)
                        acc1, s1 = acc0, s0
                        if has_flag:
                            acc1, s1 = _run(prog, length, partner, v, w, 1, long)
                    failed0 = s0 > step_limit
                    failed1 = s1 > step_limit
                    out0 = failed_output if failed0 else acc0
                    out1 = failed_output if failed1 else acc1
                    if not failed0:
                        a = _answer(task, acc0)
                        if 0 <= a < answers:
                            right += view_train[at, a]
                            right_held += view_heldout[at, a]
                    if not failed1:
                        a = _answer(task, acc1)
                        if 0 <= a < answers:
                            right_deploy += view_heldout[at, a]
                    s = min(s0, step_limit)
                    steps_sum += s * view_train_count[at]
                    if view_train_count[at] > 0:
                        most = max(most, s)
                    if out0 != out1:
                        changes = True
                    sig0 += np.uint64(out0) * view_weights[0, at, 0] + np.uint64(out1) * view_weights[1, at, 0]
                    sig1 += np.uint64(out0) * view_weights[0, at, 1] + np.uint64(out1) * view_weights[1, at, 1]
        train_correct[r] = right
        heldout_correct[r] = right_held
        deploy_correct[r] = right_deploy
        train_steps[r] = steps_sum
        train_max_steps[r] = most
        flag_changes[r] = changes
        signature[r, 0] = sig0
        signature[r, 1] = sig1

