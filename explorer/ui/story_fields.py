"""The current scenario's training story as four editable text areas.

A stand-in until the structured story editor lands: plain text in, plain text out. The learner's edits
are kept per scenario in this viewer, so switching to another scenario and back restores them. User text
only ever sits in text areas; nothing here renders it as Markdown or HTML.
"""

from __future__ import annotations

import panel as pn
import param

from explorer.scenario_stories import COMPONENTS, LABELS, STORIES
from explorer.scenarios import SCENARIOS


class StoryFields(pn.viewable.Viewer):
    """Training goal (specification, desirability) and rationale (constraints, nudges) for a scenario."""

    scenario = param.Selector(default="goof-off", objects=list(SCENARIOS), doc="Whose story is shown; the dashboard sets it.")

    def __init__(self, **params):
        super().__init__(**params)
        self._edits: dict[str, dict[str, str]] = {}
        self._loading = False
        self._areas = {c: pn.widgets.TextAreaInput(label=LABELS[c], auto_grow=True, rows=3, max_rows=10,
                                                   sizing_mode="stretch_width") for c in COMPONENTS}
        for component, area in self._areas.items():
            area.param.watch(lambda event, c=component: self._edited(c, event.new), ["value", "value_input"])
        self._load()

    def story(self) -> dict[str, str]:
        """The four texts as they stand now, by component name."""
        return {c: self._areas[c].value for c in COMPONENTS}

    def edits(self) -> dict[str, dict[str, str]]:
        """Every scenario's edited texts (a copy), for saving or export."""
        return {s: dict(texts) for s, texts in self._edits.items()}

    def reset(self) -> None:
        """Forget the edits to the current scenario's story and show the shipped text again."""
        self._edits.pop(self.scenario, None)
        self._load()

    def _edited(self, component: str, text: str | None) -> None:
        if self._loading or text is None:
            return
        texts = self._edits.setdefault(self.scenario, dict(STORIES.get(self.scenario, {})))
        texts[component] = text

    @param.depends("scenario", watch=True)
    def _load(self) -> None:
        texts = self._edits.get(self.scenario) or STORIES.get(self.scenario, {})
        self._loading = True
        try:
            for c in COMPONENTS:
                self._areas[c].value = texts.get(c, "")
        finally:
            self._loading = False

    def __panel__(self):
        reset = pn.widgets.Button(label="Restore the shipped story", description="Undo your edits to this scenario's story")
        reset.on_click(lambda _event: self.reset())
        title = pn.bind(lambda s: pn.pane.Str(f"Training story: {SCENARIOS[s].title}"), self.param.scenario)
        return pn.Column(title, *self._areas.values(), reset, sizing_mode="stretch_width")
