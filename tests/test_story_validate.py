"""Story validation: every TS-V code, each asserted with the line it points at.

Stories are built as text from one good story with a small change, and the expected line is found by
searching the text for a marker, so the tests say *which* line without counting by hand.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.stories import evidence as evidence_mod
from explorer.stories.fileformat import dumps, loads
from explorer.stories.messages import CODES, Message
from explorer.stories.model import Claim, Component, Criterion, Evidence, Story
from explorer.stories.validate import validate, validate_text
from explorer.stories.vocabulary import COMPONENTS, CRITERIA

GOOD = """\
---
schema: 1
title: A small speed-prior story
authors: [E1]
revision: 1
goal_class: narrow-agent
rationale_classes:
  - inductive-bias-analysis
  - {custom: a hand-written rationale}
failure_modes:
  - deceptive-alignment
components:
  goal_specification:
    claims:
      - id: GS1
        text: An honest solver is what we want.
        evidence: [E1]
  goal_desirability:
    undeveloped: true
  rationale_constraints:
    undeveloped: true
  rationale_nudges:
    claims:
      - id: RN1
        text: The average-case prior leaves little mass on deceptive programs.
        evidence: [E1, E2, X1]
        rests_on: [GS1]
criteria:
  goal_alignment: {rating: moderate, basis: [GS1]}
  goal_competitiveness: {rating: weak, basis: [GS1]}
  rationale_alignment:
    rating: moderate
    basis: [RN1]
  rationale_competitiveness: {rating: unknown, basis: [RN1]}
assumptions:
  - name: overhead
    parameter: deception_overhead
    nominal: 2.0
    range: [0.5, 4.0]
evidence:
  - id: E1
    scenario: deceptive-planner
    params: {n_programs: 20000, w_avg: 2.0}
    assumptions: [overhead]
    predicate: {metric: average_speed.posterior.deceptive, op: "<", value: 0.25}
  - id: E2
    scenario: deceptive-planner
    params: {n_programs: 20000}
    predicate: {metric: average_speed.map.kind, op: "==", value: honest}
  - id: X1
    source: A paper
    finding: supports
sweeps:
  - id: S1
    scenario: deceptive-planner
    params: {n_programs: 20000}
    assumptions: [overhead]
    points: 5
    fails_safely:
      - {metric: average_speed.actually_good, op: "<", value: 0.5}
    fails_catastrophically:
      - {metric: average_speed.posterior.deceptive, op: ">", value: 0.5}
---
# A small story
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in the story text"
    return hits[nth - 1]


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def messages(text: str) -> list[Message]:
    return validate(loads(text, "t.story.md"), "t.story.md")


def only(text: str, code: str) -> list[Message]:
    found = [m for m in messages(text) if m.code == code]
    assert found, f"no {code} in {[str(m) for m in messages(text)]}"
    return found


def test_good_story_has_no_messages():
    assert messages(GOOD) == []


def test_messages_are_one_located_line_each_and_sorted():
    text = edit("evidence: [E1]\n", "evidence: [E9]\n", edit("rating: weak", "rating: wobbly"))
    found = messages(text)
    assert found and [m.line for m in found] == sorted(m.line for m in found)
    for m in found:
        assert "\n" not in str(m) and str(m).startswith(f"t.story.md:{m.line}: error TS-V")


# ---- one case per problem: (name, text, code, line marker, words the message must contain) ----------

CASES = [
    # TS-V01: a component with no claims, not marked undeveloped (present but empty, or absent)
    ("empty component", edit("  rationale_constraints:\n    undeveloped: true\n", "  rationale_constraints: {}\n"),
     "TS-V01", "  rationale_constraints:", ["rationale_constraints", "undeveloped"]),
    ("absent component", edit("  goal_desirability:\n    undeveloped: true\n", ""),
     "TS-V01", "components:", ["goal_desirability"]),
    # TS-V02: unknown words
    ("goal class", edit("goal_class: narrow-agent", "goal_class: narrow-agnet"),
     "TS-V02", "goal_class:", ["narrow-agnet", "did you mean narrow-agent", "myopic-agent"]),
    ("rationale class", edit("  - inductive-bias-analysis", "  - vibes"),
     "TS-V02", "  - vibes", ["vibes", "inductive-bias-analysis"]),
    ("failure mode", edit("  - deceptive-alignment", "  - deceptive-alignmnet"),
     "TS-V02", "deceptive-alignmnet", ["failure mode", "did you mean deceptive-alignment"]),
    ("rating", edit("rating: weak", "rating: wobbly"), "TS-V02", "goal_competitiveness:", ["wobbly", "strong"]),
    ("finding", edit("finding: supports", "finding: agrees"), "TS-V02", "- id: X1", ["agrees", "supports, refutes"]),
    ("operator", edit('op: ">", value: 0.5', 'op: "=>", value: 0.5'),
     "TS-V02", "op: \"=>\"", ["'=>'", "<, <=, >, >=, ==, !="]),
    # TS-V03: a claim with no evidence
    ("no evidence", edit("        evidence: [E1, E2, X1]\n", ""), "TS-V03", "- id: RN1",
     ["claim RN1 has no evidence and is not marked undeveloped", "resting on GS1 is not evidence"]),
    # TS-V04: dangling references
    ("claim evidence", edit("evidence: [E1]\n", "evidence: [E11]\n"), "TS-V04", "- id: GS1",
     ["claim GS1 cites evidence E11", "did you mean E1"]),
    ("evidence is a claim", edit("evidence: [E1]\n", "evidence: [RN1]\n"), "TS-V04", "- id: GS1",
     ["RN1 is a claim, so list it under rests_on"]),
    ("rests_on", edit("rests_on: [GS1]", "rests_on: [GS2]"), "TS-V04", "- id: RN1", ["rests on claim GS2"]),
    ("basis", edit("basis: [RN1]\n", "basis: [RN2]\n"), "TS-V04", "    basis: [RN2]", ["rationale_alignment", "RN2"]),
    ("evidence assumption", edit("assumptions: [overhead]\n    predicate", "assumptions: [overhed]\n    predicate"),
     "TS-V04", "- id: E1", ["assumption overhed", "did you mean overhead"]),
    ("sweep assumption", edit("assumptions: [overhead]\n    points", "assumptions: [memory]\n    points"),
     "TS-V04", "- id: S1", ["sweep S1 uses assumption memory"]),
    # TS-V05: cycles
    ("cycle", edit("        evidence: [E1]\n", "        evidence: [E1]\n        rests_on: [RN1]\n"),
     "TS-V05", "- id: GS1", ["GS1 -> RN1 -> GS1"]),
    ("self cycle", edit("rests_on: [GS1]", "rests_on: [RN1]"), "TS-V05", "- id: RN1", ["RN1 -> RN1"]),
    # TS-V06: metrics the scenario does not produce
    ("metric typo", edit("average_speed.posterior.deceptive, op: \"<\"", "average_speed.posterior.deceptiv, op: \"<\""),
     "TS-V06", "predicate: {metric: average_speed.posterior.deceptiv",
     ["did you mean average_speed.posterior.deceptive"]),
    ("kind not in mix", edit("metric: average_speed.map.kind", "metric: simplicity.posterior.goof_off"),
     "TS-V06", "simplicity.posterior.goof_off", ["no goof_off programs", "kind_mix"]),
    ("unknown prior", edit("metric: average_speed.map.kind", "metric: mean_speed.map.kind"),
     "TS-V06", "mean_speed.map.kind", ["PRIOR.METRIC", "average_speed"]),
    ("other metric", edit('op: "==", value: honest', 'op: "==", other: combined.map.knd'),
     "TS-V06", "combined.map.knd", ["combined.map.knd"]),
    ("sweep metric", edit("average_speed.actually_good", "average_speed.actualy_good"),
     "TS-V06", "average_speed.actualy_good", ["sweep S1", "did you mean average_speed.actually_good"]),
    ("sweep output", edit("    points: 5\n", "    points: 5\n    output: average_speed.nothing\n"),
     "TS-V06", "output: average_speed.nothing", ["sweep S1's output"]),
    # TS-V07: values outside ranges and bounds
    ("nominal outside range", edit("nominal: 2.0", "nominal: 5.0"), "TS-V07", "- name: overhead",
     ["nominal value 5 is outside its range [0.5, 4]"]),
    ("range outside bounds", edit("range: [0.5, 4.0]", "range: [0.5, 40.0]"), "TS-V07", "- name: overhead",
     ["deception_overhead", "a number in [0, 10]"]),
    ("literal outside bounds", edit("w_avg: 2.0}", "w_avg: 200}"),
     "TS-V07", "w_avg: 200", ["w_avg to 200, outside what w_avg allows: a number in [0, 100]"]),
    ("selector value", edit("params: {n_programs: 20000}\n    predicate",
                            "params: {n_programs: 20000, difficulty_distribution: normal}\n    predicate"),
     "TS-V07", "difficulty_distribution: normal", ["uniform, log-uniform, easy-heavy"]),
    ("kind mix", edit("params: {n_programs: 20000}\n    predicate",
                      "params: {n_programs: 20000, kind_mix: {honest: 1, saint: 1}}\n    predicate"),
     "TS-V07", "saint", ["unknown kind", "saint"]),
    ("across parameters", edit("params: {n_programs: 20000}\n    predicate",
                               "params: {n_programs: 20000, difficulty_min: 50, difficulty_max: 5}\n    predicate"),
     "TS-V07", "- id: E2", ["difficulty_min (50) must be below difficulty_max (5)"]),
    # TS-V08: criteria without rating or basis
    ("no rating", edit("{rating: weak, basis: [GS1]}", "{basis: [GS1]}"), "TS-V08", "goal_competitiveness:",
     ["goal_competitiveness has no rating"]),
    ("no basis", edit("{rating: unknown, basis: [RN1]}", "{rating: unknown}"), "TS-V08", "rationale_competitiveness:",
     ["rationale_competitiveness has no basis"]),
    ("absent criterion", edit("  goal_alignment: {rating: moderate, basis: [GS1]}\n", ""), "TS-V08", "criteria:",
     ["goal_alignment has no rating and no basis"]),
    # TS-V10: names defined twice (the message points at the second, and names the first)
    ("duplicate claim", edit("      - id: RN1\n", "      - id: GS1\n"), "TS-V10", ("- id: GS1", 2), ["claim id GS1"]),
    ("duplicate evidence", edit("  - id: E2\n", "  - id: E1\n"), "TS-V10", ("  - id: E1", 2), ["evidence id E1"]),
    ("duplicate assumption", edit("assumptions:\n  - name: overhead\n",
                                  "assumptions:\n  - name: overhead\n    parameter: memory\n    nominal: 0.1\n"
                                  "    range: [0, 0.5]\n  - name: overhead\n"),
     "TS-V10", ("  - name: overhead", 2), ["assumption name overhead"]),
    ("duplicate sweep", GOOD.replace("---\n# A small story",
                                     "  - id: S1\n    scenario: memory\n    assumptions: [overhead]\n"
                                     "    fails_safely: []\n    fails_catastrophically: []\n---\n# A small story"),
     "TS-V10", ("  - id: S1", 2), ["sweep id S1"]),
    # TS-V11: unknown scenario or parameter, wrong value type
    ("scenario", edit("scenario: deceptive-planner\n    params: {n_programs: 20000, w_avg",
                      "scenario: deceptive-planer\n    params: {n_programs: 20000, w_avg"),
     "TS-V11", "- id: E1", ["deceptive-planer", "did you mean deceptive-planner"]),
    ("sweep scenario", edit("scenario: deceptive-planner\n    params: {n_programs: 20000}\n    assumptions",
                            "scenario: nowhere\n    params: {n_programs: 20000}\n    assumptions"),
     "TS-V11", "- id: S1", ["sweep S1 uses unknown scenario 'nowhere'"]),
    ("parameter", edit("w_avg: 2.0}", "w_average: 2.0}"), "TS-V11", "w_average", ["w_average", "did you mean w_avg"]),
    ("value type", edit("w_avg: 2.0}", "w_avg: lots}"), "TS-V11", "w_avg: lots",
     ["w_avg to 'lots' (text)", "a number"]),
    ("integer type", edit("n_programs: 20000, w_avg", "n_programs: 2.5e4, w_avg"), "TS-V11", "n_programs: 2.5e4",
     ["25000.0 (a decimal number)", "an integer"]),
    ("assumption parameter", edit("parameter: deception_overhead", "parameter: deception_overheat"),
     "TS-V11", "- name: overhead", ["deception_overheat", "did you mean deception_overhead"]),
    ("assumption on an integer", edit("parameter: deception_overhead\n    nominal: 2.0\n    range: [0.5, 4.0]",
                                      "parameter: n_tasks\n    nominal: 20.0\n    range: [10.0, 40.0]"),
     "TS-V11", "- name: overhead", ["n_tasks", "as a literal in params"]),
    # TS-V14: predicates that can never hold
    ("kind typo", edit("value: honest", "value: honset"), "TS-V14", "value: honset", ["did you mean honest"]),
    ("kind against a number", edit("value: honest", "value: 3"), "TS-V14", "value: 3", ["program kind"]),
    ("number against text", edit('op: "<", value: 0.25', 'op: "<", value: low'), "TS-V14", "value: low",
     ["is a number and 'low' is text"]),
    ("null", edit('op: "<", value: 0.25', 'op: "<", value: null'), "TS-V14", "value: null",
     ["< null", "its value is null"]),
    ("ordered kinds", edit('op: "==", value: honest', 'op: "<", value: honest'), "TS-V14", "value: honest",
     ["kinds, which have no order"]),
    ("kind against number metric", edit('op: "==", value: honest', 'op: "==", other: simplicity.deploy_perf'),
     "TS-V14", "other: simplicity.deploy_perf", ["a kind with a number"]),
]

WARNING_CASES = [
    ("unused assumption", edit("assumptions:\n  - name: overhead\n",
                               "assumptions:\n  - name: spare\n    parameter: memory\n    nominal: 0.1\n"
                               "    range: [0, 0.5]\n  - name: overhead\n"),
     "TS-V13", "- name: spare", ["assumption spare is used by no evidence and no sweep"]),
    ("sweep of nothing", edit("assumptions: [overhead]\n    points", "assumptions: []\n    points"),
     "TS-V13", "- id: S1", ["varies no assumption"]),
    ("sweep without failure", edit("    fails_safely:\n      - {metric: average_speed.actually_good, op: \"<\", "
                                   "value: 0.5}\n    fails_catastrophically:\n      - {metric: "
                                   "average_speed.posterior.deceptive, op: \">\", value: 0.5}\n",
                                   "    fails_safely: []\n    fails_catastrophically: []\n"),
     "TS-V13", "- id: S1", ["no failure condition"]),
]


@pytest.mark.parametrize("name,text,code,marker,words", CASES, ids=[c[0] for c in CASES])
def test_error(name, text, code, marker, words):
    found = only(text, code)
    want = line_of(text, *marker) if isinstance(marker, tuple) else line_of(text, marker)
    assert want in [m.line for m in found], f"{code} at {[m.line for m in found]}, expected line {want}"
    msg = next(m for m in found if m.line == want)
    assert msg.severity == "error"
    for word in words:
        assert word in msg.text, f"{word!r} not in {msg.text!r}"


@pytest.mark.parametrize("name,text,code,marker,words", WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_warning(name, text, code, marker, words):
    found = only(text, code)
    assert [m.line for m in found] == [line_of(text, marker)]
    assert found[0].severity == "warning" and not [m for m in messages(text) if m.severity == "error"]
    for word in words:
        assert word in found[0].text


def test_every_story_code_is_covered():
    """Each TS-V code (but TS-V12, which only `story check --record` gives) has a case above or below."""
    covered = {c[2] for c in CASES + WARNING_CASES} | {"TS-V09"}
    wanted = {code for code in CODES if code.startswith("TS-V") and code != "TS-V12"}
    assert wanted <= covered


def test_custom_classes_are_fine():
    text = edit("goal_class: narrow-agent", "goal_class: {custom: an oracle that only answers}")
    assert messages(text) == []


def test_undeveloped_claim_and_component_need_no_evidence():
    text = edit("        evidence: [E1, E2, X1]\n", "        undeveloped: true\n")
    assert messages(text) == []


def test_cycle_named_once_and_not_for_claims_leading_into_it():
    # GS1 -> RN1 -> RN2 -> RN1: one cycle (RN1, RN2); GS1 only rests on it.
    text = edit("        evidence: [E1]\n", "        evidence: [E1]\n        rests_on: [RN1]\n")
    text = edit("        rests_on: [GS1]\n", "        rests_on: [RN2]\n"
                "      - id: RN2\n        evidence: [E2]\n        rests_on: [RN1]\n", text)
    found = only(text, "TS-V05")
    assert len(found) == 1 and "RN1 -> RN2 -> RN1" in found[0].text
    assert found[0].line == line_of(text, "- id: RN1")


# ---- TS-V09: stale evidence ------------------------------------------------------------------------

def recorded(params: str, version: str) -> str:
    return edit('value: 0.25}\n', 'value: 0.25}\n    recorded:\n      holds: true\n      value: 0.0106\n'
                f'      params: {params}\n      code_version: "{version}"\n')


CURRENT = "{n_programs: 20000, w_avg: 2.0, deception_overhead: 2.0}"


def test_matching_record_is_not_stale():
    assert messages(recorded(CURRENT, evidence_mod.code_version())) == []


@pytest.mark.parametrize("params,version,words", [
    ("{n_programs: 20000, w_avg: 3.0, deception_overhead: 2.0}", None, ["w_avg 3 (now 2)"]),
    ("{n_programs: 20000, w_avg: 2.0}", None, ["deception_overhead unset (now 2)"]),
    (CURRENT, "0.0.1", ["code version 0.0.1"]),
])
def test_stale_record_is_a_warning_at_the_record(params, version, words):
    text = recorded(params, version or evidence_mod.code_version())
    found = only(text, "TS-V09")
    assert [m.line for m in found] == [line_of(text, "recorded:")]
    assert found[0].severity == "warning"
    for word in words:
        assert word in found[0].text
    assert "--record --replace" in found[0].text


def test_changing_an_assumption_makes_the_record_stale():
    text = edit("nominal: 2.0", "nominal: 3.0", recorded(CURRENT, evidence_mod.code_version()))
    assert "deception_overhead 2 (now 3)" in only(text, "TS-V09")[0].text


# ---- stories made in code (the editor) and text ----------------------------------------------------

def test_story_made_in_code():
    story = Story(title="", components={c: Component(undeveloped=True) for c in COMPONENTS},
                  criteria={c: Criterion(rating="weak", basis=["A1"]) for c in CRITERIA})
    story.components["goal_specification"] = Component(claims=[Claim(id="A1", evidence=["E1"])])
    story.evidence = [Evidence(id="E1", scenario="memory")]
    codes = {m.code for m in validate(story)}
    assert codes == {"TS-F06", "TS-V02"}  # no title, no predicate, no goal class
    assert all(str(m).startswith("<story>") for m in validate(story))


def test_validate_text_gives_loader_messages_for_unreadable_text():
    found = validate_text("---\ntitle: [unclosed\n---\n", "bad.story.md")
    assert [m.code for m in found] == ["TS-F03"] and found[0].file == "bad.story.md"
    assert validate_text(GOOD) == []


def test_round_trip_keeps_validation():
    story = loads(GOOD, "t.story.md")
    assert validate(loads(dumps(story), "t.story.md")) == []


# ---- properties ------------------------------------------------------------------------------------

def has_cycle(edges: dict[str, list[str]]) -> bool:
    """Reference: a graph has a cycle iff repeatedly removing sinks cannot empty it."""
    left = set(edges)
    while True:
        sinks = {n for n in left if not any(m in left for m in edges[n])}
        if not sinks:
            return bool(left)
        left -= sinks


ids = st.sampled_from(["A", "B", "C", "D", "E"])


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(ids, st.lists(st.sampled_from(["A", "B", "C", "D", "E", "Z"]), max_size=3), min_size=1))
def test_cycles_found_exactly_when_present(graph):
    claims = [Claim(id=c, evidence=["X"], rests_on=refs, line=i + 1) for i, (c, refs) in enumerate(graph.items())]
    story = Story(title="t", components={c: Component(undeveloped=True) for c in COMPONENTS},
                  criteria={c: Criterion(rating="weak", basis=[claims[0].id]) for c in CRITERIA},
                  evidence=[Evidence(id="X", source="s", finding="supports")])
    story.goal_class.id = "simulator"
    story.components["goal_specification"] = Component(claims=claims)
    found = validate(story)
    edges = {c: [r for r in refs if r in graph] for c, refs in graph.items()}
    assert any(m.code == "TS-V05" for m in found) == has_cycle(edges)
    dangling = sum(r not in graph for refs in graph.values() for r in refs)
    assert sum(m.code == "TS-V04" for m in found) == dangling
    for m in found:
        if m.code == "TS-V05":  # the named cycle is a real path of rests_on links
            path = m.text.split(": ", 1)[1].split(";")[0].split(" -> ")
            assert path[0] == path[-1] and all(b in graph[a] for a, b in itertools.pairwise(path))


values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                   st.text(max_size=8), st.dictionaries(st.sampled_from(["honest", "deceptive", "saint"]),
                                                        st.one_of(st.floats(-1, 2), st.text(max_size=2)), max_size=3))
param_names = st.sampled_from(["w_avg", "n_programs", "kind_mix", "backend", "memory", "compute_budget",
                               "generalization_check", "difficulty_min", "difficulty_max", "no_such_thing"])
metrics = st.one_of(st.sampled_from(["average_speed.map.kind", "simplicity.posterior.goof_off", "combined.n_candidates",
                                     "max_speed.posterior.deceptive", "two\nlines"]), st.text(max_size=12))


@settings(max_examples=80, deadline=None)
@given(params=st.dictionaries(param_names, values, max_size=4), metric=metrics, other=st.one_of(st.none(), metrics),
       op=st.sampled_from(["<", "==", "=>", ""]), value=values,
       scenario=st.sampled_from(["memory", "deceptive-planner", "nowhere"]),
       parameter=param_names, nominal=st.floats(-5, 5), rng=st.tuples(st.floats(-5, 5), st.floats(-5, 5)))
def test_validate_never_raises_on_odd_values(params, metric, other, op, value, scenario, parameter, nominal, rng):
    """Whatever a story made in code (the editor) holds, validation answers with messages, never a traceback."""
    from explorer.stories.model import Assumption, Predicate, Recorded, Sweep

    pred = Predicate(metric=metric, op=op, value=value, other=other)
    story = Story(title="t", components={c: Component(undeveloped=True) for c in COMPONENTS},
                  criteria={c: Criterion(rating="weak", basis=["X"]) for c in CRITERIA},
                  assumptions=[Assumption("a", parameter, nominal, rng)],
                  evidence=[Evidence("E", scenario=scenario, params=params, assumptions=["a"], predicate=pred,
                                     recorded=Recorded(True, value, dict(params), "0"))],
                  sweeps=[Sweep("S", scenario, ["a"], [pred], [], params=params, output=metric)])
    found = validate(story)
    assert all(isinstance(m, Message) and m.code in CODES and "\n" not in m.text for m in found)
