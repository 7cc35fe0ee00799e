"""Links to the measured apps (/programs, /annealing): a link opens the page it names, a value over a
served limit says so, the address bar follows the widgets, and markup in a link stays text."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from playwright.sync_api import expect

#: A measurement on the tests' shared server can queue behind what an earlier test left running there
#: (a neural sweep, a Monte Carlo): a clean-clone CI run once took over a minute for length 4.
TIMEOUT = 180_000


def select(page, label: str):
    """The <select> of the widget labelled `label` (Playwright's locators pierce Bokeh's shadow roots)."""
    return page.locator(".bk-input-group", has=page.locator("label", has_text=re.compile(f"^{label}$"))).locator("select")


def watch_dialogs(page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def test_a_programs_link_measures_what_it_names_and_the_link_follows_the_task(page, server):
    page.goto(server + "/programs?task=count&max_length=4")
    expect(page.get_by_text(re.compile(r"programs of length 1\.\.4 for count"))).to_be_visible(timeout=TIMEOUT)
    expect(select(page, "Task")).to_have_value("count")
    select(page, "Task").select_option("parity")
    expect(page).to_have_url(re.compile(r"/programs\?max_length=4$"), timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"programs of length 1\.\.4 for parity"))).to_be_visible(timeout=TIMEOUT)


def test_a_length_over_the_served_limit_names_the_limit_and_the_default_is_measured(page, server):
    page.goto(server + "/programs?max_length=9")
    expect(page.get_by_text("max_length: 9 is more than this server allows (at most 6)")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"programs of length 1\.\.5 for parity"))).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"/programs\??$"), timeout=TIMEOUT)  # the page's own settings: the defaults


def test_an_annealing_link_sets_its_widgets_and_the_link_follows_them(page, server):
    page.goto(server + "/annealing?schedule=geometric&c_start=1&seed=4")
    expect(page.get_by_text(re.compile(r"Step 0 of \d+")).first).to_be_visible(timeout=TIMEOUT)
    expect(select(page, "Schedule")).to_have_value("geometric")
    select(page, "Sampling").select_option("simplicity")
    expect(page).to_have_url(re.compile(r"/annealing\?schedule=geometric&sampling=simplicity&c_start=1&seed=4$"),
                             timeout=TIMEOUT)


def test_markup_in_a_link_is_shown_as_text_and_runs_nothing(page, server):
    dialogs = watch_dialogs(page)
    page.goto(server + "/programs?" + urlencode([("task", "<img src=x onerror=alert(1)>"), ("max_length", "3")]))
    expect(page.get_by_text("task: '<img src=x onerror=alert(1)>' is not one of")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"programs of length 1\.\.3 for parity"))).to_be_visible(timeout=TIMEOUT)
    page.goto(server + "/annealing?" + urlencode([("scenario", "<img src=x onerror=alert(2)>")]))
    expect(page.get_by_text("scenario: '<img src=x onerror=alert(2)>' is not one of")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(300)  # an onerror fires when the broken image is attempted, right after layout
    assert dialogs == [] and not page.evaluate("() => window.__xss !== undefined")
