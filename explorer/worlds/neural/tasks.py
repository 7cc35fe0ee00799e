"""Tasks whose examples carry a difficulty: parity (as in PonderNet) and pointer following.

Examples are generated on the fly from a seeded torch.Generator, so there is nothing to download and
the same seed gives the same examples. Each task has difficulties 1..max_difficulty; training draws
difficulties uniformly from 1..train_max_difficulty and the harder ones are held out, to test whether a
network extrapolates (an honest algorithm) or only fits what it saw (a lookup table).

- parity: a vector of `size` entries in {-1, 0, 1} with k of them non-zero; the label is the parity of
  the number of +1 entries (Banino et al. 2021, PonderNet, section 3.1). Difficulty k, 1..size.
- pointer: a linked list hidden among `size` slots. Each slot holds a pointer to a slot or to "end";
  from the start slot, the list reaches a slot that points to "end" after h hops. The label is that last
  slot; difficulty h, 1..size-1. Slots off the list point to "end" half of the time and elsewhere at
  random otherwise, so finding *an* end slot is not enough: the network has to follow the pointers.
"""

from __future__ import annotations

from dataclasses import dataclass

import param
import torch

from explorer.errors import ExplorerError

TASKS = ("parity", "pointer")


@dataclass(frozen=True)
class Batch:
    """Inputs x (B, n_inputs), integer labels y (B,) and each example's difficulty (B,); with a planted
    drive (explorer.worlds.neural.misbehaviour) also the drive's targets (B,)."""

    x: torch.Tensor
    y: torch.Tensor
    difficulty: torch.Tensor
    drive: torch.Tensor | None = None

    def to(self, device) -> Batch:
        drive = None if self.drive is None else self.drive.to(device)
        return Batch(self.x.to(device), self.y.to(device), self.difficulty.to(device), drive)


class TaskSettings(param.Parameterized):
    """Which task, how large, and where the held-out difficulties begin."""

    task = param.Selector(default="parity", objects=list(TASKS), doc="parity (PonderNet's) or pointer (multi-hop list following).")
    size = param.Integer(8, bounds=(2, 64), doc="Entries of a parity vector, or slots of a pointer list.")
    train_max_difficulty = param.Integer(
        None, allow_None=True, bounds=(1, 63),
        doc="Hardest difficulty seen in training; harder ones are held out. None: three quarters of the hardest, rounded down.")
    eval_per_difficulty = param.Integer(256, bounds=(8, 100_000), doc="Evaluation examples drawn for each difficulty.")
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of the example stream; same seed, same examples.")

    def __init__(self, **params):
        from explorer.params import set_values

        super().__init__()
        set_values(self, params)

    # -- shape of the task ----------------------------------------------------------------------------
    @property
    def max_difficulty(self) -> int:
        return self.size if self.task == "parity" else self.size - 1

    @property
    def train_max(self) -> int:
        """The hardest training difficulty, checked against this task's range."""
        hardest = self.max_difficulty
        value = self.train_max_difficulty
        if value is None:
            value = max(1, (3 * hardest) // 4)
        if not 1 <= value <= hardest:
            raise ExplorerError(
                f"train_max_difficulty: {value} is out of range for {self.task} of size {self.size}; "
                f"expected an integer in [1, {hardest}] (at {hardest} nothing is held out)")
        return value

    @property
    def train_difficulties(self) -> list[int]:
        return list(range(1, self.train_max + 1))

    @property
    def heldout_difficulties(self) -> list[int]:
        return list(range(self.train_max + 1, self.max_difficulty + 1))

    @property
    def n_inputs(self) -> int:
        return self.size if self.task == "parity" else self.size * (self.size + 1) + self.size

    @property
    def n_classes(self) -> int:
        return 2 if self.task == "parity" else self.size

    # -- examples -------------------------------------------------------------------------------------
    def generator(self, stream: int = 0) -> torch.Generator:
        """A CPU generator for one stream of examples (0: training, 1: evaluation, 2+: free for others)."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + stream)

    def sample(self, generator: torch.Generator, batch_size: int, difficulties=None) -> Batch:
        """`batch_size` examples on the CPU, difficulties uniform over `difficulties` (default: training)."""
        choices = torch.as_tensor(difficulties if difficulties is not None else self.train_difficulties)
        pick = torch.randint(len(choices), (batch_size,), generator=generator)
        return self.examples(generator, choices[pick])

    def examples(self, generator: torch.Generator, difficulty: torch.Tensor) -> Batch:
        """One example for each entry of `difficulty` (an integer tensor)."""
        difficulty = torch.as_tensor(difficulty, dtype=torch.long)
        if self.task == "parity":
            return parity_examples(generator, difficulty, self.size)
        return _pointer(generator, difficulty, self.size)

    def evaluation_set(self) -> Batch:
        """A fixed set: eval_per_difficulty examples of every difficulty, training and held-out."""
        d = torch.arange(1, self.max_difficulty + 1).repeat_interleave(self.eval_per_difficulty)
        return self.examples(self.generator(1), d)


def _random_order(generator: torch.Generator, rows: int, n: int) -> torch.Tensor:
    """A random permutation of 0..n-1 in each row."""
    return torch.rand(rows, n, generator=generator).argsort(dim=1)


def parity_examples(generator: torch.Generator, k: torch.Tensor, n: int) -> Batch:
    """Parity vectors of n entries, k[i] of them non-zero in example i."""
    rank = _random_order(generator, len(k), n).argsort(dim=1)  # each entry's rank in a random order
    nonzero = rank < k[:, None]
    sign = torch.randint(0, 2, (len(k), n), generator=generator) * 2 - 1
    x = (nonzero * sign).float()
    y = ((x > 0).sum(dim=1) % 2).long()
    return Batch(x, y, k)


def _pointer(generator: torch.Generator, hops: torch.Tensor, m: int) -> Batch:
    rows = len(hops)
    order = _random_order(generator, rows, m)  # order[:, 0] is the start, order[:, h] the last slot
    position = torch.arange(m)[None, :]
    on_list = position < hops[:, None]
    following = order.roll(-1, dims=1)  # the slot after each slot of the list
    end = torch.full_like(order, m)
    stray = torch.randint(0, m, (rows, m), generator=generator)
    stray = torch.where(torch.rand(rows, m, generator=generator) < 0.5, end, stray)
    target = torch.where(on_list, following, torch.where(position == hops[:, None], end, stray))
    pointer = torch.empty_like(order).scatter_(1, order, target)  # pointer[slot] = where it points
    table = torch.nn.functional.one_hot(pointer, m + 1).flatten(1)
    start = torch.nn.functional.one_hot(order[:, 0], m)
    x = torch.cat([table, start], dim=1).float()
    y = order.gather(1, hops[:, None])[:, 0]
    return Batch(x, y, hops)
