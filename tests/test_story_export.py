"""Story exports: Markdown, JSON, GSN YAML in gsn2x's input format, and standalone HTML.

GSN output is checked against gsn2x's own validation rules (its V01-V06 and C01-C04, C08): known id
prefixes, links of sensible types that resolve, undeveloped exactly where nothing supports, one top-level
goal, no supportedBy cycle, everything reachable. HTML is checked to be standalone (no network) and to
carry no script a story smuggled in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from explorer.stories import fileformat
from explorer.stories.evidence import claim_statuses, run_all
from explorer.stories.export import findings, to_gsn, to_json, to_json_data, to_markdown
from explorer.stories.model import Evidence, Predicate

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "stories"
EXAMPLES = sorted(ASSETS.rglob("*.story.md"))
SPEED_PRIOR = ASSETS / "speed-prior.story.md"


def explorer(*args, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def speed_prior():
    story = fileformat.load(SPEED_PRIOR)
    return story, findings(story)


# ---- JSON ------------------------------------------------------------------------------------------

def test_json_holds_the_whole_story_with_results_and_statuses(speed_prior):
    story, found = speed_prior
    data = json.loads(to_json(story, found))
    assert list(data) == ["schema", "title", "authors", "revision", "goal_class", "rationale_classes",
                          "failure_modes", "components", "criteria", "assumptions", "evidence", "sweeps", "body",
                          "ran", "code_version"]
    assert data["title"] == story.title and data["body"] == story.body and data["ran"] is True
    claims = {c["id"]: c for comp in data["components"].values() for c in comp["claims"]}
    assert {cid: c["status"] for cid, c in claims.items()} == claim_statuses(story, run_all(story))
    assert claims["RN5"]["status"] == "refuted" and claims["GD2"]["undeveloped"] is True
    evidence = {e["id"]: e for e in data["evidence"]}
    assert evidence["memory-without-checks"]["result"]["holds"] is False
    assert evidence["beats-simplicity"]["predicate"] == {"metric": "average_speed.posterior.deceptive", "op": "<",
                                                         "other": "simplicity.posterior.deceptive"}
    assert [a["name"] for a in data["assumptions"]] == [a.name for a in story.assumptions]
    assert data["criteria"]["rationale_alignment"]["rating"] == "weak"
    assert [s["id"] for s in data["sweeps"]] == [s.id for s in story.sweeps]


def test_json_is_stable_and_without_a_run_uses_the_record(speed_prior):
    story, found = speed_prior
    assert to_json(story, found) == to_json(story, found)
    data = to_json_data(story, findings(story, run=False))
    assert data["ran"] is False
    assert all("result" not in e for e in data["evidence"])
    # nothing recorded in the library file (a cited claims-matrix cell is judged by the recorded matrix instead)
    assert {e["status"] for e in data["evidence"] if e["kind"] == "simulation"} == {"unchecked"}
    recorded = fileformat.loads(fileformat.dumps(story))
    for ev in recorded.evidence:
        if ev.simulated:
            ev.recorded = found.results[ev.id].recorded()
    data = to_json_data(recorded, findings(recorded, run=False))
    statuses = {c["id"]: c["status"] for comp in data["components"].values() for c in comp["claims"]}
    assert statuses["RN5"] == "refuted" and statuses["RN1"] == "supported"


# ---- Markdown --------------------------------------------------------------------------------------

def test_markdown_report_has_every_part(speed_prior):
    story, found = speed_prior
    md = to_markdown(story, found)
    assert md.startswith(f"# {story.title}\n")
    for cid, status in found.claims.items():
        assert f"**{cid}** ({status})" in md
    assert "## Criteria" in md and "| Rationale alignment: will training actually reach the goal? | weak |" in md
    assert "| overhead | deception_overhead | 1 | 0.25 to 4 |" in md
    assert "0.4118 (fails)" in md and "| memory-without-checks |" in md
    assert md.rstrip().endswith(story.body.rstrip())


def test_markdown_table_cells_cannot_break_the_table(speed_prior):
    story, found = speed_prior
    story = fileformat.loads(fileformat.dumps(story))
    story.criteria["goal_alignment"].note = "a | b\nc"
    row = next(line for line in to_markdown(story, found).splitlines() if line.startswith("| Goal alignment"))
    assert row.count(" | ") == 3 and "a \\| b c" in row


# ---- GSN -------------------------------------------------------------------------------------------

KINDS = {"Sn": "solution", "G": "goal", "S": "strategy", "C": "context", "A": "assumption", "J": "justification"}
ATTRIBUTES = {"text", "supportedBy", "inContextOf", "undeveloped", "classes", "url", "level"}


def _kind(node_id: str) -> str | None:
    return next((k for k in ("Sn", "G", "S", "C", "A", "J") if node_id.startswith(k)), None)


def gsn_problems(doc: dict) -> list[str]:
    """gsn2x's validation (V01-V06) and whole-argument checks (C01-C04, C08) on parsed YAML."""
    nodes = {k: v for k, v in doc.items() if k != "module"}
    problems = []
    referenced = set()
    for nid, node in nodes.items():
        if _kind(nid) is None:
            problems.append(f"V01 {nid}: unknown prefix")
        if not isinstance(node.get("text"), str) or not node["text"].strip():
            problems.append(f"{nid}: no text")
        for key, value in node.items():
            if key not in ATTRIBUTES and not isinstance(value, str):
                problems.append(f"{nid}: additional attribute {key} is not text")
        support, context = node.get("supportedBy", []), node.get("inContextOf", [])
        links = ((support, ("G", "S", "Sn"), "supportedBy"), (context, ("J", "A", "C"), "inContextOf"))
        for refs, allowed, what in links:
            if refs and _kind(nid) not in ("G", "S"):
                problems.append(f"V04 {nid}: a {KINDS.get(_kind(nid))} cannot have {what}")
            if len(set(refs)) != len(refs):
                problems.append(f"V05 {nid}: duplicate in {what}")
            for ref in refs:
                referenced.add(ref)
                if ref == nid:
                    problems.append(f"V06 {nid} refers to itself")
                if _kind(ref) not in allowed:
                    problems.append(f"V04 {nid}: {ref} cannot be in {what}")
                if ref not in nodes:
                    problems.append(f"C03 {nid}: {ref} does not exist")
        if _kind(nid) in ("G", "S"):
            if node.get("undeveloped") and support:
                problems.append(f"V03 {nid}: undeveloped but supported")
            if not node.get("undeveloped") and not support:
                problems.append(f"V02 {nid}: undeveloped but not marked so")
    roots = set(nodes) - referenced
    if len(roots) != 1 or _kind(next(iter(roots))) != "G":
        problems.append(f"C01/C02: top-level elements {sorted(roots)}")
    state: dict[str, int] = {}

    def visit(nid):  # C04: supportedBy cycles
        state[nid] = 1
        for ref in nodes.get(nid, {}).get("supportedBy", []):
            if state.get(ref) == 1:
                problems.append(f"C04 cycle through {nid} -> {ref}")
            elif ref in nodes and ref not in state:
                visit(ref)
        state[nid] = 2

    for nid in nodes:
        if nid not in state:
            visit(nid)
    seen, todo = set(), list(roots)
    while todo:
        nid = todo.pop()
        if nid in seen or nid not in nodes:
            continue
        seen.add(nid)
        todo += nodes[nid].get("supportedBy", []) + nodes[nid].get("inContextOf", [])
    if seen != set(nodes):
        problems.append(f"C08 unreachable: {sorted(set(nodes) - seen)}")
    return problems


def _parse(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(text)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.relative_to(ASSETS).as_posix())
def test_gsn_of_every_example_passes_gsn2x_checks(path):
    story = fileformat.load(path)
    doc = _parse(to_gsn(story, findings(story, run=False), module=path.name))
    assert gsn_problems(doc) == []
    assert doc["module"] == {"name": path.name, "brief": story.title}
    assert {f"G-{cid}" for cid in story.claims()} <= set(doc)
    assert {f"A-{a.name}" for a in story.assumptions} <= set(doc)
    cited = {e for c in story.claims().values() for e in c.evidence}
    assert {k for k in doc if k.startswith("Sn-") and not k.startswith("Sn-sweep-")} == {f"Sn-{e}" for e in cited}
    assert {f"Sn-sweep-{s.id}" for s in story.sweeps} <= set(doc)


def test_gsn_elements_say_what_the_story_says(speed_prior):
    story, found = speed_prior
    doc = _parse(to_gsn(story, found))
    assert doc["G-RN5"]["classes"] == ["status-refuted"] and doc["G-RN5"]["supportedBy"] == ["Sn-memory-without-checks"]
    assert "0.4118 (fails)" in doc["Sn-memory-without-checks"]["text"]
    assert doc["G-GD1"]["supportedBy"] == ["Sn-deploy-holds", "G-GS1"]  # evidence, then the claim it rests on
    assert doc["G-GD2"]["undeveloped"] is True
    assert set(doc["G-RN4"]["inContextOf"]) == {"C-scenario-deception-checks", "A-overhead", "A-check_strength",
                                                "A-w_avg", "A-efficiency"}
    basis = story.criteria["rationale_alignment"].basis
    assert doc["S-rationale_alignment"]["supportedBy"] == [f"G-{c}" for c in basis]
    assert "weak" in doc["S-rationale_alignment"]["text"] and "J-rationale_alignment" in doc
    assert doc["C-goal-class"]["text"].startswith("Goal class: Narrow agent")


def test_gsn_of_a_broken_story_is_still_a_valid_argument(speed_prior):
    """Cycles, dangling references, uncited evidence and an empty component (all `story check` errors)."""
    story, _ = speed_prior
    story = fileformat.loads(fileformat.dumps(story))
    claims = story.claims()
    claims["GS1"].rests_on = ["GD1", "nowhere"]  # GD1 rests on GS1: a cycle
    claims["RN1"].evidence.append("missing")
    story.evidence.append(Evidence(id="uncited", scenario="memory", predicate=Predicate("x.y", "<", 1)))
    story.components["goal_specification"].claims = []
    doc = _parse(to_gsn(story))
    assert gsn_problems(doc) == []
    assert "Sn-uncited" not in doc and "Sn-missing" not in doc
    assert doc["S-goal_specification"]["undeveloped"] is True


# ---- HTML ------------------------------------------------------------------------------------------

XSS = """\
---
schema: 1
title: "<script>alert('title')</script> & co"
revision: 1
goal_class: {custom: "<img src=x onerror=alert('goal')>"}
components:
  goal_specification:
    claims:
      - id: GS1
        text: "<script>alert('claim')</script>"
        evidence: [E1]
  goal_desirability: {undeveloped: true, note: "<b onmouseover=alert('note')>x</b>"}
  rationale_constraints: {undeveloped: true}
  rationale_nudges: {undeveloped: true}
criteria:
  goal_alignment: {rating: weak, basis: [GS1], note: "<iframe src=javascript:alert('crit')>"}
  goal_competitiveness: {rating: weak, basis: [GS1]}
  rationale_alignment: {rating: weak, basis: [GS1]}
  rationale_competitiveness: {rating: weak, basis: [GS1]}
assumptions:
  - name: o</script><script>alert('name')</script>
    parameter: deception_overhead
    nominal: 2.0
    range: [1.0, 4.0]
evidence:
  - id: E1
    scenario: deceptive-planner
    assumptions: [o</script><script>alert('name')</script>]
    predicate: {metric: average_speed.posterior.deceptive, op: <, value: 0.5}
    note: "<svg onload=alert('ev')>"
sweeps:
  - id: s</script><script>alert('sweep')</script>
    scenario: deceptive-planner
    assumptions: [o</script><script>alert('name')</script>]
    points: 3
    fails_safely:
      - {metric: average_speed.actually_good, op: <, value: 0.5}
    fails_catastrophically:
      - {metric: average_speed.posterior.deceptive, op: '>', value: 0.5}
---
# Narrative <script>alert('body')</script>

<img src=x onerror="alert('img')"> [link](javascript:alert('href'))
"""


class _Scan(HTMLParser):
    """Every element, its attributes and the text inside script elements."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _assert_safe_and_standalone(html: str) -> _Scan:
    scan = _Scan()
    scan.feed(html)
    for tag, attrs in scan.tags:
        assert tag not in ("iframe", "img", "svg", "b", "link"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs or tag != "script", "a script loaded from elsewhere"
        assert not any("javascript:" in (value or "") for value in attrs.values()), (tag, attrs)
    for script in scan.scripts:  # story text may be data inside a plot's JSON, but only escaped, never as code
        assert "alert('" not in script and "<script" not in script
    for payload in ("<script>alert('claim')</script>", "<img src=x onerror=alert('goal')>", "<svg onload",
                    "<script>alert('body')</script>", "<b onmouseover", "<iframe"):
        assert payload not in html
    return scan


@pytest.fixture(scope="module")
def xss_story():
    return fileformat.loads(XSS, "xss.story.md")


def test_html_export_runs_sweeps_and_shows_everything_safely(xss_story):
    from explorer.stories.export import export
    from explorer.ui.story_html import sweep_plots

    html = export(xss_story, "html", workers=1, plots=sweep_plots)
    scan = _assert_safe_and_standalone(html)
    assert html.startswith("<!DOCTYPE html>")
    assert any("Bokeh" in s for s in scan.scripts)  # the library, inline
    assert any(tag == "div" and "data-root-id" in attrs for tag, attrs in scan.tags)  # the sweep's plot
    assert "Verdict:" in html and "&lt;script&gt;alert(&#x27;claim&#x27;)&lt;/script&gt;" in html
    assert "supported" in html and "0.08867 (holds)" in html  # the deceptive-planner preset's deceptive mass
    assert "<h1>Narrative &lt;script&gt;alert('body')&lt;/script&gt;</h1>" in html


def test_html_draws_its_plots_with_the_renderer_it_is_given(xss_story):
    """The story package draws nothing itself: the page shows what the renderer returns, where it belongs."""
    from explorer.stories.export import export
    from explorer.stories.sensitivity import SweepResult

    seen = {}

    def plots(ran):
        seen.update(ran)
        return "<!-- head -->", "<!-- end -->", {sid: f"<p>drawn {len(sid)}</p>" for sid in ran}

    html = export(xss_story, "html", workers=1, plots=plots)
    assert len(seen) == 1 and all(isinstance(r, SweepResult) for r in seen.values())
    assert html.index("<!-- head -->") < html.index("</head>") < html.index("<p>drawn") < html.index("<!-- end -->")
    with pytest.raises(TypeError, match="plots"):
        export(xss_story, "html", workers=1)


def test_html_without_a_run_has_no_scripts_at_all(xss_story):
    from explorer.stories.export import export

    html = export(xss_story, "html", run=False)
    scan = _assert_safe_and_standalone(html)
    assert scan.scripts == [] and "Not run" in html
    assert "unchecked" in html


# ---- the command -----------------------------------------------------------------------------------

def test_cli_writes_each_format(tmp_path):
    out = tmp_path / "story.json"
    run = explorer("story", "export", SPEED_PRIOR, "--format", "json", "-o", out)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and "wrote" in run.stderr
    assert json.loads(out.read_text())["title"] == fileformat.load(SPEED_PRIOR).title
    run = explorer("story", "export", SPEED_PRIOR, "--format", "gsn", "--no-run")
    assert run.returncode == 0, run.stderr
    doc = _parse(run.stdout)
    assert gsn_problems(doc) == [] and doc["module"]["name"] == "speed-prior"
    html = tmp_path / "story.html"
    run = explorer("story", "export", ASSETS / "cat-classifier.story.md", "--format", "html", "-o", html)
    assert run.returncode == 0, run.stderr
    _assert_safe_and_standalone(html.read_text())
    run = explorer("story", "export", ASSETS / "microscope-ai.story.md", "--format", "markdown")
    assert run.returncode == 0 and "**RN2** (refuted)" in run.stdout


def test_cli_refuses_broken_stories_and_bad_paths(tmp_path):
    bad = tmp_path / "bad.story.md"
    bad.write_text(SPEED_PRIOR.read_text().replace("scenario: goof-off", "scenario: goof-of"))
    out = tmp_path / "out.md"
    run = explorer("story", "export", bad, "--format", "markdown", "-o", out)
    assert run.returncode == 1 and "error TS-V11" in run.stderr and "bad.story.md:" in run.stderr
    assert not out.exists()
    bad.write_bytes(b"\x00\x01binary")
    run = explorer("story", "export", bad, "--format", "json")
    assert run.returncode == 1 and "TS-F01" in run.stderr and "Traceback" not in run.stderr
    run = explorer("story", "export", SPEED_PRIOR, "--format", "json", "-o", tmp_path / "no" / "such" / "x.json")
    assert run.returncode == 2 and "does not exist" in run.stderr and "Traceback" not in run.stderr
