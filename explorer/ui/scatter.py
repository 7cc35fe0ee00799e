"""The essay's picture: every program at (average compute, training performance).

Programs above the performance threshold look good to training; each prior then picks one of them.
Drawing where misbehaviour sits (a short line left of each goof-off or deceptive program, as long as the
compute it wastes on average) shows why an average-case speed prior sees it and a max prior may not.

Tables reach 1e6 rows and more, which a browser cannot draw as glyphs. Above `max_points` programs the
whole table is rasterised by datashader (one count per kind per pixel, coloured like the glyphs) and only
a fixed random sample is drawn as glyphs, which is what carries the hover tool.
"""

from __future__ import annotations

import weakref

import datashader as ds
import datashader.transfer_functions as tf
import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh plotting back end for .opts)
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, LabelSet
from holoviews.operation.datashader import datashade, rasterize

from explorer.priors import PRIORS
from explorer.table import KINDS
from explorer.ui.comparison import KIND_COLORS, scale_fonts
from explorer.ui.state import SimulationState

#: Shape per kind, so kinds stay apart without colour too (printouts, colour-vision deficiencies).
KIND_MARKERS = {"honest": "circle", "goof_off": "triangle", "deceptive": "diamond", "lookup": "square"}

#: The sample is drawn with this seed, so the same programs stay on screen from one update to the next.
SAMPLE_SEED = 0

#: Columns of the drawn points, in the order the hover tool lists them.
POINT_COLUMNS = ("avg_compute", "train_perf", "kind", "max_compute", "bits", "heldout_perf", "misbehaviour_compute",
                 "index")

X = hv.Dimension("avg_compute", label="average compute per task")
Y = hv.Dimension("train_perf", label="training performance")

_KIND_DTYPE = pd.CategoricalDtype(list(KINDS))

#: Vertical gap, in training-performance units, between a MAP highlight and its label (and between labels).
LABEL_STEP = 0.04
#: Size of the picks' labels (before the page's larger type scales it).
PICK_FONT_PX = 12
#: Marks a figure that already carries the MAP picks (hooks can run again on the same figure).
PICKS_TAG = "explorer-map-picks"

#: Room around the programs, as a share of each axis's span (x, y): above y = 1 for the rings of picks
#: that score full marks.
PADDING = (0.05, 0.08)

#: The compute budget's line: Okabe-Ito reddish purple, a colour no kind uses.
BUDGET_COLOR = "#CC79A7"

_TOOLTIPS = [
    ("program", "@index"),
    ("kind", "@kind"),
    ("avg compute", "@avg_compute{0.000}"),
    ("max compute", "@max_compute{0.000}"),
    ("bits", "@bits{0.0}"),
    ("train perf", "@train_perf{0.000}"),
    ("held-out perf", "@heldout_perf{0.000}"),
    ("misbehaviour", "@misbehaviour_compute{0.000}"),
]


def prior_label(prior: str) -> str:
    """A prior's name as the plots print it."""
    return prior.replace("_", " ")


class ProgramScatter(pn.viewable.Viewer):
    """Programs by average compute and training performance, with the threshold, budget and MAP picks."""

    state = param.ClassSelector(class_=SimulationState, constant=True, doc="The simulation this view draws.")
    max_points = param.Integer(
        5_000, bounds=(1, 1_000_000),
        doc="Draw at most this many programs as glyphs (with hover); above it, rasterise the whole table.")
    height = param.Integer(480, bounds=(200, 2000), doc="Plot height in pixels.")
    table_revision = param.Integer(
        0, precedence=-1, doc="Bumped when the table itself changes, so a weight change does not re-rasterise it.")
    lines_revision = param.Integer(0, precedence=-1, doc="Bumped when the threshold or the budget moves.")
    font_scale = param.Number(1.0, bounds=(0.5, 3.0), doc="Text size relative to Bokeh's defaults (a projector's larger type).")

    def __init__(self, **params):
        super().__init__(**params)
        if self.state is None:  # a notebook may start from the defaults
            with param.edit_constant(self):
                self.state = SimulationState()
        self._sample_cache: tuple | None = None  # (n, max_points, indices)
        self._frame_cache: tuple | None = None  # (table, max_points, frame)
        self._population_cache: tuple | None = None  # (table, frame)
        self._segments_cache: tuple | None = None  # (frame, segments)
        self._pane: pn.pane.HoloViews | None = None
        self._template_cache: dict[str, dict] = {}
        self._shown: tuple | None = None
        self._table_seen = self.table
        pri = self.state.simulation.priors
        self._lines_seen = (pri.performance_threshold, pri.compute_budget)
        self._pick_sources: list[ColumnDataSource] = []  # one per figure drawn (a served page, a notebook cell)
        self._figures: list = []  # the live figures, whose text follows font_scale
        self.state.param.watch(self._on_update, "version")
        self.param.watch(self._on_update, "max_points")
        self.param.watch(self._scale_fonts, "font_scale")

    # ---- data -----------------------------------------------------------------------------------

    @property
    def table(self):
        return self.state.simulation.table()

    @property
    def dense(self) -> bool:
        """Whether the table has more programs than max_points (then it is rasterised)."""
        return len(self.table) > self.max_points

    def sample_indices(self) -> np.ndarray:
        """Sorted row numbers of the programs drawn as glyphs: all of them, or a fixed random sample."""
        n = len(self.table)
        if n <= self.max_points:
            return np.arange(n)
        key = (n, self.max_points)
        if self._sample_cache is None or self._sample_cache[:2] != key:
            rng = np.random.default_rng(SAMPLE_SEED)
            self._sample_cache = (*key, np.sort(rng.choice(n, self.max_points, replace=False)))
        return self._sample_cache[2]

    def frame(self, sample: bool = True) -> pd.DataFrame:
        """The programs drawn as glyphs (`sample=True`), or every program of the table (`sample=False`)."""
        table = self.table
        if not sample:
            return self._gather(table, None)
        if self._frame_cache is None or self._frame_cache[0] is not table or self._frame_cache[1] != self.max_points:
            self._frame_cache = (table, self.max_points, self._gather(table, self.sample_indices()))
        return self._frame_cache[2]

    @staticmethod
    def _gather(table, indices) -> pd.DataFrame:
        # Take the rows on the table's back end first, so only the sample crosses to the host.
        be = table.backend
        if indices is None:
            index = np.arange(len(table))
            cols = {c: be.to_numpy(getattr(table, c)) for c in POINT_COLUMNS if c not in ("kind", "index")}
            codes = be.to_numpy(table.kind)
        else:
            index = indices
            at = be.asarray(indices)
            cols = {c: be.to_numpy(be.xp.take(getattr(table, c), at))
                    for c in POINT_COLUMNS if c not in ("kind", "index")}
            codes = be.to_numpy(be.xp.take(table.kind, at))
        kind = pd.Categorical.from_codes(codes.astype(np.int8), dtype=_KIND_DTYPE, validate=False)
        return pd.DataFrame({**cols, "kind": kind, "index": index}, columns=list(POINT_COLUMNS), copy=False)

    @staticmethod
    def _gather_empty() -> pd.DataFrame:
        cols = {c: np.empty(0) for c in POINT_COLUMNS}
        cols["kind"] = pd.Categorical([], dtype=_KIND_DTYPE)
        cols["index"] = np.empty(0, dtype=np.int64)
        return pd.DataFrame(cols, columns=list(POINT_COLUMNS))

    def population(self) -> pd.DataFrame:
        """Every program's x, y and kind: what the rasterised layer counts."""
        table = self.table
        if self._population_cache is None or self._population_cache[0] is not table:
            be = table.backend
            codes = be.to_numpy(table.kind).astype(np.int8)
            frame = pd.DataFrame({
                "avg_compute": be.to_numpy(table.avg_compute),
                "train_perf": be.to_numpy(table.train_perf),
                "kind": pd.Categorical.from_codes(codes, dtype=_KIND_DTYPE, validate=False),
            }, copy=False)
            self._population_cache = (table, frame)
        return self._population_cache[1]

    def segments(self) -> pd.DataFrame:
        """For each drawn program that misbehaves: the part of its average compute spent misbehaving."""
        df = self.frame()
        if self._segments_cache is None or self._segments_cache[0] is not df:
            self._segments_cache = (df, self._segments(df))
        return self._segments_cache[1]

    @staticmethod
    def _segments(df: pd.DataFrame) -> pd.DataFrame:
        mis = df[df["misbehaviour_compute"] > 0]
        return pd.DataFrame({
            "x0": mis["avg_compute"] - mis["misbehaviour_compute"], "y0": mis["train_perf"],
            "x1": mis["avg_compute"], "y1": mis["train_perf"],
            "kind": mis["kind"].astype(str), "color": mis["kind"].map(KIND_COLORS).astype(str),
            "misbehaviour_compute": mis["misbehaviour_compute"], "index": mis["index"],
        })

    def highlights(self) -> pd.DataFrame:
        """One row per program some prior selects (MAP), naming every prior that selects it."""
        picks: dict[int, dict] = {}
        for prior in PRIORS:
            m = self.state.results[prior].map
            if m is None:
                continue
            keep = {k: m[k] for k in ("index", "kind", "avg_compute", "train_perf")}
            row = picks.setdefault(m["index"], {**keep, "priors": []})
            row["priors"].append(prior_label(prior))
        rows = [{**r, "priors": ", ".join(r["priors"])} for r in picks.values()]
        return pd.DataFrame(rows, columns=["index", "kind", "avg_compute", "train_perf", "priors"])

    # ---- holoviews --------------------------------------------------------------------------------

    def layers(self) -> hv.Overlay:
        """Everything but the raster: sample glyphs, misbehaviour lines, threshold, budget, MAP picks."""
        return self.table_layers() * self.selection_layers()

    def table_layers(self) -> hv.Overlay:
        """The layers that change only with the table: the sampled glyphs and the misbehaviour lines.

        Each layer is a clone of a styled template (setting holoviews options costs more than building
        the element, so it is done once), and the layers are the same for every state, empty where
        there is nothing to draw, so a DynamicMap can update them in place.
        """
        df = self.frame()
        t = self._templates(self.dense)
        return hv.Overlay([t["segments"].clone(self.segments()), *(t[kind].clone(df[df["kind"] == kind]) for kind in KINDS)])

    def selection_layers(self) -> hv.Overlay:
        """The layers the prior settings move: threshold, budget and the MAP picks (static, for exports)."""
        t = self._templates(self.dense)
        picks = self.pick_data()
        return self.line_layers() * hv.Overlay([t["maps"].clone(picks), t["map_labels"].clone(picks.assign(train_perf=picks["label_y"]))])

    def line_layers(self) -> hv.Overlay:
        """The threshold and the compute budget, labelled."""
        pri = self.state.simulation.priors
        df = self.frame()
        t = self._templates(self.dense)
        threshold = pri.performance_threshold
        x_left = float(df["avg_compute"].min()) if len(df) else 0.0
        line = t["threshold"].clone(pd.DataFrame({"train_perf": [threshold]}))
        line_label = t["threshold_label"].clone(pd.DataFrame({
            "avg_compute": [x_left], "train_perf": [threshold], "text": [f"looks good: train perf ≥ {threshold:g}"]}))
        bx = [] if pri.compute_budget is None else [pri.compute_budget]
        budget = t["budget"].clone(pd.DataFrame({"avg_compute": bx}))
        budget_label = t["budget_label"].clone(pd.DataFrame({
            "avg_compute": bx, "train_perf": [0.02] * len(bx),
            "text": [f"compute budget {b:g} (on max compute)" for b in bx]}))
        return hv.Overlay([line, line_label, budget, budget_label])

    def pick_data(self) -> pd.DataFrame:
        """The MAP picks with where each label goes. Picks look good, so they sit near the top of the axis:
        their labels stack downwards, one step each, so neighbouring picks stay readable and inside the plot.
        A pick in the right half of the drawn programs' compute range is labelled to its left (`align`,
        `dx` in pixels), so no label runs off the plot's right edge."""
        picks = self.highlights().sort_values("avg_compute")
        x = self.frame()["avg_compute"]
        middle = (float(x.min()) + float(x.max())) / 2 if len(x) else 0.0
        right = (picks["avg_compute"] > middle).to_numpy()
        return picks.assign(label_y=picks["train_perf"] - LABEL_STEP * (1 + np.arange(len(picks))),
                            align=np.where(right, "right", "left"),
                            dx=np.where(right, -12.0, 12.0)).reset_index(drop=True)

    def _add_picks(self, plot, element) -> None:
        """HoloViews hook: draw the MAP picks as plain bokeh glyphs on the figure, once per figure.

        A slider move changes only the picks; patching their ColumnDataSource sends a few numbers,
        where re-rendering a holoviews layer costs tens of milliseconds on every move.
        """
        fig = plot.state
        if fig not in self._figures:
            self._figures.append(fig)
        if self.font_scale != 1.0:  # HoloViews sets its own sizes on each update: only a larger type overrides them
            scale_fonts(fig, self.font_scale)  # (at 1.0, setting them too sent two changes on every slider move)
            for labels in fig.select(LabelSet):
                labels.text_font_size = f"{round(PICK_FONT_PX * self.font_scale)}px"
        if PICKS_TAG in fig.tags:
            return
        source = ColumnDataSource(self.pick_data().to_dict(orient="list"))
        self._pick_sources.append(source)
        circles = fig.scatter("avg_compute", "train_perf", source=source, marker="circle", size=20, fill_alpha=0, level="overlay",
                              line_color="black", line_width=2.5)
        fig.add_layout(LabelSet(x="avg_compute", y="label_y", text="priors", source=source, text_baseline="top",
                                text_align={"field": "align"}, x_offset={"field": "dx"},
                                text_font_size=f"{round(PICK_FONT_PX * self.font_scale)}px", text_font_style="bold", text_color="black",
                                background_fill_color="white", background_fill_alpha=0.7, level="overlay"))
        fig.add_tools(HoverTool(renderers=[circles], tooltips=[("MAP of", "@priors"), ("program", "@index"), ("kind", "@kind")]))
        fig.tags = [*fig.tags, PICKS_TAG]

    def _templates(self, dense: bool) -> dict:
        key = "dense" if dense else "sparse"
        if key not in self._template_cache:
            self._template_cache[key] = _templates(dense)
        return self._template_cache[key]

    def raster(self, points: hv.Points | hv.DynamicMap, dynamic: bool):
        """Count programs per kind per pixel; coloured with the kinds' colours."""
        size = {} if dynamic else {"width": 600, "height": 400}  # dynamic: the plot's own size
        counts = rasterize(points, aggregator=ds.count_cat("kind"), dynamic=dynamic, **size)
        return counts.opts(cmap=KIND_COLORS, alpha=0.9)

    def shaded(self, points: hv.DynamicMap) -> hv.DynamicMap:
        """The live page's raster: counted and coloured on the server, so the browser draws one RGBA image.

        The same counts as `raster`, but an ImageStack leaves the colouring to the browser (an equalised
        histogram over every pixel of every kind, some 50 ms of each update at 1e5 programs on these
        machines) and HoloViews gives it a new colour mapper on each update, which makes Bokeh re-walk
        the page's whole document on the server. Zooming still re-aggregates.
        """
        return datashade(points, aggregator=ds.count_cat("kind"), color_key=KIND_COLORS, dynamic=True).opts(
            alpha=0.9, show_legend=False)  # the sampled glyphs carry the kinds' legend, with their markers

    def _population_points(self, *_):
        return hv.Points(self.population(), [X, Y], ["kind"])

    def element(self) -> hv.Overlay:
        """The whole plot for the current state, as a static holoviews object (for tests and export)."""
        layers = self.layers()
        if self.dense:
            layers = self.raster(self._population_points(), dynamic=False) * layers
        return self._style(layers)

    def _style(self, obj, live: bool = False):
        # Short enough for the plot's width beside the story at 1280x720.
        title = f"{len(self.table):,} programs"
        title += f" ({self.max_points:,} drawn, the rest as density)" if self.dense else ", each drawn"
        return obj.opts(title=title, responsive=True, height=self.height, legend_position="bottom_right",
                        show_grid=True, padding=PADDING, hooks=[weak_hook(self._add_picks)] if live else [])

    def _scale_fonts(self, *_):
        for fig in self._figures:
            scale_fonts(fig, self.font_scale)
            for labels in fig.select(LabelSet):
                labels.text_font_size = f"{round(PICK_FONT_PX * self.font_scale)}px"

    # ---- panel ------------------------------------------------------------------------------------

    def _dynamic(self):
        # Options go on the outermost object: an overlay of two DynamicMaps makes new frames, which
        # would drop options set on the frames of either.
        # One stream for everything that follows the table, so a new table re-renders the plot once (two
        # streams on the same parameter refreshed it twice, rasterising and sending the image twice).
        table = hv.streams.Params(parameterized=self, parameters=["table_revision", "max_points"])
        glyphs = hv.DynamicMap(lambda **_: self.table_layers(), streams=[table])
        lines = hv.DynamicMap(pn.bind(lambda *_: self.line_layers(), self.param.lines_revision, self.param.max_points))
        # Only the glyphs decide the axes: a weight change must not rescale them (and re-rasterise).
        # The MAP picks are not a layer: `_add_picks` draws them and `_on_update` patches them.
        top = glyphs.opts(framewise=True) * lines.opts(framewise=False)
        if self.dense:
            population = hv.DynamicMap(lambda **_: self._population_points(), streams=[table])
            top = self.shaded(population) * top
        return self._style(top, live=True)

    def _shape(self) -> tuple:
        """What the plot's structure and title depend on; the pane is rebuilt only when it changes."""
        return self.dense, len(self.table), self.max_points

    def _on_update(self, *_):
        new_table = self._table_seen is not self.table
        self._table_seen = self.table
        pri = self.state.simulation.priors
        new_lines = (pri.performance_threshold, pri.compute_budget) != self._lines_seen
        self._lines_seen = (pri.performance_threshold, pri.compute_budget)
        if self._pane is not None and self._shape() != self._shown:
            self._shown = self._shape()
            self._pick_sources = []
            self._figures = []
            with param.discard_events(self):  # the new plot reads the new table; the old one is dropped
                self.table_revision += new_table
                self.lines_revision += new_lines
            self._pane.object = self._dynamic()
        else:
            if new_table:
                if not new_lines and self._patch_table():
                    with param.discard_events(self):  # a zoom's re-rendering must read the new table
                        self.table_revision += 1
                else:
                    self.table_revision += 1
            if new_lines:
                self.lines_revision += 1
        data = self.pick_data().to_dict(orient="list")
        for source in self._pick_sources:
            source.data = data

    def _patch_table(self) -> bool:
        """Put a new table into the live plots by hand: the sampled glyphs' and the misbehaviour lines' data,
        the raster, and the axes fitted to the new programs. False (nothing changed) where there is no live
        plot or one does not have the layers expected; HoloViews then re-renders as usual.

        A new table is every world slider's move. HoloViews re-rendering the plot for it cost some 100 ms
        of the server's time at 1e5 programs on these machines, most of it Bokeh re-walking the page's whole
        document (HoloViews freezes the document around every plot update, and unfreezing recomputes its
        models) and recomputing ranges and styles that a new table does not change. Here each layer's
        data comes from that layer's own HoloViews plot (`get_data`, so the columns are the ones it drew),
        and the raster is the same datashade operation run once over the new axes at the drawn image's size.
        Zooming afterwards re-renders through HoloViews as before (the table revision is bumped silently,
        so it reads the new table).
        """
        plots = [plot for plot, _ in self._pane._plots.values()] if self._pane is not None else []
        if not plots:
            return False
        frame, segments, t = self.frame(), self.segments(), self._templates(self.dense)
        x_range, y_range = self._fitted_ranges()
        updates, shaded = [], {}  # shaded: one raster per image size, whichever plots (pages) show it
        for plot in plots:
            for sub in getattr(plot, "subplots", {}).values():
                el, source = sub.current_frame, sub.handles.get("source")
                if el is None or source is None:
                    continue
                if isinstance(el, hv.RGB):
                    height, width = source.data["image"][0].shape
                    if (width, height) not in shaded:
                        shaded[width, height] = self._raster_data(x_range, y_range, width, height)
                    if set(shaded[width, height]) != set(source.data):
                        return False
                    updates.append((source, shaded[width, height]))
                    continue
                elif isinstance(el, hv.Segments):
                    layer, template = segments, t["segments"]
                elif isinstance(el, hv.Points) and el.label in KINDS:
                    layer, template = frame[frame["kind"] == el.label], t[el.label]
                else:
                    continue  # the threshold, the budget and their labels do not follow the table
                data = layer_data(layer, source.data)
                if data is None:  # a column HoloViews derives: let it
                    new = template.clone(layer)
                    data = sub.get_data(new, sub.current_ranges or {}, sub.style[sub.cyclic_index])[0]
                    for column in set(source.data) - set(data):  # styles mapped from a column (the lines' colour)
                        if column in new.data:
                            data[column] = new.data[column].to_numpy()
                if set(data) != set(source.data):
                    return False
                updates.append((source, data))
            fig = plot.state
            if not hasattr(fig.x_range, "start") or not hasattr(fig.y_range, "start"):
                return False
        for source, data in updates:
            source.data = data
        for plot in plots:
            plot.state.x_range.update(start=x_range[0], end=x_range[1])
            plot.state.y_range.update(start=y_range[0], end=y_range[1])
        return True

    def _raster_data(self, x_range, y_range, width: int, height: int) -> dict:
        """The live raster's image source data for the current table, straight from datashader: the picture
        `shaded` draws (the same counts per kind, the same colouring; a test holds them equal), without the
        HoloViews operation around it, whose parameter objects and element copies cost about as much again
        as the counting and colouring themselves (some 25 ms of a world slider's move at 1e5 programs)."""
        canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=x_range, y_range=y_range)
        counts = canvas.points(self.population(), X.name, Y.name, agg=ds.count_cat("kind"))
        shaded = tf.shade(counts, color_key=KIND_COLORS, how="eq_hist", min_alpha=40, rescale_discrete_levels=True)
        image = np.asarray(shaded.data, dtype=np.uint32)  # HoloViews' shade defaults, above
        image = np.where(image >> 24 == 0, np.uint32(0), image)  # an empty pixel: fully transparent, as HoloViews sends it
        return {"image": [image], "x": [float(x_range[0])], "y": [float(y_range[0])],
                "dw": [float(x_range[1] - x_range[0])], "dh": [float(y_range[1] - y_range[0])]}

    def _fitted_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The axes for the current table: every program, the misbehaviour lines' starts and the threshold,
        padded as the plot's `padding` option pads them."""
        pop, segments = self.population(), self.segments()
        x = [float(pop["avg_compute"].min()), float(pop["avg_compute"].max())]
        if len(segments):
            x[0] = min(x[0], float(segments["x0"].min()))
        y = [float(pop["train_perf"].min()), float(pop["train_perf"].max())]
        threshold = self.state.simulation.priors.performance_threshold
        y = [min(y[0], threshold), max(y[1], threshold)]
        (px, py) = PADDING
        dx, dy = (x[1] - x[0]) or 1.0, (y[1] - y[0]) or 1.0
        return (x[0] - px * dx, x[1] + px * dx), (y[0] - py * dy, y[1] + py * dy)

    def __panel__(self):
        if self._pane is None:
            self._shown = self._shape()
            self._pane = pn.pane.HoloViews(self._dynamic(), sizing_mode="stretch_width", css_classes=["program-scatter"])
        return self._pane


def layer_data(layer: pd.DataFrame, columns) -> dict | None:
    """A glyph layer's source data straight from its frame, where every column the source holds is one of
    the frame's: what HoloViews' get_data gives for these layers (a test holds them equal), without the
    element copies and hover lookups around it (some 30 ms of a world slider's move at 1e5 programs)."""
    if not set(columns) <= set(layer.columns):
        return None
    return {c: layer[c].to_numpy() for c in columns}


def weak_hook(method):
    """A HoloViews hook that calls the bound `method` while its object lives, without keeping it alive.

    HoloViews keeps an element's options in a process-wide registry (`hv.Store._custom_options`) until
    every element with that options id is collected. A bound method among the options holds its viewer,
    the viewer holds its pane and the pane that element: a cycle through the registry, so the element
    never dies, and a closed page's whole dashboard (state, table, story) stayed in a served process.
    """
    ref = weakref.WeakMethod(method)

    def hook(plot, element):
        bound = ref()
        if bound is not None:
            bound(plot, element)

    return hook


def _templates(dense: bool) -> dict:
    """Empty, styled elements that `ProgramScatter.layers` clones with each state's data."""
    size, alpha = (4, 0.55) if dense else (6, 0.75)
    empty = ProgramScatter._gather_empty()
    out = {}
    for kind in KINDS:
        out[kind] = hv.Points(empty, [X, Y], list(POINT_COLUMNS[2:]), label=kind).opts(
            color=KIND_COLORS[kind], marker=KIND_MARKERS[kind], size=size + (2 if kind == "deceptive" else 0),
            alpha=alpha, line_color=KIND_COLORS[kind], tools=["hover"], hover_tooltips=_TOOLTIPS)
    seg_cols = ["x0", "y0", "x1", "y1", "kind", "color", "misbehaviour_compute", "index"]
    out["segments"] = hv.Segments(pd.DataFrame(columns=seg_cols),
                                  [hv.Dimension("x0", label=X.label), hv.Dimension("y0", label=Y.label), "x1", "y1"],
                                  ["color", "kind", "misbehaviour_compute", "index"]).opts(
        color="color", line_width=1.5, alpha=0.6, show_legend=False)
    out["threshold"] = hv.HLines(pd.DataFrame({"train_perf": [0.0]}), [Y]).opts(
        color="black", line_dash="dashed", line_width=1.5)
    label_cols = {"avg_compute": [], "train_perf": [], "text": []}
    out["threshold_label"] = hv.Labels(label_cols, [X, Y], "text").opts(
        text_align="left", text_baseline="bottom", text_font_size="9pt", text_color="black")
    out["budget"] = hv.VLines(pd.DataFrame({"avg_compute": []}), [X]).opts(
        color=BUDGET_COLOR, line_width=2, line_dash="dotdash")
    out["budget_label"] = hv.Labels(label_cols, [X, Y], "text").opts(
        angle=90, text_align="left", text_baseline="bottom", text_font_size="9pt", text_color=BUDGET_COLOR)
    pick_cols = pd.DataFrame(columns=["index", "kind", "avg_compute", "train_perf", "priors"])
    out["maps"] = hv.Points(pick_cols, [X, Y], ["kind", "priors", "index"], label="MAP of a prior").opts(
        marker="circle", size=20, fill_alpha=0, line_color="black", line_width=2.5,
        tools=["hover"], hover_tooltips=[("MAP of", "@priors"), ("program", "@index"), ("kind", "@kind")])
    out["map_labels"] = hv.Labels(pick_cols, [X, Y], "priors").opts(
        text_baseline="bottom", text_font_size="9pt", text_font_style="bold", text_color="black",
        background_fill_color="white", background_fill_alpha=0.7)
    return out
