"""The semantic diff of two story revisions: what the argument gained, lost, or changed its mind on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.stories import fileformat
from explorer.stories.diff import diff
from explorer.stories.evidence import run_all
from explorer.stories.model import Claim, ClassChoice, Evidence, Predicate

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "stories"
SPEED_PRIOR = ASSETS / "speed-prior.story.md"


def explorer(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.fixture(scope="module")
def results():
    return run_all(fileformat.load(SPEED_PRIOR))


@pytest.fixture
def recorded(results):
    """The speed-prior story with every evidence result recorded, as `story check --record` leaves it."""
    story = fileformat.load(SPEED_PRIOR)
    for ev in story.evidence:
        if ev.simulated:
            ev.recorded = results[ev.id].recorded()
    return story


def _copy(story):
    return fileformat.loads(fileformat.dumps(story))


def _kinds(d, section):
    return {(c.kind, c.subject, c.what) for c in d.section(section)}


def test_a_story_and_its_copy_say_the_same(recorded):
    d = diff(recorded, _copy(recorded))
    assert not d and d.changes == []
    assert "say the same" in d.text()


def test_claims_added_removed_reworded_toggled_moved_and_relinked(recorded):
    new = _copy(recorded)
    comps = new.components
    comps["rationale_nudges"].claims.append(Claim(id="RN9", text="A new nudge.", undeveloped=True))
    comps["rationale_constraints"].claims = [c for c in comps["rationale_constraints"].claims if c.id != "RC2"]
    claims = new.claims()
    claims["RN1"].rests_on = []  # RC2 is gone
    claims["GS1"].text = "A reworded specification."
    claims["GD2"].undeveloped = False
    claims["GD2"].evidence = ["deploy-holds"]
    moved = claims["RN2"]
    comps["rationale_nudges"].claims.remove(moved)
    comps["goal_desirability"].claims.append(moved)
    d = diff(recorded, new)
    assert _kinds(d, "claims") == {
        ("added", "RN9", ""), ("removed", "RC2", ""), ("changed", "GS1", "text"), ("changed", "GD2", "undeveloped"),
        ("changed", "GD2", "evidence"), ("changed", "RN1", "rests_on"), ("changed", "RN2", "component"),
    }
    text = d.text("old.story.md", "new.story.md")
    assert "+ claim RN9 in rationale_nudges (undeveloped): 'A new nudge.'" in text
    assert "- claim RC2 from rationale_constraints" in text
    assert "~ claim GD2 no longer undeveloped" in text
    assert "~ claim RN2 moved: rationale_nudges -> goal_desirability" in text
    reverse = diff(new, recorded)
    assert ("removed", "RN9", "") in _kinds(reverse, "claims") and ("added", "RC2", "") in _kinds(reverse, "claims")


def test_assumption_values_changes(recorded):
    new = _copy(recorded)
    by_name = new.assumption_by_name()
    by_name["overhead"].nominal = 2.0
    by_name["memory"].range = (0.0, 0.5)
    by_name["w_avg"].parameter = "w_max"
    new.assumptions = [a for a in new.assumptions if a.name != "efficiency"]
    d = diff(recorded, new)
    assert _kinds(d, "assumptions") == {("changed", "overhead", "nominal"), ("changed", "memory", "range"),
                                        ("changed", "w_avg", "parameter"), ("removed", "efficiency", "")}
    (change,) = d.find("assumptions", "overhead")
    assert (change.old, change.new) == (1.0, 2.0) and str(change) == "~ assumption overhead nominal 1 -> 2"
    assert str(d.find("assumptions", "memory")[0]) == "~ assumption memory range [0, 1] -> [0, 0.5]"


def test_evidence_changes(recorded):
    new = _copy(recorded)
    ev = new.evidence_by_id()
    ev["low-deceptive-mass"].predicate = Predicate("average_speed.posterior.deceptive", "<", 0.1)
    ev["lookup-with-check"].params = {"generalization_check": True, "w_avg": 2.0}
    ev["memory-without-checks"].scenario = "deception-checks"
    new.evidence.append(Evidence(id="extra", source="A new paper", finding="supports"))
    d = diff(recorded, new)
    assert _kinds(d, "evidence") == {("changed", "low-deceptive-mass", "predicate"),
                                     ("changed", "lookup-with-check", "params"),
                                     ("changed", "memory-without-checks", "scenario"), ("added", "extra", "")}
    (change,) = d.find("evidence", "low-deceptive-mass")
    assert change.old == "average_speed.posterior.deceptive < 0.05"
    assert change.new == "average_speed.posterior.deceptive < 0.1"


def test_verdicts_flip_with_recorded_results_findings_and_ratings(recorded, results):
    new = _copy(recorded)
    ev = new.evidence_by_id()
    rec = ev["memory-without-checks"].recorded
    rec.holds, rec.value = True, 0.03
    rec = ev["honest-map"].recorded
    rec.holds, rec.value = False, "deceptive"
    new.criteria["rationale_alignment"].rating = "moderate"
    d = diff(recorded, new)
    assert _kinds(d, "verdicts") == {
        ("flipped", "memory-without-checks", "holds"), ("flipped", "honest-map", "holds"),
        ("flipped", "RN5", "status"), ("flipped", "GS1", "status"), ("flipped", "rationale_alignment", "rating"),
    }
    statuses = {c.subject: (c.old, c.new) for c in d.section("verdicts") if c.what == "status"}
    assert statuses == {"RN5": ("refuted", "supported"), "GS1": ("supported", "refuted")}
    assert "! evidence memory-without-checks recorded result: fails -> holds (0.411775 -> 0.03)" in d.text()
    assert "! criterion rationale_alignment rated weak -> moderate" in d.text()
    cat = fileformat.load(ASSETS / "cat-classifier.story.md")
    flipped = _copy(cat)
    flipped.evidence_by_id()["texture-bias"].finding = "supports"
    flipped.evidence_by_id()["non-robust-features"].finding = "supports"
    d = diff(cat, flipped)
    assert ("flipped", "texture-bias", "finding") in _kinds(d, "verdicts")
    assert ("flipped", "RN1", "status") in _kinds(d, "verdicts")


def test_an_unrecorded_story_becoming_stale_or_recorded_is_a_verdict_change(recorded):
    bare = fileformat.load(SPEED_PRIOR)
    d = diff(bare, recorded)
    assert {(c.old, c.new) for c in d.section("verdicts")} == {("unchecked", "supported"), ("unchecked", "refuted")}
    stale = _copy(recorded)
    stale.assumption_by_name()["overhead"].nominal = 1.5  # the recorded results were computed at 1.0
    d = diff(recorded, stale)
    assert {c.new for c in d.section("verdicts") if c.what == "status"} == {"stale"}


def test_classes_failure_modes_title_revision_and_sweeps(recorded):
    new = _copy(recorded)
    new.goal_class = ClassChoice(custom="an honest solver of one domain")
    new.rationale_classes = [ClassChoice(id="inductive-bias-analysis"), ClassChoice(id="transparency-interpretability")]
    new.failure_modes = ["deceptive-alignment", "mesa-optimisation"]
    new.title, new.revision = "A new title", 3
    new.body += "\nOne more line.\n"
    new.sweeps[0].points = 9
    new.sweeps = new.sweeps[:2]
    d = diff(recorded, new)
    assert _kinds(d, "classes") == {
        ("changed", "goal_class", "goal_class"), ("added", "transparency-interpretability", ""),
        ("removed", "precursor-checking", ""), ("added", "mesa-optimisation", ""), ("removed", "inner-alignment", ""),
    }
    assert _kinds(d, "story") == {("changed", "title", "title"), ("changed", "revision", "revision"),
                                  ("changed", "narrative", "body")}
    assert _kinds(d, "sweeps") == {("changed", "efficiency-memory", "points"), ("removed", "screening", "")}
    assert d.text("a", "b").startswith("a (revision 1) -> b (revision 3): 10 changes\nStory\n")


def test_json_data_lists_changes_by_section(recorded):
    new = _copy(recorded)
    new.assumption_by_name()["overhead"].range = (0.5, 4.0)
    data = json.loads(json.dumps(diff(recorded, new).to_json_data()))
    assert data["count"] == 1 and list(data["sections"]) == ["assumptions"]
    assert data["sections"]["assumptions"][0] == {
        "section": "assumptions", "kind": "changed", "subject": "overhead", "what": "range", "old": [0.25, 4.0],
        "new": [0.5, 4.0], "text": "assumption overhead range [0.25, 4] -> [0.5, 4]"}


def test_cli_text_and_json(tmp_path, recorded):
    old, new = tmp_path / "old.story.md", tmp_path / "new.story.md"
    old.write_text(fileformat.dumps(recorded))
    changed = _copy(recorded)
    changed.revision = 2
    changed.assumption_by_name()["overhead"].range = (0.5, 4.0)  # the nominal value stays: results stay fresh
    changed.evidence_by_id()["memory-without-checks"].recorded.holds = True
    new.write_text(fileformat.dumps(changed))
    run = explorer("story", "diff", old, new)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("old.story.md (revision 1) -> new.story.md (revision 2): ")
    assert "Assumptions\n  ~ assumption overhead range [0.25, 4] -> [0.5, 4]" in run.stdout
    assert "Verdicts\n" in run.stdout and "! claim RN5: refuted -> supported" in run.stdout
    run = explorer("story", "diff", old, new, "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["old"]["revision"] == 1 and data["new"]["revision"] == 2
    assert {c["subject"] for c in data["sections"]["verdicts"]} == {"memory-without-checks", "RN5"}
    new.write_text("---\nnot: [a story\n---\n")
    run = explorer("story", "diff", old, new)
    assert run.returncode == 1 and "new.story.md:" in run.stderr and "TS-F03" in run.stderr
    assert "Traceback" not in run.stderr
