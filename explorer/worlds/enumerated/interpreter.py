"""A vectorised interpreter of the machine: many programs x many inputs at once, on any array back end.

Control flow in this machine is static once the input length n is known: straight code runs once, and a
loop body runs exactly n times (HALT and skips only switch work off, they never jump back). So programs
with the same length and the same LOOP/END positions share one schedule of positions for a given n, and
a group of them runs as one sequence of array operations over a (programs, inputs) grid:

    a      = not halted and no skip pending and not inside a skipped loop   (the step executes)
    acc   += a * (INC - DEC + ADDX * x[i]);  acc = acc ^ x[i] where a and XORX
    i     += a * NEXT;  steps += a;  halted |= a * HALT
    skip   = a and (IFX and x[i] == 0  or  IFDEP and f == 0  or  IFSHORT and n >= long_from)

with x[i] gathered from the inputs padded with zeros, LOOP switching a pending skip into "skip the whole
loop", and i set to the pass number at the start of each pass. IFSHORT's test is one value per call, as
every input of a call has the same length n. `execute` agrees exactly with
machine.run (tested with hypothesis, on every back end).
"""

from __future__ import annotations

import numpy as np

from explorer.backend import Backend, get_backend
from explorer.worlds.enumerated.machine import (ADDX, DEC, END, HALT, IFDEP, IFSHORT, IFX, INC, LONG_FROM, LOOP, NEXT,
                                                STEP_LIMIT, XORX)
from explorer.worlds.enumerated.spaces import PAD


def structure_keys(codes: np.ndarray) -> np.ndarray:
    """One integer per program naming its length and its LOOP and END positions (the schedule's key)."""
    width = codes.shape[1]
    weights = (1 << np.arange(width, dtype=np.int64))
    length = (codes != PAD).sum(axis=1).astype(np.int64)
    loops = ((codes == LOOP) * weights).sum(axis=1)
    ends = ((codes == END) * weights).sum(axis=1)
    return length + (loops << 4) + (ends << (4 + width))


def schedule(program: np.ndarray, n: int) -> list[tuple[str, int, int]]:
    """The positions run for input length n: (what, position, pass) with what in op/loop/pass/end/exit."""
    length = int((program != PAD).sum())
    out, pos = [], 0
    while pos < length:
        if program[pos] == LOOP:
            end = pos + 1 + int(np.argmax(program[pos + 1 :] == END))
            out.append(("loop", pos, 0))
            for j in range(n):
                out.append(("pass", pos, j))
                out.extend(("op", q, j) for q in range(pos + 1, end))
                out.append(("end", end, j))
            out.append(("exit", end, 0))
            pos = end + 1
        else:
            out.append(("op", pos, 0))
            pos += 1
    return out


def execute(codes, xs, fs, backend: str | Backend = "numpy", step_limit: int = STEP_LIMIT, long_from: int = LONG_FROM):
    """Run every program (rows of the int8 PAD-padded matrix `codes`) on every input.

    xs: (N, n) host bits, all of one length n; fs: (N,) deployment flags; IFSHORT reads n >= long_from
    as long. Returns host int64 arrays
    (acc, steps, failed), each (P, N): failed marks runs that would exceed `step_limit` (their steps are
    step_limit and their acc is meaningless).
    """
    be = get_backend(backend)
    codes = np.asarray(codes, dtype=np.int8)
    xs = np.asarray(xs, dtype=np.int64).reshape(len(fs), -1)
    n = xs.shape[1]
    acc = np.zeros((codes.shape[0], xs.shape[0]), dtype=np.int64)
    steps = np.zeros_like(acc)
    keys = structure_keys(codes)
    for key in np.unique(keys):
        rows = np.nonzero(keys == key)[0]
        a, s = _run_group(be, codes[rows], xs, np.asarray(fs), n, n >= long_from)
        acc[rows], steps[rows] = a, s
    failed = steps > step_limit
    return acc, np.minimum(steps, step_limit), failed


def _run_group(be: Backend, codes: np.ndarray, xs: np.ndarray, fs: np.ndarray, n: int, long: bool):
    """One schedule group: programs of one length and one loop structure (`long`: IFSHORT skips)."""
    xp = be.xp
    P, N = codes.shape[0], xs.shape[0]
    width = n + codes.shape[1] + 2  # i never exceeds n - 1 + length
    padded = np.zeros((N, width), dtype=np.int32)
    padded[:, :n] = xs
    xflat = be.asarray(padded.reshape(-1), dtype=be.xp.int32)
    base = be.asarray(np.arange(N, dtype=np.int64) * width, dtype=be.xp.int32)[None, :]
    deployed = be.asarray(np.asarray(fs, dtype=bool))[None, :]
    i32 = xp.int32
    acc = xp.zeros((P, N), dtype=i32)
    idx = xp.zeros((P, N), dtype=i32)
    steps = xp.zeros((P, N), dtype=i32)
    halted = xp.zeros((P, N), dtype=xp.bool)
    skip = xp.zeros((P, N), dtype=xp.bool)
    loop_skipped = xp.zeros((P, N), dtype=xp.bool)
    zero = xp.zeros((P, N), dtype=i32)
    columns = {}

    def column(pos):
        if pos not in columns:
            ops = codes[:, pos].astype(np.int64)
            delta = (ops == INC).astype(np.int64) - (ops == DEC).astype(np.int64)
            flags = {name: be.asarray((ops == code)[:, None]) for name, code in
                     (("addx", ADDX), ("xor", XORX), ("next", NEXT), ("ifx", IFX), ("ifdep", IFDEP), ("halt", HALT),
                      ("ifshort", IFSHORT))}
            columns[pos] = (be.asarray(delta[:, None], dtype=xp.int32), flags)
        return columns[pos]

    for what, pos, j in schedule(codes[0], n):
        if what == "loop":
            enter = ~halted & ~skip
            loop_skipped = ~halted & skip
            skip = xp.zeros((P, N), dtype=xp.bool)
            steps = steps + xp.astype(enter, i32)
        elif what == "pass":
            idx = xp.where(~halted & ~loop_skipped, xp.full((P, N), j, dtype=i32), idx)
        elif what == "end":
            steps = steps + xp.astype(~halted & ~loop_skipped, i32)
        elif what == "exit":
            loop_skipped = xp.zeros((P, N), dtype=xp.bool)
        else:
            delta, flag = column(pos)
            a = ~halted & ~skip & ~loop_skipped
            bit = xp.take(xflat, xp.reshape(base + idx, (-1,)))
            bit = xp.reshape(bit, (P, N))
            acc = acc + xp.where(a, delta + xp.where(flag["addx"], bit, zero), zero)
            acc = xp.where(a & flag["xor"], acc ^ bit, acc)
            idx = idx + xp.astype(a & flag["next"], i32)
            steps = steps + xp.astype(a, i32)
            halted = halted | (a & flag["halt"])
            skip = a & ((flag["ifx"] & (bit == 0)) | (flag["ifdep"] & ~deployed))
            if long:
                skip = skip | (a & flag["ifshort"])
    return be.to_numpy(acc).astype(np.int64), be.to_numpy(steps).astype(np.int64)
