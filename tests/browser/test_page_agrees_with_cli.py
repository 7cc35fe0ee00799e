"""The page shows the numbers `select --json` computes, after a link, after a reload and after a slider move.

Every preset is opened by its link, then reloaded (every setting is in the link), then the max-compute
weight is moved to its end. Each time the table (each prior's MAP kind and posterior mass per kind) and
the bars' data in the Bokeh document are read and compared with the CLI's JSON for the same settings.
The table used to keep a previous preset's numbers after a link, while the bars showed the new ones.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from explorer.priors import PRIORS
from explorer.scenarios import scenarios_of
from explorer.table import KINDS

TIMEOUT = 60_000
#: A page that measures (/programs) can queue behind what an earlier test left running on the shared
#: server (a neural sweep, a Monte Carlo); with the test files spread over two processes, one clean-clone
#: run's /programs story check was still "checking" after 60 s. test_measured_links.py waits as long.
MEASURED_TIMEOUT = 180_000

#: Reads the stacked bars' data source out of the page's Bokeh document.
BARS = """() => {
  for (const doc of Bokeh.documents) {
    for (const m of doc.all_models) {
      if (m.type === 'ColumnDataSource' && m.data.prior !== undefined && m.data.honest !== undefined
          && m.data.index === undefined) {
        const out = {};
        for (const k of Object.keys(m.data)) out[k] = Array.from(m.data[k]);
        return out;
      }
    }
  }
  return null;
}"""


def select_json(scenario: str, *sets: str) -> dict:
    args = [sys.executable, "-m", "explorer", "select", "--scenario", scenario, "--json"]
    for s in sets:
        args += ["--set", s]
    run = subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def expected():
    """`select --json` for every preset, as it opens and with the max-compute weight at 10 (two at a time)."""
    jobs = {(s, moved): (s, *(["w_max=10"] if moved else [])) for s in scenarios_of("abstract") for moved in (False, True)}
    with ThreadPoolExecutor(2) as pool:
        futures = {key: pool.submit(select_json, *args) for key, args in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


def table(page) -> dict[str, dict[str, str]]:
    """Each row of the selection table as {column: text}, read by Tabulator's field names."""
    rows = page.locator(".tabulator-row")
    rows.first.wait_for(timeout=TIMEOUT)
    out = {}
    for row in rows.all():
        cells = row.locator(".tabulator-cell[tabulator-field]")
        values = dict(zip(cells.evaluate_all("cs => cs.map(c => c.getAttribute('tabulator-field'))"),
                          cells.all_inner_texts()))
        out[values["prior"]] = values
    return out


def assert_page_shows(page, report: dict, when: str) -> None:
    shown, bars = table(page), page.evaluate(BARS)
    assert list(shown) == list(PRIORS), when
    assert bars["prior"] == list(PRIORS), when
    for i, prior in enumerate(PRIORS):
        want = report["priors"][prior]
        assert shown[prior]["MAP kind"] == (want["map"] or {}).get("kind", "none"), (when, prior)
        for kind in KINDS:
            assert shown[prior][kind] == f"{want['mass'][kind]:.3f}", (when, prior, kind)
            assert abs(bars[kind][i] - want["mass"][kind]) < 1e-9, (when, prior, kind)


def expect_page_shows(page, report: dict, when: str, timeout_s: float = 60) -> None:
    """Poll until the table and the bars show the report (the page updates asynchronously); past the
    timeout, fail with the first difference."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            assert_page_shows(page, report, when)
            return
        except (AssertionError, KeyError, TypeError):  # not updated yet, or mid-redraw
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(200)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(scenarios_of("abstract")))  # the priors page: the abstract world
def test_every_preset_by_link_reload_and_slider_shows_what_select_computes(page, server, expected, scenario):
    page.goto(f"{server}/priors?scenario={scenario}")
    expect_page_shows(page, expected[scenario, False], "by link")

    page.reload()
    expect_page_shows(page, expected[scenario, False], "after a reload")

    handle = page.locator(".noUi-handle").nth(1)  # the max-compute weight
    handle.focus()
    page.keyboard.press("End")
    expect(page.locator(".bk-slider-title", has_text="Max-compute weight")).to_contain_text("10", timeout=TIMEOUT)
    expect_page_shows(page, expected[scenario, True], "after the slider")
    expect(page).to_have_url(re.compile(r"[?&]w_max=10(&|$)"), timeout=TIMEOUT)  # the link follows the update


def expect_status(page, claim_id: str, status: str, timeout: int = TIMEOUT) -> None:
    """Wait until the claim's badge says `status` (the panel redraws whole; a served page checks on a thread)."""
    claim = page.locator(".story-claim", has=page.locator(".story-claim-id", has_text=claim_id)).first
    expect(claim.locator(".story-status")).to_have_text(status, timeout=timeout)


def test_the_story_panels_show_the_statuses_story_check_gives(page, server):
    # The cases: beside goof-off, RN1 showed refuted (evidence written for misbehaviour_cost 6 was
    # evaluated at the page's 3); /programs opened with GD1 and RC1 refuted. story check says supported
    # (/programs now opens on parity-measured, whose GD1 and RC1 story check also finds supported).
    page.goto(f"{server}/priors?scenario=goof-off")
    table(page)
    page.locator(".bk-tab", has_text="Story").first.click()  # the story sits in a tab beside the picture
    expect_status(page, "RN1", "supported")
    expect(page.get_by_text("At this page's settings").first).to_be_visible(timeout=TIMEOUT)
    page.goto(f"{server}/programs")
    for claim in ("GD1", "RC1"):
        expect_status(page, claim, "supported", MEASURED_TIMEOUT)
    expect_status(page, "RN2", "refuted")  # the measurement refutes the goof-off claim, as story check says
    # its evidence is of this page's world and parameters, so it is also evaluated on the programs measured here
    expect(page.get_by_text("On the programs measured here:").first).to_be_visible(timeout=MEASURED_TIMEOUT)
