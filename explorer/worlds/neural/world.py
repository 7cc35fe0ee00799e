"""NeuralWorld: real networks trained under one of the essay's proposals, each network a row of the table.

Training is the search: `table()` trains the networks a setting asks for (one batched run: one network
per penalty value, two per value for the planted drive) and measures each (to_table.py). The defaults are
small, so a table trains in seconds on one CPU thread; larger runs are `python -m explorer neural`.

This module imports no torch at import time (`import explorer.worlds` must stay light): the training
code is imported when a run is built. Job is a checked run; session.py runs one on a worker thread for
the app, with a live curve, and `NeuralWorld.table` runs one here, for a Simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import param

from explorer.errors import ExplorerError
from explorer.params import set_values
from explorer.table import ProgramTable
from explorer.worlds.base import BuildStopped, Progress, ShouldStop, World

#: The proposals, in the essay's order (their settings classes are in growing, pondering, halting, early_exit).
PROPOSALS = ("grow", "ponder", "halt", "early-exit", "misbehaviour")
#: The tasks of tasks.py (kept here too, so that this module needs no torch; a test checks they agree).
TASKS = ("parity", "pointer")
#: The per-network penalty each proposal's values set (grow and ponder raise their size or K themselves).
PENALTY = {"halt": "beta", "misbehaviour": "beta", "early-exit": "alpha"}
DEFAULT_PENALTIES = {"halt": "0.001, 0.01, 0.1", "misbehaviour": "0.001, 0.01, 0.1", "early-exit": "0.5"}
#: Small, fast settings: each proposal's run with the defaults takes seconds on one CPU thread.
APP_SETTINGS: dict[str, dict[str, Any]] = {
    "grow": {"width_max": 64, "batch_size": 64},
    "ponder": {"k_max": 4, "hidden": 32, "batch_size": 64},
    "halt": {"hidden": 32, "max_steps": 8, "batch_size": 64},
    "early-exit": {"layers": 4, "hidden": 32, "batch_size": 64},
    "misbehaviour": {"hidden": 32, "max_steps": 8, "batch_size": 64},
}
EVAL_PER_DIFFICULTY = 128
#: What "looks good" when a network's kind is read (lookup: fits training, fails held out): accuracy >= this.
THRESHOLD = 0.9


@dataclass(frozen=True)
class Limits:
    """The most one run may ask for; a served page uses SERVED so one link cannot take a shared server."""

    max_size: int = 64
    max_steps: int = 10_000_000
    max_networks: int = 1024


SERVED = Limits(max_size=12, max_steps=4000, max_networks=12)


class NeuralWorld(World):
    """What to train: a proposal, a task, its size and a few key settings; the rest are small defaults."""

    measured = True  # seconds of training per table: Simulation keeps its tables on disk
    machine_params = ()

    proposal = param.Selector(default="halt", objects=list(PROPOSALS),
                              doc="grow (1), ponder (2A), halt (2B, learned halting), early-exit (3), or a planted "
                                  "drive under learned halting (misbehaviour).")
    task = param.Selector(default="parity", objects=list(TASKS), doc="parity (PonderNet's) or pointer (multi-hop list following).")
    bits = param.Integer(6, bounds=(2, 64), doc="Size of the task's input: entries of a parity vector, or slots of a pointer list.")
    penalties = param.String(DEFAULT_PENALTIES["halt"],
                             doc="Penalty values, comma-separated: beta of KL(p || p_G) for halt and misbehaviour, "
                                 "alpha of the late-exit weighting for early-exit; one network each, trained as one batch.")
    mu = param.Number(1.0, bounds=(0.0, 100.0), inclusive_bounds=(False, True),
                      doc="misbehaviour: strength of the planted drive (its networks' loss is L_task + mu L_drive).")
    steps = param.Integer(1500, bounds=(1, 10_000_000), doc="Optimiser steps (for grow per size tried, for ponder per K tried).")
    learning_rate = param.Number(1e-2, bounds=(0.0, 10.0), inclusive_bounds=(False, True), doc="Adam's step size.")
    seed = param.Integer(0, bounds=(0, 2**31 - 1), doc="Seed of the examples and the initial weights.")

    @param.depends("proposal", watch=True)
    def _proposal_changed(self) -> None:
        self.penalties = DEFAULT_PENALTIES.get(self.proposal, "")

    @property
    def penalty_name(self) -> str | None:
        return PENALTY.get(self.proposal)

    def check(self) -> None:
        """Builds the run these settings ask for, so a bad penalty list or a task too small fails here."""
        self.job()

    def job(self, limits: Limits | None = None) -> Job:
        """The run these settings ask for, checked (ExplorerError names what is wrong and what is allowed)."""
        from explorer.worlds.neural.sweep import Members
        from explorer.worlds.neural.tasks import TaskSettings

        limits = limits or Limits()
        for name, value, most in (("bits", self.bits, limits.max_size), ("steps", self.steps, limits.max_steps)):
            if value > most:
                raise ExplorerError(f"{name}: {value:,} is more than this server trains (at most {most:,}); "
                                    f"use `python -m explorer neural` for larger runs")
        task = TaskSettings(task=self.task, size=self.bits, seed=self.seed, eval_per_difficulty=EVAL_PER_DIFFICULTY)
        _ = task.train_max  # a task too small to hold anything out fails here, not on the thread
        settings = settings_class(self.proposal)()
        set_values(settings, {**APP_SETTINGS[self.proposal], "train_steps": self.steps,
                              "learning_rate": self.learning_rate, "seed": self.seed})
        values = self._penalty_values(settings)
        if self.proposal == "misbehaviour":
            set_values(settings, {"mu": self.mu})
            members = Members.sweep({"beta": values, "mu": [0.0, self.mu]})
        elif self.penalty_name is not None:
            members = Members.sweep({self.penalty_name: values}) if len(values) > 1 else Members.single()
            set_values(settings, {self.penalty_name: values[0]})
        else:
            members = Members.single()
        if members.count > limits.max_networks:
            raise ExplorerError(f"penalties: {members.count} networks are more than this server trains at once "
                                f"(at most {limits.max_networks}); give fewer values")
        return Job(self.proposal, task, settings, members)

    def table(self, progress: Progress | None = None, should_stop: ShouldStop | None = None) -> ProgramTable:
        """Train the run and measure every network; `progress(step, most_steps)` after each optimiser step."""
        from explorer.worlds.neural.to_table import to_table

        return to_table([self.job().train(progress, should_stop)], threshold=THRESHOLD)

    def _penalty_values(self, settings) -> list[float]:
        from explorer.worlds.neural.sweep import parse_sweep

        name = self.penalty_name
        if name is None:
            return []
        text = self.penalties.strip()
        if not text:
            raise ExplorerError(f"penalties: give at least one value of {name}, such as {DEFAULT_PENALTIES[self.proposal]}")
        try:
            values = parse_sweep(f"{name}={text}", type(settings))[name]
        except ExplorerError as exc:  # the sweep parser speaks of --sweep; here it is the penalties field
            raise ExplorerError(f"penalties: {str(exc).removeprefix('--sweep ')}") from None
        return list(dict.fromkeys(values))  # a value given twice trains once


def settings_class(proposal: str) -> type:
    """The training settings class of a proposal (imports torch)."""
    from explorer.worlds.neural import early_exit, growing, halting, pondering

    return {"grow": growing.GrowSettings, "ponder": pondering.PonderSettings, "halt": halting.HaltingSettings,
            "early-exit": early_exit.EarlyExitSettings, "misbehaviour": halting.HaltingSettings}[proposal]


@dataclass
class Job:
    """A checked run: the task, the proposal's settings and which networks train together."""

    proposal: str
    task: Any
    settings: Any
    members: Any

    @property
    def most_steps(self) -> int:
        """Optimiser steps if the run goes to its end (grow and ponder may stop sooner, when good)."""
        s = self.settings
        stages = {"grow": lambda: len(s.sizes()),
                  "ponder": lambda: len(k_schedule(s)),
                  "early-exit": lambda: s.stages if s.anneal else 1}.get(self.proposal, lambda: 1)()
        return s.train_steps * stages

    def point_labels(self) -> list[str]:
        """One label per sweep point (per network group): 'beta=0.01, mu=1', or the proposal's name."""
        if not self.members.names:
            return [self.proposal]
        return [", ".join(f"{k}={v:g}" for k, v in zip(self.members.names, point)) for point in self.members.grid]

    def fit(self, progress: Callable[[int], None] | None = None, watch: Callable | None = None):
        """Train and measure: a training.Run. `progress(n)` hears of every n optimiser steps done."""
        from explorer.worlds.neural import early_exit, growing, halting, pondering
        from explorer.worlds.neural.misbehaviour import Drive

        task, settings, members, device = self.task, self.settings, self.members, "cpu"
        if self.proposal == "grow":
            return growing.train(task, settings, members.count, device, progress, watch)
        if self.proposal == "ponder":
            return pondering.train(task, settings, members.count, device, progress, watch)
        if self.proposal == "early-exit":
            return early_exit.train(task, settings, members, device, progress, watch)
        drive = Drive(task) if self.proposal == "misbehaviour" else None
        return halting.train(task, settings, members, device, drive=drive, progress=progress, watch=watch)

    def train(self, progress: Progress | None = None, should_stop: ShouldStop | None = None):
        """fit() with a World's hooks: `progress(done, most_steps)`, and BuildStopped once `should_stop()`."""
        from explorer.worlds.neural.training import TrainingStopped

        done, total = 0, self.most_steps

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(min(done, total), total)
            if should_stop is not None and should_stop():
                raise TrainingStopped(f"after {done:,} steps")

        try:
            return self.fit(step)
        except TrainingStopped as exc:
            raise BuildStopped(f"Training stopped {exc}.") from None


def k_schedule(settings) -> list[int]:
    """The K values Proposal 2A tries, in order."""
    ks, k = [], settings.k_start
    while k <= settings.k_max:
        ks.append(k)
        k = k + settings.k_step if settings.schedule == "linear" else 2 * k
    return ks
