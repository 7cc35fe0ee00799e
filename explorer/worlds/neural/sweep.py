"""Which hyperparameter values each network of a batched run gets.

A sweep names values for some of a proposal's per-member settings (beta=0.001,0.01,0.1); the grid of
their combinations is spread over the networks round robin, so network e trains with grid point
e mod G, and every point's networks are summarised together. Without a sweep every network takes the
settings' own values (different seeds of initial weights only).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import param
import torch

from explorer.errors import ExplorerError
from explorer.params import parse_value


@dataclass(frozen=True)
class Members:
    """The swept names, the grid of their values, and how many networks share the grid."""

    names: tuple[str, ...]
    grid: tuple[tuple[float, ...], ...]
    count: int

    @classmethod
    def single(cls, settings=None, networks: int = 1) -> Members:
        return cls((), ((),), networks)

    @classmethod
    def sweep(cls, values: dict[str, list[float]], networks: int | None = None) -> Members:
        names = tuple(values)
        grid = tuple(itertools.product(*(values[n] for n in names))) if names else ((),)
        count = len(grid) if networks is None else int(networks)
        if count < len(grid):
            raise ExplorerError(f"networks: {count} is fewer than the {len(grid)} points of the sweep; "
                                f"expected an integer >= {len(grid)}")
        return cls(names, grid, count)

    def point(self, e: int) -> dict[str, float]:
        """The swept values of network e."""
        return dict(zip(self.names, self.grid[e % len(self.grid)]))

    def of_point(self, g: int) -> list[int]:
        """The networks that train with grid point g."""
        return list(range(g, self.count, len(self.grid)))

    def describe(self, e: int) -> str:
        return ", ".join(f"{k}={v:g}" for k, v in self.point(e).items())

    def tensors(self, settings: param.Parameterized, device) -> dict[str, torch.Tensor]:
        """Each per-member setting as an (E,) float tensor on `device`: swept values, else the setting's."""
        out = {}
        for name in settings.per_member:
            default = float(getattr(settings, name, 0.0))
            out[name] = torch.tensor([self.point(e).get(name, default) for e in range(self.count)],
                                     dtype=torch.float32, device=device)
        return out


def parse_sweep(text: str, settings_class: type[param.Parameterized]) -> dict[str, list[float]]:
    """Parse `name=v1,v2,...[;name2=...]` against the per-member settings of `settings_class`."""
    allowed_names = settings_class.per_member
    out: dict[str, list[float]] = {}
    for part in filter(None, (s.strip() for s in text.split(";"))):
        name, sep, values = part.partition("=")
        name = name.strip()
        if not sep or not values.strip():
            raise ExplorerError(f"--sweep {part!r}: expected name=value,value,... (names: {', '.join(allowed_names)})")
        if name not in allowed_names:
            raise ExplorerError(f"--sweep: {name!r} cannot be swept here; sweepable: {', '.join(allowed_names)}")
        p = settings_class.param[name] if name in settings_class.param else None  # noqa: SIM401 (no .get here)
        parsed = []
        for v in values.split(","):
            value = parse_value(p, v) if p is not None else _number(name, v)
            if p is not None:
                _check_bounds(p, value)
            parsed.append(float(value))
        out[name] = parsed
    if not out:
        raise ExplorerError("--sweep: expected name=value,value,...")
    return out


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ExplorerError(f"--sweep {name}: {text!r} is not a number") from None


def _check_bounds(p: param.Parameter, value: float) -> None:
    from explorer.params import allowed

    lo, hi = p.bounds or (None, None)
    lo_in, hi_in = getattr(p, "inclusive_bounds", (True, True))
    below = lo is not None and (value < lo or (value == lo and not lo_in))
    above = hi is not None and (value > hi or (value == hi and not hi_in))
    if below or above:
        raise ExplorerError(f"--sweep {p.name}: {value:g} is out of range; expected {allowed(p)}")
