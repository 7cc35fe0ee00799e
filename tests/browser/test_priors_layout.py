"""/priors on a projector (1280x720) and a laptop (1440x900): what a room must see without scrolling, the
tour's step in the link, and the larger type."""

import re

import pytest
from layout import above_fold, layout_problems
from playwright.sync_api import expect

from explorer.priors import PRIORS
from explorer.table import KINDS

TIMEOUT = 120_000
SIZES = [(1280, 720), (1440, 900)]
IDS = [f"{w}x{h}" for w, h in SIZES]
MASS = re.compile(r"^[01]\.\d{3}$")


def open_priors(browser, server, width, height, query=""):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{server}/priors{query}")
    page.locator(".prior-picks .tabulator-row").first.wait_for()
    page.wait_for_timeout(1500)  # the plots' first paint
    return page


def picks(page) -> dict[str, dict[str, str]]:
    """The compact table's rows as {prior: {field: text}}, read by Tabulator's field names."""
    out = {}
    for row in page.locator(".prior-picks .tabulator-row").all():
        cells = row.locator(".tabulator-cell[tabulator-field]")
        fields = cells.evaluate_all("cs => cs.map(c => c.getAttribute('tabulator-field'))")
        out[row.locator(".tabulator-cell[tabulator-field='prior']").inner_text()] = dict(zip(fields, cells.all_inner_texts()))
    return out


def assert_picture_and_picks_above_the_fold(page):
    assert above_fold(page, page.locator(".program-scatter").first), "the scatter is not wholly on screen"
    rows = picks(page)
    assert list(rows) == list(PRIORS)
    for prior, row in rows.items():
        assert row["MAP kind"] in (*KINDS, "none"), prior
        for kind in (*KINDS, "actually good"):
            assert MASS.match(row[kind]), (prior, kind, row[kind])
    for row in page.locator(".prior-picks .tabulator-row").all():
        assert above_fold(page, row), f"a prior's row is below the fold: {row.inner_text()!r}"
    assert above_fold(page, page.locator(".prior-picks .tabulator-headers").first)


@pytest.mark.parametrize("width,height", SIZES, ids=IDS)
def test_picture_picks_and_claim_fit_one_screen(server, browser, width, height):
    page = open_priors(browser, server, width, height)
    try:
        assert_picture_and_picks_above_the_fold(page)
        claim = page.locator(".scenario-claim").first
        expect(claim).to_contain_text("Goofing off on easy tasks", timeout=TIMEOUT)
        assert above_fold(page, claim)
        assert page.evaluate("() => document.scrollingElement.scrollTop") == 0
        assert layout_problems(page) == []
    finally:
        page.close()


@pytest.mark.parametrize("width,height", SIZES, ids=IDS)
def test_a_tour_link_opens_its_step_beside_the_picture_and_follows_next(server, browser, width, height):
    page = open_priors(browser, server, width, height, "?tour=speed-prior-essay&step=3")
    try:
        heading = page.get_by_text(re.compile(r"Step 3 of \d+")).first
        expect(heading).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("select").first).to_have_value("goof-off")  # step 3's preset
        assert_picture_and_picks_above_the_fold(page)
        assert above_fold(page, page.locator(".tour-step").first.get_by_role("button", name=re.compile("Next")))
        assert above_fold(page, heading)
        # Beside the picture, not under it.
        scatter, step = page.locator(".program-scatter").first.bounding_box(), page.locator(".tour-step").first.bounding_box()
        assert step["x"] >= scatter["x"] + scatter["width"] and step["y"] < scatter["y"] + scatter["height"]
        assert layout_problems(page) == []

        page.get_by_role("button", name=re.compile("Next")).click()
        expect(page.get_by_text(re.compile(r"Step 4 of \d+")).first).to_be_visible(timeout=TIMEOUT)
        expect(page).to_have_url(re.compile(r"[?&]tour=speed-prior-essay&step=4(&|$)"), timeout=TIMEOUT)
        page.get_by_role("button", name=re.compile("Previous")).click()
        expect(page).to_have_url(re.compile(r"[?&]step=3(&|$)"), timeout=TIMEOUT)
    finally:
        page.close()


def test_a_tour_link_with_a_step_out_of_range_says_so(server, browser):
    page = open_priors(browser, server, 1280, 720, "?tour=speed-prior-essay&step=99")
    try:
        expect(page.get_by_text(re.compile(r"step: '99' is not a step of speed-prior-essay"))).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text(re.compile(r"Step 1 of \d+")).first).to_be_visible(timeout=TIMEOUT)
    finally:
        page.close()


def font_px(locator) -> float:
    return locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")


@pytest.mark.parametrize("width,height", SIZES, ids=IDS)
def test_large_type_toggles_and_stays_in_the_link(server, browser, width, height):
    page = open_priors(browser, server, width, height)
    try:
        claim = page.locator(".scenario-claim p").first
        cell = page.locator(".prior-picks .tabulator-cell").first
        before, cell_before = font_px(claim), font_px(cell)
        page.locator(".large-type-switch input").check()
        expect(page).to_have_url(re.compile(r"[?&]type=large(&|$)"), timeout=TIMEOUT)
        page.wait_for_timeout(1000)
        assert font_px(claim) > before * 1.2 and font_px(cell) > cell_before
        # Still one screen: the picture and the picks above the fold, nothing cut or on top of something.
        assert_picture_and_picks_above_the_fold(page)
        assert layout_problems(page) == []

        page.reload()  # the link keeps it
        page.locator(".prior-picks .tabulator-row").first.wait_for()
        expect(page.locator(".large-type-switch input")).to_be_checked(timeout=TIMEOUT)
        page.wait_for_timeout(1000)
        assert font_px(page.locator(".scenario-claim p").first) > before * 1.2
        page.locator(".large-type-switch input").uncheck()
        expect(page).not_to_have_url(re.compile(r"type=large"), timeout=TIMEOUT)
    finally:
        page.close()
