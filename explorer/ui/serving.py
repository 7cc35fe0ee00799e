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

from explorer.environment import number
from explorer.memory import keep_freed_memory
from explorer.ui.offline import use_offline_design


def max_programs() -> int:
    """The most programs a served page may compute: EXPLORER_MAX_PROGRAMS, default 2,000,000 (about
    130 MB of table), so that in a workshop one link cannot take a shared server's memory."""
    return int(number("EXPLORER_MAX_PROGRAMS", 2_000_000, minimum=1, whole=True))


def configure_app() -> None:
    """Call once at the top of an app module."""
    keep_freed_memory()
    if os.environ.get("EXPLORER_WEBGL", "1") == "0":
        hv.renderer("bokeh").webgl = False
    pn.extension("tabulator", notifications=True, sizing_mode="stretch_width")
    use_offline_design()  # the Fast templates without Google's web font


#: The class a page's containers get for larger type (a projector); LARGE_TYPE_CSS, added to each such
#: container's stylesheets, enlarges the text inside it: Panel's widgets and panes size their text from the
#: design's --type-ramp-* variables (Bokeh's from --bokeh-font-size), which inherit through shadow roots.
LARGE_TYPE_CLASS = "large-type"
LARGE_TYPE_CSS = """
:host(.large-type) {
  --type-ramp-base-font-size: 18px;
  --type-ramp-base-line-height: 26px;
  --type-ramp-minus-1-font-size: 16px;
  --type-ramp-minus-2-font-size: 15px;
  --type-ramp-plus-1-font-size: 21px;
  --bokeh-font-size: 16px;
  --bokeh-base-font-size: 16px;
  font-size: 18px;
}
:host(.large-type) .tabulator { font-size: 16px; }
"""

#: A Fast template's header and margins made smaller, so a 1280x720 projector keeps its height for the
#: content (a page adds it with `template.config.raw_css.append(...)`; the template is not in a shadow root).
COMPACT_HEADER_CSS = """
#header { height: 32px; padding: 6px 10px; }
#header .app-header .title { font-size: 1.35em; }
#main .card-margin { margin: 0.4em 0; }
#main { padding: 0 8px; }
#sidebar { padding-top: 4px; }
"""
