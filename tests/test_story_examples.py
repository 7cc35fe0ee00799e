"""The example story library: every story passes `story check`, and its evidence comes out as it says.

The stories make claims about the simulation (and cite sources); this runs `python -m explorer story check`
over all of them, the way a user would, and compares each claim's status with what the story's own
narrative says: supported, refuted where the story shows where it fails, undeveloped where it says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.scenarios import SCENARIOS
from explorer.stories import fileformat
from explorer.stories.vocabulary import CRITERIA, GOAL_CLASSES

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "stories"
EXAMPLES = sorted(ASSETS.rglob("*.story.md"))

#: The claims each story expects to be refuted, as its narrative explains; all others are supported or
#: marked undeveloped.
REFUTED = {
    "cat-classifier.story.md": {"GS1", "RN1"},  # falsified by the adversarial-features and texture results
    "microscope-ai.story.md": {"GS3", "RN2"},  # superposition; simplicity follows the shorter schemer
    "speed-prior.story.md": {"RN5", "RN6", "RN7"},  # memory without checks; efficient deceivers; measured goof-offs
    "scenarios/fastest-is-deceptive.story.md": {"GS1"},  # the speed prior's favourite is deceptive
    "scenarios/parity-measured.story.md": {"RN1", "RN2"},  # measured: speed alone keeps waste; max ~ average
    "scenarios/slack-measured.story.md": {"RN2"},  # sensing slack narrows the goof-off gap without reversing it
    "scenarios/parallel-misbehaviour.story.md": {"RN1", "RN2"},  # serial-only counting lets misbehaviour hide
    "scenarios/allotment-manipulation.story.md": {"RN2", "RN4"},  # the max prior cannot see sandbagging
    "scenarios/parallel-drive-measured.story.md": {"GD1", "RN1"},  # nothing generalises; serial counting keeps the drive
    "scenarios/allotment-drive-measured.story.md": {"GD1", "RC2"},  # the drive survives the offline predictor
}


def _name(path: Path) -> str:
    return path.relative_to(ASSETS).as_posix()


@pytest.fixture(scope="module")
def reports():
    """`story check --json` over the whole library, in one subprocess."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "explorer", "story", "check", "--json", *map(str, EXAMPLES)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads(run.stdout)
    return {_name(Path(r["file"])): r for r in data}


def test_every_example_passes_story_check_without_warnings(reports):
    assert set(reports) == {_name(p) for p in EXAMPLES}
    for name, r in reports.items():
        assert r["loaded"] and r["ran"], name
        assert (r["errors"], r["warnings"]) == (0, 0), (name, r["messages"])


@pytest.mark.parametrize("path", EXAMPLES, ids=_name)
def test_claims_come_out_as_the_story_says(reports, path):
    story = fileformat.load(path)
    statuses = reports[_name(path)]["claims"]
    assert set(statuses) == set(story.claims())
    refuted = {cid for cid, s in statuses.items() if s == "refuted"}
    assert refuted == REFUTED.get(_name(path), set())
    for cid, claim in story.claims().items():
        expected = "undeveloped" if claim.undeveloped else ("refuted" if cid in refuted else "supported")
        assert statuses[cid] == expected, (cid, statuses[cid])


def test_there_is_a_template_for_every_goal_class():
    templates = {p.name.removesuffix(".story.md"): p for p in (ASSETS / "templates").glob("*.story.md")}
    assert set(templates) == set(GOAL_CLASSES)
    for goal_class, path in templates.items():
        story = fileformat.load(path)
        assert story.goal_class.id == goal_class
        assert story.claims() and all(c.undeveloped and c.text for c in story.claims().values())
        assert not story.evidence and not story.assumptions
        for name in CRITERIA:
            crit = story.criteria[name]
            assert crit.rating == "unknown" and crit.basis and crit.note


def test_there_is_a_story_for_every_scenario_preset_running_that_preset():
    stories = {p.name.removesuffix(".story.md"): p for p in (ASSETS / "scenarios").glob("*.story.md")}
    assert set(stories) == set(SCENARIOS)
    for sid, path in stories.items():
        story = fileformat.load(path)
        assert story.title == SCENARIOS[sid].title
        simulated = [e for e in story.evidence if e.simulated]
        assert simulated and {e.scenario for e in simulated} == {sid}
        cited = {e for c in story.claims().values() for e in c.evidence}
        assert cited == {e.id for e in story.evidence}


def test_the_speed_prior_story_is_linked_to_the_scenarios_and_shows_where_it_fails():
    story = fileformat.load(ASSETS / "speed-prior.story.md")
    scenarios = {e.scenario for e in story.evidence if e.simulated}
    assert {"deception-checks", "memory", "goof-off", "lookup-table"} <= scenarios
    parameters = {a.parameter for a in story.assumptions}
    assert parameters >= {"deception_overhead", "memory", "deception_check_strength", "w_avg"}
    assert "deceptive-alignment" in story.failure_modes
    sizes = sorted(len(s.assumptions) for s in story.sweeps)
    assert 2 in sizes and sizes[-1] >= 3  # a 2-D grid and a Morris screening
    memory_claim = story.claims()["RN5"]
    assert any(story.evidence_by_id()[e].scenario == "memory" for e in memory_claim.evidence)


def test_the_speed_prior_sweeps_find_what_the_narrative_says():
    """Nominal values are good; making deceivers more efficient ends in catastrophe (a coarse grid)."""
    from explorer.stories.sensitivity import run_sweep

    story = fileformat.load(ASSETS / "speed-prior.story.md")
    result = run_sweep(story, "efficiency-memory", points=3, workers=1)
    assert result.nominal.cls == "good"
    assert result.verdict == "fails_catastrophically"
    worst = max(result.points, key=lambda p: (p.values["efficiency"], p.values["memory"]))
    assert worst.cls == "fails_catastrophically"


def test_the_cat_story_was_falsified_by_cited_sources():
    story = fileformat.load(ASSETS / "cat-classifier.story.md")
    refuting = [e for e in story.evidence if not e.simulated and e.finding == "refutes"]
    assert any("Ilyas" in e.source for e in refuting)
    assert set(story.claims()["RN1"].evidence) & {e.id for e in refuting}
    assert story.criteria["rationale_alignment"].rating == "fails"


def test_the_microscope_story_rests_on_transparency_and_marks_what_is_open():
    story = fileformat.load(ASSETS / "microscope-ai.story.md")
    assert {c.id for c in story.rationale_classes} >= {"inductive-bias-analysis", "transparency-interpretability"}
    assert sum(c.undeveloped for c in story.claims().values()) >= 3
    assert {c.rating for c in story.criteria.values()} <= {"moderate", "weak", "unknown"}
