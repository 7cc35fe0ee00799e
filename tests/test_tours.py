"""Guided tours (file format, validation, the shipped essay tour) and the tour view."""

import html
import textwrap

import panel as pn
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.errors import ExplorerError
from explorer.scenarios import SCENARIOS
from explorer.simulation import Simulation
from explorer.tours import TOURS_DIR, describe_outcome, list_tours, load_tour, parse_tour
from explorer.ui.state import SimulationState
from explorer.ui.tour import TourView
from explorer.worlds.abstract import DEFAULT_KIND_MIX

N = 20_000
ESSAY = TOURS_DIR / "speed-prior-essay.yaml"
TOUR = load_tour(ESSAY)


# ---- the shipped tour ---------------------------------------------------------------------------


def test_the_essay_tour_is_listed_and_loads():
    assert list_tours()["speed-prior-essay"] == ESSAY
    assert 8 <= len(TOUR) <= 11
    assert TOUR.title and TOUR.intro
    for s in TOUR.steps:
        assert s.question and s.reveal and s.title
        assert s.answer in s.options, "every step of the essay tour is multiple choice"
        assert s.look_at, "every reveal of the essay tour is backed by computed checks"


def test_the_tour_follows_the_essay():
    """The essay's order: why priors matter, then speed, then its limits, then Proposal 0."""
    order = [s.scenario for s in TOUR.steps]
    assert order[:2] == ["lookup-table", "lookup-table"]
    assert order.index("goof-off") < order.index("deceptive-planner") < order.index("deception-checks")
    assert order.index("memory") < order.index("fastest-is-deceptive") < order.index("simple-deception")
    assert TOUR.steps[6].overrides == {"generalization_check": True}
    assert "anneal" in TOUR.steps[-1].reveal


@pytest.mark.parametrize("index", range(len(TOUR)), ids=lambda i: f"step{i + 1}")
def test_every_step_builds_and_its_checks_hold(index):
    s = TOUR.steps[index]
    sim = Simulation(**s.complete_params(), n_programs=N)
    assert sim.select()["average_speed"].n_candidates > 0
    failed = [describe_outcome(o) for o in s.verify(n_programs=N) if not o.passed]
    assert not failed, f"step {index + 1} ({s.title}) reveals something the simulation does not show: {failed}"


def test_step_params_are_the_scenario_with_overrides():
    s = TOUR.steps[6]
    assert s.params() == {**SCENARIOS["lookup-table"].params, "generalization_check": True}
    full = s.complete_params()
    assert "n_programs" not in full and "backend" not in full
    assert full["generalization_check"] is True and full["kind_mix"] == DEFAULT_KIND_MIX
    mine = TOUR.steps[2].params()
    mine["kind_mix"]["honest"] = 0.0  # a caller's edit must not reach the preset
    assert SCENARIOS["goof-off"].params["kind_mix"]["honest"] == 0.5


# ---- bad tours ----------------------------------------------------------------------------------

GOOD_STEP = """\
title: t
steps:
  - scenario: goof-off
    question: q?
    reveal: r.
"""

BAD_TOURS = {
    "unknown scenario": ("title: t\nsteps:\n  - scenario: goof-of\n    question: q\n    reveal: r\n",
                         3, ["unknown scenario 'goof-of'", "goof-off"]),
    "unknown parameter": ("title: t\nsteps:\n  - scenario: goof-off\n    set:\n      misbehavior_cost: 2\n"
                          "    question: q\n    reveal: r\n", 5, ["unknown parameter 'misbehavior_cost'"]),
    "out of range": ("title: t\nsteps:\n  - scenario: goof-off\n    set: {misbehaviour_cost: 50}\n"
                     "    question: q\n    reveal: r\n", 4, ["misbehaviour_cost", "50", "[0, 10]"]),
    "wrong value type": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                         "    set:\n      generalization_check: maybe\n", 7, ["generalization_check", "true or false"]),
    "bad kind mix": ("title: t\nsteps:\n  - scenario: goof-off\n    set: {kind_mix: {honest: 1, cheater: 1}}\n"
                     "    question: q\n    reveal: r\n", 4, ["kind_mix", "cheater"]),
    "kind mix not a mapping": ("title: t\nsteps:\n  - scenario: goof-off\n    set: {kind_mix: ''}\n"
                               "    question: q\n    reveal: r\n", 4, ["kind_mix", "expected a mapping"]),
    "machine parameter": ("title: t\nsteps:\n  - scenario: goof-off\n    set: {n_programs: 1000}\n"
                          "    question: q\n    reveal: r\n", 4, ["n_programs", "cannot be set by a tour"]),
    "missing reveal": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n  - scenario: memory\n"
                       "    question: q\n    reveal: r\n", 3, ["step 1", "missing 'reveal'"]),
    "missing question": (GOOD_STEP + "  - scenario: memory\n    reveal: r\n", 6, ["step 2", "missing 'question'"]),
    "empty reveal": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: ''\n", 5,
                     ["'reveal' must be non-empty text"]),
    "reveal not text": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: [a, b]\n", 5,
                        ["'reveal' must be non-empty text, not a list"]),
    "top level not a mapping": ("- scenario: goof-off\n", 1, ["tour must be a mapping"]),
    "step not a mapping": ("title: t\nsteps:\n  - just some text\n", 3, ["step 1 must be a mapping"]),
    "steps not a list": ("title: t\nsteps: goof-off\n", 2, ["'steps' must be a non-empty list"]),
    "no steps": ("title: t\nsteps: []\n", 2, ["'steps' must be a non-empty list"]),
    "missing title": ("steps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n", 1, ["missing 'title'"]),
    "empty file": ("", 1, ["empty"]),
    "typo in a key": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveall: r\n", 5,
                      ["unknown key 'reveall'"]),
    "answer not an option": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                             "    options: [a, b]\n    answer: c\n", 7, ["answer 'c' is not one of the options"]),
    "options without answer": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                               "    options: [a, b]\n", 6, ["need an 'answer'"]),
    "one option": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                   "    options: [a]\n    answer: a\n", 6, ["at least two"]),
    "unknown metric": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n    look_at:\n"
                       "      - {metric: simplicity.posterior.sneaky, op: '<', value: 1}\n", 7,
                       ["unknown metric 'simplicity.posterior.sneaky'"]),
    "unknown prior": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n    look_at:\n"
                      "      - metric: simplicity.actually_good\n        op: '<'\n"
                      "        other: fastest.actually_good\n", 9, ["unknown metric 'fastest.actually_good'", "PRIOR one of"]),
    "the old syntax": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n    look_at:\n"
                       "      - {metric: actually_good, prior: simplicity, op: '<', value: 1}\n", 7,
                       ["unknown key 'prior'"]),
    "op not text": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n    look_at:\n"
                    "      - {metric: simplicity.actually_good, op: [1], value: 1}\n", 7, ["unknown operator [1]"]),
    "unknown op": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n    look_at:\n"
                   "      - metric: simplicity.actually_good\n        op: '=<'\n        value: 1\n",
                   8, ["unknown operator '=<'"]),
    "check change out of range": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                                  "    look_at:\n      - metric: simplicity.actually_good\n"
                                  "        params: {memory: 2}\n        op: '<'\n        value: 1\n", 8,
                                  ["memory", "[0, 1]"]),
    "machine setting in a check": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                                   "    look_at:\n      - metric: simplicity.actually_good\n"
                                   "        params: {n_programs: 2000}\n        op: '<'\n        value: 1\n", 8,
                                   ["'n_programs' cannot be set here"]),
    "other and value": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n    look_at:\n"
                        "      - {metric: simplicity.actually_good, op: '<', value: 1, other: combined.actually_good}\n", 7,
                        ["exactly one of 'value'"]),
    "kind value not a kind": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    reveal: r\n"
                              "    look_at:\n      - metric: simplicity.map.kind\n        op: '=='\n"
                              "        value: sneaky\n", 9, ["'sneaky' is not a program kind"]),
    "invalid yaml": ("title: t\nsteps:\n  - scenario: goof-off\n    question: [unclosed\n    reveal: r\n", 5,
                     ["not valid YAML"]),
    "duplicate key": ("title: t\nsteps:\n  - scenario: goof-off\n    question: q\n    question: q2\n    reveal: r\n",
                      5, ["not valid YAML", "duplicate"]),
    "alias": ("title: t\nsteps:\n  - scenario: goof-off\n    set: &a {kind_mix: *a}\n    question: q\n    reveal: r\n",
              4, ["aliases"]),
    "timestamp": ("title: t\nsteps:\n  - scenario: goof-off\n    question: 2024-01-01\n    reveal: r\n", 4,
                  ["tag !!timestamp is not allowed"]),
}


@pytest.mark.parametrize("case", BAD_TOURS, ids=lambda c: c.replace(" ", "-"))
def test_a_bad_tour_names_file_line_and_problem(tmp_path, case):
    text, line, fragments = BAD_TOURS[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExplorerError) as info:
        load_tour(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/object:explorer.simulation.Simulation {{}}",
    "!!python/name:os.system",
    "!custom {{}}",
])
def test_python_tags_are_refused_not_executed(tmp_path, tag):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.yaml"
    path.write_text(GOOD_STEP.replace("question: q?", f"question: {tag.format(marker=marker)}"), encoding="utf-8")
    with pytest.raises(ExplorerError) as info:
        load_tour(path)
    assert str(info.value).startswith(f"{path}:4: YAML tag ")
    assert "is not allowed" in str(info.value)
    assert not marker.exists()


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(ExplorerError, match="cannot read tour"):
        load_tour(tmp_path / "nope.yaml")


def test_a_minimal_tour_loads_and_list_tours_finds_it(tmp_path):
    (tmp_path / "mini.yaml").write_text(GOOD_STEP, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a tour", encoding="utf-8")
    assert list(list_tours(tmp_path)) == ["mini"]
    tour = load_tour(tmp_path / "mini.yaml")
    assert tour.steps[0].params() == dict(SCENARIOS["goof-off"].params)
    assert tour.steps[0].options == () and tour.steps[0].answer is None and tour.steps[0].line == 3
    assert list_tours(tmp_path / "absent") == {}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}!|>'\"#&*?\n 0123456789.")), max_size=80))
def test_any_text_either_loads_or_raises_a_user_error(text):
    try:
        parse_tour(text, "fuzz.yaml")
    except ExplorerError as exc:
        assert str(exc).startswith("fuzz.yaml")


# ---- the tour view ------------------------------------------------------------------------------


@pytest.fixture
def view():
    return TourView(SimulationState(n_programs=N), TOUR)


def _matches_step(state: SimulationState, step) -> None:
    now = state.simulation.params()
    for name, value in step.complete_params().items():
        assert now[name] == value, name


def test_next_and_previous_move_and_apply_the_step(view):
    state = view.state
    assert view.step == 0
    _matches_step(state, TOUR.steps[0])
    assert view._previous.disabled and not view._next.disabled
    version = state.version
    view._next.clicks += 1  # what a click (or Enter on the focused button) does
    assert view.step == 1 and state.version == version + 1
    _matches_step(state, TOUR.steps[1])
    view._previous.clicks += 1
    assert view.step == 0
    view.previous()
    assert view.step == 0
    view.go(len(TOUR) - 1)
    assert view._next.disabled
    view.next()
    assert view.step == len(TOUR) - 1
    _matches_step(state, TOUR.steps[-1])


def test_earlier_settings_do_not_linger(view):
    state = view.state
    view.go(1)  # lookup-table: generalisation check off
    assert state.simulation.priors.generalization_check is False
    state.apply(w_avg=7.0, memory=0.5, seed=3)  # the learner moves sliders
    view.next()  # goof-off: check back on, the slider values gone, the machine size kept
    _matches_step(state, TOUR.steps[2])
    assert state.simulation.priors.generalization_check is True
    assert state.simulation.priors.w_avg == 1.0 and state.simulation.world.memory == 0.0
    assert state.simulation.world.seed == 0 and state.simulation.world.n_programs == N
    view.next()  # deceptive-planner: goof-off's misbehaviour cost and mix must not carry over
    assert state.simulation.world.misbehaviour_cost == 1.0
    assert state.simulation.world.kind_mix == {"honest": 0.5, "deceptive": 0.5}


def test_reveal_shows_the_answer_and_the_computed_checks(view):
    view.go(2)
    assert not view._answer.visible and not view._reveal_button.disabled
    view._reveal_button.clicks += 1
    assert view.revealed and view._answer.visible and view._reveal_button.disabled
    assert view._answer.object == html.escape(TOUR.steps[2].reveal, quote=False)
    assert "answer is" not in view._verdict.object and "average_speed" in view._verdict.object
    assert "average_speed.posterior.goof_off = " in view._evidence.object
    assert "(holds)" in view._evidence.object and "NOT" not in view._evidence.object
    view.next()
    assert not view.revealed and not view._answer.visible and view.choice is None


def test_a_chosen_option_is_marked_right_or_wrong(view):
    view.go(2)
    step = TOUR.steps[2]
    assert view._options.visible and view._options.options == list(step.options)
    assert view._options.value is None
    view._options.value = "max_speed"
    view.reveal()
    assert view._verdict.alert_type == "warning" and "Not quite" in view._verdict.object
    assert step.answer in view._verdict.object
    view._options.value = step.answer  # changing the pick after the reveal updates the verdict
    assert view._verdict.alert_type == "success" and view._verdict.object.startswith("Right")
    view.previous()
    assert view._options.value is None and view.choice is None


def test_tour_text_cannot_inject_html(tmp_path):
    path = tmp_path / "inject.yaml"
    path.write_text(textwrap.dedent("""\
        title: <img src=x onerror=alert(1)>
        steps:
          - scenario: goof-off
            question: "<script>alert(1)</script> Which?"
            options: ["<b>bold</b>", plain]
            answer: plain
            reveal: "[click](javascript:alert(1)) <iframe src=x></iframe>"
        """), encoding="utf-8")
    v = TourView(SimulationState(n_programs=1_000), load_tour(path))
    v._options.value = "<b>bold</b>"
    v.reveal()
    for pane in (v._intro, v._question, v._answer, v._verdict):
        rendered = html.unescape(pane.get_root().text)  # the HTML the browser would insert
        assert "<script" not in rendered and "<img" not in rendered and "<iframe" not in rendered
        assert "<b>" not in rendered and 'href="javascript' not in rendered
    assert "&lt;script&gt;" in html.unescape(v._question.get_root().text)


def test_a_step_the_core_rejects_is_reported(tmp_path):
    view = TourView(SimulationState(n_programs=1_000), TOUR)
    view.state.simulation.update = _reject  # as if the core refused the step's values
    view.next()
    assert view._problem.visible and "not applied" in view._problem.object


def _reject(**params):
    raise ExplorerError("rejected for the test")


def test_the_tour_view_renders(view):
    assert pn.panel(view).get_root() is not None


# ---- the tour in the page's link ----------------------------------------------------------------


def test_a_link_opens_the_tour_at_its_step_counted_from_one_and_next_updates_it():
    from explorer.ui.dashboard import PriorsDashboard

    dashboard = PriorsDashboard(n_programs=2_000)
    assert dashboard.link_pairs() == []
    assert dashboard.apply_link({"tour": "speed-prior-essay", "step": "3"}) == []
    assert dashboard.tour.step == 2 and dashboard.scenario == TOUR.steps[2].scenario
    _matches_step(dashboard.state, TOUR.steps[2])
    assert dashboard.link_pairs() == [("tour", "speed-prior-essay"), ("step", "3")]
    dashboard.tour.next()
    assert dashboard.link_pairs() == [("tour", "speed-prior-essay"), ("step", "4")]
    dashboard.large_type = True
    assert ("type", "large") in dashboard.link_pairs()


@pytest.mark.parametrize("values,message", [
    ({"tour": "speed-prior-essay", "step": "0"}, "is not a step of speed-prior-essay"),
    ({"tour": "speed-prior-essay", "step": "x<b>"}, "is not a step of speed-prior-essay"),
    ({"tour": "no-such-tour"}, "is not a tour; tours: speed-prior-essay"),
    ({"step": "2"}, "a step needs a tour"),
    ({"type": "huge"}, "is not one of: large, normal"),
])
def test_a_tour_link_that_cannot_be_used_says_why(values, message):
    from explorer.ui.dashboard import PriorsDashboard

    dashboard = PriorsDashboard(n_programs=2_000)
    problems = dashboard.apply_link(values)
    assert len(problems) == 1 and message in problems[0]


def test_the_essay_tour_counts_five_priors():
    text = ESSAY.read_text(encoding="utf-8")
    assert "four priors" not in text
