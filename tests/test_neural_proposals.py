"""Proposals 1, 2A and 3 at tiny sizes: the schedules stop where documented, compute is counted as documented."""

import pytest
import torch

from explorer.errors import ExplorerError
from explorer.worlds.neural import early_exit, growing, pondering
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import TaskSettings
from explorer.worlds.neural.to_table import to_table

TASK = {"size": 4, "eval_per_difficulty": 32}


def test_pondering_raises_k_until_good_and_every_input_gets_k_rollouts():
    settings = pondering.PonderSettings(train_steps=150, k_start=1, k_max=3, threshold=0.95, hidden=32, learning_rate=1e-2)
    run = pondering.train(TaskSettings(**TASK), settings, networks=2)
    stages = run.extra["stages"]
    assert [s["k"] for s in stages] == list(range(1, len(stages) + 1))
    for e, k in enumerate(run.extra["k_found"]):
        judged = [s["judged_accuracy"][e] for s in stages]
        if k:  # the first stage judged good, and none before it
            assert judged[k - 1] >= 0.95 and all(a < 0.95 for a in judged[: k - 1])
        assert torch.all(run.measurement.steps[e] == run.extra["k_used"][e])
    table = to_table([run]).to_numpy()
    assert (table["avg_compute"] == table["max_compute"]).all()  # a max speed prior: the same K for every input


def test_pondering_refuses_a_schedule_that_starts_above_its_end():
    with pytest.raises(ExplorerError, match="k_start"):
        pondering.train(TaskSettings(**TASK), pondering.PonderSettings(k_start=5, k_max=3))


def test_exit_weights_and_exit_rule_by_hand():
    w = early_exit.exit_weights(torch.tensor([0.0, 1.0]), 3)
    torch.testing.assert_close(w[:, 0], torch.full((3,), 1 / 3))
    e = torch.exp(-torch.arange(3.0))
    torch.testing.assert_close(w[:, 1], e / e.sum())
    # three layers, two examples: the first is sure at layer 2, the second never (it exits at the last)
    logits = torch.tensor([[[0.0, 0.5], [0.0, 0.1]], [[0.0, 3.0], [0.2, 0.0]], [[0.0, 5.0], [0.0, 1.0]]])
    assert early_exit.exit_layer(logits, 0.9).tolist() == [2, 3]


def test_early_exit_annealing_lowers_alpha_until_good_and_a_sweep_trains_at_once():
    task = TaskSettings(**TASK)
    settings = early_exit.EarlyExitSettings(train_steps=120, layers=3, hidden=32, anneal=True, alpha_start=8.0,
                                            alpha_decay=0.5, stages=4, threshold=0.9, learning_rate=1e-2)
    run = early_exit.train(task, settings)
    schedule = [8.0, 4.0, 2.0, 1.0]
    found = run.extra["alpha_found"][0]
    tried = [s["alpha"][0] for s in run.extra["stages"]]
    assert tried == schedule[: len(tried)]
    assert found is None or (found == tried[-1] and run.extra["stages"][-1]["accuracy"][0] >= 0.9)
    swept = early_exit.train(task, early_exit.EarlyExitSettings(train_steps=60, layers=3, hidden=16),
                             Members.sweep({"alpha": [0.0, 2.0]}))
    assert swept.measurement.members == 2
    assert ((swept.measurement.steps >= 1) & (swept.measurement.steps <= 3)).all()


def test_growing_counts_the_compute_of_every_retraining():
    assert growing.multiply_adds(4, 2, 8, 2) == 4 * 8 + 8 * 8 + 8 * 2
    settings = growing.GrowSettings(train_steps=100, width_start=2, width_max=32, threshold=0.9, learning_rate=1e-2)
    assert [w for w, _ in settings.sizes()] == [2, 4, 8, 16, 32]
    run = growing.train(TaskSettings(**TASK), settings, networks=2)
    sizes = run.extra["sizes"]
    for e, found in enumerate(run.extra["found"]):
        last = next(i for i, s in enumerate(sizes) if s["width"] == found["width"]) if found else len(sizes) - 1
        total = sum(s["train_compute"] for s in sizes[: last + 1])
        assert run.extra["train_compute_total"][e] == pytest.approx(total)
        assert run.extra["retraining_ratio"][e] == pytest.approx(total / sizes[last]["train_compute"]) and total >= sizes[last]["train_compute"]
        if found:
            assert sizes[last]["judged_accuracy"][e] >= 0.9
    table = to_table([run]).to_numpy()
    assert len(table["bits"]) == 2 and (table["bits"] > 0).all()
