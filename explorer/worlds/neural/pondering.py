"""Proposal 2A: pondering with K rollouts, K raised on a schedule until the network is good.

One step network f (an MLP) reads the input x together with a scratchpad s and writes an answer and a
new scratchpad; its output feeds back as its own input on the next rollout:

    (y_k, s_k) = f(x, s_{k-1}),   s_0 = 0,   k = 1..K,   answer = y_K.

The network is trained with K rollouts; when it is not yet good (accuracy on fresh examples below
`threshold`, judged on training difficulties or on the held-out harder ones), K rises on the schedule
(K + k_step, or K * 2) and the same network trains on. The K found is the least number of rollouts,
coarsely, with which this network does well: every input gets the same K, so this is a max speed prior
(average compute = max compute = K).

Networks of a batch (different seeds) train together; each keeps the weights and K of the stage at
which it first became good, while the others go on.
"""

from __future__ import annotations

import copy

import param
import torch

from explorer.errors import ExplorerError
from explorer.worlds.neural.ensemble import BatchedMLP, member_cross_entropy
from explorer.worlds.neural.measure import Measurement, first_confident_step
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import TaskSettings
from explorer.worlds.neural.training import LossLog, Progress, Run, TrainingSettings, Watch


class PonderSettings(TrainingSettings):
    """The rollout network and the schedule that raises K."""

    train_steps = param.Integer(1500, bounds=(1, 10_000_000), doc="Optimiser steps at each K.")
    hidden = param.Integer(64, bounds=(1, 16_384), doc="Hidden units of each of the step network's two hidden layers.")
    scratchpad = param.Integer(16, bounds=(1, 4096), doc="Entries of the scratchpad fed back from one rollout to the next.")
    k_start = param.Integer(1, bounds=(1, 256), doc="Rollouts at the first stage.")
    k_max = param.Integer(8, bounds=(1, 256), doc="The most rollouts tried; the schedule stops there.")
    k_step = param.Integer(1, bounds=(1, 256), doc="How much K rises per stage on the linear schedule.")
    schedule = param.Selector(default="linear", objects=["linear", "geometric"], doc="K + k_step, or K * 2, per stage.")
    threshold = param.Number(0.99, bounds=(0.0, 1.0), doc="Accuracy at which a network is good and K stops rising.")
    judge = param.Selector(default="validation", objects=["validation", "heldout"],
                           doc="Judge accuracy on fresh examples of the training difficulties, or on the held-out harder ones.")
    confidence = param.Number(0.9, bounds=(0.5, 1.0), doc="A rollout 'has solved' an example once it gives the right answer this probability.")
    curriculum = param.Boolean(True, doc="In the first stage, raise the hardest training difficulty from 1 over its first half.")

    per_member = ()


class RolloutNetwork(torch.nn.Module):
    """E step networks f(x, s) -> (answer logits, next scratchpad), unrolled K times."""

    def __init__(self, members: int, n_inputs: int, n_classes: int, hidden: int, scratchpad: int,
                 generator: torch.Generator | None = None, device=None):
        super().__init__()
        self.n_classes, self.scratchpad = n_classes, scratchpad
        self.mlp = BatchedMLP(members, [n_inputs + scratchpad, hidden, hidden, n_classes + scratchpad], generator, device)

    def forward(self, x: torch.Tensor, rollouts: int) -> torch.Tensor:
        """x (B, n_inputs) -> answer logits after each rollout, (K, E, B, C)."""
        e = self.mlp.layers[0].members
        xs = x.expand(e, *x.shape)
        s = torch.zeros(e, x.shape[0], self.scratchpad, device=x.device, dtype=x.dtype)
        answers = []
        for _ in range(rollouts):
            out = self.mlp(torch.cat([xs, s], dim=-1))
            answers.append(out[..., : self.n_classes])
            s = torch.tanh(out[..., self.n_classes:])
        return torch.stack(answers)


def train(task: TaskSettings, settings: PonderSettings, networks: int = 1, device="cpu",
          progress: Progress | None = None, watch: Watch | None = None) -> Run:
    """Raise K stage by stage until each network is good (or k_max); returns the networks at their K.

    `watch` gets each check's Snapshot: accuracy of the K-th rollout on the training batch, and K."""
    if settings.k_start > settings.k_max:
        raise ExplorerError(f"k_start: {settings.k_start} is above k_max ({settings.k_max}); expected k_start <= k_max")
    if settings.judge == "heldout" and not task.heldout_difficulties:
        raise ExplorerError("judge: 'heldout' needs held-out difficulties; lower train_max_difficulty or judge on validation")
    device = torch.device(device)
    members = Members.single(networks=networks)
    e = members.count
    net = RolloutNetwork(e, task.n_inputs, task.n_classes, settings.hidden, settings.scratchpad,
                         torch.Generator().manual_seed(settings.seed), device)
    opt = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    data = task.generator(0)
    judge_set = task.sample(task.generator(3), 1024, task.heldout_difficulties if settings.judge == "heldout" else None).to(device)
    found_k = torch.zeros(e, dtype=torch.long)  # 0: not good yet
    kept = copy.deepcopy(net.state_dict())
    stages, curves, k = [], [], settings.k_start
    while True:
        log = LossLog(f"ponder (K={k})", settings.train_steps, e, device, settings.check_every, lambda m: f"seed {settings.seed}, network {m}", watch)
        for step in range(settings.train_steps):
            hardest = task.train_max
            if settings.curriculum and not stages:
                hardest = min(task.train_max, 1 + int(2 * (task.train_max - 1) * step / settings.train_steps))
            batch = task.sample(data, settings.batch_size, range(1, hardest + 1)).to(device)
            answer = net(batch.x, k)[-1]
            loss = member_cross_entropy(answer, batch.y)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            stats = {}
            if log.watched(step):
                stats = {"accuracy": (answer.detach().argmax(dim=-1) == batch.y).float().mean(dim=1),
                         "compute": torch.full((e,), float(k))}
            log.record(step, loss, **stats)
            if progress is not None:
                progress(1)
        log.check(settings.train_steps)
        curves.append(log.curve())
        with torch.no_grad():
            acc = (net(judge_set.x, k)[-1].argmax(dim=-1) == judge_set.y).float().mean(dim=1).cpu()
        stages.append({"k": k, "judged_accuracy": acc.tolist()})
        newly = (found_k == 0) & (acc >= settings.threshold)
        if bool(newly.any()):
            state = net.state_dict()
            for name, value in state.items():  # keep each newly good network's weights of this stage
                kept[name][newly.to(value.device)] = value[newly.to(value.device)]
            found_k[newly] = k
        nxt = k + settings.k_step if settings.schedule == "linear" else 2 * k
        if bool((found_k > 0).all()) or nxt > settings.k_max:
            break
        k = nxt
    state = net.state_dict()  # networks never good keep their last stage
    for name, value in state.items():
        never = (found_k == 0).to(value.device)
        kept[name][never] = value[never]
    net.load_state_dict(kept)
    rollouts = torch.where(found_k > 0, found_k, k)
    measurement = evaluate(net, task, rollouts, settings.confidence)
    extra = {"k_found": found_k.tolist(), "k_used": rollouts.tolist(), "stages": stages}
    return Run("ponder", task, settings, members, net, measurement, torch.cat(curves), "rollouts", extra=extra)


@torch.no_grad()
def evaluate(net: RolloutNetwork, task: TaskSettings, rollouts: torch.Tensor, confidence: float, chunk: int = 1024) -> Measurement:
    """Each network answers after its own K rollouts; `needed` is the first rollout already right with confidence."""
    device = net.mlp.layers[0].weight.device
    batch = task.evaluation_set()
    k_max = int(rollouts.max())
    right, hit = [], []
    for start in range(0, len(batch.y), chunk):
        x = batch.x[start:start + chunk].to(device)
        y = batch.y[start:start + chunk].to(device)
        logits = net(x, k_max)
        prob = logits.softmax(dim=-1)
        right.append(prob.gather(-1, y.view(1, 1, -1, 1).expand(*prob.shape[:-1], 1))[..., 0].cpu())
        hit.append((logits.argmax(dim=-1) == y).cpu())
    right, hit = torch.cat(right, dim=2), torch.cat(hit, dim=2)
    steps = rollouts[:, None].expand(-1, len(batch.y))
    correct = hit.gather(0, (steps - 1)[None])[0]
    needed = first_confident_step(right[:k_max], confidence).minimum(steps + 1)
    return Measurement(batch.difficulty, correct, steps.float(), needed.float(), task.train_max)
