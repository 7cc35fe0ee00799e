"""The priors dashboard: controls, the five priors side by side, and the plots that explain them.

Composition only: every part is its own Viewer over one SimulationState, so the dashboard works the
same served, in a notebook and in a test.
"""

from __future__ import annotations

import io
import json

import panel as pn
import param

from explorer.scenarios import SCENARIOS, preset_params, scenarios_of
from explorer.stories.library import StoryLibrary
from explorer.tours import list_tours, load_tour
from explorer.ui import markup
from explorer.ui.comparison import PriorComparison, selection_frame
from explorer.ui.controls import Controls, baseline_values
from explorer.ui.pinned_compare import PinnedComparison
from explorer.ui.regime_map import RegimeMapView
from explorer.ui.room_link import RoomLink
from explorer.ui.scatter import ProgramScatter
from explorer.ui.state import SimulationState
from explorer.ui.story_panel import StoryPanel
from explorer.ui.task_bars import TaskBars
from explorer.ui.tour import TourView
from explorer.ui.url import link_query


class PriorsDashboard(pn.viewable.Viewer):
    """Pick a preset, move the controls, and watch which program each prior selects."""

    scenario = param.Selector(default="goof-off", objects=list(scenarios_of("abstract")),
                              doc="The preset the view starts from (a scenario of the abstract world).")

    def __init__(self, n_programs: int = 100_000, backend: str = "numpy", max_programs: int | None = None,
                 story_library: StoryLibrary | None = None, **params):
        # the abstract world's scenarios as they are now (user folders may have changed since import)
        type(self).param.scenario.objects = list(scenarios_of("abstract"))
        super().__init__(**params)
        self.initial = {"n_programs": n_programs, "backend": backend}
        self.state = SimulationState(n_programs=n_programs, backend=backend, max_programs=max_programs,
                                     **preset_params(self.scenario))
        self.controls = Controls(state=self.state)
        self.comparison = PriorComparison(state=self.state)
        self.scatter = ProgramScatter(state=self.state)
        self.task_bars = TaskBars(state=self.state)
        self.regime_map = RegimeMapView(state=self.state)
        self.story = StoryPanel(state=self.state, library=story_library, scenario=self.scenario)
        self.tour: TourView | None = None  # made when the learner starts it: entering a step changes the view
        self._tour_slot = pn.Column(self._tour_start(), sizing_mode="stretch_width")
        self._following_tour = False
        self._message = markup.alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.state.param.watch(self._on_state_message, "message")
        self.param.watch(self._load_scenario, "scenario")
        # A presenter's controls (explorer.ui.controls marks, room_link, pinned_compare): marks follow the
        # preset; which controls show and a pinned setting A are parts of the link (explorer.ui.url).
        self.controls.baseline = baseline_values(self.scenario, self.initial)
        self.param.watch(lambda e: setattr(self.controls, "baseline", baseline_values(e.new, self.initial)), "scenario")
        self.room = RoomLink(self.controls, lambda: link_query(self))
        self.pinned = PinnedComparison(state=self.state, current_scenario=lambda: self.scenario)
        self.pinned.param.watch(lambda *_: self.room.update_link(), "pinned")
        self.link_parts = [self.room, self.pinned]

    # ---- actions ------------------------------------------------------------------------------

    def _load_scenario(self, *_):
        self.story.scenario = self.scenario
        if not self._following_tour:
            self.state.apply(**preset_params(self.scenario))

    def start_tour(self, name: str = "speed-prior-essay") -> TourView:
        """Start a guided tour from assets/tours; each step loads its preset into this dashboard."""
        self.tour = TourView(self.state, load_tour(list_tours()[name]))
        self.tour.param.watch(self._follow_tour, "step")
        self._follow_tour()
        self._tour_slot[:] = [self.tour]
        return self.tour

    def _follow_tour(self, *_):
        self._following_tour = True  # the step already applied its settings: show its preset, do not reload it
        try:
            self.scenario = self.tour.current.scenario
        finally:
            self._following_tour = False

    def _tour_start(self):
        tours = list_tours()
        button = pn.widgets.Button(label="Start the guided tour", color="primary",
                                   description="Walk through the speed-prior argument: predict, then look.")
        button.on_click(lambda _: self.start_tour())
        return pn.Column(markup.markdown(f"{len(tours)} tour(s) available. A tour replaces the current settings "
                                         "with each step's preset."), button)

    def reset(self, *_) -> None:
        """Back to the current preset's values (keeping the program count and back end)."""
        self._load_scenario()
        self.show_message("")

    def show_message(self, text: str) -> None:
        """Show `text` (which may quote a link or a widget) as plain words above the results."""
        self._message.object = markup.text(text)
        self._message.visible = bool(text)

    def _on_state_message(self, event):
        self.show_message(event.new)

    # ---- exports ------------------------------------------------------------------------------

    def export_csv(self) -> io.StringIO:
        """The current selection (one row per prior) as CSV."""
        return io.StringIO(selection_frame(self.state).to_csv(index=False))

    def export_json(self) -> io.StringIO:
        """The current selection as `python -m explorer select --json` prints it."""
        report = {"scenario": self.scenario, "params": self.state.simulation.params(),
                  "priors": {p: r.to_dict() for p, r in self.state.results.items()}, "story": self.story.report()}
        return io.StringIO(json.dumps(report, indent=2, default=str))

    def export_html(self) -> io.StringIO:
        """The whole view as a standalone HTML file (plots and tables as they are now, no server, no network:
        scripts and stylesheets inlined)."""
        from explorer.ui.offline import standalone_html

        return io.StringIO(standalone_html(self.snapshot, title=f"Speed Prior Explorer: {self.scenario}"))

    def snapshot(self) -> pn.Column:
        """What the HTML export shows: the preset, its parameters, static views, and the story beside them."""
        scenario = SCENARIOS[self.scenario]
        return pn.Column(markup.markdown(f"# {markup.text(scenario.title)}"), markup.markdown(markup.text(scenario.claim)),
                         pn.pane.JSON(self.state.simulation.params(), name="parameters", depth=1),
                         *self._views(static=True), markup.html(self.story.html(), name="story"))

    def _views(self, static: bool = False) -> list:
        if static:
            return [pn.widgets.Tabulator(selection_frame(self.state), show_index=False, disabled=True),
                    self.comparison.bars(), self.scatter.element(), self.task_bars.element()]
        # Tabs render only the one on show, so a slider move updates what is visible and nothing else.
        tabs = pn.Tabs(("Programs", self.scatter), ("Compute per task", self.task_bars),
                       ("Regime map", self.regime_map), ("Guided tour", self._tour_slot),
                       dynamic=True, sizing_mode="stretch_width")
        return [self.comparison, tabs]

    # ---- layout -------------------------------------------------------------------------------

    def sidebar(self) -> pn.Column:
        picker = pn.widgets.Select.from_param(self.param.scenario, label="Preset", description=self.param.scenario.doc)
        reset = pn.widgets.Button(label="Reset to preset", color="default", description="Undo every change since the preset loaded.")
        reset.on_click(self.reset)
        preset = pn.Column(picker, reset, sizing_mode="stretch_width", margin=0, visible=self.room.param.preset_visible)
        return pn.Column(self.room, preset, self.pinned.controls(), self.controls, self.room.builder(),
                         sizing_mode="stretch_width")

    def downloads(self) -> pn.Row:
        slug = lambda ext: f"speed-prior-{self.scenario}.{ext}"  # noqa: E731
        return pn.Row(
            pn.widgets.FileDownload(callback=self.export_csv, filename=slug("csv"), label="Selection as CSV", color="light"),
            pn.widgets.FileDownload(callback=self.export_json, filename=slug("json"), label="Selection as JSON", color="light"),
            pn.widgets.FileDownload(callback=self.export_html, filename=slug("html"), label="View as HTML", color="light"),
        )

    def main(self) -> pn.Row:
        claim = pn.bind(lambda s: markup.markdown(f"**{markup.text(SCENARIOS[s].title)}.** {markup.text(SCENARIOS[s].claim)}"),
                        self.param.scenario)
        simulation = pn.Column(claim, self._message, *self._views(), self.downloads(), sizing_mode="stretch_width")
        story = pn.Column(self.story, width=340)
        return pn.Row(simulation, story, sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Row(pn.Column(self.sidebar(), width=320), self.main(), sizing_mode="stretch_width")
