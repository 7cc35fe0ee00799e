"""The one way text reaches a page as Markdown or HTML, so that no text from a user becomes markup.

Panel's Markdown pane passes raw HTML through (`<img src=x onerror=...>` runs), its HTML pane shows
whatever it gets, and Notyf notifications render HTML. Text on these pages comes from links, widgets,
story, tour and scenario files and error messages that quote all of them. So every Markdown or HTML
pane of the apps is made here, and every piece of outside text is escaped here first:

- `text(s)` / `html_text(s)`: any text, for Markdown / for HTML, shown as exactly its characters.
- `markdown(md)`: a Markdown pane with raw HTML switched off (markdown-it's `html` option), no math and
  no heading anchors.
- `alert(md, kind)`: the same for an Alert.
- `html(fragment)`: an HTML pane whose content nh3 sanitises before it is sent, with an allow-list of
  tags, attributes and style properties: a fragment built from escaped parts gets a second guard.
- `card(title, *objects)`: a Card whose title is escaped text in a sanitised header (Panel's own
  Card header puts its title into `<h3>` unescaped).
- `notify_error(s)`: a notification with `s` escaped.

`tests/test_markup_safety.py` renders every app with hostile text in every input and checks each pane
is one of these and what reaches the document is inert.
"""

from __future__ import annotations

import re

import nh3
import panel as pn

from explorer.stories.render import safe_inline

#: Tags the project's own HTML fragments use; anything else is removed by the sanitiser.
TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}
ATTRIBUTES = {"*": {"class", "style", "title", "role"}, "a": {"href", "target"}, "td": {"align"}, "th": {"align"}}
#: Style properties kept (nh3 drops the rest): colour, spacing and type, never position or content.
STYLE_PROPERTIES = {
    "background", "background-color", "border", "border-left", "border-radius", "color", "display", "font-size",
    "font-style", "font-weight", "margin", "margin-bottom", "margin-left", "margin-top", "padding", "text-align",
    "white-space", "width",
}
URL_SCHEMES = {"http", "https", "mailto"}

#: Characters that are never shown as such: C0 and C1 controls (but tab and newline), and bidi overrides.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: In Markdown, HTML's special characters become entities and other ASCII punctuation is backslash-escaped.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_PUNCTUATION = set("!#$%()*+,-./:;=?@[\\]^_`{|}~")


def _visible(value: object, limit: int | None) -> str:
    s = _INVISIBLE.sub("\ufffd", str(value))
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"… ({len(s) - limit:,} more characters)"
    return s


def text(value: object, limit: int | None = 2000) -> str:
    """`value` for a Markdown pane: shows exactly its characters and is never markup (longer text is cut
    at `limit` characters, since a link or a file can carry megabytes)."""
    out = []
    for ch in _visible(value, limit):
        out.append(_ENTITIES.get(ch) or ("\\" + ch if ch in _PUNCTUATION else ch))
    return "".join(out).replace("\n", "  \n")


def html_text(value: object, limit: int | None = 2000) -> str:
    """`value` for an HTML fragment: every special character escaped (longer text cut at `limit`)."""
    return safe_inline(_visible(value, limit))


def sanitise(fragment: str) -> str:
    """An HTML fragment with only the allow-listed tags, attributes, style properties and URL schemes."""
    return nh3.clean(fragment or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     filter_style_properties=STYLE_PROPERTIES, link_rel="noopener noreferrer nofollow")


#: renderer_options of every Markdown pane: raw HTML is shown as text, never parsed.
NO_RAW_HTML = {"html": False}


def markdown(md: str = "", **params) -> pn.pane.Markdown:
    """A Markdown pane for text the project writes (outside text inside it must come through `text()`)."""
    return pn.pane.Markdown(md, renderer_options=dict(NO_RAW_HTML), disable_math=True, disable_anchors=True, **params)


def alert(md: str = "", alert_type: str = "danger", **params) -> pn.pane.Alert:
    """An Alert pane, Markdown with raw HTML off (outside text inside it must come through `text()`)."""
    return pn.pane.Alert(md, alert_type=alert_type, renderer_options=dict(NO_RAW_HTML), disable_math=True,
                         disable_anchors=True, **params)


def html(fragment: str = "", **params) -> pn.pane.HTML:
    """An HTML pane whose content is sanitised (nh3, the allow-lists above) every time it changes."""
    return pn.pane.HTML(fragment, sanitize_html=True, sanitize_hook=sanitise, **params)


def card(title: str, *objects, **params) -> pn.Card:
    """A Card titled with `title` as plain text (the header looks like Panel's own: an h3 of class card-title)."""
    header = html(f"<h3>{html_text(title)}</h3>", css_classes=["card-title"], margin=(5, 0))
    return pn.Card(*objects, header=header, **params)


def is_safe_pane(pane) -> bool:
    """Whether a pane is one this module makes: Markdown with raw HTML off, or HTML with the sanitiser."""
    if isinstance(pane, pn.pane.DataFrame):  # pandas' to_html, with its cell text escaped
        return pane.escape
    if isinstance(pane, pn.pane.Markdown):
        return pane.renderer == "markdown-it" and pane.renderer_options.get("html") is False
    if isinstance(pane, pn.pane.HTML):
        return pane.sanitize_html and pane.sanitize_hook is sanitise
    return True


def notify_error(message: str, duration: int = 8000) -> None:
    """An error notification (when the page has notifications); Notyf renders HTML, so it is escaped."""
    notifications = pn.state.notifications
    if message and notifications is not None:
        notifications.error(html_text(message, limit=300), duration=duration)
