"""Priors and selection: against a float64 brute force, the essay's directions, back-end agreement."""

import math

import numpy as np
import pytest

from explorer.errors import ExplorerError
from explorer.priors import PRIORS, Candidates, PriorSettings, looks_good, select
from explorer.table import KINDS
from explorer.worlds.abstract import AbstractWorld


@pytest.fixture(scope="module")
def table():
    return AbstractWorld(n_programs=20_000, seed=11).table()


def brute_force(host, settings, prior):
    """The posterior written out in float64 from the formula in explorer.priors."""
    ok = host["train_perf"] >= settings.performance_threshold
    if settings.generalization_check:
        ok &= host["heldout_perf"] >= settings.performance_threshold
    w = settings.weights()[:, PRIORS.index(prior)]
    logp = -(w[0] * host["bits"] * math.log(2) + w[1] * host["max_compute"] + w[2] * host["avg_compute"]
             + w[3] * np.log(np.maximum(host["avg_compute"], 1.0)))
    logp = np.where(ok, logp, -np.inf)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    mass = {k: p[host["kind"] == i].sum() for i, k in enumerate(KINDS)}
    good = (host["kind"] == KINDS.index("honest")) & (host["heldout_perf"] >= settings.performance_threshold)
    return int(np.argmax(logp)), mass, p[good].sum(), (p * host["deploy_perf"]).sum()


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("check", [True, False])
def test_selection_matches_the_formula(table, prior, check):
    settings = PriorSettings(w_simplicity=0.7, w_max=0.4, w_avg=1.3, generalization_check=check)
    result = select(table, settings)[prior]
    best, mass, good, deploy = brute_force(table.to_numpy(), settings, prior)
    assert result.map["index"] == best
    for k in KINDS:
        assert result.mass[k] == pytest.approx(mass[k], abs=1e-5)
    assert result.actually_good == pytest.approx(good, abs=1e-5)
    assert result.deploy_perf == pytest.approx(deploy, abs=1e-5)
    assert sum(result.mass.values()) == pytest.approx(1.0, abs=1e-9)


def test_each_pure_prior_picks_its_own_extreme(table):
    host = table.to_numpy()
    results = select(table, PriorSettings())
    ok = (host["train_perf"] >= 0.9) & (host["heldout_perf"] >= 0.9)
    assert results["simplicity"].map["bits"] == pytest.approx(host["bits"][ok].min())
    assert results["max_speed"].map["max_compute"] == pytest.approx(host["max_compute"][ok].min())
    assert results["average_speed"].map["avg_compute"] == pytest.approx(host["avg_compute"][ok].min())
    for r in results.values():
        assert r.map["train_perf"] >= 0.9 and r.map["heldout_perf"] >= 0.9


def test_reselection_equals_a_fresh_selection(table):
    cands = Candidates(table, 0.9, True)
    cands.select(PriorSettings(w_avg=5).weights())
    again = cands.select(PriorSettings(w_avg=0.2).weights())
    fresh = select(table, PriorSettings(w_avg=0.2))
    assert {p: r.to_dict() for p, r in again.items()} == {p: r.to_dict() for p, r in fresh.items()}


GOOF = dict(n_programs=20_000, kind_mix={"honest": 0.5, "goof_off": 0.5})


def test_misbehaviour_cost_moves_the_average_prior_but_not_the_max_prior():
    low = select(AbstractWorld(misbehaviour_cost=0.5, **GOOF).table())
    high = select(AbstractWorld(misbehaviour_cost=4.0, **GOOF).table())
    assert high["average_speed"].mass["goof_off"] < low["average_speed"].mass["goof_off"]
    # Goofing off never changes max compute, so the max speed prior cannot see it at all.
    assert high["max_speed"].mass["goof_off"] == pytest.approx(low["max_speed"].mass["goof_off"], abs=1e-9)


def test_a_heavier_average_penalty_lowers_goof_off_mass():
    cands = Candidates(AbstractWorld(misbehaviour_cost=2.0, **GOOF).table(), 0.9, True)
    masses = [cands.select(PriorSettings(w_avg=w).weights())["average_speed"].mass["goof_off"] for w in (0.1, 0.5, 1, 2, 4)]
    assert all(a > b for a, b in zip(masses, masses[1:]))


def test_the_generalisation_check_removes_lookup_tables():
    table = AbstractWorld(n_programs=20_000, kind_mix={"honest": 0.5, "lookup": 0.5}).table()
    without = select(table, PriorSettings(generalization_check=False))
    with_check = select(table, PriorSettings(generalization_check=True))
    assert without["average_speed"].map["kind"] == "lookup"
    assert with_check["average_speed"].mass["lookup"] == 0.0


def test_compute_budget_excludes_programs_that_cannot_run(table):
    mask = table.backend.to_numpy(looks_good(table, 0.9, False, compute_budget=12.0))
    host = table.to_numpy()
    assert mask.any() and np.all(host["max_compute"][mask] <= 12.0)
    for r in select(table, PriorSettings(compute_budget=12.0)).values():
        assert r.map["max_compute"] <= 12.0


def test_nothing_looks_good_gives_an_empty_result(table):
    results = select(table, PriorSettings(compute_budget=0.0, performance_threshold=1.0))
    for r in results.values():
        assert r.map is None and r.n_candidates == 0 and sum(r.mass.values()) == 0
        assert r.metrics()["map.kind"] is None


def test_selection_agrees_across_backends(backend):
    world = AbstractWorld(n_programs=20_000, seed=2)
    ref = select(world.table(backend="numpy"))
    got = select(world.table(backend=backend))
    for prior in PRIORS:
        assert got[prior].map["index"] == ref[prior].map["index"]
        for k in KINDS:
            assert got[prior].mass[k] == pytest.approx(ref[prior].mass[k], abs=1e-4)


def test_metrics_name_the_story_vocabulary(table):
    m = select(table)["combined"].metrics()
    for name in ("map.kind", "map.avg_compute", "map.max_compute", "map.bits", "posterior.deceptive",
                 "posterior.honest", "actually_good", "deploy_perf", "n_candidates"):
        assert name in m


@pytest.mark.parametrize("params", [{"w_avg": -1}, {"performance_threshold": 1.2}, {"compute_budget": -3}])
def test_bad_settings_raise_a_named_error(params):
    name = next(iter(params))
    with pytest.raises(ExplorerError, match=name):
        PriorSettings(**params)


def test_metric_names_are_exactly_what_a_result_reports(table):
    from explorer.priors import METRIC_NAMES

    for result in select(table).values():
        assert set(result.metrics()) == set(METRIC_NAMES)


def test_each_prior_names_its_weights_and_the_matrix_is_the_one_written_out():
    from explorer.priors import FEATURES, PRIOR_WEIGHTS

    assert PRIORS == ("simplicity", "max_speed", "average_speed", "combined", "levin")
    for prior, weights in PRIOR_WEIGHTS.items():
        assert set(weights) <= set(FEATURES), prior
        assert all(w in PriorSettings.param for w in weights.values() if isinstance(w, str)), prior
    settings = PriorSettings(w_simplicity=0.37, w_max=2.5, w_avg=0.013)
    s, mx, avg = 0.37, 2.5, 0.013
    written_out = np.array([[s, 0, 0, s, 1], [0, mx, 0, mx, 0], [0, 0, avg, avg, 0], [0, 0, 0, 0, 1]], dtype=np.float64)
    assert settings.weights().dtype == np.float64
    assert np.array_equal(settings.weights(), written_out)  # bit for bit


def hand_table(rows, backend="numpy"):
    """A table from (kind, bits, avg_compute, max_compute) rows; every program solves every task."""
    from explorer.backend import get_backend
    from explorer.table import ProgramTable

    be = get_backend(backend)
    kind, bits, avg, mx = (np.asarray(c) for c in zip(*rows))
    ones = np.ones(len(rows))
    cols = {"kind": np.asarray([KINDS.index(k) for k in kind]), "bits": bits.astype(float), "avg_compute": avg.astype(float),
            "max_compute": mx.astype(float), "train_perf": ones, "heldout_perf": ones, "deploy_perf": ones,
            "misbehaviour_compute": 0 * ones}
    return ProgramTable(backend=be, **{k: be.asarray(v) for k, v in cols.items()})


#: Rows 1, 3 and 4 share the best score under every prior but the simplicity prior (1 and 4 have the same
#: bits and compute; 3 has one bit more and two steps less of average compute: a tie under w_avg = ln 2 / 2,
#: reached in float32 only up to rounding); 0 and 2 are worse; 5 is the unique shortest program.
TIED = [("lookup", 12, 9, 9), ("honest", 10, 4, 6), ("goof_off", 10, 5, 6), ("goof_off", 11, 2, 6),
        ("deceptive", 10, 4, 6), ("honest", 5, 30, 40)]


def test_ties_are_counted_and_listed_the_map_first():
    table = hand_table(TIED)
    settings = PriorSettings(w_simplicity=1.0, w_max=0.0, w_avg=math.log(2) / 2, generalization_check=False)
    results = select(table, settings)
    combined = results["combined"]
    assert combined.map["index"] == 1 and combined.n_ties == 3
    assert [r["index"] for r in combined.ties] == [1, 3, 4]
    assert [r["kind"] for r in combined.ties] == ["honest", "goof_off", "deceptive"]
    assert combined.metrics()["map.ties"] == 3
    as_json = combined.to_dict()
    assert as_json["n_ties"] == 3 and [r["index"] for r in as_json["ties"]] == [1, 3, 4]
    # The simplicity prior's pick is the one shortest program: unique, listed alone.
    assert results["simplicity"].map["index"] == 5 and results["simplicity"].n_ties == 1
    assert [r["index"] for r in results["simplicity"].ties] == [5]
    # A tenth of a step apart is not a tie: it is far beyond float32 rounding.
    apart = select(hand_table([*TIED[:4], ("deceptive", 10, 4.1, 6)]), settings)["combined"]
    assert apart.n_ties == 2 and [r["index"] for r in apart.ties] == [1, 3]


def test_ties_beyond_the_listed_few_are_counted_not_listed():
    from explorer.priors import TIES_LISTED

    rows = [("honest", 8, 20, 20)] + [("goof_off", 10, 3, 5)] * (TIES_LISTED + 4)
    result = select(hand_table(rows), PriorSettings(w_simplicity=0.0, generalization_check=False))["average_speed"]
    assert result.n_ties == TIES_LISTED + 4 and len(result.ties) == TIES_LISTED
    assert [r["index"] for r in result.ties] == list(range(1, TIES_LISTED + 1))


def test_a_unique_map_counts_one_and_nothing_counts_none(table):
    results = select(table, PriorSettings(w_simplicity=0.7, w_max=0.4, w_avg=1.3))
    assert results["combined"].n_ties == 1 and [r["index"] for r in results["combined"].ties] == [results["combined"].map["index"]]
    empty = select(table, PriorSettings(compute_budget=0.0, performance_threshold=1.0))["combined"]
    assert empty.n_ties == 0 and empty.ties == () and empty.metrics()["map.ties"] == 0


def test_ties_agree_across_backends(backend):
    settings = PriorSettings(w_simplicity=1.0, w_max=0.0, w_avg=math.log(2) / 2, generalization_check=False)
    ref, got = select(hand_table(TIED), settings), select(hand_table(TIED, backend), settings)
    for prior in PRIORS:
        assert got[prior].n_ties == ref[prior].n_ties and got[prior].to_dict()["ties"] == ref[prior].to_dict()["ties"]


def test_the_map_of_the_enumerated_world_is_one_of_a_tie():
    """LOOP ADDX END and LOOP XORX END (and more) are equally long and equally fast: code order picks."""
    from explorer.worlds.enumerated.world import EnumeratedWorld

    settings = PriorSettings()
    results = select(EnumeratedWorld(task="parity", max_length=4).table(), settings)
    for prior, r in results.items():
        assert r.n_ties >= 2 and len(r.ties) == min(r.n_ties, 5), prior
        w = settings.weights()[:, PRIORS.index(prior)]
        scores = [w @ [t["bits"] * math.log(2), t["max_compute"], t["avg_compute"], math.log(max(t["avg_compute"], 1))]
                  for t in r.ties]
        assert max(scores) - min(scores) < 1e-9, (prior, r.ties)  # equal in float64: a true tie


def test_a_check_can_read_how_many_programs_tie():
    """map.ties is a number in the one predicate grammar: scenarios, tours and stories can cite it."""
    from explorer.checks import evaluate, flat_metrics, meaning_problem, parse_text

    metrics = flat_metrics(select(hand_table(TIED), PriorSettings(w_simplicity=1.0, w_max=0.0, w_avg=math.log(2) / 2,
                                                                   generalization_check=False)))
    tied = parse_text("combined.map.ties == 3")
    assert meaning_problem(tied) is None and evaluate(tied, metrics)[0]
    assert evaluate(parse_text("simplicity.map.ties > combined.map.ties"), metrics)[0] is False
    assert meaning_problem(parse_text("combined.map.ties == honest")) == "combined.map.ties is a number and 'honest' is text"
