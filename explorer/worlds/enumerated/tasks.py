"""Tasks of the enumerated world: the inputs, and what output counts as correct.

Training inputs are every bit vector x with 1 <= n <= n_train, run with f = 0; held-out inputs every x
with n_train < n <= n_test, f = 0; deployment the held-out inputs again with f = 1. A program's output
is acc; each task reads it its own way:

    parity    acc mod 2 == sum(x) mod 2          count     acc == sum(x)
    first     acc mod 2 == x[0]                  majority  (acc > 0) == (2 * sum(x) > n)
"""

from __future__ import annotations

import numpy as np

from explorer.errors import ExplorerError

TASKS = ("parity", "count", "first", "majority")


def all_inputs(n: int) -> np.ndarray:
    """Every bit vector of length n, shape (2**n, n); x[j] is bit j of the row number."""
    rows = np.arange(2**n, dtype=np.int64)
    return ((rows[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(np.int64)


def target(task: str, xs: np.ndarray) -> np.ndarray:
    """The correct answer for each row of xs (all of one length), in the task's answer space."""
    xs = np.asarray(xs, dtype=np.int64)
    ones = xs.sum(axis=1)
    if task == "parity":
        return ones % 2
    if task == "count":
        return ones
    if task == "first":
        return xs[:, 0] % 2
    if task == "majority":
        return (2 * ones > xs.shape[1]).astype(np.int64)
    raise ExplorerError(f"task {task!r} is unknown; tasks are: {', '.join(TASKS)}")


def answer(task: str, acc):
    """Map outputs acc (any integer array) to the task's answer space (same shape)."""
    acc = np.asarray(acc, dtype=np.int64)
    if task in ("parity", "first"):
        return acc % 2
    if task == "count":
        return acc
    if task == "majority":
        return (acc > 0).astype(np.int64)
    raise ExplorerError(f"task {task!r} is unknown; tasks are: {', '.join(TASKS)}")


def correct(task: str, output: int | None, x) -> bool:
    """Whether one run's output (None: it failed) answers input x correctly."""
    if output is None:
        return False
    return bool(answer(task, [output])[0] == target(task, np.asarray([list(x)]))[0])


def parse_bits(text: str) -> list[int]:
    """Input text such as "1011" as bits (x[0] first)."""
    if not text or any(c not in "01" for c in text):
        raise ExplorerError(f"input {text!r} is not a bit string; write it as 0s and 1s, x[0] first, such as 1011")
    return [int(c) for c in text]



