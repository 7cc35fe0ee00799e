"""`screenshots OUT_DIR`: a PNG of every app and tab at the sizes a room sees them (a projector, a laptop).

The apps are served the way `serve` serves them (a `panel serve` subprocess on 127.0.0.1, on a free port,
WebGL off so canvas drawing is the same on every machine) and opened from outside in Debian's chromium through
Playwright, as a participant's browser would; nothing here imports panel. Each page is saved once it has
rendered, as OUT_DIR/APP-WxH.png (the page as it opens) and OUT_DIR/APP-TAB-WxH.png for each further tab
(scrolled up to its tab bar): the viewport only, not the whole page, since the viewport is what a room sees. The index's thumbnails are the
1280x720 ones committed under assets/screens/.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from explorer.cli.serve import serve_command
from explorer.errors import ExplorerError

#: The apps, in the index's order, and what shows that each has rendered (the browser tests' READY selectors;
#: Playwright's locators pierce Bokeh's shadow roots).
READY = {"priors": ".tabulator-row", "stories": ".story-library-row", "neural": "button:has-text('Start')",
         "programs": ".tabulator-row", "annealing": "button:has-text('Run Monte Carlo')",
         "claims": ".claims-matrix canvas"}
DEFAULT_SIZES = "1280x720,1440x900"
#: Views that only a link opens, taken after the app's own as OUT_DIR/APP-NAME-WxH.png: what a teacher shares (a
#: tour under way, the room's simple view) looks different from the page as it opens. (name, query, what shows
#: it has rendered (None: the app's READY), whether its tabs are taken too.)
LINKED_VIEWS = {
    "priors": (("tour", "?tour=speed-prior-essay&step=2", None, False), ("simple", "?mode=simple", None, False),
               ("large-type", "?tour=speed-prior-essay&step=2&type=large", None, False)),
    "stories": (("editor", "?story=speed-prior", "button:has-text('Save as')", True),),
}


def views(app: str) -> list[tuple[str, str, str, bool]]:
    """What to take of `app`: (file-name prefix, link query, ready selector, with its tabs), the page first."""
    return [(app, "", READY[app], True), *((f"{app}-{name}", query, ready or READY[app], tabs)
                                           for name, query, ready, tabs in LINKED_VIEWS.get(app, ()))]


#: Where the browser is looked for unless --chromium says otherwise (the browser tests read the same variable).
CHROMIUM_ENV = "EXPLORER_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: A page's first render can wait for a world to be built on a busy machine.
READY_TIMEOUT_MS = 180_000


def add_parsers(sub) -> None:
    p = sub.add_parser("screenshots", help="save a PNG of every app and tab at each size (served here, opened in chromium)")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder for the PNGs (created if missing)")
    p.add_argument("--sizes", default=DEFAULT_SIZES,
                   help=f"viewport sizes, WIDTHxHEIGHT separated by commas (default {DEFAULT_SIZES})")
    p.add_argument("--apps", default=",".join(READY),
                   help=f"apps to take, separated by commas (default all: {','.join(READY)})")
    p.add_argument("--settle-ms", type=int, default=2500,
                   help="wait this long after a page or tab has rendered, for its plots to draw (default 2500)")
    p.add_argument("--chromium", default=None,
                   help=f"the chromium to drive (default ${CHROMIUM_ENV}, else {DEFAULT_CHROMIUM})")
    p.set_defaults(func=cmd_screenshots)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'1280x720,1440x900' -> [(1280, 720), (1440, 900)]; anything else is the user's mistake, named."""
    sizes = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)x(\d+)", part)
        if not match or not (200 <= int(match[1]) <= 7680 and 200 <= int(match[2]) <= 4320):
            raise ExplorerError(f"--sizes: {part!r} is not WIDTHxHEIGHT with each side 200 to 7680 (e.g. 1280x720)")
        sizes.append((int(match[1]), int(match[2])))
    if not sizes:
        raise ExplorerError("--sizes: no size given (e.g. 1280x720,1440x900)")
    return sizes


def parse_apps(text: str) -> list[str]:
    apps = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in apps if a not in READY]
    if unknown or not apps:
        raise ExplorerError(f"--apps: {', '.join(map(repr, unknown)) or 'none given'} not among {', '.join(READY)}")
    return apps


def slug(label: str) -> str:
    """A tab's label as a file-name part: 'Compute per task' -> 'compute-per-task'."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    """`serve`'s panel command on 127.0.0.1 and a free port, logging to a file (a pipe nobody reads could
    block it); returns the process and its base URL once the index answers."""
    port = _free_port()
    env = {**os.environ, "EXPLORER_WEBGL": "0", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(serve_command(port, address="127.0.0.1"), stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/", timeout=30).read()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
                raise ExplorerError(f"the apps' server did not start; its log ends: {tail}") from None
            time.sleep(0.5)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _save(page, path: Path) -> None:
    """The viewport as a PNG, reduced to a 256-colour palette: a page of text and flat plots loses nothing
    a reader can see, and the file is a third of the size (these are committed)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(page.screenshot(full_page=False))).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def take(out_dir: Path, sizes: list[tuple[int, int]], apps: list[str], chromium: str, settle_ms: int = 2500,
         log=print) -> list[Path]:
    """Serve the apps, open each at each size, and save the viewport of the page and of each further tab."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise ExplorerError("screenshots needs Playwright (pip install -e '.[dev]'); no browser download is needed") from None
    if not os.access(chromium, os.X_OK):
        raise ExplorerError(f"screenshots needs chromium at {chromium} (apt-get install chromium, "
                            f"or name another with --chromium or ${CHROMIUM_ENV})")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExplorerError(f"OUT_DIR: cannot make the folder {out_dir} ({exc.strerror})") from None
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="explorer-screens-") as tmp:
        proc, base = _start_server(Path(tmp) / "serve.log")
        try:
            _shoot(base, out_dir, sizes, apps, chromium, settle_ms, log, saved)
        finally:
            _stop(proc)
    return saved


def _shoot(base: str, out_dir: Path, sizes, apps, chromium: str, settle_ms: int, log, saved: list[Path]) -> None:
    from playwright.sync_api import sync_playwright

    from explorer.bench_browser import CHROMIUM_ARGS

    def save(name: str) -> None:
        saved.append(out_dir / name)
        _save(page, saved[-1])
        log(str(saved[-1]))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for width, height in sizes:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.set_default_timeout(READY_TIMEOUT_MS)
                for app in apps:
                    for prefix, query, ready, with_tabs in views(app):
                        page.goto(f"{base}/{app}{query}")
                        page.locator(ready).first.wait_for()
                        page.wait_for_timeout(settle_ms)
                        save(f"{prefix}-{width}x{height}.png")
                        # The tabs: the first is what the page opened on, saved above. A further one whose tab bar
                        # is low on the screen is scrolled to the top of the window, as a reader scrolls to read it.
                        for label in page.locator(".bk-tab:visible").all_inner_texts()[1:] if with_tabs else ():
                            tab = page.locator(".bk-tab:visible", has_text=label).first
                            tab.click()
                            tab.evaluate("el => { const r = el.getBoundingClientRect();"
                                         " if (r.top < 0 || r.top > innerHeight / 2) el.scrollIntoView({block: 'start'}) }")
                            page.wait_for_timeout(settle_ms)
                            save(f"{prefix}-{slug(label)}-{width}x{height}.png")
                page.close()
        finally:
            browser.close()


def cmd_screenshots(args) -> int:
    sizes, apps = parse_sizes(args.sizes), parse_apps(args.apps)
    if args.settle_ms < 0:
        raise ExplorerError(f"--settle-ms: {args.settle_ms} is negative")
    chromium = args.chromium or os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    saved = take(args.out_dir, sizes, apps, chromium, args.settle_ms, log=lambda line: print(line, file=sys.stderr))
    print(f"{len(saved)} screenshots in {args.out_dir}", file=sys.stderr)
    return 0
