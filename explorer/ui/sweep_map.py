"""A story's sensitivity sweeps on the page: run one, watch its progress, see where the story breaks.

`sweep_plot(result)` draws a SweepResult (explorer.stories.sensitivity):

- one assumption: the sweep's metric along the assumption's range, each point coloured by its class, the
  failure thresholds on that metric as dashed lines, the nominal value as a vertical line and the
  breakpoint ringed;
- two assumptions: a categorical map, one cell per grid point coloured by class, the nominal point a
  star and the breakpoint ringed;
- Morris screening (three or more): bars of mu* (mean absolute elementary effect) and sigma per assumption,
  largest mu* first.

Colours are Okabe-Ito, readable with the common colour-vision deficiencies: good #009E73, fails safely
#E69F00, fails catastrophically #D55E00.

`SweepRunner` is the panel the story editor embeds: a select of the story's sweeps, Run and Stop, a
progress bar, the verdict and breakpoint in words, and the map. On a server the sweep runs in a
background thread, serially by default (one session should not start a process pool on a shared
server; `workers` or `scheduler` opt in), and hands every change to the page through
`pn.state.execute(..., schedule=True)` with the session's document current, so the page stays live and
Stop takes effect after the point under way. Without a session (a notebook, a test) it runs in the
calling thread. Story text (sweep ids, assumption names) reaches the page only as escaped text.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import partial
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # registers the bokeh plotting back end for .opts
import numpy as np
import pandas as pd
import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.stories.model import Story
from explorer.stories.sensitivity import CLASSES, VERDICTS, Axis, Point, SweepResult, run_sweep
from explorer.ui import markup
from explorer.ui.page_thread import Worker, on_page, progress_reporter

#: Okabe-Ito colours of the point classes.
CLASS_COLORS = {"good": "#009E73", "fails_safely": "#E69F00", "fails_catastrophically": "#D55E00"}
#: The same, keyed by the labels a legend shows.
LABEL_COLORS = {CLASSES[c]: color for c, color in CLASS_COLORS.items()}
#: Okabe-Ito blues for the two Morris statistics.
STAT_COLORS = {"mu*": "#0072B2", "sigma": "#56B4E9"}
#: Seconds between progress updates sent from the worker thread (a browser needs no more).
PROGRESS_INTERVAL = 0.1
HEIGHT = 360


# ---- plots --------------------------------------------------------------------------------------

def sweep_plot(result: SweepResult) -> hv.Element | hv.Overlay:
    """The picture of a sweep: a 1-D strip, a 2-D class map, or Morris bars (see the module docstring)."""
    if result.method == "morris":
        return _morris_plot(result)
    if len(result.axes) == 1:
        return _line_plot(result)
    return _map_plot(result)


def _title(result: SweepResult) -> str:
    if not result.complete:
        return f"Sweep {result.sweep}: stopped after {result.done} of {result.total} points"
    return f"Sweep {result.sweep}: {VERDICTS[result.verdict]}"


def _dim(axis: Axis, name: str) -> hv.Dimension:
    return hv.Dimension(name, label=axis.label(), range=axis.range)


def _metric_columns(points: list[Point]) -> dict[str, str]:
    """Column names for the metrics a sweep kept (metric names hold dots, which bokeh fields must not)."""
    names = list(points[0].metrics) if points else []
    return {name: f"metric_{i}" for i, name in enumerate(names)}


def _numeric(points: list[Point], metric: str) -> bool:
    values = [p.metrics.get(metric) for p in points]
    return any(v is not None for v in values) and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)


def _markers(result: SweepResult, xname: str, yname: str, xy) -> list[hv.Points]:
    """The nominal point (a star) and the breakpoint (a ring), where they are known."""
    kdims = [hv.Dimension(xname, label=result.axes[0].label()),
             hv.Dimension(yname, label=result.axes[1].label() if len(result.axes) > 1 else yname)]
    out = []
    if result.nominal is not None and xy(result.nominal) is not None:
        out.append(hv.Points([xy(result.nominal)], kdims=kdims, label="nominal").opts(
            marker="star", size=18, color="black", line_color="white", tools=[]))
    if result.breakpoint is not None and xy(result.breakpoint) is not None:
        out.append(hv.Points([xy(result.breakpoint)], kdims=kdims, label="breakpoint").opts(
            marker="circle", size=22, fill_alpha=0, line_color="black", line_width=3, color="black", tools=[]))
    return out


def _line_plot(result: SweepResult) -> hv.Overlay:
    axis = result.axes[0]
    points = sorted(result.points, key=lambda p: p.values[axis.name])
    metric = result.output or next((m for m in _metric_columns(points) if _numeric(points, m)), None)
    if metric is None or not _numeric(points, metric):
        metric = None  # nothing numeric to draw: a strip at height 0
    ylabel = metric or "class"
    rows = [{"x": p.values[axis.name], "y": (p.metrics.get(metric) if metric else 0.0),
             "class": CLASSES[p.cls]} for p in points]
    frame = pd.DataFrame(rows, columns=["x", "y", "class"])
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    xdim, ydim = hv.Dimension("x", label=axis.label()), hv.Dimension("y", label=ylabel)
    layers: list[Any] = [hv.Curve(frame, xdim, ydim).opts(color="#999999", line_width=1, tools=[])]
    for cls, label in CLASSES.items():
        part = frame[frame["class"] == label]
        if len(part):
            layers.append(hv.Points(part, kdims=[xdim, ydim], vdims=["class"], label=label).opts(
                color=CLASS_COLORS[cls], size=11, tools=["hover"]))
    layers.append(hv.VLine(axis.nominal).opts(color="black", line_dash="dotted", line_width=1.5))
    for which in ("fails_safely", "fails_catastrophically"):
        for threshold in _thresholds(result, which, metric):
            layers.append(hv.HLine(threshold).opts(color=CLASS_COLORS[which], line_dash="dashed", line_width=1.5))

    def xy(p: Point):
        y = p.metrics.get(metric) if metric else 0.0
        return (p.values[axis.name], y) if y is not None and not isinstance(y, str) else None

    layers += _markers(result, "x", "y", xy)
    # Show the whole range and every threshold, a little padded, so a line is never on the frame.
    pad = axis.width * 0.04
    ys = [*frame["y"].dropna(), *(t for w in ("fails_safely", "fails_catastrophically") for t in _thresholds(result, w, metric))]
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    margin = (hi - lo) * 0.08 or 0.5
    return hv.Overlay(layers).opts(
        title=_title(result), responsive=True, height=HEIGHT, legend_position="right", show_legend=True,
        xlim=(axis.range[0] - pad, axis.range[1] + pad), ylim=(lo - margin, hi + margin))


def _thresholds(result: SweepResult, which: str, metric: str | None) -> list[float]:
    """Numeric right-hand sides of a condition's predicates on `metric` (from their text form)."""
    out = []
    for text in result.conditions.get(which, []):
        name, _, rest = text.partition(" ")
        _op, _, value = rest.partition(" ")
        if name == metric:
            try:
                out.append(float(value))
            except ValueError:
                pass
    return out


def _edges(values: tuple[float, ...], rng: tuple[float, float]) -> np.ndarray:
    """Cell boundaries around sorted grid values: midpoints, and half a step past either end."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 1:
        half = (rng[1] - rng[0]) / 2 or 0.5
        return np.array([v[0] - half, v[0] + half])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _map_plot(result: SweepResult) -> hv.Overlay:
    ax, ay = result.axes
    xe, ye = _edges(ax.values, ax.range), _edges(ay.values, ay.range)
    xi = {v: i for i, v in enumerate(ax.values)}
    yi = {v: j for j, v in enumerate(ay.values)}
    columns = _metric_columns(result.points)
    rows = []
    for p in result.points:
        i, j = xi[p.values[ax.name]], yi[p.values[ay.name]]
        rows.append({"x0": xe[i], "y0": ye[j], "x1": xe[i + 1], "y1": ye[j + 1],
                     "x_value": p.values[ax.name], "y_value": p.values[ay.name], "class": CLASSES[p.cls],
                     **{col: _hoverable(p.metrics.get(name)) for name, col in columns.items()}})
    frame = pd.DataFrame(rows, columns=["x0", "y0", "x1", "y1", "x_value", "y_value", "class", *columns.values()])
    # Value labels differ from the key dimensions' ones: HoloViews fills columns by label, and a shared
    # label would give the hover a cell edge instead of the grid value.
    vdims = [hv.Dimension("x_value", label=f"{ax.name} at the point"),
             hv.Dimension("y_value", label=f"{ay.name} at the point"), "class",
             *(hv.Dimension(col, label=name) for name, col in columns.items())]
    tooltips = [(ax.name, "@x_value{0.000}"), (ay.name, "@y_value{0.000}"), ("class", "@class"),
                *((name, f"@{col}") for name, col in columns.items())]
    present = [CLASSES[c] for c in CLASSES if CLASSES[c] in set(frame["class"])]
    cells = hv.Rectangles(frame, kdims=[_dim(ax, "x0"), _dim(ay, "y0"), "x1", "y1"], vdims=vdims).opts(
        color="class", cmap={label: LABEL_COLORS[label] for label in present}, line_color="white",
        line_width=1, tools=["hover"], hover_tooltips=tooltips, show_legend=True,
        xlim=(xe[0], xe[-1]), ylim=(ye[0], ye[-1]))
    markers = _markers(result, "x0", "y0", lambda p: (p.values[ax.name], p.values[ay.name]))
    return hv.Overlay([cells, *markers]).opts(
        title=_title(result), responsive=True, height=HEIGHT, legend_position="right")


def _hoverable(value: Any) -> Any:
    if value is None:
        return "none"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _morris_plot(result: SweepResult) -> hv.Bars:
    title = f"{_title(result)}: Morris screening of {result.output}"
    if not result.ranking:
        data = []
    else:
        data = [(f"{r['name']} ({r['parameter']})", stat, r[key] if r[key] is not None else np.nan)
                for r in result.ranking for stat, key in (("mu*", "mu_star"), ("sigma", "sigma"))]
    bars = hv.Bars(data, kdims=[hv.Dimension("assumption", label="assumption (parameter)"),
                                hv.Dimension("statistic")],
                   vdims=[hv.Dimension("effect", label=f"effect on {result.output}")])
    return bars.opts(cmap=STAT_COLORS, tools=["hover"], title=title, responsive=True,
                     height=HEIGHT, show_legend=True, legend_position="right", xrotation=20, multi_level=False)


# ---- the runner ---------------------------------------------------------------------------------

def describe(result: SweepResult) -> str:
    """The verdict and breakpoint in plain words (no markup; escape it before putting it in HTML)."""
    if not result.complete:
        head = f"Stopped after {result.done} of {result.total} points; no verdict."
    else:
        head = f"Verdict: {VERDICTS[result.verdict]}."
    parts = [head]
    if result.nominal is not None:
        parts.append(f"Nominal point: {CLASSES[result.nominal.cls]}.")
    bp = result.breakpoint
    if bp is not None:
        where = ", ".join(f"{k} = {v:.4g}" for k, v in bp.values.items())
        parts.append(f"Breakpoint nearest the nominal values: {where} ({CLASSES[bp.cls]}, "
                     f"{bp.distance:.3g} range widths away).")
    elif result.nominal is not None and result.points:
        parts.append("No breakpoint: every point has the nominal point's class.")
    if result.ranking:
        order = " > ".join(r["name"] for r in result.ranking)
        parts.append(f"Morris ranking by mu*: {order}.")
    return " ".join(parts)


class SweepRunner(pn.viewable.Viewer):
    """Pick one of a story's sweeps, run it, stop it, and see its verdict and map."""

    story = param.ClassSelector(class_=Story, allow_None=True, doc="The story whose sweeps are offered.")
    sweep = param.Selector(default=None, objects=[], allow_None=True, label="Sweep",
                           doc="Which of the story's sweeps to run.")
    points = param.Integer(None, allow_None=True, bounds=(2, 101), label="Points",
                           doc="Grid points per assumption (Morris: trajectories); none uses the sweep's own.")
    workers = param.Integer(1, bounds=(1, 64), label="Worker processes",
                            doc="Local processes for the points; 1 runs them in this server's thread, which a "
                                "shared server should keep.")
    scheduler = param.String(None, allow_None=True, label="Dask scheduler",
                             doc="Run the points on this Dask scheduler (tcp://host:port) instead.")

    result = param.ClassSelector(class_=SweepResult, allow_None=True, doc="The last result (possibly partial).")
    message = param.String("", doc="Why the last sweep did not run or did not finish.")
    running = param.Boolean(False, doc="True while a sweep runs.")
    done = param.Integer(0, doc="Points finished in the current or last sweep.")
    total = param.Integer(0, doc="Points in the current or last sweep.")

    def __init__(self, story: Story | None = None, **params):
        super().__init__(story=story, **params)
        self._worker = Worker("story-sweep")
        self._ran: tuple | None = None  # what the result on show was computed from
        self._run_button = pn.widgets.Button(label="Run sweep", color="primary", width=120, sizing_mode="fixed", align="end",
                                             description="Classify every point of the chosen sweep.")
        self._stop_button = pn.widgets.Button(label="Stop", color="warning", disabled=True, width=90,
                                              sizing_mode="fixed", align="end",
                                              description="Stop after the point under way; the points done stay.")
        self._progress = pn.indicators.Progress(value=0, max=1, bar_color="primary", visible=False,
                                                sizing_mode="stretch_width")
        self._run_button.on_click(lambda event: self.run())
        self._stop_button.on_click(lambda event: self.stop())
        self._story_changed()

    # ---- the story -------------------------------------------------------------------------------

    @param.depends("story", watch=True)
    def _story_changed(self):
        ids = [s.id for s in self.story.sweeps] if self.story is not None else []
        keep = self.sweep if self.sweep in ids else (ids[0] if ids else None)
        if keep is None:  # clear the value first: a Selector with no objects would take None in as one
            self.sweep = None
            self.param.sweep.objects = ids
        else:
            self.param.sweep.objects = ids
            self.sweep = keep
        self.param.trigger("result")  # a stale note may now apply

    def _signature(self, sweep_id: str | None) -> tuple | None:
        """What a sweep's result depends on in the story: the sweep and the assumptions it uses."""
        if self.story is None or sweep_id not in self.story.sweep_by_id():
            return None
        sweep = self.story.sweep_by_id()[sweep_id]
        known = self.story.assumption_by_name()
        return (copy.deepcopy(sweep), tuple(copy.deepcopy(known.get(n)) for n in sweep.assumptions))

    def is_stale(self) -> bool:
        """True when the story's sweep (or an assumption it uses) changed since the result was computed."""
        return self.result is not None and (self._ran is None or self._signature(self._ran[0]) != self._ran[1])

    # ---- running ---------------------------------------------------------------------------------

    def run(self, sync: bool | None = None) -> SweepResult | None:
        """Run the chosen sweep: in a background thread on a server (sync=None), else here.

        A user error shows in `message` and returns None instead of raising; a programming error raises.
        """
        if self.running:
            return None
        if self.story is None or self.sweep is None:
            self.message = "This story has no sweeps to run; add one to its front matter."
            return None
        doc = pn.state.curdoc
        if sync is None:
            sync = doc is None or doc.session_context is None
        self._worker.stop_with(doc)  # a closed tab stops its sweep
        # a copy (without the file's parsed YAML), so edits made while it runs do not reach it
        story, sweep_id = copy.deepcopy(dataclasses.replace(self.story, source=None)), self.sweep
        signature = (sweep_id, self._signature(sweep_id))
        self._worker.begin()
        self.param.update(message="", running=True, done=0, total=0)
        job = partial(run_sweep, story, sweep_id, points=self.points, workers=self.workers,
                      scheduler=self.scheduler or None, should_stop=self._worker.should_stop)
        if sync:
            return self._run(job, None, signature)
        self._worker.start(self._run, job, doc, signature)
        return None

    def stop(self) -> None:
        """Ask the running sweep to stop after the point under way."""
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background sweep to end; True if none is running afterwards."""
        return self._worker.wait(timeout)

    def _run(self, job, doc, signature) -> SweepResult | None:
        progress = progress_reporter(doc, lambda done, total: self.param.update(done=done, total=total), PROGRESS_INTERVAL)

        try:
            result = job(progress=progress)
        except ExplorerError as exc:
            on_page(doc, partial(self._finish, None, str(exc), signature))
            return None
        except Exception as exc:  # a programming error: say so on the page, keep the traceback
            on_page(doc, partial(self._finish, None, f"The sweep failed: {exc!r}", signature))
            raise
        note = "" if result.complete else f"Stopped after {result.done} of {result.total} points."
        on_page(doc, partial(self._finish, result, note, signature))
        return result


    def _finish(self, result: SweepResult | None, message: str, signature) -> None:
        with param.parameterized.batch_call_watchers(self):
            if result is not None:
                self._ran = signature
                self.param.update(result=result, done=result.done, total=result.total)
            self.param.update(message=message, running=False)

    @param.depends("running", "done", "total", watch=True, on_init=True)
    def _widgets(self):
        if not hasattr(self, "_run_button"):
            return
        self._run_button.disabled = self.running
        self._stop_button.disabled = not self.running
        self._progress.param.update(max=max(self.total, 1), value=min(self.done, max(self.total, 1)),
                                    visible=self.running or self.total > 0)

    # ---- drawing ---------------------------------------------------------------------------------

    def summary(self) -> str:
        """The verdict and breakpoint of the result on show, in words ('' before the first run)."""
        return describe(self.result) if self.result is not None else ""

    @param.depends("result", "message", "running", "done", "total")
    def _status(self):
        if self.running:
            text = f"Running: {self.done} of {self.total or '?'} points."
        elif self.message:
            text = self.message
        elif self.result is None:
            text = "Choose a sweep and press Run sweep to see where the story stops holding."
        else:
            text = self.summary()
            if self.is_stale():
                text += " The story's sweep has changed since then; run it again to bring this up to date."
        css = "color: #B00020;" if self.message and not self.message.startswith("Stopped") else ""
        return markup.html(f'<p style="{css}">{markup.html_text(text)}</p>', sizing_mode="stretch_width")

    @param.depends("result")
    def plot(self):
        """The map of the result on show, or a hint before the first run."""
        if self.result is None:
            return markup.html("<p>No sweep run yet.</p>", sizing_mode="stretch_width")
        return pn.pane.HoloViews(sweep_plot(self.result), sizing_mode="stretch_width", min_height=HEIGHT)

    def __panel__(self):
        select = pn.widgets.Select.from_param(self.param.sweep, width=220)
        return pn.Column(
            pn.Row(select, self._run_button, self._stop_button, sizing_mode="stretch_width"),
            self._progress, self._status, self.plot, sizing_mode="stretch_width")
