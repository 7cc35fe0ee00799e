"""The abstract world's caveats: parallel versus serial compute, and who sets the compute allotment.

Directions are computed from tables and selections, never copied; the default table is pinned to
sums taken from the build before the caveats existed, and the task-by-task build is held to the
prefix-sum build and to the plain reference loop.
"""

import numpy as np
import pytest

from explorer.checks import Runner, simulate
from explorer.errors import ExplorerError
from explorer.scenarios import SCENARIOS
from explorer.table import COLUMNS, KINDS
from explorer.worlds.abstract import AbstractWorld
from explorer.worlds.abstract_reference import reference_table

DEC, GOOF, HONEST = (KINDS.index(k) for k in ("deceptive", "goof_off", "honest"))

#: Column sums (plain and weighted by (i + 1) / n) of default-caveat tables, taken from the build at the
#: commit before the caveats were added (git show dd9658f:explorer/worlds/abstract.py).
BEFORE = [
    ({"n_programs": 4000}, {
        "kind": (4006.0, 2021.351), "bits": (212988.4268968612, 106991.76571907103),
        "avg_compute": (11899.582553645658, 5865.492601214624), "max_compute": (16328.495458828864, 7985.08415444405),
        "train_perf": (1192.34375, 591.2174140625), "heldout_perf": (905.5, 442.1771015625),
        "deploy_perf": (643.9375, 313.6336171875), "misbehaviour_compute": (931.5196387475811, 464.10148594972395)}),
    ({"n_programs": 4000, "seed": 11, "misbehaviour_cost": 2.5, "deception_overhead": 1.5, "memory": 0.2,
      "difficulty_distribution": "easy-heavy"}, {
        "kind": (3988.0, 1977.67625), "bits": (212066.87350190186, 105830.71115517105),
        "avg_compute": (10395.00354310335, 5177.282409665078), "max_compute": (16095.832866060053, 8033.513723274228),
        "train_perf": (1438.125, 715.7809609375001), "heldout_perf": (1107.03125, 551.4905390625),
        "deploy_perf": (932.3125, 462.7844765625), "misbehaviour_compute": (1584.2931334255395, 781.5686046184267)}),
    ({"n_programs": 4000, "seed": 3, "n_tasks": 7, "kind_mix": {"goof_off": 0.5, "deceptive": 0.5},
      "deceptive_efficiency": 2.0}, {
        "kind": (5972.0, 2982.0035), "bits": (191858.3071403657, 95820.31812671537),
        "avg_compute": (12224.440189186767, 6145.344132325663), "max_compute": (18862.577718571454, 9503.020998986387),
        "train_perf": (1223.2857142857142, 613.5026071428572), "heldout_perf": (1140.7142857142856, 571.9422857142857),
        "deploy_perf": (684.0, 346.0130357142857), "misbehaviour_compute": (2200.530374985348, 1101.3866570514442)}),
]


def table(**params):
    return AbstractWorld(**{"n_programs": 6000, **params}).table().to_numpy()


# ---- defaults leave the world as it was ------------------------------------------------------------

@pytest.mark.parametrize("params, sums", BEFORE)
def test_default_caveats_leave_the_table_as_it_was(params, sums):
    world = AbstractWorld(**params)
    assert not world.task_by_task
    t = world.table().to_numpy()
    weights = np.arange(1, t["kind"].size + 1) / t["kind"].size
    for col in COLUMNS:
        np.testing.assert_allclose([t[col].sum(), (t[col] * weights).sum()], sums[col], rtol=1e-12, err_msg=col)


def test_caveat_settings_that_change_nothing_keep_the_prefix_sum_build():
    base = table()
    for params in ({"misbehaviour_parallel": 1.0}, {"compute_measure": "serial_depth"}, {"allotment_margin": 4.0}):
        assert not AbstractWorld(**params).task_by_task
        got = table(**params)
        assert all(np.array_equal(got[c], base[c]) for c in COLUMNS), params


def test_the_task_by_task_build_agrees_with_the_prefix_sum_build(monkeypatch):
    params = dict(misbehaviour_cost=2.5, deception_overhead=1.5, difficulty_distribution="log-uniform")
    fast = table(**params)
    monkeypatch.setattr(AbstractWorld, "task_by_task", property(lambda self: True))
    slow = table(**params)
    for col in COLUMNS:
        np.testing.assert_allclose(slow[col], fast[col], rtol=1e-12, atol=1e-12, err_msg=col)


@pytest.mark.parametrize("params", [
    {"compute_measure": "serial_depth", "misbehaviour_parallel": 0.7},
    {"allotment": "offline_predictor", "allotment_margin": 1.2, "sandbag_share": 0.4},
    {"allotment": "offline_predictor", "compute_measure": "serial_depth", "misbehaviour_parallel": 1.0, "sandbag_share": 1.0},
    {"sandbag_share": 0.5, "deceptive_efficiency": 2.0, "n_tasks": 3},
])
def test_the_build_matches_the_reference_loop_with_caveats_on(params):
    world = AbstractWorld(n_programs=600, misbehaviour_cost=3.0, deception_overhead=1.5, **params)
    expected, got = reference_table(world), world.table().to_numpy()
    for col in COLUMNS:
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-9, atol=1e-9, err_msg=col)


def test_caveat_tables_agree_across_backends(backend):
    world = AbstractWorld(n_programs=3000, allotment="offline_predictor", sandbag_share=0.5,
                          compute_measure="serial_depth", misbehaviour_parallel=0.5)
    ref = world.table(backend="numpy").to_numpy()
    got = world.table(backend=backend).to_numpy()
    for col in COLUMNS:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-12, err_msg=col)


# ---- parallel versus serial ----------------------------------------------------------------------

def test_serial_depth_only_discounts_misbehaviour():
    work = table(misbehaviour_cost=3.0, misbehaviour_parallel=0.8)
    depth = table(misbehaviour_cost=3.0, misbehaviour_parallel=0.8, compute_measure="serial_depth")
    honest = work["kind"] == HONEST
    np.testing.assert_allclose(depth["avg_compute"][honest], work["avg_compute"][honest], rtol=1e-12)
    assert np.all(depth["avg_compute"] <= work["avg_compute"] + 1e-12)
    for kind in (GOOF, DEC):
        rows = work["kind"] == kind
        assert depth["avg_compute"][rows].mean() < work["avg_compute"][rows].mean()
    # What a program does, and what it could spend, do not depend on the measure (the serial build goes
    # task by task, so sums may differ in the last bit).
    for col in ("max_compute", "train_perf", "heldout_perf", "deploy_perf", "misbehaviour_compute", "bits"):
        np.testing.assert_allclose(depth[col], work[col], rtol=1e-12, atol=1e-12, err_msg=col)


def test_more_parallel_misbehaviour_is_less_serial_depth():
    depths = [table(kind_mix={"goof_off": 1.0}, misbehaviour_cost=3.0, compute_measure="serial_depth",
                    misbehaviour_parallel=p)["avg_compute"] for p in (0.0, 0.5, 1.0)]
    assert np.all(depths[1] <= depths[0] + 1e-12) and np.all(depths[2] <= depths[1] + 1e-12)
    assert depths[2].mean() < depths[1].mean() < depths[0].mean()


def test_a_serial_only_prior_lets_parallel_misbehaviour_through():
    params = dict(n_programs=20_000, kind_mix={"honest": 0.4, "goof_off": 0.3, "deceptive": 0.3},
                  misbehaviour_cost=3.0, misbehaviour_parallel=1.0)
    serial = simulate("abstract", {**params, "compute_measure": "serial_depth"})
    work = simulate("abstract", {**params, "compute_measure": "total_work"})
    for kind in ("goof_off", "deceptive"):
        assert serial[f"average_speed.posterior.{kind}"] > work[f"average_speed.posterior.{kind}"]
    assert serial["max_speed.posterior.goof_off"] == work["max_speed.posterior.goof_off"]


# ---- who sets the allotment ----------------------------------------------------------------------

def test_the_sandbag_share_picks_that_share_of_deceptive_programs():
    world = AbstractWorld(n_programs=40_000, sandbag_share=0.3)
    p = world.programs(world.uniforms())
    deceptive = p["kind"] == DEC
    assert not p["sandbag"][~deceptive].any()
    assert p["sandbag"][deceptive].mean() == pytest.approx(0.3, abs=0.02)
    assert AbstractWorld(sandbag_share=1.0).sandbag_edge() == pytest.approx(float(np.cumsum(world.kind_shares())[1]))


def test_sandbagging_under_early_exit_buys_planning_that_only_average_compute_shows():
    mix = {"honest": 0.5, "deceptive": 0.5}
    plain, sandbag = table(kind_mix=mix), table(kind_mix=mix, sandbag_share=1.0)
    dec = plain["kind"] == DEC
    for col in ("bits", "max_compute", "train_perf", "heldout_perf", "deploy_perf"):
        np.testing.assert_array_equal(sandbag[col], plain[col], err_msg=col)
    solving = dec & (plain["train_perf"] > 0)
    assert np.all(sandbag["misbehaviour_compute"][solving] > plain["misbehaviour_compute"][solving])
    assert np.all(sandbag["avg_compute"][dec] >= plain["avg_compute"][dec] - 1e-12)
    np.testing.assert_allclose(sandbag["avg_compute"][~dec], plain["avg_compute"][~dec], rtol=1e-12)


def test_an_offline_grant_never_exceeds_what_early_exit_allows():
    params = dict(misbehaviour_cost=3.0, sandbag_share=0.5)
    early, offline = table(**params), table(allotment="offline_predictor", **params)
    honest, dec = early["kind"] == HONEST, early["kind"] == DEC
    for col in COLUMNS:  # honest programs need only d/e, which any margin >= 1 grants
        np.testing.assert_allclose(offline[col][honest], early[col][honest], rtol=1e-12, err_msg=col)
    assert np.all(offline["misbehaviour_compute"] <= early["misbehaviour_compute"] + 1e-12)
    assert np.all(offline["train_perf"][dec] <= early["train_perf"][dec])
    assert offline["train_perf"][dec].mean() < early["train_perf"][dec].mean()
    # A grant of exactly what the task needs leaves a deceptive program no room to plan and solve.
    exact = table(allotment="offline_predictor", allotment_margin=1.0)
    assert np.all(exact["train_perf"][exact["kind"] == DEC] == 0)


def test_the_offline_predictor_takes_mass_from_deception():
    params = dict(n_programs=20_000, kind_mix={"honest": 0.5, "deceptive": 0.5})
    early = simulate("abstract", params)
    offline = simulate("abstract", {**params, "allotment": "offline_predictor"})
    for prior in ("max_speed", "average_speed"):
        assert offline[f"{prior}.posterior.deceptive"] < early[f"{prior}.posterior.deceptive"]


@pytest.mark.parametrize("scenario", ["parallel-misbehaviour", "allotment-manipulation"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_caveat_scenarios_hold_across_seeds(scenario, seed):
    case = SCENARIOS[scenario].case("abstract")
    assert case.by == "construction" and case.reason
    outcomes = Runner("abstract", {**case.params, "seed": seed, "n_programs": 20_000}).verify(case.checks)
    assert [o.check for o in outcomes if not o.passed] == []


# ---- bad values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("params, match", [
    ({"compute_measure": "wall_clock"}, "compute_measure.*one of"),
    ({"allotment": "oracle"}, "allotment.*one of"),
    ({"allotment_margin": 0.5}, "allotment_margin"),
    ({"sandbag_share": 1.5}, "sandbag_share"),
    ({"misbehaviour_parallel": -0.1}, "misbehaviour_parallel"),
])
def test_bad_caveat_values_name_the_parameter(params, match):
    with pytest.raises(ExplorerError, match=match):
        AbstractWorld(**params)
