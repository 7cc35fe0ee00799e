"""Proposal 0, computational annealing: invariants, agreement across back ends, and the essay's claims."""

import dataclasses
import json
import math

import numpy as np
import pytest

from explorer.annealing import (
    DEFAULT_RATIOS, AnnealingSettings, _log_cumsum_exp, anneal, quanta_sweep, slow_limit, sweep, trace)
from explorer.errors import ExplorerError
from explorer.priors import looks_good
from explorer.table import COLUMNS, ProgramTable
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
    table = world.table(backend="numpy")
    return table, looks_good(table, THRESHOLD)


@pytest.fixture(scope="module")
def default_table():
    """The default world (with lookup tables), smaller."""
    table = AbstractWorld(n_programs=20_000).table(backend="numpy")
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


@pytest.mark.parametrize("quantum", (0.0, 1.5))
@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("backend", ("torch", "array-api-strict"))
def test_back_ends_agree(world, numpy_table, backend, schedule, sampling, quantum):
    if backend == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(1)
    else:
        pytest.importorskip("array_api_strict")
    settings = AnnealingSettings(schedule=schedule, sampling=sampling, runs=300, rate=_rate(schedule, 0.02),
                                 quantum=quantum)
    ref = anneal(*numpy_table, settings)
    table = world.table(backend=backend)
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
    """The budget counts steps from the first at which C reaches c_min; runs without a find by then report none."""
    table, mask = numpy_table
    res = anneal(table, mask, AnnealingSettings(runs=50, c_start=0.0, rate=0.01, max_steps=10, search_speed=1))
    reach = math.ceil(res.c_min / 0.01)  # steps below c_min, skipped and not charged to the budget
    lost = res.index == -1
    assert 0 < lost.sum() < 50  # with one draw per step and a thin P(C), most runs find nothing in 10 steps
    assert (res.steps[lost] == reach + 10).all() and (res.steps[~lost] <= reach + 10).all()
    assert (res.steps[~lost] > reach - 1).all()


def test_very_slow_annealing_reaches_c_min_and_finds_honest_programs(default_table):
    """The audit's `anneal --ratios 1e-6`: the steps below c_min used to eat the whole budget ("none 1.000")."""
    table, _ = default_table
    mask = looks_good(table, THRESHOLD, generalization_check=True)  # as `anneal` checks by default: no lookup tables
    row, = sweep(table, mask, AnnealingSettings(runs=200), [1e-6])
    assert row["kind"]["none"] == 0.0 and row["kind"]["honest"] == 1.0
    assert row["c_star"]["p90"] - row["c_min"] < 0.05
    rate = 1e-6 * AnnealingSettings().search_speed
    assert row["steps_median"] > (row["c_min"] - table.avg_compute.min()) / rate > AnnealingSettings().max_steps


def test_a_rise_too_slow_to_ever_reach_c_min_is_refused(numpy_table):
    table, mask = numpy_table
    with pytest.raises(ExplorerError, match="^rate: .*would not reach"):
        anneal(table, mask, AnnealingSettings(runs=5, rate=1e-300))
    with pytest.raises(ExplorerError, match="^ratios: ratio 1e-30 is too slow"):
        sweep(table, mask, AnnealingSettings(runs=5), [0.01, 1e-30])
    with pytest.raises(ExplorerError, match="^rate: .*would not reach"):  # (1 + rate) rounds to 1: C never rises
        anneal(table, mask, AnnealingSettings(runs=5, schedule="geometric", rate=1e-17))


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


# ---- trace: one run, step by step ---------------------------------------------------------------


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_trace_is_the_run_anneal_reports(numpy_table, schedule, sampling):
    """Not a look-alike: what the traced run finds, where and after how many steps is anneal's result."""
    table, mask = numpy_table
    settings = AnnealingSettings(schedule=schedule, sampling=sampling, runs=40, seed=3, rate=_rate(schedule, 0.03))
    res = anneal(table, mask, settings)
    cols = table.to_numpy()
    good = np.asarray(mask)
    for run in (0, 17, 39):
        tr = trace(table, mask, settings, run=run)
        assert tr.steps == res.steps[run]
        assert tr.index == res.index[run] and tr.c_star == res.c_star[run]
        assert tr.kind == table.kinds[res.kind[run]]
        assert good[tr.index] and cols["avg_compute"][tr.index] <= tr.c_star
        best, row = tr.best_until(tr.steps - 1)
        assert row == tr.index and tr.c[best] == tr.c_star
        if schedule != "backoff":  # the one find ends the run
            assert tr.found.sum() == 1 and tr.found[-1]


@pytest.mark.parametrize("schedule", ("linear", "geometric"))
def test_trace_c_follows_the_schedule_and_p_of_c_only_grows(numpy_table, schedule):
    table, mask = numpy_table
    settings = AnnealingSettings(schedule=schedule, rate=_rate(schedule, 0.01), runs=1, seed=2)
    tr = trace(table, mask, settings)
    t = np.arange(tr.steps)
    c0 = float(table.to_numpy()["avg_compute"].min())
    expected = c0 + settings.rate * t if schedule == "linear" else c0 * (1.0 + settings.rate) ** t
    np.testing.assert_allclose(tr.c, expected, rtol=1e-12)
    assert np.all(np.diff(tr.n) >= 0) and np.all(np.diff(tr.k) >= 0) and np.all(tr.k <= tr.n)
    assert np.all(tr.k[tr.c < tr.c_min] == 0) and tr.k[-1] > 0
    avg = table.to_numpy()["avg_compute"]
    assert tr.n[-1] == np.count_nonzero(avg <= tr.c[-1])


def test_trace_backoff_falls_after_a_find(numpy_table):
    table, mask = numpy_table
    tr = trace(table, mask, AnnealingSettings(schedule="backoff", search_speed=64, rate=6.4, runs=1))
    finds = np.nonzero(tr.found[:-1])[0]
    assert finds.size and np.all(tr.c[finds + 1] < tr.c[finds])


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_trace_draws_lie_in_p_of_c_and_only_the_last_of_a_find_looks_good(numpy_table, sampling):
    table, mask = numpy_table
    avg, good = table.to_numpy()["avg_compute"], np.asarray(mask)
    for schedule in SCHEDULES:
        tr = trace(table, mask, AnnealingSettings(schedule=schedule, sampling=sampling, runs=1, seed=4,
                                                  rate=_rate(schedule, 0.02)))
        speed = tr.settings["search_speed"]
        assert np.all(tr.drawn <= speed) and np.all(tr.drawn[~tr.found & (tr.n > 0)] == speed)
        assert np.all(tr.drawn[tr.n == 0] == 0) and np.all(tr.drawn[tr.found] >= 1)
        for t in range(tr.steps):
            rows = tr.samples_at(t)
            assert rows.size == min(tr.drawn[t], 64)
            assert np.all(avg[rows] <= tr.c[t])
            if tr.found[t]:
                assert rows[-1] == tr.found_row[t] and not good[rows[:-1]].any()
            else:
                assert not good[rows].any()
        assert np.array_equal(tr.samples_until(tr.steps - 1), tr.samples)


def test_trace_keeps_at_most_show_draws_per_step_and_the_find_among_them(numpy_table):
    table, mask = numpy_table
    tr = trace(table, mask, AnnealingSettings(search_speed=500, rate=5.0, runs=1), show=16)
    kept = np.diff(tr.offsets)
    assert kept.max() == 16 and np.all(kept == np.minimum(tr.drawn, 16))
    assert tr.samples_at(tr.steps - 1)[-1] == tr.index


def test_trace_is_deterministic_per_seed(numpy_table):
    table, mask = numpy_table
    a, b = (trace(table, mask, AnnealingSettings(runs=1, seed=9, rate=0.4)) for _ in range(2))
    c = trace(table, mask, AnnealingSettings(runs=1, seed=10, rate=0.4))
    for name in ("c", "n", "k", "drawn", "found_row", "samples", "offsets"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.index == b.index and not np.array_equal(a.samples, c.samples)


def _ks_distance(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical distribution functions."""
    grid = np.union1d(a, b)
    fa = np.searchsorted(np.sort(a), grid, side="right") / a.size
    fb = np.searchsorted(np.sort(b), grid, side="right") / b.size
    return float(np.abs(fa - fb).max())


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_traces_over_seeds_are_distributed_as_anneal_runs(numpy_table, schedule):
    """C* of 250 one-run traces (seeds 0..249) against 250 runs of one anneal call (seed 1000).

    Tolerance: the two-sample Kolmogorov-Smirnov critical value at level 0.001,
    1.95 sqrt((n + m) / (n m)) = 0.174 for n = m = 250, so a correct trace fails this 1 time in 1000 or
    less (C* takes lattice values, which only makes the test more lenient, never flaky). A trace that
    lost the skipped steps or the back-off falls would move C* by whole rises and fail it. The honest
    share is held to 4 standard errors of a difference of two proportions.
    """
    table, mask = numpy_table
    common = dict(schedule=schedule, rate=_rate(schedule, 0.1))  # fast enough that goof-offs are found too
    traced = [trace(table, mask, AnnealingSettings(runs=1, seed=seed, **common)) for seed in range(250)]
    res = anneal(table, mask, AnnealingSettings(runs=250, seed=1000, **common))
    assert _ks_distance(np.array([tr.c_star for tr in traced]), res.c_star) < 1.95 * math.sqrt(2 / 250)
    honest_trace = np.mean([tr.kind == "honest" for tr in traced])
    honest_anneal = np.mean(res.kind == table.kinds.index("honest"))
    pooled = (honest_trace + honest_anneal) / 2
    assert abs(honest_trace - honest_anneal) <= 4 * math.sqrt(pooled * (1 - pooled) * 2 / 250) + 1e-9


def _draws_until_found(table, mask, settings):
    """Reference: programs drawn one at a time from P(C_t) (linear schedule from the cheapest program) until the
    first good-looking one, per run: (draws in all, draws at the step of the find)."""
    cols = table.to_numpy()
    order = np.argsort(cols["avg_compute"], kind="stable")
    avg, good = cols["avg_compute"][order], np.asarray(mask)[order]
    cum_w = np.cumsum(np.exp(-settings.w_simplicity * np.log(2.0) * (cols["bits"][order] - cols["bits"].min())))
    rng = np.random.default_rng(settings.seed + 7)
    total = np.zeros(settings.runs, dtype=np.int64)
    last = np.zeros(settings.runs, dtype=np.int64)
    live = np.arange(settings.runs)
    for t in range(settings.max_steps):
        n = np.searchsorted(avg, avg[0] + settings.rate * t, side="right")
        u = rng.random((live.size, settings.search_speed))
        if settings.sampling == "uniform":
            pos = np.minimum((u * n).astype(np.int64), n - 1)
        else:
            pos = np.minimum(np.searchsorted(cum_w, u * cum_w[n - 1], side="right"), n - 1)
        hit = good[pos]
        done = hit.any(axis=1)
        drawn = np.where(done, np.argmax(hit, axis=1) + 1, settings.search_speed)
        total[live] += drawn
        last[live] = drawn
        live = live[~done]
        if not live.size:
            return total, last
    raise AssertionError("the reference search ran out of steps")


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_trace_draw_counts_match_a_one_at_a_time_search(numpy_table, sampling):
    """The draws at the step of the find (the truncated geometric J, plus one) and the draws in all match,
    run by run, what drawing one program at a time gives: means within 4 standard errors of the difference.
    (The total alone is dominated by the empty-handed steps; the find step's count checks J itself.)"""
    table, mask = numpy_table
    common = dict(sampling=sampling, search_speed=16, rate=0.4)
    drawn = [trace(table, mask, AnnealingSettings(runs=1, seed=s, **common)).drawn for s in range(200)]
    direct_total, direct_last = _draws_until_found(table, mask, AnnealingSettings(runs=2000, **common))
    totals, lasts = np.array([d.sum() for d in drawn]), np.array([d[-1] for d in drawn])
    for traced, direct in ((totals, direct_total), (lasts, direct_last)):
        se = math.sqrt(traced.var(ddof=1) / traced.size + direct.var(ddof=1) / direct.size)
        assert abs(traced.mean() - direct.mean()) < 4 * se


def test_trace_failures_before_a_find_follow_the_truncated_geometric_law():
    """In a world where every program costs the same, each step searches all of them with the same share p of
    good-looking ones, so the draws at the step of a find are J + 1 with P(J = j) = (1 - p)^j p / (1 - (1 - p)^s).
    Mean and the chance of a first-draw find within 4 standard errors of the exact law (1500 runs)."""
    from explorer.backend import get_backend
    from explorer.table import ProgramTable

    n, s, p = 1000, 16, 0.1
    rng = np.random.default_rng(0)
    good = np.zeros(n, dtype=bool)
    good[rng.choice(n, int(p * n), replace=False)] = True
    cols = dict(kind=np.zeros(n, dtype=np.int64), bits=rng.normal(40, 3, n), avg_compute=np.full(n, 2.0),
                max_compute=np.full(n, 4.0), train_perf=np.where(good, 1.0, 0.5), heldout_perf=np.ones(n),
                deploy_perf=np.ones(n), misbehaviour_compute=np.zeros(n))
    table = ProgramTable(backend=get_backend("numpy"), **cols)
    mask = looks_good(table, 0.9)
    j = np.array([trace(table, mask, AnnealingSettings(runs=1, seed=seed, search_speed=s)).drawn[-1] - 1
                  for seed in range(1500)])
    pmf = (1 - p) ** np.arange(s) * p
    pmf /= pmf.sum()
    mean = np.sum(np.arange(s) * pmf)
    sd = math.sqrt(np.sum((np.arange(s) - mean) ** 2 * pmf))
    assert abs(j.mean() - mean) < 4 * sd / math.sqrt(j.size)
    assert abs(np.mean(j == 0) - pmf[0]) < 4 * math.sqrt(pmf[0] * (1 - pmf[0]) / j.size)
    assert j.min() == 0 and j.max() <= s - 1


def test_trace_draws_follow_the_search_bias(numpy_table):
    """A search that prefers short programs draws shorter ones, failures included."""
    table, mask = numpy_table
    bits = table.to_numpy()["bits"]
    mean_bits = {s: np.mean(bits[trace(table, mask, AnnealingSettings(sampling=s, runs=1, rate=0.2)).samples])
                 for s in SAMPLINGS}
    assert mean_bits["simplicity"] < mean_bits["uniform"]


def test_trace_mistakes_are_explained(numpy_table):
    table, mask = numpy_table
    with pytest.raises(ExplorerError, match="run"):
        trace(table, mask, AnnealingSettings(runs=3), run=3)
    with pytest.raises(ExplorerError, match="show"):
        trace(table, mask, AnnealingSettings(runs=1), show=0)
    with pytest.raises(ExplorerError, match="c_start.*geometric"):
        trace(table, mask, AnnealingSettings(schedule="geometric", c_start=0.0, runs=1))


def test_trace_of_a_search_that_finds_nothing_runs_to_max_steps(numpy_table):
    table, _ = numpy_table
    tr = trace(table, looks_good(table, 1.1), AnnealingSettings(runs=1, max_steps=30))
    assert tr.steps == 30 and not tr.found.any() and tr.kind == "none" and tr.index == -1
    assert math.isnan(tr.c_star) and np.all(tr.k == 0) and tr.samples.size == 30 * 8


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_trace_is_the_same_on_every_back_end(world, numpy_table, backend, schedule):
    """`backend` (tests/conftest.py) includes the GPU back ends, skipped where this machine has none."""
    settings = AnnealingSettings(schedule=schedule, sampling="simplicity", runs=20, rate=_rate(schedule, 0.02))
    ref = trace(*numpy_table, settings, run=11)
    table = world.table(backend=backend)
    tr = trace(table, looks_good(table, THRESHOLD), settings, run=11)
    for name in ("n", "k", "drawn", "found_row", "samples", "offsets"):
        assert np.array_equal(getattr(tr, name), getattr(ref, name)), name
    np.testing.assert_allclose(tr.c, ref.c, rtol=1e-12)
    assert (tr.index, tr.kind, tr.c_star) == (ref.index, ref.kind, ref.c_star)


# ---- jumps in computation: compute granted in quanta ---------------------------------------------


def _integer_table(table):
    """The same programs with every average compute rounded up to a whole number."""
    cols = {c: table.backend.to_numpy(getattr(table, c)) for c in COLUMNS}
    cols["avg_compute"] = np.ceil(cols["avg_compute"])
    return ProgramTable(backend=table.backend, kinds=table.kinds, **cols)


@pytest.mark.parametrize("schedule", ("linear", "backoff"))
def test_a_quantum_that_every_bound_already_lies_on_changes_nothing(numpy_table, schedule):
    """Whole-number computes and whole-number bounds: granting compute in whole units is what the search did anyway."""
    table, mask = numpy_table
    table = _integer_table(table)
    values = dict(runs=300, schedule=schedule, c_start=0.0, rate=1.0, backoff_fall=1.0, backoff_slowdown=1.0)
    base = AnnealingSettings(**values)
    whole = AnnealingSettings(**values, quantum=1.0, quantum_phase=0.0)
    a, b = anneal(table, mask, base), anneal(table, mask, whole)
    assert np.array_equal(a.index, b.index) and np.array_equal(a.steps, b.steps)
    assert np.array_equal(a.c_star, b.c_star)


def test_quantum_zero_is_todays_search(numpy_table):
    table, mask = numpy_table
    a = anneal(table, mask, AnnealingSettings(runs=300, rate=0.05))
    b = anneal(table, mask, AnnealingSettings(runs=300, rate=0.05, quantum=0.0, quantum_phase=1.0))
    assert np.array_equal(a.index, b.index) and np.array_equal(a.c_star, b.c_star, equal_nan=True)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_finds_happen_at_grants_and_the_program_fits_the_grant(numpy_table, schedule):
    table, mask = numpy_table
    q, phase = 1.5, 0.25
    res = anneal(table, mask, AnnealingSettings(runs=300, schedule=schedule, rate=_rate(schedule, 0.01),
                                                quantum=q, quantum_phase=phase))
    found = res.index >= 0
    assert found.all()
    k = (res.c_star - phase) / q
    assert np.allclose(k, np.round(k))
    assert np.all(table.to_numpy()["avg_compute"][res.index] <= res.c_star)


def test_each_run_draws_its_own_grid_offset_from_its_own_stream(numpy_table):
    table, mask = numpy_table
    q = 2.0
    res = anneal(table, mask, AnnealingSettings(runs=400, rate=0.001, quantum=q))
    # C* - c_min is mostly where the run's first grant above c_min fell: spread over [0, q), not one value
    over = res.c_star - res.c_min
    assert over.min() >= 0 and np.mean(over < q) > 0.9 and np.unique(np.round(over, 9)).size > 100
    again = anneal(table, mask, AnnealingSettings(runs=400, rate=0.001, quantum=q))
    assert np.array_equal(res.c_star, again.c_star)


@pytest.fixture(scope="module")
def checked_table():
    """The default world (honest, goof-offs, deceptive programs, lookup tables) with the held-out check on."""
    table = AbstractWorld(n_programs=20_000).table(backend="numpy")
    return table, looks_good(table, THRESHOLD, generalization_check=True)


def test_coarse_quanta_make_the_first_find_misbehave_more_often(checked_table):
    """The essay's jumps in computation: a slow search that finds only honest programs with fine grants finds
    goof-offs and deceptive programs once the first grant above c_min can overshoot by a large quantum."""
    table, mask = checked_table
    rows = quanta_sweep(table, mask, AnnealingSettings(runs=600), quanta=(0.0, 0.5, 2.0, 8.0), ratios=(1e-3,))
    share = {row["quantum"]: row["misbehaving"] for row in rows}
    assert share[0.0] == 0.0 and share[0.5] < 0.02
    assert share[2.0] > 0.05 and share[8.0] > share[2.0] + 0.1
    for row in rows:
        assert row["misbehaving"] + row["honest"] + row["kind"]["lookup"] + row["kind"]["none"] == pytest.approx(1.0)
    c = [row["c_star"]["mean"] for row in rows]
    assert c == sorted(c)
    json.dumps(rows, allow_nan=False)


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("phase", (None, 0.0))
def test_a_slow_search_finds_misbehaviour_as_often_as_the_slow_limit_says(checked_table, sampling, phase):
    table, mask = checked_table
    runs = 2000
    settings = AnnealingSettings(runs=runs, sampling=sampling, quantum=4.0, quantum_phase=phase)
    row, = quanta_sweep(table, mask, settings, quanta=(4.0,), ratios=(1e-4,))
    limit = slow_limit(table, mask, AnnealingSettings(sampling=sampling, quantum=4.0, quantum_phase=phase))
    assert row["slow_limit"] == pytest.approx(limit)
    assert 0.0 < limit < 1.0
    sigma = math.sqrt(limit * (1 - limit) / runs)
    assert abs(row["misbehaving"] - limit) < 4 * sigma + 0.01


def test_slow_limit_is_the_share_among_good_programs_up_to_the_first_grant(checked_table):
    table, mask = checked_table
    cols, good = table.to_numpy(), np.asarray(mask)
    c_min = cols["avg_compute"][good].min()
    g = 4.0 * math.ceil(c_min / 4.0)
    within = good & (cols["avg_compute"] <= g)
    expect = np.isin(cols["kind"][within], [table.kinds.index("goof_off"), table.kinds.index("deceptive")]).mean()
    assert slow_limit(table, mask, AnnealingSettings(quantum=4.0, quantum_phase=0.0)) == pytest.approx(expect)
    assert slow_limit(table, looks_good(table, 1.1), AnnealingSettings(quantum=4.0)) is None


def test_trace_with_quanta_is_the_run_anneal_reports(numpy_table):
    table, mask = numpy_table
    settings = AnnealingSettings(runs=5, rate=0.05, quantum=1.0)
    res = anneal(table, mask, settings)
    for run in range(5):
        tr = trace(table, mask, settings, run=run)
        assert tr.index == res.index[run] and tr.c_star == res.c_star[run]
        assert tr.c[-1] == res.c_star[run] and np.all(np.diff(tr.c) >= 0)
        assert np.unique(tr.c).size < tr.steps  # the grant holds still for several steps at a time


def test_bad_quanta_name_the_parameter(numpy_table):
    table, mask = numpy_table
    with pytest.raises(ExplorerError, match="^quanta"):
        quanta_sweep(table, mask, AnnealingSettings(runs=5), quanta=(1.0, -1.0))
    with pytest.raises(ExplorerError, match="^ratios"):
        quanta_sweep(table, mask, AnnealingSettings(runs=5), quanta=(1.0,), ratios=())
    with pytest.raises(ExplorerError, match="quantum"):
        AnnealingSettings(quantum=-1.0)


# ---- the command line ----------------------------------------------------------------------------


def _cli(capsys, *args):
    from explorer.cli import main

    code = main(["anneal", "--set", "n_programs=20000", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_very_slow_ratio_reaches_its_limit(capsys):
    code, out, err = _cli(capsys, "--ratios", "1e-6", "--runs", "100", "--json")
    assert code == 0, err
    row, = json.loads(out)["sweep"]
    assert row["kind"]["none"] == 0.0 and row["kind"]["honest"] == 1.0
    code, out, err = _cli(capsys, "--ratios", "1e-30", "--runs", "10")
    assert code == 2 and err.startswith("error: ratios: ratio 1e-30 is too slow") and err.count("\n") == 1


def test_cli_quanta_table_and_json(capsys):
    code, out, err = _cli(capsys, "--quanta", "0", "4", "--runs", "300", "--json")
    assert code == 0, err
    report = json.loads(out)
    rows = report["quanta"]
    assert [r["quantum"] for r in rows] == [0.0, 4.0] and {r["ratio"] for r in rows} == {1e-3}
    assert rows[0]["misbehaving"] == 0.0 < rows[1]["misbehaving"]
    assert "quantum" not in report["params"] and report["params"]["n_programs"] == 20000
    code, out, err = _cli(capsys, "--quanta", "0", "4", "--runs", "300", "--ratios", "1e-3", "1e-2")
    assert code == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("rate/speed") for line in lines) == 2
    header = next(line for line in lines if line.split()[:2] == ["quantum", "misbehaving"])
    assert header.split()[-2:] == ["slow", "limit"]
    zero = next(line for line in lines if line.split()[:1] == ["0"])
    assert float(zero.split()[1]) == rows[0]["misbehaving"]


@pytest.mark.parametrize("args, words", [
    (["--quanta", "-1"], ["--quanta", "at least 0"]),
    (["--quanta", "1", "--set", "quantum=2"], ["quantum", "--quanta"]),
    (["--quanta", "1", "--ratios", "0"], ["--ratios"]),
])
def test_cli_quanta_mistakes_are_one_line(capsys, args, words):
    code, out, err = _cli(capsys, *args)
    assert code == 2 and err.count("\n") == 1
    assert all(w in err for w in words)


def test_trace_refuses_a_run_too_long_to_keep(numpy_table):
    table, mask = numpy_table
    with pytest.raises(ExplorerError, match="^rate: this run takes"):
        trace(table, mask, AnnealingSettings(runs=1, rate=1e-7, c_start=0.0))
