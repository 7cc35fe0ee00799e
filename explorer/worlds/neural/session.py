"""One neural training run in the background: start, stop, progress, live curve, result.

What to train is a NeuralWorld and the checked run a Job (world.py); a Trainer runs that Job here.

The neural app trains real networks while its page stays live, so the run goes on a worker thread and
the page polls it (explorer/ui/neural_view.py); nothing here knows about widgets, and a notebook or a
test drives a Trainer the same way. Stop works through the proposals' progress callback, which every
training loop calls after each optimiser step: it raises TrainingStopped there. The live curve comes
from their `watch` hook: each check (every `check_every` steps) reports loss, accuracy and compute on
the training batch, per network, and the trainer keeps the mean over each sweep point's networks.

When a run ends its networks become a ProgramTable (to_table) and every prior selects from it
(explorer.priors), so a training story's evidence reads the same PRIOR.METRIC names it reads in the
abstract world. A served page is capped (Limits) and runs share a few worker slots, so a workshop
room pressing Start at once queues instead of slowing every run to a crawl: the slots are the
server's heavy-job pool (explorer.jobs), shared with the programs page's measurements and counted
across the server's processes.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from explorer import jobs
from explorer.errors import ExplorerError
from explorer.jobs import JobCancelled
from explorer.priors import Candidates, PriorResult, PriorSettings
from explorer.worlds.neural.measure import Measurement
from explorer.worlds.neural.misbehaviour import drive_rows
from explorer.worlds.neural.training import Run, Snapshot, TrainingDiverged, TrainingStopped
from explorer.worlds.neural.world import SERVED, THRESHOLD, Job, Limits, NeuralWorld

__all__ = ["SERVED", "THRESHOLD", "Job", "Limits", "NeuralWorld", "Outcome", "Poll", "Trainer", "outcome", "workers"]

log = logging.getLogger(__name__)


def workers() -> int:
    """Runs that train at once: the server's heavy-job slots (explorer.jobs, EXPLORER_JOB_SLOTS), which
    training shares with the programs page's measurements."""
    return jobs.pool().slots


_runs = itertools.count()


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
                         "mean_steps": p["mean_steps"], "max_steps": p["max_steps"],
                         # learned halting: the steps the penalty prices, beside the rule's
                         **({"expected_steps": p["expected_steps"]} if "expected_steps" in p else {})} for p in points]
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
    place: int = 0  # place in the server's line while queued (1: next)


@dataclass
class Trainer:
    """One Job on a worker thread.

    status: queued (waiting for a worker slot), running, then done, stopped, diverged or failed. The
    curve holds one point per check and sweep point: step, label, loss, accuracy, compute.
    """

    job: Job
    threads: int = 1
    #: None: the server's job pool (explorer.jobs), shared with every other heavy job of every process of
    #: the server; a semaphore of the caller's own instead (tests) keeps the run off the pool.
    slots: threading.Semaphore | None = None
    status: str = "idle"
    place: int = 0  # place in the pool's line while queued (1: next); 0 otherwise
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
                        seen + len(points), self.place)

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
        if self.slots is None:
            try:
                jobs.pool().run(("neural-run", next(_runs)), self._train, should_stop=self._stop.is_set,
                                on_wait=self._queued_at)
            except JobCancelled:
                self._finish("stopped", "Stopped before it started.")
            return
        while not self.slots.acquire(timeout=0.1):
            if self._stop.is_set():
                self._finish("stopped", "Stopped before it started.")
                return
        try:
            self._train()
        finally:
            self.slots.release()

    def _queued_at(self, place: int) -> None:
        self.place = place

    def _train(self, progress=None, should_stop=None) -> None:
        """The run itself, on a slot; its own stop flag and progress (the pool's are for other jobs)."""
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
