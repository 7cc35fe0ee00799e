"""The halting audit (both step counts) and the essay's caveats 2 and 3 measured on the planted drive, at tiny sizes."""

import math

import pytest
import torch

from explorer.worlds.neural import allotment, halting, parallel_drive
from explorer.worlds.neural.halting import HaltingSettings, PonderNetwork, expected_steps
from explorer.worlds.neural.measure import Measurement
from explorer.worlds.neural.rollout_predictor import PredictorSettings
from explorer.worlds.neural.tasks import TaskSettings

TINY = {"hidden": 8, "max_steps": 4, "batch_size": 32, "train_steps": 200, "learning_rate": 1e-2, "beta": 0.001, "mu": 1.0}


def test_expected_steps_is_what_the_kl_penalty_prices():
    """KL(p || p_G) = -log(1 - lambda_p) E_p[n] - H(p) + const: the E_p[n] in it is expected_steps."""
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(6, 1, 5, generator=gen) * 2
    lam = 0.3
    log_p = halting.log_halting_distribution(logits)
    log_pg = halting.log_geometric_prior(torch.tensor([lam]), 6)
    kl = halting.kl_halting_to_prior(log_p, log_pg)[0]
    p = log_p.exp()[:, 0]
    entropy = -(p * log_p[:, 0]).sum(dim=0)
    const = math.log(lam) - math.log(1 - lam) - math.log(1 - (1 - lam) ** 6)  # log p_G(n) = const + n log(1 - lam)
    priced = -math.log(1 - lam) * expected_steps(log_p)[0]
    assert torch.allclose(kl, priced - entropy - const, atol=1e-5)
    by_hand = (p * torch.arange(1, 7.0)[:, None]).sum(dim=0)
    assert torch.allclose(expected_steps(log_p)[0], by_hand)


def test_a_measurement_reports_both_counts_per_difficulty_and_held_out():
    steps = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    expected = torch.tensor([[1.5, 2.5, 2.5, 3.0]])
    m = Measurement(torch.tensor([1, 1, 2, 3]), torch.ones(1, 4, dtype=torch.bool), steps, steps, 2, expected=expected)
    s = m.summary()
    assert s["steps_by_rule"] == s["mean_steps"] == 2.0 and s["expected_steps"] == pytest.approx(13 / 6)
    assert s["heldout_steps_by_rule"] == 4.0 and s["heldout_expected_steps"] == 3.0
    assert [(r["steps_by_rule"], r["expected_steps"]) for r in s["by_difficulty"]] == [(1.5, 2.0), (3.0, 2.5), (4.0, 3.0)]
    plain = Measurement(torch.tensor([1]), torch.ones(1, 1, dtype=torch.bool), steps[:, :1], steps[:, :1], 1).summary()
    assert "expected_steps" not in plain and "steps_by_rule" not in plain["by_difficulty"][0]


def test_a_narrow_member_uses_only_its_first_units():
    net = PonderNetwork(2, 5, 2, 6, 3, 0, torch.Generator().manual_seed(0), widths=torch.tensor([2.0, 0.0]))
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(1))
    before = [t[0].clone() for t in net(x)]
    with torch.no_grad():  # member 0's units 2.. (every weight that feeds or reads them) are scrambled
        for layer in (net.input, net.recurrent):
            for gate in range(3):
                layer.weight[0, :, gate * 6 + 2:gate * 6 + 6] = 9.0
                layer.bias[0, :, gate * 6 + 2:gate * 6 + 6] = 9.0
        net.recurrent.weight[0, 2:] = 9.0
        net.head.weight[0, 2:] = 9.0
    after = [t[0] for t in net(x)]
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    full = net(x)[0][:, 1].clone()  # member 1 (width 0: all units) does read its units 2..
    with torch.no_grad():
        net.head.weight[1, 2:] = 9.0
    assert not torch.equal(net(x)[0][:, 1], full)


def test_multiply_adds_by_hand():
    model = parallel_drive.WorkModel(task_inputs=6, drive_inputs=6, task_outputs=3, drive_outputs=2)
    assert model.multiply_adds(4, 2.0, drive=False) == 3 * 4 * 6 + 2 * (3 * 16 + 4 * 3)
    assert model.multiply_adds(4, 2.0, drive=True) == 3 * 4 * 12 + 2 * (3 * 16 + 4 * 5)


@pytest.fixture(scope="module")
def task():
    return TaskSettings(size=4, eval_per_difficulty=32)


def test_drive_work_reports_both_charges_per_width(task):
    run = parallel_drive.train(task, HaltingSettings(**TINY), [2, 8])
    out = parallel_drive.report(run)
    assert [r["width"] for r in out["rows"]] == [2, 8] and run.members.count == 4
    for r in out["rows"]:
        p, d = r["plain"], r["drive"]
        assert r["extra_steps"] == d["steps"] - p["steps"] and r["extra_work"] == d["work"] - p["work"]
        assert 1 <= p["steps"] <= TINY["max_steps"] and 0 <= d["drive_accuracy"] <= 1
        assert p["good"] == (p["accuracy"] >= 0.9)
    first_good = {side: next((r["width"] for r in out["rows"] if r[side]["good"]), None) for side in ("plain", "drive")}
    assert out["least_good_width"] == first_good
    if None not in first_good.values():
        assert out["serial"]["extra"] == pytest.approx(out["serial"]["drive"] - out["serial"]["plain"])
        assert out["work"]["ratio"] == pytest.approx(out["work"]["drive"] / out["work"]["plain"])
    assert out["finding"]


def test_the_finding_follows_the_figures():
    wider = {"least_good_width": {"plain": 8, "drive": 16}, "serial": {"extra": 0.5, "ratio": 1.2}, "work": {"ratio": 4.0}}
    assert "needs width 16" in parallel_drive.finding(wider) and "sees more" in parallel_drive.finding(wider)
    same = {"least_good_width": {"plain": 8, "drive": 8}, "serial": {"extra": 0.5, "ratio": 1.2}, "work": {"ratio": 1.1}}
    assert "fits in the width" in parallel_drive.finding(same) and "sees no more" in parallel_drive.finding(same)
    assert "does not survive" in parallel_drive.finding({"least_good_width": {"plain": 8, "drive": None}})


def test_drive_allotment_measures_the_drive_under_both_allotments(task):
    run, predicted = allotment.train(task, HaltingSettings(**TINY), PredictorSettings(train_steps=100, dataset_size=512))
    out = allotment.report(run, predicted)
    assert out["networks"] == 2 and out["mu"] == 1.0
    for name in allotment.ALLOTMENTS:
        a = out[name]
        assert a["extra_steps"] == a["drive"]["steps"] - a["plain"]["steps"]
        assert a["drive_share"] == pytest.approx(a["extra_steps"] / a["drive"]["steps"])
        assert 0 <= a["drive"]["drive_accuracy"] <= 1 and a["plain"]["drive_accuracy"] is None
        assert 1 <= a["drive"]["steps"] <= TINY["max_steps"] and 1 <= a["plain"]["needed_steps"] <= TINY["max_steps"]
    assert "expected_steps" in out["halting"]["drive"] and "expected_steps" not in out["predictor"]["drive"]
    gains = out["halting"]["extra_steps"] > out["predictor"]["extra_steps"]
    assert ("gains steps where the network picks its exit" in out["finding"]) == gains


# ---- the same measurements as world parameters, so scenarios can check them --------------------------------

def test_widths_compute_and_allotment_are_checked_world_parameters():
    from explorer.errors import ExplorerError
    from explorer.worlds.neural.world import NeuralWorld

    job = NeuralWorld(proposal="misbehaviour", bits=4, steps=60, penalties="0.01", widths="8, 4").job()
    assert job.members.names == ("beta", "width", "mu") and job.members.count == 4
    assert NeuralWorld(bits=4, widths="").job().members.names == ("beta",)  # the default run is as before
    for world, message in [(NeuralWorld(widths="0, 8"), "widths: '0, 8' is not valid"),
                           (NeuralWorld(widths="64"), "from 1 to 32"),
                           (NeuralWorld(widths="a"), "widths: 'a' is not valid"),
                           (NeuralWorld(proposal="early-exit", compute="total work"), "compute: 'total work' applies to halt and misbehaviour only"),
                           (NeuralWorld(proposal="ponder", allotment="offline predictor"), "allotment: 'offline predictor' applies")]:
        with pytest.raises(ExplorerError, match=message):
            world.job()


def test_total_work_counts_each_networks_width_and_drive(task):
    from explorer.worlds.neural.misbehaviour import Drive

    settings = HaltingSettings(**TINY)
    members = halting.Members.sweep({"width": [2.0, 8.0], "mu": [0.0, 1.0]})
    run = halting.train(task, settings, members, drive=Drive(task))
    work = parallel_drive.as_work(run)
    assert work.unit == parallel_drive.WORK_UNIT and parallel_drive.member_widths(run) == [2, 2, 8, 8]
    model, unit = parallel_drive.work_model(run), 3 * 8 * 8 + 8 * 3
    for e, (width, drive) in enumerate([(2, False), (2, True), (8, False), (8, True)]):
        by_hand = torch.tensor([model.multiply_adds(width, float(s), drive) / unit for s in run.measurement.steps[e]])
        assert torch.allclose(work.measurement.steps[e], by_hand)
    assert parallel_drive.parameters_at_width(run)[2] == 3 * 8 * (8 + 1) + 3 * 8 * 9 + 9 * 5  # 4 task + 4 drive inputs; 2 + 1 + 2 outputs


def test_tables_that_differ_only_in_how_networks_are_measured_train_them_once(monkeypatch):
    from explorer.worlds.neural import world as neural_world
    from explorer.worlds.neural.world import NeuralWorld

    calls = []
    real = halting.train
    monkeypatch.setattr(halting, "train", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(neural_world, "_TRAINED", neural_world.OrderedDict())
    small = {"proposal": "misbehaviour", "bits": 4, "steps": 60, "penalties": "0.01", "widths": "4, 8", "seed": 11}
    serial = NeuralWorld(**small).table()
    work = NeuralWorld(**small, compute="total work").table()
    predicted = NeuralWorld(**small, allotment="offline predictor").table()
    assert len(calls) == 1 and len(serial) == len(work) == len(predicted) == 4
    assert (work.bits == serial.bits).all() and (predicted.bits > serial.bits).all()  # the predictor's parameters count too
    assert (work.avg_compute != serial.avg_compute).any() and (predicted.avg_compute <= 8).all()  # max_steps of the app-sized run


@pytest.mark.slow  # trains the scenario's networks: about 15 s each on a free CPU thread
@pytest.mark.parametrize("scenario_id", ["parallel-drive-measured", "allotment-drive-measured"])
def test_the_caveat_scenarios_are_measured_and_their_observed_directions_hold(scenario_id):
    from explorer.scenarios import get_scenario

    s = get_scenario(scenario_id)
    case = s.case()
    assert s.world == "neural" and case.by == "measurement" and case.reason and case.stated
    failed = [o.check.describe() + f" ({o.left} vs {o.right})" for o in s.verify() if not o.passed]
    assert not failed
