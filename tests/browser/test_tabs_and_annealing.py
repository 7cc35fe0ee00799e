"""The dashboard's tabs and the annealing app, driven in the browser."""

import re

from playwright.sync_api import expect

TIMEOUT = 60_000


def open_priors(page, server, query=""):
    page.goto(server + "/priors" + query)
    page.locator(".tabulator-row").first.wait_for(timeout=TIMEOUT)


def slider(page, title):
    return page.locator(".bk-input-group", has=page.locator(".bk-slider-title", has_text=title)).locator(".noUi-handle")


def test_regime_map_computes_on_demand_and_stops(page, server):
    open_priors(page, server, "?n_programs=10000")
    page.locator(".bk-tab", has_text="Regime map").click()
    compute = page.get_by_role("button", name="Compute")
    compute.click()
    expect(page.locator("progress").first).to_have_attribute("value", "144", timeout=TIMEOUT)  # 12 x 12 cells
    expect(compute).to_be_enabled(timeout=TIMEOUT)
    # A 40 x 40 map takes long enough to stop it part way.
    handle = slider(page, "Cells per axis")
    handle.focus()
    page.keyboard.press("End")
    expect(page.locator(".bk-slider-title", has_text="Cells per axis")).to_contain_text("40")
    compute.click()
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_enabled(timeout=TIMEOUT)
    page.mouse.move(0, 0)  # off Compute, whose tooltip would cover Stop
    page.wait_for_timeout(300)
    stop.click()
    expect(page.get_by_text(re.compile("Stopped"))).to_be_visible(timeout=TIMEOUT)


def test_tour_steps_load_their_presets(page, server):
    open_priors(page, server)
    page.locator(".bk-tab", has_text="Guided tour").click()
    page.get_by_role("button", name="Start the guided tour").click()
    expect(page.get_by_text(re.compile(r"Step 1 of \d+"))).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("select").first).to_have_value("lookup-table", timeout=TIMEOUT)
    page.get_by_role("button", name=re.compile("Next")).click()
    expect(page.get_by_text(re.compile(r"Step 2 of \d+"))).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Reveal").click()
    assert "scenario=" in page.url


def test_annealing_app_animates_a_run(page, server):
    page.goto(server + "/annealing")
    status = page.get_by_text(re.compile(r"Step \d+ of \d+")).first
    expect(status).to_contain_text("Step 0 of", timeout=TIMEOUT)
    page.get_by_role("button", name="Play").click()
    expect(status).not_to_contain_text("Step 0 of", timeout=TIMEOUT)


def step_of(page, status) -> tuple[int, int]:
    """(step, last) from the status line, read again while the page is redrawing it."""
    text = ""
    for _ in range(100):
        text = status.inner_text()
        if match := re.search(r"Step (\d+) of (\d+)", text):
            return int(match[1]), int(match[2])
        page.wait_for_timeout(100)
    raise AssertionError(f"no 'Step N of M' in {text!r}")


def test_annealing_plays_a_run_in_about_its_frames_times_the_interval(page, server):
    """Fast is 50 ms a frame: the default run's 70 frames take about 3.5 s. Frames that once waited for
    the browser to repaint 20,000 dots took three times as long; the bound leaves room for a busy machine."""
    page.goto(server + "/annealing")
    status = page.get_by_text(re.compile(r"Step \d+ of \d+")).first
    expect(status).to_contain_text("Step 0 of", timeout=TIMEOUT)
    _, last = step_of(page, status)
    assert 20 <= last <= 200
    page.get_by_role("button", name="Fast", exact=True).click()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()  # the button says what it does now
    page.wait_for_timeout(1000)
    middle, _ = step_of(page, status)
    assert 0 < middle < last  # it moves, and a second in it is not over
    expect(status).to_contain_text(f"Step {last} of {last}", timeout=last * 50 * 2 + 2000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # stopped at the end


def test_annealing_monte_carlo_runs_with_progress(page, server):
    page.goto(server + "/annealing")
    page.get_by_text(re.compile(r"Step \d+ of \d+")).first.wait_for(timeout=TIMEOUT)
    page.get_by_role("button", name="Run Monte Carlo").click()
    bar = page.locator("progress").first
    expect(bar).to_have_attribute("value", re.compile(r"[1-9]"), timeout=TIMEOUT)  # moving while it runs
    total = bar.get_attribute("max")
    expect(bar).to_have_attribute("value", total, timeout=180_000)  # 3 schedules x every ratio
    expect(page.get_by_role("button", name="Run Monte Carlo")).to_be_enabled()
