"""Slider-to-painted-update latency of the priors app, against Panel's own round trip, in one run.

Both pages are served by one `panel serve` process and driven by the same headless Chromium. In the
page, a keydown on a slider handle starts the clock; every change the server then sends to the Bokeh
document is timestamped, and so is the first animation frame after each change. The latency of one
move is the time from the keydown to the frame after the last change: the moment the whole update is
on screen. The floor is Panel's own round trip (apps/bench/round_trip.py: a slider echoed into a text
pane, nothing computed), measured the same way, so the ratio says what the explorer adds to it.
Panel waits out a 50 ms debounce before it handles a slider event, so neither can beat ~60 ms.
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
#: Median latency targets, as a multiple of Panel's own round trip.
TARGETS = {100_000: 1.5, 1_000_000: 2.5}

# Installed in the page: timestamps of the keydown, of each document change, and of the frame after it.
# Style-class toggles are left out: the template's busy spinner switches off some 500 ms after the last
# data arrives, and the update is on screen before that.
_PROBE = """() => {
  window.__lat = {t0: null, changes: [], frames: []};
  document.addEventListener('keydown', () => {
    window.__lat = {t0: performance.now(), changes: [], frames: []};
  }, true);
  for (const doc of Bokeh.documents) {
    doc.on_change((ev) => {
      if (ev.attr === 'css_classes') return;  // busy and loading indicators, not the update itself
      const lat = window.__lat;
      lat.changes.push(performance.now());
      requestAnimationFrame(() => lat.frames.push(performance.now()));
    }, true);
  }
}"""


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


def _measure(page, url: str, handle, moves: int, settle_ms: int, ready) -> list[float]:
    """Latency in ms of `moves` keyboard moves of the slider `handle` (a locator) on the page at `url`."""
    page.goto(url)
    ready(page)
    page.wait_for_timeout(1000)
    page.evaluate(_PROBE)
    slider = handle(page)
    slider.focus()
    out = []
    for i in range(moves):
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_timeout(settle_ms)  # longer than any update takes; the probe keeps the exact times
        lat = page.evaluate("() => window.__lat")
        if lat["t0"] is None or not lat["frames"]:
            raise RuntimeError(f"no update arrived within {settle_ms} ms of a slider move on {url}")
        out.append(max(lat["frames"]) - lat["t0"])
    return out


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": statistics.median(values), "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
            "min_ms": ordered[0], "moves": len(values)}


def run(sizes=(100_000, 1_000_000), moves: int = 15, settle_ms: int = 1500, progress: bool = True) -> dict[str, Any]:
    """Measure Panel's round trip and the priors app at each size, in one run; returns a JSON-able dict."""
    from playwright.sync_api import sync_playwright
    from tqdm import tqdm

    from explorer.bench_machine import machine

    if not os.path.exists(CHROMIUM):
        from explorer.errors import ExplorerError

        raise ExplorerError(f"the browser benchmark needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(port)
    report: dict[str, Any] = {"machine": machine(), "moves": moves, "server_threads": 1, "webgl": False}
    bar = tqdm(total=1 + len(sizes), desc="browser latency", file=sys.stderr, disable=not progress, leave=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            floor = _measure(page, base + "/round_trip", lambda pg: pg.locator(".noUi-handle").first, moves, settle_ms,
                             lambda pg: pg.get_by_text("value 1.00").wait_for())
            report["panel_round_trip"] = _summary(floor)
            bar.update(1)
            rows = []
            for n in sizes:
                lat = _measure(
                    page, f"{base}/priors?n_programs={int(n)}",
                    lambda pg: pg.locator(".bk-input-group", has=pg.locator(".bk-slider-title", has_text="Average-compute weight")).locator(".noUi-handle"),
                    moves, settle_ms, lambda pg: pg.locator(".tabulator-row").first.wait_for())
                row = {"n_programs": int(n), **_summary(lat)}
                row["ratio"] = row["median_ms"] / report["panel_round_trip"]["median_ms"]
                row["target"] = TARGETS.get(int(n))
                row["target_met"] = None if row["target"] is None else row["ratio"] < row["target"]
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
    m, floor = report["machine"], report["panel_round_trip"]
    lines = [
        "Speed Prior Explorer browser latency: slider move to painted update (headless Chromium, canvas, no WebGL)",
        f"machine: {m['cpu']}, {m['cores']} cores; server and browser share them; server torch threads 1",
        f"moves per page: {report['moves']} (alternating right/left on the average-compute weight)",
        "",
        f"Panel's own round trip (slider -> text pane), the floor: median {floor['median_ms']:.1f} ms, "
        f"p90 {floor['p90_ms']:.1f} ms, min {floor['min_ms']:.1f} ms",
        "",
        f"   {'programs':>10} {'median ms':>10} {'p90 ms':>8} {'x floor':>8}  target",
    ]
    for r in report["priors"]:
        target = "-" if r["target"] is None else f"< {r['target']}x: {'met' if r['target_met'] else 'missed'}"
        lines.append(f"   {r['n_programs']:>10,} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} {r['ratio']:>8.2f}  {target}")
    return "\n".join(lines)
