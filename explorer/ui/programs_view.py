"""The enumerated world on a page: the measured program space, each prior's pick, a trace, a story.

ProgramsView holds a SimulationState over `Simulation("enumerated", ...)` (the model) and draws it:
steps against bits for the programs that look good (kinds by colour and shape, each prior's pick
ringed), a table of the picks with their listings, a step-by-step trace of a chosen pick on an input you
type, and the story panel beside it, whose evidence of enumerated-world scenarios is evaluated on this
very selection, by the rules every page uses (explorer/ui/story_panel.py).

In a served session the measurement runs on a worker thread (L = 6 takes 2-3 s the first time with the
compiled interpreter; the disk cache, explorer.table_cache, makes it a read after that), with a progress bar and a Stop button; a
stopped run leaves the previous selection on the page and says so. The measurement itself waits for a
slot of the server's job pool (explorer.jobs), so a room opening the page at once queues, with each
page showing its place in line, and identical requests share one measurement. The finished table goes to the state
on the page thread with `state.apply(simulation=...)`, so the page's views and the story panel change in
one update. Without a session (tests, notebooks run as scripts) it runs in the calling thread.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from explorer import jobs, shared
from explorer.errors import ExplorerError
from explorer.jobs import JobCancelled, ordinal
from explorer.priors import PRIORS
from explorer.simulation import Simulation
from explorer.stories.library import StoryLibrary
from explorer.table import KINDS
from explorer.ui import markup
from explorer.ui.comparison import KIND_COLORS
from explorer.ui.page_thread import Worker, on_page, progress_reporter
from explorer.ui.scatter import KIND_MARKERS
from explorer.ui.state import SimulationState
from explorer.ui.story_panel import StoryPanel
from explorer.ui.url import held, sync_params
from explorer.worlds.enumerated.machine import run
from explorer.worlds.enumerated.spaces import enumerate_programs
from explorer.worlds.enumerated.tasks import TASKS, correct, parse_bits
from explorer.worlds.enumerated.world import EnumeratedWorld, MeasurementStopped

#: Longest programs the page offers (L = 6 takes 2-3 s on one CPU core; L = 7, 23-41 s and 1.4 GB a
#: measurement, is a batch job: a room asking for it at once would fill the server's memory).
PAGE_MAX_LENGTH = 6
#: The library story shown first: what the measurement of every short parity program supports (its
#: evidence is of this world, so it is also evaluated on the programs measured here).
DEFAULT_STORY = "scenarios/parity-measured"
#: Seconds between progress updates sent from the worker thread (a browser needs no more).
PROGRESS_INTERVAL = 0.2
#: Looks good on this page: correct on every training input, as the enumerated world's issue states it.
THRESHOLD = 1.0
#: The settings a link to this page holds (the rest of the page is computed from them).
LINK = ("task", "max_length", "instruction_set", "generalization_check", "traced_prior", "trace_input", "deployed")
#: Served limits a link may not exceed (a value over one is refused with a message naming it).
LINK_LIMITS = {"max_length": PAGE_MAX_LENGTH}
TABLE_CSS = ".tabulator { font-size: 13px; }"


class ProgramsView(pn.viewable.Viewer):
    """Choose task and length; see the space, each prior's pick, and a trace of one pick."""

    task = param.Selector(default="parity", objects=list(TASKS), doc="What a program must compute.")
    max_length = param.Integer(5, bounds=(1, PAGE_MAX_LENGTH), label=f"Max length (at most {PAGE_MAX_LENGTH} here)",
                               doc=f"Longest program enumerated (this page measures up to {PAGE_MAX_LENGTH}; "
                                   "longer spaces are a batch job: python -m explorer programs).")
    instruction_set = param.Selector(default="basic", objects=list(EnumeratedWorld.param.instruction_set.objects),
                                     doc="basic: the eleven instructions; slack: with IFSHORT, which runs the next "
                                         "instruction only on inputs shorter than the longest training input.")
    generalization_check = param.Boolean(True, doc="Training also checks the held-out inputs (off: memorisers pass).")
    traced_prior = param.Selector(default="simplicity", objects=list(PRIORS), doc="Whose pick the trace runs.")
    trace_input = param.String("1011", doc="Input bits for the trace, x[0] first.")
    deployed = param.Boolean(False, doc="Run the trace with the deployment flag f = 1.")

    message = param.String("", doc="Why the last measurement did not finish (empty when it did).")
    running = param.Boolean(False, doc="True while a measurement runs (or waits for a free worker).")
    queued = param.Integer(0, doc="The measurement's place in the server's line for a worker (0: not waiting).")
    done = param.Integer(0, doc="Chunks of programs measured in the current or last measurement.")
    total = param.Integer(0, doc="Chunks of programs in the current or last measurement.")
    link_problem = param.String("", doc="What the page's link asked for that could not be used (until the next change).")

    def __init__(self, story_library: StoryLibrary | None = None, measure: bool = True, **params):
        """measure=False leaves the first measurement to the caller (`from_link` reads the link first)."""
        super().__init__(**params)
        self._held = False
        self.state = SimulationState(Simulation("enumerated", **self._request(), performance_threshold=THRESHOLD),
                                     select=False)
        self.source = ColumnDataSource(_empty_points())
        self.picks_source = ColumnDataSource({"bits": [], "avg_compute": [], "prior": []})
        self.figure = self._figure()
        self.summary = markup.markdown("", sizing_mode="stretch_width")
        # Tables in smaller type without sort arrows, so that every column fits beside the story at 1280 px;
        # the listing wraps rather than being cut.
        table = {"disabled": True, "show_index": False, "sizing_mode": "stretch_width", "stylesheets": [TABLE_CSS],
                 "configuration": {"columnDefaults": {"headerSort": False}}}
        self.picks = pn.widgets.Tabulator(pd.DataFrame(), layout="fit_data_table",
                                          formatters={"program": {"type": "textarea"}}, **table)
        self.trace_pane = pn.widgets.Tabulator(pd.DataFrame(), height=260, **table)
        self.trace_note = markup.markdown("", sizing_mode="stretch_width")
        self.story = StoryPanel(self.state, library=story_library, scenario=None, story_name=DEFAULT_STORY,
                                here_label="on the programs measured here",
                                evaluated_on="each prior's selection among the programs correct on every training input")
        self.listings: dict[str, str] = {}
        self.shown: dict[str, Any] | None = None  # the task, length and check of the selection on show
        self._worker = Worker("programs-measure")
        self._superseded = False
        self._stop_button = pn.widgets.Button(label="Stop", color="warning", disabled=True, width=90,
                                              sizing_mode="fixed", align="end",
                                              description="Stop measuring; the page keeps the selection it shows.")
        self._stop_button.on_click(lambda event: self.stop())
        self._progress = pn.indicators.Progress(value=0, max=1, bar_color="primary", visible=False,
                                                sizing_mode="stretch_width")
        self.status = markup.markdown("", visible=False, sizing_mode="stretch_width")
        if measure:
            self.recompute()

    @classmethod
    def from_link(cls, **params) -> ProgramsView:
        """The page its link asks for: the link's settings are read before anything is measured (a link to
        length 4 never waits for the default length first), then the link follows every change."""
        view = cls(measure=False, **params)
        with held(view):
            sync_params(view, LINK, view.show_link_problem, LINK_LIMITS)
        view.recompute()
        return view

    def show_link_problem(self, text: str) -> None:
        """Show what the link asked for that could not be used (escaped, in the status line)."""
        self.link_problem = text

    @param.depends(*LINK, watch=True)
    def _forget_link_problem(self):
        if not self._held:  # a change after the page opened: the link as typed no longer applies
            self.link_problem = ""

    # ---- model -> data ---------------------------------------------------------------------------

    @property
    def story_state(self) -> SimulationState:
        """The state the story panel reads (the page's one state)."""
        return self.state

    def _request(self) -> dict[str, Any]:
        return {"task": self.task, "max_length": self.max_length, "instruction_set": self.instruction_set,
                "generalization_check": self.generalization_check}

    @param.depends("task", "max_length", "instruction_set", "generalization_check", watch=True)
    def recompute(self, sync: bool | None = None) -> None:
        """Measure the space (or read it from the disk cache) and select with every prior.

        sync=None measures on a worker thread when there is a served session and here otherwise. While a
        measurement runs, a new choice stops it and is measured once it has ended.
        """
        if self._held:
            return
        if self.running:
            self._superseded = True
            self._worker.stop()
            return
        doc = pn.state.curdoc
        if sync is None:
            sync = doc is None or doc.session_context is None
        self._worker.stop_with(doc, self.stop)  # a closed tab stops its measurement
        request = self._request()
        self._worker.begin()
        self._superseded = False
        self.param.update(message="", running=True, done=0, total=0, queued=0)
        if sync:
            self._run(request, None)
            return
        self._worker.start(self._run, request, doc)

    def stop(self) -> None:
        """Ask the running measurement to end before its next chunk of programs; the page keeps what it shows."""
        self._superseded = False  # a Stop also drops a choice waiting to be measured
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background measurement to end; True if none is running afterwards."""
        return self._worker.wait(timeout)

    def _run(self, request: dict[str, Any], doc) -> None:
        progress = progress_reporter(doc, lambda done, total: self.param.update(done=done, total=total), PROGRESS_INTERVAL)

        def waiting(place: int) -> None:
            on_page(doc, partial(setattr, self, "queued", place))

        try:
            shown = self._select(request, progress, waiting)
        except JobCancelled:
            on_page(doc, partial(self._finish, None, JobCancelled()))
            return
        except MeasurementStopped as exc:
            on_page(doc, partial(self._finish, None, exc))
            return
        except ExplorerError as exc:
            on_page(doc, partial(self._finish, None, str(exc)))
            return
        except Exception as exc:  # a programming error: say so on the page, keep the traceback
            on_page(doc, partial(self._finish, None, f"The measurement failed: {exc!r}"))
            raise
        on_page(doc, partial(self._finish, shown, ""))

    def _select(self, request: dict[str, Any], progress, waiting=None) -> dict[str, Any]:
        """The worker's part: measure (or read the cache), select with every prior, and prepare what the page shows."""
        measured = []

        def report(done: int, total: int) -> None:
            measured.append(done)
            progress(done, total)

        sim = self.state.built(report, self._worker.should_stop, waiting, **request)
        if not measured:  # read from the cache: no chunk was measured, and the bar shows it done
            progress(1, 1)
        table, results = sim.table(), sim.select()
        space = shared.SPACES.get_or_compute((request["max_length"], request["instruction_set"]),
                                             lambda: enumerate_programs(request["max_length"], request["instruction_set"]))
        listings = {p: space.listing(r.map["index"]) for p, r in results.items() if r.map is not None}
        cols = table.to_numpy()
        looks_good = cols["train_perf"] >= THRESHOLD
        good = np.nonzero(looks_good)[0]
        points = {
            "bits": cols["bits"][good], "avg_compute": cols["avg_compute"][good],
            "kind": cols["kind_name"][good].astype(str), "listing": [space.listing(r) for r in good],
            "color": [KIND_COLORS[k] for k in cols["kind_name"][good]],
            "marker": [KIND_MARKERS[k] for k in cols["kind_name"][good]],
            "heldout_perf": cols["heldout_perf"][good],
        }
        picked = [p for p in PRIORS if results[p].map is not None]
        picks_points = {"bits": [results[p].map["bits"] for p in picked],
                        "avg_compute": [results[p].map["avg_compute"] for p in picked], "prior": picked}
        kinds = cols["kind"]
        counts = ", ".join(f"{k} {int(((kinds == i) & looks_good).sum()):,}" for i, k in enumerate(KINDS))
        summary = (f"**{len(space):,} programs** of length 1..{request['max_length']} for *{request['task']}* "
                   f"({request['instruction_set']} instructions); "
                   f"{int(looks_good.sum()):,} are correct on every training input: {counts}.")
        picks = pd.DataFrame([
            {"prior": p, "program": listings.get(p, "-"), "kind": r.map["kind"] if r.map else "-",
             "avg steps": r.map["avg_compute"] if r.map else np.nan, "bits": r.map["bits"] if r.map else np.nan,
             "held-out": r.map["heldout_perf"] if r.map else np.nan, **{k: r.mass[k] for k in KINDS}}
            for p, r in results.items()]).round(3)
        return {"request": request, "simulation": sim, "listings": listings, "points": points,
                "picks_points": picks_points, "summary": summary, "picks": picks}

    def _finish(self, shown: dict[str, Any] | None, outcome) -> None:
        """On the page: show a finished selection, or say why the previous one stays."""
        superseded = self._superseded
        before = (f" The page still shows length 1..{self.shown['max_length']} for {self.shown['task']}."
                  if self.shown else "")
        if isinstance(outcome, MeasurementStopped):
            outcome = f"Stopped after {outcome.done} of {outcome.total} chunks of programs.{before}"
        elif isinstance(outcome, JobCancelled):
            outcome = f"Stopped while waiting for a free worker.{before}"
        # Not under pn.io.hold(): with the points, picks and story held into one message, Chromium failed
        # to paint the scatter's legend after a measurement ("Offset is outside the bounds of the DataView")
        # and the page stayed at "Measuring". The state's own apply still sends its views together.
        if shown is not None:
            self._show(shown)
        with param.parameterized.batch_call_watchers(self):
            self.param.update(message=outcome, running=False, queued=0)
        if superseded:  # the choice changed while it ran: measure what is chosen now
            self.recompute()

    def _show(self, shown: dict[str, Any]) -> None:
        self.listings = shown["listings"]
        self.source.data = shown["points"]
        self.picks_source.data = shown["picks_points"]
        self.summary.object = shown["summary"]
        self.picks.value = shown["picks"]
        self.shown = shown["request"]
        self.state.apply(simulation=shown["simulation"])
        self.retrace()

    @param.depends("running", "queued", "done", "total", "message", "link_problem", watch=True, on_init=True)
    def _widgets(self):
        if not hasattr(self, "_stop_button"):
            return
        self._stop_button.disabled = not self.running
        # One at a time: Progress checks `value` against the old `max` when both change in one update (a shared
        # measurement's first report can jump from the cached bar's 1 of 1 to 4 of 12).
        total = max(self.total, 1)
        self._progress.value = min(self._progress.value, total)
        self._progress.max = total
        self._progress.param.update(value=min(self.done, total), visible=self.running)
        if self.running and self.queued > 0:
            text = (f"Waiting for a free worker: {ordinal(self.queued)} in line (the server measures "
                    f"{jobs.pool().slots} at a time; identical requests share one measurement).")
        elif self.running:
            text = f"Measuring: {self.done} of {self.total or '?'} chunks of programs."
        else:
            text = self.message
        parts = [markup.text(t) for t in (self.link_problem, text) if t]
        self.status.object = "\n\n".join(parts)
        self.status.visible = bool(parts)

    @param.depends("traced_prior", "trace_input", "deployed", watch=True)
    def retrace(self) -> None:
        """Run the chosen pick on the chosen input with the plain interpreter, step by step."""
        if self._held:
            return
        program = self.listings.get(self.traced_prior)
        if program is None:
            self.trace_pane.value, self.trace_note.object = pd.DataFrame(), "No program looks good: nothing to trace."
            return
        try:
            x = parse_bits(self.trace_input.strip())
        except ExplorerError as exc:
            self.trace_note.object = f"**Input not understood:** {markup.text(exc)}"
            return
        steps: list = []
        long_from = self.state.simulation.world.n_train  # IFSHORT reads inputs this long or longer as long
        output, n = run(program, x, int(self.deployed), trace=steps, long_from=long_from)
        self.trace_pane.value = pd.DataFrame(
            [{"step": k + 1, "position": pos, "instruction": name, "acc": acc, "i": i} for k, (pos, name, acc, i) in enumerate(steps)])
        verdict = "correct" if correct(self.task, output, x) else "wrong"
        self.trace_note.object = (f"`{program}` on x = {''.join(map(str, x))}, f = {int(self.deployed)}: "
                                  f"output {output}, {n} steps ({verdict} for {self.task}).")

    # ---- drawing ---------------------------------------------------------------------------------

    def _figure(self):
        fig = figure(height=360, sizing_mode="stretch_width", x_axis_label="bits (description length)",
                     y_axis_label="mean steps (training inputs)",
                     title="Programs correct on every training input (each prior's pick ringed)",
                     css_classes=["programs-plot"])
        dots = fig.scatter("bits", "avg_compute", source=self.source, color="color", marker="marker", size=11,
                           fill_alpha=0.8, line_color="#333333", line_width=0.5, legend_field="kind")
        fig.scatter("bits", "avg_compute", source=self.picks_source, marker="circle", size=22, fill_alpha=0,
                    line_color="black", line_width=2)
        fig.add_tools(HoverTool(renderers=[dots], tooltips=[("program", "@listing"), ("kind", "@kind"),
                                                            ("steps", "@avg_compute{0.00}"), ("held-out", "@heldout_perf{0.00}")]))
        legend = fig.legend[0]
        fig.center.remove(legend)
        fig.add_layout(legend, "right")  # outside the frame: it hides no program
        return fig

    def __panel__(self):
        p, w = self.param, pn.widgets
        task = w.Select.from_param(p.task, label="Task", description=p.task.doc, width=200, sizing_mode="fixed")
        length = w.IntSlider.from_param(p.max_length, sizing_mode="stretch_width")
        check = w.Checkbox.from_param(p.generalization_check, label="Generalization check", align="end",
                                      width=170, sizing_mode="fixed")
        instructions = w.Select.from_param(p.instruction_set, label="Instructions", description=p.instruction_set.doc,
                                           width=110, sizing_mode="fixed")
        controls = pn.Row(task, length, instructions, check, self._stop_button, sizing_mode="stretch_width")
        trace_controls = pn.Row(
            w.Select.from_param(p.traced_prior, label="Traced prior", description=p.traced_prior.doc),
            w.TextInput.from_param(p.trace_input, label="Trace input", description=p.trace_input.doc),
            w.Checkbox.from_param(p.deployed, label="Deployed", align="end", width=110, sizing_mode="fixed"),
            sizing_mode="stretch_width")
        left = pn.Column(controls, self._progress, self.status, self.summary,
                         pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
                         markup.markdown("### Each prior's pick"), self.picks, markup.markdown("### Trace"),
                         trace_controls, self.trace_note, self.trace_pane, sizing_mode="stretch_width")
        return pn.Row(left, pn.Column(self.story, width=360), sizing_mode="stretch_width")


def _empty_points() -> dict[str, list]:
    return {k: [] for k in ("bits", "avg_compute", "kind", "listing", "color", "marker", "heldout_perf")}
