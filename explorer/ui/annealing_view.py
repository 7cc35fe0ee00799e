"""Proposal 0 on screen: one annealing search played step by step, and many searches summarised.

The upper half follows a single run of `explorer.annealing.trace`. Every program of the preset's world
is a dot at (average compute, train performance) in its kind's colour; a veil covers the programs that
are still too costly, so what stays bright is P(C_t), the set the search may draw from at step t. Its
draws so far are crosses and, once one looks good, a star marks it with C* and its kind. Two small
plots beside it give C_t and |P(C_t)| against the step.

The lower half is the Monte Carlo answer to "how slowly is slowly enough?": for each of the three
schedules, `sweep` over DEFAULT_RATIOS (C's rise per step divided by the programs drawn per step), as
shares of each kind found and the median C*. It runs on a worker thread, one sweep point at a time,
so the page stays live and Stop takes effect at the next point.

A setting the core rejects (say a geometric schedule from c_start 0) is shown as a message, and the
last good trace and results stay on screen.

The settings (LINK) are the page's link: `AnnealingView.from_link()` reads them before the first trace,
so the run a link asks for is the one traced, and keeps the link in step after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import (
    BoxAnnotation,
    CDSView,
    ColumnDataSource,
    GroupFilter,
    HoverTool,
    Label,
    Legend,
    LegendItem,
    LinearAxis,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from explorer.annealing import DEFAULT_RATIOS, AnnealingSettings, Trace, sweep, trace
from explorer.errors import ExplorerError
from explorer.jobs import JobCancelled, ordinal
from explorer.priors import looks_good
from explorer.scenarios import SCENARIOS, scenarios_of
from explorer.simulation import Simulation
from explorer.ui import markup
from explorer.ui.comparison import KIND_COLORS
from explorer.ui.number_fields import number_field
from explorer.ui.page_thread import Worker, on_page
from explorer.ui.url import held, sync_params

SCHEDULES = tuple(AnnealingSettings.param.schedule.objects)
#: The animated run stops here if it has found nothing; longer runs would not be watched to the end.
TRACE_MAX_STEPS = 5000
#: Draws per step kept for the picture (the search may draw more; the counts say how many).
SHOW = 64
#: Frames a full play-through takes at most: long runs advance several steps per frame.
MAX_FRAMES = 400
#: Playback speeds: milliseconds per frame.
SPEEDS = {"Slow": 400, "Normal": 150, "Fast": 50}
NONE_COLOR = "#999999"
#: The programs plot's train-performance axis.
Y_RANGE = (-0.04, 1.1)
#: Cells of the grid the world's dots are thinned to (wider than the plot is ever drawn, in pixels).
PIXEL_CELLS = (1200, 600)
#: Okabe-Ito colours not already taken by a kind.
SCHEDULE_COLORS = {"linear": "#56B4E9", "geometric": "#CC79A7", "backoff": "#000000"}
#: The back-off curve often lies exactly on the linear one: linear is drawn first, wide and light, back-off
#: last, thin and dashed on top of it, so both stay visible where they coincide.
SCHEDULE_LINES = {"linear": {"line_width": 7, "alpha": 0.65},
                  "geometric": {"line_width": 3, "alpha": 0.9},
                  "backoff": {"line_width": 2, "alpha": 1.0, "line_dash": "dashed"}}
SCHEDULE_MARKERS = {"linear": {"size": 13, "marker": "circle", "alpha": 0.65},
                    "geometric": {"size": 8, "marker": "square", "alpha": 0.9},
                    "backoff": {"size": 7, "marker": "triangle", "alpha": 1.0}}
CONTROLS = ("scenario", "schedule", "sampling", "search_speed", "rate", "c_start", "seed")
#: The settings a link to this page holds: the search's controls and the Monte Carlo's runs.
LINK = (*CONTROLS, "mc_runs")


@dataclass(frozen=True)
class World:
    """A preset's program table on the host, with what looks good to its training."""

    scenario: str
    table: Any
    mask: Any
    cols: dict[str, np.ndarray]
    good: np.ndarray
    threshold: float
    generalization_check: bool


class AnnealingView(pn.viewable.Viewer):
    """Watch one annealing search raise C, then ask how often many of them find honest programs."""

    scenario = param.Selector(default="goof-off", objects=list(scenarios_of("abstract")), label="Scenario",
                              doc="Preset of the abstract world whose programs the search looks through.")
    schedule = param.Selector(default="linear", objects=list(SCHEDULES), label="Schedule",
                              doc=AnnealingSettings.param.schedule.doc)
    sampling = param.Selector(default="uniform", objects=list(AnnealingSettings.param.sampling.objects),
                              label="Sampling", doc=AnnealingSettings.param.sampling.doc)
    search_speed = param.Integer(8, bounds=(1, 10_000), label="Search speed (draws per step)",
                                 doc=AnnealingSettings.param.search_speed.doc)
    rate = param.Number(0.08, bounds=(1e-4, 10.0), step=0.01, label="Annealing rate",
                        doc=AnnealingSettings.param.rate.doc)
    c_start = param.Number(None, allow_None=True, bounds=(0.0, None), step=0.5, label="C at step 0",
                           doc=AnnealingSettings.param.c_start.doc)
    seed = param.Integer(0, bounds=(0, 2**32 - 1), label="Seed", step=1,
                         doc="Seed of the animated run and of the Monte Carlo; the same seed replays the same "
                             "searches.")
    mc_runs = param.Integer(500, bounds=(10, 100_000), label="Monte Carlo runs per point",
                            doc="Independent searches simulated at each schedule and ratio of the Monte Carlo summary.")

    step = param.Integer(0, bounds=(0, None), doc="The step of the animated run on show.")
    interval = param.Selector(default=SPEEDS["Normal"], objects=list(SPEEDS.values()),
                              doc="Milliseconds per frame while the run plays.")
    playing = param.Boolean(False, doc="Whether the run is playing.")
    traced = param.ClassSelector(class_=Trace, default=None, allow_None=True, doc="The animated run.")
    message = param.String("", doc="Why the last change was not applied (empty when it was).")
    mc_rows = param.List([], doc="Monte Carlo results: one flat row per schedule and ratio.")
    mc_done = param.Integer(0, doc="Monte Carlo points finished in the current or last run.")
    mc_total = param.Integer(0, doc="Monte Carlo points in the current or last run.")
    mc_running = param.Boolean(False, doc="Whether a Monte Carlo run is under way.")
    mc_status = param.String("", doc="What the Monte Carlo results on show were computed from, or how far it got.")

    def __init__(self, n_programs: int = 20_000, retrace: bool = True, **params):
        """retrace=False leaves the first trace to the caller (`from_link` reads the link first)."""
        type(self).param.scenario.objects = list(scenarios_of("abstract"))  # as the user folders are now
        super().__init__(**params)
        self._held = False
        self.n_programs = n_programs
        self._worlds: dict[str, World] = {}
        self._worker = Worker("monte-carlo")
        self.world: World | None = None  # the world of the trace on show (kept while a bad setting is shown)
        self._playback()
        self.run_button = pn.widgets.Button(
            label="Run Monte Carlo", color="primary", width=180, sizing_mode="fixed",
            description="Sweep the three schedules over rate / search speed ratios with these settings; the results "
                        "appear under the animation.")
        self.stop_button = pn.widgets.Button(
            label="Stop", color="warning", disabled=True, width=100, sizing_mode="fixed",
            description="Stop the Monte Carlo after the sweep point under way; the points done stay on show.")
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width",
                                               bar_color="primary")
        self.run_button.on_click(lambda event: self.start_monte_carlo())
        self.stop_button.on_click(lambda event: self.stop_monte_carlo())
        self.param.watch(self._sync_mc_widgets, ["mc_done", "mc_total", "mc_running"])
        self.figures = RunFigures()
        self.status = markup.markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.alert = markup.alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._drawn_world: World | None = None
        if retrace:
            self._retrace()

    @classmethod
    def from_link(cls, **params) -> AnnealingView:
        """The page its link asks for: the link's settings are read before anything is traced, then the link
        follows every change. Settings the core rejects together (geometric from c_start 0) leave the
        defaults on show, and the message says so."""
        view = cls(retrace=False, **params)
        messages: list[str] = []
        with held(view):
            sync_params(view, LINK, messages.append)
        view._retrace()
        if view.traced is None:  # no earlier trace to keep: show the defaults, and say why
            messages.append(f"The link's settings could not be traced together ({view.message}); "
                            "the page shows the default settings.")
            with held(view):
                view.param.update(**{n: view.param[n].default for n in LINK})
            view._retrace()
        view.message = " ".join(messages)
        return view

    # ---- playback ------------------------------------------------------------------------------

    def _playback(self) -> None:
        """The playback controls: buttons named in words, a step slider and a speed, driven from the server.

        Why not Panel's Player: its buttons are glyphs with no name a screen reader (or a room) can read,
        and it advances on a browser timer that waits for each frame to be painted, so a frame that takes
        longer than the interval to paint stretched a 69-step run at 150 ms from 10 s to 28 s. Here a
        periodic callback moves the step by the clock (`_tick`): a run plays in about frames x interval,
        and a slow browser shows fewer frames, not a slower run."""
        self._stride = 1  # steps per frame (long runs play in at most MAX_FRAMES frames)
        self._play_from = (0.0, 0)  # (clock, step) when play was pressed
        self._ticking = False
        self._animator = None
        self._clock = time.monotonic
        self.step_slider = pn.widgets.IntSlider(label="Step", start=0, end=1, value=0, sizing_mode="stretch_width",
                                                margin=(0, 15))
        self.step_slider.link(self, value="step", bidirectional=True)

        def button(label, description, action, **params):
            b = pn.widgets.Button(label=label, description=description, width=params.pop("width", 80),
                                  sizing_mode="fixed", **params)
            b.on_click(lambda event: action())
            return b

        self.first_button = button("First", "Go to step 0 (C at its start).", lambda: self.go(0))
        self.back_button = button("Back", "One frame back.", lambda: self.go(self.step - self._stride))
        self.play_button = button("Play", "Play the run from this step; press again to pause.", self.toggle,
                                  color="primary", width=90)
        self.next_button = button("Next", "One frame forward.", lambda: self.go(self.step + self._stride))
        self.last_button = button("Last", "Go to the last step (the find, or where the run gave up).",
                                  lambda: self.go(self._last()))
        self.speed = pn.widgets.RadioButtonGroup(options=SPEEDS, value=self.interval, width=230, sizing_mode="fixed",
                                                 description="Playback speed: 400, 150 or 50 milliseconds a frame.")
        self.speed.link(self, value="interval", bidirectional=True)

    def _last(self) -> int:
        return max(self.traced.steps - 1, 0) if self.traced is not None else 0

    def go(self, step: int) -> None:
        """Pause and show `step` (kept within the run)."""
        self.pause()
        self.step = min(max(int(step), 0), self._last())

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def play(self) -> None:
        """Play from the step on show (from the start if it is the last), one frame every `interval` ms."""
        if self.traced is None or self._last() == 0:
            return
        if self.step >= self._last():
            self.step = 0
        self._play_from = (self._clock(), self.step)
        self.playing = True
        if self._animator is not None and self._animator.running:
            self._animator.stop()
        self._animator = pn.state.add_periodic_callback(self._tick, period=max(self.interval // 2, 20))

    def pause(self) -> None:
        self.playing = False
        if self._animator is not None and self._animator.running:
            self._animator.stop()

    def _tick(self) -> None:
        """Show the frame the clock has reached since Play (skipping frames a slow page could not show)."""
        if not self.playing:
            return
        started, first = self._play_from
        frames = int((self._clock() - started) * 1000 // self.interval)
        target = min(first + frames * self._stride, self._last())
        if target != self.step:
            self._ticking = True
            try:
                with pn.io.hold():
                    self.step = target
            finally:
                self._ticking = False
        if target >= self._last():
            self.pause()

    @param.depends("step", watch=True)
    def _moved_by_hand(self):
        if self.playing and not self._ticking:  # the slider was dragged while playing: stop there
            self.pause()

    @param.depends("interval", watch=True)
    def _speed_changed(self):
        if self.playing:
            self.play()  # from the step on show, at the new speed

    @param.depends("playing", watch=True, on_init=True)
    def _play_label(self):
        if hasattr(self, "play_button"):
            self.play_button.label = "Pause" if self.playing else "Play"

    # ---- the animated run ----------------------------------------------------------------------

    def _world(self, scenario: str) -> World:
        if scenario not in self._worlds:
            sim = Simulation(**SCENARIOS[scenario].params, n_programs=self.n_programs)
            table, priors = sim.table(), sim.priors
            mask = looks_good(table, priors.performance_threshold, priors.generalization_check, priors.compute_budget)
            self._worlds[scenario] = World(scenario, table, mask, table.to_numpy(), table.backend.to_numpy(mask),
                                           priors.performance_threshold, priors.generalization_check)
        return self._worlds[scenario]

    def _settings(self, **values) -> AnnealingSettings:
        return AnnealingSettings(sampling=self.sampling, search_speed=self.search_speed, seed=self.seed,
                                 c_start=self.c_start, **values)

    @param.depends(*CONTROLS, watch=True)
    def _retrace(self):
        if self._held:
            return
        try:
            world = self._world(self.scenario)
            traced = trace(world.table, world.mask,
                           self._settings(schedule=self.schedule, rate=self.rate, runs=1, max_steps=TRACE_MAX_STEPS),
                           show=SHOW)
        except ExplorerError as exc:
            self.message = str(exc)
            return
        self.world = world
        self.pause()
        self._stride = max(1, -(-traced.steps // MAX_FRAMES))
        self.step_slider.param.update(end=max(traced.steps - 1, 1), step=self._stride)
        self.param.update(traced=traced, step=0, message="")

    def current(self) -> dict[str, Any]:
        """What the animation shows at the current step, as numbers (the status line reads these)."""
        tr = self.traced
        t = min(self.step, max(tr.steps - 1, 0))
        if tr.steps == 0:
            return {"step": 0, "steps": 0, "c": None, "in_p": 0, "good_in_p": 0, "drawn": 0, "found": False,
                    "c_star": None, "kind": None, "row": -1, "last": True}
        best, row = tr.best_until(t)
        return {"step": t, "steps": tr.steps, "c": float(tr.c[t]), "in_p": int(tr.n[t]), "good_in_p": int(tr.k[t]),
                "drawn": int(tr.drawn[:t + 1].sum()), "found": row >= 0,
                "c_star": float(tr.c[best]) if row >= 0 else None,
                "kind": self.world.table.kinds[int(self.world.cols["kind"][row])] if row >= 0 else None,
                "row": row, "last": t == tr.steps - 1}

    def status_text(self) -> str:
        """The status line under the player: the numbers of `current()` in words."""
        now, tr = self.current(), self.traced
        if not now["steps"]:
            return "The world has no programs to search."
        text = (f"**Step {now['step']} of {now['steps'] - 1}.** C = {now['c']:.4g}; P(C) holds {now['in_p']:,} "
                f"programs, {now['good_in_p']:,} of them look good. Programs drawn so far: {now['drawn']:,}.")
        if now["found"]:
            label = "C*" if now["last"] else "lowest C of a find so far"
            text += (f"  \n**Found** a good-looking program of kind **{now['kind']}**: {label} = {now['c_star']:.4g} "
                     f"(c_min, the cheapest good-looking program, is {tr.c_min:.4g}).")
        elif now["last"]:
            why = ("nothing in this world looks good" if not np.isfinite(tr.c_min)
                   else "raise the rate or the search speed")
            text += f"  \n**Nothing found** within {now['steps']} steps; {why}."
        return text

    @param.depends("traced", watch=True)
    def _draw_trace(self):
        if self.world is not self._drawn_world:
            self.figures.show_world(self.world)
            self._drawn_world = self.world
        self.figures.show_trace(self.traced)
        self._draw_step()

    @param.depends("step", watch=True)
    def _draw_step(self):
        if self.traced is not None:
            with pn.io.hold():
                self.figures.show_step(self.traced, self.current())
                self.status.object = self.status_text()

    # ---- the Monte Carlo summary ---------------------------------------------------------------

    def _job(self, runs: int | None, ratios: Sequence[float]) -> dict[str, Any]:
        """Everything a Monte Carlo run needs, read from the view now (raises ExplorerError for a bad setting)."""
        world = self._world(self.scenario)
        runs = self.mc_runs if runs is None else runs
        settings = {s: self._settings(schedule=s, runs=runs) for s in SCHEDULES}
        smallest = float(world.cols["avg_compute"].min()) if len(world.cols["avg_compute"]) else 0.0
        for s in settings.values():
            s.start(smallest)
        ratios = [float(r) for r in ratios]
        if not ratios or any(not r > 0 for r in ratios):
            raise ExplorerError(f"ratios: every ratio must be a positive number, got {ratios}")
        about = (f"{world.scenario}, {self.sampling} sampling, search speed {self.search_speed}, {runs} runs per "
                 f"point, seed {self.seed}")
        return {"world": world, "settings": settings, "ratios": ratios, "about": about}

    def run_monte_carlo(self, runs: int | None = None,
                        ratios: Sequence[float] = DEFAULT_RATIOS) -> list[dict[str, Any]]:
        """Sweep the three schedules here and now (the Run button does this on a worker thread).

        Returns the rows (also put in `mc_rows`); a rejected setting leaves the last results and sets `message`.
        """
        try:
            job = self._job(runs, ratios)
        except ExplorerError as exc:
            self.message = str(exc)
            return []
        self._worker.begin()
        return self._run(job, self.param.update)

    def start_monte_carlo(self) -> bool:
        """Start a Monte Carlo run on a worker thread; False if one is under way or a setting is rejected."""
        if self.mc_running:
            return False
        try:
            job = self._job(None, DEFAULT_RATIOS)
        except ExplorerError as exc:
            self.message = str(exc)
            return False
        self._worker.begin()
        self.mc_running = True
        doc = pn.state.curdoc
        self._worker.stop_with(doc, self.stop_monte_carlo)  # a closed tab stops its work
        publish = self._publisher(doc)
        self._worker.start(self._run_in_line, job, publish)
        return True

    def _run_in_line(self, job: dict[str, Any], publish: Callable[..., None]) -> None:
        """On the worker thread: wait for a slot of the server's heavy-job pool (explorer.jobs), then run."""
        publish(mc_status="Waiting for a free worker (other heavy jobs are running).")
        try:
            self._worker.pooled(lambda: self._run(job, publish),
                                on_wait=lambda place: place and publish(
                                    mc_status=f"Waiting for a free worker: {ordinal(place)} in line."))
        except JobCancelled:
            publish(mc_running=False, mc_status="Stopped while waiting for a free worker.")

    def stop_monte_carlo(self) -> None:
        """Ask the Monte Carlo run under way to stop before its next sweep point."""
        self._worker.stop()

    def _publisher(self, doc) -> Callable[..., None]:
        """How the worker hands parameter values to the page.

        In a served session the change is queued on the server's event loop (see page_thread.on_page).
        """
        return lambda **values: on_page(doc, partial(self.param.update, **values))

    def _run(self, job: dict[str, Any], publish: Callable[..., None]) -> list[dict[str, Any]]:
        world, ratios = job["world"], job["ratios"]
        total = len(SCHEDULES) * len(ratios)
        rows: list[dict[str, Any]] = []
        publish(mc_running=True, mc_done=0, mc_total=total, mc_status=f"Running: {job['about']}.", message="")
        try:
            for schedule in SCHEDULES:
                for ratio in ratios:
                    if self._worker.should_stop():
                        publish(mc_rows=list(rows), mc_running=False,
                                mc_status=f"Stopped after {len(rows)} of {total} points: {job['about']}.")
                        return rows
                    point = sweep(world.table, world.mask, job["settings"][schedule], [ratio])[0]
                    rows.append(_flat(schedule, point, world.table.kinds))
                    publish(mc_done=len(rows))
                publish(mc_rows=list(rows))
        except ExplorerError as exc:
            publish(message=str(exc), mc_running=False, mc_status=f"Not run: {exc}")
            return rows
        except BaseException:
            publish(mc_running=False, mc_status="The Monte Carlo run failed; see the server log.")
            raise
        publish(mc_running=False, mc_status=f"{total} points: {job['about']}.")
        return rows

    def monte_carlo_frame(self) -> pd.DataFrame:
        """The Monte Carlo rows as a table."""
        return pd.DataFrame(self.mc_rows)

    def _sync_mc_widgets(self, *events):
        self.progress.param.update(max=max(self.mc_total, 1), value=min(self.mc_done, max(self.mc_total, 1)),
                                   visible=self.mc_total > 0)
        self.run_button.disabled = self.mc_running
        self.stop_button.disabled = not self.mc_running

    @param.depends("mc_rows")
    def _mc_plots(self):
        if not self.mc_rows:
            return markup.markdown("Press **Run Monte Carlo** to simulate many searches for each schedule.")
        frame = self.monte_carlo_frame()
        kinds = [k for k in (*self.world.table.kinds, "none") if k in frame and (frame[k] > 0).any()]
        colors = {**KIND_COLORS, "none": NONE_COLOR}
        present = [s for s in SCHEDULES if (frame["schedule"] == s).any()]  # fewer after a Stop
        panels = []
        for schedule in present:
            part = frame[frame["schedule"] == schedule]
            data = [(f"{r:g}", k, share) for r, *shares in part[["ratio", *kinds]].itertuples(index=False)
                    for k, share in zip(kinds, shares)]
            bars = hv.Bars(data, kdims=[hv.Dimension("ratio", label="rate / search speed"), "kind"],
                           vdims=[hv.Dimension("share", range=(0, 1))])
            panels.append(bars.opts(stacked=True, cmap=colors, color="kind", tools=["hover"], height=300,
                                    responsive=True, min_width=260, title=f"Kind found: {schedule}",
                                    show_legend=False, xrotation=45))
        ratio = hv.Dimension("ratio", label="annealing rate / search speed")
        median = hv.Dimension("median_c_star", label="median C*")
        curves = [hv.Curve(frame[frame["schedule"] == s], ratio, median, label=s).opts(
                      color=SCHEDULE_COLORS[s], **SCHEDULE_LINES[s])
                  * hv.Scatter(frame[frame["schedule"] == s], ratio, median, label=s).opts(
                      color=SCHEDULE_COLORS[s], **SCHEDULE_MARKERS[s])
                  for s in present]  # in SCHEDULES order: linear first (underneath), back-off last (on top)
        c_min = frame["c_min"].dropna()
        if not c_min.empty:
            curves.append(hv.HLine(float(c_min.iloc[0])).opts(color="#0072B2", line_dash="dotted"))
        medians = hv.Overlay(curves).opts(logx=True, responsive=True, height=300, legend_position="right",
                                          title="Median C* (dotted: c_min, the cheapest good-looking program)",
                                          tools=["hover"])
        # one legend for the three bar charts (one per chart squeezed the last one's axis)
        key = markup.html("Kind found: " + " &nbsp; ".join(
            f"<span style='color:{colors[k]}; font-size: 1.3em'>&#9632;</span> {markup.html_text(k)}" for k in kinds),
            sizing_mode="stretch_width")
        return pn.Column(key, pn.Row(*[pn.pane.HoloViews(p, sizing_mode="stretch_width") for p in panels],
                                     sizing_mode="stretch_width"),
                         pn.pane.HoloViews(medians, sizing_mode="stretch_width"), sizing_mode="stretch_width")

    # ---- the page ------------------------------------------------------------------------------

    @param.depends("message", watch=True)
    def _show_message(self):
        self.alert.param.update(object=markup.text(self.message), visible=bool(self.message))

    def _refuse(self, text: str) -> None:
        """A typed number the page does not take: the field keeps the setting and the message says why."""
        self.message = text

    def controls(self) -> pn.Column:
        """The settings, built once (each number field is in step with its setting, see number_fields)."""
        if getattr(self, "_controls", None) is None:
            p = self.param
            select = {n: pn.widgets.Select.from_param(p[n], label=p[n].label, description=p[n].doc)
                      for n in ("scenario", "schedule", "sampling")}
            number = {n: number_field(self, n, self._refuse)
                      for n in ("search_speed", "rate", "c_start", "seed", "mc_runs")}
            self._controls = pn.Column(
                markup.markdown("#### The search", margin=(0, 10)), select["scenario"],
                pn.Row(select["schedule"], select["sampling"]), number["search_speed"], number["rate"],
                pn.Row(number["c_start"], number["seed"]),
                markup.markdown("#### Monte Carlo", margin=(10, 10, 0, 10)), number["mc_runs"],
                pn.Row(self.run_button, self.stop_button), self.progress, width=320)
        return self._controls

    def __panel__(self):
        scenario = pn.bind(lambda s: markup.markdown(f"**{markup.text(SCENARIOS[s].title)}.** "
                                                     f"{markup.text(SCENARIOS[s].explanation)}",
                                                     margin=(0, 10)), self.param.scenario)
        player_help = pn.widgets.TooltipIcon(
            value="Play, pause or step through the run; each step the search draws its programs, then C moves. "
                  "Speed: Slow, Normal or Fast is 400, 150 or 50 milliseconds a frame. The buttons can be reached "
                  "with Tab and pressed with Enter or Space.")
        points = pn.pane.Bokeh(self.figures.programs, sizing_mode="stretch_width")
        schedule = pn.pane.Bokeh(self.figures.schedule, sizing_mode="stretch_width")
        sizes = pn.pane.Bokeh(self.figures.sizes, sizing_mode="stretch_width")
        mc_status = pn.bind(lambda s: markup.markdown(markup.text(s)), self.param.mc_status)
        buttons = pn.Row(self.first_button, self.back_button, self.play_button, self.next_button, self.last_button,
                         self.speed, player_help, sizing_mode="stretch_width")
        main = pn.Column(
            scenario, self.alert, buttons, self.step_slider, self.status, points,
            pn.Row(schedule, sizes, sizing_mode="stretch_width"),
            markup.markdown("### Many searches: what is found, against how fast C rises per program drawn"),
            mc_status, self._mc_plots, sizing_mode="stretch_width")
        return pn.Row(self.controls(), main, sizing_mode="stretch_width")


class RunFigures:
    """The animation's three Bokeh figures, built once and then updated in place.

    Why Bokeh here and HoloViews elsewhere: an animation frame changes a few dozen points and three
    lines. Rebuilding HoloViews overlays for that cost about 100 ms of Python per plot per frame
    (measured), more than the frame interval; updating a Bokeh data source or a line's location costs
    well under a millisecond and sends only what changed to the browser. The world's dots are sent once
    per world, one per kind per pixel cell (`pixel_dots`): every frame repaints them in the browser, and
    20,000 overlapping dots cost about 150 ms a frame on a plain canvas for no visible difference.
    """

    def __init__(self):
        tools = "pan,wheel_zoom,box_zoom,reset,save"
        # follow the app-wide WebGL switch (explorer/ui/serving.py): WebGL for 20,000 dots in a real browser
        backend = "webgl" if hv.renderer("bokeh").webgl else "canvas"
        self.world_source = ColumnDataSource({"x": [], "y": [], "kind": [], "bits": [], "count": []})
        self.before_source = ColumnDataSource({"x": [], "y": []})
        self.now_source = ColumnDataSource({"x": [], "y": []})
        self.finds_source = ColumnDataSource({"x": [], "y": []})
        p = figure(height=340, sizing_mode="stretch_width", tools=tools, output_backend=backend,
                   x_axis_label="average compute",
                   y_axis_label="train performance", y_range=Y_RANGE, css_classes=["annealing-programs-plot"])
        # one renderer per kind (a filtered view of one source), so the legend is fixed and each kind can be
        # hidden; no outline (stroking each dot was most of a frame's paint)
        dots = {kind: p.scatter("x", "y", source=self.world_source, fill_color=color, line_color=None, size=5,
                                fill_alpha=0.85, view=CDSView(filter=GroupFilter(column_name="kind", group=kind)))
                for kind, color in KIND_COLORS.items()}
        self.legend_items = {kind: LegendItem(label=kind, renderers=[r]) for kind, r in dots.items()}
        p.add_layout(Legend(items=list(self.legend_items.values()), title="kind"), "right")
        p.add_tools(HoverTool(renderers=list(dots.values()),
                              tooltips=[("kind", "@kind"), ("average compute", "@x{0.000}"),
                                        ("train performance", "@y{0.000}"), ("bits", "@bits{0.0}"),
                                        ("programs of this kind here", "@count")]))
        # The veil: everything right of C_t, the programs the search may not draw yet, is faded.
        self.veil = BoxAnnotation(left=0.0, fill_color="white", fill_alpha=0.6, line_alpha=0.0)
        self.c_line = Span(location=0.0, dimension="height", line_color="black", line_width=2)
        self.c_min_line = Span(location=0.0, dimension="height", line_color=KIND_COLORS["honest"],
                               line_dash="dotted", line_width=2)
        self.threshold_line = Span(location=0.0, dimension="width", line_color="#555555", line_dash="dashed")
        p.add_layout(self.veil)
        for span in (self.c_line, self.c_min_line, self.threshold_line):
            p.add_layout(span)
        p.scatter("x", "y", source=self.before_source, marker="x", color="#444444", size=6, alpha=0.5)
        p.scatter("x", "y", source=self.now_source, marker="x", color="black", size=10, line_width=2)
        p.scatter("x", "y", source=self.finds_source, marker="star", fill_color="#D55E00", line_color="black", size=20)
        self.label = Label(x=10, y=1.08, x_units="screen", text="", text_font_size="13pt", text_baseline="top",
                           background_fill_color="white", background_fill_alpha=0.8)
        p.add_layout(self.label)
        p.title.text = "Programs (dots), P(C) left of the black line; crosses: draws, star: the find"
        self.programs = p

        self.schedule_source = ColumnDataSource({"t": [], "c": []})
        self.schedule_point = ColumnDataSource({"t": [], "c": []})
        s = figure(height=260, sizing_mode="stretch_width", tools=tools, x_axis_label="step", y_axis_label="C")
        s.line("t", "c", source=self.schedule_source, color="black", line_width=2)
        self.schedule_c_min = Span(location=0.0, dimension="width", line_color=KIND_COLORS["honest"],
                                   line_dash="dotted")
        self.schedule_step = Span(location=0, dimension="height", line_color="#D55E00")
        s.add_layout(self.schedule_c_min)
        s.add_layout(self.schedule_step)
        s.scatter("t", "c", source=self.schedule_point, color="#D55E00", size=9)
        self.schedule = s

        self.size_source = ColumnDataSource({"t": [], "n": [], "k": []})
        self.size_point = ColumnDataSource({"t": [], "n": []})
        z = figure(height=290, sizing_mode="stretch_width", tools=tools, x_axis_label="step",
                   y_axis_label="|P(C)|",
                   title="Programs the search may draw from")
        z.line("t", "n", source=self.size_source, color="black", line_width=2, legend_label="|P(C)|")
        # the good-looking programs are a small share of P(C): they get their own axis, on the right
        self.good_range = Range1d(0, 1)
        z.extra_y_ranges = {"good": self.good_range}
        z.add_layout(LinearAxis(y_range_name="good", axis_label="good-looking",
                                axis_label_text_color=KIND_COLORS["honest"]), "right")
        z.line("t", "k", source=self.size_source, color=KIND_COLORS["honest"], line_width=2, y_range_name="good",
               legend_label="good-looking (right axis)")
        self.size_step = Span(location=0, dimension="height", line_color="#D55E00")
        z.add_layout(self.size_step)
        z.scatter("t", "n", source=self.size_point, color="#D55E00", size=9)
        legend = z.legend[0]  # below the plot, across: inside it covered the curves
        z.center.remove(legend)
        legend.orientation = "horizontal"
        z.add_layout(legend, "below")
        self.sizes = z

    def show_world(self, world: World) -> None:
        cols = world.cols
        avg = cols["avg_compute"]
        x_range = (min(0.0, float(avg.min())) if len(avg) else 0.0, float(avg.max()) * 1.04 if len(avg) else 1.0)
        self.world_source.data = pixel_dots(cols, x_range)
        present = set(np.unique(cols["kind_name"]))
        for kind, item in self.legend_items.items():
            item.visible = kind in present
        self.threshold_line.location = world.threshold
        self.programs.x_range.update(start=x_range[0], end=x_range[1])
        self.world = world

    def show_trace(self, tr: Trace) -> None:
        t = np.arange(tr.steps)
        c = np.where(np.isfinite(tr.c), tr.c, np.nan)
        self.schedule_source.data = {"t": t, "c": c}
        self.size_source.data = {"t": t, "n": tr.n, "k": tr.k}
        self.good_range.update(start=0, end=max(1.0, float(tr.k.max()) * 1.1) if tr.steps else 1.0)
        seen = np.isfinite(tr.c_min)
        for line in (self.c_min_line, self.schedule_c_min):
            line.update(location=float(tr.c_min) if seen else 0.0, visible=bool(seen))
        self.schedule.title.text = f"C_t under the {tr.settings['schedule']} schedule (dotted: c_min)"

    def show_step(self, tr: Trace, now: dict[str, Any]) -> None:
        avg, perf = self.world.cols["avg_compute"], self.world.cols["train_perf"]
        t = now["step"]
        c = now["c"] if now["c"] is not None else 0.0
        shown = c if np.isfinite(c) else float(avg.max()) * 1.04
        self.veil.left = shown
        self.c_line.location = shown
        before = tr.samples[:tr.offsets[t]] if tr.steps else tr.samples
        this = tr.samples_at(t) if tr.steps else tr.samples
        finds = tr.found_row[:t + 1][tr.found[:t + 1]] if tr.steps else tr.found_row
        self.before_source.data = {"x": avg[before], "y": perf[before]}
        self.now_source.data = {"x": avg[this], "y": perf[this]}
        self.finds_source.data = {"x": avg[finds], "y": perf[finds]}
        if now["found"]:
            self.label.text = f"{'C*' if now['last'] else 'lowest C of a find'} = {now['c_star']:.4g}: {now['kind']}"
        else:
            self.label.text = f"C = {c:.4g}" + (": nothing found" if now["last"] else "")
        for line in (self.schedule_step, self.size_step):
            line.location = t
        self.schedule_point.data = {"t": [t], "c": [c if np.isfinite(c) else np.nan]}
        self.size_point.data = {"t": [t], "n": [now["in_p"]]}


def pixel_dots(cols: dict[str, np.ndarray], x_range: tuple[float, float],
               cells: tuple[int, int] = PIXEL_CELLS) -> dict[str, np.ndarray]:
    """The world's programs as dots to draw: one per kind per cell of a `cells` grid over the plot (about a
    screen pixel each), at its first program, with how many programs of that kind the cell holds."""
    x, y, kind = cols["avg_compute"], cols["train_perf"], np.asarray(cols["kind_name"]).astype(str)
    if not len(x):
        return {"x": x, "y": y, "kind": kind, "bits": cols["bits"], "count": np.zeros(0, dtype=int)}
    _, kind_index = np.unique(kind, return_inverse=True)
    span_x = max(x_range[1] - x_range[0], 1e-12)
    qx = np.clip(((x - x_range[0]) / span_x * cells[0]).astype(np.int64), 0, cells[0])
    qy = np.clip(((y - Y_RANGE[0]) / (Y_RANGE[1] - Y_RANGE[0]) * cells[1]).astype(np.int64), 0, cells[1])
    key = (kind_index.astype(np.int64) * (cells[0] + 1) + qx) * (cells[1] + 1) + qy
    _, first, count = np.unique(key, return_index=True, return_counts=True)
    return {"x": x[first], "y": y[first], "kind": kind[first], "bits": cols["bits"][first], "count": count}


def _flat(schedule: str, point: dict[str, Any], kinds: Sequence[str]) -> dict[str, Any]:
    """One sweep row as flat columns: schedule, ratio, rate, one share per kind and none, C* statistics."""
    return {"schedule": schedule, "ratio": point["ratio"], "rate": point["rate"], "runs": point["runs"],
            **{k: point["kind"][k] for k in (*kinds, "none")},
            "median_c_star": np.nan if point["c_star"]["median"] is None else point["c_star"]["median"],
            "p10_c_star": np.nan if point["c_star"]["p10"] is None else point["c_star"]["p10"],
            "p90_c_star": np.nan if point["c_star"]["p90"] is None else point["c_star"]["p90"],
            "c_min": np.nan if point["c_min"] is None else point["c_min"],
            "median_steps": point["steps_median"]}
