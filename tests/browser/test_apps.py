"""The apps in a real browser: open them, move a slider, follow a link, mistype a link."""

import re

from playwright.sync_api import expect

from explorer.priors import PRIORS

TIMEOUT = 60_000


def selection_rows(page):
    rows = page.locator(".tabulator-row")
    rows.first.wait_for(timeout=TIMEOUT)
    return rows.all_inner_texts()


def slider_title(page, label):
    return page.locator(".bk-slider-title", has_text=label)


def test_index_lists_every_app(page, server):
    page.goto(server + "/")
    for app in ("priors", "annealing"):
        expect(page.locator(f"a[href*='{app}']").first).to_be_visible(timeout=TIMEOUT)


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
    expect(page.locator("input[type=checkbox]")).not_to_be_checked()  # the one checkbox: check held-out tasks


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
