"""Where each prior's chosen program spends its compute, task by task.

The essay's four-task picture: bars for the compute a program spends on each training task, split into
work on the task and misbehaviour. The max speed prior sees only the program's capacity (the solid line);
the average-case prior sees the mean height of the bars (the dashed line). A goof-off's bars reach up to
its capacity on easy tasks, so its average rises while its max stays where it was.

Worlds have from 1 to 4096 tasks. Above `max_bars` tasks, consecutive tasks (in difficulty order) share a
bar whose height is their mean and whose width is their count, so the bars' area still equals the
program's total compute and the dashed line is still their average.

One key above the panels says what the colours and lines are (a legend in each panel repeated it five
times and spilled over its neighbours), and titles stay short enough for a panel half the page wide.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh plotting back end for .opts)
import numpy as np
import pandas as pd
import panel as pn
import param

from explorer.priors import PRIORS
from explorer.ui import markup
from explorer.ui.comparison import KIND_COLORS
from explorer.ui.scatter import prior_label
from explorer.ui.state import SimulationState

#: Work on the task in the honest blue, misbehaviour in the deceptive vermillion (Okabe-Ito).
PART_COLORS = {"task": KIND_COLORS["honest"], "misbehaviour": KIND_COLORS["deceptive"]}
PART_LABELS = {"task": "compute on the task", "misbehaviour": "misbehaviour compute"}

#: Bars of unsolved tasks are drawn at this fill alpha, solved ones at SOLVED_ALPHA (binned bars in between).
UNSOLVED_ALPHA, SOLVED_ALPHA = 0.25, 0.9

#: Gap between neighbouring bars, as a share of a bar's width.
GAP = 0.12

TASK = hv.Dimension("task", label="training tasks, easiest to hardest")
COMPUTE = hv.Dimension("compute", label="compute")

FRAME_COLUMNS = ["prior", "kind", "index", "bar", "first_task", "last_task", "n_tasks", "difficulty", "part",
                 "compute", "bottom", "top", "solved", "max_compute", "avg_compute"]


def bins_of(n_tasks: int, max_bars: int) -> np.ndarray:
    """Bar number of each task rank: n_tasks consecutive ranks into min(n_tasks, max_bars) near-equal bins."""
    bars = min(n_tasks, max_bars)
    return (np.arange(n_tasks) * bars) // n_tasks


class TaskBars(pn.viewable.Viewer):
    """Per-task compute of each prior's MAP program, one small panel per prior."""

    state = param.ClassSelector(class_=SimulationState, constant=True, doc="The simulation this view draws.")
    max_bars = param.Integer(
        64, bounds=(1, 4096), doc="Above this many tasks, neighbouring tasks share a bar (their mean).")
    height = param.Integer(260, bounds=(120, 1000), doc="Height of each prior's panel in pixels.")

    def __init__(self, **params):
        super().__init__(**params)
        if self.state is None:  # a notebook may start from the defaults
            with param.edit_constant(self):
                self.state = SimulationState()
        self._cache: tuple | None = None  # (results, max_bars, frame)
        self._templates: dict | None = None

    # ---- data -----------------------------------------------------------------------------------

    @property
    def binned(self) -> bool:
        return self.state.simulation.world.n_tasks > self.max_bars

    def frame(self) -> pd.DataFrame:
        """One row per (prior, bar, part): a bar is one task, or a bin of consecutive tasks when binned.

        `compute` is the mean compute per task in the bar for that part, `bottom`/`top` where the part's
        block sits in the stack, `solved` the share of the bar's tasks solved. Priors whose MAP is None
        (nothing looks good) have no rows.
        """
        results = self.state.results
        if self._cache is not None and self._cache[0] is results and self._cache[1] == self.max_bars:
            return self._cache[2]
        maps = {p: results[p].map for p in PRIORS if results[p].map is not None}
        frame = pd.DataFrame(columns=FRAME_COLUMNS)
        if maps:
            frame = self._build(maps)
        self._cache = (results, self.max_bars, frame)
        return frame

    def _build(self, maps: dict) -> pd.DataFrame:
        indices = sorted({m["index"] for m in maps.values()})
        detail = self.state.simulation.world.per_task(indices)
        order = np.argsort(detail["difficulty"], kind="stable")
        n_tasks = order.size
        bar = bins_of(n_tasks, self.max_bars)
        bars = int(bar[-1]) + 1
        counts = np.bincount(bar, minlength=bars)
        first = np.searchsorted(bar, np.arange(bars))

        def per_bar(values):  # mean over each bar's tasks, for each program: shape programs x bars
            return np.add.reduceat(values[:, order], first, axis=1) / counts

        task = per_bar(detail["task_compute"])
        mis = per_bar(detail["misbehaviour_compute"])
        solved = per_bar(detail["solved"].astype(float))
        difficulty = np.add.reduceat(detail["difficulty"][order], first) / counts

        parts = []
        for prior, m in maps.items():
            row = indices.index(m["index"])
            common = {"prior": prior, "kind": m["kind"], "index": m["index"], "bar": np.arange(bars),
                      "first_task": first, "last_task": first + counts - 1, "n_tasks": counts, "difficulty": difficulty,
                      "solved": solved[row], "max_compute": m["max_compute"], "avg_compute": m["avg_compute"]}
            parts.append(pd.DataFrame({**common, "part": "task", "compute": task[row], "bottom": 0.0,
                                       "top": task[row]}))
            parts.append(pd.DataFrame({**common, "part": "misbehaviour", "compute": mis[row], "bottom": task[row],
                                       "top": task[row] + mis[row]}))
        return pd.concat(parts, ignore_index=True)[FRAME_COLUMNS]

    def notes(self) -> dict[str, str]:
        """For each prior, why it has no bars (empty when it has)."""
        pri = self.state.simulation.priors
        checks = [f"train perf ≥ {pri.performance_threshold:g}"]
        if pri.generalization_check:
            checks.append("the same on held-out tasks")
        if pri.compute_budget is not None:
            checks.append(f"max compute ≤ {pri.compute_budget:g}")
        note = f"No program looks good ({', '.join(checks)}), so this prior selects nothing."
        return {p: "" if self.state.results[p].map is not None else note for p in PRIORS}

    # ---- holoviews --------------------------------------------------------------------------------

    def panel_for(self, prior: str) -> hv.Overlay:
        """One prior's stacked bars, capacity and average lines, and note, always with the same layers."""
        t = self._styled()
        frame = self.frame()
        rows = frame[frame["prior"] == prior]
        n_tasks = self.state.simulation.world.n_tasks
        top = float(frame["top"].max()) if len(frame) else 1.0
        cap = float(frame["max_compute"].max()) if len(frame) else 1.0
        ylim = (0.0, 1.08 * max(top, cap, 1e-9))

        blocks = []
        for part in PART_COLORS:
            sub = rows[rows["part"] == part]
            width = sub["last_task"] - sub["first_task"] + 1
            blocks.append(t[part].clone(pd.DataFrame({
                "task": sub["first_task"] + GAP / 2 * width, "compute": sub["bottom"],
                "task_end": sub["last_task"] + 1 - GAP / 2 * width, "compute_top": sub["top"],
                "per_task": sub["compute"], "solved": sub["solved"], "difficulty": sub["difficulty"],
                "tasks": [f"{a + 1}-{b + 1}" if a != b else f"{a + 1}"
                          for a, b in zip(sub["first_task"], sub["last_task"])],
                "alpha": UNSOLVED_ALPHA + (SOLVED_ALPHA - UNSOLVED_ALPHA) * sub["solved"],
            })))
        m = self.state.results[prior].map
        span = [0.0, float(n_tasks)] if m is not None else []
        cap_line = t["max"].clone(pd.DataFrame({"task": span, "compute": [m["max_compute"]] * len(span) if m else []}))
        avg_line = t["avg"].clone(pd.DataFrame({"task": span, "compute": [m["avg_compute"]] * len(span) if m else []}))
        note = self.notes()[prior]
        note_text = t["note"].clone(pd.DataFrame({"task": [n_tasks / 2], "compute": [ylim[1] / 2], "text": [note]}))

        title = f"{prior_label(prior)}: " + (f"{m['kind'].replace('_', '-')} (program {m['index']})" if m else "nothing selected")
        if self.binned:
            title += f", {self.max_bars} bars"
        xlabel = TASK.label + (" (bin means)" if self.binned else "")
        return hv.Overlay([*blocks, cap_line, avg_line, note_text]).opts(
            title=title, xlim=(0, n_tasks), ylim=ylim, xlabel=xlabel, responsive=True, height=self.height,
            show_legend=False, framewise=True)

    def key(self) -> str:
        """What the colours and lines mean, once for all panels (HTML built from constants only)."""
        mark = '<span style="color:{};font-weight:700;margin-left:12px">{}</span> {}'
        parts = [mark.format(PART_COLORS[p], "&#9632;", PART_LABELS[p]) for p in PART_COLORS]
        parts += [mark.format("black", "&#9473;&#9473;", "max compute (capacity)"),
                  mark.format("black", "&#9476;&#9476;", "average compute")]
        n_tasks = self.state.simulation.world.n_tasks
        binned = f"; {n_tasks} tasks in {self.max_bars} bars, each the mean of its tasks" if self.binned else ""
        return "".join(parts) + f'<span style="margin-left:12px">faded bars: tasks not solved{binned}</span>'

    def _update(self, prior: str, *_):
        return self.panel_for(prior)

    def element(self) -> hv.Layout:
        """The four panels for the current state, as a static holoviews object (for tests and export)."""
        return self._layout([self.panel_for(p) for p in PRIORS])

    def _layout(self, panels) -> hv.Layout:
        return hv.Layout(panels).cols(2).opts(shared_axes=True, toolbar=None)

    def _styled(self) -> dict:
        # Setting holoviews options costs more than building the elements: style templates once, then clone.
        if self._templates is None:
            self._templates = _templates()
        return self._templates

    # ---- panel ------------------------------------------------------------------------------------

    def __panel__(self):
        maps = [hv.DynamicMap(pn.bind(self._update, p, self.state.param.version, self.param.max_bars)) for p in PRIORS]
        key = markup.html(pn.bind(lambda *_: self.key(), self.state.param.version, self.param.max_bars),
                          sizing_mode="stretch_width", css_classes=["task-bars-key"])
        return pn.Column(key, pn.pane.HoloViews(self._layout(maps), sizing_mode="stretch_width"), sizing_mode="stretch_width")


def _templates() -> dict:
    """Empty, styled elements that `TaskBars.panel_for` clones with each state's data."""
    values = ["per_task", "solved", "difficulty", "tasks", "alpha"]
    rect_cols = pd.DataFrame(columns=["task", "compute", "task_end", "compute_top", *values])
    tooltips = [("tasks", "@tasks"), ("difficulty", "@difficulty{0.00}"), ("compute per task", "@per_task{0.000}"),
                ("solved", "@solved{0%}")]
    out = {}
    for part, color in PART_COLORS.items():
        out[part] = hv.Rectangles(rect_cols, [TASK, COMPUTE, "task_end", "compute_top"], values,
                                  label=PART_LABELS[part]).opts(
            color=color, fill_alpha="alpha", line_color=color, line_alpha=0.9, tools=["hover"],
            hover_tooltips=[("part", PART_LABELS[part]), *tooltips])
    line_cols = pd.DataFrame(columns=["task", "compute"])
    out["max"] = hv.Curve(line_cols, TASK, COMPUTE, label="max compute (capacity)").opts(color="black", line_width=2)
    out["avg"] = hv.Curve(line_cols, TASK, COMPUTE, label="average compute").opts(
        color="black", line_width=2, line_dash="dashed")
    out["note"] = hv.Labels(pd.DataFrame(columns=["task", "compute", "text"]), [TASK, COMPUTE], "text").opts(
        text_font_size="10pt", text_color="#555555")
    return out
