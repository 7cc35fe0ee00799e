"""The five priors side by side: which program each selects, and its posterior mass per kind.

A Viewer over a SimulationState: it draws what the state computed and follows its `version`. The page
shows a compact table (`picks`: one row per prior, its pick and its mass on each kind and on actually good
programs, short headers underlined in the kind's colour) with, when a pick shares its score with other
programs, one line under it saying so (`ties`: a column would not fit at 1280x720 in large type) above the fold at 1280x720, horizontal stacked
bars (`bars_view`) and the full table (`table_view`, every column, as the CSV export has them) further down.
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
from explorer.ui import markup
from explorer.ui.state import SimulationState

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
KIND_COLORS = {"honest": "#0072B2", "goof_off": "#E69F00", "deceptive": "#D55E00", "lookup": "#009E73"}

NUMBER_COLUMNS = ["avg compute", "max compute", "bits", *KINDS, "actually good", "deploy perf"]

#: The compact table's columns (the selection frame's names, so exports and tests read the same fields)
#: and their short headers, so that all of them fit beside the picture at 1280x720.
PICK_COLUMNS = ["prior", "MAP kind", *KINDS, "actually good"]
PICK_TITLES = {"prior": "prior", "MAP kind": "pick", "honest": "honest", "goof_off": "goof-off",
               "deceptive": "deceptive", "lookup": "lookup", "actually good": "good"}
PICK_TOOLTIPS = {"prior": "The prior (how it scores programs that look good)",
                 "MAP kind": "The kind of the single most probable program (the MAP) under this prior",
                 **{k: f"Posterior mass on {k.replace('_', '-')} programs" for k in KINDS},
                 "actually good": "Posterior mass on programs that are actually good (honest and solving held-out tasks)"}

#: Prior names as the plots print them: short enough for an axis at 1280x720.
PRIOR_LABELS = {"simplicity": "simplicity", "max_speed": "max speed", "average_speed": "average speed",
                "combined": "combined", "levin": "Levin"}
#: Colour marking the actually-good column (the kinds have theirs).
GOOD_COLOR = "#000000"


FULL_TABLE_CSS = """
table { border-collapse: collapse; font-size: 0.9em; max-width: 100%; }
th, td { padding: 3px 6px; border-bottom: 1px solid #ddd; }
th { text-align: left; white-space: normal; vertical-align: bottom; }
"""


#: The picks table's text under the page's larger type (the size serving.LARGE_TYPE_CSS gives tables).
LARGE_TABLE_CSS = ":host .tabulator { font-size: 16px; }"  # :host outranks the theme's own .tabulator rule


def _header_marks() -> str:
    """CSS underlining each kind's column header in the kind's colour (and actually good in black)."""
    colors = {**KIND_COLORS, "actually good": GOOD_COLOR}
    return "\n".join(f'.tabulator-col[tabulator-field="{k}"] {{ border-bottom: 4px solid {c}; }}'
                     for k, c in colors.items())


def picks_frame(state: SimulationState) -> pd.DataFrame:
    """The compact table: each prior's pick and its mass per kind and on actually good programs."""
    return selection_frame(state)[PICK_COLUMNS]


def selection_frame(state: SimulationState) -> pd.DataFrame:
    """One row per prior: its MAP program and posterior mass per kind (what the CSV export holds)."""
    rows = []
    for prior in PRIORS:
        r = state.results[prior]
        m = r.map or {}
        rows.append({"prior": prior, "MAP kind": m.get("kind", "none"), "MAP index": m.get("index"),
                     "MAP ties": r.n_ties,
                     "avg compute": m.get("avg_compute"), "max compute": m.get("max_compute"), "bits": m.get("bits"),
                     **{k: r.mass[k] for k in KINDS}, "actually good": r.actually_good, "deploy perf": r.deploy_perf})
    return pd.DataFrame(rows)


def ties_text(state: SimulationState) -> str:
    """One line naming the priors whose pick shares its score with other programs, and with how many
    (empty when every pick is unique)."""
    tied = [(PRIOR_LABELS[p], state.results[p].n_ties) for p in PRIORS if state.results[p].n_ties > 1]
    if not tied:
        return ""
    each = ", ".join(f"{label} 1 of {n:,}" for label, n in tied)
    return (f"<b>Tied picks</b>: {each}. Those programs share the best score; which of them is shown is an "
            "accident of table order (<i>select</i> on the command line lists them).")


class PriorComparison(pn.viewable.Viewer):
    """The MAP program and posterior mass per kind of each prior: a compact table, stacked bars, the full table."""

    state = param.ClassSelector(class_=SimulationState, doc="The simulation this view draws.")

    def __init__(self, **params):
        super().__init__(**params)
        money = {"type": "money", "precision": 3}
        self._table = pn.widgets.Tabulator(
            picks_frame(self.state), show_index=False, disabled=True, sortable=False, selectable=False,
            titles=PICK_TITLES, header_tooltips=PICK_TOOLTIPS, layout="fit_data_table",
            formatters={c: money for c in PICK_COLUMNS[2:]}, text_align={c: "right" for c in PICK_COLUMNS[2:]},
            css_classes=["prior-picks"], sizing_mode="fixed", stylesheets=[_header_marks()])
        # The kinds' colours mark their columns' headers (a stylesheet sent once): shading each cell by its
        # mass (a pandas Styler) cost some 16 ms of every slider move's latency in the browser.
        text = ties_text(self.state)
        self._ties = markup.html(text, visible=bool(text), css_classes=["prior-ties"], sizing_mode="stretch_width",
                                 margin=(0, 10))
        self._full_table: pn.pane.HTML | None = None  # made when its tab is first shown
        self._source = ColumnDataSource(self._bar_data())
        self._figures: list = []  # the live bars' figures, for the larger type
        self.state.param.watch(self._refresh, "version")

    def _refresh(self, *_):
        # Replace the whole value: five rows cost nothing to send. Tabulator.patch() edits `value` in place
        # but not the data a view is built from, so a patch made before the page rendered (a link's
        # preset) left the table showing the previous preset's numbers while the bars showed the new ones.
        self._table.value = picks_frame(self.state)
        text = ties_text(self.state)
        if text != self._ties.object:
            self._ties.object, self._ties.visible = text, bool(text)
        if self._full_table is not None:
            self._full_table.object = self.full_table_html()
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
        # Horizontal, the priors top to bottom as in the table, so their names never overlap.
        fig = figure(y_range=list(reversed(PRIORS)), x_range=(0, 1), height=230, sizing_mode="stretch_width",
                     title="Posterior mass per kind", toolbar_location=None, tools="", output_backend="canvas")
        renderers = fig.hbar_stack(list(KINDS), y="prior", height=0.7, source=self._source,
                                   color=[KIND_COLORS[k] for k in KINDS],
                                   legend_label=[k.replace("_", "-") for k in KINDS])
        fig.add_tools(HoverTool(renderers=renderers, tooltips=[("prior", "@prior"), ("kind", "$name"), ("mass", "@$name{0.000}")]))
        fig.xaxis.axis_label = "posterior mass"
        fig.yaxis.major_label_overrides = dict(PRIOR_LABELS)
        legend = fig.legend[0]
        legend.orientation = "horizontal"
        legend.click_policy = "none"
        fig.add_layout(legend, "above")
        self._figures.append(fig)
        return fig

    def picks(self) -> pn.widgets.Tabulator:
        """The compact table: each prior's pick and its posterior mass on every kind."""
        return self._table

    def ties(self) -> pn.pane.HTML:
        """The line under the compact table naming the picks that tie with other programs (hidden when none do)."""
        return self._ties

    def bars_view(self) -> pn.Column:
        """The live stacked bars (a new figure on the same data source for each page that shows them)."""
        return pn.Column(pn.pane.Bokeh(self._live_bars(), sizing_mode="stretch_width"), css_classes=["posterior-bars"],
                         sizing_mode="stretch_width")

    def table_view(self) -> pn.pane.HTML:
        """Every column of the selection, as the CSV export has it: a plain HTML table (cheap to send on
        every slider move, and not a second Tabulator beside the picks)."""
        if self._full_table is None:
            self._full_table = markup.html(self.full_table_html(), sizing_mode="stretch_width",
                                           css_classes=["selection-table"], stylesheets=[FULL_TABLE_CSS])
        return self._full_table

    def full_table_html(self) -> str:
        # The tie counts are in the line under the picks and in the exports: one more column here would push
        # this table past the page's width at 1280x720 in large type.
        frame = selection_frame(self.state).drop(columns=["MAP ties"])

        def cell(column, value):
            if value is None or (isinstance(value, float) and value != value):
                return "<td></td>"
            if column in NUMBER_COLUMNS:
                return f"<td align='right'>{value:.3f}</td>"
            return f"<td>{markup.html_text(value)}</td>"

        head = "".join(f"<th>{markup.html_text(c)}</th>" for c in frame.columns)
        rows = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(frame.columns, row)) + "</tr>"
                       for row in frame.itertuples(index=False))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def set_font_scale(self, scale: float) -> None:
        """Scale the live bars' text (the page's larger type), and the table's text in its own stylesheet.

        Tabulator sizes its columns to their text when it draws, and redraws when its own stylesheets change,
        not when a container's class does: re-sending `layout` (unchanged, so Bokeh dropped it) left the
        headers cut at the size the switch was used, whenever the class reached the page after the redraw."""
        for fig in self._figures:
            scale_fonts(fig, scale)
        self._table.stylesheets = [_header_marks(), *([LARGE_TABLE_CSS] if scale != 1 else [])]

    def __panel__(self):
        return pn.Column(self._table, self._ties, self.bars_view(), sizing_mode="stretch_width")


#: Bokeh's default text sizes, which `scale_fonts` multiplies.
BASE_FONTS = {"title": 13, "axis_label": 13, "tick": 11, "legend": 13}


def scale_fonts(fig, scale: float) -> None:
    """Set a Bokeh figure's title, axis, tick and legend text to `scale` times Bokeh's defaults."""
    size = {k: f"{round(v * scale)}px" for k, v in BASE_FONTS.items()}
    if fig.title is not None and not isinstance(fig.title, str):
        fig.title.text_font_size = size["title"]
    for axis in [*fig.xaxis, *fig.yaxis]:
        axis.axis_label_text_font_size = size["axis_label"]
        axis.major_label_text_font_size = size["tick"]
    for legend in fig.legend:
        legend.label_text_font_size = size["legend"]
