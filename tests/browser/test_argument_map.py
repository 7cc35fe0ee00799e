"""The argument as a picture, in a real browser: /stories opens on the library, the map is drawn with its
nodes coloured by status, a tap on a node opens its form, and beside /priors the map's rings follow a slider.

The node colours are read from the map's Bokeh data source in the page (the canvas has no DOM to read), and a
tap is a mouse click at the node's pixel, found through the plot's own scales.
"""

import re
import time

from layout import above_fold, layout_problems, resize, settle
from playwright.sync_api import expect

TIMEOUT = 90_000
GREEN, RED = "#009E73", "#D55E00"
UNCHECKED, UNDEVELOPED = "#0072B2", "#6c757d"

NODES = """() => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) if (m.name === 'argument-nodes') {
    const d = m.data, out = {};
    Array.from(d.key).forEach((k, i) => { out[k] = [d.fill[i], d.ring[i]]; });
    return out;
  }
  return null;
}"""

NODE_PIXEL = """(key) => {
  let src, fig;
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.name === 'argument-nodes') src = m;
    if (m.name === 'argument-map-figure') fig = m;
  }
  const i = Array.from(src.data.key).indexOf(key);
  const view = Bokeh.index.find_one(fig);
  const r = view.el.getBoundingClientRect();
  return [r.left + view.frame.x_scale.compute(src.data.x[i]), r.top + view.frame.y_scale.compute(src.data.y[i])];
}"""


def nodes(page):
    return page.evaluate(NODES) or {}


def wait_for_node(page, key, fill=None, ring=None):
    """Wait until the map's node `key` has that fill and/or ring colour; return every node's colours."""
    page.wait_for_function(
        "([key, fill, ring]) => { const n = (" + NODES + ")(); if (!n || !n[key]) return false;"
        " return (fill === null || n[key][0] === fill) && (ring === null || n[key][1] === ring); }",
        arg=[key, fill, ring], timeout=TIMEOUT)
    return nodes(page)


def tap(page, key):
    page.locator(".argument-map canvas").first.scroll_into_view_if_needed()
    x, y = page.evaluate(NODE_PIXEL, key)
    page.mouse.click(x, y)


def shown_in(page, column, selector, text):
    """The field of `column` (a scrolling tab) whose value contains `text` lies inside the column's visible box."""
    fields = page.locator(f"{column} {selector}")
    values = fields.evaluate_all("els => els.map(e => e.value)")
    index = next(i for i, v in enumerate(values) if text in (v or ""))
    box, visible = fields.nth(index).bounding_box(), page.locator(column).first.bounding_box()
    return box is not None and visible["y"] - 1 <= box["y"] and box["y"] + box["height"] <= visible["y"] + visible["height"] + 1


def test_stories_opens_on_the_library_without_errors(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/stories")
    expect(page.locator(".story-library-state")).to_contain_text("The story library", timeout=TIMEOUT)
    rows = page.locator(".story-library-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 10
    expect(page.locator(".story-entry-title", has_text="Goofing off on easy tasks")).to_be_visible()
    assert page.locator(".story-message").count() == 0 or not page.locator(".story-message").first.is_visible()
    assert "error" not in page.locator(".story-state").inner_text()
    # Open from the list: the story, its map with every node coloured, and no problems.
    rows.filter(has_text="Goofing off on easy tasks").get_by_role("button", name="Open").click()
    expect(page.locator(".story-state")).to_contain_text("scenarios/goof-off, revision", timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"/stories\?story=scenarios/goof-off$"), timeout=TIMEOUT)
    colours = wait_for_node(page, "claim:GS1")
    assert {"claim:GS1", "evidence:map-honest", "criterion:goal_alignment"} <= set(colours)
    assert {f for f, _ in colours.values()} >= {UNCHECKED}  # nothing recorded in the file: unchecked
    expect(page.locator(".story-side")).to_contain_text("No problems found.")


def test_a_tap_on_the_map_opens_that_parts_form(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/stories?story=speed-prior")
    colours = wait_for_node(page, "claim:GD2", fill=UNDEVELOPED)
    assert colours["claim:GS1"][0] == UNCHECKED
    tap(page, "evidence:memory-with-checks")
    expect(page.locator(".story-tab-evidence").first).to_be_visible(timeout=TIMEOUT)  # the Evidence tab...
    assert _eventually(lambda: shown_in(page, ".story-tab-evidence", "input.bk-input", "memory-with-checks"))
    assert not shown_in(page, ".story-tab-evidence", "input.bk-input", "honest-map")  # ...scrolled to its form
    tap(page, "claim:RN4")
    expect(page.locator(".story-tab-claims").first).to_be_visible(timeout=TIMEOUT)
    assert _eventually(lambda: shown_in(page, ".story-tab-claims", ".claim-text textarea", "nine tenths"))


def _eventually(check, tries=50):
    """True once `check()` is (tries 200 ms apart): the scroll lands a moment after the tab is shown."""
    for _ in range(tries):
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_link_opens_a_story_at_one_of_its_parts(page, server):
    page.goto(f"{server}/stories?story=speed-prior&item=criterion:rationale_alignment")
    expect(page.locator(".story-tab-criteria").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Rationale alignment: will training actually reach the goal?")).to_be_visible()


def _slider_handle(page, title):
    titles = page.locator(".bk-slider-title")
    titles.first.wait_for(timeout=TIMEOUT)
    index = next(i for i, t in enumerate(titles.all_inner_texts()) if t.startswith(title))
    return page.locator(".noUi-handle").nth(index)  # every slider before it has one handle


def test_the_maps_colours_follow_a_slider_beside_the_priors(page, server):
    # Beside goof-off, map-honest (GS1's evidence) holds at the preset and fails with no average-compute
    # penalty: its ring, and GS1's, turn from green to red; their fills (story check's statuses) stay.
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/priors?scenario=goof-off")
    page.locator(".tabulator-row").first.wait_for(timeout=TIMEOUT)
    story_tab = page.locator(".bk-tab", has_text="Story")
    if story_tab.count():
        story_tab.first.click()
    before = wait_for_node(page, "claim:GS1", fill=GREEN, ring=GREEN)
    assert list(before["evidence:map-honest"]) == [GREEN, GREEN]
    handle = _slider_handle(page, "Average-compute weight")
    handle.focus()
    page.keyboard.press("Home")
    expect(page.locator(".bk-slider-title", has_text="Average-compute weight")).to_contain_text(": 0", timeout=TIMEOUT)
    after = wait_for_node(page, "claim:GS1", fill=GREEN, ring=RED)
    assert list(after["evidence:map-honest"]) == [GREEN, RED]
    assert list(after["claim:GD1"]) == list(before["claim:GD1"])  # deploy-high still holds
    # A tap says what the node is and links to its form in the editor.
    tap(page, "claim:GS1")
    focus = page.locator(".story-map-focus")
    expect(focus).to_contain_text("fails here", timeout=TIMEOUT)
    expect(focus.locator("a")).to_have_attribute("href", "./stories?story=scenarios/goof-off&item=claim:GS1")


def test_the_library_and_every_tab_of_the_editor_fit_the_screen(page, server):
    sizes = [(1280, 720), (1440, 900)]  # each page is opened once and resized: Bokeh lays it out again
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/stories")
    page.locator(".story-library-row").first.wait_for(timeout=TIMEOUT)
    problems = []
    for width, height in sizes:
        resize(page, width, height)
        problems += [f"({width}x{height}, library) {p}" for p in layout_problems(page)]
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/stories?story=speed-prior")
    wait_for_node(page, "claim:GS1")
    labels = page.locator(".bk-tab").all_inner_texts()
    for width, height in sizes:
        page.locator(".bk-tab", has_text=labels[0]).first.click()  # the tab it opened on
        page.evaluate("() => window.scrollTo(0, 0)")
        resize(page, width, height)
        assert above_fold(page, page.locator(".bk-tab", has_text="Sweeps").first), (width, height)  # no longer under 56 fields
        for label in labels:
            page.locator(".bk-tab", has_text=label).first.click()
            settle(page)
            problems += [f"({width}x{height}, tab {label!r}) {p}" for p in layout_problems(page)]
    assert problems == []
