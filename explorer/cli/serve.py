"""`serve`: every app in apps/ behind one `panel serve`, stopped with this command (signals passed on)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from explorer import editor_access
from explorer.errors import ExplorerError

#: The panel-serve apps; found beside the package in a source checkout (the README's set-up).
APPS_DIR = Path(__file__).resolve().parent.parent.parent / "apps"
#: The site index at /: our own template (Tornado's, autoescaped), filled by `index_cards`.
INDEX_HTML = Path(__file__).resolve().parent.parent / "ui" / "index.html"
#: Screenshots of the apps (`python -m explorer screenshots assets/screens`), served at /screens/ for the index.
SCREENS_DIR = APPS_DIR.parent / "assets" / "screens"
#: The index's thumbnails: the screenshot at a projector's size.
THUMBNAIL_SIZE = "1280x720"

#: The index's cards, in order, the tour first: (card id, app slug, link query, title, what it lets you do,
#: screenshot name).
#: The guided tour runs beside the priors app's picture (explorer/ui/tour.py over assets/tours/), opened by its
#: link at step 1; the notebook apps/tour.ipynb is a list of the presets, not the tour.
INDEX_CARDS = (
    ("tour", "priors", "?tour=speed-prior-essay&step=1", "Start here: the guided tour",
     "Walk through the essay's argument one step at a time: predict, then reveal, beside the priors' picture.",
     "priors-tour"),
    ("priors", "priors", "", "Priors",
     "Move the weights and misbehaviour costs and see which program each prior selects, and its mass on every kind.",
     "priors"),
    ("stories", "stories", "", "Stories",
     "Open, edit, check and save the training stories of the library: claims, evidence, assumptions.",
     "stories"),
    ("neural", "neural", "", "Neural",
     "Train small networks under a speed prior and see whether the story's claims hold for what they learn.",
     "neural"),
    ("programs", "programs", "", "Programs",
     "Real programs of a tiny machine, every one run and measured, and the program each prior picks.",
     "programs"),
    ("annealing", "annealing", "", "Annealing",
     "Proposal 0, computational annealing: watch one search step by step, and many runs summarised.",
     "annealing"),
    ("claims", "claims", "", "Claims matrix",
     "Every claim in every world: the share of runs where it holds, decided by construction or measured.",
     "claims"),
)


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="serve the apps in apps/ with panel (each at /its-file-name)")
    p.add_argument("--port", type=int, default=5006, help="port to listen on (default 5006)")
    p.add_argument("--address", help="address to listen on (default: all interfaces)")
    p.add_argument("--show", action="store_true", help="open the apps in a browser")
    p.add_argument(editor_access.PASSWORD_FILE_FLAG, metavar="PATH", help="the shared editor password, on the first "
                   "line of PATH: in workshop mode (EXPLORER_WORKSHOP=1) saving a story needs it (or an OAuth user)")
    p.set_defaults(func=cmd_serve)


def serve_command(port: int, show: bool = False, address: str | None = None) -> list[str]:
    """The `panel serve` command line that serves every app in apps/ (each at its file's name)."""
    apps = sorted(str(p) for p in APPS_DIR.glob("*.py"))
    if not apps:
        raise ExplorerError(f"no apps to serve: {APPS_DIR} has no .py files (serve runs from a source checkout)")
    cmd = [sys.executable, "-m", "explorer.ui.panel_serve", "--port", str(port)]
    if address:
        cmd += ["--address", address]
    if show:
        cmd.append("--show")
    cmd += ["--index", str(INDEX_HTML)]  # Panel's own index page loads a web font and its logo from outside
    if SCREENS_DIR.is_dir():  # the index's thumbnails, from this server (panel refuses a folder that is missing)
        cmd.append(f"--static-dirs=screens={SCREENS_DIR}")  # one value: a separate word would take the apps too
    return cmd + apps


def index_cards(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The index page's cards for the apps Panel serves (`items`: its (slug, title) pairs): ours in
    INDEX_CARDS order with their descriptions, then any other app under Panel's title. A thumbnail is
    named only where its screenshot exists, so the page never shows a broken image."""
    served = {slug.rsplit("/", 1)[-1]: slug for slug, _ in items}
    cards = []
    for card_id, app, query, title, about, screen in INDEX_CARDS:
        if app in served:
            name = f"{screen}-{THUMBNAIL_SIZE}.png"
            cards.append({"id": card_id, "href": "." + served[app] + query, "title": title, "about": about,
                          "thumbnail": f"./screens/{name}" if (SCREENS_DIR / name).is_file() else ""})
    known = {app for _, app, *_ in INDEX_CARDS}
    for slug, title in items:
        if slug.rsplit("/", 1)[-1] not in known:
            cards.append({"id": slug.strip("/"), "href": "." + slug, "title": title, "about": "", "thumbnail": ""})
    return cards


def cmd_serve(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ExplorerError(f"--port: {args.port} is not a port number (0 to 65535)")
    editor_access.use_password_file(getattr(args, "editor_password_file", None))  # its hash, for the apps
    cmd = serve_command(args.port, args.show, args.address)
    print(f"serving {', '.join(Path(a).stem for a in cmd if a.endswith('.py'))} at http://localhost:{args.port}/", file=sys.stderr)
    return run_forwarding_signals(cmd)


def run_forwarding_signals(cmd: list[str], grace_s: float = 5.0) -> int:
    """Run `cmd` and pass a SIGTERM or Ctrl-C on to it, so stopping this wrapper never leaves the server
    running on its own; a child that has not exited `grace_s` seconds later is killed."""
    proc = subprocess.Popen(cmd)
    stopping = []

    def forward(signum, _frame):
        stopping.append(signum)
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                code = proc.wait(timeout=grace_s if stopping else None)
                return 0 if stopping else code
            except KeyboardInterrupt:
                forward(signal.SIGINT, None)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        signal.signal(signal.SIGTERM, previous)
