"""/neural, /programs and /annealing at a projector's 1280x720 and a laptop's 1440x900: what a room needs
(the button that starts the work, the main plot) is on screen without scrolling, and nothing is cut off or
on top of something else, before and after the work has run (layout.py says what each check looks at)."""

import re

import pytest
from layout import above_fold, layout_problems, resize
from playwright.sync_api import expect

SIZES = [(1280, 720), (1440, 900)]
TIMEOUT = 180_000
#: What must be on screen as each page opens: buttons by their names, plots by their classes.
KEY = {
    "neural": (["Start", "Stop"], [".neural-live-plot"]),
    "programs": (["Stop"], [".programs-plot"]),
    "annealing": (["Play", "Next", "Run Monte Carlo"], [".annealing-programs-plot"]),
}
READY = {"neural": "button:has-text('Start')", "programs": ".tabulator-row",
         "annealing": "button:has-text('Run Monte Carlo')"}


def open_at(browser, server, path):
    """The page at the first size; each test resizes it to the others (Bokeh lays it out again)."""
    width, height = SIZES[0]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT)
    page.goto(server + path)
    return page


def problems_at_each_size(page, app):
    """Resize the page to each size in turn and collect what layout_problems finds, each named by its size."""
    found = []
    for width, height in SIZES:
        resize(page, width, height)
        found += [f"{width}x{height}: {p}" for p in layout_problems(page)]
    return f"/{app}:\n" + "\n".join(found) if found else ""


@pytest.mark.parametrize("app", list(KEY))
def test_the_start_and_the_main_plot_are_on_screen_and_nothing_is_cut(server, browser, app):
    page = open_at(browser, server, f"/{app}")
    try:
        page.locator(READY[app]).first.wait_for()
        buttons, plots = KEY[app]
        problems = []
        for width, height in SIZES:
            resize(page, width, height)
            for name in buttons:
                assert above_fold(page, page.get_by_role("button", name=name, exact=True)), f"{width}x{height}: {name} is below the fold"
            for css in plots:
                plot = page.locator(css).first
                expect(plot).to_be_visible()
                assert above_fold(page, plot), f"{width}x{height}: {css} is not wholly on screen"
            problems += [f"{width}x{height}: {p}" for p in layout_problems(page)]
        assert problems == [], f"/{app}:\n" + "\n".join(problems)
    finally:
        page.close()


def test_neural_results_fit_after_a_sweep_from_no_penalty(server, browser):
    page = open_at(browser, server, "/neural?bits=4&steps=200&penalties=0,0.01,1")
    try:
        page.get_by_role("button", name="Start").click()
        expect(page.locator(".neural-status")).to_contain_text("Done", timeout=TIMEOUT)
        expect(page.locator(".neural-selection-table table")).to_be_visible()
        assert problems_at_each_size(page, "neural") == ""
    finally:
        page.close()


def test_annealing_monte_carlo_results_fit(server, browser):
    page = open_at(browser, server, "/annealing?mc_runs=20")
    try:
        run = page.get_by_role("button", name="Run Monte Carlo")
        run.click()
        expect(page.get_by_text(re.compile(r"^24 points: "))).to_be_visible(timeout=TIMEOUT)
        expect(run).to_be_enabled()
        page.mouse.move(0, 0)  # off the button: its tooltip is not part of the page's layout
        assert problems_at_each_size(page, "annealing") == ""
    finally:
        page.close()


def test_a_number_typed_over_its_range_on_annealing_says_so_and_is_not_silently_changed(page, server):
    page.goto(server + "/annealing")
    page.get_by_role("button", name="Run Monte Carlo").wait_for(timeout=TIMEOUT)
    box = page.locator(".bk-input-group", has=page.locator("label", has_text="Search speed")).locator("input").first
    box.fill("20000")
    box.press("Enter")
    expect(page.locator(".alert-danger")).to_contain_text("search_speed: 20,000 is not valid; expected an integer in "
                                                      "[1, 10,000]. search_speed stays 8.", timeout=TIMEOUT)
    expect(box).to_have_value("8")
