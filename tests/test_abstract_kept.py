"""A table rebuilt from the kept draws equals a whole build, for a change of every world parameter."""

import numpy as np
import pytest

from explorer import shared
from explorer.backend import get_backend
from explorer.table import COLUMNS
from explorer.worlds.abstract import AbstractWorld
from explorer.worlds.abstract_kept import kept_draws

N = 20_000

#: A second value for every world parameter (the first test fails on a parameter missing here).
OTHER = {
    "n_programs": 12_345, "n_tasks": 17, "seed": 7, "backend": "torch",
    "difficulty_distribution": "easy-heavy", "difficulty_min": 2.0, "difficulty_max": 14.0,
    "heldout_shift": 1.3, "deploy_shift": 0.8, "capacity_max": 3.0, "efficiency_min": 0.3,
    "deceptive_efficiency": 1.4, "kind_mix": {"honest": 0.5, "goof_off": 0.2, "deceptive": 0.2, "lookup": 0.1},
    "misbehaviour_cost": 2.5, "deception_overhead": 0.4, "deception_check_strength": 0.7, "memory": 0.6,
    "base_bits": 30.0, "efficiency_bits": 12.0, "bits_spread": 5.0, "goof_off_bits_offset": 3.0,
    "deception_bits_offset": -6.0, "lookup_bits_per_task": 2.5, "lookup_compute": 0.5,
    "compute_measure": "serial_depth", "misbehaviour_parallel": 0.5, "allotment": "offline_predictor",
    "allotment_margin": 2.0, "sandbag_share": 0.3,
}
#: The essay's sliders and the bit offsets: each changes one kind's rows, so the rebuild patches them.
SLIDERS = ("misbehaviour_cost", "deception_overhead", "deception_check_strength", "memory", "deceptive_efficiency",
           "goof_off_bits_offset", "deception_bits_offset", "lookup_bits_per_task", "lookup_compute",
           "base_bits", "efficiency_bits", "bits_spread")


def world(**params) -> AbstractWorld:
    return AbstractWorld(**{"n_programs": N, **params})


def fresh(**params) -> dict:
    """A whole build with nothing kept."""
    shared.clear()
    return world(**params).table().to_numpy()


def last_build(w: AbstractWorld) -> dict:
    return kept_draws(w, get_backend(w.backend)).last


def assert_same(got: dict, want: dict) -> None:
    for c in COLUMNS:
        np.testing.assert_array_equal(got[c], want[c], err_msg=c)


def test_every_parameter_has_a_second_value():
    assert set(OTHER) == {p for p in AbstractWorld.param if p != "name"}


@pytest.mark.parametrize("name", sorted(OTHER))
def test_rebuild_after_a_change_equals_a_whole_build(name):
    want = fresh(**{name: OTHER[name]})
    shared.clear()
    world().table()  # the default table, kept
    changed = world(**{name: OTHER[name]})
    assert_same(changed.table().to_numpy(), want)
    if name in SLIDERS:
        assert last_build(changed)["how"] == "patched"


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_slider_moved_back_and_forth_and_two_at_once(backend):
    shared.clear()
    steps = [{"deception_overhead": v} for v in (0.2, 3.0, 0.2, 1.0)]
    steps += [{"misbehaviour_cost": 4.0, "memory": 0.9}, {"goof_off_bits_offset": -40.0, "misbehaviour_cost": 0.0},
              {"efficiency_min": 0.8}, {"deceptive_efficiency": 2.0, "sandbag_share": 0.5}, {"sandbag_share": 0.0}]
    params: dict = {"backend": backend}
    for step in steps:
        params.update(step)
        got = world(**params).table().to_numpy()
        kept = dict(shared.KEPT._items)  # the next line's fresh build forgets them
        assert_same(got, fresh(**params))
        for key, item in kept.items():
            shared.KEPT.put(key, item[0])


def test_only_the_touched_columns_and_kinds_are_worked_out_again():
    shared.clear()
    world().table()
    moved = world(deception_overhead=2.0)
    moved.table()
    assert last_build(moved) == {
        "how": "patched",
        "columns": {c: ["deceptive"] for c in ("avg_compute", "train_perf", "heldout_perf", "misbehaviour_compute")},
    }
    again = world(deception_overhead=2.0, misbehaviour_cost=3.0)
    again.table()
    assert last_build(again)["columns"] == {"avg_compute": ["goof_off"], "misbehaviour_compute": ["goof_off"]}


def test_a_change_that_reaches_most_programs_builds_whole():
    shared.clear()
    world().table()
    for name in ("kind_mix", "n_tasks", "efficiency_min", "difficulty_max"):
        moved = world(**{name: OTHER[name]})
        moved.table()
        assert last_build(moved)["how"] == "whole", name


def test_sizes_past_the_shared_bound_are_not_kept(monkeypatch):
    monkeypatch.setenv("EXPLORER_SHARED_MB", "1")
    monkeypatch.setattr(shared.KEPT, "_max_bytes", shared.table_bytes_limit)
    shared.clear()
    w = world()
    assert kept_draws(w, get_backend()) is None
    assert_same(w.table().to_numpy(), fresh())


def test_a_simulation_moving_world_sliders_selects_what_a_fresh_one_does():
    """The rebuilt table, its candidates filtered again kind by kind, and the selection: all as a fresh start."""
    from explorer.priors import Candidates
    from explorer.simulation import FILTER_PARAMS, Simulation

    shared.clear()
    sim = Simulation(n_programs=N)
    sim.select()
    moves = [("deception_overhead", 0.3), ("misbehaviour_cost", 2.5), ("memory", 0.7), ("deception_bits_offset", -9.0),
             ("performance_threshold", 0.8), ("deceptive_efficiency", 1.6), ("goof_off_bits_offset", 4.0),
             ("efficiency_min", 0.6), ("deception_check_strength", 2.0), ("generalization_check", False)]
    for name, value in moves:
        before = sim.candidates()
        sim.update(**{name: value})
        got = {p: r.to_dict() for p, r in sim.select().items()}
        if name in ("misbehaviour_cost", "goof_off_bits_offset"):  # only goof-off rows changed
            after = sim.candidates()
            assert [a is b for a, b in zip(after.blocks, before.blocks)] == [True, False, True, True], name
        threshold, check, budget = (sim.params()[p] for p in FILTER_PARAMS)
        alone = Candidates(sim.table(), threshold, check, budget).select(sim.priors.weights())
        assert got == {p: r.to_dict() for p, r in alone.items()}, name
    params = sim.params()
    shared.clear()
    assert got == {p: r.to_dict() for p, r in Simulation(**params).select().items()}


def test_builds_on_many_threads_at_once_agree_with_whole_builds():
    """A server builds for many sessions at once: one thread's build must not lose what another's plan uses."""
    from concurrent.futures import ThreadPoolExecutor

    settings = [{"deception_overhead": 0.1 * i, "misbehaviour_cost": 0.2 * (i % 5)} for i in range(16)]
    shared.clear()
    world().table()
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda params: world(**params).table().to_numpy(), settings))
    for params, table in zip(settings, got):
        assert_same(table, fresh(**params))


def test_what_is_kept_stays_within_its_stated_bound():
    shared.clear()
    for step in range(4):
        for name in SLIDERS:
            world(**{name: OTHER[name] + 0.1 * step}).table()
        world(kind_mix={"honest": 0.3 + 0.1 * step, "goof_off": 0.3, "deceptive": 0.3, "lookup": 0.1}).table()
    kept = kept_draws(world(), get_backend())
    assert 0 < kept.held_bytes() <= kept.nbytes_bound
