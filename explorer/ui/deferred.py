"""What a slider move causes besides the update it is for: done just after that update has gone out.

A move's message to the browser should carry the picture and the picks and nothing else the browser must
work through before painting them. The marks on changed controls restyled the sidebar (some 18 ms of each
move in the browser benchmark); the link in the address bar is a `history.pushState` in the browser (2 to
17 ms a move, then a message back) and the room's link text another model change. On a served page these
follow `DELAY_MS` later, in a message of their own; off a server (a notebook, a test) at once.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

#: How long after a move its follow-ups are sent on a served page (the update it caused is painted by then).
DELAY_MS = 150


def after_update(callback: Callable[[], None]) -> None:
    """Call `callback` once the current update has gone out: `DELAY_MS` later on a served page, else now."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        callback()
    else:
        pn.state.add_periodic_callback(callback, period=DELAY_MS, count=1)
