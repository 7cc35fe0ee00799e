"""E networks as one batched program train exactly as E separate networks would."""

import pytest
import torch
from torch import nn

from explorer.worlds.neural.ensemble import BatchedLinear, BatchedMLP, member_cross_entropy
from explorer.worlds.neural.halting import PonderNetwork, _step_losses, ponder_loss
from explorer.worlds.neural.tasks import TaskSettings

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_batched_mlps_equal_a_loop_over_separate_modules(device):
    task = TaskSettings(size=6)
    e = 4
    net = BatchedMLP(e, [task.n_inputs, 16, 16, task.n_classes], torch.Generator().manual_seed(1), device)
    models = [net.member(i) for i in range(e)]
    assert all(isinstance(m[0], nn.Linear) for m in models)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in models]
    gen = task.generator()
    for _ in range(25):
        b = task.sample(gen, 32).to(device)
        loss = member_cross_entropy(net(b.x), b.y)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        for i, (m, o) in enumerate(zip(models, opts)):
            single = nn.functional.cross_entropy(m(b.x), b.y)
            assert torch.allclose(single, loss[i].detach(), atol=1e-5)
            o.zero_grad()
            single.backward()
            o.step()
    for i, m in enumerate(models):
        plain = [layer for layer in m if isinstance(layer, nn.Linear)]
        for layer, p in zip(net.layers, plain):
            torch.testing.assert_close(layer.weight[i].T, p.weight, atol=2e-5, rtol=1e-4)
            torch.testing.assert_close(layer.bias[i, 0], p.bias, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_batched_halting_networks_with_their_own_beta_equal_separate_runs(device):
    """A sweep's members: each with its own beta, trained together, match separate one-member runs."""
    task = TaskSettings(size=4)
    betas = torch.tensor([0.0, 0.1, 1.0], device=device)
    lam = torch.full((3,), 0.5, device=device)
    net = PonderNetwork(3, task.n_inputs, task.n_classes, 8, 4, generator=torch.Generator().manual_seed(0), device=device)
    singles = []
    for i in range(3):
        s = PonderNetwork(1, task.n_inputs, task.n_classes, 8, 4, device=device)
        with torch.no_grad():
            for mine, theirs in zip(s.parameters(), net.parameters()):
                mine.copy_(theirs[i:i + 1])
        singles.append(s)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    opts = [torch.optim.Adam(s.parameters(), lr=1e-2) for s in singles]
    gen = task.generator()
    for _ in range(15):
        b = task.sample(gen, 16).to(device)
        logits, halt, _ = net(b.x)
        opt.zero_grad()
        ponder_loss(_step_losses(logits, b.y), halt, betas, lam).sum().backward()
        opt.step()
        for i, (s, o) in enumerate(zip(singles, opts)):
            logits, halt, _ = s(b.x)
            o.zero_grad()
            ponder_loss(_step_losses(logits, b.y), halt, betas[i:i + 1], lam[:1]).sum().backward()
            o.step()
    for i, s in enumerate(singles):
        for mine, theirs in zip(s.parameters(), net.parameters()):
            torch.testing.assert_close(mine[0], theirs[i], atol=5e-5, rtol=1e-4)


def test_shared_input_and_per_member_input_give_the_same_output():
    layer = BatchedLinear(3, 5, 4, torch.Generator().manual_seed(2))
    x = torch.randn(7, 5)
    torch.testing.assert_close(layer(x), layer(x.expand(3, 7, 5)))
