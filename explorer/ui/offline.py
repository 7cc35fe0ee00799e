"""Pages that ask nothing of the network: the served apps load only from their own server, and the HTML
exports carry everything they need.

Panel's Fast templates load the Open Sans web font from Google Fonts, and Panel's index page loads another
font and its logo from outside too. Here the Fast design is Panel's own with its font resource left out and
a system font stack in its place (`OfflineFast`, made the Fast templates' default by `use_offline_design`),
and the index page is `index.html` beside this file (`python -m explorer serve` passes it to `--index`).
Everything else a served page loads (BokehJS, Panel, Tabulator, the Fast components) comes from the server's
static routes.

An export made with Panel's own `save(..., resources="inline")` still points its stylesheets at Panel's
CDN; `standalone_html` inlines those too, the way Panel does for a notebook with `pn.extension(inline=True)`.

In a notebook, `pn.extension(..., inline=True)` puts BokehJS, Panel and Tabulator into the notebook itself,
and inlines Panel's stylesheets when a view is first drawn; but Panel 1.9 links them on its CDN again
whenever a pane's text changes in place or a component's classes change (a slider move does both).
`inline_notebook_updates` makes those inline as well.
"""

from __future__ import annotations

import base64
import io
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import panel as pn
import param
from panel.theme.fast import DARK_STYLE, DEFAULT_STYLE, Fast, FastDarkTheme, FastDefaultTheme, FastStyle

#: The fonts every page uses: the operating system's own, so nothing is downloaded.
FONT_STACK = ('system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", '
              '"Liberation Sans", sans-serif')


def _offline_style(style: FastStyle) -> FastStyle:
    values = {k: v for k, v in style.param.values().items() if k != "name"}
    return FastStyle(**{**values, "font": FONT_STACK, "font_url": ""})


class OfflineFastDefaultTheme(FastDefaultTheme):
    style = param.ClassSelector(default=_offline_style(DEFAULT_STYLE), class_=FastStyle)


class OfflineFastDarkTheme(FastDarkTheme):
    style = param.ClassSelector(default=_offline_style(DARK_STYLE), class_=FastStyle)


class OfflineFast(Fast):
    """Panel's Fast design without its web font (Open Sans from fonts.googleapis.com): the system's fonts."""

    _resources: ClassVar[dict] = {
        **{k: v for k, v in Fast._resources.items() if k != "font"},
        # Fast names this one relative to its own class; named in full it resolves to the same bundled file.
        "js_modules": {**Fast._resources["js_modules"],
                       "fast-design": f"{pn.io.resources.CDN_DIST}bundled/fast/js/fast_design.js"},
    }
    _themes: ClassVar[dict] = {"default": OfflineFastDefaultTheme, "dark": OfflineFastDarkTheme}


def use_offline_design() -> None:
    """Make `OfflineFast` the design of every Fast template made from now on (unless one names another)."""
    for template in (pn.template.FastListTemplate, pn.template.FastGridTemplate):
        template.design = OfflineFast  # a Parameterized class attribute: that class's default


def standalone_html(make_view: Callable[[], Any], title: str) -> str:
    """The view `make_view()` returns, as one HTML file that needs no network and no server: BokehJS,
    Panel's JavaScript and every stylesheet inlined, the models' state as it is now.

    The view is made on a worker thread, where no served session is current, with Panel's plain design.
    Inside a session (a download button's callback) Panel resolves design and resources from the session's
    config and template: the Fast design, whose components load as JavaScript modules and stylesheets a
    saved file can only link, and which a served export sometimes picked up."""
    with ThreadPoolExecutor(1, thread_name_prefix="standalone-html") as pool:
        return pool.submit(_standalone_html, make_view, title).result()


def _standalone_html(make_view: Callable[[], Any], title: str) -> str:
    from bokeh.document import Document
    from bokeh.models import UIElement
    from panel.io.model import add_to_doc
    from panel.io.notebook import patch_inline_stylesheets
    from panel.io.resources import DIST_DIR, set_resource_mode
    from panel.io.save import save

    # Panel's page template links its icons on its CDN unless it is given its own: the icon inline, and
    # `apple_icon` defined (any value) so that no Apple touch icon is linked at all.
    icon = base64.b64encode((DIST_DIR / "images" / "icon-32x32.png").read_bytes()).decode("ascii")
    doc, out = Document(), io.StringIO()
    with pn.config.set(design=None):
        with set_resource_mode("inline"):
            root = pn.panel(make_view()).get_root(doc)
        for model in root.select({"type": UIElement}):
            patch_inline_stylesheets(model)  # what Panel does for a notebook with inline=True
        add_to_doc(root, doc)
        save(doc, out, resources="inline", title=title,
             template_variables={"app_favicon": f"data:image/png;base64,{icon}", "apple_icon": ""})
    return out.getvalue()


def inline_notebook_updates() -> None:
    """In a notebook with `pn.extension(..., inline=True)`, inline the stylesheets Panel sends with every
    later change too (from Panel's own files), instead of linking them on cdn.holoviz.org.

    Panel inlines them only when a view is first drawn (panel.io.notebook.patch_inline_stylesheets);
    `Reactive._get_properties` (a pane whose text changes in place resends all its properties) and
    `Reactive._update_model` (new classes or stylesheets) make them links again. Both are wrapped here, for
    documents with no server session (a notebook's) while `pn.config.inline` is set; served pages are left
    alone. Calling it again does nothing more.
    """
    from bokeh.models import ImportedStyleSheet
    from panel.io.notebook import replace_inline_css
    from panel.reactive import Reactive

    if getattr(Reactive._get_properties, "_inlines_stylesheets", False):
        return
    get_properties, update_model = Reactive._get_properties, Reactive._update_model
    inlined: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # document -> {url: InlineStyleSheet}

    def inline(stylesheets, doc):
        if not pn.config.inline or doc is None or doc.session_context is not None:
            return stylesheets
        cache = inlined.setdefault(doc, {})
        out = []
        for sheet in stylesheets:
            if isinstance(sheet, ImportedStyleSheet):
                url = str(sheet.url)
                if url not in cache:
                    cache[url] = replace_inline_css(sheet)  # the same sheet back where Panel has no such file
                sheet = cache[url]
            out.append(sheet)
        return out

    def _get_properties(self, doc):
        properties = get_properties(self, doc)
        if "stylesheets" in properties:
            properties["stylesheets"] = inline(properties["stylesheets"], doc)
        return properties

    def _update_model(self, events, msg, root, model, doc, comm):
        if "stylesheets" in msg:
            msg = {**msg, "stylesheets": inline(msg["stylesheets"], doc)}
        return update_model(self, events, msg, root, model, doc, comm)

    _get_properties._inlines_stylesheets = True
    Reactive._get_properties = _get_properties
    Reactive._update_model = _update_model
