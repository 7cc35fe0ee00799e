"""`serve`: every app in apps/ behind one `panel serve`, stopped with this command (signals passed on)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from explorer.errors import ExplorerError

#: The panel-serve apps; found beside the package in a source checkout (the README's set-up).
APPS_DIR = Path(__file__).resolve().parent.parent.parent / "apps"
#: The site index at /: Panel's, less the web font and the images it loads from other hosts.
INDEX_HTML = Path(__file__).resolve().parent.parent / "ui" / "index.html"


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="serve the apps in apps/ with panel (each at /its-file-name)")
    p.add_argument("--port", type=int, default=5006, help="port to listen on (default 5006)")
    p.add_argument("--address", help="address to listen on (default: all interfaces)")
    p.add_argument("--show", action="store_true", help="open the apps in a browser")
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
    return cmd + apps


def cmd_serve(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ExplorerError(f"--port: {args.port} is not a port number (0 to 65535)")
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
