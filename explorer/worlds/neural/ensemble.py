"""E independent networks trained as one batched program.

Each layer keeps the weights of all E members stacked, W of shape (E, in, out), and applies them with
one batched matrix product, y_e = x_e W_e + b_e (torch.baddbmm). The training loss is the sum of the
members' own losses, L = sum_e L_e; since L_e depends only on member e's weights, dL/dW_e = dL_e/dW_e,
and Adam's update is element-wise, so one optimiser over the stacked tensors takes exactly the step E
separate optimisers would. A penalty sweep is then a single training run whose per-member
hyperparameters (beta, alpha, mu, ...) are tensors of shape (E,) broadcast into each member's loss.
(Anything that mixes members, such as clipping by the global gradient norm, would break this; nothing
here does.) Works on any torch device.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn


class BatchedLinear(nn.Module):
    """E linear layers, W (E, in, out) and b (E, 1, out), initialised as nn.Linear initialises one."""

    def __init__(self, members: int, n_in: int, n_out: int, generator: torch.Generator | None = None, device=None):
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)  # nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)) for W and b
        w = (torch.rand(members, n_in, n_out, generator=generator) * 2 - 1) * bound
        b = (torch.rand(members, 1, n_out, generator=generator) * 2 - 1) * bound
        self.weight = nn.Parameter(w.to(device))
        self.bias = nn.Parameter(b.to(device))

    @property
    def members(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (E, B, in) gives (E, B, out); x (B, in), shared by every member, is applied as one matmul."""
        if x.dim() == 2:
            e, n_in, n_out = self.weight.shape
            flat = x @ self.weight.permute(1, 0, 2).reshape(n_in, e * n_out)
            return flat.view(x.shape[0], e, n_out).transpose(0, 1) + self.bias
        return torch.baddbmm(self.bias, x, self.weight)

    def member(self, e: int) -> nn.Linear:
        """Member e as a plain nn.Linear holding a copy of its weights (for loops and checks)."""
        n_in, n_out = self.weight.shape[1:]
        layer = nn.Linear(n_in, n_out, device=self.weight.device)
        with torch.no_grad():
            layer.weight.copy_(self.weight[e].T)
            layer.bias.copy_(self.bias[e, 0])
        return layer


class BatchedMLP(nn.Module):
    """E multilayer perceptrons of the same shape: widths[0] inputs, ReLU between layers, widths[-1] outputs."""

    def __init__(self, members: int, widths: list[int], generator: torch.Generator | None = None, device=None):
        super().__init__()
        self.layers = nn.ModuleList(
            BatchedLinear(members, a, b, generator, device) for a, b in itertools.pairwise(widths))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x

    def member(self, e: int) -> nn.Sequential:
        """Member e as an nn.Sequential of nn.Linear and nn.ReLU, with a copy of its weights."""
        mods: list[nn.Module] = []
        for i, layer in enumerate(self.layers):
            mods.append(layer.member(e))
            if i < len(self.layers) - 1:
                mods.append(nn.ReLU())
        return nn.Sequential(*mods)


def member_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-member mean cross-entropy: logits (E, B, C), labels y (B,) or (E, B); returns (E,)."""
    e, b, c = logits.shape
    y = y.expand(e, b) if y.dim() == 1 else y
    return nn.functional.cross_entropy(logits.reshape(e * b, c), y.reshape(e * b), reduction="none").view(e, b).mean(dim=1)


def parameter_count(module: nn.Module) -> int:
    """Parameters of ONE member (every parameter's first axis is the member axis)."""
    return sum(p[0].numel() for p in module.parameters())


def resolve_device(name: str) -> torch.device:
    """'cpu', 'cuda' or 'cuda:N', checked: asking for CUDA on a machine without it is a user mistake."""
    from explorer.errors import ExplorerError

    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ExplorerError(f"device: {name!r} needs a CUDA GPU and torch sees none here; use --device cpu")
        return torch.device(name)
    raise ExplorerError(f"device: {name!r} is not valid; expected cpu, cuda or cuda:N")
