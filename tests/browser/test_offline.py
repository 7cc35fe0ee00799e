"""Offline: no page of the explorer asks any host but its own server for anything, and the HTML exports ask
no host at all.

Every request a page makes is routed: one to the server (or a data: or blob: URL) goes through, any other is
recorded and aborted, so a test also shows that the page still works without the outside world. Some
references are never fetched by a headless browser (a favicon, a web-app manifest, a preconnect to a font
host), so each page's DOM, shadow roots included, is also searched for links, scripts, images and frames
that point elsewhere.
"""

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from explorer.priors import PRIORS

TIMEOUT = 60_000
ROOT = Path(__file__).resolve().parents[2]

# The URLs the document (and every shadow root in it) would load: stylesheets, icons, manifests,
# preconnects, scripts, images, objects and frames. Plain links (<a href>) are not requests.
_REFERENCED = """() => {
  const urls = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('link[href], script[src], img[src], object[data], iframe[src], source[src], embed[src]')) {
      const url = el.href || el.src || el.data;
      if (typeof url === 'string') urls.push(url);
    }
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) visit(el.shadowRoot);
  };
  visit(document);
  return urls;
}"""


def _local(url: str, host: str | None) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    if host is None:  # a file opened from disk: only files of its own
        return parts.scheme == "file"
    return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == host


def offline(page, host: str | None) -> list[str]:
    """Abort every request `page` makes to another host than `host` (None: to any host) and return the
    list they are recorded in, which fills as the page goes on."""
    outside: list[str] = []

    def route(r):
        if _local(r.request.url, host):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    page.on("websocket", lambda ws: None if _local(ws.url, host) else outside.append(ws.url))
    return outside


def referenced_elsewhere(page, host: str | None) -> list[str]:
    return sorted({u for u in page.evaluate(_REFERENCED) if not _local(u, host)})


def assert_offline(page, host, outside):
    page.wait_for_timeout(300)  # let the last requests of the interaction go out
    assert outside == [], f"requests to other hosts: {sorted(set(outside))}"
    assert referenced_elsewhere(page, host) == []


def drawn(locator) -> bool:
    """Whether the element shows a plot: more than a few hundred strongly coloured pixels (the bars, the
    points), which an empty frame, axes and grey text never have."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(locator.screenshot())).convert("RGB")).astype(int)
    colourful = (pixels.max(axis=2) - pixels.min(axis=2) > 80).sum()
    return colourful > 300


def laid_out_as_a_table(row) -> bool:
    """The cells of a table row side by side, as the table's stylesheet puts them (unstyled, they stack)."""
    boxes = [c.bounding_box() for c in row.locator(".tabulator-cell").all()]
    tops = {round(b["y"]) for b in boxes if b and b["width"] > 0}
    return len(tops) == 1


# ---- the served apps ----------------------------------------------------------------------------------

def slider_to_end(page, title):
    page.locator(".bk-input-group", has=page.locator(".bk-slider-title", has_text=title)).locator(".noUi-handle").focus()
    page.keyboard.press("End")


def use_index(page):
    for app in ("priors", "stories", "neural", "programs", "annealing"):
        expect(page.locator(f"a[href*='{app}']").first).to_be_visible(timeout=TIMEOUT)
    page.locator("#search-input").fill("priors")
    expect(page.locator("a[href*='annealing']").first).to_be_hidden(timeout=TIMEOUT)


def use_priors(page):
    rows = page.locator(".tabulator-row")
    rows.first.wait_for(timeout=TIMEOUT)
    assert [r.split("\n")[0] for r in rows.all_inner_texts()] == list(PRIORS)
    assert laid_out_as_a_table(rows.first)
    before = rows.nth(1).inner_text()
    slider_to_end(page, "Max-compute weight")
    expect(rows.nth(1)).not_to_have_text(before, timeout=TIMEOUT)
    page.locator(".bk-tab", has_text="Compute per task").click()
    expect(page.locator(".bk-tab.bk-active", has_text="Compute per task")).to_be_visible(timeout=TIMEOUT)
    assert drawn(page.locator(".posterior-bars"))


def use_stories(page):
    row = page.locator(".story-library-row", has=page.locator("small", has_text=re.compile(r"^speed-prior$")))
    row.get_by_role("button", name="Open").click(timeout=TIMEOUT)
    expect(page.locator(".story-state")).to_contain_text("speed-prior", timeout=TIMEOUT)
    page.locator(".bk-tab", has_text="Claims").first.click()  # the editor's parts are tabs
    expect(page.locator(".claim-text textarea").first).to_be_visible(timeout=TIMEOUT)


def use_neural(page):
    start = page.get_by_role("button", name="Start")
    start.wait_for(timeout=TIMEOUT)
    for label, value in (("Size", 3), ("Training steps", 20), ("beta values", "0.01")):  # one network
        box = page.locator(".bk-input-group", has=page.locator("label", has_text=label)).locator("input").first
        box.fill(str(value))
        box.press("Enter")
    start.click()
    expect(page.locator(".neural-status")).to_contain_text("Done", timeout=TIMEOUT)
    expect(page.locator(".neural-difficulty-table table")).to_be_visible(timeout=TIMEOUT)


def use_programs(page):
    summary = page.get_by_text(re.compile(r"programs of length 1\.\.\d")).first
    expect(summary).to_be_visible(timeout=TIMEOUT)
    before = summary.inner_text()
    page.locator(".noUi-handle").first.focus()
    page.keyboard.press("Home")
    expect(summary).not_to_have_text(before, timeout=TIMEOUT)


def use_annealing(page):
    status = page.get_by_text(re.compile(r"Step \d+ of \d+")).first
    expect(status).to_contain_text("Step 0 of", timeout=TIMEOUT)
    page.get_by_role("button", name="Play").click()
    expect(status).not_to_contain_text("Step 0 of", timeout=TIMEOUT)


APPS = {"/": use_index, "/priors": use_priors, "/stories": use_stories, "/neural": use_neural,
        "/programs": use_programs, "/annealing": use_annealing}


@pytest.mark.parametrize("path", list(APPS))
def test_an_app_asks_nothing_of_any_other_host(page, server, path):
    host = urlsplit(server).netloc
    outside = offline(page, host)
    page.goto(server + path)
    APPS[path](page)
    assert_offline(page, host, outside)


# ---- the HTML exports, opened from disk ---------------------------------------------------------------

def open_file(page, path):
    outside = offline(page, None)
    page.goto(path.as_uri())
    return outside


def dashboard_export_from_the_app(page, server, path):
    """The priors app's "View as HTML", as a user downloads it."""
    page.goto(server + "/priors?n_programs=20000")
    page.locator(".tabulator-row").first.wait_for(timeout=TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as download:
        page.get_by_role("button", name="View as HTML").click()
    download.value.save_as(path)


def dashboard_export_from_python(page, server, path):
    """`PriorsDashboard.export_html()` called in Python, as in a notebook or a script."""
    from explorer.ui.dashboard import PriorsDashboard

    path.write_text(PriorsDashboard(n_programs=20_000).export_html().getvalue(), encoding="utf-8")


@pytest.mark.parametrize("make", [dashboard_export_from_the_app, dashboard_export_from_python], ids=["app", "python"])
def test_the_dashboard_export_is_self_contained(page, server, tmp_path, make):
    path = tmp_path / "view.html"
    make(page, server, path)
    outside = open_file(page, path)
    rows = page.locator(".tabulator-row")
    rows.first.wait_for(timeout=TIMEOUT)
    assert [r.split("\n")[0] for r in rows.all_inner_texts()] == list(PRIORS)
    assert re.search(r"\d\.\d{3}", rows.first.inner_text())  # the numbers, formatted
    assert laid_out_as_a_table(rows.first)
    figure = page.locator(".bk-Canvas").first
    figure.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert drawn(figure)
    assert_offline(page, None, outside)


def test_the_story_export_is_self_contained(page, tmp_path):
    path = tmp_path / "story.html"
    story = ROOT / "assets" / "stories" / "speed-prior.story.md"
    subprocess.run([sys.executable, "-m", "explorer", "story", "export", str(story), "--format", "html", "--output", str(path)],
                   check=True, timeout=300, cwd=ROOT)
    outside = open_file(page, path)
    expect(page.locator("h1").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("td").filter(has_text=re.compile(r"\d")).first).to_be_visible(timeout=TIMEOUT)
    figure = page.locator(".bk-Canvas").first
    figure.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert drawn(figure)
    assert_offline(page, None, outside)
