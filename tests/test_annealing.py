"""Proposal 0, computational annealing: invariants, agreement across back ends, and the essay's claims."""

import dataclasses
import json
import math

import numpy as np
import pytest

from explorer.annealing import DEFAULT_RATIOS, AnnealingSettings, _log_cumsum_exp, anneal, sweep
from explorer.errors import ExplorerError
from explorer.priors import looks_good
from explorer.worlds.abstract import AbstractWorld

THRESHOLD = 0.9
#: Honest programs against goof-offs that pay 3 compute units of misbehaviour where they have slack.
HONEST_GOOF = dict(n_programs=20_000, kind_mix={"honest": 0.5, "goof_off": 0.5}, misbehaviour_cost=3.0)
SCHEDULES = ("linear", "geometric", "backoff")
SAMPLINGS = ("uniform", "simplicity")


def _rate(schedule, ratio=0.01, speed=8):
    """A rise rate of comparable speed for each schedule (geometric rates are fractions of C)."""
    return ratio * speed / (6.0 if schedule == "geometric" else 1.0)


@pytest.fixture(scope="module")
def world():
    return AbstractWorld(**HONEST_GOOF)


@pytest.fixture(scope="module")
def numpy_table(world):
    table = world.table("numpy")
    return table, looks_good(table, THRESHOLD)


@pytest.fixture(scope="module")
def default_table():
    """The default world (with lookup tables), smaller."""
    table = AbstractWorld(n_programs=20_000).table("numpy")
    return table, looks_good(table, THRESHOLD)


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_found_programs_look_good_and_lie_in_p_of_c_star(numpy_table, schedule, sampling):
    table, mask = numpy_table
    settings = AnnealingSettings(schedule=schedule, sampling=sampling, runs=400, rate=_rate(schedule, 0.03))
    res = anneal(table, mask, settings)
    cols = table.to_numpy()
    good = np.asarray(mask)
    found = res.index >= 0
    assert found.all()  # every run finds something well before max_steps in this world
    assert good[res.index[found]].all()
    assert np.all(cols["avg_compute"][res.index[found]] <= res.c_star[found])
    assert res.c_min == cols["avg_compute"][good].min()
    assert np.all(res.c_star[found] >= res.c_min)
    assert np.array_equal(res.kind[found], cols["kind"][res.index[found]])
    assert np.all((res.steps >= 1) & (res.steps <= settings.max_steps))
    assert res.kinds == table.kinds


@pytest.mark.parametrize("schedule", ("linear", "geometric"))
def test_c_star_follows_the_schedule(numpy_table, schedule):
    table, mask = numpy_table
    settings = AnnealingSettings(schedule=schedule, runs=300, rate=_rate(schedule, 0.03), c_start=1.0)
    res = anneal(table, mask, settings)
    t = res.steps - 1
    expected = 1.0 + settings.rate * t if schedule == "linear" else (1.0 + settings.rate) ** t
    np.testing.assert_allclose(res.c_star, expected, rtol=1e-12)
    # the step before each find was below c_min or found nothing: never does a run stop before C reaches c_min
    assert np.all(res.c_star >= res.c_min)


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("backend", ("torch", "array-api-strict"))
def test_back_ends_agree(world, numpy_table, backend, schedule, sampling):
    if backend == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(1)
    else:
        pytest.importorskip("array_api_strict")
    settings = AnnealingSettings(schedule=schedule, sampling=sampling, runs=300, rate=_rate(schedule, 0.02))
    ref = anneal(*numpy_table, settings)
    table = world.table(backend)
    res = anneal(table, looks_good(table, THRESHOLD), settings)
    assert np.array_equal(res.index, ref.index)
    assert np.array_equal(res.kind, ref.kind)
    assert np.array_equal(res.steps, ref.steps)
    np.testing.assert_allclose(res.c_star, ref.c_star, rtol=1e-12, atol=0)
    assert res.c_min == ref.c_min


def _direct_linear(table, mask, settings):
    """Reference: each step draws search_speed programs one by one from P(C) and keeps the first good one."""
    cols = table.to_numpy()
    order = np.argsort(cols["avg_compute"], kind="stable")
    avg, good = cols["avg_compute"][order], np.asarray(mask)[order]
    log_w = -settings.w_simplicity * np.log(2.0) * cols["bits"][order]
    cum_w = np.cumsum(np.exp(log_w - log_w.max()))  # fine for the small spread of bits in a test world
    rng = np.random.default_rng(settings.seed + 1)
    c0 = avg[0] if settings.c_start is None else settings.c_start
    c_star = np.full(settings.runs, np.nan)
    rows = np.full(settings.runs, -1)
    live = np.arange(settings.runs)
    for t in range(settings.max_steps):
        c = c0 + settings.rate * t
        n = np.searchsorted(avg, c, side="right")
        if n:
            u = rng.random((live.size, settings.search_speed))
            if settings.sampling == "uniform":
                pos = np.minimum((u * n).astype(np.int64), n - 1)
            else:
                pos = np.minimum(np.searchsorted(cum_w, u * cum_w[n - 1], side="right"), n - 1)
            hit = good[pos]
            done = hit.any(axis=1)
            first = pos[np.arange(live.size), np.argmax(hit, axis=1)]
            c_star[live[done]] = c
            rows[live[done]] = order[first[done]]
            live = live[~done]
        if not live.size:
            break
    return c_star, cols["kind"][rows]


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_one_draw_per_step_matches_drawing_each_sample(numpy_table, sampling):
    """The closed form (found with 1 - (1 - p)^s, then one weighted draw among the good) has the
    distribution of drawing the s programs one at a time."""
    table, mask = numpy_table
    settings = AnnealingSettings(sampling=sampling, runs=3000, search_speed=4, rate=0.2)
    res = anneal(table, mask, settings)
    c_star, kind = _direct_linear(table, mask, settings)
    honest = table.kinds.index("honest")
    assert abs(np.mean(res.kind == honest) - np.mean(kind == honest)) < 0.04
    for q in (0.25, 0.5, 0.75):
        assert abs(np.quantile(res.c_star, q) - np.quantile(c_star, q)) <= settings.rate + 1e-9


def test_slow_annealing_lands_near_c_min_and_finds_honest_programs(numpy_table):
    """The essay's claim: raising C slowly compared with the search speed finds the cheapest good-looking
    programs, and misbehaviour costs compute, so they are honest more often than after a fast rise."""
    table, mask = numpy_table
    slow, fast = sweep(table, mask, AnnealingSettings(runs=600), [1e-3, 0.3])
    assert slow["overshoot_median"] < fast["overshoot_median"]
    assert slow["c_star"]["p90"] < fast["c_star"]["p90"]
    assert slow["kind"]["honest"] > fast["kind"]["honest"]
    assert slow["kind"]["goof_off"] < fast["kind"]["goof_off"]


def test_overshoot_grows_with_the_ratio_across_the_default_sweep(numpy_table):
    table, mask = numpy_table
    rows = sweep(table, mask, AnnealingSettings(runs=300), DEFAULT_RATIOS)
    overshoot = [r["overshoot_median"] for r in rows]
    assert overshoot[0] < overshoot[len(overshoot) // 2] < overshoot[-1]
    assert [r["ratio"] for r in rows] == list(DEFAULT_RATIOS)
    assert all(math.isclose(r["rate"], r["ratio"] * 8) for r in rows)
    assert list(DEFAULT_RATIOS) == sorted(DEFAULT_RATIOS) and DEFAULT_RATIOS[0] > 0


def test_backoff_reaches_lower_c_star_than_linear_at_the_same_rise_rate(numpy_table):
    """A fast rise overshoots; falling back while the search keeps finding programs recovers most of it."""
    table, mask = numpy_table
    common = dict(runs=600, search_speed=64, rate=6.4)
    linear = anneal(table, mask, AnnealingSettings(schedule="linear", **common)).summary()
    backoff = anneal(table, mask, AnnealingSettings(schedule="backoff", **common)).summary()
    assert backoff["c_star"]["median"] < linear["c_star"]["median"]
    assert backoff["c_star"]["p90"] < linear["c_star"]["p90"]
    assert backoff["kind"]["honest"] > linear["kind"]["honest"]
    assert backoff["steps_median"] > linear["steps_median"]  # the falls and slower rises take steps


def test_simplicity_sampling_finds_shorter_programs(numpy_table):
    table, mask = numpy_table
    bits = table.to_numpy()["bits"]
    mean_bits = {}
    for sampling in SAMPLINGS:
        res = anneal(table, mask, AnnealingSettings(sampling=sampling, runs=600, rate=0.8))
        mean_bits[sampling] = bits[res.index].mean()
    assert mean_bits["simplicity"] < mean_bits["uniform"]


def test_simplicity_sampling_avoids_long_lookup_tables(default_table):
    """Lookup tables are the cheapest good-looking programs of the default world, but long: a uniform
    search finds them at once, a search biased to short programs mostly passes them by."""
    table, mask = default_table
    lookup = table.kinds.index("lookup")
    share = {s: np.mean(anneal(table, mask, AnnealingSettings(sampling=s, runs=400)).kind == lookup) for s in SAMPLINGS}
    assert share["uniform"] > 0.5 > share["simplicity"]


@pytest.mark.parametrize("w_simplicity", (1.0, 3.0))
def test_simplicity_weights_do_not_underflow_on_long_programs(numpy_table, w_simplicity):
    """Only differences of bits matter: adding 3000 bits to every program (2^-9000 and less, far below
    the smallest float64) must give the same runs."""
    table, mask = numpy_table
    settings = AnnealingSettings(sampling="simplicity", w_simplicity=w_simplicity, runs=300, rate=0.4)
    ref = anneal(table, mask, settings)
    res = anneal(dataclasses.replace(table, bits=table.bits + 3000.0), mask, settings)
    assert (ref.index >= 0).all()
    assert np.array_equal(res.index, ref.index) and np.array_equal(res.c_star, ref.c_star)


def test_log_cumsum_exp_matches_a_sequential_sum():
    import array_api_compat.numpy as xp

    x = np.random.default_rng(3).normal(scale=300.0, size=1001)  # exp(x) both overflows and underflows
    np.testing.assert_allclose(_log_cumsum_exp(xp, x), np.logaddexp.accumulate(x), rtol=1e-12)


def test_same_seed_same_runs_and_other_seed_other_runs(numpy_table):
    table, mask = numpy_table
    a = anneal(table, mask, AnnealingSettings(runs=200, seed=5))
    b = anneal(table, mask, AnnealingSettings(runs=200, seed=5))
    c = anneal(table, mask, AnnealingSettings(runs=200, seed=6))
    assert np.array_equal(a.index, b.index) and np.array_equal(a.c_star, b.c_star)
    assert not np.array_equal(a.index, c.index)


@pytest.mark.parametrize("values, name", [
    ({"rate": -1}, "rate"),
    ({"rate": 0}, "rate"),
    ({"schedule": "nope"}, "schedule"),
    ({"sampling": "random"}, "sampling"),
    ({"search_speed": 0}, "search_speed"),
    ({"runs": 0}, "runs"),
    ({"backoff_slowdown": 1.5}, "backoff_slowdown"),
    ({"c_start": -1.0}, "c_start"),
    ({"speed": 3}, "speed"),
])
def test_bad_settings_name_the_parameter(values, name):
    with pytest.raises(ExplorerError, match=name):
        AnnealingSettings(**values)


def test_cross_parameter_mistakes_are_explained(numpy_table):
    table, mask = numpy_table
    with pytest.raises(ExplorerError, match="c_start.*geometric"):
        anneal(table, mask, AnnealingSettings(schedule="geometric", c_start=0.0))
    with pytest.raises(ExplorerError, match="ratios"):
        sweep(table, mask, AnnealingSettings(), [0.01, -1.0])
    with pytest.raises(ExplorerError, match="ratios"):
        sweep(table, mask, AnnealingSettings(), [])


def test_nothing_looking_good_gives_none_for_every_run(numpy_table):
    table, _ = numpy_table
    mask = looks_good(table, 1.1)  # no program solves more than every task
    res = anneal(table, mask, AnnealingSettings(runs=50))
    assert (res.index == -1).all() and (res.kind == -1).all() and np.isnan(res.c_star).all()
    summary = res.summary()
    assert summary["found"] == 0.0 and summary["kind"]["none"] == 1.0
    assert summary["c_min"] is None and summary["c_star"]["median"] is None
    json.dumps(summary, allow_nan=False)


def test_runs_out_of_steps_report_none(numpy_table):
    table, mask = numpy_table
    res = anneal(table, mask, AnnealingSettings(runs=50, c_start=0.0, rate=0.01, max_steps=10))
    assert (res.index == -1).all() and (res.steps == 10).all()


def test_summary_is_json_and_shares_add_up(numpy_table):
    table, mask = numpy_table
    summary = anneal(table, mask, AnnealingSettings(runs=100, rate=0.8)).summary()
    json.dumps(summary, allow_nan=False)
    assert math.isclose(sum(summary["kind"].values()), 1.0)
    assert summary["c_star"]["p10"] <= summary["c_star"]["median"] <= summary["c_star"]["p90"]
    assert summary["overshoot_median"] == pytest.approx(summary["c_star"]["median"] - summary["c_min"])


def test_progress_reports_steps_and_sweep_points(numpy_table):
    table, mask = numpy_table
    calls = []
    res = anneal(table, mask, AnnealingSettings(runs=100, rate=0.8), progress=lambda step, n: calls.append((step, n)))
    steps, active = zip(*calls)
    assert list(steps) == sorted(steps) and list(active) == sorted(active, reverse=True)
    assert active[0] == 100 and steps[-1] == res.steps.max() - 1
    points = []
    sweep(table, mask, AnnealingSettings(runs=20), [0.01, 0.1], progress=lambda done, total: points.append((done, total)))
    assert points == [(1, 2), (2, 2)]
