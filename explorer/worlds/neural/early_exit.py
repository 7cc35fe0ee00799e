"""Proposal 3: early exit, a head on every hidden layer and a loss that penalises late exits.

An MLP of L hidden layers gets an output head on each of them. Training weights the heads' losses
toward the early ones,

    L = sum_l w_l(alpha) L_task(y, y_l),   w_l(alpha) = exp(-alpha (l - 1)) / sum_j exp(-alpha (j - 1)),

so alpha = 0 is plain deep supervision and a larger alpha asks the network to have its answer ready
in fewer layers. At inference an example exits at the first layer whose head is at least
`confidence` sure of its answer (the last layer otherwise), and the compute it used is that layer's
number: an average-case speed prior over the task distribution.

Too large an alpha starves the late layers and the network fails hard examples; too small a one buys
no speed. The annealed variant starts at alpha_start and, while a network is not yet good (accuracy
with the exit rule on fresh examples below `threshold`), multiplies its alpha by alpha_decay and trains
on, so each network ends at the largest alpha of the schedule at which it is good. alpha is a
per-network tensor, so a sweep over alpha, or annealing several networks at once, is one batched run.
"""

from __future__ import annotations

import copy
import itertools
import math

import param
import torch

from explorer.worlds.neural.ensemble import BatchedLinear
from explorer.worlds.neural.measure import Measurement, first_confident_step
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import TaskSettings
from explorer.worlds.neural.training import LossLog, Progress, Run, TrainingSettings, Watch


class EarlyExitSettings(TrainingSettings):
    """Depth, exit heads, the late-exit penalty alpha and its annealing."""

    train_steps = param.Integer(3000, bounds=(1, 10_000_000), doc="Optimiser steps (per stage when annealing).")
    layers = param.Integer(6, bounds=(1, 64), doc="Hidden layers, each with its own exit head.")
    alpha = param.Number(0.5, bounds=(0.0, 20.0), doc="Late-exit penalty: head l's loss weight falls as exp(-alpha (l - 1)).")
    confidence = param.Number(0.9, bounds=(0.5, 1.0), doc="Exit at the first head at least this sure of its answer.")
    anneal = param.Boolean(False, doc="Lower alpha stage by stage until the network is good (the annealed variant).")
    alpha_start = param.Number(4.0, bounds=(0.0, 20.0), doc="Annealing: alpha of the first stage.")
    alpha_decay = param.Number(0.5, bounds=(0.0, 1.0), inclusive_bounds=(True, False), doc="Annealing: alpha is multiplied by this per stage.")
    stages = param.Integer(6, bounds=(1, 100), doc="Annealing: the most stages (the last trains at alpha_start * alpha_decay^(stages-1)).")
    threshold = param.Number(0.99, bounds=(0.0, 1.0), doc="Annealing: accuracy (with the exit rule) at which a network is good.")
    curriculum = param.Boolean(True, doc="Raise the hardest training difficulty from 1 over the first half of training (first stage).")

    per_member = ("alpha",)


class EarlyExitNetwork(torch.nn.Module):
    """E MLPs of `layers` hidden ReLU layers with an exit head on each."""

    def __init__(self, members: int, n_inputs: int, n_classes: int, hidden: int, layers: int,
                 generator: torch.Generator | None = None, device=None):
        super().__init__()
        widths = [n_inputs] + [hidden] * layers
        self.hidden = torch.nn.ModuleList(BatchedLinear(members, a, b, generator, device) for a, b in itertools.pairwise(widths))
        self.heads = torch.nn.ModuleList(BatchedLinear(members, hidden, n_classes, generator, device) for _ in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, n_inputs) -> every head's logits, (L, E, B, C)."""
        outs = []
        for layer, head in zip(self.hidden, self.heads):
            x = torch.relu(layer(x))
            outs.append(head(x))
        return torch.stack(outs)


def exit_weights(alpha: torch.Tensor, layers: int) -> torch.Tensor:
    """w_l(alpha) for l = 1..L, each network's weights summing to one: alpha (E,) -> (L, E)."""
    depth = torch.arange(layers, device=alpha.device, dtype=alpha.dtype)[:, None]
    return torch.softmax(-alpha[None, :] * depth, dim=0)


def exit_layer(logits: torch.Tensor, confidence: float) -> torch.Tensor:
    """The layer (1-based) each example exits at: the first head whose top probability reaches
    `confidence`, else the last. logits (L, ...) -> (...)."""
    sure = logits.softmax(dim=-1).amax(dim=-1) >= confidence
    sure[-1] = True
    return sure.float().argmax(dim=0) + 1


def _losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    l, e, b, c = logits.shape
    target = y.view(1, 1, b).expand(l, e, b).reshape(-1)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, c), target, reduction="none").view(l, e, b).mean(dim=2)


def train(task: TaskSettings, settings: EarlyExitSettings, members: Members | None = None, device="cpu",
          progress: Progress | None = None, watch: Watch | None = None) -> Run:
    """Train with the late-exit penalty (one stage, or annealed stages); measure exit layers per example.

    `watch` gets each check's Snapshot: accuracy and mean exit layer (the exit rule) on the training batch."""
    device = torch.device(device)
    members = members or Members.single()
    e = members.count
    alpha = members.tensors(settings, device)["alpha"]
    if settings.anneal:
        alpha = torch.full((e,), settings.alpha_start, device=device)
    net = EarlyExitNetwork(e, task.n_inputs, task.n_classes, settings.hidden, settings.layers,
                           torch.Generator().manual_seed(settings.seed), device)
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    data = task.generator(0)
    check = task.sample(task.generator(3), 1024).to(device)
    good_alpha = torch.full((e,), float("nan"))
    kept = copy.deepcopy(net.state_dict())
    curves, stages = [], []
    for stage in range(settings.stages if settings.anneal else 1):
        log = LossLog(f"early-exit (stage {stage + 1})", settings.train_steps, e, device, settings.check_every, members.describe, watch)
        for step in range(settings.train_steps):
            hardest = task.train_max
            if settings.curriculum and stage == 0:
                hardest = min(task.train_max, 1 + int(2 * (task.train_max - 1) * step / settings.train_steps))
            batch = task.sample(data, settings.batch_size, range(1, hardest + 1)).to(device)
            logits = net(batch.x)
            loss = (exit_weights(alpha, settings.layers) * _losses(logits, batch.y)).sum(dim=0)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            log.record(step, loss, **(_batch_stats(logits, batch.y, settings.confidence) if log.watched(step) else {}))
            if progress is not None:
                progress(1)
        log.check(settings.train_steps)
        curves.append(log.curve())
        if not settings.anneal:
            break
        with torch.no_grad():
            logits = net(check.x)
            layer = exit_layer(logits, settings.confidence)
            acc = (logits.argmax(dim=-1).gather(0, (layer - 1)[None])[0] == check.y).float().mean(dim=1).cpu()
        stages.append({"alpha": alpha.cpu().tolist(), "accuracy": acc.tolist()})
        newly = torch.isnan(good_alpha) & (acc >= settings.threshold)
        if bool(newly.any()):
            for name, value in net.state_dict().items():
                kept[name][newly.to(value.device)] = value[newly.to(value.device)]
            good_alpha[newly] = alpha.cpu()[newly]
        if not bool(torch.isnan(good_alpha).any()):
            break
        alpha = torch.where(torch.isnan(good_alpha).to(device), alpha * settings.alpha_decay, alpha)
    extra = {}
    if settings.anneal:
        never = torch.isnan(good_alpha)
        for name, value in net.state_dict().items():
            kept[name][never.to(value.device)] = value[never.to(value.device)]
        net.load_state_dict(kept)
        extra = {"alpha_found": [None if math.isnan(v) else v for v in good_alpha.tolist()], "stages": stages}
    measurement = evaluate(net, task, settings.confidence)
    return Run("early-exit", task, settings, members, net, measurement, torch.cat(curves), "exit layer", extra=extra)


@torch.no_grad()
def _batch_stats(logits: torch.Tensor, y: torch.Tensor, confidence: float) -> dict[str, torch.Tensor]:
    """Per network, on this batch with the exit rule: share right at the exit, and mean exit layer."""
    layer = exit_layer(logits, confidence)
    right = logits.argmax(dim=-1).gather(0, (layer - 1)[None])[0] == y
    return {"accuracy": right.float().mean(dim=1), "compute": layer.float().mean(dim=1)}


@torch.no_grad()
def evaluate(net: EarlyExitNetwork, task: TaskSettings, confidence: float, chunk: int = 1024) -> Measurement:
    """Exit each evaluation example by the confidence rule; `needed` is the first layer already right with confidence."""
    device = net.heads[0].weight.device
    batch = task.evaluation_set()
    layers, correct, needed = [], [], []
    for start in range(0, len(batch.y), chunk):
        x = batch.x[start:start + chunk].to(device)
        y = batch.y[start:start + chunk].to(device)
        logits = net(x)
        layer = exit_layer(logits, confidence)
        prob = logits.softmax(dim=-1)
        right = prob.gather(-1, y.view(1, 1, -1, 1).expand(*prob.shape[:-1], 1))[..., 0]
        layers.append(layer.cpu())
        correct.append((logits.argmax(dim=-1).gather(0, (layer - 1)[None])[0] == y).cpu())
        needed.append(first_confident_step(right, confidence).cpu())
    return Measurement(batch.difficulty, torch.cat(correct, 1), torch.cat(layers, 1).float(), torch.cat(needed, 1).float(), task.train_max)
