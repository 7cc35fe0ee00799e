"""A planted drive: misbehaviour that costs computation, in a real network.

The network gets an objective of its own, weighted by mu, that the measured performance ignores. Each
input carries `size` extra entries the task does not use (its "drive inputs", a second parity vector
with j non-zero entries, j drawn like the task's training difficulties and on the same curriculum),
and an extra output head, fed by the same recurrent state as the answer, must give the parity of their
+1 entries. How hard the drive is on an example has nothing to do with how hard the task is, so on easy tasks a network that keeps its drive ponders past the point where
its answer is ready: the goof-off program of the essay, whose extra steps raise its average compute over
the task distribution while the most it ever spends is set by the hardest examples either way. The
training loss per step becomes L_task + mu * L_drive, inside PonderNet's expectation over the halting
step (explorer.worlds.neural.halting).

Every network of a run sees the drive inputs; only those with mu > 0 are trained on the drive, so the
mu = 0 networks of the same run are the drive-free comparison. `penalty_sweep` trains both kinds over a
range of beta at once and reports, per beta, how much of the drive survives (its accuracy at the
halting step; 0.5 is chance) and the steps it costs (mean steps with the drive minus without).
"""

from __future__ import annotations

import torch

from explorer.worlds.neural.tasks import Batch, TaskSettings, parity_examples


class Drive:
    """The drive's own inputs, appended to each example, and its target: their parity."""

    n_classes = 2

    def __init__(self, task: TaskSettings):
        self.size = task.size
        self.hardest = task.train_max
        self.seed = task.seed

    @property
    def extra_inputs(self) -> int:
        return self.size

    def generator(self, stream: int) -> torch.Generator:
        """Drive inputs for training (stream 0) and evaluation (stream 1), apart from the task's streams."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + 100 + stream)

    def attach(self, batch: Batch, generator: torch.Generator, hardest: int | None = None) -> Batch:
        """The batch with drive inputs appended to x and the drive's targets set; j <= hardest (default
        the task's hardest training difficulty)."""
        top = min(self.hardest, hardest or self.hardest)
        j = torch.randint(1, top + 1, (len(batch.y),), generator=generator)
        own = parity_examples(generator, j, self.size)
        x = torch.cat([batch.x, own.x.to(batch.x.device)], dim=1)
        return Batch(x, batch.y, batch.difficulty, own.y.to(batch.y.device))

    def targets(self, batch: Batch) -> torch.Tensor:
        return batch.drive


def penalty_sweep(task: TaskSettings, settings, betas: list[float], mu: float = 1.0, networks_per_point: int = 1,
                  device="cpu", progress=None, watch=None):
    """Train drive (mu) and drive-free (mu = 0) networks for every beta in one batched run.

    Returns (the run, one row per beta, see drive_rows).
    """
    from explorer.worlds.neural import halting
    from explorer.worlds.neural.sweep import Members

    members = Members.sweep({"beta": list(betas), "mu": [0.0, float(mu)]}, networks=2 * len(betas) * networks_per_point)
    run = halting.train(task, settings, members, device=device, drive=Drive(task), progress=progress, watch=watch)
    return run, drive_rows(run)


def drive_rows(run) -> list[dict]:
    """Per beta: what the drive networks kept of their drive and what it cost, against the drive-free ones."""
    m, members = run.measurement, run.members
    by_beta: dict[float, dict[str, list[int]]] = {}
    for g, values in enumerate(members.grid):
        point = dict(zip(members.names, values))
        side = "drive" if point.get("mu", run.settings.mu) > 0 else "plain"
        by_beta.setdefault(point.get("beta", run.settings.beta), {"drive": [], "plain": []})[side] += members.of_point(g)
    rows = []
    for beta, sides in sorted(by_beta.items()):
        if not sides["drive"]:
            continue
        drive = m.summary(sides["drive"])
        plain = m.summary(sides["plain"]) if sides["plain"] else None
        rows.append({
            "beta": beta,
            "drive_accuracy": drive.get("drive_accuracy"),
            "accuracy": drive["accuracy"],
            "mean_steps": drive["mean_steps"],
            "max_steps": drive["max_steps"],
            "wasted_steps": drive["wasted_steps"],
            "plain_accuracy": plain["accuracy"] if plain else None,
            "plain_mean_steps": plain["mean_steps"] if plain else None,
            "plain_max_steps": plain["max_steps"] if plain else None,
            "drive_extra_steps": drive["mean_steps"] - plain["mean_steps"] if plain else None,
        })
    return rows
