"""The argument map's graph: every reference of the story is an edge in the model's own words, every node
carries the status it is given, and the layered order keeps what belongs together in neighbouring rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.stories import fileformat
from explorer.stories.argument import COLUMNS, UNDEFINED, Edge, argument, node_key, short
from explorer.stories.evidence import claim_statuses, evidence_status
from explorer.stories.model import Assumption, Claim, Criterion, Evidence, Predicate, Story

ROOT = Path(__file__).resolve().parent.parent
SPEED = ROOT / "assets" / "stories" / "speed-prior.story.md"


def small() -> Story:
    story = Story(title="t")
    story.components["goal_specification"].claims = [Claim("GS1", "honest", evidence=["e1", "src"])]
    story.components["rationale_nudges"].claims = [Claim("RN1", "nudge", evidence=["e1"], rests_on=["GS1", "XX"])]
    story.criteria["goal_alignment"] = Criterion("strong", ["GS1"])
    story.assumptions = [Assumption("w", "w_avg", 1.0, (0.0, 4.0), note="weight")]
    story.evidence = [Evidence("e1", scenario="goof-off", assumptions=["w", "ghost"],
                               predicate=Predicate("average_speed.map.kind", "==", "honest")),
                      Evidence("src", source="a paper", finding="refutes")]
    return story


def test_every_reference_is_an_edge_in_the_models_words():
    a = argument(small())
    edges = set(a.edges)
    assert Edge("criterion:goal_alignment", "claim:GS1", "rests on") in edges
    assert Edge("claim:RN1", "claim:GS1", "rests on") in edges
    assert Edge("evidence:e1", "claim:GS1", "is evidence for") in edges
    assert Edge("evidence:src", "claim:GS1", "refutes") in edges  # an external source says its finding
    assert Edge("evidence:e1", "assumption:w", "assumes") in edges
    assert len(a.edges) == len(edges)  # no duplicates


def test_undefined_references_become_visible_nodes():
    a = argument(small())
    assert a.node("claim:XX").status == UNDEFINED
    assert a.node("assumption:ghost").status == UNDEFINED
    assert Edge("claim:RN1", "claim:XX", "rests on") in a.edges


def test_nodes_carry_the_statuses_they_are_given_and_here_separately():
    story = small()
    a = argument(story, {"GS1": "refuted", "RN1": "supported"}, {"e1": "supported"}, {"claim:GS1": "holds"})
    assert a.node("claim:GS1").status == "refuted" and a.node("claim:GS1").here == "holds"
    assert a.node("claim:RN1").here is None
    assert a.node("evidence:e1").status == "supported"
    assert a.node("evidence:src").status == "unchecked"  # not given: unchecked, never invented
    assert a.node("criterion:goal_alignment").status is None and "strong" in a.node("criterion:goal_alignment").detail
    b = a.with_statuses({"claim:GS1": "stale"}, {"evidence:e1": "fails"})
    assert b.node("claim:GS1").status == "stale" and b.node("claim:GS1").here is None
    assert b.node("evidence:e1").here == "fails" and b.keys() == a.keys()
    assert a.node("claim:GS1").status == "refuted"  # the original is unchanged


def test_an_undeveloped_claim_is_undeveloped_without_a_status_given():
    story = small()
    story.components["goal_desirability"].claims = [Claim("GD1", "later", undeveloped=True)]
    assert argument(story).node("claim:GD1").status == "undeveloped"


def test_the_shipped_story_map_matches_story_checks_vocabulary_and_columns():
    story = fileformat.load(SPEED)
    statuses = claim_statuses(story)
    a = argument(story, statuses, {e.id: evidence_status(story, e) for e in story.evidence})
    claims = [n for n in a.nodes if n.kind == "claim"]
    assert [n.item for n in claims] == list(story.claims())  # reading order
    assert {n.item: n.status for n in claims} == statuses
    for n in a.nodes:
        assert n.column == COLUMNS[n.kind]
    rows = {c: sorted(n.row for n in a.nodes if n.column == c) for c in COLUMNS.values()}
    assert all(r == list(range(len(r))) for r in rows.values())  # each column packed from row 0
    assert a.rows() == max(len(r) for r in rows.values())
    # Evidence sits in the order of the claims it supports: honest-map (GS1) above memory-with-checks (RN4).
    row = {n.key: n.row for n in a.nodes}
    assert row[node_key("evidence", "honest-map")] < row[node_key("evidence", "memory-with-checks")]
    assert all(e.source in row and e.target in row for e in a.edges)


@pytest.mark.parametrize("text,limit,expected", [("a  b\nc", 10, "a b c"), ("abcdefghij", 5, "abcd…")])
def test_short(text, limit, expected):
    assert short(text, limit) == expected
