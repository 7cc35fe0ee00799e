"""/priors on a projector (1280x720) and a laptop (1440x900): what a room must see without scrolling, the
tour's step in the link, and the larger type."""

import re

import pytest
from layout import above_fold, layout_problems, resize, settle
from playwright.sync_api import expect

from explorer.priors import PRIORS
from explorer.table import KINDS

TIMEOUT = 120_000
SIZES = [(1280, 720), (1440, 900)]
MASS = re.compile(r"^[01]\.\d{3}$")


def open_priors(browser, server, query=""):
    """/priors at the first size, drawn; a test checks the others by resizing the same page (Bokeh lays it out
    again), which costs the server no new session."""
    width, height = SIZES[0]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{server}/priors{query}")
    page.locator(".prior-picks .tabulator-row").first.wait_for()
    settle(page)  # the plots' first paint
    return page


@pytest.fixture(scope="module")
def priors_page(server, browser):
    """/priors as it opens, one page for the tests that start from it: the one that only reads it, then the one
    that switches large type on (and off again)."""
    page = open_priors(browser, server)
    yield page
    page.close()


def picks(page) -> dict[str, dict[str, str]]:
    """The compact table's rows as {prior: {field: text}}, read by Tabulator's field names."""
    out = {}
    for row in page.locator(".prior-picks .tabulator-row").all():
        cells = row.locator(".tabulator-cell[tabulator-field]")
        fields = cells.evaluate_all("cs => cs.map(c => c.getAttribute('tabulator-field'))")
        out[row.locator(".tabulator-cell[tabulator-field='prior']").inner_text()] = dict(zip(fields, cells.all_inner_texts()))
    return out


def assert_picture_and_picks_above_the_fold(page):
    size = page.viewport_size
    assert above_fold(page, page.locator(".program-scatter").first), f"the scatter is not wholly on screen at {size}"
    rows = picks(page)
    assert list(rows) == list(PRIORS)
    for prior, row in rows.items():
        assert row["MAP kind"] in (*KINDS, "none"), prior
        for kind in (*KINDS, "actually good"):
            assert MASS.match(row[kind]), (prior, kind, row[kind])
    for row in page.locator(".prior-picks .tabulator-row").all():
        assert above_fold(page, row), f"a prior's row is below the fold at {size}: {row.inner_text()!r}"
    assert above_fold(page, page.locator(".prior-picks .tabulator-headers").first), size


def test_picture_picks_and_claim_fit_one_screen(priors_page):
    page = priors_page
    claim = page.locator(".scenario-claim").first
    for width, height in SIZES:
        resize(page, width, height)
        assert_picture_and_picks_above_the_fold(page)
        expect(claim).to_contain_text("Goofing off on easy tasks", timeout=TIMEOUT)
        assert above_fold(page, claim), (width, height)
        assert page.evaluate("() => document.scrollingElement.scrollTop") == 0, (width, height)
        assert layout_problems(page) == [], (width, height)


def test_a_tour_link_opens_its_step_beside_the_picture_and_follows_next(server, browser):
    page = open_priors(browser, server, "?tour=speed-prior-essay&step=3")
    try:
        heading = page.get_by_text(re.compile(r"Step 3 of \d+")).first
        expect(heading).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("select").first).to_have_value("goof-off")  # step 3's preset
        for width, height in SIZES:
            resize(page, width, height)
            assert_picture_and_picks_above_the_fold(page)
            assert above_fold(page, page.locator(".tour-step").first.get_by_role("button", name=re.compile("Next"))), (width, height)
            assert above_fold(page, heading), (width, height)
            # Beside the picture, not under it.
            scatter, step = page.locator(".program-scatter").first.bounding_box(), page.locator(".tour-step").first.bounding_box()
            assert step["x"] >= scatter["x"] + scatter["width"] and step["y"] < scatter["y"] + scatter["height"], (width, height)
            assert layout_problems(page) == [], (width, height)

        for width, height in reversed(SIZES):  # Next and Previous answer at each size
            resize(page, width, height)
            page.get_by_role("button", name=re.compile("Next")).click()
            expect(page.get_by_text(re.compile(r"Step 4 of \d+")).first).to_be_visible(timeout=TIMEOUT)
            expect(page).to_have_url(re.compile(r"[?&]tour=speed-prior-essay&step=4(&|$)"), timeout=TIMEOUT)
            page.get_by_role("button", name=re.compile("Previous")).click()
            expect(page).to_have_url(re.compile(r"[?&]step=3(&|$)"), timeout=TIMEOUT)
            expect(heading).to_be_visible(timeout=TIMEOUT)
    finally:
        page.close()


def test_a_tour_link_with_a_step_out_of_range_says_so(server, browser):
    page = open_priors(browser, server, "?tour=speed-prior-essay&step=99")
    try:
        expect(page.get_by_text(re.compile(r"step: '99' is not a step of speed-prior-essay"))).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text(re.compile(r"Step 1 of \d+")).first).to_be_visible(timeout=TIMEOUT)
    finally:
        page.close()


def font_px(locator) -> float:
    return locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")


def test_large_type_toggles_and_stays_in_the_link(priors_page):
    page = priors_page
    claim = page.locator(".scenario-claim p").first
    cell = page.locator(".prior-picks .tabulator-cell").first
    before = {}
    for width, height in SIZES:
        resize(page, width, height)
        before[width, height] = font_px(claim), font_px(cell)
    page.locator(".large-type-switch input").check()
    expect(page).to_have_url(re.compile(r"[?&]type=large(&|$)"), timeout=TIMEOUT)
    problems = []
    for width, height in reversed(SIZES):
        resize(page, width, height)
        claim_before, cell_before = before[width, height]
        assert font_px(claim) > claim_before * 1.2 and font_px(cell) > cell_before, (width, height)
        # Still one screen: the picture and the picks above the fold, nothing cut or on top of something.
        assert_picture_and_picks_above_the_fold(page)
        problems += [f"{width}x{height}: {p}" for p in layout_problems(page)]
    assert problems == []

    page.reload()  # the link keeps it
    page.locator(".prior-picks .tabulator-row").first.wait_for()
    expect(page.locator(".large-type-switch input")).to_be_checked(timeout=TIMEOUT)
    for width, height in SIZES:
        resize(page, width, height)
        assert font_px(page.locator(".scenario-claim p").first) > before[width, height][0] * 1.2, (width, height)
    page.locator(".large-type-switch input").uncheck()
    expect(page).not_to_have_url(re.compile(r"type=large"), timeout=TIMEOUT)
