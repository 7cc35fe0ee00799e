"""The /claims page in a browser: the recorded matrix drawn at once from this server alone, laid out for a
projector and a laptop, and a cell (clicked on the picture, or its row in the table) opening its scenario in
its world's app."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from layout import layout_problems
from playwright.sync_api import expect

from explorer.claims import load_recorded
from explorer.ui.claims_view import cell_link

TIMEOUT = 120_000

#: Where a cell lies on the heat map, in the page's pixels: Bokeh's own scales, from the plot's view.
_CELL_XY = """([world, claim]) => {
  const view = [...Bokeh.index.all_views()].find(v => v.model.type === "Figure" && v.el.isConnected
                                                  && v.model.x_range.factors && v.model.x_range.factors.includes(world));
  const x = view.frame.x_scale.compute(view.model.x_range.synthetic(world));
  const y = view.frame.y_scale.compute(view.model.y_range.synthetic(claim));
  const box = view.canvas_view.el.getBoundingClientRect();
  return [box.left + x, box.top + y];
}"""


@pytest.fixture(scope="module")
def recorded():
    matrix = load_recorded()
    assert matrix is not None, "assets/claims/matrix.json is missing: python -m explorer claims --json records it"
    return matrix


def open_claims(page, server, width=1280, height=720) -> list[str]:
    """Open /claims at a size; the requests that went to another host than the server are returned (filling)."""
    host = urlsplit(server).netloc
    elsewhere: list[str] = []
    page.on("request", lambda r: None if urlsplit(r.url).netloc == host or urlsplit(r.url).scheme in ("data", "blob")
            else elsewhere.append(r.url))
    page.set_viewport_size({"width": width, "height": height})
    page.goto(server + "/claims")
    page.locator(".claims-matrix canvas").first.wait_for(timeout=TIMEOUT)
    return elsewhere


def test_the_recorded_matrix_shows_at_once_from_this_server_and_fits_both_screens(page, server, recorded):
    elsewhere = open_claims(page, server)
    expect(page.get_by_text(re.compile(r"Recorded matrix \(assets/claims/matrix.json\): "
                                       rf"{len(recorded.cells)} cells, {recorded.seeds} seeds?"))).to_be_visible()
    links = page.locator(".claims-table a")
    expect(links).to_have_count(sum(1 for c in recorded.cells if c.world in ("abstract", "enumerated", "neural")))
    page.wait_for_timeout(1500)  # the canvas has drawn
    assert layout_problems(page) == []
    page.set_viewport_size({"width": 1440, "height": 900})
    page.wait_for_timeout(1500)
    assert layout_problems(page) == []
    assert elsewhere == []


def test_a_click_on_a_cell_opens_its_scenario_in_its_app(page, server, recorded):
    cell = recorded.cell("goof-off", "abstract")
    assert cell is not None
    open_claims(page, server)
    page.wait_for_timeout(1500)
    label = page.evaluate("""() => [...Bokeh.index.all_views()].find(v => v.model.type === "Figure"
                                   && v.model.y_range.factors).model.y_range.factors""")
    claim = next(f for f in label if f.startswith(cell.title[:20]))
    x, y = page.evaluate(_CELL_XY, ["abstract", claim])
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(r"/priors\?scenario=goof-off"), timeout=TIMEOUT)
    page.locator(".tabulator-row").first.wait_for(timeout=TIMEOUT)  # the priors page has computed
    expect(page.locator("strong", has_text=cell.title)).to_be_visible(timeout=TIMEOUT)


def test_the_table_links_each_cell_to_its_world_app(page, server, recorded):
    open_claims(page, server)
    hrefs = page.locator(".claims-table a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    apps = {"abstract": "priors", "enumerated": "programs", "neural": "neural"}
    expected = [c for c in recorded.cells if c.world in apps]
    assert [h.split("?")[0] for h in hrefs] == [apps[c.world] for c in expected]
    for href, c in zip(hrefs, expected):
        if c.world == "abstract" and "scenario=" in href:
            assert f"scenario={c.scenario}" in href
    enumerated = next((c for c in expected if c.world == "enumerated"), None)
    if enumerated is not None:  # a row's link opens the programs page at the cell's task
        page.locator(f'.claims-table a[href="{cell_link(enumerated)}"]').first.click()
        expect(page).to_have_url(re.compile(r"/programs\?task=" + enumerated.params["task"]), timeout=TIMEOUT)
        expect(page.get_by_text(re.compile(rf"programs of length 1\.\.\d+ for {enumerated.params['task']}"))
               ).to_be_visible(timeout=TIMEOUT)
