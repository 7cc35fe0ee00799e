"""The published JSON Schema of the story front matter: valid, current, and in step with the loader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from explorer.stories.fileformat import STORY_KEYS, dumps, loads
from explorer.stories.messages import StoryFormatError
from explorer.stories.model import (
    Assumption,
    Claim,
    ClassChoice,
    Component,
    Criterion,
    Evidence,
    Predicate,
    Recorded,
    Story,
    Sweep,
)
from explorer.stories.schema import schema_errors, schema_text, story_schema
from explorer.stories.vocabulary import COMPONENTS, CRITERIA, FAILURE_MODES, GOAL_CLASSES, RATINGS

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "assets" / "schema" / "story.schema.json"
EXAMPLES = sorted((ROOT / "assets" / "stories").glob("**/*.story.md"))

GOOD = """\
---
schema: 1
title: A schema test
authors: [E1, Someone Else]
revision: 3
goal_class: {custom: an oracle that only answers questions}
rationale_classes:
  - inductive-bias-analysis
  - {custom: a rationale of our own}
failure_modes: [deceptive-alignment, outer-alignment]
components:
  goal_specification:
    note: what we want
    claims:
      - id: GS1
        text: |
          Two lines
          of text.
        evidence: [E1, X1]
  goal_desirability:
  rationale_constraints: {undeveloped: true}
  rationale_nudges:
    claims:
      - {id: RN1, evidence: [E1], rests_on: [GS1], undeveloped: false}
criteria:
  goal_alignment: {rating: strong, basis: [GS1], note: fine}
  goal_competitiveness:
  rationale_alignment: {rating: fails, basis: [RN1]}
  rationale_competitiveness: {}
assumptions:
  - {name: overhead, parameter: deception_overhead, nominal: 2, range: [0.5, 4.0], note: per task}
evidence:
  - id: E1
    scenario: memory
    params: {n_programs: 20000, kind_mix: {honest: 0.5, deceptive: 0.5}, compute_budget: null, backend: numpy}
    assumptions: [overhead]
    predicate: {metric: combined.map.kind, op: "!=", value: deceptive}
    recorded: {holds: true, value: honest, params: {n_programs: 20000}, code_version: 0.1.0}
  - {id: X1, source: A paper, finding: refutes, note: read it}
sweeps:
  - id: S1
    scenario: memory
    params: {w_avg: 2.5}
    assumptions: [overhead]
    points: 9
    fails_safely: [{metric: simplicity.actually_good, op: "<", value: 0.5}]
    fails_catastrophically: [{metric: simplicity.posterior.deceptive, op: ">", other: simplicity.posterior.honest}]
    output: simplicity.posterior.deceptive
    note: a sweep
---
body
"""


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(story_schema())


def test_schema_is_valid_draft_2020_12():
    schema = story_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_published_file_is_the_generated_schema():
    assert PUBLISHED.read_text(encoding="utf-8") == schema_text(), (
        "assets/schema/story.schema.json is out of date: run "
        "`python -m explorer story schema > assets/schema/story.schema.json`")


def test_the_cli_prints_the_schema():
    out = subprocess.run([sys.executable, "-m", "explorer", "story", "schema"], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert json.loads(out.stdout) == story_schema()


def test_schema_is_built_from_the_format_and_vocabulary():
    schema = story_schema()
    assert list(schema["properties"]) == list(STORY_KEYS) and schema["additionalProperties"] is False
    assert set(schema["properties"]["components"]["properties"]) == set(COMPONENTS)
    assert set(schema["properties"]["criteria"]["properties"]) == set(CRITERIA)
    assert schema["$defs"]["criterion"]["properties"]["rating"]["enum"] == list(RATINGS)
    assert schema["properties"]["goal_class"]["else"]["enum"] == list(GOAL_CLASSES)
    assert schema["properties"]["failure_modes"]["items"]["enum"] == list(FAILURE_MODES)
    w_avg = schema["$defs"]["params"]["properties"]["w_avg"]
    assert (w_avg["type"], w_avg["minimum"], w_avg["maximum"]) == ("number", 0.0, 100.0)


def test_good_front_matter_fits():
    loads(GOOD)  # the loader accepts it too
    assert schema_errors(GOOD) == []


def test_a_story_written_by_the_code_fits():
    story = Story(
        title="Made in code", authors=["E1"], goal_class=ClassChoice(id="myopic-agent"),
        rationale_classes=[ClassChoice(id="precursor-checking"), ClassChoice(custom="ours")],
        failure_modes=["inner-alignment"],
        components={c: Component(undeveloped=True) for c in COMPONENTS},
        criteria={c: Criterion(rating="weak", basis=["GS1"], note="n") for c in CRITERIA},
        assumptions=[Assumption("mem", "memory", 0.5, (0.0, 0.9), note="cache")],
        evidence=[Evidence("E1", scenario="memory", params={"w_avg": 2.0}, assumptions=["mem"],
                           predicate=Predicate("average_speed.deploy_perf", ">=", 0.5),
                           recorded=Recorded(False, 0.25, {"w_avg": 2.0, "memory": 0.5}, "0.1.0")),
                  Evidence("X1", source="Someone (2020)", finding="supports")],
        sweeps=[Sweep("S1", "memory", ["mem"], [Predicate("combined.actually_good", "<", 0.5)],
                      [Predicate("combined.posterior.deceptive", ">", 0.5)], points=5)],
    )
    story.components["goal_specification"] = Component(claims=[Claim("GS1", "text\nover lines", ["E1", "X1"])])
    assert schema_errors(dumps(story)) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_stories_fit(path):
    assert schema_errors(path.read_text(encoding="utf-8")) == []


# ---- what the schema rejects: (name, old, new, the error's path) ------------------------------------

BAD = [
    ("unknown top key", "revision: 3\n", "revision: 3\ncolour: blue\n", "(top)"),
    ("missing required", "title: A schema test\n", "", "(top)"),
    ("schema version", "schema: 1", "schema: 2", "schema"),
    ("revision zero", "revision: 3", "revision: 0", "revision"),
    ("empty title", "title: A schema test", "title: ' '", "title"),
    ("goal class", "goal_class: {custom: an oracle that only answers questions}", "goal_class: oracle", "goal_class"),
    ("custom class key", "{custom: a rationale of our own}", "{custom: x, colour: red}", "rationale_classes/1"),
    ("rationale class", "  - inductive-bias-analysis", "  - vibes", "rationale_classes/0"),
    ("failure mode", "[deceptive-alignment, outer-alignment]", "[deception]", "failure_modes/0"),
    ("component name", "  goal_desirability:\n", "  goal_desire:\n", "components"),
    ("claim key", "{id: RN1, evidence: [E1]", "{id: RN1, proof: [E1]", "components/rationale_nudges/claims/0"),
    ("claim without id", "{id: RN1, evidence: [E1], ", "{evidence: [E1], ", "components/rationale_nudges/claims/0"),
    ("id with a space", "- id: GS1", "- id: G S1", "components/goal_specification/claims/0/id"),
    ("undeveloped not boolean", "{undeveloped: true}", "{undeveloped: yes please}",
     "components/rationale_constraints/undeveloped"),
    ("rating", "rating: strong", "rating: great", "criteria/goal_alignment/rating"),
    ("range length", "range: [0.5, 4.0]", "range: [0.5, 1, 4.0]", "assumptions/0/range"),
    ("assumption on an integer", "parameter: deception_overhead", "parameter: n_tasks", "assumptions/0/parameter"),
    ("assumption without nominal", "nominal: 2, ", "", "assumptions/0"),
    # any id may name a user's scenario (their folders are not the schema's to know; story check judges ids)
    ("empty scenario", "scenario: memory\n    params: {n_programs", "scenario: ''\n    params: {n_programs",
     "evidence/0/scenario"),
    ("unknown parameter", "n_programs: 20000, kind_mix", "n_programmes: 20000, kind_mix", "evidence/0/params"),
    ("parameter bounds", "n_programs: 20000, kind_mix", "n_programs: 5, kind_mix", "evidence/0/params/n_programs"),
    ("parameter type", "compute_budget: null", "compute_budget: lots", "evidence/0/params/compute_budget"),
    ("selector value", "backend: numpy", "backend: abacus", "evidence/0/params/backend"),
    ("kind mix", "{honest: 0.5, deceptive: 0.5}", "{honest: 0.5, saint: 0.5}", "evidence/0/params/kind_mix"),
    ("operator", 'op: "!="', 'op: "=/="', "evidence/0/predicate/op"),
    ("metric", "metric: combined.map.kind", "metric: combined.map.kin", "evidence/0/predicate/metric"),
    ("value and other", "value: deceptive}", "value: deceptive, other: combined.map.kind}", "evidence/0/predicate"),
    ("neither value nor other", ', value: deceptive}', '}', "evidence/0/predicate"),
    ("mixed evidence", "  - {id: X1, source: A paper,", "  - {id: X1, scenario: memory, source: A paper,",
     "evidence/1"),
    ("finding", "finding: refutes", "finding: maybe", "evidence/1/finding"),
    ("simulated without predicate", "    predicate: {metric: combined.map.kind, op: \"!=\", value: deceptive}\n", "",
     "evidence/0"),
    ("recorded key", "code_version: 0.1.0}", "code_version: 0.1.0, by: me}", "evidence/0/recorded"),
    ("points", "points: 9", "points: 500", "sweeps/0/points"),
    ("sweep without assumptions", "    assumptions: [overhead]\n    points", "    assumptions: []\n    points",
     "sweeps/0/assumptions"),
    ("sweep condition", 'fails_safely: [{metric: simplicity.actually_good, op: "<", value: 0.5}]',
     'fails_safely: {metric: simplicity.actually_good, op: "<", value: 0.5}', "sweeps/0/fails_safely"),
]


@pytest.mark.parametrize("name,old,new,where", BAD, ids=[b[0] for b in BAD])
def test_bad_front_matter_is_rejected(name, old, new, where):
    assert old in GOOD, old
    errors = schema_errors(GOOD.replace(old, new, 1))
    assert errors, f"{name}: the schema accepted it"
    assert any(e.split(": ", 1)[0] == where for e in errors), errors


LOADER_REFUSES = {"unknown top key", "missing required", "schema version", "revision zero", "empty title",
                  "custom class key", "claim key", "claim without id", "id with a space", "undeveloped not boolean",
                  "range length", "assumption without nominal", "value and other", "neither value nor other",
                  "mixed evidence", "simulated without predicate", "recorded key", "points", "sweep condition"}


@pytest.mark.parametrize("name", sorted(LOADER_REFUSES))
def test_schema_refuses_what_the_loader_refuses(name):
    """The schema is no looser than the loader on shape and types (it is stricter on words)."""
    _, old, new, _ = next(b for b in BAD if b[0] == name)
    with pytest.raises(StoryFormatError):
        loads(GOOD.replace(old, new, 1))
