"""Proposal 2B: learned halting, as in PonderNet (Banino, Balaguer and Blundell 2021).

A step network with a recurrent state runs n = 1..N steps on the same input x; after each step it
gives an answer y_n and a halting probability lambda_n. The probability of halting at step n, and not
before, is

    p_n = lambda_n * prod_{j<n} (1 - lambda_j)

and the paper's loss is

    L = sum_n p_n L_task(y, y_n) + beta * KL(p || p_G(lambda_p)),
    KL(p || p_G) = sum_n p_n (log p_n - log p_G(n)),      p_G(n) = lambda_p (1 - lambda_p)^(n-1).

The direction matters. The paper compares the network's halting distribution p against the geometric
prior p_G. nn.KLDivLoss(log p, p_G), which two popular public implementations use, computes the reverse,
KL(p_G || p) = sum_n p_G(n) (log p_G(n) - log p_n), which grows without bound as p leaves almost no mass
on any step where p_G has some: it forbids a network to halt confidently at one step. The paper's
direction is a price on steps. Writing log p_G(n) out,

    KL(p || p_G) = -log(1 - lambda_p) * E_p[n] - H(p) + const,

so beta * KL charges beta * (-log(1 - lambda_p)) for every expected step over the task distribution
(an average-case speed prior) and pays beta back for the entropy H(p) of the halting distribution.

Truncation: training unrolls N = max_steps steps and the last step takes the mass left over
(lambda_N := 1), so p sums to one; p_G is truncated at N and renormalised,
p_G(n) = lambda_p (1 - lambda_p)^(n-1) / (1 - (1 - lambda_p)^N).

Inference (halt_rule): "sample" draws the halting step n ~ p, which is the paper's rule (halt at each
step with probability lambda_n); "threshold" halts at the first step whose cumulative halting
probability sum_{j<=n} p_j reaches halt_threshold, which is deterministic. Evaluation runs all N steps
once and reads off the step at which the rule stops and the answer given there. It records both counts
of compute per example: the steps the rule ran (`steps_by_rule` in reports) and the steps expected under
p (`expected_steps`). Training prices only the second: beta * KL(p || p_G) charges E_p[n] on the
training batch, and the rule never enters the loss.

The step network is a GRU cell (input x at every step) with one linear head for the answer, the
halting logit and, when a drive is planted (explorer.worlds.neural.misbehaviour), the drive's answer.
All of it is batched over E networks (explorer.worlds.neural.ensemble), so a sweep over beta, lambda_p
or the drive's strength mu is one training run.
"""

from __future__ import annotations

import math

import param
import torch
from torch import nn

from explorer.worlds.neural.ensemble import BatchedLinear
from explorer.worlds.neural.measure import Measurement, first_confident_step
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import Batch, TaskSettings
from explorer.worlds.neural.training import LossLog, Progress, Run, TrainingSettings, Watch


class HaltingSettings(TrainingSettings):
    """The step network, the PonderNet loss and the inference rule.

    The defaults reach 0.99 accuracy on 8-entry parity in about 40 s on one contended CPU thread.
    """

    train_steps = param.Integer(4000, bounds=(1, 10_000_000), doc="Optimiser steps of a training run.")
    hidden = param.Integer(32, bounds=(1, 16_384), doc="Units of the recurrent state.")
    max_steps = param.Integer(12, bounds=(1, 512), doc="N: steps unrolled in training; the most a network can ponder.")
    beta = param.Number(0.01, bounds=(0.0, 100.0), doc="Weight of KL(p || p_G): how hard the halting distribution is pulled toward the prior.")
    lambda_p = param.Number(0.5, bounds=(0.0, 1.0), inclusive_bounds=(False, True),
                            doc="Parameter of the geometric prior p_G; its mean is 1/lambda_p steps.")
    halt_rule = param.Selector(default="threshold", objects=["threshold", "sample"],
                               doc="Inference: halt where the cumulative halting probability reaches halt_threshold, or sample the step (the paper).")
    halt_threshold = param.Number(0.5, bounds=(0.0, 1.0), inclusive_bounds=(False, True), doc="Cumulative halting probability at which the threshold rule stops.")
    confidence = param.Number(0.9, bounds=(0.5, 1.0), doc="A step 'has solved' an example once it gives the right answer this probability.")
    curriculum = param.Boolean(True, doc="Raise the hardest training difficulty from 1 to its maximum over the first half of training.")
    mu = param.Number(0.0, bounds=(0.0, 100.0), doc="Strength of a planted drive (explorer.worlds.neural.misbehaviour), when one is planted.")
    width = param.Integer(0, bounds=(0, 16_384), doc="Units of the recurrent state a network may use (the rest stay zero); 0: all `hidden`. "
                                                     "Swept, it trains networks of several widths as one batch.")

    #: Settings a sweep may give each network its own value of.
    per_member = ("beta", "lambda_p", "mu", "width")


class PonderNetwork(nn.Module):
    """E step networks (GRU cells) with a linear head: answer logits, halting logit, drive logits."""

    def __init__(self, members: int, n_inputs: int, n_classes: int, hidden: int, max_steps: int,
                 drive_classes: int = 0, generator: torch.Generator | None = None, device=None,
                 widths: torch.Tensor | None = None):
        super().__init__()
        self.hidden, self.max_steps, self.n_classes, self.drive_classes = hidden, max_steps, n_classes, drive_classes
        self.input = BatchedLinear(members, n_inputs, 3 * hidden, generator, device)
        self.recurrent = BatchedLinear(members, hidden, 3 * hidden, generator, device)
        self.head = BatchedLinear(members, hidden, n_classes + 1 + drive_classes, generator, device)
        # widths (E,): member e uses only its first widths[e] units, so it is a narrower GRU (0: all of them)
        active = None
        if widths is not None and bool((widths > 0).any()):
            w = torch.where(widths > 0, widths, float(hidden)).clamp(max=hidden).to(device)
            active = (torch.arange(hidden, device=device)[None, :] < w[:, None]).float()[:, None, :]
        self.register_buffer("active", active)

    @property
    def members(self) -> int:
        return self.input.members

    def forward(self, x: torch.Tensor, steps: int | None = None):
        """x (B, n_inputs) -> answer logits (N, E, B, C), halting logits (N, E, B), drive logits (N, E, B, D)."""
        steps = steps or self.max_steps
        gx_r, gx_z, gx_n = self.input(x).chunk(3, dim=-1)  # the input's share of the gates, once for all steps
        h = torch.zeros(self.members, x.shape[0], self.hidden, device=x.device, dtype=x.dtype)
        outs = []
        for _ in range(steps):
            gh_r, gh_z, gh_n = self.recurrent(h).chunk(3, dim=-1)
            r = torch.sigmoid(gx_r + gh_r)
            z = torch.sigmoid(gx_z + gh_z)
            n = torch.tanh(gx_n + r * gh_n)
            h = (1 - z) * n + z * h
            if self.active is not None:
                h = h * self.active
            outs.append(self.head(h))
        out = torch.stack(outs)
        c = self.n_classes
        return out[..., :c], out[..., c], out[..., c + 1:]


def log_halting_distribution(halt_logits: torch.Tensor) -> torch.Tensor:
    """log p_n, computed in log space, from halting logits (N, ...) with lambda_n = sigmoid(logit);
    the last step takes the mass left (lambda_N := 1), so p sums to one over n."""
    log_lam = nn.functional.logsigmoid(halt_logits)
    log_not = nn.functional.logsigmoid(-halt_logits)
    before = torch.cumsum(log_not, dim=0) - log_not  # sum_{j<n} log(1 - lambda_j)
    log_lam = torch.cat([log_lam[:-1], torch.zeros_like(log_lam[-1:])])
    return log_lam + before


def log_geometric_prior(lambda_p: torch.Tensor, steps: int) -> torch.Tensor:
    """log p_G(n) for n = 1..steps, truncated at `steps` and renormalised; lambda_p (E,) -> (steps, E)."""
    lambda_p = torch.as_tensor(lambda_p, dtype=torch.float32)
    n = torch.arange(1, steps + 1, device=lambda_p.device, dtype=lambda_p.dtype)[:, None]
    log_keep = torch.log1p(-lambda_p.clamp(max=1 - 1e-7))
    log_pg = torch.log(lambda_p) + (n - 1) * log_keep
    total = torch.log(-torch.expm1(steps * log_keep))  # log(1 - (1 - lambda_p)^N)
    return torch.where(lambda_p >= 1, torch.where(n == 1, 0.0, -math.inf), log_pg - total)


def kl_halting_to_prior(log_p: torch.Tensor, log_pg: torch.Tensor) -> torch.Tensor:
    """KL(p || p_G) = sum_n p_n (log p_n - log p_G(n)) over the first axis (the paper's direction).
    log_p (N, E, B), log_pg (N, E) -> (E, B). Terms with p_n = 0 count zero."""
    p = log_p.exp()
    terms = torch.where(p > 0, p * (log_p - log_pg[..., None]), torch.zeros_like(p))
    return terms.sum(dim=0)


def ponder_loss(task_loss: torch.Tensor, halt_logits: torch.Tensor, beta: torch.Tensor, lambda_p: torch.Tensor):
    """Each network's loss, (E,): mean over the batch of sum_n p_n L_task(y_n) + beta KL(p || p_G).
    task_loss and halt_logits are (N, E, B); beta and lambda_p (E,)."""
    log_p = log_halting_distribution(halt_logits)
    expected = (log_p.exp() * task_loss).sum(dim=0)
    kl = kl_halting_to_prior(log_p, log_geometric_prior(lambda_p, halt_logits.shape[0]))
    return (expected + beta[:, None] * kl).mean(dim=1)


def halting_step(log_p: torch.Tensor, rule: str, threshold: float = 0.5, generator: torch.Generator | None = None):
    """The step (1-based) each rule halts at; log_p (N, ...) -> (...) integer tensor."""
    p = log_p.exp()
    if rule == "threshold":
        reached = torch.cumsum(p, dim=0) >= threshold
        reached[-1] = True
        return reached.float().argmax(dim=0) + 1
    flat = p.reshape(p.shape[0], -1).T.clamp(min=0)
    u = torch.rand(flat.shape[0], 1, generator=generator, device="cpu").to(flat.device)
    cdf = torch.cumsum(flat, dim=1)
    step = (cdf < u * cdf[:, -1:]).sum(dim=1).clamp(max=p.shape[0] - 1) + 1
    return step.view(p.shape[1:])


#: A trained batch of step networks (see training.Run); its unit is ponder steps.
HaltingRun = Run


def train(task: TaskSettings, settings: HaltingSettings, members: Members | None = None, device="cpu",
          drive=None, progress: Progress | None = None, watch: Watch | None = None) -> Run:
    """Train members.count step networks at once on `task` with the PonderNet loss, then measure them.

    `drive` (a misbehaviour.Drive) plants an objective of the networks' own, weighted by each member's mu.
    `watch` gets each check's Snapshot: accuracy and steps expected under p on the training batch.
    """
    device = torch.device(device)
    members = members or Members.single(settings)
    e = members.count
    hyper = members.tensors(settings, device)
    gen = torch.Generator().manual_seed(settings.seed)
    n_inputs = task.n_inputs + (drive.extra_inputs if drive else 0)
    net = PonderNetwork(e, n_inputs, task.n_classes, settings.hidden, settings.max_steps,
                        drive.n_classes if drive else 0, gen, device, widths=hyper["width"])
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    log = LossLog("halt", settings.train_steps, e, device, settings.check_every, members.describe, watch)
    data = task.generator(0)
    drive_data = drive.generator(0) if drive else None
    top = task.train_max
    for step in range(settings.train_steps):
        hardest = _curriculum(step, settings.train_steps, top) if settings.curriculum else top
        batch = task.sample(data, settings.batch_size, range(1, hardest + 1))
        if drive is not None:
            batch = drive.attach(batch, drive_data, hardest)
        batch = batch.to(device)
        logits, halt, drive_logits = net(batch.x)
        per_step = _step_losses(logits, batch.y)
        if drive is not None:
            per_step = per_step + hyper["mu"][None, :, None] * _step_losses(drive_logits, batch.drive)
        loss = ponder_loss(per_step, halt, hyper["beta"], hyper["lambda_p"])
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        log.record(step, loss, **(_batch_stats(logits, halt, batch.y) if log.watched(step) else {}))
        if progress is not None:
            progress(1)
    log.check(settings.train_steps)
    measurement = evaluate(net, task, settings, drive=drive)
    return Run("halt", task, settings, members, net, measurement, log.curve(), "ponder steps", drive)


@torch.no_grad()
def _batch_stats(logits: torch.Tensor, halt: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per network, under its halting distribution p on this batch: E_p[answer right] and E_p[n]."""
    p = log_halting_distribution(halt).exp()
    n = torch.arange(1, p.shape[0] + 1, device=p.device, dtype=p.dtype)[:, None, None]
    hit = (logits.argmax(dim=-1) == y).to(p.dtype)
    return {"accuracy": (p * hit).sum(dim=0).mean(dim=1), "compute": (p * n).sum(dim=0).mean(dim=1)}


def _curriculum(step: int, total: int, top: int) -> int:
    """The hardest difficulty at `step`: 1 at the start, `top` from half-way on."""
    return min(top, 1 + int(2 * (top - 1) * step / max(1, total)) if top > 1 else 1)


def _step_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every step's answer: logits (N, E, B, C), y (B,) -> (N, E, B)."""
    n, e, b, c = logits.shape
    target = y.view(1, 1, b).expand(n, e, b).reshape(-1)
    return nn.functional.cross_entropy(logits.reshape(-1, c), target, reduction="none").view(n, e, b)


@torch.no_grad()
def step_outputs(net: PonderNetwork, batch: Batch, chunk: int = 1024):
    """Every step's probability of the right answer, whether its argmax is right, log p_n and (with a
    drive) whether the drive's argmax is right: each (N, E, B) on the host (the last None without a drive)."""
    right, hit, log_p, drive_hit = [], [], [], []
    for start in range(0, len(batch.y), chunk):
        part = slice(start, start + chunk)
        y = batch.y[part]
        logits, halt, drive_logits = net(batch.x[part])
        prob = logits.softmax(dim=-1)
        right.append(prob.gather(-1, y.view(1, 1, -1, 1).expand(*prob.shape[:-1], 1))[..., 0].cpu())
        hit.append((logits.argmax(dim=-1) == y).cpu())
        log_p.append(log_halting_distribution(halt).cpu())
        if batch.drive is not None and drive_logits.shape[-1]:
            drive_hit.append((drive_logits.argmax(dim=-1) == batch.drive[part]).cpu())
    def cat(parts):
        return torch.cat(parts, dim=2) if parts else None

    return cat(right), cat(hit), cat(log_p), cat(drive_hit)


@torch.no_grad()
def evaluate(net: PonderNetwork, task: TaskSettings, settings: HaltingSettings, drive=None, chunk: int = 1024) -> Measurement:
    """Run the evaluation set, halt each example by settings.halt_rule, and record what happened."""
    device = net.input.weight.device
    batch = task.evaluation_set()
    if drive is not None:
        batch = drive.attach(batch, drive.generator(1))
    right, is_right, log_p, drive_right = step_outputs(net, batch.to(device), chunk)
    gen = torch.Generator().manual_seed(settings.seed + 1)
    steps = halting_step(log_p, settings.halt_rule, settings.halt_threshold, gen)  # (E, B)
    at_halt = (steps - 1)[None]
    correct = is_right.gather(0, at_halt)[0]
    needed = first_confident_step(right, settings.confidence)
    drive_correct = drive_right.gather(0, at_halt)[0] if drive_right is not None else None
    return Measurement(batch.difficulty, correct, steps.float(), needed.float(), task.train_max, drive_correct,
                       expected_steps(log_p))


def expected_steps(log_p: torch.Tensor) -> torch.Tensor:
    """E_p[n] = sum_n p_n n, the steps the KL penalty prices: log_p (N, ...) -> (...)."""
    n = torch.arange(1, log_p.shape[0] + 1, dtype=log_p.dtype, device=log_p.device)
    return (log_p.exp() * n.view(-1, *([1] * (log_p.dim() - 1)))).sum(dim=0)
