"""Set-up shared by every served app: allocator, Panel extensions, the WebGL switch, a size limit, and
pages that load nothing from any host but the server (explorer/ui/offline.py: no web fonts, no CDN).

HoloViews draws with WebGL by default, which headless Chromium renders very slowly; setting the
environment variable EXPLORER_WEBGL=0 (the browser tests and the latency benchmark do) draws on a plain
canvas instead.
"""

from __future__ import annotations

import os

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401
import panel as pn

from explorer.memory import keep_freed_memory
from explorer.ui.offline import use_offline_design


def max_programs() -> int:
    """The most programs a served page may compute: EXPLORER_MAX_PROGRAMS, default 2,000,000 (about
    130 MB of table), so that in a workshop one link cannot take a shared server's memory."""
    return int(os.environ.get("EXPLORER_MAX_PROGRAMS", 2_000_000))


def configure_app() -> None:
    """Call once at the top of an app module."""
    keep_freed_memory()
    if os.environ.get("EXPLORER_WEBGL", "1") == "0":
        hv.renderer("bokeh").webgl = False
    pn.extension("tabulator", notifications=True, sizing_mode="stretch_width")
    use_offline_design()  # the Fast templates without Google's web font
