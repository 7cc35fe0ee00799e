"""One neural training run in the background: what to train, start, stop, progress, live curve, result.

The neural app trains real networks while its page stays live, so the run goes on a worker thread and
the page polls it (explorer/ui/neural_view.py); nothing here knows about widgets, and a notebook or a
test drives a Trainer the same way. Stop works through the proposals' progress callback, which every
training loop calls after each optimiser step: it raises TrainingStopped there. The live curve comes
from their `watch` hook: each check (every `check_every` steps) reports loss, accuracy and compute on
the training batch, per network, and the trainer keeps the mean over each sweep point's networks.

When a run ends its networks become a ProgramTable (to_table) and every prior selects from it
(explorer.priors), so a training story's evidence reads the same PRIOR.METRIC names it reads in the
abstract world. A served page is capped (Limits) and runs share a few worker slots, so a workshop
room pressing Start at once queues instead of slowing every run to a crawl.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import param
import torch

from explorer.errors import ExplorerError
from explorer.priors import Candidates, PriorResult, PriorSettings
from explorer.worlds.neural import early_exit, growing, halting, pondering
from explorer.worlds.neural.measure import Measurement
from explorer.worlds.neural.misbehaviour import Drive, drive_rows
from explorer.worlds.neural.sweep import Members, parse_sweep
from explorer.worlds.neural.tasks import TASKS, TaskSettings
from explorer.worlds.neural.training import Run, Snapshot, TrainingDiverged, TrainingSettings, TrainingStopped

log = logging.getLogger(__name__)

#: The app's proposals, in the essay's order, with their settings class.
PROPOSALS: dict[str, type[TrainingSettings]] = {
    "grow": growing.GrowSettings,
    "ponder": pondering.PonderSettings,
    "halt": halting.HaltingSettings,
    "early-exit": early_exit.EarlyExitSettings,
    "misbehaviour": halting.HaltingSettings,
}
#: The per-network penalty each proposal's values set (grow and ponder raise their size or K themselves).
PENALTY = {"halt": "beta", "misbehaviour": "beta", "early-exit": "alpha"}
DEFAULT_PENALTIES = {"halt": "0.01", "misbehaviour": "0.001, 0.01, 0.1", "early-exit": "0.5"}
#: Small, fast settings: each proposal's run with the app's defaults takes seconds on one CPU thread.
APP_SETTINGS: dict[str, dict[str, Any]] = {
    "grow": {"width_max": 64, "batch_size": 64},
    "ponder": {"k_max": 4, "hidden": 32, "batch_size": 64},
    "halt": {"hidden": 32, "max_steps": 8, "batch_size": 64},
    "early-exit": {"layers": 4, "hidden": 32, "batch_size": 64},
    "misbehaviour": {"hidden": 32, "max_steps": 8, "batch_size": 64},
}
EVAL_PER_DIFFICULTY = 128
#: What "looks good" to the priors that select among the trained networks: training accuracy >= this.
THRESHOLD = 0.9


@dataclass(frozen=True)
class Limits:
    """The most one run may ask for; a served page uses SERVED so one link cannot take a shared server."""

    max_size: int = 64
    max_steps: int = 10_000_000
    max_networks: int = 1024


SERVED = Limits(max_size=12, max_steps=4000, max_networks=12)


def workers() -> int:
    """Runs that train at once in this process: EXPLORER_NEURAL_WORKERS, default the CPU count."""
    return max(1, int(os.environ.get("EXPLORER_NEURAL_WORKERS", os.cpu_count() or 1)))


_SLOTS = threading.BoundedSemaphore(workers())


class NeuralSetup(param.Parameterized):
    """What to train: a proposal, a task and a few key settings; the rest are the app's small defaults."""

    proposal = param.Selector(default="halt", objects=list(PROPOSALS),
                              doc="grow (1), ponder (2A), halt (2B, learned halting), early-exit (3), or a planted "
                                  "drive under learned halting (misbehaviour).")
    task = param.Selector(default="parity", objects=list(TASKS), doc=TaskSettings.param.task.doc)
    size = param.Integer(6, bounds=TaskSettings.param.size.bounds, doc=TaskSettings.param.size.doc)
    penalties = param.String(DEFAULT_PENALTIES["halt"],
                             doc="Penalty values, comma-separated: beta of KL(p || p_G) for halt and misbehaviour, "
                                 "alpha of the late-exit weighting for early-exit; one network each, trained as one batch.")
    mu = param.Number(1.0, bounds=(0.0, 100.0), inclusive_bounds=(False, True),
                      doc="misbehaviour: strength of the planted drive (its networks' loss is L_task + mu L_drive).")
    steps = param.Integer(1500, bounds=TrainingSettings.param.train_steps.bounds,
                          doc="Optimiser steps (for grow per size tried, for ponder per K tried).")
    learning_rate = param.Number(1e-2, bounds=TrainingSettings.param.learning_rate.bounds,
                                 inclusive_bounds=TrainingSettings.param.learning_rate.inclusive_bounds,
                                 doc=TrainingSettings.param.learning_rate.doc)
    seed = param.Integer(0, bounds=TrainingSettings.param.seed.bounds, doc="Seed of the examples and the initial weights.")

    def __init__(self, **params):
        from explorer.params import set_values

        super().__init__()
        set_values(self, params)

    @param.depends("proposal", watch=True)
    def _proposal_changed(self) -> None:
        self.penalties = DEFAULT_PENALTIES.get(self.proposal, "")

    @property
    def penalty_name(self) -> str | None:
        return PENALTY.get(self.proposal)

    def job(self, limits: Limits | None = None) -> Job:
        """The run these settings ask for, checked (ExplorerError names what is wrong and what is allowed)."""
        from explorer.params import set_values

        limits = limits or Limits()
        for name, value, most in (("size", self.size, limits.max_size), ("steps", self.steps, limits.max_steps)):
            if value > most:
                raise ExplorerError(f"{name}: {value:,} is more than this server trains (at most {most:,}); "
                                    f"use `python -m explorer neural` for larger runs")
        task = TaskSettings(task=self.task, size=self.size, seed=self.seed, eval_per_difficulty=EVAL_PER_DIFFICULTY)
        _ = task.train_max  # a task too small to hold anything out fails here, not on the thread
        settings = PROPOSALS[self.proposal]()
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

    def _penalty_values(self, settings) -> list[float]:
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


@dataclass
class Job:
    """A checked run: the task, the proposal's settings and which networks train together."""

    proposal: str
    task: TaskSettings
    settings: TrainingSettings
    members: Members

    @property
    def most_steps(self) -> int:
        """Optimiser steps if the run goes to its end (grow and ponder may stop sooner, when good)."""
        s = self.settings
        stages = {"grow": lambda: len(s.sizes()),
                  "ponder": lambda: len(_k_schedule(s)),
                  "early-exit": lambda: s.stages if s.anneal else 1}.get(self.proposal, lambda: 1)()
        return s.train_steps * stages

    def point_labels(self) -> list[str]:
        """One label per sweep point (per network group): 'beta=0.01, mu=1', or the proposal's name."""
        if not self.members.names:
            return [self.proposal]
        return [", ".join(f"{k}={v:g}" for k, v in zip(self.members.names, point)) for point in self.members.grid]

    def fit(self, progress: Callable[[int], None], watch: Callable[[Snapshot], None]) -> Run:
        task, settings, members, device = self.task, self.settings, self.members, "cpu"
        if self.proposal == "grow":
            return growing.train(task, settings, members.count, device, progress, watch)
        if self.proposal == "ponder":
            return pondering.train(task, settings, members.count, device, progress, watch)
        if self.proposal == "early-exit":
            return early_exit.train(task, settings, members, device, progress, watch)
        drive = Drive(task) if self.proposal == "misbehaviour" else None
        return halting.train(task, settings, members, device, drive=drive, progress=progress, watch=watch)


def _k_schedule(settings) -> list[int]:
    ks, k = [], settings.k_start
    while k <= settings.k_max:
        ks.append(k)
        k = k + settings.k_step if settings.schedule == "linear" else 2 * k
    return ks


@dataclass
class Outcome:
    """A finished run: its networks, each sweep point's report, the table the priors select from."""

    run: Run
    points: list[dict[str, Any]]
    penalty_rows: list[dict[str, Any]]
    selection: dict[str, PriorResult]
    table: Any
    seconds: float

    @property
    def unit(self) -> str:
        return self.run.unit

    def notes(self) -> list[str]:
        """What the proposal found beyond accuracy and compute (the K, the size, the retraining cost)."""
        extra = self.run.extra
        if self.run.proposal == "ponder":
            found = ", ".join(str(k) if k else "never good" for k in extra["k_found"])
            return [f"K found per network: {found} (tried K up to {max(s['k'] for s in extra['stages'])})."]
        if self.run.proposal == "grow":
            found = ", ".join(f"width {f['width']}, depth {f['depth']}" if f else "never good" for f in extra["found"])
            ratio = ", ".join(f"{r:.2f}" for r in extra["retraining_ratio"])
            return [f"Size found: {found}.", f"Training compute over every size tried / the size found trained once: {ratio}."]
        if extra.get("alpha_found") is not None:
            return [f"alpha found: {extra['alpha_found']}"]
        return []


def outcome(job: Job, run: Run, seconds: float) -> Outcome:
    """Summarise a run per sweep point, per penalty, and as the table every prior selects from."""
    from explorer.worlds.neural.to_table import to_table

    m: Measurement = run.measurement
    labels = job.point_labels()
    points = [{"label": labels[g], **job.members.point(g), **m.summary(job.members.of_point(g))}
              for g in range(len(job.members.grid))]
    if job.proposal == "misbehaviour":
        penalty_rows = drive_rows(run)
    elif len(points) > 1:
        name = job.members.names[0]
        penalty_rows = [{name: p[name], "accuracy": p["accuracy"], "heldout_accuracy": p["heldout_accuracy"],
                         "mean_steps": p["mean_steps"], "max_steps": p["max_steps"]} for p in points]
    else:
        penalty_rows = []
    table = to_table([run], threshold=THRESHOLD)
    prior = PriorSettings()
    selection = Candidates(table, THRESHOLD, generalization_check=False).select(prior.weights())
    return Outcome(run, points, penalty_rows, selection, table, seconds)


@dataclass
class Poll:
    """What a page reads from a Trainer: its state now, and the curve points it has not seen yet."""

    status: str
    done: int
    total: int
    points: list[dict[str, Any]]
    message: str
    outcome: Outcome | None
    seen: int = 0


@dataclass
class Trainer:
    """One Job on a worker thread.

    status: queued (waiting for a worker slot), running, then done, stopped, diverged or failed. The
    curve holds one point per check and sweep point: step, label, loss, accuracy, compute.
    """

    job: Job
    threads: int = 1
    slots: threading.Semaphore = field(default_factory=lambda: _SLOTS)
    status: str = "idle"
    done: int = 0
    message: str = ""
    result: Outcome | None = None
    curve: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._groups = [self.job.members.of_point(g) for g in range(len(self.job.members.grid))]
        self._labels = self.job.point_labels()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "stopped", "diverged", "failed")

    def start(self) -> Trainer:
        if self._thread is not None:
            raise RuntimeError("a Trainer runs once; make a new one")
        self.status = "queued"
        self._thread = threading.Thread(target=self._work, daemon=True, name=f"neural-{self.job.proposal}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to stop; it does after the optimiser step under way (or at once while queued)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.finished

    def poll(self, seen: int = 0) -> Poll:
        """The state now, with the curve points from index `seen` on."""
        with self._lock:
            points = self.curve[seen:]
            return Poll(self.status, self.done, self.job.most_steps, points, self.message, self.result,
                        seen + len(points))

    # ---- on the worker thread ----------------------------------------------------------------------

    def _progress(self, n: int) -> None:
        self.done += n
        if self._stop.is_set():
            raise TrainingStopped(f"after {self.done:,} steps")

    def _watch(self, snap: Snapshot) -> None:
        step = self.done + 1  # the watcher hears of a step before its progress call
        rows = []
        for label, group in zip(self._labels, self._groups):
            mean = {name: float(t[group].mean()) if t is not None else math.nan
                    for name, t in (("loss", snap.loss), ("accuracy", snap.accuracy), ("compute", snap.compute))}
            rows.append({"step": step, "label": label, "stage": snap.stage, **mean})
        with self._lock:
            self.curve.extend(rows)

    def _finish(self, status: str, message: str = "", result: Outcome | None = None) -> None:
        with self._lock:
            self.status, self.message, self.result = status, message, result

    def _work(self) -> None:
        while not self.slots.acquire(timeout=0.1):
            if self._stop.is_set():
                self._finish("stopped", "Stopped before it started.")
                return
        try:
            if self._stop.is_set():
                self._finish("stopped", "Stopped before it started.")
                return
            self.status = "running"
            torch.set_num_threads(self.threads)  # small networks: one thread, and the other cores for other runs
            started = time.perf_counter()
            run = self.job.fit(self._progress, self._watch)
            self._finish("done", "", outcome(self.job, run, time.perf_counter() - started))
        except TrainingStopped as exc:
            self._finish("stopped", f"Stopped {exc}.")
        except TrainingDiverged as exc:
            self._finish("diverged", str(exc))
        except ExplorerError as exc:
            self._finish("failed", str(exc))
        except Exception as exc:  # a bug must not take the page with it: say so, and log the traceback
            log.exception("neural training failed")
            self._finish("failed", f"Training failed ({type(exc).__name__}: {exc}); the details are in the server log.")
        finally:
            self.slots.release()
