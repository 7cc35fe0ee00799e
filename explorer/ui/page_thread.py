"""Handing a worker thread's results to the page.

Long work (regime maps, sweeps, Monte Carlo runs) runs on a worker thread so the page stays live. In a
served session the document may only be changed under its lock, on the server's event loop:
`pn.state.execute(..., schedule=True)` with the session's document current queues the change there
through Bokeh's thread-safe add_next_tick_callback. With no session (a test, a notebook cell run as a
script) the change is simply made at once.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from panel.io.state import set_curdoc


def on_page(doc, callback: Callable[[], None]) -> None:
    """Run `callback` where it may change widgets: here without a session, else on the event loop."""
    if doc is None or doc.session_context is None:
        callback()
        return
    with set_curdoc(doc):
        pn.state.execute(callback, schedule=True)
