"""`serve`: every app in apps/ behind one `panel serve`, stopped with this command (signals passed on); with
`--workshop`, one server for a room: reachable on the local network, with a session cap and idle tabs closed."""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from explorer import editor_access
from explorer.errors import ExplorerError

#: The panel-serve apps; found beside the package in a source checkout (the README's set-up).
APPS_DIR = Path(__file__).resolve().parent.parent.parent / "apps"
#: The site index at /: our own template (Tornado's, autoescaped), filled by `index_cards`.
INDEX_HTML = Path(__file__).resolve().parent.parent / "ui" / "index.html"
#: Panel's --setup script for `serve --warm` (the warm-up runs inside the server process).
WARM_SETUP = Path(__file__).resolve().parent.parent / "ui" / "warm_setup.py"
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


#: Where a workshop server listens: every interface, so participants reach it by the machine's address.
ALL_INTERFACES = "0.0.0.0"
#: Where `serve` listens otherwise: this machine only.
LOCALHOST = "127.0.0.1"
#: A workshop's defaults: a tab idle this long is closed, and this many sessions fill the room.
WORKSHOP_IDLE_MINUTES = 30.0
WORKSHOP_MAX_SESSIONS = 40
#: Bokeh's check for sessions no tab is connected to (ms), and how long such a session is kept (ms).
CHECK_UNUSED_MS = 60_000
UNUSED_LIFETIME_MS = 5 * 60_000
#: An --allow-origin value: a host name or IPv4 address, and optionally a port.
ORIGIN_RE = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(?P<port>[0-9]{1,5}))?$")
#: Panel's OAuth options that `serve` passes on as they are, each with the environment variable Panel also
#: reads it from (which keeps a secret out of the process list).
OAUTH_OPTIONS = {"oauth-provider": "PANEL_OAUTH_PROVIDER", "oauth-key": "PANEL_OAUTH_KEY",
                 "oauth-secret": "PANEL_OAUTH_SECRET", "oauth-redirect-uri": "PANEL_OAUTH_REDIRECT_URI",
                 "oauth-encryption-key": "PANEL_OAUTH_ENCRYPTION", "cookie-secret": "PANEL_COOKIE_SECRET"}


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="serve the apps in apps/ with panel (each at /its-file-name)")
    p.add_argument("--port", type=int, default=5006, help="port to listen on (default 5006)")
    p.add_argument("--address", help=f"address to listen on (default {LOCALHOST}, this machine only; "
                                     f"with --workshop {ALL_INTERFACES}, every interface)")
    p.add_argument("--show", action="store_true", help="open the apps in a browser")
    p.add_argument("--warm", action="store_true", help="compute the presets and /programs' default enumeration when "
                   "the server starts, once for every session to share (on with --workshop)")
    w = p.add_argument_group("workshop", "one server for a room (see README: Running a workshop)")
    w.add_argument("--workshop", action="store_true",
                   help="listen on every interface, print the address participants open, allow their browsers' "
                        "connections, turn on /admin, close idle tabs and cap the sessions")
    w.add_argument("--allow-origin", action="append", default=[], metavar="HOST[:PORT]",
                   help="also accept pages opened as http://HOST:PORT/ (a name or address the machine is reached "
                        "by; PORT defaults to --port); repeatable")
    w.add_argument("--num-procs", type=int, default=1, metavar="N",
                   help="serve from N processes (panel serve --num-procs; default 1)")
    w.add_argument("--idle-minutes", type=float, metavar="M",
                   help=f"close a tab whose browser sent nothing for M minutes (workshop default "
                        f"{WORKSHOP_IDLE_MINUTES:g}; 0: never)")
    w.add_argument("--max-sessions", type=int, metavar="K",
                   help=f"at most K sessions at once; the next visitor gets a 'room is full' page (workshop "
                        f"default {WORKSHOP_MAX_SESSIONS}; 0: no cap)")
    w.add_argument("--admin", action="store_true", help="Panel's admin page at /admin (on with --workshop)")
    a = p.add_argument_group("sign-in", "Panel's OAuth options, passed on to panel serve as they are")
    for name, env in OAUTH_OPTIONS.items():
        a.add_argument(f"--{name}", metavar="VALUE", help=f"panel serve --{name} (or the variable {env})")
    a.add_argument(editor_access.PASSWORD_FILE_FLAG, metavar="PATH", help="the shared editor password, on the first "
                   "line of PATH: in workshop mode saving a story needs it (or an OAuth user); everyone else reads")
    a.add_argument("--panel-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for panel serve, passed as it is (--panel-arg=--basic-auth=FILE); repeatable")
    p.set_defaults(func=cmd_serve)


def parse_origin(value: str, port: int) -> str:
    """An --allow-origin value as Bokeh's allow-list wants it, host:port (the server's port if none)."""
    m = ORIGIN_RE.match(value.strip())
    if not m or (m["port"] is not None and not 1 <= int(m["port"]) <= 65535):
        raise ExplorerError(f"--allow-origin: {value!r} is not HOST or HOST:PORT (a host name or IP address, "
                            f"a port from 1 to 65535, no http://), e.g. --allow-origin teacher-laptop.local:{port}")
    return f"{m['host'].lower()}:{m['port'] or port}"


def lan_address() -> str:
    """This machine's address on its local network, found without sending anything: connecting a UDP
    socket only picks the route and the source address; no packet leaves. Falls back to the host name's
    address, then to 127.0.0.1 (a machine with no network)."""
    for target in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((target, 9))
                address = s.getsockname()[0]
            if address and not address.startswith(("127.", "0.")):
                return address
        except OSError:
            continue
    try:
        address = socket.gethostbyname(socket.gethostname())
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    return LOCALHOST


def serve_command(port: int, show: bool = False, address: str | None = None, *, workshop: bool = False,
                  host: str | None = None, origins: list[str] | tuple[str, ...] = (), num_procs: int = 1,
                  idle_minutes: float | None = None, max_sessions: int | None = None, admin: bool = False,
                  panel_args: list[str] | tuple[str, ...] = (), room_dir: str | None = None,
                  warm: bool = False) -> list[str]:
    """The `panel serve` command line that serves every app in apps/ (each at its file's name).

    Listens on `address`, else on every interface in a workshop and on 127.0.0.1 otherwise. A workshop
    accepts websockets from pages opened at `host` (the machine's LAN address), localhost and each of
    `origins` (HOST[:PORT]), turns on /admin, and closes idle tabs and caps the sessions at the workshop
    defaults unless `idle_minutes` / `max_sessions` say otherwise. With several processes, `room_dir` is
    the folder they count their sessions together in (without it, the cap is split among them). `warm`
    (on in a workshop) fills the server's shared results at start (explorer/ui/warm_setup.py)."""
    apps = sorted(str(p) for p in APPS_DIR.glob("*.py"))
    if not apps:
        raise ExplorerError(f"no apps to serve: {APPS_DIR} has no .py files (serve runs from a source checkout)")
    if num_procs < 1:
        raise ExplorerError(f"--num-procs: {num_procs} is not a number of processes (1 or more)")
    if idle_minutes is not None and not (idle_minutes >= 0 and math.isfinite(idle_minutes)):
        raise ExplorerError(f"--idle-minutes: {idle_minutes} is not a number of minutes (0 for never, or more)")
    if max_sessions is not None and max_sessions < 0:
        raise ExplorerError(f"--max-sessions: {max_sessions} is not a number of sessions (0 for no cap, or more)")
    allowed = [parse_origin(o, port) for o in origins]
    if workshop:
        idle_minutes = WORKSHOP_IDLE_MINUTES if idle_minutes is None else idle_minutes
        max_sessions = WORKSHOP_MAX_SESSIONS if max_sessions is None else max_sessions
        admin = warm = True
        # Bokeh accepts a websocket only from a page at an address on this list (localhost alone by default).
        # Tornado 6.6 and later also pass a page whose Origin is the Host it asked (same-origin), but the
        # earlier versions our constraints allow do not, so a page opened at the LAN address never connected.
        allowed = [f"{h}:{port}" for h in (host or lan_address(), "localhost", LOCALHOST)] + allowed
    elif allowed:
        allowed = [f"localhost:{port}"] + allowed  # Bokeh's default, kept beside those given
    cmd = [sys.executable, "-m", "explorer.ui.panel_serve", "--port", str(port),
           "--address", address or (ALL_INTERFACES if workshop else LOCALHOST)]
    for origin in dict.fromkeys(allowed):
        cmd += ["--allow-websocket-origin", origin]
    if num_procs != 1:
        cmd += ["--num-procs", str(num_procs)]
    if max_sessions and (num_procs == 1 or room_dir):
        cmd += ["--max-sessions", str(max_sessions)] + (["--room-dir", room_dir] if num_procs > 1 else [])
    elif max_sessions:  # each process counts only its own: the cap split among them
        cmd += ["--max-sessions", str(math.ceil(max_sessions / num_procs))]
    if idle_minutes:
        cmd += ["--idle-minutes", f"{idle_minutes:g}",
                "--check-unused-sessions", str(CHECK_UNUSED_MS), "--unused-session-lifetime", str(UNUSED_LIFETIME_MS)]
    if admin:
        cmd.append("--admin")
    if warm:
        cmd.append(f"--setup={WARM_SETUP}")  # one word, so the app files stay the only words naming .py files
    if show:
        cmd.append("--show")
    cmd += ["--index", str(INDEX_HTML)]  # Panel's own index page loads a web font and its logo from outside
    if SCREENS_DIR.is_dir():  # the index's thumbnails, from this server (panel refuses a folder that is missing)
        cmd.append(f"--static-dirs=screens={SCREENS_DIR}")  # one value: a separate word would take the apps too
    cmd += list(panel_args)
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


def check_environment() -> None:
    """Read every setting the apps take from the environment now, so a bad one stops `serve` with a message
    naming it instead of failing in each session (explorer/environment.py)."""
    from explorer import jobs, memory, shared
    from explorer.ui.serving import max_programs

    jobs.default_slots(), memory.keep_cap_bytes(), shared.table_bytes_limit(), max_programs()


def cmd_serve(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ExplorerError(f"--port: {args.port} is not a port number (0 to 65535)")
    check_environment()
    editor_access.use_password_file(getattr(args, "editor_password_file", None))  # its hash, for the apps
    named = args.address not in (None, "", ALL_INTERFACES, "::")  # a workshop on one named address: that one
    host = (args.address if named else lan_address()) if args.workshop else None
    panel_args = [f"--{name}={getattr(args, name.replace('-', '_'))}" for name in OAUTH_OPTIONS
                  if getattr(args, name.replace("-", "_")) is not None] + list(args.panel_arg)
    # Several processes share one folder for this server: the job pool's slots and the room's session counts.
    shared = tempfile.mkdtemp(prefix="explorer-serve-") if args.num_procs > 1 else None
    try:
        env = None
        if args.workshop:  # saving to the story library then needs signing in (explorer.editor_access)
            env = {**os.environ, editor_access.ENV_WORKSHOP: "1"}
        if shared:
            os.mkdir(os.path.join(shared, "job-slots"))
            os.mkdir(os.path.join(shared, "room"))
            env = {**(env or os.environ), "EXPLORER_JOB_SLOTS_DIR": os.path.join(shared, "job-slots")}
        cmd = serve_command(args.port, args.show, args.address, workshop=args.workshop, host=host,
                            origins=args.allow_origin, num_procs=args.num_procs, idle_minutes=args.idle_minutes,
                            max_sessions=args.max_sessions, admin=args.admin, panel_args=panel_args,
                            room_dir=os.path.join(shared, "room") if shared else None, warm=args.warm)
        apps = ", ".join(Path(a).stem for a in cmd if a.endswith(".py") and not a.startswith("--"))
        if args.workshop:
            print(workshop_banner(host, args.port, cmd, saving=saving_line(args)), flush=True)
        else:
            print(f"serving {apps} at http://localhost:{args.port}/", file=sys.stderr)
        return run_forwarding_signals(cmd, env=env)
    finally:
        if shared:
            shutil.rmtree(shared, ignore_errors=True)


def saving_line(args) -> str:
    """Who may save to the story library in this workshop (everyone reads)."""
    ways = (["the shared password"] if getattr(args, "editor_password_file", None) else []) + \
        (["OAuth users"] if getattr(args, "oauth_provider", None) else [])
    if not ways:
        return f"nobody (reading only; give {editor_access.PASSWORD_FILE_FLAG} PATH or --oauth-provider)"
    return "signed-in people: " + " or ".join(ways)


def workshop_banner(host: str, port: int, cmd: list[str], saving: str | None = None) -> str:
    """What a workshop server prints: the address participants open, and the teacher's pages."""
    def value(flag):
        return cmd[cmd.index(flag) + 1] if flag in cmd else None
    lines = ["Workshop server", f"  Participants open:  http://{host}:{port}/",
             f"  Teacher's admin:    http://localhost:{port}/admin  (also http://{host}:{port}/admin)"]
    if host == LOCALHOST:
        lines.append("  No network address found: only this machine can reach the server.")
    idle, cap, procs = value("--idle-minutes"), value("--max-sessions"), value("--num-procs") or "1"
    lines.append(f"  Idle tabs closed after: {idle + ' minutes' if idle else 'never'}")
    split = procs != "1" and "--room-dir" not in cmd
    cap_text = "no cap" if not cap else f"at most {int(cap) * (int(procs) if split else 1)} at once" + (f" ({cap} per process)" if split else "")
    lines.append(f"  Sessions: {cap_text};  processes: {procs}")
    origins = [o for i, o in enumerate(cmd) if i and cmd[i - 1] == "--allow-websocket-origin"]
    lines.append(f"  Pages accepted from: {', '.join(origins)}  (more with --allow-origin HOST[:PORT])")
    if any(w.startswith("--setup=") for w in cmd):
        lines.append("  Presets: computed at start, once for every session (the log says when: 'explorer warm-up done')")
    if saving:
        lines.append(f"  Saving stories: {saving}")
    lines.append("  Stop with Ctrl-C.")
    return "\n".join(lines)


def run_forwarding_signals(cmd: list[str], grace_s: float = 5.0, env: dict[str, str] | None = None) -> int:
    """Run `cmd` and pass a SIGTERM or Ctrl-C on to it, so stopping this wrapper never leaves the server
    running on its own; a child that has not exited `grace_s` seconds later is killed."""
    proc = subprocess.Popen(cmd, env=env)
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
