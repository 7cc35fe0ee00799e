"""The priors dashboard: controls, the five priors side by side, and the plots that explain them.

Composition only: every part is its own Viewer over one SimulationState, so the dashboard works the
same served, in a notebook and in a test.

The layout is made for a projector's 1280x720 first (`main`): without scrolling, the essay's picture (the
scatter) with each prior's pick and its posterior mass per kind under it, and beside them a column with
the guided tour (the scenario's claim and a Start button, or the current step), the story and, when the
presenter's compare view exists, A and B. The stacked bars, compute per task, the regime map and every
column of the selection sit below, in tabs that render only when shown.

The page's own link names (`link_names`, read and written by explorer.ui.url with the other link parts):
  - `tour=NAME&step=N` opens tour NAME (a file under assets/tours) at step N, counted from 1 as the
    step's heading says ("Step 3 of 10"); Previous and Next keep `step` in the link.
  - `type=large` shows larger type for a projector (also the "Large type" switch beside the tour).
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
from explorer.params import quoted
from explorer.ui.serving import LARGE_TYPE_CLASS, LARGE_TYPE_CSS
from explorer.ui.url import link_query

#: Height of the picture, so that it and the picks fit under the header at 1280x720.
SCATTER_HEIGHT = 370
#: Width and height of the column beside the picture (tour, story, compare): as tall as the picture and
#: the picks together.
SIDE_WIDTH, SIDE_HEIGHT = 330, 570
#: How much larger the plots' text is with large type on.
LARGE_FONT_SCALE = 1.3


class PriorsDashboard(pn.viewable.Viewer):
    """Pick a preset, move the controls, and watch which program each prior selects."""

    scenario = param.Selector(default="goof-off", objects=list(scenarios_of("abstract")),
                              doc="The preset the view starts from (a scenario of the abstract world).")
    large_type = param.Boolean(False, label="Large type",
                               doc="Larger text and plot labels, for a projector (in the link: type=large).")
    tour_step = param.Integer(0, bounds=(0, None), precedence=-1,
                              doc="The running tour's step, counted from 1 (0: no tour running); in the link as step=.")

    #: What the link says about the page itself (see the module docstring); explorer.ui.url reads and writes them.
    link_names = ("tour", "step", "type")
    link_watch = ("tour_step", "large_type")

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
        self.scatter = ProgramScatter(state=self.state, height=SCATTER_HEIGHT)
        self.task_bars = TaskBars(state=self.state)
        self.regime_map = RegimeMapView(state=self.state)
        self.story = StoryPanel(state=self.state, library=story_library, scenario=self.scenario)
        self.tour: TourView | None = None  # made when the learner starts it: entering a step changes the view
        self._tour_slot = pn.Column(self._tour_start(), sizing_mode="stretch_width")
        self._following_tour = False
        self._typed: list = []  # what the larger type applies to (containers; the CSS class inherits)
        self.param.watch(self._apply_type, "large_type")
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
        self.tour_name = ""
        self.link_parts.append(self)  # tour=, step= and type= (see the module docstring)

    # ---- actions ------------------------------------------------------------------------------

    def _load_scenario(self, *_):
        self.story.scenario = self.scenario
        if not self._following_tour:
            self.state.apply(**preset_params(self.scenario))

    def start_tour(self, name: str = "speed-prior-essay", step: int = 1) -> TourView:
        """Start a guided tour from assets/tours at `step` (counted from 1); each step loads its preset into
        this dashboard."""
        tour = load_tour(list_tours()[name])
        self.tour_name = name
        self.tour = TourView(self.state, tour, step=max(0, min(step, len(tour.steps)) - 1))
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
        self.tour_step = self.tour.step + 1

    # ---- the page's own link names -------------------------------------------------------------

    def link_pairs(self) -> list[tuple[str, str]]:
        """The tour and its step (from 1), and large type, as the link writes them."""
        pairs = [("tour", self.tour_name), ("step", str(self.tour_step))] if self.tour is not None else []
        return pairs + ([("type", "large")] if self.large_type else [])

    def apply_link(self, values: dict[str, str]) -> list[str]:
        """Read `tour`, `step` and `type` from a link; one message per value that cannot be used."""
        problems = []
        kind = values.get("type")
        if kind is not None:
            if kind in ("large", "normal"):
                self.large_type = kind == "large"
            else:
                problems.append(f"type: {quoted(kind)} is not one of: large, normal")
        name, step = values.get("tour"), values.get("step")
        if name is None:
            if step is not None:
                problems.append("step: a step needs a tour, e.g. tour=speed-prior-essay&step=3")
            return problems
        tours = list_tours()
        if name not in tours:
            return problems + [f"tour: {quoted(name)} is not a tour; tours: {', '.join(tours)}"]
        number = 1
        if step is not None:
            n = len(load_tour(tours[name]).steps)
            if step.isdigit() and 1 <= int(step) <= n:
                number = int(step)
            else:
                problems.append(f"step: {quoted(step)} is not a step of {name}: 1 to {n}; the tour starts at step 1")
        self.start_tour(name, number)
        return problems

    # ---- larger type -----------------------------------------------------------------------------

    def typed(self, view):
        """`view` with the page's larger type applied when it is on (a container: its text inherits it)."""
        view.stylesheets = [*view.stylesheets, LARGE_TYPE_CSS]
        if self.large_type:
            view.css_classes = [*view.css_classes, LARGE_TYPE_CLASS]
        self._typed.append(view)
        return view

    def _apply_type(self, *_):
        for view in self._typed:
            others = [c for c in view.css_classes if c != LARGE_TYPE_CLASS]
            view.css_classes = others + ([LARGE_TYPE_CLASS] if self.large_type else [])
        scale = LARGE_FONT_SCALE if self.large_type else 1.0
        self.scatter.font_scale = scale
        self.comparison.set_font_scale(scale)

    def _tour_start(self):
        tours = list_tours()
        button = pn.widgets.Button(label="Start the guided tour", color="primary",
                                   description="Walk through the speed-prior argument: predict, then look.")
        button.on_click(lambda _: self.start_tour())
        claim = pn.bind(lambda s: markup.markdown(f"**{markup.text(SCENARIOS[s].title)}.** {markup.text(SCENARIOS[s].claim)}",
                                                  sizing_mode="stretch_width", css_classes=["scenario-claim"]),
                        self.param.scenario)
        return pn.Column(claim, button,
                         markup.markdown(f"{len(tours)} tour(s) available. A tour replaces the current settings "
                                         "with each step's preset.", sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

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
        # Tabs render only the one on show, so a slider move updates what is visible and nothing else; the
        # first (on show as the page opens) is the cheapest, so the views under the fold cost a slider move
        # nothing until someone opens them. The stacked bars stay outside: drawn on every page, patched in place.
        tabs = pn.Tabs(("All columns", pn.panel(self.comparison.table_view)), ("Compute per task", self.task_bars),
                       ("Regime map", self.regime_map), dynamic=True, sizing_mode="stretch_width")
        return [self.comparison.bars_view(), tabs]

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

    def side(self) -> pn.Column:
        """The column beside the picture: large type, then tabs for the tour (or the claim), the story and,
        when the presenter's compare view exists (`self.pinned`), A and B."""
        tabs = [("Guided tour", self._tour_slot), ("Story", self.story)]
        if getattr(self, "pinned", None) is not None:
            tabs.append(("Compare", self.pinned))
        # Each tab scrolls inside itself, so a long step or story keeps its tab bar and never pushes the
        # picture or the picks down (nor, taller than them, runs over the bars below).
        tabs = [(label, pn.Column(view, height=SIDE_HEIGHT - 80, scroll=True, sizing_mode="stretch_width"))
                for label, view in tabs]
        switch = pn.widgets.Checkbox.from_param(self.param.large_type, css_classes=["large-type-switch"],
                                                sizing_mode="stretch_width", margin=(6, 10, 0, 10))
        return pn.Column(switch, pn.Tabs(*tabs, dynamic=True, sizing_mode="stretch_width"),
                         width=SIDE_WIDTH, height=SIDE_HEIGHT, css_classes=["side-column"])

    def main(self) -> pn.Column:
        picture = pn.Column(self._message, self.scatter, self.typed(self.comparison.picks()),
                            self.typed(self.comparison.ties()), sizing_mode="stretch_width",
                            css_classes=["picture-and-picks"])
        top = pn.Row(picture, self.side(), sizing_mode="stretch_width")
        return self.typed(pn.Column(top, *self._views(), self.downloads(), sizing_mode="stretch_width"))

    def __panel__(self):
        return pn.Row(pn.Column(self.sidebar(), width=280), self.main(), sizing_mode="stretch_width")
