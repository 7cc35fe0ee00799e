"""Links of the apps other than /priors: a Parameterized's settings read from and written to a query string."""

import param
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.scenarios import scenarios_of
from explorer.simulation import PRIOR_PARAMS, WORLD_PARAMS
from explorer.ui.pinned_compare import parse_pin, pin_text
from explorer.ui.room_link import SHOWABLE, SIMPLE, parse_show, view_pairs
from explorer.ui.url import apply_params, params_query


class Page(param.Parameterized):
    task = param.Selector(default="parity", objects=["parity", "count"])
    length = param.Integer(5, bounds=(1, 9))
    check = param.Boolean(True)
    rate = param.Number(0.01, bounds=(0, 1))


NAMES = ("task", "length", "check", "rate")


def test_a_link_sets_what_it_names_and_the_page_writes_only_what_differs():
    page = Page()
    assert params_query(page, NAMES) == ""
    assert apply_params(page, NAMES, "?task=count&length=7&check=false&rate=0.5") == []
    assert (page.task, page.length, page.check, page.rate) == ("count", 7, False, 0.5)
    assert params_query(page, NAMES) == "?task=count&length=7&check=false&rate=0.5"
    fresh = Page()
    apply_params(fresh, NAMES, params_query(page, NAMES))
    assert fresh.param.values() | {"name": None} == page.param.values() | {"name": None}


def test_each_bad_part_is_one_message_naming_it_and_the_rest_applies():
    page = Page()
    problems = apply_params(page, NAMES, "?task=<script>&length=99&rate=nan&bogus=1&check=true&theme=dark",
                            limits={"length": 6})
    assert len(problems) == 4
    text = " ".join(problems)
    for word in ("task", "length", "rate", "bogus"):
        assert word in text
    assert "<script>" in text or "script" in text
    page2 = Page()
    assert apply_params(page2, NAMES, "?length=8", limits={"length": 6}) == [
        "length: 8 is more than this server allows (at most 6)"]
    assert page2.length == 5  # refused, not silently capped


def test_an_over_long_link_is_not_read():
    page = Page()
    [problem] = apply_params(page, NAMES, "?task=count&" + "x=1&" * 5000)
    assert "none of them was used" in problem and page.task == "parity"


def test_a_choice_outside_the_list_names_every_allowed_one():
    page = Page()
    assert apply_params(page, NAMES, "?task=sorting") == ["task: 'sorting' is not one of: parity, count"]


# ---- /priors: the presenter's parts of a link (show=, mode=, pin=) ------------------------------------

@pytest.fixture
def priors():
    from explorer.ui.dashboard import PriorsDashboard

    return PriorsDashboard(n_programs=5_000)


def _fresh(query):
    from explorer.ui.dashboard import PriorsDashboard
    from explorer.ui.url import apply_query

    page = PriorsDashboard(n_programs=5_000)
    return page, apply_query(page, query)


def test_show_names_controls_in_the_pages_order_and_the_link_writes_them_back(priors):
    from explorer.ui.url import link_query

    assert parse_show("w_avg, misbehaviour_cost,w_avg") == (("w_avg", "misbehaviour_cost"), [])
    page, problems = _fresh("?scenario=memory&w_avg=2&show=misbehaviour_cost,w_avg")
    assert problems == [] and page.room.shown() == ("w_avg", "misbehaviour_cost")
    assert link_query(page) == "?scenario=memory&w_avg=2&show=w_avg,misbehaviour_cost"
    again, problems = _fresh(link_query(page))
    assert problems == [] and again.room.shown() == page.room.shown()
    assert again.state.simulation.params() == page.state.simulation.params()


def test_simple_mode_is_the_weights_and_the_misbehaviour_costs(priors):
    from explorer.ui.url import link_query

    assert SIMPLE == ("w_simplicity", "w_max", "w_avg", "misbehaviour_cost", "deception_overhead",
                      "deception_check_strength")
    page, problems = _fresh("?mode=simple")
    assert problems == [] and page.room.shown() == SIMPLE and page.room.simple.value
    assert link_query(page) == "?scenario=goof-off&mode=simple"
    # a show= of exactly the simple set is written as the simple mode; every control is no restriction
    assert view_pairs("full", SIMPLE) == [("mode", "simple")] and view_pairs("full", SHOWABLE) == []
    page.room.simple.value = False
    assert page.room.shown() == SHOWABLE and link_query(page) == "?scenario=goof-off"


def test_hostile_show_and_mode_values_are_one_message_each_and_the_rest_applies():
    page, problems = _fresh("?w_avg=3&show=w_avg,<img src=x onerror=alert(1)>,__import__('os')&mode=eval(1)")
    assert page.state.simulation.priors.w_avg == 3.0
    assert page.room.shown() == ("w_avg",)
    [show] = [p for p in problems if p.startswith("show:")]
    assert "'<img src=x onerror=alert(1)>'" in show and "are not one of: scenario, w_simplicity" in show
    assert problems.count(show) == 1
    assert "mode: 'eval(1)' is not one of: full, simple" in problems
    page, problems = _fresh("?show=nothing")
    assert page.room.shown() == SHOWABLE  # nothing known: every control, and a message saying so
    assert problems == [f"show: 'nothing' is not one of: {', '.join(SHOWABLE)}; every control is shown"]
    page, problems = _fresh("?show=")
    assert page.room.shown() == SHOWABLE and problems[0].startswith("show: names no control")


def test_a_pin_round_trips_through_its_text_and_the_link(priors):
    priors.scenario = "memory"
    priors.controls.widgets["w_avg"].value = 2.5
    priors.controls.widgets["kind_mix.lookup"].value = 0.25
    priors.pinned.pin(priors.scenario)
    text = pin_text("memory", priors.pinned.pinned)
    assert text.startswith("scenario=memory;") and "w_avg=2.5" in text and "lookup:0.25" in text
    assert parse_pin(text) == ("memory", {k: priors.pinned.pinned[k] for k in ("w_avg", "kind_mix")}, [])
    priors.controls.widgets["w_avg"].value = 1.0  # B moves on
    from explorer.ui.url import link_query

    query = link_query(priors)
    assert f"pin={text}" in query
    page, problems = _fresh(query)
    assert problems == []
    assert page.pinned.pinned == priors.pinned.pinned and page.pinned.scenario == "memory"
    for prior, result in priors.pinned.results.items():
        assert page.pinned.results[prior].mass == pytest.approx(result.mass)
    assert page.state.simulation.priors.w_avg == 1.0


def test_hostile_pin_parts_are_messages_naming_pin_and_the_parameter():
    page, problems = _fresh("?pin=scenario=memory;w_avg=__import__('os').system('x');bogus=1;n_programs=9;junk")
    assert page.pinned.pinned is not None and page.pinned.pinned["w_avg"] == 1.0  # the rest of the pin applied
    text = " | ".join(problems)
    assert "pin: w_avg:" in text and "pin: unknown parameter 'bogus'" in text
    assert "pin: n_programs is the page's own" in text and "pin: 'junk' is not name=value" in text
    page, problems = _fresh("?pin=w_avg=2")
    assert page.pinned.pinned is None and problems == [
        "pin: names no scenario (pin=scenario=NAME;...), so nothing was pinned"]
    page, problems = _fresh("?pin=scenario=<b>x</b>")
    assert page.pinned.pinned is None and problems[0].startswith("pin: scenario: '<b>x</b>' is not one of: ")


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=80))
def test_any_show_or_pin_text_is_read_without_raising(text):
    show, problems = parse_show(text)
    assert show is None or set(show) <= set(SHOWABLE)
    assert len(problems) <= 1
    scenario, values, problems = parse_pin(text)
    assert scenario is None or scenario in scenarios_of("abstract")
    assert set(values) <= set(WORLD_PARAMS + PRIOR_PARAMS) - {"n_programs", "backend"}
    assert all(p.startswith("pin: ") for p in problems)


def test_the_room_link_is_the_pages_link_with_the_builders_controls(priors):
    priors.controls.widgets["w_avg"].value = 2.0
    priors.room.simple.value = True  # the teacher's own view does not leak into the room's link
    priors.room.choose(("w_avg", "memory"))
    assert priors.room.link == "?scenario=goof-off&w_avg=2&show=w_avg,memory"
    assert priors.room.text.value == priors.room.link
    priors.room.choose(SIMPLE)
    assert priors.room.link == "?scenario=goof-off&w_avg=2&mode=simple"
    priors.room.choose(SHOWABLE)
    assert priors.room.link == "?scenario=goof-off&w_avg=2"
    priors.pinned.pin(priors.scenario)
    assert priors.room.link == "?scenario=goof-off&w_avg=2&pin=scenario=goof-off;w_avg=2"
    if "large_type" in priors.param:  # a page setting outside the simulation: read when the builder opens
        card = priors.room.builder()
        priors.large_type = True
        card.collapsed = False
        assert "type=large" in priors.room.link
