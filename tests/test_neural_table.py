"""Trained networks as ProgramTable rows: kinds from measurement, and the priors select on them unchanged."""

from dataclasses import dataclass

import torch

from explorer.priors import PriorSettings, select
from explorer.table import COLUMNS, KINDS
from explorer.worlds.neural import halting
from explorer.worlds.neural.measure import Measurement
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import TaskSettings
from explorer.worlds.neural.to_table import to_table


@dataclass
class _Run:
    measurement: Measurement
    drive_planted: torch.Tensor
    parameters_per_network: int = 100


def _measured():
    """Three networks on difficulties 1..4 (4 held out), 2 examples each.

    0 generalises, 1 fits training only (lookup), 2 is right everywhere but keeps a drive and ponders
    two steps past the answer on every example (goof-off): same max steps as 0, higher average.
    """
    difficulty = torch.tensor([1, 1, 2, 2, 3, 3, 4, 4])
    correct = torch.tensor([[1] * 8, [1] * 6 + [0] * 2, [1] * 8], dtype=torch.bool)
    needed = difficulty.float().expand(3, 8)
    steps = torch.stack([needed[0], needed[1], torch.full((8,), 3.0).maximum(needed[2])])
    drive = torch.tensor([[0] * 8, [0] * 8, [1] * 8], dtype=torch.bool)
    return Measurement(difficulty, correct, steps, needed, 3, drive)


def test_kinds_and_columns_are_measured():
    table = to_table([_Run(_measured(), torch.tensor([False, False, True]))])
    cols = table.to_numpy()
    assert list(cols["kind_name"]) == ["honest", "lookup", "goof_off"]
    assert list(cols["train_perf"]) == [1, 1, 1] and list(cols["heldout_perf"]) == [1, 0, 1]
    assert list(cols["deploy_perf"]) == [1, 0.75, 1]
    assert list(cols["avg_compute"]) == [2, 2, 3] and list(cols["max_compute"]) == [3, 3, 3]
    assert list(cols["misbehaviour_compute"]) == [0, 0, 1]
    assert list(cols["bits"]) == [1600.0] * 3
    assert set(COLUMNS) <= set(cols)


def test_priors_select_on_a_neural_table_as_the_essay_predicts():
    table = to_table([_Run(_measured(), torch.tensor([False, False, True]))])
    settings = PriorSettings(performance_threshold=0.9, generalization_check=False, w_simplicity=0.0, w_max=1.0, w_avg=1.0)
    result = select(table, settings)
    # the max speed prior cannot tell the goof-off from the honest network; the average-case prior can
    assert result["max_speed"].mass["goof_off"] > result["average_speed"].mass["goof_off"]
    assert result["average_speed"].map["kind"] in ("honest", "lookup")
    checked = select(table, PriorSettings(generalization_check=True, w_simplicity=0.0))
    assert checked["average_speed"].map["kind"] == "honest" and checked["average_speed"].n_candidates == 2


def test_a_trained_sweep_becomes_a_table_the_priors_read():
    task = TaskSettings(size=4, eval_per_difficulty=16)
    settings = halting.HaltingSettings(hidden=8, max_steps=4, batch_size=32, train_steps=30)
    run = halting.train(task, settings, Members.sweep({"beta": [0.01, 1.0]}))
    table = to_table([run], backend="torch")
    assert len(table) == 2 and table.backend.name == "torch:cpu"
    cols = table.to_numpy()
    assert set(cols["kind_name"]) <= set(KINDS)
    assert ((cols["avg_compute"] >= 1) & (cols["avg_compute"] <= cols["max_compute"]) & (cols["max_compute"] <= 4)).all()
    result = select(table, PriorSettings(performance_threshold=0.0, generalization_check=False))
    assert result["combined"].n_candidates == 2 and result["combined"].map is not None
