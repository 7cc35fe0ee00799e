"""A regime map on the page: which kind wins where, over two parameters the user picks.

The view reads the base parameters from a SimulationState (whatever the rest of the page has set) and
computes the map on demand, with its own Simulation, so the rest of the page is never touched. On a
server the work runs in a background thread and the page stays live: a progress bar counts cells and a
Stop button ends the run early, keeping the cells already done. In a notebook cell or a test (no server
session) it runs in the calling thread.

Thread safety: the worker thread never touches a widget directly. It hands each update to
`pn.state.execute(..., schedule=True)` with the session's document made current, which queues it on the
server's event loop (Bokeh's next-tick callback) where the document lock is held, as Panel's own
widgets do when they are changed from another thread.

Parameters appear by the controls' labels (explorer.ui.controls.LABELS) in the pickers and on the axes;
the flat names stay the values, as links and the CLI use them. The controls sit in three columns above
the two maps, so each map gets half the page's width.
"""

from __future__ import annotations

from functools import partial

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh plotting back end for .opts)
import numpy as np
import pandas as pd
import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.priors import PRIORS
from explorer.regimes import (
    DEFAULT_RANGES,
    NUMERIC_PARAMS,
    RegimeMap,
    axis_values,
    check_grid,
    default_range,
    regime_map,
)
from explorer.table import KINDS
from explorer.ui import markup
from explorer.ui.comparison import KIND_COLORS
from explorer.ui.controls import LABELS
from explorer.ui.page_thread import Worker, on_page, progress_reporter
from explorer.ui.state import SimulationState

#: Cell labels beyond the four kinds, and their colours.
NO_CANDIDATE, NOT_COMPUTED = "nothing looks good", "not computed"
CELL_COLORS = {**KIND_COLORS, NO_CANDIDATE: "#9E9E9E", NOT_COMPUTED: "#FFFFFF"}

COLOR_BY = {"most posterior mass": "mass", "kind of the MAP program": "map"}

#: Seconds between progress-bar updates sent from the worker thread (a browser needs no more).
PROGRESS_INTERVAL = 0.1


def axis_label(name: str) -> str:
    """A parameter as the page's controls name it (the flat name, in words, for those without a control)."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


#: The pickers' choices: the label shown, the flat name kept.
AXIS_CHOICES = {axis_label(n): n for n in NUMERIC_PARAMS}


class RegimeMapView(pn.viewable.Viewer):
    """Pick two parameters and a prior; see which kind of program that prior favours across the grid."""

    state = param.ClassSelector(class_=SimulationState,
                                doc="The simulation whose current parameters the map starts from.")

    x = param.Selector(default="w_avg", objects=AXIS_CHOICES, label="Horizontal axis",
                       doc="Parameter varied along the horizontal axis; every other parameter keeps the page's value.")
    x_min = param.Number(0.0, label="Horizontal from", doc="Smallest value of the horizontal parameter.")
    x_max = param.Number(1.0, label="Horizontal to", doc="Largest value of the horizontal parameter.")
    y = param.Selector(default="misbehaviour_cost", objects=AXIS_CHOICES, label="Vertical axis",
                       doc="Parameter varied along the vertical axis; must differ from the horizontal one.")
    y_min = param.Number(0.0, label="Vertical from", doc="Smallest value of the vertical parameter.")
    y_max = param.Number(1.0, label="Vertical to", doc="Largest value of the vertical parameter.")
    resolution = param.Integer(12, bounds=(2, 40), label="Cells per axis",
                               doc="Grid points along each axis; the work grows with its square.")
    prior = param.Selector(default="average_speed", objects=list(PRIORS), label="Prior",
                           doc="The prior whose selection is mapped.")
    color_by = param.Selector(default="most posterior mass", objects=list(COLOR_BY), label="Colour cells by",
                              doc="Most posterior mass: the kind holding the largest share of the posterior. "
                                  "MAP kind: the kind of the single most probable program.")

    result = param.ClassSelector(class_=RegimeMap, allow_None=True, doc="The last map computed (possibly partial).")
    message = param.String("", doc="Why the last computation did not run or did not finish.")
    running = param.Boolean(False, doc="True while a map is being computed.")
    settings_revision = param.Integer(0, precedence=-1, doc=(
        "Bumped when the page's settings change while a map is shown (its current-settings mark and the stale "
        "note follow them); before the first map nothing here depends on them, so a slider move skips it."))

    def __init__(self, state: SimulationState | None = None, **params):
        given = set(params)
        super().__init__(state=state or SimulationState(), **params)
        if not {"x_min", "x_max"} & given:
            self._reset_x_range()
        if not {"y_min", "y_max"} & given:
            self._reset_y_range()
        self._worker = Worker("regime-map")
        self._compute_button = pn.widgets.Button(
            label="Compute", color="primary",
            description="Compute the map over the grid, starting from the page's current parameters.")
        self._stop_button = pn.widgets.Button(
            label="Stop", color="warning", disabled=True,
            description="End the computation now; the cells already done stay on the map.")
        self._progress = pn.indicators.Progress(value=0, max=1, bar_color="primary", sizing_mode="stretch_width")
        self.state.param.watch(self._settings_changed, "version")
        self._compute_button.on_click(lambda event: self.compute())
        self._stop_button.on_click(lambda event: self.stop())

    # ---- ranges ----------------------------------------------------------------------------------

    @param.depends("x", watch=True)
    def _reset_x_range(self):
        self.x_min, self.x_max = map(float, default_range(self.x, self.state.simulation.params()))

    @param.depends("y", watch=True)
    def _reset_y_range(self):
        self.y_min, self.y_max = map(float, default_range(self.y, self.state.simulation.params()))

    def axis_values(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid the controls describe (ExplorerError when a range is not valid)."""
        return (axis_values(self.x, self.x_min, self.x_max, self.resolution),
                axis_values(self.y, self.y_min, self.y_max, self.resolution))

    # ---- computing -------------------------------------------------------------------------------

    def compute(self, sync: bool | None = None) -> RegimeMap | None:
        """Compute the map the controls describe.

        sync=None runs in a background thread when there is a server session and in this thread
        otherwise; sync=True always runs here and returns the map. A user error (ExplorerError) shows in
        the alert and returns None instead of raising; a programming error still raises.
        """
        if self.running:
            return None
        try:
            base = self.state.simulation.params()
            xs, ys = self.axis_values()
            xs, ys = check_grid(base, self.x, xs, self.y, ys, self.prior)
        except ExplorerError as exc:
            self.message = str(exc)
            return None
        doc = pn.state.curdoc
        if sync is None:
            sync = doc is None or doc.session_context is None
        job = partial(regime_map, base, self.x, xs, self.y, ys, self.prior, should_stop=self._worker.should_stop)
        self._worker.begin()
        self.message = ""
        self._progress.param.update(value=0, max=len(xs) * len(ys))
        self.running = True
        if sync:
            return self._run(job, None)
        self._worker.start(self._run, job, doc)
        return None

    def stop(self) -> None:
        """Ask the running computation to end after the cell it is on."""
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background computation to end; True if none is running afterwards."""
        return self._worker.wait(timeout)

    def _run(self, job, doc) -> RegimeMap | None:
        progress = progress_reporter(doc, lambda done, _total: setattr(self._progress, "value", done), PROGRESS_INTERVAL)

        try:
            result = self._worker.pooled(lambda: job(progress=progress))  # in the server's line for heavy work
        except ExplorerError as exc:
            on_page(doc, partial(self._finish, None, str(exc)))
            return None
        except Exception as exc:  # a programming error: say so on the page, keep the traceback
            on_page(doc, partial(self._finish, None, f"The map failed: {exc!r}"))
            raise
        note = "" if result.complete else f"Stopped: {int(result.done.sum())} of {result.done.size} cells computed."
        on_page(doc, partial(self._finish, result, note))
        return result


    def _finish(self, result: RegimeMap | None, message: str) -> None:
        with param.parameterized.batch_call_watchers(self):
            if result is not None:
                self.result = result
            self.message = message
            self.running = False

    @param.depends("running", watch=True, on_init=True)
    def _buttons(self):
        if hasattr(self, "_compute_button"):
            self._compute_button.disabled = self.running
            self._stop_button.disabled = not self.running

    # ---- drawing ---------------------------------------------------------------------------------

    def frame(self) -> pd.DataFrame:
        """One row per cell of the last map: its edges, both parameter values, winner and masses."""
        m = self.result
        if m is None:
            return pd.DataFrame()
        xe, ye = _edges(m.x, m.x_values), _edges(m.y, m.y_values)
        jj, ii = np.meshgrid(np.arange(len(m.y_values)), np.arange(len(m.x_values)), indexing="ij")
        jj, ii = jj.ravel(), ii.ravel()
        done = m.done[jj, ii]

        def label(kinds):
            return [k if k is not None else (NO_CANDIDATE if d else NOT_COMPUTED) for k, d in zip(kinds[jj, ii], done)]

        return pd.DataFrame({
            "x0": xe[ii], "y0": ye[jj], "x1": xe[ii + 1], "y1": ye[jj + 1],
            "x_value": m.x_values[ii], "y_value": m.y_values[jj],
            "winner": label(m.winners(COLOR_BY[self.color_by])),
            "most_mass": label(m.winners("mass")), "map_kind": label(m.winners("map")),
            **{f"mass_{k}": m.mass[k][jj, ii] for k in KINDS},
            "actually_good": m.actually_good[jj, ii],
            "candidates": m.n_candidates[jj, ii],
        })

    def _rectangles(self, data: pd.DataFrame, vdim_color: str) -> hv.Rectangles:
        m = self.result
        xl, yl = axis_label(m.x), axis_label(m.y)
        kdims = [hv.Dimension("x0", label=xl), hv.Dimension("y0", label=yl), "x1", "y1"]
        # The value dimensions' labels must differ from the key dimensions' ones: HoloViews fills a
        # column by label, and a shared label gave the hover the cell edge instead of its value.
        vdims = [hv.Dimension("x_value", label=f"{xl} at the cell centre"),
                 hv.Dimension("y_value", label=f"{yl} at the cell centre"), "winner", "most_mass", "map_kind",
                 *(hv.Dimension(f"mass_{k}", label=f"mass {k}") for k in KINDS),
                 hv.Dimension("actually_good", label="mass actually good", range=(0, 1)), "candidates"]
        tooltips = [(xl, "@x_value{0.000}"), (yl, "@y_value{0.000}"), ("most mass", "@most_mass"),
                    ("MAP kind", "@map_kind"), *((f"mass {k}", f"@mass_{k}{{0.000}}") for k in KINDS),
                    ("actually good", "@actually_good{0.000}"), ("programs that look good", "@candidates{0}")]
        return hv.Rectangles(data, kdims=kdims, vdims=vdims).opts(
            color=vdim_color, line_color=None, tools=["hover"], hover_tooltips=tooltips,
            logx=_log_axis(m.x, m.x_values), logy=_log_axis(m.y, m.y_values),
            xlim=(data.x0.min(), data.x1.max()), ylim=(data.y0.min(), data.y1.max()),
            responsive=True, height=420)  # room for a long label up the vertical axis

    def winner_element(self) -> hv.Rectangles:
        """One rectangle per cell, coloured by the winning kind."""
        data = self.frame()
        return self._rectangles(data, "winner").opts(
            cmap={k: CELL_COLORS[k] for k in sorted(set(data.winner))}, show_legend=True,
            legend_position="bottom", legend_cols=3, title=f"{self.result.prior.replace('_', ' ')}: {self.color_by}")

    def good_element(self) -> hv.Rectangles:
        """One rectangle per cell, coloured by the posterior mass on actually good programs."""
        return self._rectangles(self.frame(), "actually_good").opts(
            cmap="viridis", clim=(0, 1), colorbar=True, title="Mass on actually good programs")

    def marker(self, legend: bool = True) -> hv.Points:
        """Where the page's current parameters sit on the map (no point when one of them is unset)."""
        m = self.result
        now = self.state.simulation.params()
        cx, cy = now.get(m.x), now.get(m.y)
        drawable = all(v is not None and (v > 0 or not _log_axis(name, values))
                       for v, name, values in ((cx, m.x, m.x_values), (cy, m.y, m.y_values)))
        points = [(float(cx), float(cy))] if drawable else []
        return hv.Points(points, kdims=[hv.Dimension("x0", label=axis_label(m.x)), hv.Dimension("y0", label=axis_label(m.y))],
                         label="current settings").opts(
            marker="x", size=16, line_width=3, color="black", tools=[], show_legend=legend)

    def _settings_changed(self, *_):
        if self.result is not None:
            self.settings_revision += 1

    @param.depends("result", "color_by", "settings_revision")
    def plot(self):
        """The two maps side by side, with the page's current settings marked; a hint before the first."""
        if self.result is None:
            return markup.markdown("Choose the axes and press **Compute** to map which kind each prior favours.")
        maps = (self.winner_element() * self.marker() + self.good_element() * self.marker(legend=False)).opts(
            shared_axes=True)
        if not self.is_stale():
            return maps
        note = markup.alert("The page's other settings have changed since this map was computed; "
                            "press Compute to bring it up to date.", alert_type="info")
        return pn.Column(note, maps, sizing_mode="stretch_width")

    def is_stale(self) -> bool:
        """True when a parameter other than the two axes differs from the one the map was computed with."""
        m = self.result
        now = self.state.simulation.params()
        return any(now.get(k) != v for k, v in m.base.items() if k not in (m.x, m.y))

    @param.depends("message")
    def _alert(self):
        kind = "warning" if self.message.startswith("Stopped") else "danger"
        return markup.alert(markup.text(self.message), alert_type=kind, visible=bool(self.message))

    def __panel__(self):
        def group(*names):
            return pn.Param(self.param, show_name=False, parameters=list(names), sizing_mode="stretch_width",
                            widgets={"resolution": {"type": pn.widgets.IntSlider}})

        controls = pn.Row(group("x", "x_min", "x_max"), group("y", "y_min", "y_max"),
                          group("resolution", "prior", "color_by"), sizing_mode="stretch_width")
        buttons = pn.Row(self._compute_button, self._stop_button, self._progress, sizing_mode="stretch_width")
        return pn.Column(controls, buttons, self._alert, self.plot, sizing_mode="stretch_width")


def _log_axis(name: str, values: np.ndarray) -> bool:
    """Draw an axis logarithmically when its parameter is spaced that way by default and all values are positive."""
    return DEFAULT_RANGES.get(name, (0, 0, "linear"))[2] == "log" and bool(np.all(np.asarray(values) > 0))


def _edges(name: str, values: np.ndarray) -> np.ndarray:
    """Cell boundaries around sorted axis values: midpoints (geometric on a log axis), half a step past the ends."""
    v = np.asarray(values, dtype=np.float64)
    log = _log_axis(name, v)
    t = np.log(v) if log else v
    if t.size == 1:
        step = 0.5 if log else max(abs(t[0]) * 0.1, 0.5)
        e = np.array([t[0] - step, t[0] + step])
    else:
        mid = (t[1:] + t[:-1]) / 2
        e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e

