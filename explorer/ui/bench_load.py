"""Load benchmark: what N people using one `python -m explorer serve` at once do to each other.

The benchmark starts the server itself (`python -m explorer serve --port P --address 127.0.0.1`, canvas
plots: EXPLORER_WEBGL=0, a fresh table cache: EXPLORER_CACHE_DIR in a temporary folder, so the first
length-6 enumeration really enumerates) and talks to it only on 127.0.0.1. For each level N it

1. lets N sessions arrive, spread evenly over ARRIVAL_WINDOW_S (10 s): one probe, a few Chromium pages,
   and Bokeh client sessions (`bokeh.client.pull_session`) on /priors, /programs?max_length=6 and /neural.
   A client's clock runs from the start of its pull to the moment the whole document is in the client
   (the server created the document, serialised it and sent it). A Chromium page's clock is the page's
   own `performance.now()` (zero at navigation start) at the first animation frame after a Bokeh canvas
   is visible: the HTML request (which creates the document on the server), Bokeh's scripts, the
   websocket and the render. Both are reported, each under its own name: a pull measures the server's
   part of a first canvas, not the browser's.
2. for `duration` seconds lets every /priors client but the probe move a weight slider every `pace` s
   (each at its own phase), while the probe moves the "Average-compute weight" slider at the same pace and
   times each move from the moment the changed value is handed to its websocket to the first document
   change the server sends back (first) and to the last one before its next move (complete). Busy
   indicators (css_classes) are not counted, as in explorer/bench_browser.py. The ratio is to the p50 of
   the single-user level (N = 1) of the same run.
3. midway opens a newcomer's page on /priors (a fresh Chromium context; a client session with
   --no-browser) and times its first canvas.
4. samples the server's memory (VmRSS of the wrapper and every process under it) every RSS_INTERVAL_S.

A Bokeh client session does what a browser does for the server: after pulling the document it sends
the DocumentReady event a browser sends once it has rendered (Panel runs its onload callbacks and starts
periodic callbacks only then), and it sends slider values and button clicks as patches. It does not
render, so it costs the machine less than a page; but it does deserialise every update, on the same
cores as the server, and the report states the CPU seconds the load generator and the server used.

Then: SEQUENTIAL sessions opened and closed one after another (the server's memory after the first
and after the last, once Bokeh has discarded them), and with `enumerations=K` a separate scenario on a
fresh server: K length-6 enumerations started at once, the peak memory, and the /priors probe's
latency meanwhile against its own latency alone on that server. Finally the ERROR and Traceback lines
of the server's log.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from explorer.bench_browser import CHROMIUM, CHROMIUM_ARGS, _free_port

#: People arriving at once arrive within this window (the issue's "N people arriving within 10 s").
ARRIVAL_WINDOW_S = 10.0
#: Target: every arrival has its first canvas within this many seconds at N = 20.
ARRIVAL_TARGET_S = 15.0
ARRIVAL_TARGET_N = 20
#: Target: 30 sessions opened and closed one after another grow the server by less than this.
SEQUENTIAL_TARGET_MB = 100.0
#: Longest wait for one session's document, one page's canvas, one slider's first reply.
READY_TIMEOUT_S = 90.0
REPLY_TIMEOUT_S = 60.0
#: Seconds between memory samples.
RSS_INTERVAL_S = 0.5
#: After sessions close, Bokeh discards them at its next unused-session check (every 17 s, once a
#: session has been unused for 15 s): wait this long before reading the memory "after all closed".
DISCARD_WAIT_S = 35.0
#: The probe's slider, and the title of the sliders the other /priors sessions move.
PROBE_SLIDER = "Average-compute weight"
MOVER_SLIDERS = ("Average-compute weight", "Max-compute weight", "Simplicity weight (per bit)")
SLIDER_STEP = 0.05
#: The links the sessions open. /neural trains 200 steps when its Start is pressed (a short run).
PROGRAMS_ARGS = {"max_length": "6"}
NEURAL_ARGS = {"steps": "200"}
#: What a page's status says while its job waits for a worker (the neural page's "Waiting for a free
#: worker", a job pool's "2nd in line"), while it works ("Measuring: 3 of 40 chunks", "Training: step 41 of
#: at most 200") and once it is done (the programs page's summary, the neural page's "Done in 1.4 s").
#: Specific phrases, not words: the story beside each page is full of "training".
WAITING = re.compile(r"Waiting for a free worker|\bin line\b|\bqueued\b", re.I)
WORKING = re.compile(r"Measuring: \d|\bstep [\d,]+ of at most")
_TAG = r"(?:&lt;/strong&gt;|</strong>|\*\*)?"
DONE = re.compile(rf"are correct on every training input:|\bDone{_TAG} in [\d.]+ s|(?:Stopped|Diverged|Failed){_TAG} after")
#: Lines of the server's log that count as errors.
ERROR_LINE = re.compile(r"\bERROR\b|^Traceback|Exception in callback|Error:", re.M)
#: Installed in every page before its scripts run: at each animation frame, look for a canvas with a size
#: (inside Bokeh's shadow roots too); the frame after the first one is found is the first painted canvas,
#: kept in the page's own clock (performance.now(): zero at navigation start), so the time does not depend
#: on when the benchmark asks for it.
_FIRST_CANVAS = """(() => {
  const found = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'CANVAS' && el.width > 0 && el.height > 0) return true;
      if (el.shadowRoot && found(el.shadowRoot)) return true;
    }
    return false;
  };
  const look = () => {
    if (document.body && found(document)) {
      requestAnimationFrame(() => { window.__firstCanvas = performance.now(); });
    } else {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
})();"""


# ---- pure pieces --------------------------------------------------------------------------------------

def percentile(values: Iterable[float], q: float) -> float:
    """numpy's q-th percentile (0..100), NaN for no values (a level where nothing was measured)."""
    xs = list(values)
    return float(np.percentile(xs, q)) if xs else math.nan


def _tree(pid: int) -> list[psutil.Process]:
    """`pid` and every process under it (the `serve` wrapper, the panel server, its forks), as far as they live."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _tree_sum(pid: int, measure: Callable[[psutil.Process], float]) -> float:
    total = 0.0
    for p in _tree(pid):
        with contextlib.suppress(psutil.Error):  # gone meanwhile, or a zombie
            total += measure(p)
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, in MB (10**6 bytes)."""
    return _tree_sum(pid, lambda p: p.memory_info().rss) / 1e6


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its living descendants."""
    return _tree_sum(pid, lambda p: p.cpu_times().user + p.cpu_times().system)


def tree_threads(pid: int) -> int:
    """Threads of `pid` and its descendants."""
    return int(_tree_sum(pid, lambda p: p.num_threads()))


def log_errors(text: str, first: int = 5) -> dict[str, Any]:
    """The error lines of a server log: their count and the first few (a Traceback counts once, by its
    first line, plus its last line: the exception)."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if ERROR_LINE.search(line):
            shown = line.strip()
            if line.startswith("Traceback"):
                j, where = i + 1, ""
                while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
                    if lines[j].lstrip().startswith("File "):
                        where = lines[j].strip()
                    j += 1
                if where:
                    shown += " ... " + where
                if j < len(lines):
                    shown += " ... " + lines[j].strip()
            found.append(shown[:400])
    return {"count": len(found), "first": found[:first]}


def status_phase(texts: Iterable[str]) -> str | None:
    """What a page's texts say its job is doing: "waiting", "working", "done" (None: none of these)."""
    joined = "\n".join(texts)
    if WAITING.search(joined):
        return "waiting"
    if WORKING.search(joined):
        return "working"
    if DONE.search(joined):
        return "done"
    return None


def composition(n: int, browser_pages: int, mix: float) -> dict[str, int]:
    """The N sessions of a level: one /priors probe, /programs and /neural sessions (each a `mix` share,
    rounded down), up to `browser_pages` Chromium pages on /priors, and /priors clients moving sliders."""
    if n < 1:
        raise ValueError("a level has at least one session (the probe)")
    programs = neural = int(n * mix)
    if 1 + programs + neural > n:
        programs = neural = (n - 1) // 2
    browser = max(0, min(browser_pages, n - 1 - programs - neural))
    return {"probe": 1, "programs": programs, "neural": neural, "browser": browser,
            "movers": n - 1 - programs - neural - browser}


def summary(values: list[float]) -> dict[str, Any]:
    """p50, p95, max and count of a list of numbers (NaN where empty)."""
    return {"count": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else math.nan}


# ---- the server --------------------------------------------------------------------------------------

class Server:
    """`python -m explorer serve` on a free port of 127.0.0.1, its log captured, in its own process
    group so that stopping it stops the panel server under the wrapper too."""

    def __init__(self, port: int | None = None, num_procs: int = 1):
        self.port = port or _free_port()
        self.num_procs = num_procs  # serve --num-procs: RSS is then summed over processes that share pages
        self.base = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="explorer-load-")
        self.log_path = Path(self._dir.name) / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> Server:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "EXPLORER_WEBGL": "0",
               "EXPLORER_CACHE_DIR": str(Path(self._dir.name) / "cache")}
        cmd = [sys.executable, "-m", "explorer", "serve", "--port", str(self.port), "--address", "127.0.0.1"]
        if self.num_procs > 1:
            cmd += ["--num-procs", str(self.num_procs)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:  # the site index: served by the same process, and it creates no session
                urllib.request.urlopen(self.base + "/", timeout=30).read()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not start; its log:\n{self.log()[-2000:]}")
                time.sleep(0.5)

    def rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid) if self.proc and self.proc.poll() is None else math.nan

    def cpu_s(self) -> float:
        return tree_cpu_s(self.proc.pid) if self.proc and self.proc.poll() is None else math.nan

    def threads(self) -> int:
        return tree_threads(self.proc.pid) if self.proc and self.proc.poll() is None else 0

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL to it 10 s later if anything is left."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the panel server, if the wrapper left it behind
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)

    def cleanup(self) -> None:
        self._dir.cleanup()


class RssSampler:
    """Samples the server's memory on a thread; `peak()` since the last `reset()`."""

    def __init__(self, server: Server):
        self.server = server
        self._peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(RSS_INTERVAL_S):
            rss = self.server.rss_mb()
            if rss == rss:  # not NaN
                self._peak = max(self._peak, rss)

    def reset(self) -> None:
        self._peak = self.server.rss_mb()

    def peak(self) -> float:
        return max(self._peak, self.server.rss_mb())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# ---- Bokeh client sessions -----------------------------------------------------------------------------

def _prepare_clients() -> None:
    """Ready this process for Bokeh client sessions of Panel apps.

    The client must know Panel's model types to read a Panel document. And Bokeh's client opens its
    websocket with Tornado's default limits (20 s to connect, 20 s for the upgrade): a browser waits for
    a slow server as long as it takes, so here the client waits as long as a page is given (READY_TIMEOUT_S);
    otherwise an overloaded server would count as a failed arrival where a browser would only be slow.
    """
    import functools

    import bokeh.client.connection as connection
    from tornado.httpclient import HTTPRequest

    connection.HTTPRequest = functools.partial(HTTPRequest, connect_timeout=READY_TIMEOUT_S,
                                               request_timeout=READY_TIMEOUT_S)
    import panel  # noqa: F401
    import panel.models  # noqa: F401
    import panel.models.location  # noqa: F401
    import panel.models.markup  # noqa: F401
    import panel.models.tabulator  # noqa: F401
    import panel.models.widgets  # noqa: F401


class Client:
    """One Bokeh client session on its own thread and event loop: a person's page without a browser."""

    def __init__(self, base: str, app: str, args: dict[str, str] | None = None):
        self.url = f"{base}/{app}"
        self.app = app
        self.kind = app  # what the level uses it for: probe, mover, programs, neural, newcomer
        self.args = dict(args or {})
        self.session = None
        self.ready = threading.Event()
        self.ready_s = math.nan  # pull start -> whole document in the client
        self.error = ""
        self.started = math.nan
        self.changes: list[tuple[float, str]] = []  # (time, attr) of changes the server sent since the last move
        self.replied = threading.Event()
        self.moved_at = math.nan
        self.recording = False
        self.phase_times: dict[str, float] = {}  # first time the page's status said "waiting"/"working"/"done"
        self.clicked_at = math.nan
        self.last_change = math.nan  # when the server last changed the document
        self._moves = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"client-{app}")

    def start(self) -> Client:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        from bokeh.client import pull_session

        try:
            self.session = pull_session(url=self.url, arguments=self.args or None)
            self.ready_s = time.monotonic() - self.started
            doc = self.session.document
            self._send_event(self._document_ready())  # what a browser sends once it has rendered
            self._note_phase()
            doc.on_change(self._changed)
        except Exception as exc:  # noqa: BLE001 - reported as this session's error
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()
            return
        self.ready.set()
        try:
            connection = self.session._connection
            connection._loop.run_sync(self._pump)
        except Exception as exc:  # noqa: BLE001
            self.error = self.error or f"{type(exc).__name__}: {exc}"

    async def _pump(self) -> None:
        """Apply the server's patches until the connection closes. Bokeh's own `loop_until_closed` awaits
        itself once per message (ClientConnection._handle_messages -> _next), so a session that receives a
        few hundred messages (a probe's replies, a measurement's progress) dies of a RecursionError; this
        loop reads the same messages with the same private calls, without the recursion."""
        connection = self.session._connection
        while True:
            message = await connection._pop_message()
            if message is None:  # closed, by us or by the server
                return
            if message.msgtype == "PATCH-DOC":
                self.session._handle_patch(message)

    @staticmethod
    def _document_ready():
        from bokeh.events import DocumentReady

        return DocumentReady()

    def _send_event(self, event) -> None:
        from bokeh.document.events import MessageSentEvent

        doc = self.session.document
        doc.callbacks.trigger_on_change(MessageSentEvent(doc, "bokeh_event", event))

    def _texts(self) -> list[str]:
        from panel.models.markup import HTML

        return [m.text or "" for m in self.session.document.models if isinstance(m, HTML)]

    def _note_phase(self) -> None:
        phase = status_phase(self._texts())
        if phase is not None and phase not in self.phase_times:
            self.phase_times[phase] = time.monotonic()

    def _changed(self, event) -> None:
        if getattr(event, "setter", None) is not self.session:  # our own change, not the server's
            return
        attr = getattr(event, "attr", "") or type(event).__name__
        if attr == "css_classes":  # busy and loading indicators, not the update
            return
        self.last_change = time.monotonic()
        if self.recording:
            self.changes.append((time.monotonic(), attr))
            self.replied.set()
        if attr == "text":
            self._note_phase()

    def settle(self, quiet: float = 1.0, timeout: float = 15.0) -> None:
        """Wait until the server has sent nothing for `quiet` s (what a page's onload callbacks send after
        DocumentReady would otherwise count as the reply to the first move), at most `timeout` s."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            last = self.last_change if self.last_change == self.last_change else self.started + self.ready_s
            if time.monotonic() - last >= quiet:
                return
            time.sleep(0.05)

    def call(self, fn: Callable[[], None]) -> None:
        """Run `fn` on this session's event loop (the only thread that may touch its document)."""
        if self.session is not None and not self.error:
            self.session._connection._loop.add_callback(fn)

    def slider(self, title: str):
        from bokeh.models import Slider

        for m in self.session.document.models:
            if isinstance(m, Slider) and m.title == title:
                return m
        raise RuntimeError(f"no slider titled {title!r} on {self.app}")

    def move(self, title: str, record: bool = False) -> None:
        """Move the slider `title` by one step, up and down by turns (as the browser benchmark's keys do)."""
        if record:  # here, not on the loop: whoever waits for the reply must not see the last move's
            self.recording = False
            self.replied.clear()
        self._moves += 1
        up = self._moves % 2 == 1

        def act():
            slider = self.slider(title)
            if record:
                self.changes = []
                self.moved_at = time.monotonic()
                self.recording = True
            value = slider.value + (SLIDER_STEP if up else -SLIDER_STEP)
            slider.value = min(slider.end, max(slider.start, round(value, 6)))

        self.call(act)

    def click(self, label: str) -> None:
        """Press the button labelled `label`, as a browser's click event."""

        def act():
            from bokeh.events import ButtonClick
            from bokeh.models import Button

            button = next(m for m in self.session.document.models if isinstance(m, Button) and m.label == label)
            self.clicked_at = time.monotonic()
            self._send_event(ButtonClick(button))

        self.call(act)

    def close(self, timeout: float = 10.0) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session._connection._loop.add_callback(self.session.close)
        self._thread.join(timeout)


# ---- Chromium pages ---------------------------------------------------------------------------------------

class Browser:
    """Headless Chromium (Debian's), one fresh context per page: a person opening the app."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        if not os.path.exists(CHROMIUM):
            from explorer.errors import ExplorerError

            raise ExplorerError(f"the load benchmark's pages need Debian's chromium at {CHROMIUM} "
                                "(apt-get install chromium), or --no-browser")
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.pages: list = []

    def open(self, url: str):
        """Start loading `url` in a fresh context without waiting for it (the navigation is the page's own,
        so the benchmark goes on driving the other sessions); returns the page, or an error string."""
        try:
            context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(_FIRST_CANVAS)
            page = context.new_page()
            page.set_default_timeout(READY_TIMEOUT_S * 1000)
            self.pages.append(page)
            page.evaluate("url => { window.location.href = url; }", url)
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__}: {str(exc)[:200]}"
        return page

    @staticmethod
    def painted_s(page) -> float | None:
        """The page's first painted canvas in seconds from its navigation start, None while there is none."""
        try:
            ms = page.evaluate("() => window.__firstCanvas ?? null")
        except Exception:  # noqa: BLE001 - the navigation replaced the context under way
            return None
        return None if ms is None else ms / 1000.0

    @classmethod
    def first_canvas_s(cls, page, timeout: float = READY_TIMEOUT_S) -> float:
        """Wait (at most `timeout` s) for the page's first painted canvas; seconds from its navigation start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = cls.painted_s(page)
            if t is not None:
                return t
            time.sleep(0.1)
        raise TimeoutError(f"no canvas painted within {timeout:.0f} s")

    def close_page(self, page) -> None:
        with contextlib.suppress(Exception):
            page.context.close()
        with contextlib.suppress(ValueError):
            self.pages.remove(page)

    def close(self) -> None:
        for page in list(self.pages):
            self.close_page(page)
        with contextlib.suppress(Exception):
            self.browser.close()
        with contextlib.suppress(Exception):
            self._pw.stop()


# ---- scenarios ----------------------------------------------------------------------------------------

class _Say:
    def __init__(self, progress: bool):
        self.progress = progress
        self.t0 = time.monotonic()

    def __call__(self, text: str) -> None:
        if self.progress:
            print(f"[load {time.monotonic() - self.t0:6.1f} s] {text}", file=sys.stderr, flush=True)


def _wait_ready(clients: list[Client]) -> None:
    """Wait for each client's document, at most READY_TIMEOUT_S from its own start."""
    for c in clients:
        c.ready.wait(max(0.0, c.started + READY_TIMEOUT_S - time.monotonic()))


def _probe_moves(probe: Client, pace: float, until: float, tick: Callable[[], None] | None = None) -> dict[str, Any]:
    """Move the probe's slider every `pace` s until `until` (at least once); each move's first and complete
    reply in ms. `tick` runs every 50 ms meanwhile (the other sessions' moves, the newcomer)."""
    first, complete, timeouts = [], [], 0
    first_attrs: dict[str, int] = {}  # which property the server changed first, by count

    def idle(seconds: float, stop: Callable[[], bool] = lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not stop():
            if tick:
                tick()
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    while not probe.error and (time.monotonic() + pace <= until or not (first or timeouts)):
        probe.move(PROBE_SLIDER, record=True)
        t_next = time.monotonic() + pace
        idle(REPLY_TIMEOUT_S, probe.replied.is_set)
        if not probe.replied.is_set():
            timeouts += 1
            probe.recording = False
            continue
        idle(t_next - time.monotonic())  # the rest of the pace: the update's later parts arrive meanwhile
        probe.recording = False
        changes, t0 = list(probe.changes), probe.moved_at
        if changes:
            first.append((changes[0][0] - t0) * 1000)
            complete.append((changes[-1][0] - t0) * 1000)
            first_attrs[changes[0][1]] = first_attrs.get(changes[0][1], 0) + 1
    return {"first_ms": summary(first), "complete_ms": summary(complete), "timeouts": timeouts, "first_attrs": first_attrs,
            "first_values_ms": [round(x, 1) for x in first], "complete_values_ms": [round(x, 1) for x in complete]}


class _Movers:
    """The background /priors sessions, each moving a slider every `pace` s at its own phase."""

    def __init__(self, clients: list[Client], pace: float, seed: int):
        rng = random.Random(seed)
        now = time.monotonic()
        self.pace = pace
        self.plan = [(c, MOVER_SLIDERS[i % len(MOVER_SLIDERS)], now + rng.uniform(0, pace)) for i, c in enumerate(clients)]
        self.moves = 0

    def tick(self) -> None:
        now = time.monotonic()
        for i, (c, title, due) in enumerate(self.plan):
            if now >= due and c.ready.is_set() and not c.error:
                c.move(title)
                self.moves += 1
                self.plan[i] = (c, title, due + self.pace * max(1, math.ceil((now - due) / self.pace + 1e-9)))


def _job_waits(clients: list[Client]) -> list[dict[str, Any]]:
    """Per /programs or /neural session: when its job started (the page opened, or Start was pressed),
    how long its status said it waited, and how long until it said done (NaN: not within the level)."""
    out = []
    for c in clients:
        start = c.clicked_at if c.app == "neural" else c.started + c.ready_s
        times = dict(c.phase_times)
        began = min((times[k] for k in ("working", "done") if k in times), default=math.nan)
        out.append({"app": c.app, "ready_s": c.ready_s, "saw_waiting": "waiting" in times,
                    "wait_s": max(0.0, began - start) if began == began else math.nan,
                    "done_s": times["done"] - start if "done" in times and start == start else math.nan,
                    "error": c.error})
    return out


def run_level(server: Server, sampler: RssSampler, n: int, *, pace: float, duration: float,
              browser: Browser | None, browser_pages: int, mix: float, say: _Say, seed: int = 0) -> dict[str, Any]:
    """One level of N sessions: arrivals, then `duration` s of slider moves with the probe and a newcomer."""
    comp = composition(n, browser_pages if browser else 0, mix)
    rss_before = server.rss_mb()
    sampler.reset()
    cpu0_server, cpu0_self = server.cpu_s(), time.process_time()
    kinds = (["probe"] + ["programs"] * comp["programs"] + ["neural"] * comp["neural"]
             + ["browser"] * comp["browser"] + ["mover"] * comp["movers"])
    rest = kinds[1:]
    random.Random(seed).shuffle(rest)
    kinds = [kinds[0], *rest]
    say(f"N={n}: {comp}; arriving over {ARRIVAL_WINDOW_S:.0f} s")
    clients: list[Client] = []
    pages: list = []
    t_arrive = time.monotonic()
    try:
        for i, kind in enumerate(kinds):
            due = t_arrive + i * ARRIVAL_WINDOW_S / n
            while time.monotonic() < due:
                time.sleep(0.01)
            if kind == "browser":
                pages.append((time.monotonic(), browser.open(f"{server.base}/priors")))
                continue
            app, args = {"programs": ("programs", PROGRAMS_ARGS), "neural": ("neural", NEURAL_ARGS)}.get(kind, ("priors", {}))
            c = Client(server.base, app, args)
            c.kind = kind
            clients.append(c.start())
        page_times, page_errors = [], []
        for opened, page in pages:  # each page's time is its own clock's: how late it is read does not matter
            if isinstance(page, str):
                page_errors.append(page)
                continue
            try:
                page_times.append(Browser.first_canvas_s(page, max(1.0, opened + READY_TIMEOUT_S - time.monotonic())))
            except Exception as exc:  # noqa: BLE001
                page_errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        _wait_ready(clients)
        arrival_span = time.monotonic() - t_arrive
        priors = [c for c in clients if c.app == "priors"]
        pulls = [c.ready_s for c in priors if c.ready.is_set() and not c.error and c.ready_s == c.ready_s]
        errors = [f"{c.app}: {c.error}" for c in clients if c.error]
        errors += [f"{c.app}: no document within {READY_TIMEOUT_S:.0f} s" for c in clients if not c.ready.is_set()]
        say(f"N={n}: arrived in {arrival_span:.1f} s; slowest pull {max(pulls, default=math.nan):.2f} s, "
            f"slowest page {max(page_times, default=math.nan):.2f} s")
        for c in clients:
            if c.app == "neural" and c.ready.is_set() and not c.error:
                c.click("Start")
        probe = clients[0]
        probe.settle()
        movers = _Movers([c for c in priors if c.kind == "mover"], pace, seed)
        t_end = time.monotonic() + duration
        newcomer: list[Newcomer] = []

        def tick():
            movers.tick()
            if not newcomer and time.monotonic() >= t_end - duration / 2:
                newcomer.append(Newcomer(server, browser))
            if newcomer:
                newcomer[0].poll()

        probe_result = _probe_moves(probe, pace, t_end, tick) if not probe.error else {"error": probe.error}
        if not newcomer:
            newcomer.append(Newcomer(server, browser))
        while not newcomer[0].poll():  # the others go on moving until the newcomer has its canvas
            tick()
            time.sleep(0.05)
        newcomer_result = newcomer[0].result
        say(f"N={n}: newcomer {newcomer_result['seconds']:.2f} s {newcomer_result['error']}")
        rss_live = server.rss_mb()
        jobs = _job_waits([c for c in clients if c.app in ("programs", "neural")])
        peak = sampler.peak()
        threads = server.threads()
    finally:
        for c in clients:
            c.close()
        if browser:
            for _, page in pages:
                if not isinstance(page, str):
                    browser.close_page(page)
    cpu_server, cpu_self = server.cpu_s() - cpu0_server, time.process_time() - cpu0_self
    say(f"N={n}: probe p50 {probe_result.get('first_ms', {}).get('p50', math.nan):.0f} ms; "
        f"RSS {rss_before:.0f} -> {rss_live:.0f} MB (peak {peak:.0f})")
    return {
        "n": n, "composition": comp,
        "arrival": {"window_s": ARRIVAL_WINDOW_S, "span_s": arrival_span,
                    "pull": {"kind": "bokeh client session, /priors: pull start to whole document", **summary(pulls)},
                    "browser": {"kind": "chromium page, /priors: navigation to first painted canvas", **summary(page_times),
                                "errors": page_errors},
                    "errors": errors},
        "newcomer": newcomer_result,
        "probe": probe_result,
        "slider_moves_by_others": movers.moves,
        "jobs": jobs,
        "rss_mb": {"before": rss_before, "live": rss_live, "peak": peak,
                   "per_session": (rss_live - rss_before) / n},
        "server_threads": threads,
        "cpu_s": {"server": cpu_server, "load_generator": cpu_self},
    }


class Newcomer:
    """A fresh page on /priors while the level's sessions are live: its first painted canvas (Chromium), or
    its pulled document (a client session, with --no-browser). Started, then polled: never blocks."""

    def __init__(self, server: Server, browser: Browser | None):
        self.browser = browser
        self.started = time.monotonic()
        self.result: dict[str, Any] | None = None
        if browser is None:
            self.client = Client(server.base, "priors").start()
            self.kind = "bokeh client session: pull start to whole document"
        else:
            self.page = browser.open(f"{server.base}/priors")
            self.kind = "chromium page: navigation to first painted canvas"

    def poll(self) -> bool:
        """True once the result is in (or the wait has timed out)."""
        if self.result is not None:
            return True
        late = time.monotonic() - self.started > READY_TIMEOUT_S
        if self.browser is None:
            if self.client.ready.is_set() or late:
                err = self.client.error or ("" if self.client.ready.is_set() else "timed out")
                self.result = {"kind": self.kind, "seconds": self.client.ready_s, "error": err}
                self.client.close()
        elif isinstance(self.page, str):
            self.result = {"kind": self.kind, "seconds": math.nan, "error": self.page}
        else:
            t = Browser.painted_s(self.page)
            if t is not None or late:
                self.result = {"kind": self.kind, "seconds": math.nan if t is None else t,
                               "error": "" if t is not None else "timed out"}
                self.browser.close_page(self.page)
        return self.result is not None

    def wait(self) -> dict[str, Any]:
        while not self.poll():
            time.sleep(0.1)
        return self.result


def run_sequential(server: Server, count: int, say: _Say, discard_wait: float = DISCARD_WAIT_S) -> dict[str, Any]:
    """`count` /priors sessions opened and closed one after another; the server's memory after the first
    is discarded and after the last is."""
    say(f"{count} sessions one after another")
    before = server.rss_mb()
    after_first = math.nan
    errors = []
    for i in range(count):
        c = Client(server.base, "priors").start()
        if not c.ready.wait(READY_TIMEOUT_S) or c.error:
            errors.append(c.error or "no document")
        c.close()
        if i == 0:
            time.sleep(discard_wait)  # until Bokeh has discarded it, as after the last
            after_first = server.rss_mb()
    time.sleep(discard_wait)
    after_all = server.rss_mb()
    growth = after_all - after_first
    say(f"sequential: {after_first:.0f} MB after the first, {after_all:.0f} MB after all {count}")
    return {"sessions": count, "rss_before_mb": before, "rss_after_first_mb": after_first, "rss_after_all_mb": after_all,
            "growth_mb": growth, "target_mb": SEQUENTIAL_TARGET_MB, "target_met": bool(growth < SEQUENTIAL_TARGET_MB),
            "discard_wait_s": discard_wait, "errors": errors}


def run_enumerations(k: int, pace: float, duration: float, port: int | None, say: _Say,
                     timeout: float = 600.0, num_procs: int = 1) -> dict[str, Any]:
    """On a fresh server with an empty table cache: the /priors probe alone for `duration` s, then K
    /programs sessions at length 6 opened at once; the probe moves on until all K are done (or `timeout`)."""
    server = Server(port, num_procs)
    clients: list[Client] = []
    sampler = None
    try:
        server.start()
        sampler = RssSampler(server)
        probe = Client(server.base, "priors").start()
        probe.ready.wait(READY_TIMEOUT_S)
        if probe.error or not probe.ready.is_set():
            raise RuntimeError(f"the probe did not open /priors: {probe.error or 'timed out'}")
        probe.settle()
        say(f"enumerations: the probe alone for {duration:.0f} s")
        alone = _probe_moves(probe, pace, time.monotonic() + duration)
        rss_before = server.rss_mb()
        sampler.reset()
        say(f"enumerations: {k} sessions on /programs?max_length=6 at once")
        t0 = time.monotonic()
        clients = [Client(server.base, "programs", PROGRAMS_ARGS).start() for _ in range(k)]
        stop_at = t0 + timeout

        def all_done() -> bool:
            return all(c.error or "done" in c.phase_times for c in clients if c.ready.is_set()) and all(
                c.ready.is_set() for c in clients)

        during = {"first_values_ms": [], "complete_values_ms": [], "timeouts": 0}
        while not all_done() and time.monotonic() < stop_at:
            part = _probe_moves(probe, pace, time.monotonic() + pace)
            for key in ("first_values_ms", "complete_values_ms"):
                during[key] += part[key]
            during["timeouts"] += part["timeouts"]
        span = time.monotonic() - t0
        jobs = _job_waits(clients)
        peak = sampler.peak()
        base = alone["first_ms"]["p50"]
        first = summary(during["first_values_ms"])
        say(f"enumerations: {span:.0f} s, peak RSS {peak:.0f} MB, probe p95 {first['p95']:.0f} ms")
        return {"k": k, "span_s": span, "all_done": all_done(), "rss_before_mb": rss_before, "peak_rss_mb": peak,
                "probe_alone": alone, "probe_during": {"first_ms": first, "complete_ms": summary(during["complete_values_ms"]),
                                                       "timeouts": during["timeouts"]},
                "p50_ratio": first["p50"] / base if base else math.nan,
                "p95_ratio": first["p95"] / base if base else math.nan,
                "jobs": jobs, "server_log_errors": log_errors(server.log())}
    finally:
        for c in clients:
            c.close()
        if sampler:
            sampler.stop()
        server.stop()
        server.cleanup()


def run(sessions=(1, 5, 10, 20), pace: float = 2.0, duration: float = 20.0, port: int | None = None,
        browser: bool = True, browser_pages: int = 2, mix: float = 0.1, sequential: int = 30,
        enumerations: int = 0, discard_wait: float = DISCARD_WAIT_S, server_log: str | None = None,
        progress: bool = True, num_procs: int = 1) -> dict[str, Any]:
    """The whole benchmark in one run; returns a JSON-able dict (see the module docstring)."""
    from explorer.bench_machine import machine

    _prepare_clients()
    say = _Say(progress)
    sessions = [int(n) for n in sessions]
    if any(n < 1 for n in sessions):
        from explorer.errors import ExplorerError

        raise ExplorerError(f"--sessions: every level needs at least 1 session, got {sessions}")
    report: dict[str, Any] = {
        "machine": machine(), "server_omp_threads": 1, "webgl": False,
        "options": {"sessions": sessions, "pace_s": pace, "duration_s": duration, "browser": browser,
                    "browser_pages": browser_pages, "mix": mix, "sequential": sequential, "enumerations": enumerations,
                    "discard_wait_s": discard_wait, "num_procs": num_procs},
        "targets": {"arrival_s": ARRIVAL_TARGET_S, "arrival_n": ARRIVAL_TARGET_N, "sequential_mb": SEQUENTIAL_TARGET_MB},
    }
    levels = sorted(set(sessions))
    if 1 not in levels:
        levels = [1, *levels]  # the single-user baseline the ratios divide by
    chromium = None
    server = Server(port, num_procs)
    sampler = None
    try:
        say("starting the server")
        server.start()
        report["port"] = server.port
        sampler = RssSampler(server)
        if browser:
            chromium = Browser()
        warm = Client(server.base, "priors").start()  # first imports and caches, outside every level
        warm.ready.wait(READY_TIMEOUT_S)
        warm.close()
        time.sleep(1)
        report["rss_idle_mb"] = server.rss_mb()
        report["levels"] = []
        for n in levels:
            report["levels"].append(run_level(server, sampler, n, pace=pace, duration=duration, browser=chromium,
                                              browser_pages=browser_pages, mix=mix, say=say, seed=n))
        base = report["levels"][0]["probe"].get("first_ms", {}).get("p50", math.nan)
        base_complete = report["levels"][0]["probe"].get("complete_ms", {}).get("p50", math.nan)
        for level in report["levels"]:
            p = level["probe"]
            if "first_ms" in p:
                p["ratio_p50"] = p["first_ms"]["p50"] / base
                p["ratio_p95"] = p["first_ms"]["p95"] / base
                p["complete_ratio_p95"] = p["complete_ms"]["p95"] / base_complete
        report["single_user_p50_ms"] = base
        if chromium:
            chromium.close()
            chromium = None
        if sequential:
            report["sequential"] = run_sequential(server, sequential, say, discard_wait)
        else:
            time.sleep(discard_wait)
        report["rss_after_all_closed_mb"] = server.rss_mb()
        report["server_threads_after"] = server.threads()
    finally:
        if chromium:
            chromium.close()
        if sampler:
            sampler.stop()
        server.stop()
        report["server_log_errors"] = log_errors(server.log())
        if server_log:
            Path(server_log).write_text(server.log())
        server.cleanup()
    if enumerations:
        report["enumerations"] = run_enumerations(enumerations, pace, duration, port, say, num_procs=num_procs)
    return report


# ---- the report ---------------------------------------------------------------------------------------

def _f(x, spec=".2f") -> str:
    return "-" if x is None or (isinstance(x, float) and x != x) else format(x, spec)


def format_report(r: dict[str, Any]) -> str:
    m, o = r["machine"], r["options"]
    lines = [
        "Speed Prior Explorer load benchmark: N sessions on one `python -m explorer serve"
        + (f" --num-procs {o['num_procs']}" if o.get("num_procs", 1) > 1 else "") + "` (canvas, no WebGL)",
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); server OMP threads "
        f"{r['server_omp_threads']}; the load generator and Chromium share the cores with the server",
        f"per level: arrivals over {ARRIVAL_WINDOW_S:.0f} s, then {o['duration_s']:.0f} s of slider moves every "
        f"{o['pace_s']:g} s per /priors session; {o['mix']:.0%} each on /programs?max_length=6 and /neural (Start, "
        f"200 steps); up to {o['browser_pages'] if o['browser'] else 0} arrivals are Chromium pages (idle after loading)",
        "kinds: pull = Bokeh client session (server creates + sends the document); page = Chromium, navigation to "
        "first painted canvas",
        "",
        f"server RSS idle (after one warm-up session): {_f(r.get('rss_idle_mb'), '.0f')} MB",
        "",
        f"{'N':>3} {'arrive pull':>11} {'arrive page':>11} {'newcomer':>12} {'probe p50':>9} {'p95':>7} "
        f"{'p50 x1':>6} {'p95 x1':>6} {'complete p95':>12} {'RSS live':>8} {'MB/sess':>7} {'peak':>6} "
        f"{'threads':>7} {'cpu srv/gen':>11}",
        f"{'':>3} {'max s':>11} {'max s':>11} {'s (kind)':>12} {'ms':>9} {'ms':>7} {'':>6} {'':>6} {'ms':>12} "
        f"{'MB':>8} {'':>7} {'MB':>6}",
    ]
    for lv in r.get("levels", []):
        a, p, rss = lv["arrival"], lv["probe"], lv["rss_mb"]
        nc = lv["newcomer"]
        kind = "page" if nc.get("kind", "").startswith("chromium") else "pull"
        lines.append(
            f"{lv['n']:>3} {_f(a['pull']['max']):>11} {_f(a['browser']['max']):>11} "
            f"{_f(nc.get('seconds')) + ' ' + kind:>12} {_f(p.get('first_ms', {}).get('p50'), '.0f'):>9} "
            f"{_f(p.get('first_ms', {}).get('p95'), '.0f'):>7} {_f(p.get('ratio_p50')):>6} {_f(p.get('ratio_p95')):>6} "
            f"{_f(p.get('complete_ms', {}).get('p95'), '.0f'):>12} {_f(rss['live'], '.0f'):>8} "
            f"{_f(rss['per_session'], '.1f'):>7} {_f(rss['peak'], '.0f'):>6} {lv['server_threads']:>7} "
            f"{_f(lv['cpu_s']['server'], '.0f')}/{_f(lv['cpu_s']['load_generator'], '.0f'):>4}")
    lines.append("")
    for lv in r.get("levels", []):
        a = lv["arrival"]
        target = ""
        if lv["n"] >= ARRIVAL_TARGET_N:
            worst = max(x for x in (a["pull"]["max"], a["browser"]["max"]) if x == x) if a["pull"]["count"] else math.nan
            target = f"; target all within {ARRIVAL_TARGET_S:.0f} s: {'met' if worst <= ARRIVAL_TARGET_S else 'missed'}"
        lines.append(f"N={lv['n']}: {lv['composition']}; arrivals: pull p50 {_f(a['pull']['p50'])} s max "
                     f"{_f(a['pull']['max'])} s ({a['pull']['count']}), page p50 {_f(a['browser']['p50'])} s max "
                     f"{_f(a['browser']['max'])} s ({a['browser']['count']}){target}; probe moves "
                     f"{lv['probe'].get('first_ms', {}).get('count', 0)}, timeouts {lv['probe'].get('timeouts', '-')}; "
                     f"others moved {lv['slider_moves_by_others']} times")
        for e in a["errors"] + a["browser"]["errors"] + ([lv["newcomer"]["error"]] if lv["newcomer"].get("error") else []):
            lines.append(f"    error: {e}")
        for j in lv["jobs"]:
            lines.append(f"    /{j['app']}: opened in {_f(j['ready_s'])} s, waited {_f(j['wait_s'])} s "
                         f"({'status said waiting' if j['saw_waiting'] else 'never said waiting'}), done after "
                         f"{_f(j['done_s'], '.1f')} s{'; ' + j['error'] if j['error'] else ''}")
    lines.append(f"single-user probe p50 (the x1 divisor): {_f(r.get('single_user_p50_ms'), '.0f')} ms "
                 "(slider value sent -> first document change back; 'complete' = last change before the next move)")
    s = r.get("sequential")
    if s:
        lines.append(f"{s['sessions']} sessions opened and closed one after another: RSS {_f(s['rss_after_first_mb'], '.0f')} MB "
                     f"after the first, {_f(s['rss_after_all_mb'], '.0f')} MB after all ({_f(s['growth_mb'], '+.0f')} MB; "
                     f"target < {s['target_mb']:.0f} MB: {'met' if s['target_met'] else 'missed'}; each read "
                     f"{s['discard_wait_s']:.0f} s after closing){'; errors: ' + str(len(s['errors'])) if s['errors'] else ''}")
    lines.append(f"server RSS after all sessions closed: {_f(r.get('rss_after_all_closed_mb'), '.0f')} MB; "
                 f"threads {r.get('server_threads_after', '-')}")
    e = r.get("enumerations")
    if e:
        lines.append(f"{e['k']} simultaneous length-6 enumerations (fresh server, empty cache): "
                     f"{'all done' if e['all_done'] else 'NOT all done'} in {e['span_s']:.0f} s; peak RSS "
                     f"{e['peak_rss_mb']:.0f} MB (from {e['rss_before_mb']:.0f}); /priors probe p50 "
                     f"{_f(e['probe_during']['first_ms']['p50'], '.0f')} ms, p95 {_f(e['probe_during']['first_ms']['p95'], '.0f')} ms "
                     f"= {_f(e['p50_ratio'])}x / {_f(e['p95_ratio'])}x its p50 alone "
                     f"({_f(e['probe_alone']['first_ms']['p50'], '.0f')} ms)")
        waits = [j["wait_s"] for j in e["jobs"]]
        dones = [j["done_s"] for j in e["jobs"]]
        lines.append(f"    their waits: max {_f(max(waits, default=math.nan), '.1f')} s; done after: p50 "
                     f"{_f(percentile(dones, 50), '.1f')} s, max {_f(max(dones, default=math.nan), '.1f')} s; "
                     f"server log errors {e['server_log_errors']['count']}")
    le = r.get("server_log_errors", {"count": 0, "first": []})
    lines.append(f"server log: {le['count']} error line(s)")
    lines += [f"    {line}" for line in le["first"]]
    return "\n".join(lines)
