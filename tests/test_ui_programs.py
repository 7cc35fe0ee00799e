"""The programs page: the space, each prior's pick, a trace, and the story panel reading the selection."""

import time

import panel as pn
import param

from explorer.priors import PRIORS
from explorer.ui import markup
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


def test_progress_reaches_the_total_and_the_stop_button_is_idle_after():
    view = ProgramsView(max_length=4)
    assert view.total > 0 and view.done == view.total and not view.running
    assert view._stop_button.disabled and not view.status.visible and view.shown["max_length"] == 4


def _start_length_6(view):
    with param.parameterized.discard_events(view):
        view.max_length = 6
    view.recompute(sync=False)
    deadline = time.monotonic() + 60
    while view.done < 1 and view.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert view.running and not view._stop_button.disabled and view._progress.visible


def test_stop_ends_a_length_6_measurement_early_and_keeps_the_previous_result():
    view = ProgramsView(max_length=4)
    summary, listings, version = view.summary.object, dict(view.listings), view.story_state.version
    _start_length_6(view)
    view._stop_button.clicks += 1
    assert view.wait(60)
    assert not view.running and 0 < view.done < view.total
    assert view.message.startswith("Stopped after") and "length 1..4 for parity" in view.message
    assert view.status.visible and view.status.object == markup.text(view.message)
    assert view.summary.object == summary and view.listings == listings and view.story_state.version == version
    assert view.shown["max_length"] == 4 and "1..4" in view.summary.object


def test_a_new_choice_while_measuring_stops_it_and_measures_the_new_one():
    view = ProgramsView(max_length=4)
    _start_length_6(view)
    view.max_length = 3  # while the length-6 measurement runs
    assert view.wait(60)
    assert not view.running and view.message == "" and view.shown["max_length"] == 3 and "1..3" in view.summary.object
