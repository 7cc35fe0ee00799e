"""The neural app in a real browser: start a tiny run, watch the curve and the result appear, stop a long one."""

import re

from playwright.sync_api import expect

TIMEOUT = 60_000


def field(page, label):
    """The input of the widget labelled `label`."""
    return page.locator(".bk-input-group", has=page.locator("label", has_text=label)).locator("input").first


def set_field(page, label, value):
    box = field(page, label)
    box.fill(str(value))
    box.press("Enter")


def open_neural(page, server):
    page.goto(server + "/neural")
    page.get_by_role("button", name="Start").wait_for(timeout=TIMEOUT)


def test_a_tiny_run_shows_its_curve_then_accuracy_per_difficulty_and_the_story(page, server):
    open_neural(page, server)
    expect(page.get_by_text("nothing measured yet").first).to_be_visible(timeout=TIMEOUT)
    set_field(page, "Size", 4)
    set_field(page, "Training steps", 300)
    set_field(page, "beta values", "0.01")  # one network (the page's default trains three)
    page.get_by_role("button", name="Start").click()
    status = page.locator(".neural-status")
    expect(status).to_contain_text("Done", timeout=TIMEOUT)
    table = page.locator(".neural-difficulty-table table")
    expect(table).to_be_visible(timeout=TIMEOUT)
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)  # difficulties 1..4 of a 4-entry parity, one network
    expect(rows.nth(3)).to_contain_text("yes")  # the hardest is held out
    expect(rows.nth(0)).to_contain_text("no")
    assert page.locator(".neural-results canvas, .bk-Canvas").count() > 0
    # the story beside it is now evaluated on the trained networks
    expect(page.locator(".story-evidence").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("nothing measured yet")).to_have_count(0)


def test_stop_ends_a_long_run_and_the_page_goes_on(page, server):
    open_neural(page, server)
    set_field(page, "Training steps", 4000)
    page.get_by_role("button", name="Start").click()
    status = page.locator(".neural-status")
    expect(status).to_contain_text(re.compile(r"Training: step [1-9]"), timeout=TIMEOUT)
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_enabled()
    page.mouse.move(0, 0)
    stop.click()
    expect(status).to_contain_text("Stopped", timeout=10_000)
    expect(page.get_by_role("button", name="Start")).to_be_enabled()
    # still alive: a bad setting is answered with a message, and a new run can start
    set_field(page, "beta values", "lots")
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".neural-message")).to_contain_text("penalties: beta: 'lots' is not valid", timeout=TIMEOUT)
