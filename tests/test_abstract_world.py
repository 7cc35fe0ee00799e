"""The abstract world: the vectorised build against the plain loop, per-task detail, back ends."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.errors import ExplorerError
from explorer.table import COLUMNS, KINDS
from explorer.worlds.abstract import AbstractWorld
from explorer.worlds.abstract_reference import reference_table

mixes = st.dictionaries(st.sampled_from(KINDS), st.floats(0.0, 1.0), min_size=1).filter(lambda d: sum(d.values()) > 0.05)

world_params = st.fixed_dictionaries({
    "n_programs": st.integers(10, 400),
    "n_tasks": st.integers(1, 40),
    "seed": st.integers(0, 2**32 - 1),
    "difficulty_distribution": st.sampled_from(["uniform", "log-uniform", "easy-heavy"]),
    "difficulty_min": st.floats(0.01, 5.0),
    "heldout_shift": st.floats(0.25, 4.0),
    "deploy_shift": st.floats(0.25, 4.0),
    "capacity_max": st.floats(1.0, 10.0),
    "efficiency_min": st.floats(0.05, 1.0),
    "deceptive_efficiency": st.floats(0.25, 4.0),
    "kind_mix": mixes,
    "misbehaviour_cost": st.floats(0.0, 10.0),
    "deception_overhead": st.floats(0.0, 10.0),
    "deception_check_strength": st.floats(0.0, 10.0),
    "memory": st.floats(0.0, 1.0),
    "deception_bits_offset": st.floats(-50.0, 50.0),
    "goof_off_bits_offset": st.floats(-50.0, 50.0),
    "lookup_bits_per_task": st.floats(0.0, 64.0),
    "compute_measure": st.sampled_from(["total_work", "serial_depth"]),
    "misbehaviour_parallel": st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0),
    "allotment": st.sampled_from(["early_exit", "offline_predictor"]),
    "allotment_margin": st.floats(1.0, 10.0),
    "sandbag_share": st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world_params)
def test_vectorised_build_matches_the_plain_loop(params):
    params["difficulty_max"] = params["difficulty_min"] * 3 + 1
    world = AbstractWorld(**params)
    expected = reference_table(world)
    got = world.table().to_numpy()
    for col in COLUMNS:
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-9, atol=1e-9, err_msg=col)


@pytest.mark.parametrize("caveats", [{}, {"allotment": "offline_predictor", "sandbag_share": 0.5},
                                     {"compute_measure": "serial_depth", "misbehaviour_parallel": 0.6, "sandbag_share": 1.0}])
def test_per_task_detail_sums_to_the_summaries(caveats):
    world = AbstractWorld(n_programs=2000, misbehaviour_cost=2.5, deception_overhead=1.5, memory=0.2,
                          difficulty_distribution="easy-heavy", **caveats)
    table = world.table().to_numpy()
    idx = np.arange(0, 2000, 7)
    detail = world.per_task(idx)
    spent = detail["task_compute"] + detail["misbehaviour_compute"]
    charged = detail["serial_depth"] if world.compute_measure == "serial_depth" else spent
    np.testing.assert_allclose(charged.mean(axis=1), table["avg_compute"][idx], rtol=1e-12)
    assert np.all(detail["serial_depth"] <= spent + 1e-12)
    np.testing.assert_allclose(detail["misbehaviour_compute"].mean(axis=1), table["misbehaviour_compute"][idx], atol=1e-12)
    np.testing.assert_allclose(detail["solved"].mean(axis=1), table["train_perf"][idx])
    # No program spends more than its capacity on any task.
    assert np.all(spent.max(axis=1) <= table["max_compute"][idx] + 1e-12)


def test_goof_off_raises_average_but_not_max_compute():
    base = dict(n_programs=5000, kind_mix={"goof_off": 1.0})
    lazy, idle = AbstractWorld(misbehaviour_cost=3.0, **base).table().to_numpy(), AbstractWorld(misbehaviour_cost=0.0, **base).table().to_numpy()
    np.testing.assert_array_equal(lazy["max_compute"], idle["max_compute"])
    np.testing.assert_array_equal(lazy["train_perf"], idle["train_perf"])
    assert np.all(lazy["avg_compute"] >= idle["avg_compute"])
    assert lazy["avg_compute"].mean() > idle["avg_compute"].mean()


def test_deceptive_programs_defect_and_memory_cuts_their_overhead():
    base = dict(n_programs=5000, kind_mix={"deceptive": 1.0}, deception_overhead=3.0)
    plain = AbstractWorld(**base).table().to_numpy()
    remembered = AbstractWorld(memory=0.8, **base).table().to_numpy()
    checked = AbstractWorld(deception_check_strength=2.0, **base).table().to_numpy()
    assert np.all(plain["deploy_perf"] == 0)
    assert remembered["misbehaviour_compute"].mean() < plain["misbehaviour_compute"].mean() < checked["misbehaviour_compute"].mean()


def test_lookup_tables_are_cheap_long_and_do_not_generalise():
    t = AbstractWorld(n_programs=5000, kind_mix={"honest": 0.5, "lookup": 0.5}).table().to_numpy()
    lookup, honest = t["kind"] == KINDS.index("lookup"), t["kind"] == KINDS.index("honest")
    assert t["avg_compute"][lookup].max() < t["avg_compute"][honest].min()
    assert np.all(t["heldout_perf"][lookup] == 0) and t["train_perf"][lookup].min() >= 0.5
    assert t["bits"][lookup].mean() > t["bits"][honest].mean()


def test_kind_mix_shares_are_respected():
    t = AbstractWorld(n_programs=50_000, kind_mix={"honest": 3, "lookup": 1}).table().to_numpy()
    shares = np.bincount(t["kind"], minlength=4) / len(t["kind"])
    np.testing.assert_allclose(shares, [0.75, 0, 0, 0.25], atol=0.01)


def test_same_seed_same_table_other_seed_other_table():
    a, b, c = (AbstractWorld(n_programs=1000, seed=s).table().to_numpy() for s in (4, 4, 5))
    assert all(np.array_equal(a[col], b[col]) for col in COLUMNS)
    assert not np.array_equal(a["bits"], c["bits"])


def test_tables_agree_across_backends(backend):
    world = AbstractWorld(n_programs=3000, misbehaviour_cost=2.0, deception_overhead=1.5)
    ref = world.table(backend="numpy").to_numpy()
    got = world.table(backend=backend).to_numpy()
    for col in COLUMNS:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-12, err_msg=col)


def test_chunks_do_not_change_the_table(monkeypatch):
    import explorer.worlds.abstract as abstract

    world = AbstractWorld(n_programs=5000)
    whole = world.table().to_numpy()
    monkeypatch.setattr(abstract, "CPU_CHUNK", 777)
    chunked = world.table().to_numpy()
    assert all(np.array_equal(whole[c], chunked[c]) for c in COLUMNS)


@pytest.mark.parametrize("params, match", [
    ({"memory": 1.5}, r"memory.*\[0, 1\]"),
    ({"n_programs": 0}, "n_programs"),
    ({"kind_mix": {"evil": 1.0}}, "unknown kind"),
    ({"kind_mix": {"honest": 0.0}}, "not all zero"),
    ({"difficulty_distribution": "gaussian"}, "difficulty_distribution.*one of"),
    ({"warp_speed": 9}, "unknown parameter 'warp_speed'"),
])
def test_bad_parameters_raise_a_named_error(params, match):
    with pytest.raises(ExplorerError, match=match):
        AbstractWorld(**params)


def test_difficulty_range_must_be_ordered():
    with pytest.raises(ExplorerError, match="difficulty_min .* below difficulty_max"):
        AbstractWorld(difficulty_min=5, difficulty_max=2).table()


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=96), st.lists(finite, max_size=50), st.booleans())
def test_sorted_counter_counts_exactly_like_a_binary_search(values, probes, crowd):
    from explorer.backend import get_backend
    from explorer.worlds.abstract import SortedCounter

    values = np.sort(np.asarray(values + (values[:1] * 6 if crowd else [])))  # crowd: many ties
    # Probe the values themselves and their float neighbours, where an off-by-one would show.
    x = np.concatenate([probes, values, np.nextafter(values, np.inf), np.nextafter(values, -np.inf)])
    be = get_backend("numpy")
    counter = SortedCounter.of(be, values)
    np.testing.assert_array_equal(be.to_numpy(counter.count(be.xp, be.asarray(x))), np.searchsorted(values, x, side="right"))


def test_sorted_counter_uses_the_grid_for_spread_tasks_and_falls_back_when_crowded():
    from explorer.backend import get_backend
    from explorer.worlds.abstract import SortedCounter

    be = get_backend("numpy")
    assert SortedCounter.of(be, AbstractWorld(n_tasks=32).tasks().train).grid is not None
    assert SortedCounter.of(be, np.array([1.0] * 10 + [2.0])).grid is None


@pytest.mark.parametrize("value", ["", [], 3, "honest"])
def test_kind_mix_that_is_not_a_mapping_is_a_named_error(value):
    with pytest.raises(ExplorerError, match="kind_mix"):
        AbstractWorld(kind_mix=value)
