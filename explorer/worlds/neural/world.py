"""NeuralWorld: real networks trained under one of the essay's proposals, each network a row of the table.

Training is the search: `table()` trains the networks a setting asks for (one batched run: one network
per penalty value, two per value for the planted drive, each at every width of `widths`) and measures
each (to_table.py). For learned halting, `compute` counts serial steps or all the work (the essay's
caveat on parallel computation) and `allotment` lets the network or an offline predictor decide the
steps (its caveat on manipulating the allotment); tables that differ only there share one training. The defaults are
small, so a table trains in seconds on one CPU thread; larger runs are `python -m explorer neural`.

This module imports no torch at import time (`import explorer.worlds` must stay light): the training
code is imported when a run is built. Job is a checked run; session.py runs one on a worker thread for
the app, with a live curve, and `NeuralWorld.table` runs one here, for a Simulation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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
#: What compute counts in a halting run (parallel_drive.as_work counts the second), and who allots the steps.
COMPUTE = ("serial steps", "total work")
ALLOTMENT = ("learned halting", "offline predictor")
#: Proposals whose networks halt by a learned distribution: the ones `widths`, `compute` and `allotment` apply to.
HALTING = ("halt", "misbehaviour")
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
    widths = param.String("", doc="halt and misbehaviour: units of the recurrent state, comma-separated; the networks train "
                                  "at each width as one batch (empty: every network uses all its units).")
    compute = param.Selector(default=COMPUTE[0], objects=list(COMPUTE),
                             doc="halt and misbehaviour: what a network's compute counts, the steps it runs one after "
                                 "another (what halting charges) or all its multiply-adds, in steps of a full-width network.")
    allotment = param.Selector(default=ALLOTMENT[0], objects=list(ALLOTMENT),
                               doc="halt and misbehaviour: who decides the steps, the network (its learned halting) or "
                                   "an offline predictor trained afterwards on the steps its task answer needs.")

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
        widths = self._widths(settings)
        if self.proposal == "misbehaviour":
            set_values(settings, {"mu": self.mu})
            members = Members.sweep({"beta": values, **widths, "mu": [0.0, self.mu]})
        elif widths:
            members = Members.sweep({"beta": values, **widths})
        elif self.penalty_name is not None:
            members = Members.sweep({self.penalty_name: values}) if len(values) > 1 else Members.single()
            set_values(settings, {self.penalty_name: values[0]})
        else:
            members = Members.single()
        if members.count > limits.max_networks:
            raise ExplorerError(f"penalties: {members.count} networks are more than this server trains at once "
                                f"(at most {limits.max_networks}); give fewer values")
        return Job(self.proposal, task, settings, members, self.compute, self.allotment)

    def table(self, progress: Progress | None = None, should_stop: ShouldStop | None = None) -> ProgramTable:
        """Train the run and measure every network; `progress(step, most_steps)` after each optimiser step."""
        from explorer.worlds.neural.to_table import to_table

        return to_table([self.job().train(progress, should_stop)], threshold=THRESHOLD)

    def _widths(self, settings) -> dict[str, list[float]]:
        """{"width": [...]} from the widths field ({} when empty), checked against the proposal and `hidden`."""
        for name, default in (("widths", ""), ("compute", COMPUTE[0]), ("allotment", ALLOTMENT[0])):
            if getattr(self, name) != default and self.proposal not in HALTING:
                raise ExplorerError(f"{name}: {getattr(self, name)!r} applies to halt and misbehaviour only, "
                                    f"not to {self.proposal}")
        text = self.widths.strip()
        if not text:
            return {}
        try:
            widths = sorted({int(w) for w in text.split(",") if w.strip()})
        except ValueError:
            widths = []
        if not widths or widths[0] < 1 or widths[-1] > settings.hidden:
            raise ExplorerError(f"widths: {self.widths!r} is not valid; expected integers from 1 to {settings.hidden}, "
                                f"comma-separated, such as 8, 16, 32")
        return {"width": [float(w) for w in widths]}

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
    compute: str = COMPUTE[0]
    allotment: str = ALLOTMENT[0]

    @property
    def most_steps(self) -> int:
        """Optimiser steps if the run goes to its end (grow and ponder may stop sooner, when good)."""
        s = self.settings
        stages = {"grow": lambda: len(s.sizes()),
                  "ponder": lambda: len(k_schedule(s)),
                  "early-exit": lambda: s.stages if s.anneal else 1}.get(self.proposal, lambda: 1)()
        return s.train_steps * stages + (self.predictor().train_steps if self.allotment != ALLOTMENT[0] else 0)

    def predictor(self):
        """The offline predictor's settings (rollout_predictor), seeded as the run."""
        from explorer.worlds.neural.rollout_predictor import PredictorSettings

        return PredictorSettings(seed=self.settings.seed)

    def point_labels(self) -> list[str]:
        """One label per sweep point (per network group): 'beta=0.01, mu=1', or the proposal's name."""
        if not self.members.names:
            return [self.proposal]
        return [", ".join(f"{k}={v:g}" for k, v in zip(self.members.names, point)) for point in self.members.grid]

    def fit(self, progress: Callable[[int], None] | None = None, watch: Callable | None = None):
        """Train and measure: a training.Run. `progress(n)` hears of every n optimiser steps done."""
        return self.measure(self.train_networks(progress, watch), progress)

    def measure(self, run, progress: Callable[[int], None] | None = None):
        """The trained run as `allotment` and `compute` ask: steps allotted by an offline predictor trained
        here (rollout_predictor), and counted as total work (parallel_drive.as_work); as trained otherwise."""
        import dataclasses

        from explorer.worlds.neural import parallel_drive

        if self.proposal not in HALTING:
            return run
        extra = dict(run.extra)
        if self.members.names and "width" in self.members.names:
            extra["parameters"] = parallel_drive.parameters_at_width(run)
        if self.allotment != ALLOTMENT[0]:
            from explorer.worlds.neural.rollout_predictor import train_predictor

            predictor, measurement = train_predictor(run, self.predictor(), progress=progress)
            extra["predictor_parameters"] = sum(p[0].numel() for p in predictor.parameters())
            if "parameters" in extra:
                extra["parameters"] = [n + extra["predictor_parameters"] for n in extra["parameters"]]
            run = dataclasses.replace(run, measurement=measurement)
        run = dataclasses.replace(run, extra=extra)
        return parallel_drive.as_work(run) if self.compute != COMPUTE[0] else run

    def train_networks(self, progress: Callable[[int], None] | None = None, watch: Callable | None = None):
        """Train the proposal's networks and measure them as trained (fit also applies `allotment` and `compute`)."""
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
            key = self.key()
            with _TRAINED_LOCK:
                run = _TRAINED.get(key)
            if run is None:
                run = self.train_networks(step)
                with _TRAINED_LOCK:
                    _TRAINED[key] = run
                    while len(_TRAINED) > TRAINED_KEPT:
                        _TRAINED.popitem(last=False)
            return self.measure(run, step)
        except TrainingStopped as exc:
            raise BuildStopped(f"Training stopped {exc}.") from None

    def key(self) -> str:
        """What fixes the trained networks (not how they are then measured: `compute`, `allotment`)."""
        from explorer.params import values_of

        return repr((self.proposal, sorted(values_of(self.task).items()), sorted(values_of(self.settings).items()), self.members))


#: Trained runs kept in this process, so tables that differ only in how the same networks are measured
#: (compute, allotment: a scenario's two sides) train them once.
TRAINED_KEPT = 4
_TRAINED: OrderedDict[str, Any] = OrderedDict()
_TRAINED_LOCK = threading.Lock()


def k_schedule(settings) -> list[int]:
    """The K values Proposal 2A tries, in order."""
    ks, k = [], settings.k_start
    while k <= settings.k_max:
        ks.append(k)
        k = k + settings.k_step if settings.schedule == "linear" else 2 * k
    return ks
