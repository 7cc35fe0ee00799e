"""A guided tour beside the dashboard: one step at a time, predict, then reveal.

A Viewer over a SimulationState and a Tour. Entering a step loads its parameters into the state
completely (every default, then the scenario, then the step's overrides; only n_programs and backend stay
as the learner set them), so a setting from an earlier step or a slider the learner moved never lingers.
Reveal shows the answer, says whether the learner's chosen option matched, and lists the step's checks
computed at the state's size and back end.

On the page the tour sits beside the picture, in a column a third of the page wide: Previous and Next
come first, under the step's heading, so a presenter never scrolls to move on, and the tour's
introduction shows on its first step only.

A tour is a file anyone can edit: its text is Markdown shown in panes with raw HTML off (explorer.ui.markup),
and messages that quote a setting are escaped with `markup.text`.
"""

from __future__ import annotations

import panel as pn
import param

from explorer.checks import Outcome
from explorer.errors import ExplorerError
from explorer.scenarios import SCENARIOS
from explorer.tours import Tour, TourStep, describe_outcome
from explorer.ui import markup
from explorer.ui.state import SimulationState


def _markdown(text: str = "", **params) -> pn.pane.Markdown:
    return markup.markdown(text, **params)


class TourView(pn.viewable.Viewer):
    """Step through a tour: question, optional choices, Reveal, Previous and Next."""

    step = param.Integer(0, bounds=(0, None), doc="Index of the current step (0-based).")
    choice = param.String(None, allow_None=True, doc="The option the learner picked, if any.")
    revealed = param.Boolean(False, doc="Whether the current step's answer is shown.")

    def __init__(self, state: SimulationState, tour: Tour, **params):
        super().__init__(**params)
        self.state = state
        self.tour = tour
        self.param.step.bounds = (0, len(tour.steps) - 1)
        self._outcomes: dict[tuple, list[Outcome] | str] = {}  # (step, n_programs, backend) -> checks

        self._intro = _markdown(f"### {tour.title}\n\n{tour.intro}", sizing_mode="stretch_width")
        self._heading = _markdown()
        self._question = _markdown()
        self._options = pn.widgets.RadioButtonGroup(options=["-"], orientation="vertical", color="default",
                                                    variant="outline", label="Your prediction",
                                                    sizing_mode="stretch_width",
                                                    stylesheets=[".bk-btn { white-space: normal; }"])  # long options wrap
        self._reveal_button = pn.widgets.Button(label="Reveal", color="primary", description="Show the answer")
        self._verdict = markup.alert("", alert_type="info", visible=False)
        self._answer = _markdown(visible=False)
        self._evidence = _markdown(visible=False)
        self._problem = markup.alert("", alert_type="danger", visible=False)
        self._previous = pn.widgets.Button(label="◀ Previous", description="Go to the previous step")
        self._next = pn.widgets.Button(label="Next ▶", description="Go to the next step")

        self._options.param.watch(self._picked, "value")
        self._reveal_button.on_click(lambda _event: self.reveal())
        self._previous.on_click(lambda _event: self.previous())
        self._next.on_click(lambda _event: self.next())
        self._enter()

    # ---- actions (what the buttons do; callable from a notebook or a test) ---------------------

    @property
    def current(self) -> TourStep:
        return self.tour.steps[self.step]

    def next(self) -> None:
        if self.step < len(self.tour.steps) - 1:
            self.step += 1

    def previous(self) -> None:
        if self.step > 0:
            self.step -= 1

    def go(self, index: int) -> None:
        """Jump to step `index` (0-based)."""
        self.step = index

    def reveal(self) -> None:
        self.revealed = True

    # ---- reactions ------------------------------------------------------------------------------

    @param.depends("step", watch=True)
    def _enter(self) -> None:
        s = self.current
        applied = self.state.apply(**s.complete_params())
        self._problem.object = "" if applied else f"This step's settings were not applied: {markup.text(self.state.message)}"
        self._problem.visible = not applied
        with param.parameterized.batch_call_watchers(self):
            self.choice = None
            self.revealed = False
        n = len(self.tour.steps)
        title = f": {s.title}" if s.title else ""
        self._intro.visible = self.step == 0
        self._heading.object = (f"**Step {self.step + 1} of {n}{title}**  \n"
                                f"Preset: {SCENARIOS[s.scenario].title}" + _overrides(s))
        self._question.object = s.question
        self._options.visible = bool(s.options)
        if s.options:
            self._options.options = list(s.options)
        self._options.value = None
        self._previous.disabled = self.step == 0
        self._next.disabled = self.step == n - 1
        self._show()

    def _picked(self, event) -> None:
        self.choice = event.new
        if self.revealed:
            self._show()

    @param.depends("revealed", watch=True)
    def _show(self) -> None:
        s = self.current
        shown = self.revealed
        self._answer.visible = self._evidence.visible = self._verdict.visible = shown
        self._reveal_button.disabled = shown
        if not shown:
            return
        self._answer.object = s.reveal
        right = s.is_right(self.choice)
        if right is None:
            self._verdict.alert_type = "info"
            self._verdict.object = f"The answer: {s.answer}" if s.answer else "Compare with what you predicted."
        elif right:
            self._verdict.alert_type = "success"
            self._verdict.object = f"Right: you picked “{self.choice}”."
        else:
            self._verdict.alert_type = "warning"
            self._verdict.object = f"Not quite: you picked “{self.choice}”; the answer is “{s.answer}”."
        self._evidence.object = self._evidence_text()

    def _evidence_text(self) -> str:
        s = self.current
        if not s.look_at:
            return ""
        world = self.state.simulation.world
        key = (self.step, world.n_programs, world.backend)
        if key not in self._outcomes:
            try:
                self._outcomes[key] = s.verify(n_programs=world.n_programs, backend=world.backend)
            except ExplorerError as exc:
                self._outcomes[key] = str(exc)
        outcomes = self._outcomes[key]
        if isinstance(outcomes, str):
            return f"The checks could not be computed: {markup.text(outcomes)}"
        lines = [f"- {describe_outcome(o)}" for o in outcomes]
        return "**What to read, computed for this step's settings:**\n\n" + "\n".join(lines)

    def __panel__(self):
        return pn.Column(
            self._heading, pn.Row(self._previous, self._next, sizing_mode="stretch_width"), self._problem,
            self._intro, self._question, self._options, self._reveal_button, self._verdict, self._answer,
            self._evidence, sizing_mode="stretch_width", css_classes=["tour-step"],
        )


def _overrides(s: TourStep) -> str:
    if not s.overrides:
        return ""
    return ", with " + ", ".join(f"{k} = {v}" for k, v in s.overrides.items())
