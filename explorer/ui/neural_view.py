"""The neural world on screen: train real networks under a speed prior, watch them learn, read the result.

Pick a proposal and a task, press Start: a Trainer (explorer/worlds/neural/session.py) trains on a
worker thread and the page polls it, so the page stays live and Stop ends the run after the step under
way. While it trains, three small live curves (loss, accuracy and compute used on the training batch,
against the step) grow by streaming only the new points into their Bokeh sources. When it is done:
accuracy and compute per difficulty, the held-out difficulties shaded; for a penalty sweep or the
planted drive, accuracy, the drive's surviving share and the compute against the penalty; which network
each prior selects. Beside it a library training story is evaluated on those same networks: the page's
SimulationState holds `Simulation("neural", ...)` with the settings trained, and the finished table is
handed to it (`Simulation.adopt_table`, which also puts it in the disk cache), so evidence of
neural-world scenarios is evaluated here by the rules every page uses (explorer/ui/story_panel.py).
The Trainer, not the Simulation, trains: it streams the live curve while it runs.

The settings are the page's link (LINK_PARAMS, read and written by apps/neural.py). A number field
takes what is typed or keeps the setting and says why (`refusal`: over the served limit, which it names,
or outside the setting's range); it is never changed without a message.

Every callback goes through `_guarded`: a user mistake or a bug becomes a visible message (and a
notification), never a dead page; a diverging run (NaN loss) is one of those messages.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # registers the bokeh plotting back end for .opts
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, DataRange1d, Legend, LegendItem, Range1d
from bokeh.plotting import figure

from explorer.errors import ExplorerError
from explorer.jobs import ordinal
from explorer.params import values_of
from explorer.priors import PRIORS
from explorer.simulation import Simulation
from explorer.stories.library import StoryLibrary
from explorer.ui import markup
from explorer.ui.number_fields import number_field, refusal
from explorer.ui.state import SimulationState
from explorer.ui.story_panel import StoryPanel
from explorer.worlds.neural.session import Outcome, Trainer
from explorer.worlds.neural.world import THRESHOLD, Limits, NeuralWorld

log = logging.getLogger(__name__)

PROPOSAL_LABELS = {
    "1: grow the network until good": "grow",
    "2A: ponder with K rollouts": "ponder",
    "2B: learned halting (PonderNet)": "halt",
    "3: early exit": "early-exit",
    "Planted misbehaviour (a drive)": "misbehaviour",
}
#: The compute each proposal's live curve counts on the training batch.
LIVE_COMPUTE = {"grow": "multiply-adds", "ponder": "rollouts K", "halt": "expected ponder steps",
                "early-exit": "mean exit layer", "misbehaviour": "expected ponder steps"}
#: ... and its short name on the live plot's axis (the plot is short: the long name is its title).
LIVE_AXIS = {"multiply-adds": "multiply-adds", "rollouts K": "K", "expected ponder steps": "steps",
             "mean exit layer": "exit layer"}
PENALTY_LABELS = {"beta": "beta values (KL penalty on steps)", "alpha": "alpha values (late-exit penalty)"}
#: The library story shown beside each proposal: learned halting has a story of this world (so its
#: evidence is also evaluated on the networks trained here); the drive is the essay's goof-off; the
#: others ask whether the selected network generalises or only fits what it saw (a lookup table).
STORIES = {"halt": "scenarios/halting-parity-measured", "misbehaviour": "scenarios/goof-off"}
DEFAULT_STORY = "scenarios/lookup-table"
#: Okabe-Ito colours, one per sweep point of a run.
LINE_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: The settings a link carries (apps/neural.py), in NeuralWorld's declaration order: a proposal resets the
#: penalties, so it is written (and read) before them.
LINK_PARAMS = ("proposal", "task", "bits", "penalties", "mu", "steps", "learning_rate", "seed", "widths", "compute", "allotment")
#: A number over the served limit names it and where larger runs are done.
OVER_SERVED = ("{name}: {value} is more than this server trains (at most {most}); "
               "use `python -m explorer neural` for larger runs")
STATUS_WORDS = {"queued": "Waiting for a free worker (other runs are training)", "running": "Training",
                "done": "Done", "stopped": "Stopped", "diverged": "Diverged", "failed": "Failed"}


def _guarded(action: str):
    """Run a callback so that any error becomes a message on the page; the session stays alive."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except ExplorerError as exc:
                self.notify(str(exc))
            except Exception as exc:  # a bug: say so on the page, keep the traceback for the server log
                log.exception("neural app: %s failed", action)
                self.notify(f"{action} failed ({type(exc).__name__}: {exc}); the page is still usable.")
            return None

        return run

    return wrap


class LiveCurves:
    """Loss, accuracy and compute against the step, one line per sweep point, fed by streaming.

    Bokeh sources rather than HoloViews elements: a poll adds a few points, and `source.stream` sends
    only those to the browser, where rebuilding an element would send the whole curve every time.
    """

    METRICS = ("loss", "accuracy", "compute")

    HEIGHT = 200

    def __init__(self, compute_label: str = "compute", steps: int = 1000):
        self.sources: dict[str, ColumnDataSource] = {}
        self.figures: list = []
        self.panes = [pn.pane.Bokeh(None, sizing_mode="stretch_width", min_height=self.HEIGHT) for _ in self.METRICS]
        self.reset(["run"], compute_label, steps)

    @staticmethod
    def _titles(compute_label: str) -> dict[str, str]:
        return {"loss": "Loss", "accuracy": "Accuracy",
                "compute": f"Compute used: {compute_label}"}

    def relabel(self, compute_label: str) -> None:
        """Name the compute another proposal counts (the curves on show stay)."""
        fig = self.figures[self.METRICS.index("compute")]
        fig.title.text = self._titles(compute_label)["compute"]
        fig.yaxis.axis_label = LIVE_AXIS.get(compute_label, compute_label)

    def reset(self, labels: list[str], compute_label: str, steps: int) -> None:
        self.sources = {label: ColumnDataSource({"step": [], **{m: [] for m in self.METRICS}}) for label in labels}
        titles = self._titles(compute_label)
        ylabels = {"loss": "loss", "accuracy": "accuracy", "compute": LIVE_AXIS.get(compute_label, compute_label)}
        self.figures = []
        for metric, pane in zip(self.METRICS, self.panes):
            # Axes from the start (Bokeh draws none while a data range has no data): the steps of the run;
            # accuracy 0..1; loss and compute from 0 and at least to 1 (an unseen anchor), then as they grow.
            y_range = Range1d(-0.02, 1.02) if metric == "accuracy" else DataRange1d(start=0)
            fig = figure(height=self.HEIGHT, sizing_mode="stretch_width", tools="pan,wheel_zoom,box_zoom,reset,save",
                         x_axis_label="step", y_axis_label=ylabels[metric], title=titles[metric],
                         x_range=Range1d(0, max(steps, 1)), y_range=y_range, css_classes=["neural-live-plot"])
            if metric != "accuracy":
                fig.scatter([0, 0], [0, 1], alpha=0, size=1)
            fig.xaxis.ticker.desired_num_ticks = 4  # the half-width plots: 0, 500, 1000, 1500, not 8 that touch
            lines = [fig.line("step", metric, source=source, color=LINE_COLORS[i % len(LINE_COLORS)], line_width=2)
                     for i, source in enumerate(self.sources.values())]
            if metric == "compute" and len(labels) > 1:  # one legend, beside the widest plot
                items = [LegendItem(label=label, renderers=[line]) for label, line in zip(labels, lines)]
                fig.add_layout(Legend(items=items, label_text_font_size="8pt"), "right")
            self.figures.append(fig)
            pane.object = fig

    def stream(self, points: list[dict[str, Any]]) -> None:
        by_label: dict[str, dict[str, list]] = {}
        for p in points:
            rows = by_label.setdefault(p["label"], {"step": [], **{m: [] for m in self.METRICS}})
            rows["step"].append(p["step"])
            for m in self.METRICS:
                rows[m].append(p[m])
        for label, rows in by_label.items():
            if label in self.sources:
                self.sources[label].stream(rows)

    def points(self) -> int:
        return sum(len(s.data["step"]) for s in self.sources.values())

    def __panel__(self):
        loss, accuracy, compute = self.panes
        return pn.Column(pn.Row(loss, accuracy, sizing_mode="stretch_width"), compute, sizing_mode="stretch_width")


class NeuralView(pn.viewable.Viewer):
    """Train networks under a speed prior in the background, and show what they learnt and spent."""

    message = param.String("", doc="The last error or warning, shown above the results (empty: none).")
    status = param.String("Press **Start** to train.", doc="What the run is doing, in words (Markdown).")

    def __init__(self, limits: Limits | None = None, story_library: StoryLibrary | None = None,
                 poll_ms: int = 300, **params):
        super().__init__(**params)
        self.setup = NeuralWorld()
        self.limits = limits or Limits()
        self.poll_ms = poll_ms
        self.trainer: Trainer | None = None
        self.outcome: Outcome | None = None
        self._seen = 0
        self._handled = True
        self._poller = None
        self._stops_with_session = False

        w = pn.widgets
        s = self.setup.param
        self.proposal = w.Select(label="Proposal", options=PROPOSAL_LABELS, value=self.setup.proposal,
                                 description=s.proposal.doc)
        self.proposal.link(self.setup, value="proposal", bidirectional=True)
        self.task = w.Select.from_param(s.task, label="Task", description=s.task.doc)
        self.penalties = w.TextInput.from_param(s.penalties, label="", description=s.penalties.doc)
        self.numbers: dict[str, pn.widgets.Widget] = {}  # the number fields by setting name
        self.size = self._number_field("bits", "Size (parity entries or pointer slots)")
        self.mu = self._number_field("mu", "Drive strength mu", step=0.5)
        self.steps = self._number_field("steps", "Training steps", step=100)
        self.learning_rate = self._number_field("learning_rate", "Learning rate", step=0.001)
        self.seed = self._number_field("seed", "Seed")
        self.start_button = w.Button(label="Start", color="primary", width=120, sizing_mode="fixed",
                                     description="Train with these settings on a worker thread.")
        self.stop_button = w.Button(label="Stop", color="warning", width=120, sizing_mode="fixed", disabled=True,
                                    description="Stop the run after the optimiser step under way.")
        self.start_button.on_click(lambda _e: self.start())
        self.stop_button.on_click(lambda _e: self.stop())
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width",
                                               bar_color="primary")
        self.alert = markup.alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.status_pane = markup.markdown(self.status, sizing_mode="stretch_width", css_classes=["neural-status"],
                                           margin=(0, 10))
        self.curves = LiveCurves(LIVE_COMPUTE[self.setup.proposal], self.setup.steps)
        self.results = pn.Column(sizing_mode="stretch_width", css_classes=["neural-results"])
        self.state = SimulationState(self._simulation(values_of(self.setup)), select=False)
        self._trained: dict[str, Any] = {}  # the settings of the run under way or last run
        self.story = StoryPanel(self.state, library=story_library, scenario=None,
                                story_name=STORIES.get(self.setup.proposal, DEFAULT_STORY),
                                here_label="on the networks trained here",
                                evaluated_on="their measured table, selected by each prior")
        self.setup.param.watch(self._proposal_changed, "proposal")
        self._proposal_changed()

    @property
    def caps(self) -> dict[str, int]:
        """The served limits by setting name (what `Limits` caps), for the link and the fields."""
        return {"bits": self.limits.max_size, "steps": self.limits.max_steps}

    @property
    def story_state(self) -> SimulationState:
        """The state the story panel reads (the page's one state)."""
        return self.state

    @staticmethod
    def _simulation(settings: dict[str, Any]) -> Simulation:
        """The neural world with these settings, selected as this page selects (looks good: training accuracy
        >= THRESHOLD, no generalisation check: the held-out difficulties are what the page asks about)."""
        return Simulation("neural", **settings, performance_threshold=THRESHOLD, generalization_check=False)

    # ---- messages ---------------------------------------------------------------------------------

    def notify(self, text: str) -> None:
        """Show `text` as the page's message and as a notification (escaped: it may quote user input)."""
        self.message = text
        markup.notify_error(text)

    @param.depends("message", watch=True)
    def _show_message(self) -> None:
        """A red alert while there is a message; the class that finds it only while it is on show."""
        shown = bool(self.message)
        self.alert.param.update(object=markup.text(self.message), visible=shown,
                                css_classes=["neural-message"] if shown else [])

    @param.depends("status", watch=True)
    def _show_status(self) -> None:
        self.status_pane.object = self.status

    # ---- settings ---------------------------------------------------------------------------------

    def _number_field(self, name: str, label: str, **params) -> pn.widgets.Widget:
        """A field for the setting `name` that takes what is typed or keeps the setting and says why
        (explorer/ui/number_fields.py: no spinner bounds to put 1500 back for 40000 steps without a word)."""
        field = number_field(self.setup, name, self.notify, self.caps, over_cap=OVER_SERVED, label=label, **params)
        self.numbers[name] = field
        return field

    def refusal(self, name: str, value: Any) -> str:
        """Why this page does not take `value` for the setting `name` ("" when it does)."""
        return refusal(self.setup, name, value, self.caps, OVER_SERVED)

    @_guarded("Changing the proposal")
    def _proposal_changed(self, *_) -> None:
        name = self.setup.penalty_name
        self.penalties.label = PENALTY_LABELS.get(name, "Penalty (none: this proposal raises its size or K itself)")
        self.penalties.disabled = name is None
        self.mu.visible = self.setup.proposal == "misbehaviour"
        if not self.running:
            self.curves.relabel(LIVE_COMPUTE[self.setup.proposal])
        self.story.show(STORIES.get(self.setup.proposal, DEFAULT_STORY))

    # ---- the run ----------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.trainer is not None and not self.trainer.finished

    @_guarded("Starting the run")
    def start(self) -> bool:
        """Check the settings and start training on a worker thread; False if a run is under way or refused."""
        if self.running:
            return False
        job = self.setup.job(self.limits)
        self._trained = values_of(self.setup)
        self.message = ""
        self.outcome = None
        self.results[:] = []
        self.state.clear()
        self.curves.reset(job.point_labels(), LIVE_COMPUTE[job.proposal], self._trained["steps"])
        self.trainer = Trainer(job).start()
        self._seen, self._handled = 0, False
        self._watch_session()
        self._sync_widgets()
        self.status = f"**{STATUS_WORDS['queued']}.**"
        if self._poller is None:
            self._poller = pn.state.add_periodic_callback(self.refresh, period=self.poll_ms, start=False)
        if not self._poller.running:
            self._poller.start()
        return True

    @_guarded("Stopping the run")
    def stop(self) -> None:
        """Ask the run under way to stop; the page shows it stopped at the next poll."""
        if self.trainer is not None:
            self.trainer.stop()

    def _watch_session(self) -> None:
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None and not self._stops_with_session:
            doc.on_session_destroyed(lambda _ctx: self.stop())  # a closed tab stops the run under way
            self._stops_with_session = True

    @_guarded("Updating the page")
    def refresh(self) -> None:
        """Take what the run has done since the last poll onto the page (the periodic callback calls this)."""
        if self.trainer is None or self._handled:
            return
        poll = self.trainer.poll(self._seen)
        self._seen = poll.seen
        if poll.points:
            self.curves.stream(poll.points)
        total = max(poll.total, poll.done, 1)
        self.progress.max = total  # first: the value's bounds follow max only once max is set
        self.progress.param.update(value=min(poll.done, total), visible=True)
        if poll.status == "queued" and poll.place > 0:
            self.status = f"**{STATUS_WORDS['queued']}: {ordinal(poll.place)} in line.**"
            return
        if poll.status in ("queued", "running"):
            self.status = f"**{STATUS_WORDS[poll.status]}:** step {poll.done:,} of at most {poll.total:,}."
            return
        self._handled = True
        if self._poller is not None and self._poller.running:
            self._poller.stop()
        self._sync_widgets()
        if poll.status == "done":
            with pn.io.hold():  # results, selection and story panel reach the browser together
                self._show_outcome(poll.outcome)
        else:
            self.status = f"**{STATUS_WORDS[poll.status]}** after {poll.done:,} steps; nothing was measured."
            if poll.status != "stopped":
                self.notify(poll.message)

    def _sync_widgets(self) -> None:
        busy = self.running
        self.start_button.disabled = busy
        self.stop_button.disabled = not busy

    # ---- the result ---------------------------------------------------------------------------------

    def _show_outcome(self, outcome: Outcome) -> None:
        self.outcome = outcome
        first = outcome.points[0]
        ran = len(outcome.points)
        summary = (f"**Done** in {outcome.seconds:.1f} s: {outcome.run.members.count} network(s), compute counted in "
                   f"{outcome.unit}.")
        if ran == 1:
            summary += (f" Accuracy {first['accuracy']:.3f} on training difficulties, "
                        f"{_num(first['heldout_accuracy'])} on held-out ones; mean {outcome.unit} {first['mean_steps']:.3g}")
            if first.get("expected_steps") is not None:  # learned halting: the rule's steps and the penalty's
                summary += (f" by the halting rule, {first['expected_steps']:.3g} expected under p_halt "
                            f"(the count the penalty prices)")
            summary += "."
        self.status = " ".join([summary, *outcome.notes()])
        # the table of the settings trained (not of the form now: it may have been edited meanwhile)
        sim = self._simulation(self._trained)
        sim.adopt_table(outcome.table)
        self.state.apply(simulation=sim)
        parts: list[Any] = [markup.markdown("### Accuracy and compute per difficulty"
                                            + (HALTING_COUNTS if first.get("expected_steps") is not None else "")),
                            *_panes(self.difficulty_plots()),
                            markup.card("The numbers per difficulty",
                                        _table(self.difficulty_frame(), "neural-difficulty-table"),
                                        collapsed=ran > 1, sizing_mode="stretch_width")]
        if outcome.penalty_rows:
            parts += [markup.markdown(self._penalty_heading()), *_panes(self.penalty_plots()),
                      _table(pd.DataFrame(outcome.penalty_rows), "neural-penalty-table")]
        parts += [markup.markdown(f"### Which network each prior selects (looks good: training accuracy >= {THRESHOLD})"),
                  _table(_by_prior(self.selection_frame()), "neural-selection-table", index=True)]
        self.results[:] = parts

    def _penalty_heading(self) -> str:
        if self.trainer.job.proposal == "misbehaviour":
            return ("### The drive against the penalty: how much of it survives (its accuracy; 0.5 is chance) "
                    "and the compute it costs")
        return "### Accuracy and compute against the penalty"

    def difficulty_frame(self) -> pd.DataFrame:
        """One row per sweep point and difficulty: accuracy, compute used and needed, held out or not."""
        rows = []
        for p in self.outcome.points:
            for r in p["by_difficulty"]:
                row = {"networks": p["label"], "difficulty": r["difficulty"],
                       "held out": "yes" if r["heldout"] else "no", "accuracy": r["accuracy"]}
                if "expected_steps" in r:  # learned halting: the steps its rule ran, and those expected under p
                    row[f"{self.outcome.unit} by rule"] = r["steps_by_rule"]
                    row[f"expected {self.outcome.unit} (penalised)"] = r["expected_steps"]
                else:
                    row[f"mean {self.outcome.unit}"] = r["mean_steps"]
                rows.append({**row, f"{self.outcome.unit} needed": r["mean_needed_steps"]})
        return pd.DataFrame(rows)

    def difficulty_plots(self) -> hv.Layout:
        frame = self.difficulty_frame()
        unit = self.outcome.unit
        task = self.outcome.run.task
        span = hv.VSpan(task.train_max + 0.5, task.max_difficulty + 0.5).opts(color="#999999", alpha=0.2)
        plots = []
        computes = [c for c in (f"mean {unit}", f"{unit} by rule", f"expected {unit} (penalised)") if c in frame]
        for columns, label, extra in ((["accuracy"], "accuracy", {"ylim": (-0.02, 1.05)}),
                                      (computes, unit if len(computes) > 1 else computes[0], {})):
            curves = []
            for i, (name, part) in enumerate(frame.groupby("networks", sort=False)):
                color = LINE_COLORS[i % len(LINE_COLORS)]
                for column, dash in zip(columns, ("solid", "dashed")):  # halting: by rule solid, expected dashed
                    # one legend entry per network (the dashes are told in the caption): an entry per network
                    # and count left the plot a sliver beside its legend at 1280x720
                    curves.append(hv.Curve(part, "difficulty", (column, label), label=name).opts(color=color, line_dash=dash))
                    curves.append(hv.Scatter(part, "difficulty", (column, label), label=name).opts(color=color, size=6))
            title = f"{label.capitalize()} per difficulty (shaded: held out)"
            plots.append((hv.Overlay(curves) * span).opts(
                responsive=True, height=280, title=title, tools=["hover"], show_legend=len(self.outcome.points) > 1,
                legend_position="right", xlabel="difficulty", ylabel=label, **extra))
        return hv.Layout(plots).cols(1)

    def penalty_plots(self) -> hv.Layout:
        frame = pd.DataFrame(self.outcome.penalty_rows)
        name = "beta" if "beta" in frame else "alpha"
        axis = penalty_axis(frame[name].to_numpy(dtype=float))
        frame["position"] = axis["positions"]
        x = hv.Dimension("position", label=axis["label"].format(label=name))
        value = hv.Dimension(name, label=name)
        if "drive_accuracy" in frame:
            share = [("drive_accuracy", "drive accuracy (its surviving share)", "#E69F00"),
                     ("accuracy", "task accuracy, drive networks", "#0072B2"),
                     ("plain_accuracy", "task accuracy, drive-free networks", "#009E73")]
            cost = [("mean_steps", "mean steps, drive networks", "#E69F00"),
                    ("plain_mean_steps", "mean steps, drive-free networks", "#009E73")]
        else:
            share = [("accuracy", "accuracy (training difficulties)", "#0072B2"),
                     ("heldout_accuracy", "accuracy (held out)", "#D55E00")]
            cost = ([("mean_steps", "by the halting rule", "#0072B2"),
                     ("expected_steps", "expected (penalised)", "#CC79A7")]
                    if "expected_steps" in frame else [("mean_steps", f"mean {self.outcome.unit}", "#0072B2")])
        plots = []
        for lines, ylabel, title, extra in ((share, "accuracy", "Accuracy against the penalty", {"ylim": (-0.02, 1.05)}),
                                            (cost, self.outcome.unit, "Compute against the penalty", {})):
            overlay = [hv.Curve(frame, x, (col, ylabel), label=label).opts(color=color) *
                       hv.Scatter(frame, x, [(col, ylabel), value], label=label).opts(color=color, size=7)
                       for col, label, color in lines if col in frame and frame[col].notna().any()]
            if axis["zero_at"] is not None:  # where the log axis breaks: no penalty left of it
                overlay.append(hv.VLine(axis["break_at"]).opts(color="#777777", line_dash="dotted", line_width=1))
            if axis["logx"]:  # half a decade of room either side, so the end ticks (0 among them) are drawn
                extra["xlim"] = (float(axis["positions"].min()) / 3, float(axis["positions"].max()) * 3)
            plots.append(hv.Overlay(overlay).opts(responsive=True, height=280, logx=axis["logx"], title=title,
                                                  tools=["hover"], legend_position="bottom", xticks=axis["ticks"],
                                                  **extra))
        return hv.Layout(plots).cols(1)

    def selection_frame(self) -> pd.DataFrame:
        """One row per prior: the network it selects (its sweep point), kind and measured columns."""
        rows = []
        members = self.outcome.run.members
        labels = self.trainer.job.point_labels() if members.names else None
        for prior in PRIORS:
            r = self.state.results[prior]
            m = r.map or {}
            index = m.get("index")
            point = labels[index % len(labels)] if labels and index is not None else ("-" if index is None else "")
            rows.append({"prior": prior, "network": "none looks good" if index is None else index, "sweep point": point,
                         "kind": m.get("kind", "-"), "avg compute": m.get("avg_compute", np.nan),
                         "max compute": m.get("max_compute", np.nan), "train perf": m.get("train_perf", np.nan),
                         "held-out perf": m.get("heldout_perf", np.nan),
                         **{f"mass {k}": r.mass.get(k, 0.0) for k in ("honest", "goof_off", "lookup")},
                         "candidates": r.n_candidates})
        return pd.DataFrame(rows)

    # ---- the page ---------------------------------------------------------------------------------

    def controls(self) -> pn.Column:
        """Start and Stop first, so that they are on screen at a projector's 1280x720 with every setting."""
        return pn.Column(
            pn.Row(self.start_button, self.stop_button), markup.markdown("#### What to train", margin=(0, 10)),
            self.proposal, self.task, self.size, self.penalties, self.mu,
            markup.markdown("#### Training", margin=(0, 10)), self.steps, self.learning_rate, self.seed,
            sizing_mode="stretch_width")

    def __panel__(self):
        intro = markup.markdown(
            "Real networks, trained here on a CPU thread, each under one proposal for a speed prior. Every "
            "network is measured per example (right or not, compute used) and becomes a program the priors "
            "choose among. The curves below are on the training batch, at every check.",
            sizing_mode="stretch_width", margin=(0, 10))
        main = pn.Column(intro, self.alert, self.progress, self.status_pane, self.curves,
                         self.results, sizing_mode="stretch_width")
        return pn.Row(pn.Column(self.controls(), width=300), main, pn.Column(self.story, width=360),
                      sizing_mode="stretch_width")


#: Result tables narrow enough for the page's middle column: smaller type, headers that wrap.
TABLE_CSS = """
table { font-size: 0.85em; border-collapse: collapse; }
th { white-space: normal; vertical-align: bottom; }
th, td { padding: 2px 5px; }
"""


def _table(frame: pd.DataFrame, css_class: str, index: bool = False) -> pn.pane.DataFrame:
    return pn.pane.DataFrame(frame, index=index, sizing_mode="stretch_width", css_classes=[css_class],
                             float_format="{:.3f}".format, stylesheets=[TABLE_CSS])


def _by_prior(frame: pd.DataFrame) -> pd.DataFrame:
    """The selection with one column per prior and one row per measure: five columns fit beside the story
    where twelve did not."""
    shown = frame.set_index("prior").map(lambda v: f"{v:.3f}" if isinstance(v, float) else str(v))
    shown = shown.T
    shown.columns.name = None
    return shown


#: Under learned halting the compute plot draws two counts per network; the caption says which is which.
HALTING_COUNTS = ("\n\nCompute, solid lines: the steps the halting rule runs (the first step where the chance of having "
                  "halted reaches 0.5). Dashed lines: the steps expected under the halting probabilities, the count "
                  "the penalty prices.")


def _panes(layout: hv.Layout) -> list[pn.pane.HoloViews]:
    """Each plot of a layout in a pane of its own, so that each takes the column's whole width."""
    return [pn.pane.HoloViews(plot, sizing_mode="stretch_width") for plot in layout.values()]


def penalty_axis(values: np.ndarray) -> dict[str, Any]:
    """Where each penalty value sits on a plot's x axis, and how the axis is labelled.

    Penalties are swept over decades (0.001, 0.01, 0.1), so the axis is logarithmic once the positive
    values span a decade or more; a linear axis would crowd all but the largest at its left edge. A log
    axis has no place for 0 (no penalty, the baseline), so 0 is drawn a decade left of the smallest positive
    value, labelled "0", with a dotted line where the axis breaks. Ticks are the values trained.
    """
    positive = values[values > 0]
    logx = len(positive) >= 2 and positive.max() >= 10 * positive.min()
    zero_at = float(positive.min()) / 10 if logx and (values == 0).any() else None
    positions = np.where(values > 0, values, zero_at if zero_at is not None else 0.0)
    ticks = [(float(p), "0" if v == 0 else f"{v:g}") for v, p in zip(values, positions)]
    label = "{label}" + (": log scale, 0 at the left" if zero_at is not None else ": log scale" if logx else "")
    return {"positions": positions, "ticks": ticks, "logx": bool(logx), "zero_at": zero_at,
            "break_at": float(np.sqrt(zero_at * positive.min())) if zero_at is not None else None, "label": label}


def _num(v) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

