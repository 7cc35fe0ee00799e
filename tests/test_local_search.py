"""Local search on the enumerated world: the moves, the chain's stationary law, and what it shows against the posterior."""

import json

import numpy as np
import pytest

from explorer.errors import ExplorerError
from explorer.priors import PRIORS, PriorSettings, looks_good, select
from explorer.simulation import Simulation
from explorer.worlds.enumerated.local_search import (
    LocalSearchSettings, Moves, compare, local_search, log_prior, posterior, run_chains, target)
from explorer.worlds.enumerated.machine import END, LOOP, parse
from explorer.worlds.enumerated.spaces import PAD, enumerate_programs

WORLD = dict(task="parity", max_length=4, performance_threshold=1.0, generalization_check=True)


@pytest.fixture(scope="module")
def moves3():
    return Moves(enumerate_programs(3))


@pytest.fixture(scope="module")
def moves4():
    return Moves(enumerate_programs(4))


@pytest.fixture(scope="module")
def parity4():
    sim = Simulation("enumerated", **WORLD)
    table = sim.table()
    mask = np.asarray(looks_good(table, 1.0, True))
    return sim, table, mask


def _all_moves(moves):
    """(from, to) for every move out of every program (to = -1 where the move leads out of the space)."""
    counts = moves.counts
    rows = np.repeat(np.arange(len(moves.space)), counts)
    j = np.arange(rows.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, moves.rows(moves.apply(rows, j))


def _row(space, text):
    codes = np.full((1, space.max_length), PAD, dtype=np.int8)
    program = parse(text, space.instructions)
    codes[0, :len(program)] = program
    return int(Moves(space).rows(codes)[0])


def test_every_program_is_found_by_its_codes_and_anything_else_is_not(moves4):
    space = moves4.space
    assert np.array_equal(moves4.rows(space.codes), np.arange(len(space)))
    bad = np.full((2, space.max_length), PAD, dtype=np.int8)
    bad[0, :1] = LOOP  # LOOP without END
    bad[1, :2] = (END, LOOP)
    assert (moves4.rows(bad) == -1).all()


def test_move_counts_follow_the_program(moves4):
    space, k = moves4.space, moves4.k
    xorx = _row(space, "XORX")  # change 10, insert 2 x 11, wrap 3 blocks
    assert moves4.counts[xorx] == (k - 1) + 2 * k + 3
    loop = _row(space, "LOOP XORX END")  # change 3 x 10, insert 4 x 11, delete 3, no room to wrap, unwrap 1
    assert moves4.counts[loop] == 3 * (k - 1) + 4 * k + 3 + 1
    two = _row(space, "LOOP END LOOP END")  # full length: change, delete, and two loops to unwrap
    assert moves4.counts[two] == 4 * (k - 1) + 4 + 2
    nb = {space.listing(r) for r in moves4.neighbours(xorx) if r >= 0}
    assert {"LOOP XORX END", "LOOP END XORX", "XORX LOOP END", "ADDX", "XORX XORX", "NEXT XORX"} <= nb
    # every change or deletion breaks a loop; unwrapping either loop leaves the other
    assert [space.listing(r) for r in moves4.neighbours(two) if r >= 0] == ["LOOP END", "LOOP END"]


def test_every_move_stays_valid_and_changes_the_program_by_one_step(moves4):
    frm, to = _all_moves(moves4)
    ok = to >= 0
    assert ok.mean() > 0.3
    lengths = moves4.space.lengths
    assert set(np.unique(lengths[to[ok]] - lengths[frm[ok]])) == {-2, -1, 0, 1, 2}
    assert (to[ok] != frm[ok]).all()


@pytest.mark.parametrize("fixture", ["moves3", "moves4"])
def test_every_move_is_undone_by_as_many_moves(request, fixture):
    """x reaches y by exactly as many moves as y reaches x: the proposal is symmetric up to 1 / M."""
    moves = request.getfixturevalue(fixture)
    frm, to = _all_moves(moves)
    ok = to >= 0
    forward = np.sort(frm[ok] * len(moves.space) + to[ok])
    backward = np.sort(to[ok] * len(moves.space) + frm[ok])
    assert np.array_equal(forward, backward)


def test_every_program_reaches_every_other(moves4):
    frm, to = _all_moves(moves4)
    ok = to >= 0
    seen = np.zeros(len(moves4.space), dtype=bool)
    seen[0] = True
    while True:
        grown = seen.copy()
        grown[to[ok][seen[frm[ok]]]] = True
        if (grown == seen).all():
            break
        seen = grown
    assert seen.all()


def test_the_metropolis_kernel_keeps_the_target_exactly(moves3):
    """pi T = pi for the chain's whole transition matrix, on a random target over every program up to length 3."""
    n = len(moves3.space)
    log_t = np.random.default_rng(3).normal(0, 2, n)
    pi = np.exp(log_t - log_t.max())
    pi /= pi.sum()
    frm, to = _all_moves(moves3)
    ok = to >= 0
    frm, to = frm[ok], to[ok]
    m = moves3.counts.astype(float)
    p = np.minimum(1.0, np.exp(log_t[to] - log_t[frm]) * m[frm] / m[to]) / m[frm]
    flow = np.zeros(n)
    np.add.at(flow, to, pi[frm] * p)
    stay = 1.0 - np.bincount(frm, weights=p, minlength=n)
    assert np.allclose(flow + pi * stay, pi, rtol=0, atol=1e-15)


def test_metropolis_visits_approach_the_target(moves3):
    n = len(moves3.space)
    log_t = np.random.default_rng(4).normal(0, 1.5, n)
    pi = np.exp(log_t - log_t.max())
    pi /= pi.sum()
    chains = run_chains(moves3, log_t, LocalSearchSettings(chains=400, steps=3000), record_visits=True)
    visits = chains.visits / chains.visits.sum()
    assert 0.5 * np.abs(visits - pi).sum() < 0.05
    flat = run_chains(moves3, log_t, LocalSearchSettings(chains=400, steps=3000, temperature=50.0), record_visits=True)
    assert 0.5 * np.abs(flat.visits / flat.visits.sum() - pi).sum() > 0.2  # a hot chain samples something flatter


def test_greedy_never_accepts_a_worse_program(moves3):
    log_t = np.random.default_rng(5).normal(0, 1, len(moves3.space))
    settings = LocalSearchSettings(chains=200, steps=1, acceptance="greedy")
    for seed in range(20):
        settings.seed = seed
        one = run_chains(moves3, log_t, settings)
        assert (log_t[one.end] >= log_t[one.start]).all()


def test_chains_are_deterministic_per_seed(moves4):
    log_t = np.random.default_rng(6).normal(0, 1, len(moves4.space))
    a = run_chains(moves4, log_t, LocalSearchSettings(chains=50, steps=200, seed=7))
    b = run_chains(moves4, log_t, LocalSearchSettings(chains=50, steps=200, seed=7))
    c = run_chains(moves4, log_t, LocalSearchSettings(chains=50, steps=200, seed=8))
    assert np.array_equal(a.end, b.end) and np.array_equal(a.start, b.start) and a.accepted == b.accepted
    assert not np.array_equal(a.end, c.end)
    short = run_chains(moves4, log_t, LocalSearchSettings(chains=50, steps=0, start="short"))
    assert (moves4.space.lengths[short.start] == 1).all() and np.array_equal(short.start, short.end)


@pytest.mark.parametrize("prior", PRIORS)
def test_log_prior_and_posterior_are_the_priors_own(parity4, prior):
    sim, table, mask = parity4
    post = posterior(mask, log_prior(table, prior, sim.priors))
    mine = {k: post[table.to_numpy()["kind"] == i].sum() for i, k in enumerate(table.kinds)}
    theirs = select(table, PriorSettings(performance_threshold=1.0, generalization_check=True))[prior]
    assert mine == pytest.approx(theirs.mass, abs=1e-5)
    assert post[theirs.map["index"]] == pytest.approx(post.max())


def test_the_target_is_the_posterior_on_good_looking_programs(parity4):
    sim, table, mask = parity4
    prior_log = log_prior(table, "average_speed", sim.priors)
    log_t = target(table, mask, prior_log, 10.0, True)
    assert np.array_equal(log_t[mask], prior_log[mask])
    assert (log_t[~mask] <= prior_log[~mask] - 10.0).all()


def test_long_metropolis_chains_end_where_the_posterior_puts_its_mass(parity4):
    """At T = 1 the chain samples the target, whose good-looking part is the posterior: no path dependence."""
    sim, table, mask = parity4
    prior_log = log_prior(table, "simplicity", sim.priors)
    log_t = target(table, mask, prior_log, 10.0, True)
    chains = run_chains(Moves(sim.world.space()), log_t, LocalSearchSettings(chains=400, steps=3000))
    r = compare(table, sim.world.space(), mask, prior_log, chains)
    assert r["ended_good"] > 0.95 and r["tv_kind"] < 0.1
    assert abs(r["at_map"] - r["map_mass"]) < 0.1


def test_greedy_chains_end_at_the_map_far_more_often_than_the_posterior_weighs_it(parity4):
    """Hill climbing is path dependent: it stops at the first program no move improves, and here that is the
    honest MAP, while the average-case speed prior's posterior puts most of its mass on goof-offs."""
    sim, table, mask = parity4
    r = local_search(sim.world, table, sim.priors, "average_speed",
                     LocalSearchSettings(chains=300, steps=2000, acceptance="greedy"))
    assert r["posterior_kind"]["goof_off"] > 0.5 and r["map_mass"] < 0.3
    assert r["end_kind"]["honest"] > 0.9 and r["at_map"] > 2 * r["map_mass"]
    assert r["tv_kind"] > 0.5
    json.dumps(r, allow_nan=False)


def test_mistakes_name_the_parameter(parity4, moves3):
    sim, table, mask = parity4
    with pytest.raises(ExplorerError, match="prior"):
        log_prior(table, "speedy", sim.priors)
    for values, name in (({"chains": 0}, "chains"), ({"acceptance": "sgd"}, "acceptance"),
                         ({"temperature": 0.0}, "temperature"), ({"start": "long"}, "start")):
        with pytest.raises(ExplorerError, match=name):
            LocalSearchSettings(**values)
    with pytest.raises(ExplorerError, match="initial"):
        run_chains(moves3, np.zeros(len(moves3.space)), LocalSearchSettings(chains=2), initial=np.array([0, -1]))


# ---- the command line ----------------------------------------------------------------------------


def _cli(capsys, *args):
    from explorer.cli import main

    code = main(["search", "local", "--max-length", "4", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_has_one_row_per_prior(capsys):
    code, out, err = _cli(capsys, "--chains", "60", "--steps", "300", "--prior", "simplicity", "average_speed", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [r["prior"] for r in report["priors"]] == ["simplicity", "average_speed"]
    assert report["settings"]["chains"] == 60 and report["world"]["max_length"] == 4
    for r in report["priors"]:
        assert {"end_kind", "posterior_kind", "tv_kind", "at_map", "map_mass", "ended_good", "map"} <= set(r)
        assert sum(r["posterior_kind"].values()) == pytest.approx(1.0)


def test_cli_text_sets_chains_against_the_posterior(capsys):
    code, out, err = _cli(capsys, "--chains", "60", "--steps", "300", "--prior", "average_speed",
                          "--acceptance", "greedy", "--seed", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert any(line.split()[:2] == ["average_speed", "posterior"] for line in lines)
    assert any(line.split()[:1] == ["chains"] for line in lines)
    assert "greedy" in out and "MAP" in out and "chains ended at:" in out


@pytest.mark.parametrize("args, words", [
    (["--prior", "speedy"], ["--prior", "simplicity"]),
    (["--chains", "0"], ["chains"]),
    (["--temperature", "0"], ["temperature"]),
    (["--top", "0"], ["--top"]),
])
def test_cli_mistakes_are_one_line(capsys, args, words):
    code, out, err = _cli(capsys, *args)
    assert code == 2 and err.count("\n") == 1
    assert all(w in err for w in words)
