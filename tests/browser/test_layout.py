"""Every app and tab at a projector's size and a laptop's: nothing off the screen sideways, nothing on top
of something else, no text cut off (layout.py says what each check looks at)."""

import re

import pytest
from layout import layout_problems, resize, settle

from explorer.cli.screens import READY, views

SIZES = [(1280, 720), (1440, 900)]


#: Every app as it opens, and the views a link opens (a tour under way, the room's simple view, an open story).
PAGES = [(app, query, ready) for app in READY for _, query, ready, _ in views(app)]


@pytest.mark.parametrize("app,query,ready", PAGES, ids=[f"{app}{query}" for app, query, _ in PAGES])
def test_every_tab_fits_the_screen(server, browser, app, query, ready):
    """One page, checked at each size in turn: the window is resized and Bokeh lays the page out again, as it
    would for a room that opened it at that size; each size starts from the tab the page opened on."""
    width, height = SIZES[0]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(180_000)
    try:
        page.goto(f"{server}/{app}{query}")
        page.locator(ready).first.wait_for()
        labels = page.locator(".bk-tab:visible").all_inner_texts()
        problems = []
        for width, height in SIZES:
            if labels and (width, height) != SIZES[0]:
                page.locator(".bk-tab:visible", has_text=labels[0]).first.click()  # back to the tab it opened on,
                page.evaluate("() => window.scrollTo(0, 0)")  # at the top, as a page opens
            resize(page, width, height)
            page.locator(ready).first.wait_for()
            problems += [f"({width}x{height}, as opened) {p}" for p in layout_problems(page)]
            for label in labels[1:]:
                page.locator(".bk-tab:visible", has_text=label).first.click()
                settle(page)
                problems += [f"({width}x{height}, tab {label!r}) {p}" for p in layout_problems(page)]
        assert problems == [], f"/{app}{query}:\n" + "\n".join(problems)
    finally:
        page.close()


def test_the_checks_see_what_is_wrong(server, browser):
    """The checks can fail: a page made to break each rule is reported, once per rule broken."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{server}/priors")
        page.locator(READY["priors"]).first.wait_for()
        page.evaluate("""() => {
            const wide = document.createElement('div'); wide.style.width = '3000px'; wide.textContent = 'wide';
            document.body.appendChild(wide);
            const cut = document.createElement('div');
            cut.style.cssText = 'width: 40px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis';
            cut.textContent = 'a title far too long for its box'; document.body.prepend(cut);
            const views = [...Bokeh.index.all_views()];
            const sliders = views.filter(v => v.model.type === 'Slider' && v.el.getBoundingClientRect().width > 1);
            const gap = sliders[1].el.getBoundingClientRect().top - sliders[0].el.getBoundingClientRect().top;
            sliders[1].el.style.transform = `translateY(${-gap + 5}px)`;
            const plot = views.find(v => v.frame && v.el.getBoundingClientRect().width > 1);
            plot.model.title.text = 'a plot title much, much longer than any plot on this page is wide '.repeat(3);
        }""")
        settle(page)
        problems = "\n".join(layout_problems(page))
        assert "the page scrolls sideways" in problems
        assert '"a title far too long for its box": text is cut' in problems
        assert "Slider" in problems and "overlaps Slider" in problems
        assert 'title "a plot title much, much longer' in problems
        # After a resize the checks read the window as it is now (the tests above check both sizes in one page).
        resize(page, 1440, 900)
        assert re.search(r"the page scrolls sideways \(\d+ px wide in a 14\d\d px window\)", "\n".join(layout_problems(page)))
    finally:
        page.close()
