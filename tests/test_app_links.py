"""Links of the apps other than /priors: a Parameterized's settings read from and written to a query string."""

import param

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
