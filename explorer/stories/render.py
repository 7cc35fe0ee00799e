"""User text to HTML that cannot run script: Markdown rendered by markdown-it, then cleaned by nh3.

Story text is user input. Markdown may contain raw HTML (`<img src=x onerror=...>`, `<script>`), and
Panel's Markdown and HTML panes put whatever they get into the page. So every piece of story text shown
in a browser or written to an HTML export goes through `safe_html`: markdown-it renders it with raw HTML
passed through as text, and nh3 (the Rust ammonia sanitiser) keeps only an allow-list of tags and
attributes, with no event handlers, no script or style, and only http(s) and mailto links.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

#: Tags a rendered story may contain; everything else is removed with its attributes.
ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "span", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def safe_html(markdown: str) -> str:
    """Render Markdown to HTML with raw HTML shown as text and only allow-listed markup kept."""
    return nh3.clean(_MD.render(markdown or ""), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow")


def safe_inline(text: str) -> str:
    """Plain text (a claim, a title) as HTML-escaped text, for places that show no Markdown."""
    return html.escape(text or "", quote=True)
