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


def test_the_instructions_choice_lists_each_set_once_and_leaves_the_worlds_own_list_alone():
    """param extends a Selector's objects in place: sharing the world's list doubled both (and the schema)."""
    from explorer.worlds.enumerated.world import EnumeratedWorld
    assert EnumeratedWorld.param.instruction_set.objects == ["basic", "slack"]
    view = ProgramsView(max_length=3)
    assert list(pn.widgets.Select.from_param(view.param.instruction_set).options) == ["basic", "slack"]


def test_the_slack_instruction_set_is_measured_and_traced_on_the_page():
    view = ProgramsView(max_length=3)
    basic = view.summary.object
    view.instruction_set = "slack"
    assert view.shown["instruction_set"] == "slack" and "slack instructions" in view.summary.object
    assert view.summary.object != basic and view.state.settings()["instruction_set"] == "slack"
    view.listings["simplicity"] = "IFSHORT NOP LOOP XORX END"  # trace a slack waster: NOP runs on short inputs
    view.trace_input = "11"
    assert list(view.trace_pane.value["instruction"][:2]) == ["IFSHORT", "NOP"] and "7 steps" in view.trace_note.object
    view.trace_input = "111"
    assert list(view.trace_pane.value["instruction"][:2]) == ["IFSHORT", "LOOP"] and "8 steps" in view.trace_note.object


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


@pytest.fixture
def one_slot(tmp_path):
    """A server pool of one slot (its own slot files), put back afterwards."""
    from explorer import jobs

    pool = jobs.JobPool(slots=1, slots_dir=tmp_path / "slots")
    old = jobs.set_pool(pool)
    yield pool
    jobs.set_pool(old)


def _hold_the_slot(pool):
    """Occupy the pool's only slot until the returned event is set."""
    import threading

    release, started = threading.Event(), threading.Event()

    def busy(progress, should_stop):
        started.set()
        release.wait(60)
        return "done"

    thread = threading.Thread(target=pool.run, args=("someone else's job", busy), daemon=True)
    thread.start()
    assert started.wait(10)
    return release, thread


def _until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_measurement_waits_for_a_busy_worker_and_says_its_place_in_line(empty_cache, one_slot):
    view = ProgramsView(max_length=2)
    other = ProgramsView(max_length=2)
    release, holder = _hold_the_slot(one_slot)
    with param.parameterized.discard_events(view):
        view.max_length = 3  # not measured yet: waits behind the job that holds the only slot
    view.recompute(sync=False)
    assert _until(lambda: view.queued == 1)
    assert "Waiting for a free worker" in view.status.object and "1st in line" in view.status.object
    assert view.status.visible
    with param.parameterized.discard_events(other):
        other.max_length = 4
    other.recompute(sync=False)
    assert _until(lambda: other.queued == 2) and "2nd in line" in other.status.object
    release.set()
    holder.join(10)
    assert view.wait(60) and other.wait(60)
    assert view.shown["max_length"] == 3 and other.shown["max_length"] == 4 and view.queued == other.queued == 0
    assert not view.status.visible and "Waiting" not in view.status.object


def test_two_pages_share_the_table_and_the_program_space():
    first, second = ProgramsView(max_length=3), ProgramsView(max_length=3)
    assert second.state.simulation.table() is first.state.simulation.table()
    assert not second.state.simulation.table().bits.flags.writeable  # no page can change another's table


def test_stop_while_waiting_leaves_the_line_and_keeps_the_page(empty_cache, one_slot):
    view = ProgramsView(max_length=2)
    release, holder = _hold_the_slot(one_slot)
    with param.parameterized.discard_events(view):
        view.max_length = 3
    view.recompute(sync=False)
    assert _until(lambda: view.queued == 1) and one_slot.waiting() == 1
    view.stop()
    assert view.wait(10) and one_slot.waiting() == 0  # left the line while the slot was still busy
    assert view.message.startswith("Stopped while waiting for a free worker") and "length 1..2" in view.message
    assert view.shown["max_length"] == 2
    release.set()
    holder.join(10)


# ---- the page's link ----------------------------------------------------------------------------


@pytest.fixture
def measured(monkeypatch):
    """The requests actually measured, in order."""
    requests = []
    select = ProgramsView._select

    def spy(self, request, progress, waiting=None):
        requests.append(dict(request))
        return select(self, request, progress, waiting)

    monkeypatch.setattr(ProgramsView, "_select", spy)
    return requests


def test_a_link_opens_the_page_it_names_measures_only_that_and_follows_changes(link, measured):
    location = link("?task=count&max_length=4&traced_prior=max_speed&trace_input=0110&deployed=true&theme=dark")
    view = ProgramsView.from_link()
    assert measured == [{"task": "count", "max_length": 4, "instruction_set": "basic", "generalization_check": True}]  # not the default first
    assert "of length 1..4 for *count*" in view.summary.object and view.link_problem == "" and not view.status.visible
    assert "on x = 0110, f = 1" in view.trace_note.object and view.trace_pane.value is not None
    assert location.search == "?task=count&max_length=4&traced_prior=max_speed&trace_input=0110&deployed=true&theme=dark"
    view.task = "parity"
    assert location.search == "?max_length=4&traced_prior=max_speed&trace_input=0110&deployed=true&theme=dark"
    fresh = ProgramsView(measure=False)
    from explorer.ui.programs_view import LINK
    from explorer.ui.url import apply_params
    assert apply_params(fresh, LINK, location.search) == []
    assert {n: getattr(fresh, n) for n in LINK} == {n: getattr(view, n) for n in LINK}


def test_a_length_over_the_served_limit_is_refused_with_a_message_naming_it(link, measured):
    link("?max_length=9&generalization_check=false")
    view = ProgramsView.from_link(max_length=3)
    assert measured == [{"task": "parity", "max_length": 3, "instruction_set": "basic", "generalization_check": False}]
    assert view.max_length == 3 and "max_length: 9 is more than this server allows (at most 6)" in view.link_problem
    assert "\n" not in view.link_problem and view.status.visible and "at most 6" in view.status.object
    view.generalization_check = True  # the next change: the link as typed no longer applies
    assert view.link_problem == "" and "at most 6" not in view.status.object


def test_a_hostile_link_is_shown_as_text_and_the_rest_applies(link, measured):
    link("?task=<img src=x onerror=alert(1)>&max_length=3&trace_input=<b>1</b>")
    view = ProgramsView.from_link()
    assert measured == [{"task": "parity", "max_length": 3, "instruction_set": "basic", "generalization_check": True}]
    assert "task: '<img src=x onerror=alert(1)>' is not one of: parity" in view.link_problem
    assert "<img" not in view.status.object and "&lt;img" in view.status.object
    assert "not understood" in view.trace_note.object and "<b>" not in view.trace_note.object


def test_the_bar_follows_a_report_that_jumps_past_its_old_total():
    """A page showing a cached table's bar (1 of 1) that joins a shared measurement hears 4 of 12 at once."""
    view = ProgramsView(max_length=4)
    view.param.update(running=True, done=1, total=1)
    view.param.update(done=4, total=12)
    assert (view._progress.value, view._progress.max) == (4, 12)
    view.param.update(done=1, total=3)  # a new, smaller measurement
    assert (view._progress.value, view._progress.max) == (1, 3)
    view.param.update(running=False)
