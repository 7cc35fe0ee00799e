"""Worlds: each builds a ProgramTable from its own parameters (see base.py for the interface).

- abstract: parametric program classes over a task distribution, generated (fast, huge);
- enumerated: every program of a tiny machine, run and measured;
- neural: real networks trained under the essay's proposals, measured.

Importing this package imports no torch: the neural world loads its training code when it trains.
"""

from __future__ import annotations

from explorer.errors import ExplorerError
from explorer.worlds.abstract import AbstractWorld
from explorer.worlds.base import BuildStopped, World
from explorer.worlds.enumerated.world import EnumeratedWorld
from explorer.worlds.neural.world import NeuralWorld

#: Every world by the name scenarios, links and the CLI use.
WORLDS: dict[str, type[World]] = {"abstract": AbstractWorld, "enumerated": EnumeratedWorld, "neural": NeuralWorld}

__all__ = ["WORLDS", "AbstractWorld", "BuildStopped", "EnumeratedWorld", "NeuralWorld", "World", "get_world"]


def get_world(name: str) -> type[World]:
    """The World class called `name`; ExplorerError lists the known worlds."""
    try:
        return WORLDS[name]
    except (KeyError, TypeError):
        raise ExplorerError(f"unknown world {name!r}; worlds are: {', '.join(WORLDS)}") from None
