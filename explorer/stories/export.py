"""A training story in other shapes: a Markdown report, JSON, GSN YAML for gsn2x, and standalone HTML.

The HTML page is one file that needs no network and no server. Its sweep plots are drawn by a renderer
passed in (SweepPlots: the UI's explorer.ui.story_html.sweep_plots inlines Bokeh), so this package never
imports a plotting library. Story text is user input: the narrative body goes through `safe_html`
(Markdown, raw HTML shown as text), everything else through `safe_inline` (escaped).

Every export shows the story together with what is known of its evidence: by default the evidence is
run first (`findings(story)`), so each claim carries its status (supported, refuted, stale, undeveloped,
unchecked); with `run=False` the statuses come from the results recorded in the file.

GSN (Goal Structuring Notation) follows the YAML input of gsn2x (github.com/jonasthewolf/gsn2x): a mapping
of element ids to elements, the id's prefix giving the type (G goal, S strategy, Sn solution, A
assumption, C context, J justification), each with `text` and optional `supportedBy` (goals, strategies,
solutions), `inContextOf` (assumptions, contexts, justifications; only goals and strategies have them),
`undeveloped` and `classes`. The story maps onto it as

    G                 training yields a model meeting the story's goal (the one top-level element)
    S-<component>     one strategy per component, supported by that component's claims
    S-<criterion>     one strategy per criterion, supported by the claims its rating rests on
    S-sensitivity     the sensitivity argument, supported by one solution per sweep
    G-<claim id>      one goal per claim, supported by its evidence and the claims it rests on
    Sn-<evidence id>  one solution per piece of evidence a claim cites
    A-<name>          the story's assumptions, in context of the claims whose evidence uses them
    C-...             the goal class, rationale classes, failure modes and scenarios
    J-...             the notes of components and criteria

so that every element but G is referenced, every link resolves and no `supportedBy` chain is a cycle (a
cyclic `rests_on`, which `story check` reports, loses the link that closes the cycle). Evidence no claim
cites has no place in the argument and is left out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from explorer.errors import ExplorerError
from explorer.stories.cells import describe_cell, describe_verdict
from explorer.stories.evidence import Result, claim_statuses, code_version, evidence_status, run_all
from explorer.stories.model import ClassChoice, Evidence, Predicate, Story, Sweep
from explorer.stories.render import safe_html, safe_inline
from explorer.stories.vocabulary import COMPONENTS, CRITERIA, FAILURE_MODES, GOAL_CLASSES, RATIONALE_CLASSES

FORMATS = ("markdown", "html", "json", "gsn")


# ---- what is known of the evidence -----------------------------------------------------------------

@dataclass(frozen=True)
class Findings:
    """Evidence results (None when not run), each evidence's status and each claim's status."""

    results: dict[str, Result] | None
    evidence: dict[str, str]
    claims: dict[str, str]

    @property
    def ran(self) -> bool:
        return self.results is not None


def findings(story: Story, run: bool = True) -> Findings:
    """Run the story's simulated evidence (or, with run=False, read its recorded results) and judge the claims."""
    results = run_all(story) if run else None
    return Findings(results, {e.id: evidence_status(story, e, results) for e in story.evidence},
                    claim_statuses(story, results))


# ---- small shared helpers --------------------------------------------------------------------------

def class_label(choice: ClassChoice, known: dict[str, str]) -> str:
    """A class choice in words: the vocabulary's label, or the custom description."""
    if choice.custom is not None:
        return f"Custom: {choice.custom}"
    return known.get(choice.id or "", f"{choice.id} (unknown class)")


def describe_params(params: dict[str, Any]) -> str:
    """`name = value, ...` with mappings (kind_mix) written out."""
    def value(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, float):
            return f"{v:g}"
        return str(v).lower() if isinstance(v, bool) else str(v)
    return ", ".join(f"{k} = {value(v)}" for k, v in params.items())


def describe_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "null" if value is None else str(value)


def describe_evidence(story: Story, ev: Evidence) -> str:
    """One line: what the evidence runs and asserts, or what matrix cell or source it cites."""
    if ev.cell is not None:
        return describe_cell(ev.cell)
    if not ev.simulated:
        return f"{ev.source} ({ev.finding})"
    parts = [f"scenario {ev.scenario}"]
    if ev.params:
        parts.append(f"with {describe_params(ev.params)}")
    if ev.assumptions:
        parts.append(f"assumptions {', '.join(ev.assumptions)} at their nominal values")
    if ev.predicate is not None:
        parts.append(f"predicate {ev.predicate.describe()}")
    return "; ".join(parts)


def describe_result(ev: Evidence, findings_: Findings) -> str:
    """What running (or the record) found: `0.0091 (holds)`, `refutes`, `not run`."""
    if ev.cell is not None:
        return describe_verdict(ev.cell)
    if not ev.simulated:
        return ev.finding or ""
    r = findings_.results.get(ev.id) if findings_.results is not None else None
    if r is None and ev.recorded is not None:
        rec = ev.recorded
        shown = describe_value(rec.value) + (f" vs {describe_value(rec.other)}" if rec.other is not None else "")
        return f"{shown} ({'holds' if rec.holds else 'fails'}, recorded)"
    if r is None:
        return "not run"
    shown = describe_value(r.value) + (f" vs {describe_value(r.other)}" if r.other is not None else "")
    return f"{shown} ({'holds' if r.holds else 'fails'})"


def describe_sweep(sweep: Sweep) -> str:
    def cond(preds: list[Predicate]) -> str:
        return " and ".join(p.describe() for p in preds) or "never"
    n = len(sweep.assumptions)
    size = f"{sweep.points} Morris trajectories" if n > 2 else f"{sweep.points} points" + (" each" if n == 2 else "")
    return (f"scenario {sweep.scenario}, varying {', '.join(sweep.assumptions)} ({size}); "
            f"fails safely when {cond(sweep.fails_safely)}; "
            f"fails catastrophically when {cond(sweep.fails_catastrophically)}")


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    return value


# ---- JSON ------------------------------------------------------------------------------------------

def _predicate_data(p: Predicate) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": p.metric, "op": p.op}
    if p.other is not None:
        out["other"] = p.other
    else:
        out["value"] = p.value
    return out


def _choice_data(choice: ClassChoice, known: dict[str, str]) -> dict[str, Any]:
    if choice.custom is not None:
        return {"custom": choice.custom}
    return {"id": choice.id, "label": known.get(choice.id or "")}


def to_json_data(story: Story, findings_: Findings | None = None) -> dict[str, Any]:
    """The whole story as plain JSON data, keys in a fixed order; with findings, results and statuses too."""
    f = findings_ or findings(story, run=False)
    components = {}
    for name in COMPONENTS:
        comp = story.components.get(name)
        if comp is None:
            continue
        claims = [{"id": c.id, "text": c.text, "evidence": list(c.evidence), "rests_on": list(c.rests_on),
                   "undeveloped": c.undeveloped, "status": f.claims.get(c.id, "unchecked")} for c in comp.claims]
        components[name] = {"label": COMPONENTS[name], "undeveloped": comp.undeveloped, "note": comp.note,
                            "claims": claims}
    criteria = {name: {"label": CRITERIA[name], "rating": crit.rating, "basis": list(crit.basis), "note": crit.note}
                for name, crit in story.criteria.items() if name in CRITERIA}
    evidence = []
    for ev in story.evidence:
        item: dict[str, Any] = {"id": ev.id, "kind": "cell" if ev.cell is not None else
                                "simulation" if ev.simulated else "source"}
        if ev.cell is not None:
            c = ev.cell
            item.update(cell={"scenario": c.scenario, "world": c.world, "op": c.op, "share": c.share, "by": c.by})
        elif ev.simulated:
            item.update(scenario=ev.scenario, params=dict(ev.params), assumptions=list(ev.assumptions),
                        predicate=_predicate_data(ev.predicate) if ev.predicate is not None else None)
        else:
            item.update(source=ev.source, finding=ev.finding)
        item["note"] = ev.note
        if ev.recorded is not None:
            r = ev.recorded
            item["recorded"] = {"holds": r.holds, "value": r.value, "other": r.other, "params": dict(r.params),
                                "code_version": r.code_version}
        if f.results is not None and ev.id in f.results:
            r = f.results[ev.id]
            item["result"] = {"holds": r.holds, "value": r.value, "other": r.other, "params": dict(r.params),
                              "code_version": r.code_version}
        item["status"] = f.evidence.get(ev.id, "unchecked")
        evidence.append(item)
    data = {
        "schema": story.schema,
        "title": story.title,
        "authors": list(story.authors),
        "revision": story.revision,
        "goal_class": _choice_data(story.goal_class, GOAL_CLASSES),
        "rationale_classes": [_choice_data(c, RATIONALE_CLASSES) for c in story.rationale_classes],
        "failure_modes": [{"id": m, "label": FAILURE_MODES.get(m)} for m in story.failure_modes],
        "components": components,
        "criteria": criteria,
        "assumptions": [{"name": a.name, "parameter": a.parameter, "nominal": a.nominal, "range": list(a.range),
                         "note": a.note} for a in story.assumptions],
        "evidence": evidence,
        "sweeps": [{"id": s.id, "scenario": s.scenario, "params": dict(s.params), "assumptions": list(s.assumptions),
                    "points": s.points, "fails_safely": [_predicate_data(p) for p in s.fails_safely],
                    "fails_catastrophically": [_predicate_data(p) for p in s.fails_catastrophically],
                    "output": s.output, "note": s.note} for s in story.sweeps],
        "body": story.body,
        "ran": f.ran,
        "code_version": code_version(),
    }
    return _plain_json(data)


def to_json(story: Story, findings_: Findings | None = None) -> str:
    return json.dumps(to_json_data(story, findings_), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ---- Markdown --------------------------------------------------------------------------------------

def _cell(text: Any) -> str:
    """Text fit for one Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(*cells: Any) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _para(text: str) -> str:
    return " ".join(text.split())


def to_markdown(story: Story, findings_: Findings | None = None) -> str:
    """A readable report: classes, claims with statuses, criteria, assumptions, evidence, sweeps, narrative."""
    f = findings_ or findings(story, run=False)
    out = [f"# {_para(story.title)}", ""]
    meta = [f"Revision {story.revision}"]
    if story.authors:
        meta.append("by " + ", ".join(_para(a) for a in story.authors))
    out += [" · ".join(meta), ""]
    out.append(f"- **Goal class:** {_para(class_label(story.goal_class, GOAL_CLASSES))}")
    if story.rationale_classes:
        out.append("- **Rationale classes:** "
                   + "; ".join(_para(class_label(c, RATIONALE_CLASSES)) for c in story.rationale_classes))
    if story.failure_modes:
        out.append("- **Failure modes addressed:** "
                   + "; ".join(f"{FAILURE_MODES.get(m, m)} ({m})" for m in story.failure_modes))
    ran = f"run with code version {code_version()}" if f.ran else "recorded results (not run)"
    out.append(f"- **Evidence:** {ran}")
    out.append("")
    for name, label in COMPONENTS.items():
        comp = story.components.get(name)
        out += [f"## {label}", ""]
        if comp is None or (not comp.claims and not comp.undeveloped):
            out += ["*No claims.*", ""]
            continue
        if comp.undeveloped:
            out += ["*Undeveloped.*" + (f" {_para(comp.note)}" if comp.note else ""), ""]
        elif comp.note:
            out += [_para(comp.note), ""]
        for c in comp.claims:
            out.append(f"- **{c.id}** ({f.claims.get(c.id, 'unchecked')}): {_para(c.text)}")
            links = []
            if c.evidence:
                links.append("evidence: " + ", ".join(c.evidence))
            if c.rests_on:
                links.append("rests on: " + ", ".join(c.rests_on))
            if links:
                out.append(f"  - {'; '.join(links)}")
        out.append("")
    out += ["## Criteria", "", "| Criterion | Rating | Basis | Note |", "|---|---|---|---|"]
    for name, label in CRITERIA.items():
        crit = story.criteria.get(name)
        if crit is None:
            continue
        out.append(_row(label, crit.rating or "not rated", ", ".join(crit.basis), crit.note))
    out.append("")
    if story.assumptions:
        out += ["## Assumptions", "", "| Name | Parameter | Nominal | Range | Note |", "|---|---|---|---|---|"]
        for a in story.assumptions:
            out.append(_row(a.name, a.parameter, f"{a.nominal:g}", f"{a.range[0]:g} to {a.range[1]:g}", a.note))
        out.append("")
    if story.evidence:
        out += ["## Evidence", "", "| Id | What | Result | Status |", "|---|---|---|---|"]
        for ev in story.evidence:
            what = describe_evidence(story, ev) + (f". {ev.note}" if ev.note else "")
            out.append(_row(ev.id, what, describe_result(ev, f), f.evidence.get(ev.id, "unchecked")))
        out.append("")
    if story.sweeps:
        out += ["## Sensitivity sweeps", ""]
        for s in story.sweeps:
            out.append(f"- **{s.id}**: {_para(describe_sweep(s))}" + (f". {_para(s.note)}" if s.note else ""))
        out.append("")
    if story.body.strip():
        out += ["---", "", story.body.rstrip("\n"), ""]
    return "\n".join(out)


# ---- GSN (gsn2x YAML) ------------------------------------------------------------------------------

def _acyclic_rests_on(story: Story) -> dict[str, list[str]]:
    """Each claim's rests_on restricted to defined claims, dropping any link that would close a cycle."""
    claims = story.claims()
    edges: dict[str, list[str]] = {cid: [] for cid in claims}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            at = todo.pop()
            if at == goal:
                return True
            if at not in seen:
                seen.add(at)
                todo.extend(edges[at])
        return False

    for cid, claim in claims.items():
        for ref in claim.rests_on:
            if ref in claims and ref not in edges[cid] and not reaches(ref, cid):
                edges[cid].append(ref)
    return edges


def gsn_data(story: Story, findings_: Findings | None = None, module: str = "story") -> dict[str, Any]:
    """The story as gsn2x elements (see the module docstring), in reading order."""
    f = findings_ or findings(story, run=False)
    claims = story.claims()
    evidence = story.evidence_by_id()
    assumptions = story.assumption_by_name()
    nodes: dict[str, dict[str, Any]] = {}
    used: set[str] = set()  # ids some element refers to

    def link(node: dict[str, Any], key: str, ids: list[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if ids:
            node[key] = ids
            used.update(ids)

    top: dict[str, Any] = {"text": f"Training yields a model that meets the goal of the story '{story.title}'"}
    nodes["G"] = top
    top_context = ["C-goal-class"]
    contexts: dict[str, dict[str, Any]] = {
        "C-goal-class": {"text": "Goal class: " + class_label(story.goal_class, GOAL_CLASSES)}}
    for i, choice in enumerate(story.rationale_classes, start=1):
        contexts[f"C-rationale-{i}"] = {"text": "Rationale class: " + class_label(choice, RATIONALE_CLASSES)}
        top_context.append(f"C-rationale-{i}")
    if story.failure_modes:
        contexts["C-failure-modes"] = {"text": "Failure modes addressed: "
                                       + "; ".join(FAILURE_MODES.get(m, m) for m in story.failure_modes)}
        top_context.append("C-failure-modes")

    def scenario_context(scenario: str) -> str:
        cid = f"C-scenario-{scenario}"
        if cid not in contexts:
            from explorer.scenarios import SCENARIOS

            title = SCENARIOS[scenario].title if scenario in SCENARIOS else "unknown scenario"
            contexts[cid] = {"text": f"Scenario {scenario}: {title}"}
        return cid

    strategies: dict[str, dict[str, Any]] = {}
    justifications: dict[str, dict[str, Any]] = {}
    top_support = []
    for name, label in COMPONENTS.items():
        comp = story.components.get(name)
        sid = f"S-{name}"
        node: dict[str, Any] = {"text": f"Argue over the claims of the {label[0].lower()}{label[1:]}"}
        link(node, "supportedBy", [f"G-{c.id}" for c in (comp.claims if comp else [])])
        if "supportedBy" not in node:
            node["undeveloped"] = True
        if comp is not None and comp.note:
            justifications[f"J-{name}"] = {"text": comp.note}
            link(node, "inContextOf", [f"J-{name}"])
        strategies[sid] = node
        top_support.append(sid)
    for name, label in CRITERIA.items():
        crit = story.criteria.get(name)
        if crit is None:
            continue
        sid = f"S-{name}"
        question = label.partition(":")[0]
        node = {"text": f"{question}, rated {crit.rating or 'not rated'}: argue from the claims the rating rests on"}
        link(node, "supportedBy", [f"G-{c}" for c in crit.basis if c in claims])
        if "supportedBy" not in node:
            node["undeveloped"] = True
        if crit.note:
            justifications[f"J-{name}"] = {"text": crit.note}
            link(node, "inContextOf", [f"J-{name}"])
        node["classes"] = [f"rating-{crit.rating or 'none'}"]
        strategies[sid] = node
        top_support.append(sid)

    solutions: dict[str, dict[str, Any]] = {}
    goals: dict[str, dict[str, Any]] = {}
    rests_on = _acyclic_rests_on(story)
    for cid, claim in claims.items():
        status = f.claims.get(cid, "unchecked")
        node = {"text": f"{cid} ({status}): {claim.text}"}
        cited = [e for e in claim.evidence if e in evidence]
        for eid in cited:
            ev = evidence[eid]
            if f"Sn-{eid}" not in solutions:
                solutions[f"Sn-{eid}"] = {"text": f"{eid}: {describe_evidence(story, ev)} -> {describe_result(ev, f)}",
                                          "classes": [f"status-{f.evidence.get(eid, 'unchecked')}"]}
        link(node, "supportedBy", [f"Sn-{e}" for e in cited] + [f"G-{r}" for r in rests_on[cid]])
        if "supportedBy" not in node:
            node["undeveloped"] = True
        context = []
        for eid in cited:
            ev = evidence[eid]
            if ev.simulated and ev.scenario:
                context.append(scenario_context(ev.scenario))
            context += [f"A-{a}" for a in ev.assumptions if a in assumptions]
        link(node, "inContextOf", context)
        node["classes"] = [f"status-{status}"]
        goals[f"G-{cid}"] = node

    if story.sweeps:
        node = {"text": "Argue over how far the assumptions can move before the story fails (sensitivity sweeps)"}
        context = []
        for s in story.sweeps:
            solutions[f"Sn-sweep-{s.id}"] = {"text": f"Sweep {s.id}: {describe_sweep(s)}"}
            context += [scenario_context(s.scenario)] + [f"A-{a}" for a in s.assumptions if a in assumptions]
        link(node, "supportedBy", [f"Sn-sweep-{s.id}" for s in story.sweeps])
        link(node, "inContextOf", context)
        strategies["S-sensitivity"] = node
        top_support.append("S-sensitivity")

    assumption_nodes = {}
    for a in story.assumptions:
        text = f"{a.name} = {a.nominal:g} (plausible from {a.range[0]:g} to {a.range[1]:g}); sets {a.parameter}"
        assumption_nodes[f"A-{a.name}"] = {"text": text + (f". {a.note}" if a.note else "")}
    top_context += [aid for aid in assumption_nodes if aid not in used]  # every element is referenced once at least
    link(top, "supportedBy", top_support)
    link(top, "inContextOf", top_context)

    out: dict[str, Any] = {"module": {"name": module, "brief": story.title}}
    for part in (nodes, strategies, goals, solutions, assumption_nodes, contexts, justifications):
        out.update(part)
    return out


def to_gsn(story: Story, findings_: Findings | None = None, module: str = "story") -> str:
    """gsn2x input YAML (`gsn2x FILE.gsn.yaml` draws it)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def node(value):
        if isinstance(value, dict):
            return CommentedMap((k, node(v)) for k, v in value.items())
        if isinstance(value, list):
            seq = CommentedSeq(value)
            seq.fa.set_flow_style()
            return seq
        return value

    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096  # one line per element text and per list of links: gsn2x does not mind long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    buf.write(f"# GSN argument of the training story '{' '.join(story.title.split())}' (revision {story.revision}),\n"
              "# exported by Speed Prior Explorer for gsn2x.\n")
    data = CommentedMap()
    for key, value in gsn_data(story, findings_, module).items():
        data[key] = node(value)
    yaml.dump(data, buf)
    return buf.getvalue()


# ---- standalone HTML ------------------------------------------------------------------------------

#: Draws the sweeps that ran, for the page: given {sweep id: SweepResult}, returns (resources, script,
#: {sweep id: HTML}): what goes in the page's <head> (the plotting library, inlined), what goes at the end
#: of its <body>, and the HTML shown for each sweep (its verdict in words and its plot). The UI passes
#: explorer.ui.story_html.sweep_plots; the story package itself draws nothing.
SweepPlots = Callable[[dict[str, Any]], tuple[str, str, dict[str, str]]]

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



def run_sweeps(story: Story, workers: int | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Each sweep's SweepResult, or the text of why it cannot run (the export still shows the rest).
    `progress(sweep id, done, total)` is called as each sweep's points finish."""
    from explorer.stories.sensitivity import run_sweep

    out: dict[str, Any] = {}
    for sweep in story.sweeps:
        report = (lambda done, total, sid=sweep.id: progress(sid, done, total)) if progress else None
        try:
            out[sweep.id] = run_sweep(story, sweep.id, workers=workers, progress=report)
        except ExplorerError as exc:
            out[sweep.id] = str(exc)
    return out


def _badge(status: str) -> str:
    bg, fg = STATUS_COLORS.get(status, ("#eee", "#000"))
    return f'<span class="status" style="background:{bg};color:{fg}">{safe_inline(status)}</span>'


def story_html(story: Story, findings: Findings, sweeps: dict[str, Any] | None = None,
               plots: SweepPlots | None = None) -> str:
    """The standalone page. `sweeps` maps sweep ids to SweepResults (or why one could not run); None: not run.
    `plots` draws the sweeps that ran (see SweepPlots); it is needed only when one did."""
    from explorer.stories.sensitivity import SweepResult

    esc = safe_inline
    ran = {sid: r for sid, r in (sweeps or {}).items() if isinstance(r, SweepResult)}
    if ran and plots is None:
        raise TypeError("story_html: sweeps ran, so it needs `plots`, a SweepPlots renderer (explorer.ui.story_html.sweep_plots)")
    resources, script, shown = plots(ran) if ran else ("", "", {})
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
        add("<h2>Sensitivity sweeps</h2>")
        for s in story.sweeps:
            add(f'<div class="sweep" id="sweep-{esc(s.id)}"><h3>{esc(s.id)}</h3><p>{esc(describe_sweep(s))}</p>')
            if s.params:
                add(f"<p>Fixed parameters: {esc(describe_params(s.params))}</p>")
            if s.note:
                add(f"<p><em>{esc(s.note)}</em></p>")
            result = (sweeps or {}).get(s.id)
            if isinstance(result, SweepResult):
                add(shown[s.id])
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


# ---- any format -------------------------------------------------------------------------------------

def export(story: Story, fmt: str, run: bool = True, name: str = "story", workers: int | None = None,
           progress: Callable[[str, int, int], None] | None = None, plots: SweepPlots | None = None) -> str:
    """The story in format `fmt` (one of FORMATS). HTML also runs the story's sweeps unless run=False, and
    draws them with `plots` (see SweepPlots; `progress` as run_sweeps takes it)."""
    if fmt not in FORMATS:
        raise ExplorerError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")
    f = findings(story, run=run)
    if fmt == "json":
        return to_json(story, f)
    if fmt == "markdown":
        return to_markdown(story, f)
    if fmt == "gsn":
        return to_gsn(story, f, module=name)
    sweeps = run_sweeps(story, workers=workers, progress=progress) if run else None
    return story_html(story, f, sweeps, plots)
