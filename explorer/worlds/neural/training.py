"""What every neural proposal's training shares: its settings, the loss log, and divergence checks.

The loss log keeps each step's per-member losses on the device and looks at them only every
`check_every` steps, so a GPU run is not forced to wait for the host after every step; a non-finite
loss (a diverging run) then stops training with a message naming the proposal, the step and the
network, never with a crash further on.

Two hooks serve callers that watch a run (the neural app): at those same checks the log hands a
`watch` callable a Snapshot (loss, accuracy and compute on the training batch, per network), and a
`progress` callable, called after every step, may raise TrainingStopped to end the run there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import param
import torch

from explorer.errors import ExplorerError


class TrainingDiverged(ExplorerError):
    """The loss of a run became NaN or infinite; the message says where and what to change."""


class TrainingStopped(ExplorerError):
    """Raised by a progress callback to stop a run on request (the app's Stop); the run returns nothing."""


class TrainingSettings(param.Parameterized):
    """Settings shared by every proposal: optimiser, batch, length and seed of a training run."""

    train_steps = param.Integer(3000, bounds=(1, 10_000_000), doc="Optimiser steps of a training run.")
    batch_size = param.Integer(128, bounds=(1, 1_000_000), doc="Examples per optimiser step (shared by every network of a sweep).")
    learning_rate = param.Number(3e-3, bounds=(0.0, 10.0), inclusive_bounds=(False, True), doc="Adam's step size.")
    hidden = param.Integer(64, bounds=(1, 16_384), doc="Hidden units of the network (per layer, or of the recurrent state).")
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of the initial weights (the task has its own seed for examples).")
    check_every = param.Integer(50, bounds=(1, 1_000_000), doc="Steps between checks that the loss is finite.")

    def __init__(self, **params):
        from explorer.params import set_values

        super().__init__()
        set_values(self, params)


Progress = Callable[[int], None]


@dataclass(frozen=True)
class Snapshot:
    """What a watched run reports at each check, per network as (E,) host tensors: the mean loss since
    the last check, and the accuracy and compute (in the run's unit) on the check step's training batch."""

    stage: str
    loss: torch.Tensor
    accuracy: torch.Tensor | None = None
    compute: torch.Tensor | None = None


Watch = Callable[[Snapshot], None]


class LossLog:
    """Per-step, per-member losses (steps, E) on the device, checked for NaN/inf every `every` steps."""

    def __init__(self, proposal: str, steps: int, members: int, device, every: int = 50,
                 describe: Callable[[int], str] | None = None, watch: Watch | None = None):
        self.proposal = proposal
        self.losses = torch.full((steps, members), float("nan"), device=device)
        self.every = every
        self.describe = describe or (lambda e: "")
        self.watch = watch
        self.checked = 0  # steps already known to be finite

    def watched(self, step: int) -> bool:
        """Whether `step` reports to the watcher (the loop then passes its batch accuracy and compute)."""
        return self.watch is not None and (step + 1) % self.every == 0

    def record(self, step: int, member_losses: torch.Tensor, accuracy: torch.Tensor | None = None,
               compute: torch.Tensor | None = None) -> None:
        self.losses[step] = member_losses.detach()
        if (step + 1) % self.every == 0:
            since = self.checked
            self.check(step + 1)
            if self.watch is not None:
                host = (lambda t: None if t is None else t.detach().float().cpu())
                self.watch(Snapshot(self.proposal, self.losses[since:step + 1].mean(dim=0).cpu(), host(accuracy), host(compute)))

    def check(self, upto: int) -> None:
        """Raise TrainingDiverged if a loss of a step before `upto` is not finite."""
        block = self.losses[self.checked:upto]
        bad = ~torch.isfinite(block)
        if bool(bad.any()):
            step, member = (int(i) for i in bad.nonzero()[0])
            value = float(block[step, member])
            detail = self.describe(member)
            raise TrainingDiverged(
                f"{self.proposal}: the training loss became {value} at step {self.checked + step + 1} "
                f"for network {member}{f' ({detail})' if detail else ''}; training stopped. "
                f"Lower learning_rate or the penalty, or check the inputs")
        self.checked = upto

    def curve(self, upto: int | None = None) -> torch.Tensor:
        """The losses recorded so far, on the host: (steps, E)."""
        return self.losses[: upto if upto is not None else self.checked].cpu()


@dataclass
class Run:
    """A trained batch of networks: what each was given, and what it did on the evaluation set.

    `unit` names the compute the measurement counts (ponder steps, rollouts, exit layer, ...).
    """

    proposal: str
    task: Any
    settings: Any
    members: Any
    network: torch.nn.Module
    measurement: Any
    losses: torch.Tensor
    unit: str = "steps"
    drive: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters_per_network(self):
        """Parameters of one network: an int, or a list with one entry per network where sizes differ."""
        if "parameters" in self.extra:
            return self.extra["parameters"]
        from explorer.worlds.neural.ensemble import parameter_count

        return parameter_count(self.network) + self.extra.get("predictor_parameters", 0)

    @property
    def drive_planted(self) -> torch.Tensor:
        """(E,) bool: which networks carry a planted drive (a drive head and mu > 0)."""
        mu = self.members.tensors(self.settings, "cpu").get("mu") if self.drive is not None else None
        return torch.zeros(self.members.count, dtype=torch.bool) if mu is None else mu > 0
