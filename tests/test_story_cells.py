"""Story evidence that cites a claims-matrix cell: read and written, validated, and judged by the recorded matrix."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from explorer import claims
from explorer.checks import code_version
from explorer.claims import ClaimCell, ClaimsMatrix
from explorer.stories import cells
from explorer.stories.check import check_file
from explorer.stories.evidence import claim_statuses
from explorer.stories.fileformat import dumps, load, loads
from explorer.stories.messages import StoryFormatError
from explorer.stories.schema import story_schema
from explorer.stories.validate import validate

ROOT = Path(__file__).resolve().parents[1]
SPEED_PRIOR = ROOT / "assets" / "stories" / "speed-prior.story.md"


def story_text(cell: str = "{scenario: goof-off, world: enumerated, op: '<', share: 0.5, by: measurement}") -> str:
    return f"""\
---
schema: 1
title: Cells
revision: 1
goal_class: narrow-agent
components:
  goal_specification:
    claims:
      - id: GS1
        text: The max prior sees measured waste as well as the average prior does.
        evidence: [C1]
  goal_desirability: {{undeveloped: true}}
  rationale_constraints: {{undeveloped: true}}
  rationale_nudges: {{undeveloped: true}}
criteria:
  goal_alignment: {{rating: unknown, basis: [GS1]}}
  goal_competitiveness: {{rating: unknown, basis: [GS1]}}
  rationale_alignment: {{rating: unknown, basis: [GS1]}}
  rationale_competitiveness: {{rating: unknown, basis: [GS1]}}
evidence:
  - id: C1
    cell: {cell}
    note: The enumerated world's goof-off cell.
---
Body.
"""


def cell(scenario, world, holds, by="measurement") -> ClaimCell:
    return ClaimCell(scenario=scenario, world=world, title=scenario, holds=holds, runs=6, by=by, reason="why",
                     breakpoints={}, params={})


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """A recorded matrix of our own, where the stories look for it."""
    path = tmp_path / "matrix.json"
    monkeypatch.setattr(claims, "RECORDED", path)

    def write(*cells_, version=None):
        m = ClaimsMatrix(list(cells_), seeds=2, perturb=0.1, complete=True, elapsed_s=1.0,
                         code_version=version or code_version())
        path.write_text(json.dumps(m.to_dict()), encoding="utf-8")
        return path

    return write


def test_a_cell_citation_round_trips_and_is_neither_a_simulation_nor_a_source():
    story = loads(story_text())
    [ev] = story.evidence
    assert (ev.cell.scenario, ev.cell.world, ev.cell.op, ev.cell.share, ev.cell.by) == (
        "goof-off", "enumerated", "<", 0.5, "measurement")
    assert not ev.simulated and not ev.external and ev.scenario is None and ev.predicate is None
    assert loads(dumps(story)) == story
    assert dumps(loads(dumps(story))) == dumps(story)
    assert validate(story) == []


@pytest.mark.parametrize("cell_text, words", [
    ("{scenario: goof-off, world: neural, op: '<', share: 0.5}", "is not checked in the 'neural' world"),
    ("{scenario: goof-of, world: abstract, op: '<', share: 0.5}", "unknown scenario 'goof-of' (did you mean goof-off?)"),
    ("{scenario: goof-off, world: abstract, op: '==', share: 0.5}", "cannot bound a share"),
    ("{scenario: goof-off, world: abstract, op: '<', share: 0.5, by: constructed}", "(did you mean construction?)"),
])
def test_a_bad_citation_is_one_located_message_naming_what_is_wrong(cell_text, words):
    messages = validate(loads(story_text(cell_text)))
    assert len(messages) == 1 and words in messages[0].text and messages[0].line > 0, messages


@pytest.mark.parametrize("cell_text, words", [
    ("{scenario: goof-off, world: abstract, op: '<', share: 1.5}", "must be a fraction from 0 to 1"),
    ("{scenario: goof-off, world: abstract, op: '<'}", "has no 'share'"),
    ("{scenario: goof-off, world: abstract, op: '<', share: 0.5, metric: x}", "unknown key 'metric'"),
])
def test_a_malformed_citation_is_refused_when_read(cell_text, words):
    with pytest.raises(StoryFormatError, match=words.replace("(", r"\(").replace(")", r"\)")):
        loads(story_text(cell_text))
    mixed = story_text().replace("    note: The", "    scenario: goof-off\n    note: The")
    with pytest.raises(StoryFormatError, match="cites a claims-matrix cell and also has scenario"):
        loads(mixed)


def test_the_recorded_matrix_decides_the_citation(recorded):
    story = loads(story_text())
    c = story.evidence[0].cell
    recorded(cell("goof-off", "enumerated", 0.25))
    assert cells.cell_verdict(c) == cells.CellVerdict(True, 0.25, 6, "measurement", False, "")
    assert claim_statuses(story) == {"GS1": "supported"}
    recorded(cell("goof-off", "enumerated", 0.75))
    assert cells.cell_status(c) == "refuted" and claim_statuses(story) == {"GS1": "refuted"}
    recorded(cell("goof-off", "enumerated", 0.25, by="construction"))  # the world must decide it as cited
    assert cells.cell_status(c) == "refuted"
    recorded(cell("goof-off", "enumerated", 0.25), version="0.0.0-elsewhere")
    assert cells.cell_status(c) == "stale"
    recorded(cell("goof-off", "abstract", 0.25))
    assert cells.cell_status(c) == "unchecked" and "no cell for goof-off in the enumerated world" in \
        cells.cell_verdict(c).problem
    recorded(cell("goof-off", "enumerated", None))
    assert cells.cell_status(c) == "unchecked" and "nothing ran" in cells.cell_verdict(c).problem


def test_without_a_recorded_matrix_the_citation_is_unchecked_and_says_how_to_record_one(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "RECORDED", tmp_path / "none.json")
    story = loads(story_text())
    assert claim_statuses(story) == {"GS1": "unchecked"}
    assert "python -m explorer claims --json" in cells.describe_verdict(story.evidence[0].cell)


def test_story_check_reports_the_cell_and_its_verdict(recorded, tmp_path):
    recorded(cell("goof-off", "enumerated", 0.0))
    path = tmp_path / "cells.story.md"
    path.write_text(story_text(), encoding="utf-8")
    report = check_file(path)
    assert report.errors == [] and report.statuses == {"GS1": "supported"}
    [line] = [x for x in report.lines() if ": C1:" in x]
    assert line.endswith("C1: claims-matrix cell goof-off in enumerated: share held < 0.5, by measurement: "
                         "0.00 of 6 runs, by measurement: holds")
    [item] = report.to_json()["evidence"]
    assert item["status"] == "supported" and item["value"] == 0.0 and item["cell"]["world"] == "enumerated"


def test_the_schema_accepts_a_citation_and_refuses_a_mixed_one():
    schema = story_schema()
    front = loads(story_text()).source
    jsonschema.validate(json.loads(json.dumps(front)), schema)
    bad = json.loads(json.dumps(front))
    bad["evidence"][0]["predicate"] = {"metric": "average_speed.map.kind", "op": "==", "value": "honest"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_the_speed_prior_story_cites_the_goof_off_cells_by_construction_and_measured():
    story = load(SPEED_PRIOR)
    cited = {(e.cell.scenario, e.cell.world, e.cell.by) for e in story.evidence if e.cell is not None}
    assert {("goof-off", "abstract", "construction"), ("goof-off", "enumerated", "measurement")} <= cited
    by_claim = {cid: {story.evidence_by_id()[e].cell.world for e in c.evidence if story.evidence_by_id()[e].cell}
                for cid, c in story.claims().items()}
    assert by_claim["RN2"] == {"abstract"} and by_claim["RN7"] == {"enumerated"}
