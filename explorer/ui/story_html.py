"""A training story as one standalone HTML file: the argument, its evidence results and its sweep plots.

The file needs no network and no server: Bokeh's JavaScript is inlined (only the parts the plots use),
and every sweep plot is embedded as a Bokeh document. Story text is user input, so every piece of it
goes through explorer.stories.render: the narrative body through `safe_html` (Markdown, raw HTML shown
as text), everything else through `safe_inline` (escaped); the plots carry only ids and numbers.
"""

from __future__ import annotations

import sys
from typing import Any

from explorer.errors import ExplorerError
from explorer.stories.evidence import code_version
from explorer.stories.export import (
    Findings, class_label, describe_evidence, describe_params, describe_result, describe_sweep,
)
from explorer.stories.model import Story
from explorer.stories.render import safe_html, safe_inline
from explorer.stories.vocabulary import COMPONENTS, CRITERIA, FAILURE_MODES, GOAL_CLASSES, RATIONALE_CLASSES

#: Status colours (Okabe-Ito, as the sweep maps use), with the text colour that reads on each.
STATUS_COLORS = {
    "supported": ("#009E73", "#fff"), "refuted": ("#D55E00", "#fff"), "stale": ("#E69F00", "#000"),
    "undeveloped": ("#BBBBBB", "#000"), "unchecked": ("#56B4E9", "#000"),
}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5; color: #222;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.claim { margin: .4rem 0 .8rem; } .claim .links { color: #555; font-size: .9rem; }
.status { display: inline-block; border-radius: .6rem; padding: 0 .5rem; font-size: .8rem; font-weight: 600; }
.undeveloped-note { font-style: italic; color: #555; }
.sweep { border: 1px solid #ddd; border-radius: .4rem; padding: .5rem 1rem; margin: 1rem 0; }
.plot { width: 100%; min-height: 360px; }
.narrative { border-top: 2px solid #ddd; margin-top: 2rem; padding-top: 1rem; }
footer { color: #777; font-size: .85rem; margin-top: 2rem; }
code { background: #f5f5f5; padding: 0 .2rem; }
"""


def run_sweeps(story: Story, workers: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Each sweep's SweepResult, or the text of why it cannot run (the export still shows the rest)."""
    from explorer.stories.sensitivity import run_sweep

    out: dict[str, Any] = {}
    for sweep in story.sweeps:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=0, desc=f"sweep {sweep.id}", unit="point", file=sys.stderr, leave=False)

        def report(done, total, bar=bar):
            if bar is not None:
                bar.total = total
                bar.update(done - bar.n)

        try:
            out[sweep.id] = run_sweep(story, sweep.id, workers=workers, progress=report)
        except ExplorerError as exc:
            out[sweep.id] = str(exc)
        finally:
            if bar is not None:
                bar.close()
    return out


def _badge(status: str) -> str:
    bg, fg = STATUS_COLORS.get(status, ("#eee", "#000"))
    return f'<span class="status" style="background:{bg};color:{fg}">{safe_inline(status)}</span>'


def _plots(sweeps: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(resources, script, {sweep id: div}) for the sweeps that ran; no Bokeh at all when none did."""
    from explorer.stories.sensitivity import SweepResult

    ran = {sid: r for sid, r in sweeps.items() if isinstance(r, SweepResult)}
    if not ran:
        return "", "", {}
    import holoviews as hv
    from bokeh.embed import components
    from bokeh.resources import INLINE

    from explorer.ui.sweep_map import sweep_plot

    models = {sid: hv.render(sweep_plot(r), backend="bokeh") for sid, r in ran.items()}
    for model in models.values():
        model.sizing_mode = "stretch_width"
    script, divs = components(models)
    try:  # only the Bokeh parts these plots use, as bokeh.embed.file_html picks them
        from bokeh.embed.bundle import Bundle, bundle_for_objs_and_resources

        bundle = bundle_for_objs_and_resources(list(models.values()), INLINE)
        # Inline code only: loaded extensions (Panel's) may add files by URL, which a standalone page
        # cannot fetch and these plain Bokeh plots do not need.
        resources = "".join(Bundle(js_raw=bundle.js_raw, css_raw=bundle.css_raw))
    except ImportError:  # pragma: no cover - an older or newer Bokeh: inline all of it
        resources = INLINE.render()
    return resources, script, divs


def story_html(story: Story, findings: Findings, sweeps: dict[str, Any] | None = None) -> str:
    """The standalone page. `sweeps` maps sweep ids to SweepResults (or why one could not run); None: not run."""
    esc = safe_inline
    resources, script, divs = _plots(sweeps or {})
    parts: list[str] = []
    add = parts.append
    add(f"<h1>{esc(story.title)}</h1>")
    meta = f"Revision {story.revision}" + (f" · by {esc(', '.join(story.authors))}" if story.authors else "")
    add(f'<p class="meta">{meta}</p>')
    add("<ul>")
    add(f"<li><strong>Goal class:</strong> {esc(class_label(story.goal_class, GOAL_CLASSES))}</li>")
    if story.rationale_classes:
        add("<li><strong>Rationale classes:</strong> "
            + "; ".join(esc(class_label(c, RATIONALE_CLASSES)) for c in story.rationale_classes) + "</li>")
    if story.failure_modes:
        add("<li><strong>Failure modes addressed:</strong> "
            + "; ".join(esc(FAILURE_MODES.get(m, m)) for m in story.failure_modes) + "</li>")
    ran = f"run with code version {esc(code_version())}" if findings.ran else "recorded results (not run)"
    add(f"<li><strong>Evidence:</strong> {ran}</li></ul>")

    for name, label in COMPONENTS.items():
        comp = story.components.get(name)
        add(f"<h2>{esc(label)}</h2>")
        if comp is None:
            continue
        if comp.undeveloped or comp.note:
            prefix = "Undeveloped. " if comp.undeveloped else ""
            add(f'<p class="undeveloped-note">{esc(prefix + comp.note)}</p>')
        for c in comp.claims:
            status = findings.claims.get(c.id, "unchecked")
            links = []
            if c.evidence:
                links.append("evidence: " + ", ".join(f'<a href="#ev-{esc(e)}">{esc(e)}</a>' for e in c.evidence))
            if c.rests_on:
                links.append("rests on: " + ", ".join(f'<a href="#claim-{esc(r)}">{esc(r)}</a>' for r in c.rests_on))
            add(f'<div class="claim" id="claim-{esc(c.id)}"><strong>{esc(c.id)}</strong> {_badge(status)} '
                f"{esc(c.text)}" + (f'<div class="links">{"; ".join(links)}</div>' if links else "") + "</div>")

    add("<h2>Criteria</h2><table><tr><th>Criterion</th><th>Rating</th><th>Basis</th><th>Note</th></tr>")
    for name, label in CRITERIA.items():
        crit = story.criteria.get(name)
        if crit is not None:
            add(f"<tr><td>{esc(label)}</td><td>{esc(crit.rating or 'not rated')}</td>"
                f"<td>{esc(', '.join(crit.basis))}</td><td>{esc(crit.note)}</td></tr>")
    add("</table>")

    if story.assumptions:
        add("<h2>Assumptions</h2><table><tr><th>Name</th><th>Parameter</th><th>Nominal</th><th>Range</th>"
            "<th>Note</th></tr>")
        for a in story.assumptions:
            add(f"<tr><td>{esc(a.name)}</td><td>{esc(a.parameter)}</td><td>{a.nominal:g}</td>"
                f"<td>{a.range[0]:g} to {a.range[1]:g}</td><td>{esc(a.note)}</td></tr>")
        add("</table>")

    if story.evidence:
        add("<h2>Evidence</h2><table><tr><th>Id</th><th>What</th><th>Result</th><th>Status</th></tr>")
        for ev in story.evidence:
            what = esc(describe_evidence(story, ev)) + (f"<br><em>{esc(ev.note)}</em>" if ev.note else "")
            status = _badge(findings.evidence.get(ev.id, "unchecked"))
            add(f'<tr id="ev-{esc(ev.id)}"><td>{esc(ev.id)}</td><td>{what}</td>'
                f"<td>{esc(describe_result(ev, findings))}</td><td>{status}</td></tr>")
        add("</table>")

    if story.sweeps:
        from explorer.stories.sensitivity import SweepResult

        add("<h2>Sensitivity sweeps</h2>")
        for s in story.sweeps:
            add(f'<div class="sweep" id="sweep-{esc(s.id)}"><h3>{esc(s.id)}</h3><p>{esc(describe_sweep(s))}</p>')
            if s.params:
                add(f"<p>Fixed parameters: {esc(describe_params(s.params))}</p>")
            if s.note:
                add(f"<p><em>{esc(s.note)}</em></p>")
            result = (sweeps or {}).get(s.id)
            if isinstance(result, SweepResult):
                from explorer.ui.sweep_map import describe

                add(f"<p><strong>{esc(describe(result))}</strong></p>")
                add(f'<div class="plot">{divs[s.id]}</div>')
            elif isinstance(result, str):
                add(f"<p>This sweep could not run:</p><pre>{esc(result)}</pre>")
            else:
                add("<p>Not run (exported with --no-run); run it with <code>story sweep</code>.</p>")
            add("</div>")

    if story.body.strip():
        add(f'<div class="narrative">{safe_html(story.body)}</div>')
    add(f"<footer>Exported by Speed Prior Explorer {esc(code_version())}.</footer>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(story.title)}</title>\n<style>{CSS}</style>\n{resources}\n</head>\n<body>\n"
        + "\n".join(parts) + f"\n{script}\n</body>\n</html>\n"
    )
