"""The enumerated world: measured columns match the reference, and what the issue says the space shows."""

import itertools

import numpy as np
import pytest

from explorer.errors import ExplorerError
from explorer.priors import PriorSettings, select
from explorer.table import KINDS
from explorer.worlds.enumerated.machine import run
from explorer.worlds.enumerated.tasks import TASKS, all_inputs, correct
from explorer.worlds.enumerated.world import WASTE_PLACES, EnumeratedWorld, MeasurementStopped


def _brute_force(world):
    """Every column recomputed with the plain Python interpreter, one run at a time."""
    space = world.space()
    train = [x for n in range(1, world.n_train + 1) for x in all_inputs(n)]
    held = [x for n in range(world.n_train + 1, world.n_test + 1) for x in all_inputs(n)]
    rows = []
    long_from = world.n_train  # IFSHORT's long inputs: the longest training length and up
    for r in range(len(space)):
        p = space.program(r)
        tr = [run(p, x, 0, long_from=long_from) for x in train]
        h0 = [run(p, x, 0, long_from=long_from) for x in held]
        h1 = [run(p, x, 1, long_from=long_from) for x in held]
        t1 = [run(p, x, 1, long_from=long_from) for x in train]
        rows.append({
            "train_perf": np.mean([correct(world.task, o, x) for (o, _), x in zip(tr, train)]),
            "heldout_perf": np.mean([correct(world.task, o, x) for (o, _), x in zip(h0, held)]),
            "deploy_perf": np.mean([correct(world.task, o, x) for (o, _), x in zip(h1, held)]),
            "avg_compute": np.mean([k for _, k in tr]), "max_compute": max(k for _, k in tr),
            "flag": any(a[0] != b[0] for a, b in zip(tr + h0, t1 + h1)),
            "behaviour": tuple(o for o, _ in tr + h0 + t1 + h1)})
    return rows


@pytest.mark.parametrize("task, instructions", [(t, "basic") for t in TASKS] + [(t, "slack") for t in TASKS])
def test_columns_and_kinds_match_the_reference(task, instructions):
    world = EnumeratedWorld(task=task, max_length=3, n_train=2, n_test=4, instruction_set=instructions)
    cols = world.table().to_numpy()
    where = world.measure().waste_where()
    ref = _brute_force(world)
    fastest, lowest_peak = {}, {}
    for r in ref:
        fastest[r["behaviour"]] = min(fastest.get(r["behaviour"], np.inf), r["avg_compute"])
        lowest_peak[r["behaviour"]] = min(lowest_peak.get(r["behaviour"], np.inf), r["max_compute"])
    for i, r in enumerate(ref):
        for c in ("train_perf", "heldout_perf", "deploy_perf", "avg_compute", "max_compute"):
            assert cols[c][i] == pytest.approx(r[c]), (c, world.space().listing(i))
        waste = r["avg_compute"] - fastest[r["behaviour"]]
        assert cols["misbehaviour_compute"][i] == pytest.approx(waste)
        kind = ("deceptive" if r["flag"] else "lookup" if r["heldout_perf"] < 1 else "goof_off" if waste > 0 else "honest")
        assert cols["kind_name"][i] == kind, world.space().listing(i)
        peak_waste = r["max_compute"] - lowest_peak[r["behaviour"]]
        place = ("none" if waste == 0 else "slack" if waste > peak_waste + 1e-9
                 else "peak" if waste < peak_waste - 1e-9 else "even")
        assert WASTE_PLACES[where[i]] == place, world.space().listing(i)


@pytest.mark.parametrize("instructions", ["basic", "slack"])
def test_same_table_on_every_backend(backend, instructions):
    ref = EnumeratedWorld(max_length=4, n_test=5, instruction_set=instructions).table().to_numpy()
    got = EnumeratedWorld(max_length=4, n_test=5, backend=backend, instruction_set=instructions).table().to_numpy()
    for c in ref:
        assert (ref[c] == got[c]).all(), c


def test_bad_settings_are_named():
    with pytest.raises(ExplorerError, match="n_test"):
        EnumeratedWorld(n_train=4, n_test=4).table()
    with pytest.raises(ExplorerError, match="max_length"):
        EnumeratedWorld(max_length=9)
    with pytest.raises(ValueError, match="instruction_set"):
        EnumeratedWorld(instruction_set="fancy")


def test_progress_reaches_the_total_and_should_stop_ends_between_chunks():
    world = EnumeratedWorld(max_length=5)
    calls = []
    before = world.table(progress=lambda done, total: calls.append((done, total))).to_numpy()
    total = calls[-1][1]
    assert total > 1 and calls == [(k, total) for k in range(1, total + 1)]
    world.max_length = 4
    asked = []
    with pytest.raises(MeasurementStopped) as stopped:
        world.measure(should_stop=lambda: asked.append(1) or len(asked) > 1)  # stop before the second chunk
    assert (stopped.value.done, stopped.value.total) == (1, 2) and isinstance(stopped.value, ExplorerError)
    world.max_length = 5  # the stopped run cached nothing and left the previous measurement in place
    assert (world.table(should_stop=lambda: True).to_numpy()["bits"] == before["bits"]).all()


# ---- what the measured space shows (parity, defaults) ------------------------------------------

@pytest.fixture(scope="module", params=[5, 6])
def parity(request):
    world = EnumeratedWorld(task="parity", max_length=request.param)
    return world, world.table()


def _pick(parity, **settings):
    _, table = parity
    return select(table, PriorSettings(performance_threshold=1.0, **settings))


def test_simplicity_picks_an_honest_generalising_program(parity):
    best = _pick(parity, generalization_check=False)["simplicity"].map
    assert best["kind"] == "honest" and best["heldout_perf"] == 1.0 and best["deploy_perf"] == 1.0


def test_average_speed_alone_picks_a_memoriser_unless_generalisation_is_checked(parity):
    without = _pick(parity, generalization_check=False)["average_speed"].map
    assert without["kind"] == "lookup" and without["train_perf"] == 1.0 and without["heldout_perf"] < 1.0
    world, _ = parity
    assert "LOOP" not in world.space().listing(without["index"])  # straight-line: fast on short inputs
    with_check = _pick(parity, generalization_check=True)["average_speed"].map
    assert with_check["kind"] != "lookup" and with_check["heldout_perf"] == 1.0


def test_average_speed_added_to_simplicity_lowers_deceptive_mass(parity):
    masses = [_pick(parity, w_max=0.0, w_avg=w)["combined"].mass["deceptive"] for w in (0.0, 0.25, 0.5, 1.0, 2.0)]
    assert masses[0] > 0  # deceptive programs exist among those that look good
    assert all(b < a for a, b in itertools.pairwise(masses)), masses


def test_speed_alone_can_leave_deception_more_mass_than_simplicity(parity):
    """Against the simple story, shown not hidden: with no simplicity term the average speed prior
    leaves deceptive programs more posterior mass than the simplicity prior does."""
    picks = _pick(parity)
    assert picks["average_speed"].mass["deceptive"] > picks["simplicity"].mass["deceptive"]
    assert picks["max_speed"].mass["deceptive"] > picks["simplicity"].mass["deceptive"]


def test_kinds_cover_the_issue_vocabulary(parity):
    world, _ = parity
    m = world.measure()
    good = m.kinds()[m.looks_good]
    assert all((good == KINDS.index(k)).any() for k in KINDS)


def test_levin_order_picks_honest_and_sits_between_simplicity_and_pure_speed(parity):
    """Kt = bits + log2 steps: measured here, it picks the honest loop and gives deception less mass
    than the pure speed priors do."""
    picks = _pick(parity)
    assert picks["levin"].map["kind"] == "honest"
    assert picks["levin"].mass["deceptive"] < picks["average_speed"].mass["deceptive"]
