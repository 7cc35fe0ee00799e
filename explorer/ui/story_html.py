"""The sweep plots of a story's standalone HTML page, drawn with Bokeh and inlined.

explorer.stories.export builds the page and takes its plot renderer as an argument, so that the story
package imports no plotting library; this is that renderer (explorer.stories.export.SweepPlots). Only
the parts of Bokeh's JavaScript the plots use are inlined, and every plot is embedded as a Bokeh
document, so the page needs no network and no server. The plots carry only ids and numbers; the
verdict in words is escaped.
"""

from __future__ import annotations

from typing import Any

from explorer.stories.render import safe_inline


def sweep_plots(ran: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(resources, script, {sweep id: HTML}) for the sweeps that ran ({sweep id: SweepResult})."""
    if not ran:
        return "", "", {}
    import holoviews as hv
    from bokeh.embed import components
    from bokeh.resources import INLINE

    from explorer.ui.sweep_map import describe, sweep_plot

    models = {sid: hv.render(sweep_plot(r), backend="bokeh") for sid, r in ran.items()}
    for model in models.values():
        model.sizing_mode = "stretch_width"
    script, divs = components(models)
    try:  # only the Bokeh parts these plots use, as bokeh.embed.file_html picks them
        from bokeh.embed.bundle import Bundle, bundle_for_objs_and_resources

        bundle = bundle_for_objs_and_resources(list(models.values()), INLINE)
        # Inline code only: loaded extensions (Panel's) may add files by URL, which a standalone page
        # cannot fetch and these plain Bokeh plots do not need.
        resources = "".join(Bundle(js_raw=bundle.js_raw, css_raw=bundle.css_raw))
    except ImportError:  # pragma: no cover - an older or newer Bokeh: inline all of it
        resources = INLINE.render()
    shown = {sid: f"<p><strong>{safe_inline(describe(r))}</strong></p>\n"
                  f'<div class="plot">{divs[sid]}</div>' for sid, r in ran.items()}
    return resources, script, shown
