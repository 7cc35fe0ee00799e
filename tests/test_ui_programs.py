"""The programs page: the space, each prior's pick, a trace, and the story panel reading the selection."""

import time

import panel as pn
import param
import pytest

from explorer import table_cache
from explorer.priors import PRIORS
from explorer.scenarios import SCENARIOS
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


def test_a_second_page_reads_the_table_from_the_cache_and_shows_the_same(empty_cache, monkeypatch):
    from explorer.worlds import EnumeratedWorld

    first = ProgramsView(max_length=4)
    table_cache.forget()  # from the file, as a new process would
    monkeypatch.setattr(EnumeratedWorld, "table", lambda *a, **k: pytest.fail("measured again"))
    second = ProgramsView(max_length=4)
    assert second.summary.object == first.summary.object and second.listings == first.listings
    assert second.done == second.total == 1 and not second.running
    assert second.state.settings() == first.state.settings() and second.state.world_name == "enumerated"


def test_the_story_panel_reads_the_pages_state_by_the_rules_of_every_world():
    view = ProgramsView(max_length=4)
    assert view.story.state is view.state and view.state.settings()["performance_threshold"] == 1.0
    evidence = view.story.story.evidence_by_id()
    assert view.story.here
    for ev_id, r in view.story.here.items():  # evidence of the enumerated world only is evaluated here
        world = SCENARIOS[evidence[ev_id].scenario].world
        if world != "enumerated":
            assert r.holds is None and "this page shows the enumerated world" in r.problem, ev_id
        elif not (evidence[ev_id].predicate.params or evidence[ev_id].predicate.other_params):
            assert r.holds is not None, (ev_id, r.problem)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A cache folder of the test's own: a length-6 table cached by another test would not be measured."""
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    table_cache.forget()
    yield tmp_path
    table_cache.forget()


def _start_length_6(view):
    with param.parameterized.discard_events(view):
        view.max_length = 6
    view.recompute(sync=False)
    deadline = time.monotonic() + 60
    while view.done < 1 and view.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert view.running and not view._stop_button.disabled and view._progress.visible


def test_stop_ends_a_length_6_measurement_early_and_keeps_the_previous_result(empty_cache):
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


def test_a_new_choice_while_measuring_stops_it_and_measures_the_new_one(empty_cache):
    view = ProgramsView(max_length=4)
    _start_length_6(view)
    view.max_length = 3  # while the length-6 measurement runs
    assert view.wait(60)
    assert not view.running and view.message == "" and view.shown["max_length"] == 3 and "1..3" in view.summary.object
