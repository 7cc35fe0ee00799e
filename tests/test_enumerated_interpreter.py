"""The vectorised interpreter agrees exactly with the reference, on every back end, in both instruction sets."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from program_strategies import programs, slack_programs

from explorer.worlds.enumerated.interpreter import execute
from explorer.worlds.enumerated.machine import IFSHORT, run
from explorer.worlds.enumerated.spaces import PAD, enumerate_programs
from explorer.worlds.enumerated.tasks import all_inputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(programs, min_size=1, max_size=6), n=st.integers(0, 6), f=st.integers(0, 1),
       limit=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_vectorised_equals_reference(backend, batch, n, f, limit, seed):
    width = max(map(len, batch))
    codes = np.full((len(batch), width), PAD, dtype=np.int8)
    for r, p in enumerate(batch):
        codes[r, : len(p)] = p
    xs = np.random.default_rng(seed).integers(0, 2, size=(5, n))
    acc, steps, failed = execute(codes, xs, np.full(5, f), backend, step_limit=limit)
    for r, p in enumerate(batch):
        for c in range(5):
            out, k = run(p, xs[c], f, step_limit=limit)
            assert steps[r, c] == k and failed[r, c] == (out is None)
            if out is not None:
                assert acc[r, c] == out


def test_whole_space_length_3_on_every_input(backend):
    space = enumerate_programs(3)
    for n in (1, 4):
        xs = all_inputs(n)
        for f in (0, 1):
            acc, steps, _ = execute(space.codes, xs, np.full(len(xs), f), backend)
            for r in range(len(space)):
                for c in range(len(xs)):
                    assert (acc[r, c], steps[r, c]) == run(space.program(r), xs[c], f)


def _codes(batch):
    codes = np.full((len(batch), max(map(len, batch))), PAD, dtype=np.int8)
    for r, p in enumerate(batch):
        codes[r, : len(p)] = p
    return codes


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(slack_programs, min_size=1, max_size=6), n=st.integers(0, 6), f=st.integers(0, 1),
       limit=st.integers(1, 40), long_from=st.integers(0, 7), seed=st.integers(0, 2**16))
def test_vectorised_equals_reference_with_ifshort(backend, batch, n, f, limit, long_from, seed):
    xs = np.random.default_rng(seed).integers(0, 2, size=(5, n))
    acc, steps, failed = execute(_codes(batch), xs, np.full(5, f), backend, step_limit=limit, long_from=long_from)
    for r, p in enumerate(batch):
        for c in range(5):
            out, k = run(p, xs[c], f, step_limit=limit, long_from=long_from)
            assert steps[r, c] == k and failed[r, c] == (out is None)
            if out is not None:
                assert acc[r, c] == out


def test_whole_slack_space_length_3_on_every_input_short_and_long(backend):
    space = enumerate_programs(3, "slack")
    assert (space.codes == IFSHORT).any()
    for n in (1, 3):
        xs = all_inputs(n)
        for f in (0, 1):
            acc, steps, _ = execute(space.codes, xs, np.full(len(xs), f), backend, long_from=2)
            for r in range(len(space)):
                for c in range(len(xs)):
                    assert (acc[r, c], steps[r, c]) == run(space.program(r), xs[c], f, long_from=2)
