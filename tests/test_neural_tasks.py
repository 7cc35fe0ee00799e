"""Tasks of the neural world: labels right, difficulty as documented, held-out split apart from training."""

import pytest
import torch

from explorer.errors import ExplorerError
from explorer.worlds.neural.tasks import TaskSettings


def test_parity_difficulty_counts_nonzero_entries_and_label_is_parity_of_plus_ones():
    task = TaskSettings(task="parity", size=10)
    batch = task.sample(task.generator(), 500, difficulties=range(1, 11))
    assert set(batch.x.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert torch.equal((batch.x != 0).sum(dim=1), batch.difficulty)
    assert torch.equal(batch.y, (batch.x == 1).sum(dim=1) % 2)
    assert set(batch.difficulty.tolist()) == set(range(1, 11))


def _follow(x: torch.Tensor, m: int) -> tuple[int, int]:
    """Walk the list of one pointer example the slow way: (last slot, hops)."""
    table = x[: m * (m + 1)].view(m, m + 1).argmax(dim=1).tolist()
    slot = int(x[m * (m + 1):].argmax())
    hops = 0
    while table[slot] != m:
        slot, hops = table[slot], hops + 1
        assert hops <= m, "the list must end"
    return slot, hops


def test_pointer_label_is_where_the_list_ends_and_difficulty_is_its_hops():
    m = 6
    task = TaskSettings(task="pointer", size=m)
    assert task.max_difficulty == m - 1 and task.n_inputs == m * (m + 1) + m and task.n_classes == m
    batch = task.sample(task.generator(), 300, difficulties=range(1, m))
    for x, y, d in zip(batch.x, batch.y, batch.difficulty):
        assert _follow(x, m) == (int(y), int(d))
    # distractor slots also point to "end", so the answer is not just "the slot that points to end"
    ends = batch.x[:, : m * (m + 1)].view(-1, m, m + 1)[:, :, m].sum(dim=1)
    assert float((ends > 1).float().mean()) > 0.5


@pytest.mark.parametrize("kind,size", [("parity", 8), ("pointer", 9)])
def test_training_and_heldout_difficulties_split_the_range(kind, size):
    task = TaskSettings(task=kind, size=size)
    train, held = task.train_difficulties, task.heldout_difficulties
    assert train == list(range(1, task.train_max + 1)) and held and min(held) == max(train) + 1
    assert train + held == list(range(1, task.max_difficulty + 1))
    batch = task.sample(task.generator(), 400)
    assert int(batch.difficulty.max()) <= task.train_max  # training never sees a held-out difficulty
    ev = task.evaluation_set()
    assert torch.equal(torch.bincount(ev.difficulty)[1:], torch.full((task.max_difficulty,), task.eval_per_difficulty))


def test_same_seed_same_examples_and_streams_differ():
    a, b = TaskSettings(seed=3), TaskSettings(seed=3)
    assert torch.equal(a.sample(a.generator(0), 64).x, b.sample(b.generator(0), 64).x)
    assert not torch.equal(a.sample(a.generator(0), 64).x, a.sample(a.generator(1), 64).x)


def test_a_split_outside_the_range_names_the_parameter_and_range():
    with pytest.raises(ExplorerError, match=r"train_max_difficulty: 8 .*\[1, 7\]"):
        _ = TaskSettings(task="pointer", size=8, train_max_difficulty=8).train_max
    with pytest.raises(ExplorerError, match="size"):
        TaskSettings(size=1)
