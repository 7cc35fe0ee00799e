"""What a room would see wrong on a page: boxes off the screen or on top of each other, text cut off.

`layout_problems(page)` runs one script in the page and returns a sentence per problem (empty when the
page is clean), so a failing test says what to fix. It looks at what Bokeh laid out (every leaf view:
a widget, a plot, a text pane), at the DOM inside Bokeh's shadow roots (cut text, sideways scrolling),
and inside each plot's canvas, where titles and axis labels are drawn as pixels and no DOM check sees
them. Hidden things (a tab not on show, a collapsed card) have no box and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

_SCRIPT = r"""
(allow) => {
  const problems = [];
  const W = window.innerWidth, H = window.innerHeight;
  const describe = (el, v) => {
    const what = v ? v.model.type.split(".").pop() : el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).slice(0, 2).join(".") : "");
    const text = (el.innerText || el.textContent || (v && v.model.title && v.model.title.text) || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? `${what} "${text}"` : what;
  };
  const allowed = (d) => allow.some(a => d.includes(a));
  const report = (d, problem) => { if (!allowed(d)) problems.push(`${d}: ${problem}`); };
  const visible = (r) => r.width > 1 && r.height > 1;

  // Every element, inside shadow roots too.
  const all = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      all.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const parentOf = (el) => el.parentElement || (el.getRootNode() && el.getRootNode().host) || null;

  // 1. Sideways scrolling: the page, or any box inside it (a table whose columns do not fit).
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1) problems.push(`the page scrolls sideways (${page.scrollWidth} px wide in a ${page.clientWidth} px window)`);
  for (const el of all) {
    const s = getComputedStyle(el);
    if (!["auto", "scroll"].includes(s.overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && visible(el.getBoundingClientRect()))
      report(describe(el), `scrolls sideways (${el.scrollWidth} px of content in ${el.clientWidth} px)`);
  }

  // 2. Text cut off by its own box: an ellipsis, or overflow hidden on an element holding text.
  for (const el of all) {
    if (!el.childNodes.length || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el);
    if (s.textOverflow !== "ellipsis" && !["hidden", "clip"].includes(s.overflowX)) continue;
    const r = el.getBoundingClientRect();
    if (visible(r) && el.scrollWidth > el.clientWidth + 1) report(describe(el), `text is cut (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
  }

  // 3. Bokeh's leaf views (widgets, plots, text panes): inside the window sideways, inside any box that clips
  //    them, and not on top of one another.
  const views = [...Bokeh.index.all_views()].filter(v => "child_models" in v && v.el && v.el.isConnected);
  const isLayout = (v) => v.child_views && [...v.child_views].some(c => "child_models" in c);
  const leaves = [];
  for (const v of views) {
    if (isLayout(v) || v.model.type.endsWith("Spacer")) continue;
    const r = v.el.getBoundingClientRect();
    if (!visible(r)) continue;
    // skip what is hidden (a tab not on show); report what a clipping box cuts sideways; keep the part of the
    // box its scrolling or clipping ancestors let show (text running on inside a scroll box covers nothing)
    let el = parentOf(v.el), shown = true;
    const seen = {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    while (el && el !== document.documentElement) {
      const s = getComputedStyle(el);
      if (s.display === "none" || s.visibility === "hidden") { shown = false; break; }
      const a = el.getBoundingClientRect();
      if (["hidden", "clip"].includes(s.overflowX) && (r.right > a.right + 1 || r.left < a.left - 1))
        report(describe(v.el, v), `cut by its container (${Math.round(r.left)}-${Math.round(r.right)} px in ${Math.round(a.left)}-${Math.round(a.right)} px)`);
      if (s.overflowX !== "visible") { seen.left = Math.max(seen.left, a.left); seen.right = Math.min(seen.right, a.right); }
      if (s.overflowY !== "visible") { seen.top = Math.max(seen.top, a.top); seen.bottom = Math.min(seen.bottom, a.bottom); }
      el = parentOf(el);
    }
    if (!shown) continue;
    const d = describe(v.el, v);
    if (r.right > W + 1 || r.left < -1) report(d, `lies outside the window sideways (${Math.round(r.left)}-${Math.round(r.right)} px of ${W})`);
    leaves.push([v, r, d, seen]);
  }
  for (let i = 0; i < leaves.length; i++) {
    for (let j = i + 1; j < leaves.length; j++) {
      const [, , da, a] = leaves[i], [, , db, b] = leaves[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 3 && h > 3 && !(allowed(da) || allowed(db))) problems.push(`${da} overlaps ${db} (${Math.round(w)}x${Math.round(h)} px)`);
    }
  }

  // 4. Inside each plot's canvas: the title and axis labels fit, and categorical tick labels do not collide.
  const ctx = document.createElement("canvas").getContext("2d");
  const width = (text, font) => { ctx.font = font; return ctx.measureText(text).width; };
  // Bokeh sizes text in em of the plot's own font size; a detached canvas would read em as 10 px.
  const font = (m, prefix, el) => {
    let size = m[prefix + "_font_size"] || "13px";
    if (size.endsWith("em")) size = `${parseFloat(size) * parseFloat(getComputedStyle(el).fontSize)}px`;
    return `${m[prefix + "_font_style"] || "normal"} ${size} ${m[prefix + "_font"] || "helvetica"}`;
  };
  for (const [v, r, d] of leaves) {
    if (!v.frame || !v.model.title) continue;
    const title = v.model.title;
    const plotWidth = v.bbox ? v.bbox.width : r.width;
    if (title && title.text && width(title.text, font(title, "text", v.el)) > plotWidth + 1)
      report(d, `title "${title.text}" is wider (${Math.round(width(title.text, font(title, "text", v.el)))} px) than its plot (${Math.round(plotWidth)} px)`);
    const frame = v.frame.bbox;
    for (const side of ["below", "above", "left", "right"]) {
      for (const axis of v.model[side] || []) {
        if (!axis.type || !axis.type.endsWith("Axis")) continue;
        const along = side === "below" || side === "above" ? frame.width : frame.height;
        const label = axis.axis_label;
        if (label && typeof label === "string" && width(label, font(axis, "axis_label_text", v.el)) > along + 1)
          report(d, `axis label "${label}" is longer than its axis (${Math.round(along)} px)`);
        if (axis.type.endsWith("CategoricalAxis") && (side === "below" || side === "above") && axis.major_label_orientation === "horizontal") {
          const range = v.model.x_range;
          const factors = (range.factors || []).map(f => Array.isArray(f) ? f[f.length - 1] : f);
          if (!factors.length) continue;
          const band = frame.width / factors.length;
          const overrides = axis.major_label_overrides instanceof Map ? axis.major_label_overrides : new Map(Object.entries(axis.major_label_overrides || {}));
          for (const f of factors) {
            const text = overrides.get(f) || String(f);
            const w = width(text, font(axis, "major_label_text", v.el));
            if (w > band) { report(d, `tick label "${text}" (${Math.round(w)} px) is wider than its band (${Math.round(band)} px): labels collide`); break; }
          }
        }
      }
    }
  }
  return problems;
}
"""


def layout_problems(page, allow: Iterable[str] = ()) -> list[str]:
    """One sentence per layout problem on the page as it is now; `allow` names things that may break a
    rule (a substring of the problem's description, e.g. 'DataTabulator')."""
    return page.evaluate(_SCRIPT, list(allow))


def above_fold(page, locator) -> bool:
    """Whether the element lies wholly within the window as the page opened (no scrolling needed)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["x"] >= -1 and box["y"] >= -1 and box["x"] + box["width"] <= size["width"] + 1 \
        and box["y"] + box["height"] <= size["height"] + 1


#: True once Bokeh has drawn every view on show, no tab on show still waits for its content from the server (Panel's
#: dynamic tabs hold a Spacer until then), no model of the page's document has changed and no box on the page has
#: moved for `quiet_ms` (polled; the last layout and the time it was first seen are kept on `window` between polls).
_SETTLED = r"""
(quiet_ms) => {
  if (!window.Bokeh || !Bokeh.index || !Bokeh.documents.length) return false;
  for (const doc of Bokeh.documents) if (!doc.__settleHooked) {
    doc.__settleHooked = true;
    doc.on_change(() => { window.__layoutChanged = performance.now(); });
  }
  const shown = [...Bokeh.index.all_views()].filter(v => v.el && v.el.isConnected && typeof v.el.getBoundingClientRect === "function");
  const boxes = shown.map(v => v.el.getBoundingClientRect());
  const onShow = (i) => boxes[i].width > 1 && boxes[i].height > 1;
  const busy = shown.some((v, i) => onShow(i) && (
    (typeof v.has_finished === "function" && !v.has_finished()) ||
    (v.model.type.endsWith("Tabs") && v.model.tabs[v.model.active] && v.model.tabs[v.model.active].child.type.endsWith("Spacer"))));
  const page = document.scrollingElement;
  const sig = [innerWidth, innerHeight, page.scrollWidth, page.scrollHeight, ...boxes.map(r =>
    `${Math.round(r.left)},${Math.round(r.top)},${Math.round(r.width)},${Math.round(r.height)}`)].join(";");
  const now = performance.now();
  if (busy || window.__layoutSignature !== sig || (window.__layoutChanged || 0) > window.__layoutSince) {
    window.__layoutSignature = sig; window.__layoutSince = now; return false;
  }
  return now - window.__layoutSince >= quiet_ms;
}
"""


def settle(page, quiet_ms: int = 500, timeout: float | None = None) -> None:
    """Wait until Bokeh has drawn what is on show, the server has sent what a tab on show needs, and the page has
    stopped changing: after a page's first render, a tab's click or a resize (Bokeh lays out again when the window
    changes). Waits `quiet_ms` at least; replaces fixed pauses, which were long on a quiet machine and could be
    short on a busy one."""
    page.evaluate("() => { window.__layoutSignature = null; }")
    page.wait_for_function(_SETTLED, arg=quiet_ms, polling=100, **({} if timeout is None else {"timeout": timeout}))


def resize(page, width: int, height: int, quiet_ms: int = 500) -> None:
    """Set the window to `width` x `height` and wait for Bokeh's layout to settle."""
    page.set_viewport_size({"width": width, "height": height})
    settle(page, quiet_ms)
