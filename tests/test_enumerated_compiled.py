"""The compiled interpreter measures exactly what the plain interpreter and the array interpreter do."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from program_strategies import programs, slack_programs

from explorer.errors import ExplorerError
from explorer.worlds.enumerated import compiled
from explorer.worlds.enumerated.machine import END, LOOP, run
from explorer.worlds.enumerated.spaces import PAD
from explorer.worlds.enumerated.tasks import TASKS, all_inputs, answer, target
from explorer.worlds.enumerated.world import FAILED, EnumeratedWorld


def _codes(batch, width):
    codes = np.full((len(batch), width), PAD, dtype=np.int8)
    for r, p in enumerate(batch):
        codes[r, : len(p)] = p
    return codes


def _weights(n_test, seed):
    rng = np.random.default_rng(seed)
    return {n: rng.integers(0, 2**63, size=(2, 2**n, 2), dtype=np.uint64) for n in range(1, n_test + 1)}


def _reference(program, task, n_train, n_test, limit, weights):
    """One program's counts, every input run by machine.run (the oracle), the signature summed in Python."""
    counts = dict(train_correct=0, heldout_correct=0, deploy_correct=0, train_steps=0, train_max_steps=0)
    changes, signature = False, [0, 0]
    for n in range(1, n_test + 1):
        xs = all_inputs(n)
        goals = target(task, xs)
        for c, x in enumerate(xs):
            (out0, steps0), (out1, _) = (run(program, x, f, limit, long_from=n_train) for f in (0, 1))
            right0 = out0 is not None and answer(task, [out0])[0] == goals[c]
            right1 = out1 is not None and answer(task, [out1])[0] == goals[c]
            if n <= n_train:
                counts["train_correct"] += right0
                counts["train_steps"] += steps0
                counts["train_max_steps"] = max(counts["train_max_steps"], steps0)
            else:
                counts["heldout_correct"] += right0
                counts["deploy_correct"] += right1
            a0, a1 = (int(FAILED) if o is None else o for o in (out0, out1))
            changes |= a0 != a1
            for k in (0, 1):
                signature[k] += a0 * int(weights[n][0, c, k]) + a1 * int(weights[n][1, c, k])
    return counts, changes, [s % 2**64 for s in signature]


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(st.one_of(programs, slack_programs), min_size=1, max_size=5), task=st.sampled_from(TASKS),
       n_train=st.integers(1, 3), extra=st.integers(1, 2), limit=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_compiled_counts_equal_the_plain_interpreter(batch, task, n_train, extra, limit, seed):
    """Outputs, steps and failures at the step limit, through every count the measurement keeps."""
    n_test = n_train + extra
    width = max(map(len, batch))
    weights = _weights(n_test, seed)
    given_inputs = compiled.inputs(task, n_train, n_test, width, weights)
    P = len(batch)
    out = {k: np.zeros(P, dtype=np.int64) for k in
           ("train_correct", "heldout_correct", "deploy_correct", "train_steps", "train_max_steps")}
    changes, signature = np.zeros(P, dtype=bool), np.zeros((P, 2), dtype=np.uint64)
    compiled.measure_rows(_codes(batch, width), np.arange(P), task, limit, int(FAILED), given_inputs, out, changes,
                          signature)
    for r, p in enumerate(batch):
        counts, change, sig = _reference(p, task, n_train, n_test, limit, weights)
        assert {k: int(v[r]) for k, v in out.items()} == counts, p
        assert changes[r] == change and [int(s) for s in signature[r]] == sig, p


@settings(max_examples=100, deadline=None)
@given(program=st.one_of(programs, slack_programs), n=st.integers(0, 6), f=st.integers(0, 1),
       long=st.booleans(), seed=st.integers(0, 2**16))
def test_one_compiled_run_equals_the_plain_one(program, n, f, long, seed):
    x = int(np.random.default_rng(seed).integers(0, 2**n)) if n else 0
    bits = [(x >> j) & 1 for j in range(n)]
    partner = np.zeros(len(program), dtype=np.int64)
    for pos, op in enumerate(program):
        if op == LOOP:
            opened = pos
        elif op == END:
            partner[opened], partner[pos] = pos, opened
    acc, steps = compiled._run(np.array(program, dtype=np.int8), len(program), partner, x, n, f, long)
    assert (acc, steps) == run(program, bits, f, step_limit=10**6, long_from=0 if long else n + 1)


@pytest.mark.parametrize("program, limit, fails", [
    ("LOOP INC END", 6, True),       # 7 steps on a 3-bit input: one over the limit fails
    ("LOOP INC END", 7, False),      # exactly at the limit: not a failure
    ("INC HALT INC INC", 1, True),
    ("INC HALT INC INC", 2, False),  # HALT is its last step
    ("IFX HALT LOOP XORX END", 2, True),   # x[0] = 0 skips HALT and runs the loop: over the limit
    ("IFDEP HALT LOOP NOP END", 3, True),  # f = 1 halts after 2 steps, f = 0 loops past the limit
])
def test_step_limit_and_halting_edges(program, limit, fails):
    from explorer.worlds.enumerated.machine import parse

    p = parse(program)
    assert any(run(p, x, f, limit)[0] is None for x in all_inputs(3) for f in (0, 1)) == fails
    weights = _weights(3, 0)
    given_inputs = compiled.inputs("count", 2, 3, len(p), weights)
    out = {k: np.zeros(1, dtype=np.int64) for k in
           ("train_correct", "heldout_correct", "deploy_correct", "train_steps", "train_max_steps")}
    changes, signature = np.zeros(1, dtype=bool), np.zeros((1, 2), dtype=np.uint64)
    compiled.measure_rows(_codes([p], len(p)), np.arange(1), "count", limit, int(FAILED), given_inputs, out, changes,
                          signature)
    counts, change, sig = _reference(p, "count", 2, 3, limit, weights)
    assert {k: int(v[0]) for k, v in out.items()} == counts
    assert changes[0] == change and [int(s) for s in signature[0]] == sig


@pytest.mark.parametrize("task, instructions, step_limit", [
    ("parity", "basic", 1000), ("count", "slack", 1000), ("majority", "basic", 9), ("first", "slack", 6)])
def test_compiled_table_equals_the_array_table(task, instructions, step_limit):
    """Every column and every count, exactly, at length 4 (a small step limit makes some runs fail)."""
    worlds = {}
    for interpreter in ("compiled", "array"):
        world = EnumeratedWorld(task=task, max_length=4, n_train=3, n_test=5, instruction_set=instructions,
                                step_limit=step_limit)
        world.interpreter = interpreter
        assert world.engine() == interpreter
        worlds[interpreter] = world
    tables = {k: w.table().to_numpy() for k, w in worlds.items()}
    for column, values in tables["array"].items():
        assert (tables["compiled"][column] == values).all(), column
    m, a = worlds["compiled"].measure(), worlds["array"].measure()
    for field in ("train_correct", "heldout_correct", "deploy_correct", "train_steps", "train_max_steps",
                  "flag_changes_output", "signature"):
        assert (getattr(m, field) == getattr(a, field)).all(), field
    assert (m.waste_where() == a.waste_where()).all()
    if step_limit < 1000:
        assert (m.train_max_steps == step_limit).any()  # some runs did hit the limit


def test_auto_takes_compiled_on_numpy_and_array_elsewhere():
    assert EnumeratedWorld().engine() == "compiled"
    assert EnumeratedWorld(backend="array-api-strict").engine() == "array"
    world = EnumeratedWorld(max_length=2)
    world.interpreter = "fast"
    with pytest.raises(ExplorerError, match="interpreter: 'fast' is unknown; choose one of: auto, compiled, array"):
        world.measure()


def test_the_kernel_compiles_or_loads():
    assert compiled.compile_seconds() >= 0
