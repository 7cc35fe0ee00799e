"""/neural, /programs and /annealing at a projector's 1280x720 and a laptop's 1440x900: what a room needs
(the button that starts the work, the main plot) is on screen without scrolling, and nothing is cut off or
on top of something else, before and after the work has run (layout.py says what each check looks at)."""

import re

import pytest
from layout import above_fold, layout_problems
from playwright.sync_api import expect

SIZES = [(1280, 720), (1440, 900)]
IDS = [f"{w}x{h}" for w, h in SIZES]
TIMEOUT = 180_000
#: What must be on screen as each page opens: buttons by their names, plots by their classes.
KEY = {
    "neural": (["Start", "Stop"], [".neural-live-plot"]),
    "programs": (["Stop"], [".programs-plot"]),
    "annealing": (["Play", "Next", "Run Monte Carlo"], [".annealing-programs-plot"]),
}
READY = {"neural": "button:has-text('Start')", "programs": ".tabulator-row",
         "annealing": "button:has-text('Run Monte Carlo')"}


def open_at(browser, server, path, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT)
    page.goto(server + path)
    return page


def problems_of(page, app, width, height):
    return f"/{app} at {width}x{height}:\n" + "\n".join(layout_problems(page))


@pytest.mark.parametrize("width,height", SIZES, ids=IDS)
@pytest.mark.parametrize("app", list(KEY))
def test_the_start_and_the_main_plot_are_on_screen_and_nothing_is_cut(server, browser, app, width, height):
    page = open_at(browser, server, f"/{app}", width, height)
    try:
        page.locator(READY[app]).first.wait_for()
        page.wait_for_timeout(1500)
        buttons, plots = KEY[app]
        for name in buttons:
            assert above_fold(page, page.get_by_role("button", name=name, exact=True)), f"{name} is below the fold"
        for css in plots:
            plot = page.locator(css).first
            expect(plot).to_be_visible()
            assert above_fold(page, plot), f"{css} is not wholly on screen"
        assert layout_problems(page) == [], problems_of(page, app, width, height)
    finally:
        page.close()


@pytest.mark.parametrize("width,height", SIZES, ids=IDS)
def test_neural_results_fit_after_a_sweep_from_no_penalty(server, browser, width, height):
    page = open_at(browser, server, "/neural?bits=4&steps=200&penalties=0,0.01,1", width, height)
    try:
        page.get_by_role("button", name="Start").click()
        expect(page.locator(".neural-status")).to_contain_text("Done", timeout=TIMEOUT)
        expect(page.locator(".neural-selection-table table")).to_be_visible()
        page.wait_for_timeout(1500)
        assert layout_problems(page) == [], problems_of(page, "neural", width, height)
    finally:
        page.close()


@pytest.mark.parametrize("width,height", SIZES, ids=IDS)
def test_annealing_monte_carlo_results_fit(server, browser, width, height):
    page = open_at(browser, server, "/annealing?mc_runs=20", width, height)
    try:
        run = page.get_by_role("button", name="Run Monte Carlo")
        run.click()
        expect(page.get_by_text(re.compile(r"^24 points: "))).to_be_visible(timeout=TIMEOUT)
        expect(run).to_be_enabled()
        page.mouse.move(0, 0)  # off the button: its tooltip is not part of the page's layout
        page.wait_for_timeout(2000)
        assert layout_problems(page) == [], problems_of(page, "annealing", width, height)
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
