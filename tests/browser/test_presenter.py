"""A presenter's controls on /priors, as a teacher uses them: a link for the room that hides controls,
simple mode, the mark on a changed control and its one-click reset, and A pinned beside B."""

import re

from layout import resize
from playwright.sync_api import expect

from explorer.ui.controls import LABELS
from explorer.ui.room_link import SIMPLE

TIMEOUT = 60_000
#: Controls that are neither in the simple set nor in the room link below (each must disappear).
OTHERS = ("performance_threshold", "memory", "deceptive_efficiency", "deception_bits_offset", "lookup_bits_per_task")


#: A projector's and a laptop's window: a test opens its page at the first and resizes the same page to the next
#: (Bokeh lays it out again), rather than asking the server for a new session per size.
SIZES = [(1280, 720), (1440, 900)]


def open_priors(page, url):
    page.goto(url)
    page.locator(".tabulator-row").first.wait_for(timeout=TIMEOUT)


def title(page, name):
    """The label of control `name` (a slider's title, or a checkbox's or input's label)."""
    return page.locator(".bk-slider-title, label, .bk-label", has_text=LABELS[name]).first


def handle(page, name):
    return page.locator(".bk-input-group", has=page.locator(".bk-slider-title", has_text=LABELS[name])).locator(".noUi-handle")


def simple_box(page):
    return page.locator(".bk-Checkbox", has_text="Simple mode").locator("input")


def in_sidebar(page, name):
    """Whether control `name` shows and lies inside the sidebar's width (nothing cut sideways)."""
    box = title(page, name).bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 330


def test_a_link_for_the_room_shows_only_the_controls_it_names_at_its_values(page, server):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[0])))
    open_priors(page, f"{server}/priors?w_avg=2.5&memory=0.5&show=w_avg,misbehaviour_cost")
    for width, height in SIZES:
        resize(page, width, height)
        expect(title(page, "w_avg")).to_contain_text("2.5")
        expect(title(page, "misbehaviour_cost")).to_be_visible()
        for name in ("w_simplicity", "w_max", "deception_overhead", *OTHERS):
            expect(title(page, name)).to_be_hidden()
        expect(page.get_by_role("button", name="Reset to preset")).to_be_hidden()  # the preset was not named
        expect(page.get_by_text("Share for the room")).to_be_hidden()
        # hidden, but at the link's value: memory 0.5 is part of what the room sees computed
        assert "memory=0.5" in page.url and "show=w_avg,misbehaviour_cost" in page.url
    page.get_by_role("button", name="Show every control").click()
    for width, height in reversed(SIZES):
        resize(page, width, height)
        expect(title(page, "memory")).to_contain_text("0.5")
        expect(title(page, "w_max")).to_be_visible()


def test_the_builder_makes_the_link_and_the_link_does_what_the_ticks_say(page, server):
    open_priors(page, f"{server}/priors?w_avg=3")
    page.locator(".card-title", has_text="Share for the room").click()
    for name in ("w_simplicity", "w_max", "misbehaviour_cost", "deception_overhead", "deception_check_strength"):
        page.get_by_role("checkbox", name=LABELS[name], exact=True).uncheck()
    page.get_by_role("checkbox", name="Preset picker").uncheck()
    box = page.get_by_role("textbox", name="Link for the room")
    expect(box).to_have_value(re.compile(r"/priors\?scenario=goof-off&w_avg=3&show=w_avg,performance_threshold,"))
    link = box.input_value()
    shown = link.split("show=")[1].split(",")
    assert "w_avg" in shown and "memory" in shown and "w_max" not in shown and "scenario" not in shown
    open_priors(page, link)
    expect(title(page, "w_avg")).to_contain_text("3")
    expect(title(page, "memory")).to_be_visible()
    for name in ("w_max", "misbehaviour_cost"):
        expect(title(page, name)).to_be_hidden()


def test_simple_mode_shows_only_the_weights_and_the_misbehaviour_costs(page, server):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[0])))
    open_priors(page, f"{server}/priors")
    simple_box(page).check()
    for width, height in SIZES:
        resize(page, width, height)
        for name in SIMPLE:
            title(page, name).scroll_into_view_if_needed()
            expect(title(page, name)).to_be_visible()
            assert in_sidebar(page, name), (name, width, height)
        for name in OTHERS:
            expect(title(page, name)).to_be_hidden()
    expect(page).to_have_url(re.compile(r"mode=simple"))
    open_priors(page, page.url)  # the link opens in simple mode
    for width, height in reversed(SIZES):
        resize(page, width, height)
        expect(simple_box(page)).to_be_checked()
        expect(title(page, "memory")).to_be_hidden()
    simple_box(page).uncheck()
    expect(title(page, "memory")).to_be_visible()


def test_a_bad_show_name_is_one_message_naming_show(page, server):
    open_priors(page, f"{server}/priors?show=w_avg,<b>oops</b>")
    expect(page.get_by_text("show: '<b>oops</b>' is not one of: scenario, w_simplicity")).to_be_visible(timeout=TIMEOUT)
    expect(title(page, "w_avg")).to_be_visible()
    expect(title(page, "w_max")).to_be_hidden()


def test_a_changed_control_is_marked_and_one_click_puts_the_presets_value_back(page, server):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[0])))
    open_priors(page, f"{server}/priors")
    reset = page.get_by_role("button", name="↺ 1", exact=True)
    host = page.locator(".changed")  # the control (its reset button carries reset-shown)
    for width, height in SIZES:  # the same moves at each size: the reset puts the page back as it opened
        resize(page, width, height)
        expect(reset).to_have_count(0)
        handle(page, "w_avg").focus()
        page.keyboard.press("End")
        expect(title(page, "w_avg")).to_contain_text(": 10")
        expect(reset).to_be_visible(timeout=TIMEOUT)  # the mark: the preset's value, one click away
        expect(host).to_have_count(1)
        assert reset.bounding_box()["x"] + reset.bounding_box()["width"] <= 330, (width, height)  # inside the sidebar
        reset.click()
        expect(title(page, "w_avg")).to_contain_text(": 1")
        expect(reset).to_have_count(0)
        expect(host).to_have_count(0)


def test_compare_shows_a_and_b_side_by_side(page, server):
    open_priors(page, f"{server}/priors")
    row = page.locator(".tabulator-row", has_text="average_speed")
    masses = lambda: [float(row.locator(f"[tabulator-field={k}]").inner_text()) for k in ("honest", "goof_off")]
    a_honest, a_mass = masses()
    page.get_by_role("button", name="Pin as A").click()
    expect(page).to_have_url(re.compile(r"pin=scenario=goof-off"))
    handle(page, "misbehaviour_cost").focus()
    page.keyboard.press("End")
    expect(title(page, "misbehaviour_cost")).to_contain_text(": 10")
    expect(row.locator("[tabulator-field=goof_off]")).not_to_have_text(f"{a_mass:.3f}")
    b_honest, b_mass = masses()
    page.locator(".bk-tab", has_text="Compare").click()
    table = page.locator("table.pinned-compare")
    expect(table).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"differ in Goof-off misbehaviour cost: A 3, B 10"))).to_be_visible()
    rows = table.locator("tr")
    texts = rows.all_inner_texts()
    at = next(i for i, t in enumerate(texts) if t.strip() == "average_speed")
    assert texts[at + 1].split() == ["A", "honest", f"{a_honest:.0%}", f"{a_mass:.0%}", "0%", "0%"]
    assert texts[at + 2].split() == ["B", "honest", f"{b_honest:.0%}", f"{b_mass:.0%}", "0%", "0%"]
    # The link holds A too: opened afresh, the same A sits beside the same B.
    open_priors(page, page.url)
    page.locator(".bk-tab", has_text="Compare").click()
    expect(page.locator("table.pinned-compare tr").nth(at + 1)).to_have_text(re.compile(f"A\\s*honest\\s*{a_honest:.0%}"))
    expect(page.locator("table.pinned-compare tr").nth(at + 2)).to_have_text(re.compile(f"B\\s*honest\\s*{b_honest:.0%}"))
