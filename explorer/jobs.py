"""Heavy work on a server: a fixed number of slots shared by every session, a FIFO queue, and one
computation per identical request.

Measured today, ten people opening the programs page at length 6 at once each waited 214-231 s (20 s
alone) and the server peaked at 4.7 GB: ten enumerations of the same space ran side by side on two cores.
A `JobPool` runs at most `slots` jobs at once; the rest wait in line and can read their place in it
(a page shows "2nd in line"). Requests with the same key (a world's name and its result-relevant
parameters, as explorer.table_cache names its entries) share one computation: the second caller waits
for the first's result instead of computing again.

Slots are counted across processes too (`panel serve --num-procs N`): a running job holds an exclusive
fcntl.flock on one of `slots` files in a folder every process of the server shares, so N processes
together never run more than `slots` jobs. A caller may pass `cached()`, checked after a slot is
taken, so a result another process has just put in the disk cache is read rather than computed again.

Stopping: every caller of a job passes its own `should_stop`; a caller that stops while waiting leaves
the line (the job leaves it when its last caller does), and a running job is asked to stop only once
every one of its callers has asked (a room sharing one enumeration does not lose it when one tab closes).

Environment: EXPLORER_JOB_SLOTS (default max(1, cpu_count // 2): heavy jobs are numpy or torch on one
core each, and half the cores stay free for the event loop and the cheap pages, such as /priors, that a
room uses meanwhile), EXPLORER_JOB_SLOTS_DIR (default .slots in the table cache's folder), and
EXPLORER_KEEP_FREED_MB (see explorer.memory.trim_freed_memory, called after every job).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from explorer.environment import number
from explorer.errors import ExplorerError

#: Seconds between checks of a waiting caller's should_stop (and of a free slot in another process).
POLL = 0.05


class JobCancelled(ExplorerError):
    """The caller stopped while its job waited in line (nothing was computed for it)."""


def default_slots() -> int:
    """EXPLORER_JOB_SLOTS, else half the CPU cores (at least one)."""
    slots = int(number("EXPLORER_JOB_SLOTS", 0, minimum=1, whole=True))
    return slots or max(1, (os.cpu_count() or 1) // 2)


def default_slots_dir() -> Path:
    """EXPLORER_JOB_SLOTS_DIR, else `.slots` in the table cache's folder: every process of a server reads
    the same environment, so they find the same folder, and servers sharing a cache share the machine."""
    env = os.environ.get("EXPLORER_JOB_SLOTS_DIR")
    if env:
        return Path(env).expanduser()
    from explorer.table_cache import cache_dir

    return cache_dir() / ".slots"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class _Caller:
    __slots__ = ("should_stop", "progress", "on_wait", "left")

    def __init__(self, should_stop, progress, on_wait):
        self.should_stop, self.progress, self.on_wait, self.left = should_stop, progress, on_wait, False


class _Job:
    """One computation and everyone waiting for it."""

    def __init__(self, key: Hashable, compute: Callable, cached: Callable | None):
        self.key, self.compute, self.cached = key, compute, cached
        self.state = "queued"  # then running, then done
        self.callers: list[_Caller] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def stopping(self) -> bool:
        """Stop only when every caller still attached asks to (a caller with no should_stop never does)."""
        callers = [c for c in self.callers if not c.left]
        return bool(callers) and all(c.should_stop is not None and c.should_stop() for c in callers)

    def report(self, done: int, total: int) -> None:
        for c in list(self.callers):
            if not c.left and c.progress is not None:
                c.progress(done, total)


class JobPool:
    """At most `slots` jobs at once across every process using `slots_dir`; FIFO; identical keys shared."""

    def __init__(self, slots: int | None = None, slots_dir: str | os.PathLike | None = None):
        self.slots = slots or default_slots()
        self.slots_dir = Path(slots_dir) if slots_dir is not None else default_slots_dir()
        self._cond = threading.Condition()
        self._queue: list[_Job] = []  # waiting, in order of arrival
        self._jobs: dict[Hashable, _Job] = {}  # queued or running, by key
        self._running = 0
        self._inside = threading.local()  # set on a thread while it runs a job of this pool
        self.computed = 0  # computations run (tests and benchmarks read it)

    # ---- what a page reads -------------------------------------------------------------------------

    def position(self, key: Hashable) -> int:
        """1 for the first in line, 2 for the second ...; 0 when running; -1 when neither."""
        with self._cond:
            job = self._jobs.get(key)
            if job is None:
                return -1
            return 0 if job.state == "running" else self._queue.index(job) + 1

    def running(self) -> int:
        with self._cond:
            return self._running

    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)

    # ---- running a job -----------------------------------------------------------------------------

    def run(self, key: Hashable, compute: Callable[[Callable, Callable], Any], *,
            should_stop: Callable[[], bool] | None = None, progress: Callable[[int, int], None] | None = None,
            on_wait: Callable[[int], None] | None = None, cached: Callable[[], Any] | None = None) -> Any:
        """`compute(progress, should_stop)`'s result, computed at most once for callers sharing `key`.

        Blocks the calling thread (a page's worker thread) until the result is there. `on_wait(n)` hears
        the caller's place in line whenever it changes (n = 1 first; 0 once the job runs). `cached()`,
        if given, is tried once a slot is held; a result other than None is used without computing.
        Raises JobCancelled when `should_stop()` says so while waiting, and whatever `compute` raises
        (to every caller of the job).

        A job that itself asks the pool for a job (a regime map of the enumerated world building a table)
        runs it at once on its own slot: waiting for a second slot could wait forever."""
        if getattr(self._inside, "job", None) is not None:
            result = cached() if cached is not None else None
            if result is None:
                result = compute(progress or (lambda done, total: None), should_stop or (lambda: False))
            return result
        me = _Caller(should_stop, progress, on_wait)
        with self._cond:
            job = self._jobs.get(key)
            if job is None:
                job = _Job(key, compute, cached)
                self._jobs[key] = job
                self._queue.append(job)
                self._cond.notify_all()
            job.callers.append(me)
        told = None
        while True:
            with self._cond:
                if job.done.is_set():
                    break
                if job.state == "queued" and self._queue[0] is job and self._running < self.slots:
                    self._queue.pop(0)
                    job.state = "running"
                    self._running += 1
                    self._cond.notify_all()  # every place in line moved up
                    mine = True
                else:
                    mine = False
                    where = 0 if job.state == "running" else self._queue.index(job) + 1
                if not mine and should_stop is not None and should_stop():
                    self._leave(job, me)
                    raise JobCancelled("stopped while waiting for a free worker")
                if not mine:
                    if where != told and on_wait is not None:
                        told = where
                        on_wait(where)
                    self._cond.wait(POLL)
                    continue
            if on_wait is not None and told != 0:
                on_wait(0)
            self._execute(job)
            break
        if job.error is not None:
            raise job.error
        return job.result

    def _leave(self, job: _Job, me: _Caller) -> None:
        """(Under the lock.) A waiting caller leaves; a queued job nobody waits for leaves the line."""
        me.left = True
        if job.state == "queued" and all(c.left for c in job.callers):
            self._queue.remove(job)
            del self._jobs[job.key]
            self._cond.notify_all()

    def _execute(self, job: _Job) -> None:
        try:
            slot = self._slot(job)
            if slot is None:  # every caller stopped while another process held the slots
                raise JobCancelled("stopped while waiting for a free worker")
            try:
                result = job.cached() if job.cached is not None else None
                if result is None:
                    with self._cond:
                        self.computed += 1
                    self._inside.job = job
                    try:
                        result = job.compute(job.report, job.stopping)
                    finally:
                        self._inside.job = None
                job.result = result
            finally:
                fcntl.flock(slot, fcntl.LOCK_UN)
                os.close(slot)
        except BaseException as exc:  # every caller of the job gets the same error
            job.error = exc
        finally:
            with self._cond:
                self._running -= 1
                job.state = "done"
                self._jobs.pop(job.key, None)
                job.done.set()
                self._cond.notify_all()
            from explorer.memory import trim_freed_memory

            trim_freed_memory()

    def _slot(self, job: _Job) -> int | None:
        """An exclusive lock on one of the slot files (other processes may hold the rest); None if stopped."""
        self.slots_dir.mkdir(parents=True, exist_ok=True)
        while True:
            for i in range(self.slots):
                fd = os.open(self.slots_dir / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o666)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except OSError:
                    os.close(fd)
            if job.stopping():
                return None
            time.sleep(POLL)


_pool: JobPool | None = None
_pool_lock = threading.Lock()


def pool() -> JobPool:
    """The process's pool, made on first use from the environment."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = JobPool()
        return _pool


def set_pool(new: JobPool | None) -> JobPool | None:
    """Replace the process's pool (tests, and a server that sizes it itself); returns the old one."""
    global _pool
    with _pool_lock:
        old, _pool = _pool, new
        return old
