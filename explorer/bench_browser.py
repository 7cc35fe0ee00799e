"""Slider-to-painted-update latency of the priors app, against Panel's own round trip, in one run.

Both pages are served by one `panel serve` process and driven by the same headless Chromium. Two sliders
are moved: a weight (w_avg: the same table, a new selection) and a world setting (misbehaviour_cost:
the server rebuilds the world's table, then selects). In the page, a keydown on a slider handle starts
the clock; every change the server then sends to the Bokeh document is timestamped, and so is the first
animation frame after each change. The latency of one move is the time from the keydown to the frame
after the last change: the moment the whole update is on screen. The floor is Panel's own round trip
(apps/bench/round_trip.py: a slider echoed into a text pane, nothing computed), measured the same way,
so the ratio says what the explorer adds to it. Panel waits out a 50 ms debounce on the server before it
handles a slider event, so neither can beat ~60 ms.

Each move is also split where the page sees it: the slider's message leaving (the keydown's own
handling), the server (from that message leaving to the arrival of the message that carries the update:
Panel's debounce, the explorer's work, sending), and the browser (from that arrival to the painted
frame: applying the patch, scripting, style, layout, paint). `--trace DIR` records a Chromium trace of a
few more moves of each slider and prints where the browser's main thread spent them (explorer.browser_trace).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APPS = [ROOT / "apps" / "priors.py", ROOT / "apps" / "bench" / "round_trip.py"]
CHROMIUM = "/usr/bin/chromium"
# The flags these machines need: no sandbox as root, and no background calls to a network that is closed.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: The sliders moved on the priors page: (flat parameter name, its label on the page).
SLIDERS = {"weight": ("w_avg", "Average-compute weight"), "world": ("misbehaviour_cost", "Goof-off misbehaviour cost")}
#: Median latency targets, as a multiple of Panel's own round trip, by slider and program count.
TARGETS = {("weight", 100_000): 1.5, ("weight", 1_000_000): 2.0, ("world", 100_000): 2.0, ("world", 1_000_000): 2.5}
#: A move is over once nothing has been painted for this long (the busy indicator's css, left out, ends
#: some 500 ms after the update); a move that takes longer than MOVE_LIMIT_MS is an error.
QUIET_MS, MOVE_LIMIT_MS = 600, 20_000

# Installed in the page: timestamps of the keydown, of the slider's message leaving, of each PATCH-DOC
# message from the server arriving (the event's own time stamp: when it reached the page), of each
# document change the server's messages make and of the frame after it, each change and frame tagged
# with how many of those messages had arrived. Style-class toggles are left out: the template's busy
# spinner switches off some 500 ms after the last data arrives, and the update is on screen before that;
# so are changes before the server's first message (the slider's own value). The update is the first
# message that changes more than classes, with what the page does in reply while handling it (the
# address bar's Location); later messages are follow-ups (explorer.ui.deferred: the link, the marks),
# timed too ("settled").
_PROBE = """() => {
  const empty = (t0) => ({t0: t0, sent: null, replies: [], changes: [], frames: []});
  window.__lat = empty(null);
  document.addEventListener('keydown', () => { window.__lat = empty(performance.now()); }, true);
  const send = WebSocket.prototype.send, heard = new WeakSet();
  WebSocket.prototype.send = function (data) {
    const lat = window.__lat;
    if (lat.t0 !== null && lat.sent === null) lat.sent = performance.now();
    if (!heard.has(this)) {
      heard.add(this);
      this.addEventListener('message', (m) => {
        if (typeof m.data === 'string' && /"msgtype": *"PATCH-DOC"/.test(m.data)) window.__lat.replies.push(m.timeStamp);
      });
    }
    return send.call(this, data);
  };
  for (const doc of Bokeh.documents) {
    doc.on_change((ev) => {
      const lat = window.__lat;
      if (ev.attr === 'css_classes' || !lat.replies.length) return;
      const tag = lat.replies.length;
      lat.changes.push([tag, performance.now()]);
      requestAnimationFrame(() => lat.frames.push([tag, performance.now()]));
    }, true);
  }
}"""
_QUIET = """(quiet) => { const l = window.__lat;
  return l.frames.length > 0 && performance.now() - Math.max(...l.frames.map((f) => f[1])) > quiet; }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EXPLORER_WEBGL": "0"}
    cmd = [sys.executable, "-m", "panel", "serve", "--port", str(port), "--address", "127.0.0.1", *map(str, APPS)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/round_trip", timeout=30).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.5)


def _open(page, url: str, ready) -> None:
    """Open `url`, wait for `ready(page)` and a second more, and install the probe."""
    page.goto(url)
    ready(page)
    page.wait_for_timeout(1000)
    page.evaluate(_PROBE)


def _moves(page, handle, moves: int) -> list[dict[str, float]]:
    """`moves` keyboard moves of the slider `handle` (a locator), each one step right; for each, its latency
    and its parts in ms (see the module docstring). Each move is a value not seen before: the server's
    shared caches (explorer.shared) keep tables and selections, so moving back and forth would time a
    cache and not the world's rebuild or the re-selection a new value costs."""
    handle.focus()
    out = []
    for _ in range(moves):
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function(_QUIET, arg=QUIET_MS, timeout=MOVE_LIMIT_MS, polling=50)
        except Exception as exc:  # playwright's TimeoutError: say what did not happen
            raise RuntimeError(f"no update was painted within {MOVE_LIMIT_MS} ms of a slider move on {page.url}") from exc
        lat = page.evaluate("() => window.__lat")
        update = lat["changes"][0][0]  # the messages that had arrived by the first change: the update is the last
        painted = max(t for tag, t in lat["frames"] if tag == update)
        reply = lat["replies"][update - 1]
        sent = lat["sent"] if lat["sent"] is not None else lat["t0"]
        out.append({"ms": painted - lat["t0"], "out_ms": sent - lat["t0"], "server_ms": reply - sent,
                    "browser_ms": painted - reply, "settled_ms": max(t for _, t in lat["frames"]) - lat["t0"]})
    return out


def _summary(moves: list[dict[str, float]]) -> dict[str, float]:
    values = [m["ms"] for m in moves]
    ordered = sorted(values)
    return {"median_ms": statistics.median(values), "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
            "min_ms": ordered[0], "moves": len(values),
            **{key: statistics.median(m[key] for m in moves) for key in ("out_ms", "server_ms", "browser_ms", "settled_ms")}}


def _traced(browser, page, handle, moves: int, path: Path) -> dict[str, Any]:
    """A Chromium trace of `moves` more moves of `handle`, saved at `path`, and its summary."""
    from explorer import browser_trace

    browser.start_tracing(page=page, path=str(path), categories=browser_trace.CATEGORIES)
    try:
        _moves(page, handle, moves)
    finally:
        browser.stop_tracing()
    return browser_trace.summarise(path, moves)


def _slider(page, label: str):
    return page.locator(".bk-input-group", has=page.locator(".bk-slider-title", has_text=label)).locator(".noUi-handle")


def run(sizes=(100_000, 1_000_000), moves: int = 15, progress: bool = True, trace: str | Path | None = None,
        trace_moves: int = 5) -> dict[str, Any]:
    """Measure Panel's round trip and both sliders of the priors app at each size, in one run; returns a
    JSON-able dict. With `trace` (a folder), also record `trace_moves` traced moves of each slider there."""
    from playwright.sync_api import sync_playwright
    from tqdm import tqdm

    from explorer.bench_machine import machine

    from explorer.errors import ExplorerError

    if not os.path.exists(CHROMIUM):
        raise ExplorerError(f"the browser benchmark needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    folder = None if trace is None else Path(trace)
    if folder is not None:
        try:  # before a minute of moves, not after
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".write-test").touch()
            (folder / ".write-test").unlink()
        except OSError as exc:
            raise ExplorerError(f"--trace: cannot write traces in {str(folder)!r} ({exc.strerror})") from None
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(port)
    report: dict[str, Any] = {"machine": machine(), "moves": moves, "server_threads": 1, "webgl": False,
                              "sliders": {k: v[0] for k, v in SLIDERS.items()}}
    bar = tqdm(total=1 + len(sizes) * len(SLIDERS), desc="browser latency", file=sys.stderr, disable=not progress,
               leave=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            _open(page, base + "/round_trip", lambda pg: pg.get_by_text("value 1.00").wait_for())
            floor = page.locator(".noUi-handle").first
            report["panel_round_trip"] = _summary(_moves(page, floor, moves))
            if folder is not None:
                report["panel_round_trip"]["trace"] = _traced(browser, page, floor, trace_moves, folder / "round-trip.json")
            bar.update(1)
            rows = []
            for n in sizes:
                _open(page, f"{base}/priors?n_programs={int(n)}", lambda pg: pg.locator(".tabulator-row").first.wait_for())
                for slider, (name, label) in SLIDERS.items():
                    row = {"n_programs": int(n), "slider": slider, "parameter": name,
                           **_summary(_moves(page, _slider(page, label), moves))}
                    row["ratio"] = row["median_ms"] / report["panel_round_trip"]["median_ms"]
                    row["target"] = TARGETS.get((slider, int(n)))
                    row["target_met"] = None if row["target"] is None else row["ratio"] <= row["target"]
                    if folder is not None:
                        row["trace"] = _traced(browser, page, _slider(page, label), trace_moves,
                                               folder / f"priors-{int(n)}-{slider}.json")
                    rows.append(row)
                    bar.update(1)
            report["priors"] = rows
            browser.close()
    finally:
        bar.close()
        server.terminate()
        server.wait(timeout=10)
    return report


def format_report(report: dict[str, Any]) -> str:
    from explorer.browser_trace import format_summary

    m, floor = report["machine"], report["panel_round_trip"]
    sliders = ", ".join(f"{k} slider: {v}" for k, v in report["sliders"].items())
    lines = [
        "Speed Prior Explorer browser latency: slider move to painted update (headless Chromium, canvas, no WebGL)",
        f"machine: {m['cpu']}, {m['cores']} cores; server and browser share them; server torch threads 1",
        f"moves per slider: {report['moves']}, each one step right to a value not seen before; {sliders}",
        "server: the slider's message leaving to the update's message arriving (Panel's 50 ms debounce included);",
        "browser: that message arriving to the frame after its last change (patch, scripting, style, layout, paint);",
        "settled: the frame after the follow-ups (the link, the marks on changed controls), sent after the update",
        "",
        f"Panel's own round trip (slider -> text pane), the floor: median {floor['median_ms']:.1f} ms, "
        f"p90 {floor['p90_ms']:.1f} ms, min {floor['min_ms']:.1f} ms; server {floor['server_ms']:.1f} ms, "
        f"browser {floor['browser_ms']:.1f} ms",
    ]
    if "trace" in floor:
        lines += format_summary(floor["trace"])
    lines += ["", f"   {'programs':>10}  {'slider':<7} {'median ms':>10} {'p90 ms':>8} {'x floor':>8} {'server ms':>10} "
                  f"{'browser ms':>11} {'settled ms':>11}  target"]
    for r in report["priors"]:
        target = "-" if r["target"] is None else f"<= {r['target']}x: {'met' if r['target_met'] else 'missed'}"
        lines.append(f"   {r['n_programs']:>10,}  {r['slider']:<7} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} "
                     f"{r['ratio']:>8.2f} {r['server_ms']:>10.1f} {r['browser_ms']:>11.1f} {r['settled_ms']:>11.1f}  {target}")
    traced = [r for r in report["priors"] if "trace" in r]
    if traced:
        lines += ["", f"Where the browser's main thread went (Chromium trace, {traced[0]['trace']['moves']} more moves each; "
                      "the whole move, follow-ups included):"]
        for r in traced:
            lines.append(f"   {r['n_programs']:,} programs, {r['slider']} slider ({r['parameter']}):")
            lines += format_summary(r["trace"], indent="     ")
    return "\n".join(lines)
