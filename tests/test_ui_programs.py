"""The programs page: the space, each prior's pick, a trace, and the story panel reading the selection."""

import panel as pn

from explorer.priors import PRIORS
from explorer.ui.programs_view import ProgramsView


def test_the_page_selects_traces_and_feeds_the_story():
    view = ProgramsView(max_length=4)
    assert list(view.picks.value["prior"]) == list(PRIORS)
    assert view.listings["simplicity"] in ("LOOP ADDX END", "LOOP XORX END")
    assert len(view.source.data["bits"]) > 0 and set(view.source.data["kind"]) <= {"honest", "goof_off", "deceptive", "lookup"}
    assert list(view.trace_pane.value["instruction"][:2]) == ["LOOP", view.listings["simplicity"].split()[1]]
    assert "9 steps (correct for parity)" in view.trace_note.object
    before = view.story_state.version
    view.task = "count"
    assert view.story_state.version == before + 1 and view.story_state.results["simplicity"].map["kind"] == "honest"
    view.trace_input = "10x"
    assert "not understood" in view.trace_note.object
    assert pn.panel(view).get_root() is not None
