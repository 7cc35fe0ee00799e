"""Proposal 1: grow the network until it is good, and count what the retraining cost.

MLPs of increasing size are trained from scratch, one size after another (width doubling from
width_start, or one more hidden layer at a time), until a network is good: accuracy on fresh examples
at or above `threshold` (judged on the training difficulties or on the held-out harder ones). The size
caps the compute any input can get, so this is a max speed prior, and a crude one: every size tried
before the one found is trained and thrown away. The report puts a number on that,

    wasted = (sum over the sizes tried of C_train(size)) / C_train(size found),

with C_train(size) = 3 * multiply-adds per example * batch_size * train_steps (a forward and a
backward pass, the backward counted as twice the forward). Several seeds train together at each size as
one batched program; each seed stops at its own first good size, and its compute per example
(multiply-adds, the unit of this proposal) is that size's.
"""

from __future__ import annotations

import itertools

import param
import torch

from explorer.worlds.neural.ensemble import BatchedMLP, member_cross_entropy
from explorer.worlds.neural.measure import Measurement
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import TaskSettings
from explorer.worlds.neural.training import LossLog, Progress, Run, TrainingSettings, Watch


class GrowSettings(TrainingSettings):
    """The sizes tried and when a size is good enough."""

    train_steps = param.Integer(2000, bounds=(1, 10_000_000), doc="Optimiser steps for each size tried.")
    grow = param.Selector(default="width", objects=["width", "depth"], doc="Double the width, or add a hidden layer, per size.")
    width_start = param.Integer(2, bounds=(1, 16_384), doc="Width of the first size (growing width), or the fixed width (growing depth).")
    width_max = param.Integer(256, bounds=(1, 16_384), doc="The widest network tried when growing width.")
    depth = param.Integer(2, bounds=(1, 64), doc="Hidden layers when growing width; the first size's when growing depth.")
    depth_max = param.Integer(8, bounds=(1, 64), doc="The deepest network tried when growing depth.")
    threshold = param.Number(0.99, bounds=(0.0, 1.0), doc="Accuracy at which a size is good and growth stops.")
    judge = param.Selector(default="validation", objects=["validation", "heldout"],
                           doc="Judge accuracy on fresh examples of the training difficulties, or on the held-out harder ones.")
    curriculum = param.Boolean(True, doc="Raise the hardest training difficulty from 1 over the first half of each size's training.")

    per_member = ()

    def sizes(self) -> list[tuple[int, int]]:
        """(width, depth) of every size in the order tried."""
        if self.grow == "width":
            out, w = [], self.width_start
            while w <= self.width_max:
                out.append((w, self.depth))
                w *= 2
            return out or [(self.width_start, self.depth)]
        return [(self.width_start, d) for d in range(self.depth, max(self.depth, self.depth_max) + 1)]


def multiply_adds(n_inputs: int, n_classes: int, width: int, depth: int) -> int:
    """Multiply-adds of one forward pass of one example (the weights of every layer)."""
    widths = [n_inputs] + [width] * depth + [n_classes]
    return sum(a * b for a, b in itertools.pairwise(widths))


def train(task: TaskSettings, settings: GrowSettings, networks: int = 1, device="cpu", progress: Progress | None = None,
          watch: Watch | None = None) -> Run:
    """Grow until each seed's network is good (or the largest size); returns the networks at their sizes.

    `watch` gets each check's Snapshot: accuracy on the training batch, and the size's multiply-adds."""
    device = torch.device(device)
    members = Members.single(networks=networks)
    e = members.count
    data = task.generator(0)
    judge = task.sample(task.generator(3), 1024, task.heldout_difficulties if settings.judge == "heldout" and task.heldout_difficulties else None).to(device)
    evaluation = task.evaluation_set().to(device)
    found = [None] * e
    tried, spent, curves = [], torch.zeros(e, dtype=torch.float64), []
    correct = torch.zeros(e, len(evaluation.y), dtype=torch.bool)
    last = None
    for width, depth in settings.sizes():
        macs = multiply_adds(task.n_inputs, task.n_classes, width, depth)
        net = BatchedMLP(e, [task.n_inputs] + [width] * depth + [task.n_classes],
                         torch.Generator().manual_seed(settings.seed + 1000 * len(tried)), device)
        opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
        log = LossLog(f"grow (width {width}, depth {depth})", settings.train_steps, e, device, settings.check_every, members.describe, watch)
        for step in range(settings.train_steps):
            hardest = task.train_max
            if settings.curriculum:
                hardest = min(task.train_max, 1 + int(2 * (task.train_max - 1) * step / settings.train_steps))
            batch = task.sample(data, settings.batch_size, range(1, hardest + 1)).to(device)
            logits = net(batch.x)
            loss = member_cross_entropy(logits, batch.y)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            stats = {}
            if log.watched(step):
                stats = {"accuracy": (logits.detach().argmax(dim=-1) == batch.y).float().mean(dim=1),
                         "compute": torch.full((e,), float(macs))}
            log.record(step, loss, **stats)
            if progress is not None:
                progress(1)
        log.check(settings.train_steps)
        curves.append(log.curve())
        cost = 3.0 * macs * settings.batch_size * settings.train_steps
        with torch.no_grad():
            acc = (net(judge.x).argmax(dim=-1) == judge.y).float().mean(dim=1).cpu()
            hits = (net(evaluation.x).argmax(dim=-1) == evaluation.y).cpu()
        searching = torch.tensor([f is None for f in found])
        spent += searching.double() * cost
        tried.append({"width": width, "depth": depth, "multiply_adds": macs, "train_compute": cost, "judged_accuracy": acc.tolist()})
        for i in range(e):
            if found[i] is None and (acc[i] >= settings.threshold):
                found[i] = len(tried) - 1
        correct[searching] = hits[searching]
        last = net
        if all(f is not None for f in found):
            break
    final = [f if f is not None else len(tried) - 1 for f in found]
    per_example = torch.tensor([float(tried[f]["multiply_adds"]) for f in final])
    once = torch.tensor([tried[f]["train_compute"] for f in final], dtype=torch.float64)
    steps = per_example[:, None].expand(e, len(evaluation.y))
    measurement = Measurement(evaluation.difficulty.cpu(), correct, steps, steps, task.train_max)
    extra = {
        "sizes": tried,
        "found": [None if f is None else {"width": tried[f]["width"], "depth": tried[f]["depth"]} for f in found],
        "train_compute_total": spent.tolist(),
        "train_compute_found_once": once.tolist(),
        "retraining_ratio": (spent / once).tolist(),
        "parameters": [_parameters(task, tried[f]["width"], tried[f]["depth"]) for f in final],
    }
    return Run("grow", task, settings, members, last, measurement, torch.cat(curves), "multiply-adds", extra=extra)


def _parameters(task: TaskSettings, width: int, depth: int) -> int:
    return multiply_adds(task.n_inputs, task.n_classes, width, depth) + width * depth + task.n_classes
