"""The five priors side by side: which program each selects, and its posterior mass per kind.

A Viewer over a SimulationState: it draws what the state computed and follows its `version`.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh plotting back end for .opts)
import pandas as pd
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure
import panel as pn
import param

from explorer.priors import PRIORS
from explorer.table import KINDS
from explorer.ui.state import SimulationState

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
KIND_COLORS = {"honest": "#0072B2", "goof_off": "#E69F00", "deceptive": "#D55E00", "lookup": "#009E73"}

NUMBER_COLUMNS = ["avg compute", "max compute", "bits", *KINDS, "actually good", "deploy perf"]


def selection_frame(state: SimulationState) -> pd.DataFrame:
    """One row per prior: its MAP program and posterior mass per kind (what the CSV export holds)."""
    rows = []
    for prior in PRIORS:
        r = state.results[prior]
        m = r.map or {}
        rows.append({"prior": prior, "MAP kind": m.get("kind", "none"), "MAP index": m.get("index"),
                     "avg compute": m.get("avg_compute"), "max compute": m.get("max_compute"), "bits": m.get("bits"),
                     **{k: r.mass[k] for k in KINDS}, "actually good": r.actually_good, "deploy perf": r.deploy_perf})
    return pd.DataFrame(rows)


class PriorComparison(pn.viewable.Viewer):
    """The MAP program and posterior mass per kind of each prior, as a table and stacked bars."""

    state = param.ClassSelector(class_=SimulationState, doc="The simulation this view draws.")

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(
            selection_frame(self.state), show_index=False, disabled=True, sizing_mode="stretch_width",
            formatters={c: {"type": "money", "precision": 3} for c in NUMBER_COLUMNS})
        self._source = ColumnDataSource(self._bar_data())
        self.state.param.watch(self._refresh, "version")

    def _refresh(self, *_):
        # Replace the whole value: five rows cost nothing to send. Tabulator.patch() edits `value` in place
        # but not the data a view is built from, so a patch made before the page rendered (a link's
        # preset) left the table showing the previous preset's numbers while the bars showed the new ones.
        self._table.value = selection_frame(self.state)
        # Patch the bars' data in place: a slider move then sends sixteen numbers, not a new plot.
        self._source.data = self._bar_data()

    def _bar_data(self) -> dict[str, list]:
        return {"prior": list(PRIORS), **{k: [self.state.results[p].mass[k] for p in PRIORS] for k in KINDS}}

    def bars(self, *_) -> hv.Bars:
        """The stacked bars as a holoviews element (for exports and notebooks)."""
        data = [(prior, kind, self.state.results[prior].mass[kind]) for prior in PRIORS for kind in KINDS]
        bars = hv.Bars(data, kdims=["prior", "kind"], vdims=[hv.Dimension("mass", range=(0, 1))])
        return bars.opts(stacked=True, cmap=KIND_COLORS, color="kind", height=300, responsive=True,
                         title="Posterior mass per kind", tools=["hover"], legend_position="right")

    def _live_bars(self):
        # Plain bokeh rather than holoviews here: it is redrawn on every slider move, and patching a
        # ColumnDataSource costs a fraction of what re-rendering a holoviews element does.
        fig = figure(x_range=list(PRIORS), y_range=(0, 1), height=300, sizing_mode="stretch_width",
                     title="Posterior mass per kind", toolbar_location="right", tools="save", output_backend="canvas")
        renderers = fig.vbar_stack(list(KINDS), x="prior", width=0.8, source=self._source,
                                   color=[KIND_COLORS[k] for k in KINDS], legend_label=list(KINDS))
        fig.add_tools(HoverTool(renderers=renderers, tooltips=[("prior", "@prior"), ("kind", "$name"), ("mass", "@$name{0.000}")]))
        fig.yaxis.axis_label = "posterior mass"
        fig.legend.location = "top_right"
        fig.add_layout(fig.legend[0], "right")
        return fig

    def __panel__(self):
        bars = pn.Column(pn.pane.Bokeh(self._live_bars(), sizing_mode="stretch_width"), css_classes=["posterior-bars"],
                         sizing_mode="stretch_width")
        return pn.Column(self._table, bars, sizing_mode="stretch_width")
