"""Proposal 2B, the essay's alternative: a separate model, trained offline, predicts the rollouts a task needs.

Instead of letting the step network decide when to stop (which a deceptive network could exploit to get
more time to think), a second, independent network reads only the input x and predicts how many steps
the frozen step network needs on it. Its training label for an example is the first step n at which
the step network already gives the right answer with probability >= confidence (N when it never does);
at inference the step network runs exactly the predicted number of steps (plus `margin`) and answers
with y_n. Mean steps over the task distribution are then what the predictor allots: an average-case
speed prior whose step budget the step network cannot argue with. Where a drive is planted, its answer
is read at the allotted step too, so what the drive gets under this allotment is measured
(explorer.worlds.neural.allotment sets it against the steps learned halting grants).

One predictor (an MLP classifier over 1..N) is trained per step network, all of them as one batched
program (explorer.worlds.neural.ensemble).
"""

from __future__ import annotations

import param
import torch

from explorer.worlds.neural.ensemble import BatchedMLP, member_cross_entropy
from explorer.worlds.neural.halting import HaltingRun, step_outputs
from explorer.worlds.neural.measure import Measurement, first_confident_step
from explorer.worlds.neural.training import LossLog, Progress, TrainingSettings


class PredictorSettings(TrainingSettings):
    """The offline predictor of needed rollouts."""

    train_steps = param.Integer(1500, bounds=(1, 10_000_000), doc="Optimiser steps of the predictor.")
    hidden = param.Integer(64, bounds=(1, 16_384), doc="Hidden units of the predictor's two hidden layers.")
    dataset_size = param.Integer(8192, bounds=(16, 10_000_000), doc="Training examples labelled once by the frozen step network.")
    margin = param.Integer(0, bounds=(0, 64), doc="Extra steps granted beyond the prediction (safety margin).")


def needed_steps(run: HaltingRun, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(E, B): the first step at which each frozen step network is right with confidence (at most N)."""
    from explorer.worlds.neural.tasks import Batch

    right = step_outputs(run.network, Batch(x, y, torch.zeros_like(y)))[0]
    return first_confident_step(right, run.settings.confidence).clamp(max=run.settings.max_steps)


def train_predictor(run: HaltingRun, settings: PredictorSettings | None = None, progress: Progress | None = None):
    """Train one predictor per step network of `run`; returns (predictors, Measurement of the pair)."""
    settings = settings or PredictorSettings()
    device = run.network.input.weight.device
    task, n = run.task, run.settings.max_steps
    data = task.sample(task.generator(2), settings.dataset_size)
    if run.drive is not None:
        data = run.drive.attach(data, run.drive.generator(2))
    data = data.to(device)
    labels = (needed_steps(run, data.x, data.y) - 1).to(device)  # class 0 means one step
    e = run.members.count
    gen = torch.Generator().manual_seed(settings.seed + 7)
    net = BatchedMLP(e, [data.x.shape[1], settings.hidden, settings.hidden, n], gen, device)
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    log = LossLog("halt (rollout predictor)", settings.train_steps, e, device, settings.check_every, run.members.describe)
    picks = torch.Generator().manual_seed(settings.seed + 8)
    for step in range(settings.train_steps):
        idx = torch.randint(settings.dataset_size, (settings.batch_size,), generator=picks).to(device)
        loss = member_cross_entropy(net(data.x[idx]), labels[:, idx])
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        log.record(step, loss)
        if progress is not None:
            progress(1)
    log.check(settings.train_steps)
    return net, evaluate(run, net, settings.margin)


@torch.no_grad()
def evaluate(run: HaltingRun, predictor: BatchedMLP, margin: int = 0, chunk: int = 1024) -> Measurement:
    """Run each step network for the steps its predictor allots, on the evaluation set."""
    device = run.network.input.weight.device
    batch = run.task.evaluation_set()
    if run.drive is not None:
        batch = run.drive.attach(batch, run.drive.generator(1))
    right, is_right, _, drive_right = step_outputs(run.network, batch.to(device), chunk)
    n = right.shape[0]
    allotted = []
    for start in range(0, len(batch.y), chunk):
        allotted.append(predictor(batch.x[start:start + chunk].to(device)).argmax(dim=-1).cpu() + 1)
    steps = (torch.cat(allotted, dim=1) + margin).clamp(max=n)
    correct = is_right.gather(0, (steps - 1)[None])[0]
    needed = first_confident_step(right, run.settings.confidence)
    drive_correct = drive_right.gather(0, (steps - 1)[None])[0] if drive_right is not None else None
    return Measurement(batch.difficulty, correct, steps.float(), needed.float(), run.task.train_max, drive_correct)
