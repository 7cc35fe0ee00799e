"""Every app and tab at a projector's size and a laptop's: nothing off the screen sideways, nothing on top
of something else, no text cut off (layout.py says what each check looks at)."""

import pytest
from layout import layout_problems

from explorer.cli.screens import READY, views

SIZES = [(1280, 720), (1440, 900)]


#: Every app as it opens, and the views a link opens (a tour under way, the room's simple view, an open story).
PAGES = [(app, query, ready) for app in READY for _, query, ready, _ in views(app)]


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("app,query,ready", PAGES, ids=[f"{app}{query}" for app, query, _ in PAGES])
def test_every_tab_fits_the_screen(server, browser, app, query, ready, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(180_000)
    try:
        page.goto(f"{server}/{app}{query}")
        page.locator(ready).first.wait_for()
        page.wait_for_timeout(1500)
        problems = [f"(as opened) {p}" for p in layout_problems(page)]
        for label in page.locator(".bk-tab:visible").all_inner_texts()[1:]:
            page.locator(".bk-tab:visible", has_text=label).first.click()
            page.wait_for_timeout(1500)
            problems += [f"(tab {label!r}) {p}" for p in layout_problems(page)]
        assert problems == [], f"/{app}{query} at {width}x{height}:\n" + "\n".join(problems)
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
        page.wait_for_timeout(500)
        problems = "\n".join(layout_problems(page))
        assert "the page scrolls sideways" in problems
        assert '"a title far too long for its box": text is cut' in problems
        assert "Slider" in problems and "overlaps Slider" in problems
        assert 'title "a plot title much, much longer' in problems
    finally:
        page.close()
