"""The apps in a real browser: open them, move a slider, follow a link, mistype a link."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from explorer.cli.serve import INDEX_CARDS
from explorer.priors import PRIORS

TIMEOUT = 60_000


def selection_rows(page):
    rows = page.locator(".tabulator-row")
    rows.first.wait_for(timeout=TIMEOUT)
    return rows.all_inner_texts()


def slider_title(page, label):
    return page.locator(".bk-slider-title", has_text=label)


def test_index_lists_every_app_with_its_description_and_a_thumbnail_from_this_server(page, server):
    host = urlsplit(server).netloc
    elsewhere = []
    page.on("request", lambda r: None if urlsplit(r.url).netloc == host or r.url.startswith("data:") else elsewhere.append(r.url))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server + "/")
    cards = page.locator("li.card")
    expect(cards).to_have_count(len(INDEX_CARDS), timeout=TIMEOUT)
    assert cards.first.get_attribute("id") == "tour"  # the tour first
    for card_id, app, query, title, about, _ in INDEX_CARDS:
        card = page.locator(f"li.card#{card_id}")
        expect(card.locator("a")).to_have_attribute("href", f"./{app}{query}")
        expect(card.locator(".card-header")).to_have_text(title)
        expect(card.locator(".card-text")).to_have_text(about)
        thumb = card.locator("img.card-thumb")
        thumb.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle(), timeout=TIMEOUT)
        assert urlsplit(thumb.evaluate("img => img.src")).netloc == host
    # Readable at a projector's size: the first row of cards, titles and descriptions, inside the window.
    first = page.locator("li.card#tour .card-text").bounding_box()
    assert first["y"] + first["height"] <= 720
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    assert elsewhere == []


def test_priors_app_opens_with_every_prior(page, server):
    page.goto(server + "/priors")
    rows = selection_rows(page)
    assert [r.split("\n")[0] for r in rows] == list(PRIORS)
    expect(page.locator("strong", has_text="Goofing off on easy tasks")).to_be_visible()


def test_moving_a_weight_slider_changes_the_selection_and_the_bars(page, server):
    page.goto(server + "/priors")
    before = selection_rows(page)
    plot = page.locator(".posterior-bars")
    plot.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(500)  # let the first paint settle
    bars_before = plot.screenshot()
    handle = page.locator(".noUi-handle").nth(1)  # the max-compute weight
    handle.focus()
    page.keyboard.press("End")
    expect(slider_title(page, "Max-compute weight")).to_contain_text("10", timeout=TIMEOUT)
    page.wait_for_function("() => true")
    expect(page.locator(".tabulator-row").nth(1)).not_to_have_text(before[1], timeout=TIMEOUT)
    after = selection_rows(page)
    assert after[0] == before[0]  # the simplicity prior does not depend on the max weight
    page.wait_for_timeout(500)
    assert plot.screenshot() != bars_before
    assert "w_max=10" in page.url  # the link follows the view


def test_a_link_sets_the_controls(page, server):
    page.goto(server + "/priors?scenario=memory&w_avg=2.5&generalization_check=false")
    selection_rows(page)
    expect(slider_title(page, "Average-compute weight")).to_contain_text("2.5", timeout=TIMEOUT)
    expect(page.locator("strong", has_text="Cross-episode memory weakens the speed prior")).to_be_visible()
    expect(page.locator("select").first).to_have_value("memory")
    # the control's own Checkbox (the room link's choices and Large type are checkboxes too)
    expect(page.locator(".bk-Checkbox", has_text="Check held-out tasks too").locator("input")).not_to_be_checked()


def test_a_bad_value_in_the_link_shows_a_message_and_keeps_the_rest(page, server):
    page.goto(server + "/priors?w_avg=2&memory=7&warp=9")
    selection_rows(page)
    alert = page.locator(".alert-danger, .bk-panel-models-markup-HTML .alert").first
    expect(page.get_by_text(re.compile("memory: 7.0 is not valid"))).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(re.compile("unknown parameter 'warp'"))).to_be_visible()
    expect(slider_title(page, "Average-compute weight")).to_contain_text("2", timeout=TIMEOUT)
    expect(slider_title(page, "Cross-episode memory")).to_contain_text("0")
    assert alert is not None


def test_reset_returns_to_the_preset(page, server):
    page.goto(server + "/priors?w_avg=6")
    selection_rows(page)
    expect(slider_title(page, "Average-compute weight")).to_contain_text("6", timeout=TIMEOUT)
    page.get_by_role("button", name="Reset to preset").click()
    expect(slider_title(page, "Average-compute weight")).to_contain_text(": 1", timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"scenario=goof-off$"))


def test_panels_own_dark_theme_setting_is_kept_not_reported(page, server):
    # The template's dark-mode toggle reloads the page with ?theme=dark: not a setting of the simulation.
    page.goto(server + "/priors?theme=dark&w_avg=2")
    selection_rows(page)
    expect(slider_title(page, "Average-compute weight")).to_contain_text("2", timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"scenario=goof-off&w_avg=2&theme=dark$"), timeout=TIMEOUT)
    assert page.get_by_text("unknown parameter").count() == 0
