"""A training story drawn as an argument map (explorer.stories.argument), beside an app or the editor.

Columns, read left to right: criteria rest on claims, claims rest on claims (the arcs inside the claims
column) and on evidence, evidence assumes assumptions. A node's fill is its status as the caller gives it
(`story check`'s beside an app, the last check's in the editor); a ring around it is what the same test
gives at the page's current settings (green: holds, red: fails), which never changes a status.

Live: `update(statuses, here)` patches the nodes' ColumnDataSource in place, so a slider's change costs
one small patch and never a new plot; `show(argument)` replaces the data (another story). Tapping a node
calls `on_tap(kind, id)` (the editor opens that item's form; the story panel says what the item is and
links to its form in the editor).

Plain Bokeh glyphs in a Panel Bokeh pane: no graph layout library and no network. User text reaches the
page only as canvas text and hover tooltips, whose fields Bokeh escapes (no `{safe}` is used here).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import panel as pn
from bokeh.models import ColumnDataSource, HoverTool, Range1d, TapTool
from bokeh.plotting import figure

from explorer.stories.argument import COLUMNS, KINDS, UNDEFINED, Argument, short
from explorer.ui import markup
from explorer.ui.story_forms import STATUS_COLOURS

log = logging.getLogger(__name__)

#: Fill of a node with no status of its own (criteria, assumptions) and of an undefined reference.
NO_STATUS, UNDEFINED_COLOUR = "#ffffff", "#000000"
#: The ring of a node's test at the page's settings.
HERE_COLOURS = {"holds": "#009E73", "fails": "#D55E00"}
MARKERS = {"criterion": "square", "claim": "circle", "evidence": "diamond", "assumption": "triangle"}
HEADINGS = {"criterion": "criteria", "claim": "claims", "evidence": "evidence", "assumption": "assumptions"}
EDGE_COLOURS = {"rests on": "#555555", "is evidence for": "#999999", "supports": "#999999", "refutes": "#D55E00",
                "assumes": "#d0d0d0"}
ROW_PX, TOP_PX = 22, 34
#: Where each column is drawn: evidence ids are long, so its column has the most room for its labels;
#: criteria are labelled on their left.
X = {"criterion": 0.0, "claim": 1.0, "evidence": 2.0, "assumption": 3.5}
X_RANGE = (-1.55, 4.5)
LEFT_LABELLED = {"criterion"}

Tap = Callable[[str, str], None]


def fill(status: str | None) -> str:
    if status is None:
        return NO_STATUS
    return UNDEFINED_COLOUR if status == UNDEFINED else STATUS_COLOURS.get(status, "#6c757d")


def _y(argument: Argument) -> dict[str, float]:
    """Each node's height: every column spread over the tallest one's rows, row 0 at the top."""
    tallest = max(argument.rows() - 1, 1)
    out = {}
    for c in COLUMNS.values():
        nodes = [n for n in argument.nodes if n.column == c]
        step = tallest / (len(nodes) - 1) if len(nodes) > 1 else 0.0
        for n in nodes:
            out[n.key] = -(n.row * step if len(nodes) > 1 else tallest / 2)
    return out


class ArgumentMap(pn.viewable.Viewer):
    """The map: a Bokeh plot of the argument and an HTML legend under it."""

    def __init__(self, on_tap: Tap | None = None, label_chars: int = 13, min_height: int = 160,
                 css_classes: tuple[str, ...] = ()):
        super().__init__()
        self.on_tap = on_tap
        self.label_chars = label_chars
        self.min_height = min_height
        self.argument = Argument()
        self.nodes = ColumnDataSource(self._node_data(Argument()), name="argument-nodes")
        self.edges = ColumnDataSource(self._edge_data(Argument(), {}), name="argument-edges")
        self.figure = self._figure()
        self.nodes.selected.on_change("indices", self._tapped)
        self.plot = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", css_classes=["argument-map-plot"])
        self.legend = markup.html(legend_html(), sizing_mode="stretch_width", css_classes=["argument-map-legend"])
        self.layout = pn.Column(self.plot, self.legend, sizing_mode="stretch_width",
                                css_classes=["argument-map", *css_classes])

    # ---- data ----------------------------------------------------------------------------------

    def _node_data(self, argument: Argument) -> dict[str, list[Any]]:
        ys = _y(argument)
        nodes = argument.nodes
        return {
            "key": [n.key for n in nodes], "kind": [n.kind for n in nodes], "item": [n.item for n in nodes],
            "x": [X[n.kind] for n in nodes],
            "label_dx": [-14 if n.kind in LEFT_LABELLED else 14 for n in nodes],  # pixels: clear of the ring
            "align": ["right" if n.kind in LEFT_LABELLED else "left" for n in nodes], "y": [ys[n.key] for n in nodes],
            "marker": [MARKERS[n.kind] for n in nodes],
            "label": [self._label(n, any(m.kind == "assumption" for m in nodes)) for n in nodes],
            "text": [short(n.text, 160) for n in nodes], "detail": [short(n.detail, 120) for n in nodes],
            **self._status_data(argument),
        }

    def _label(self, node, assumptions: bool) -> str:
        """A node's label cut to its column's room (criteria have fixed short names; evidence gets the
        assumptions' room when the story has none)."""
        if node.kind == "criterion":
            return node.label
        room = {"assumption": self.label_chars - 4, "evidence": self.label_chars + (0 if assumptions else 4)}
        return short(node.label, room.get(node.kind, self.label_chars))

    @staticmethod
    def _status_data(argument: Argument) -> dict[str, list[Any]]:
        nodes = argument.nodes
        return {
            "status": [n.status or "no status of its own" for n in nodes],
            "fill": [fill(n.status) for n in nodes],
            "here": [n.here or "" for n in nodes],
            "ring": [HERE_COLOURS.get(n.here or "", "rgba(0,0,0,0)") for n in nodes],
        }

    @staticmethod
    def _edge_data(argument: Argument, ys: Mapping[str, float]) -> dict[str, list[Any]]:
        col = {n.key: X[n.kind] for n in argument.nodes}
        data: dict[str, list[Any]] = {k: [] for k in ("x0", "y0", "x1", "y1", "cx0", "cy0", "cx1", "cy1", "colour")}
        for e in argument.edges:
            # Drawn left to right whatever the relation's direction (evidence sits right of its claim).
            a, b = sorted((e.source, e.target), key=lambda k: col[k])
            x0, x1, y0, y1 = col[a], col[b], ys[a], ys[b]
            if x0 == x1:  # a claim resting on a claim: an arc bulging left of the column
                cx0 = cx1 = x0 - 0.45
                x0 += -0.07
                x1 += -0.07
            else:
                x0, x1 = x0 + 0.07, x1 - 0.07
                cx0 = cx1 = (x0 + x1) / 2
            for k, v in zip(("x0", "y0", "x1", "y1", "cx0", "cy0", "cx1", "cy1"), (x0, y0, x1, y1, cx0, y0, cx1, y1)):
                data[k].append(float(v))
            data["colour"].append(EDGE_COLOURS.get(e.relation, "#999999"))
        return data

    def _figure(self):
        p = figure(height=self.min_height, sizing_mode="stretch_width", toolbar_location=None,
                   x_range=Range1d(*X_RANGE), y_range=Range1d(-1, 1), tools="",
                   min_border=4, outline_line_color=None, name="argument-map-figure")
        p.axis.visible = False
        p.grid.visible = False
        p.background_fill_color = p.border_fill_color = "#ffffff"  # a white card, readable in either theme
        p.bezier("x0", "y0", "x1", "y1", "cx0", "cy0", "cx1", "cy1", source=self.edges, line_color="colour",
                 line_width=1.2, line_alpha=0.8)
        ring = p.scatter("x", "y", source=self.nodes, marker="marker", size=23, fill_color=None, line_color="ring",
                         line_width=3.5, name="argument-here")
        nodes = p.scatter("x", "y", source=self.nodes, marker="marker", size=14, fill_color="fill",
                          line_color="#333333", line_width=1, name="argument-status")
        for r in (ring, nodes):  # a tap selects a node; the others keep their colours
            r.nonselection_glyph = None
            r.selection_glyph = None
        labels = p.text("x", "y", text="label", source=self.nodes, x_offset="label_dx", text_font_size="10.5px",
                        text_align="align",
                        text_baseline="middle", text_color="#222222")
        labels.nonselection_glyph = labels.selection_glyph = None
        self.heads = heads = ColumnDataSource({"x": [X[k] for k in KINDS], "text": [HEADINGS[k] for k in KINDS]},
                                              name="argument-headings")
        p.text(x="x", y=0.8, text="text", source=heads, text_font_size="11px", text_font_style="italic",
               text_color="#666666", text_baseline="middle", text_align="center")
        p.add_tools(HoverTool(renderers=[nodes], tooltips=[("", "@kind @item"), ("status", "@status"),
                                                          ("here", "@here"), ("", "@detail"), ("", "@text")]),
                    TapTool(renderers=[nodes]))
        return p

    # ---- showing -------------------------------------------------------------------------------

    def show(self, argument: Argument) -> None:
        """Draw another argument (another story, or a story whose parts changed): new data, same plot."""
        if argument.keys() == self.argument.keys() and argument.edges == self.argument.edges and \
                [(n.text, n.detail) for n in argument.nodes] == [(n.text, n.detail) for n in self.argument.nodes]:
            self.update(argument)
            return
        self.argument = argument
        ys = _y(argument)
        rows = max(argument.rows(), 1)
        self.nodes.selected.indices = []
        self.nodes.data = self._node_data(argument)
        self.edges.data = self._edge_data(argument, ys)
        self.figure.y_range.start, self.figure.y_range.end = -(rows - 1) - 0.6, 1.3
        kinds = [k for k in KINDS if k != "assumption" or any(n.kind == k for n in argument.nodes)]
        self.heads.data = {"x": [X[k] for k in kinds], "text": [HEADINGS[k] for k in kinds]}
        self.figure.x_range.end = X_RANGE[1] if "assumption" in kinds else X["assumption"] + 0.4
        self.figure.height = max(self.min_height, TOP_PX + rows * ROW_PX)

    def update(self, argument: Argument) -> None:
        """New statuses and here-verdicts on the same nodes: a patch of the changed entries only."""
        if argument.keys() != self.argument.keys():
            self.show(argument)
            return
        self.argument = argument
        new = self._status_data(argument)
        patches = {col: [(i, v) for i, v in enumerate(values) if self.nodes.data[col][i] != v]
                   for col, values in new.items()}
        patches = {col: p for col, p in patches.items() if p}
        if patches:
            self.nodes.patch(patches)

    def colours(self) -> dict[str, tuple[str, str]]:
        """(fill, ring) by node key, as the plot has them now."""
        d = self.nodes.data
        return {k: (f, r) for k, f, r in zip(d["key"], d["fill"], d["ring"])}

    def _tapped(self, _attr, _old, new) -> None:
        if not new or self.on_tap is None:
            return
        i = new[0]
        kind, item = self.nodes.data["kind"][i], self.nodes.data["item"][i]
        try:
            self.on_tap(kind, item)
        except Exception:  # a failing handler must not break the plot's session
            log.exception("argument map: tap handler failed")

    def __panel__(self):
        return self.layout


def legend_html() -> str:
    """Swatches for the statuses and the two rings, and what the shapes are (fixed text only; the sanitiser
    keeps colours, not sizes, so the swatches are characters)."""
    def swatch(colour: str, label: str, mark: str = "&#9679;") -> str:
        return (f"<span style='white-space:nowrap;margin:0 8px 0 0'><span style='color:{colour};font-size:1.3em'>"
                f"{mark}</span> {label}</span> ")

    statuses = "".join(swatch(c, s) for s, c in STATUS_COLOURS.items())
    rings = (swatch(HERE_COLOURS["holds"], "holds here", "&#9711;") + swatch(HERE_COLOURS["fails"], "fails here", "&#9711;"))
    return (f"<div class='argument-legend' style='font-size:0.8em;color:#444'>{statuses}"
            f"{swatch('#333333', 'no status (criteria, assumptions)', '&#9675;')}{rings}"
            f"<br>&#9632; criterion &#9679; claim &#9670; evidence &#9650; assumption; a line: rests on, is "
            f"evidence for, assumes. Tap a node to open it.</div>")
