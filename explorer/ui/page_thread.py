"""Handing a worker thread's results to the page.

Long work (regime maps, sweeps, Monte Carlo runs) runs on a worker thread so the page stays live. In a
served session the document may only be changed under its lock, on the server's event loop:
`pn.state.execute(..., schedule=True)` with the session's document current queues the change there
through Bokeh's thread-safe add_next_tick_callback. With no session (a test, a notebook cell run as a
script) the change is simply made at once.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from functools import partial

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from explorer import jobs

log = logging.getLogger(__name__)
_job_ids = itertools.count()


def on_page(doc, callback: Callable[[], None]) -> None:
    """Run `callback` where it may change widgets: here without a session, else on the event loop; not at
    all once the page's session has ended (its job outlived the closed tab: there is nothing to show)."""
    if doc is not None and _ended(doc):
        return
    if doc is None or doc.session_context is None:
        callback()
        return
    with set_curdoc(doc):
        pn.state.execute(partial(_logged, callback), schedule=True)


def _ended(doc) -> bool:
    """Whether Bokeh has destroyed `doc` with its session. Its session context is then None, as in a
    notebook where the change must be made at once, so tell them apart by what destroy removes (its roots):
    a callback run on a destroyed document failed on the worker's thread, on data destroy had cleared."""
    if not isinstance(doc, Document):  # a test's stand-in
        return False
    try:
        doc.roots
    except AttributeError:
        return True
    return False


def _logged(callback: Callable[[], None]) -> None:
    """Run a worker's page callback, logging its traceback: an error on the event loop is otherwise lost,
    and the page would go on saying the work is running."""
    try:
        callback()
    except Exception:
        log.exception("a worker's update of the page failed")
        raise


def progress_reporter(doc, show: Callable[[int, int], None], interval: float = 0.1) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback for a worker thread that hands `show(done, total)` to the page
    at most every `interval` seconds (and always the last one): more often only floods the browser."""
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if doc is None or done == total or now - last[0] >= interval:
            last[0] = now
            on_page(doc, partial(show, done, total))

    return progress


class Worker:
    """A page's background job, one at a time: its thread, the stop flag the job polls, and a wait.

    Every view that computes off the event loop needs these same few steps; `begin()` clears the flag
    for a new job (run here or on the thread), `stop()` asks the job to end at its next check, and
    `stop_with(doc)` makes a closed browser tab ask it too.
    """

    def __init__(self, name: str):
        self.name = name
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None  # the latest job's
        self._running: list[threading.Thread] = []  # every job not yet seen to end (a new one may start before)
        self._watched: weakref.WeakSet = weakref.WeakSet()  # documents whose closing stops it (an id could be reused)

    def begin(self) -> None:
        self.stopping.clear()

    def should_stop(self) -> bool:
        return self.stopping.is_set()

    def start(self, target: Callable[..., object], *args: object) -> None:
        self.thread = threading.Thread(target=target, args=args, daemon=True, name=self.name)
        self._running = [t for t in self._running if t.is_alive()] + [self.thread]
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def stop_with(self, doc, stop: Callable[[], None] | None = None) -> None:
        """Call `stop` (default: this worker's) when the session of `doc` ends; once per document."""
        if doc is None or doc.session_context is None or doc in self._watched:
            return
        self._watched.add(doc)
        doc.on_session_destroyed(lambda context: (stop or self.stop)())

    def pooled(self, compute: Callable[[], object], on_wait: Callable[[int], None] | None = None) -> object:
        """`compute()` on a slot of the server's heavy-job pool (explorer.jobs), after waiting in its line
        (`on_wait(n)` hears the place; JobCancelled if this worker is stopped meanwhile), so a room's
        long jobs take turns on the cores instead of slowing each other and the cheap pages."""
        return jobs.pool().run(("page-job", self.name, next(_job_ids)), lambda progress, should_stop: compute(),
                               should_stop=self.should_stop, on_wait=on_wait)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the jobs under way, an earlier one still ending included (a job that cannot stop half
        way, such as a story's check, runs on after a newer one starts); True if none runs afterwards
        (tests and closing use it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._running:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._running = [t for t in self._running if t.is_alive()]
        return not self._running
