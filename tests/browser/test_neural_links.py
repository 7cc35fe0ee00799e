"""Links to /neural: a link sets the settings it names (shown in the fields), a value over the served
limit says so and names the limit, a typed one too (never a silent change), and the address bar follows
the fields."""

from __future__ import annotations

import re

from playwright.sync_api import expect

TIMEOUT = 60_000


def group(page, label: str):
    """The widget labelled `label` (Playwright's locators pierce Bokeh's shadow roots)."""
    return page.locator(".bk-input-group", has=page.locator("label", has_text=label))


def field(page, label: str):
    return group(page, label).locator("input").first


def open_neural(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Start").wait_for(timeout=TIMEOUT)


def test_a_link_sets_its_settings_in_the_fields(page, server):
    open_neural(page, server + "/neural?proposal=early-exit&bits=5&steps=300&penalties=0.2")
    expect(group(page, "Proposal").locator("select")).to_have_value("3: early exit")
    expect(field(page, "Size")).to_have_value("5")
    expect(field(page, "Training steps")).to_have_value("300")
    expect(field(page, "alpha values")).to_have_value("0.2")  # the proposal, set first, kept the link's penalties
    expect(page.locator(".neural-message")).to_have_count(0)


def test_a_link_over_the_served_limit_names_the_limit_and_keeps_the_default(page, server):
    open_neural(page, server + "/neural?steps=40000&bits=5")
    expect(page.locator(".neural-message")).to_contain_text(
        "steps: 40,000 is more than this server allows (at most 4,000)", timeout=TIMEOUT)
    expect(field(page, "Training steps")).to_have_value("1500")
    expect(field(page, "Size")).to_have_value("5")  # the rest of the link applies
    expect(page).to_have_url(re.compile(r"/neural\?bits=5$"), timeout=TIMEOUT)


def test_typing_over_the_limit_says_so_and_the_link_follows_the_fields(page, server):
    open_neural(page, server + "/neural")
    steps = field(page, "Training steps")
    steps.fill("40000")
    steps.press("Enter")
    expect(page.locator(".neural-message")).to_contain_text(
        "steps: 40,000 is more than this server trains (at most 4,000)", timeout=TIMEOUT)
    expect(page.locator(".neural-message")).to_contain_text("steps stays 1,500")
    expect(steps).to_have_value("1500")
    size = field(page, "Size")
    size.fill("40")
    size.press("Enter")
    expect(page.locator(".neural-message")).to_contain_text("bits: 40 is more than this server trains (at most 12)",
                                                             timeout=TIMEOUT)
    expect(size).to_have_value("6")
    steps.fill("300")
    steps.press("Enter")
    expect(page).to_have_url(re.compile(r"/neural\?steps=300$"), timeout=TIMEOUT)
    group(page, "Proposal").locator("select").select_option("3: early exit")
    expect(page).to_have_url(re.compile(r"/neural\?proposal=early-exit&penalties=0\.5&steps=300$"), timeout=TIMEOUT)
    assert "steps=300" in page.url
