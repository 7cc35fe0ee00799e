"""A closed page leaves nothing behind on the server: its dashboard, state and views are collected.

A workshop opens and closes pages all day on one server, so each page's objects must go when its
session does. The apps run here in this process (Bokeh's server on a thread of its own), so the test
can look at the server's heap itself: Chromium opens each page as a person would and closes it, Bokeh
discards the session (its unused-session check runs every 100 ms here instead of every 17 s), and
then no object of explorer.ui made for that page may still be alive.

Each app gets one session first (without a browser), so whatever a server makes once for all its pages
(imports, caches, a shared pool) exists before the objects are counted; only what the page made must go.
A background job the closed page started may finish its work first (page_thread.Worker.wait).

The first cause this caught: a bound method among a HoloViews element's options (ProgramScatter's hook)
kept every /priors page alive through HoloViews' global options registry, about 16 MB a page.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
import weakref
from pathlib import Path

import pytest
from bokeh.client import pull_session
from panel.io.server import get_server

APPS_DIR = Path(__file__).resolve().parents[2] / "apps"
#: The apps whose pages are opened and closed; every app in apps/.
APPS = sorted(p.stem for p in APPS_DIR.glob("*.py"))
TIMEOUT_S = 60
#: Longest wait for a closed page's background job to end.
JOB_WAIT_S = 120


@pytest.fixture(scope="module")
def in_process_server():
    """Every app in apps/ served by a Bokeh server on a thread of this process; yields (base URL, server)."""
    import holoviews as hv

    # As the other browser tests' servers: headless Chromium draws WebGL slowly. The apps run in this
    # process, so what they change for it is put back afterwards for the test files that follow here.
    webgl, renderer = os.environ.get("EXPLORER_WEBGL"), hv.renderer("bokeh")
    renderer_webgl = renderer.webgl
    os.environ["EXPLORER_WEBGL"] = "0"
    started: list = []
    up = threading.Event()

    def run():
        asyncio.set_event_loop(asyncio.new_event_loop())  # this thread's own loop, not the test's
        server = get_server({name: str(APPS_DIR / f"{name}.py") for name in APPS}, port=0, address="127.0.0.1",
                            start=False, show=False, check_unused_sessions_milliseconds=100,
                            unused_session_lifetime_milliseconds=100)
        server.start()
        started.append(server)
        up.set()
        server.io_loop.start()

    thread = threading.Thread(target=run, daemon=True, name="bokeh-server")
    thread.start()
    assert up.wait(30), "the in-process server did not start"
    server = started[0]
    yield f"http://127.0.0.1:{server.port}", server
    server.io_loop.add_callback(server.stop)
    server.io_loop.add_callback(server.io_loop.stop)
    thread.join(10)
    renderer.webgl = renderer_webgl
    if webgl is None:
        os.environ.pop("EXPLORER_WEBGL", None)
    else:
        os.environ["EXPLORER_WEBGL"] = webgl


def _ui_objects() -> list:
    """Every live object whose class is defined in explorer.ui (dashboards, states' views, panels)."""
    gc.collect()
    return [o for o in gc.get_objects() if str(getattr(type(o), "__module__", "")).startswith("explorer.ui.")]


def _holders(target, max_depth: int = 60) -> list[str]:
    """The shortest chain of references from a module or a class down to `target`, as lines (what to fix)."""
    import sys
    import types

    referrers: dict[int, list] = {}
    for o in gc.get_objects():
        for r in gc.get_referents(o):
            referrers.setdefault(id(r), []).append(o)
    modules = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    seen, frontier = {id(target)}, [[target]]
    for _ in range(max_depth):
        longer = []
        for path in frontier:
            for r in referrers.get(id(path[-1]), ()):
                if id(r) in seen or r is referrers or r is frontier or r is longer:
                    continue
                seen.add(id(r))
                if id(r) in modules or isinstance(r, (type, types.FrameType)):
                    return [_describe(o) for o in [*path, r]]
                longer.append([*path, r])
        frontier = longer
    return ["(no chain from a module, a class or a frame)"]


def _stack(frame):
    while frame is not None:
        yield frame
        frame = frame.f_back


def _describe(o) -> str:
    import sys
    import types

    if isinstance(o, dict):
        return f"  dict {o.get('__name__', '')} keys {list(o)[:6]}"
    if isinstance(o, types.FrameType):  # a thread still running it, or a traceback kept (a thread's exception)
        running = {id(f) for top in sys._current_frames().values() for f in _stack(top)}
        return f"  frame {o.f_code.co_qualname} ({'running' if id(o) in running else 'not running: a kept traceback?'})"
    name = getattr(o, "__qualname__", "")
    return f"  {type(o).__module__}.{type(o).__qualname__} {name}"


def _new_since(before: set[int]) -> list[weakref.ref]:
    """Weak references to the explorer.ui objects alive now that were not in `before` (ids)."""
    refs = []
    for o in _ui_objects():
        if id(o) not in before:
            try:
                refs.append(weakref.ref(o))
            except TypeError:  # no weak references to it (none of the page's views is such a type)
                pass
    return refs


def _open(browser, url: str):
    """`url` in a fresh tab, once Bokeh has drawn the page and has no change under way."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url, timeout=TIMEOUT_S * 1000)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle",
                           timeout=TIMEOUT_S * 1000)
    return page


def _warm_up(url: str) -> None:
    """One session without a browser, so that whatever the server makes once for all pages (imports,
    caches, a shared pool) exists before the page's objects are counted. Bokeh's client runs its own
    event loop, so on a thread: the test's thread has Playwright's."""
    failed: list[BaseException] = []

    def pull():
        try:
            pull_session(url=url).close()
        except BaseException as exc:  # reported on the test's thread
            failed.append(exc)

    thread = threading.Thread(target=pull, daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    assert not thread.is_alive(), f"{url}: no session within {TIMEOUT_S} s"
    if failed:
        raise failed[0]


def _wait_until_discarded(server, app: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while server.get_sessions(f"/{app}"):
        assert time.monotonic() < deadline, f"/{app}: the server kept a closed page's session"
        time.sleep(0.1)


def _alive(made: list[weakref.ref]) -> list[str]:
    gc.collect()
    return sorted({type(r()).__qualname__ for r in made if r() is not None})


def _let_jobs_finish(made: list[weakref.ref]) -> None:
    """Wait for the background jobs a closed page left running (explorer.ui.page_thread.Worker): a job
    that cannot be stopped half way ends first, and what it holds goes with it."""
    from explorer.ui.page_thread import Worker

    for ref in made:
        worker = ref()
        if isinstance(worker, Worker):
            worker.wait(JOB_WAIT_S)
        del worker


@pytest.mark.parametrize("app", APPS)
def test_a_closed_page_leaves_none_of_its_objects_on_the_server(browser, in_process_server, app):
    base, server = in_process_server
    _warm_up(f"{base}/{app}")
    _wait_until_discarded(server, app)
    before = {id(o) for o in _ui_objects()}
    page = _open(browser, f"{base}/{app}")
    made = _new_since(before)
    page.close()
    assert made, f"/{app}: the open page made no explorer.ui object, so this test would see no leak"
    _wait_until_discarded(server, app)
    _let_jobs_finish(made)
    deadline = time.monotonic() + 10  # a finished job's last message to its page runs on the server's loop
    while (alive := _alive(made)) and time.monotonic() < deadline:
        time.sleep(0.5)
    if alive:
        survivor = next(r() for r in made if r() is not None)
        pytest.fail(f"/{app}: objects of {len(alive)} class(es) outlived the closed page: {', '.join(alive)}; "
                    f"what holds a {type(survivor).__qualname__}:\n" + "\n".join(_holders(survivor)))
