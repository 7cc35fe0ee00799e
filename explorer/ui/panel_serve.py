"""`panel serve` with a few server settings of ours: long links get a page, a full room says so, and an
idle tab is closed.

Tornado closes the connection, with no reply at all, when a request's first line and headers pass 64 KiB,
so a shared link with a long query string showed an empty page. Here Panel's own `serve` command runs
unchanged except that the limit is raised (through `customize_kwargs`, the hook Panel's Serve offers
subclasses); the priors app then reads at most `explorer.ui.url.MAX_QUERY_CHARS` of a query and says
when a link was longer. Run as `python -m explorer.ui.panel_serve [panel serve arguments]`.

Two options of ours for a workshop (`python -m explorer serve --workshop` passes them):

- `--max-sessions K`: when K sessions of this process are live, a new visitor of an app gets a small
  page saying the room is full (HTTP 503, nothing loaded from anywhere) instead of a new session. A
  session is live while a browser tab is connected to it, or for `PENDING_S` seconds after the page was
  sent while its tab has not connected yet. A browser that already has a session of this server (a
  cookie tells) is let in even then: a reload asks for the new page while the old one is still
  connected. The teacher's /admin page and the index are never refused. With `--num-procs`, the
  processes count together through files in `--room-dir` (each writes its live sessions every
  SHARE_EVERY_S seconds and whenever it admits someone); without it, each process counts its own.
- `--idle-minutes M`: a tab whose browser has sent nothing for M minutes (no widget moved, nothing
  clicked, no plot panned or resized: no websocket message at all; what the server pushes does not count)
  gets a notification that it was closed for being idle, and its connection is closed; the session is
  then discarded like any closed tab's (`--unused-session-lifetime`).

With `--admin`, Panel's admin page for the teacher is drawn in our offline design (no web font from
outside), like the apps.

Both work by subclassing the handlers Panel serves every app with (the page and its websocket) and putting
them in the route table Bokeh builds each app's routes from, the way Panel itself replaces Bokeh's.
"""

from __future__ import annotations

import argparse
import html
import os
import secrets
import sys
import time
import weakref

from bokeh.command.subcommand import Argument
from bokeh.server import urls as bokeh_urls
from panel.command.serve import Serve
from panel.io.state import set_curdoc, state
from tornado.ioloop import PeriodicCallback

from explorer.ui.offline import use_offline_design

#: Longest request head accepted: Chromium's own limit on a URL is 2 MiB.
MAX_HEADER_BYTES = 4 * 1024 * 1024
#: How long a session whose page was sent counts as live before its tab connects (the page loads its
#: scripts first; on a crowded network that takes a while). A page never opened frees its place after this.
PENDING_S = 60.0
#: How often open tabs are checked for idleness.
IDLE_CHECK_S = 30.0
#: Seconds between the idle notification and the closed connection, so the notification reaches the tab.
IDLE_CLOSE_DELAY_S = 2.0

#: The room's settings for this process, set by `ExplorerServe.customize_kwargs`.
ROOM = {"max_sessions": 0, "idle_s": 0.0, "dir": ""}
#: With --room-dir, how often each process writes its sessions there, and how old its file may be before
#: it is taken for a process that is gone.
SHARE_EVERY_S = 2.0
SHARE_STALE_S = 15.0
#: When each websocket connection last had a message from its browser (time.monotonic()).
_last_message: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: The browser each session's page went to (the SEAT_COOKIE it carried).
_seats: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: A cookie naming the browser: a browser that already has a session here is let in when the room is full,
#: since a reload asks for the new page before the old one lets go of its connection.
SEAT_COOKIE = "explorer_seat"
#: Sessions whose tab has connected at least once (a reload's old session is then not "pending").
_connected_once: weakref.WeakSet = weakref.WeakSet()

ROOM_FULL_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>The room is full</title>
<style>body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; max-width: 36em;
margin: 4em auto; padding: 0 1em; line-height: 1.5; color: #222; }} h1 {{ font-size: 1.6em; }}</style>
</head><body>
<h1>The room is full</h1>
<p>This server already has as many open pages as it takes at once ({count}). Please try again in a minute
or two: a place frees up when someone closes their tab.</p>
<p><a href="{again}">Try again</a></p>
</body></html>
"""


def idle_message(idle_s: float) -> str:
    minutes = idle_s / 60
    shown = f"{minutes:g} minute" + ("" if minutes == 1 else "s")
    return f"This page was closed after {shown} idle. Reload the page to continue."


#: A session's state in the room: its tab is connected, it has never connected (its page is on its way),
#: or it is done (its tab left, or its page never connected in PENDING_S). Merging what several processes
#: know of one session, the first of these that any of them says wins.
CONNECTED, DONE, PENDING = "connected", "done", "pending"


def room_states(contexts) -> dict[str, tuple[str, str]]:
    """Every session of these application contexts, by id: (its state, the browser (seat) its page was
    sent to, "" if not known here)."""
    states = {}
    for ctx in contexts:
        for session in ctx.sessions:
            if session.destroyed or session.expiration_requested:
                continue
            if session.connection_count > 0:
                _connected_once.add(session)
                state = CONNECTED
            elif session in _connected_once or session.milliseconds_since_last_unsubscribe >= PENDING_S * 1000:
                state = DONE  # (never connected: _last_unsubscribe_time is still its creation time)
            else:
                state = PENDING
            states[session.id] = (state, _seats.get(session, ""))
    return states


def live(states: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The live sessions among `states` (connected or pending), by id, with their seats."""
    return {sid: seat for sid, (state, seat) in states.items() if state != DONE}


def share_states(room_dir: str, states: dict[str, tuple[str, str]]) -> None:
    """Write this process's sessions to its file in `room_dir` (replaced whole, never read half-written)."""
    path = os.path.join(room_dir, f"live-{os.getpid()}")
    with open(path + ".tmp", "w") as f:
        f.write("".join(f"{sid}\t{state}\t{seat}\n" for sid, (state, seat) in states.items()))
    os.replace(path + ".tmp", path)


def room_states_shared(room_dir: str, states: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """This process's sessions merged with those the other processes of this server last wrote to
    `room_dir`. A session counts once: its page and its websocket can reach different processes, which
    then both hold it (Bokeh makes it again from the page's token), pending in one and connected in the
    other; and when its tab leaves, the process it was connected to says it is done."""
    order = (CONNECTED, DONE, PENDING)
    merged, now = dict(states), time.time()
    for entry in os.scandir(room_dir):
        if not entry.name.startswith("live-") or entry.name.endswith(".tmp") or entry.name == f"live-{os.getpid()}":
            continue
        try:
            if now - entry.stat().st_mtime >= SHARE_STALE_S:
                continue  # a process that is gone
            with open(entry.path) as f:
                for line in f:
                    sid, state, seat = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                    if not sid or state not in order:
                        continue
                    old_state, old_seat = merged.get(sid, (PENDING, ""))
                    merged[sid] = (min(state, old_state, key=order.index) if sid in merged else state, old_seat or seat)
        except OSError:
            continue
    return merged


def room_full_page(count: int, uri: str) -> str:
    return ROOM_FULL_HTML.format(count=int(count), again=html.escape(uri, quote=True))


def _room_handlers():
    """The page and websocket handlers Panel serves every app with, subclassed for the room's settings."""
    patterns = {route: handler for route, handler, *_ in bokeh_urls.per_app_patterns}
    page_base, ws_base = patterns[r"/?"], patterns[r"/ws"]

    class RoomDocHandler(page_base):
        async def get(self, *args, **kwargs):
            cap = ROOM["max_sessions"]
            seat = self.get_cookie(SEAT_COOKIE) or ""
            if cap:
                states = room_states(self.application.applications.values())
                if ROOM["dir"]:  # several processes: the room is all of theirs
                    share_states(ROOM["dir"], states)
                    states = room_states_shared(ROOM["dir"], states)
                present = live(states)
                here = seat and seat in present.values()
                if len(present) >= cap and not here:
                    self.set_status(503)
                    self.set_header("Retry-After", "30")
                    self.set_header("Cache-Control", "no-store")
                    self.set_header("Content-Type", "text/html; charset=utf-8")
                    self.write(room_full_page(len(present), self.request.uri))
                    return
            if not seat:
                seat = secrets.token_urlsafe(16)
                self.set_cookie(SEAT_COOKIE, seat, httponly=True, samesite="Lax")
            self._seat = seat
            return await super().get(*args, **kwargs)

        async def get_session(self):
            session = await super().get_session()
            _seats[session] = getattr(self, "_seat", "")
            return session

    class ActivityWSHandler(ws_base):
        async def _async_open(self, token):  # Bokeh's: runs once the handshake is done, and attaches the session
            result = await super()._async_open(token)
            if self.connection is not None:
                _connected_once.add(self.connection.session)
            return result

        async def on_message(self, fragment):
            _last_message[self] = time.monotonic()
            if self.connection is not None:
                _connected_once.add(self.connection.session)
            return await super().on_message(fragment)

        def on_close(self):
            _last_message.pop(self, None)
            return super().on_close()

    return RoomDocHandler, ActivityWSHandler


def install_room_handlers() -> None:
    """Put the room's handlers in Bokeh's per-app route table (read when the server is built)."""
    doc_handler, ws_handler = _room_handlers()
    table = bokeh_urls.per_app_patterns
    table[:] = [(route, {r"/?": doc_handler, r"/ws": ws_handler}.get(route, handler), *rest)
                for route, handler, *rest in table]


def close_idle_tabs(tornado_app, io_loop, idle_s: float) -> int:
    """Notify and disconnect every tab of this server whose browser has sent nothing for `idle_s` seconds;
    returns how many."""
    now = time.monotonic()
    closed = 0
    for ctx in tornado_app.applications.values():
        for session in ctx.sessions:
            for conn in list(getattr(session, "_subscribed_connections", ())):
                handler = conn._socket
                last = _last_message.setdefault(handler, now)  # first seen: counted from now
                if now - last < idle_s:
                    continue
                _last_message[handler] = float("inf")  # closing: not again
                closed += 1
                session.document.add_next_tick_callback(lambda doc=session.document: _notify_idle(doc, idle_s))
                io_loop.call_later(IDLE_CLOSE_DELAY_S, handler.close, 1000, "idle")
    return closed


def _notify_idle(doc, idle_s: float) -> None:
    with set_curdoc(doc):
        area = state.notifications
        if area is not None:
            area.error(html.escape(idle_message(idle_s)), duration=0)


class ExplorerServe(Serve):
    """Panel's serve command with a larger limit on a request's head, a session cap and idle tabs closed."""

    args = Serve.args + (
        ("--max-sessions", Argument(
            metavar="K", type=int, default=0,
            help="at most K live sessions (in this process, or in all of this server's with --room-dir); a new "
                 "visitor then gets a 'room is full' page (0: no cap)")),
        ("--room-dir", Argument(
            metavar="PATH", type=str, default="",
            help="a folder the processes of one server (--num-procs) share their session counts in, so that "
                 "--max-sessions counts them all")),
        ("--idle-minutes", Argument(
            metavar="M", type=float, default=0.0,
            help="close a tab whose browser sent nothing for M minutes, telling it why (0: never)")),
    )

    def customize_kwargs(self, args, server_kwargs):
        kwargs = super().customize_kwargs(args, server_kwargs)  # /admin's routes are made here, unchanged
        http = dict(kwargs.get("http_server_kwargs") or {})
        http.setdefault("max_header_size", MAX_HEADER_BYTES)
        kwargs["http_server_kwargs"] = http
        if args.max_sessions < 0 or args.idle_minutes < 0:
            raise ValueError("--max-sessions and --idle-minutes must not be negative")
        if args.admin:
            # Panel's /admin page is a FastListTemplate in Fast's design, which loads Open Sans from Google
            # Fonts; our apps make the offline design the Fast templates' default when their first session
            # runs, so without this an admin page opened before any app asked Google for its font.
            use_offline_design()
        ROOM.update(max_sessions=args.max_sessions, idle_s=args.idle_minutes * 60, dir=args.room_dir)
        if ROOM["max_sessions"] or ROOM["idle_s"]:
            install_room_handlers()
        return kwargs

    def customize_server(self, server):
        server = super().customize_server(server)
        idle_s, room_dir = ROOM["idle_s"], ROOM["dir"]
        if ROOM["max_sessions"] and room_dir:  # each process's count, fresh for the others' checks
            contexts = server._tornado.applications.values()
            PeriodicCallback(lambda: share_states(room_dir, room_states(contexts)), SHARE_EVERY_S * 1000).start()
        if idle_s:  # made after the fork (with --num-procs), so each process checks its own tabs
            check = PeriodicCallback(lambda: close_idle_tabs(server._tornado, server.io_loop, idle_s),
                                     min(IDLE_CHECK_S, idle_s / 2) * 1000)
            check.start()
        return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.ui.panel_serve",
                                     description="panel serve, with a request-head limit for long links, "
                                                 "a session cap and idle tabs closed")
    command = ExplorerServe(parser=parser)
    args = parser.parse_args(argv)
    return 0 if command.invoke(args) is not False else 1


if __name__ == "__main__":
    sys.exit(main())
