"""The story panel tells the truth: its claim statuses are those `python -m explorer story check` computes
(evidence run with the story's own parameters), and beside them, labelled, what the same tests give at
the page's settings, by the same rules on every world (/priors, /programs, /neural)."""

from __future__ import annotations

import html as html_mod
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.scenarios import SCENARIOS, preset_params
from explorer.stories.library import StoryLibrary
from explorer.ui.state import SimulationState
from explorer.ui.story_panel import StoryPanel

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "assets" / "stories"
FILES = sorted(STORIES.glob("*.story.md")) + sorted(STORIES.glob("*/*.story.md"))
LABEL_WRITTEN = "as written"
LABEL_HERE = "at this page's settings"


@pytest.fixture(scope="module")
def checked() -> dict[str, dict[str, str]]:
    """`story check --json` on every shipped story, run once as the real command: {story name: claim statuses}."""
    out = subprocess.run([sys.executable, "-m", "explorer", "story", "check", "--json", *map(str, FILES)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    reports = json.loads(out.stdout)
    assert len(reports) == len(FILES)
    return {str(Path(r["file"]).resolve().relative_to(STORIES))[: -len(".story.md")]: r["claims"] for r in reports}


def preset_beside(name: str) -> str:
    """The preset a story sits beside: its own for scenarios/<preset>, else goof-off (the dashboard's default)."""
    return name.split("/", 1)[1] if name.startswith("scenarios/") else "goof-off"


def shown_statuses(panel: StoryPanel) -> dict[str, str]:
    """The statuses the panel's HTML shows, by claim id (badge, then the claim's id)."""
    html = panel.html()
    found = dict((cid, status) for status, cid in re.findall(
        r"story-status-([a-z]+)\"[^>]*>[a-z]+</span> <b[^>]*>([^<]+)</b>", html))
    return found


def settle(panel: StoryPanel) -> None:
    """Wait for the panel's own-parameter run, if one is under way on a worker thread."""
    getattr(panel, "wait", lambda: None)()


_states: dict[str, SimulationState] = {}


def state_for(preset: str) -> SimulationState:
    if preset not in _states:
        world = SCENARIOS[preset].world  # a page of the preset's world, at the world's default size
        _states[preset] = SimulationState(world=world, **preset_params(preset))
    return _states[preset]


def test_there_are_shipped_stories_to_compare():
    assert len(FILES) >= 10 and any("scenarios" in str(f) for f in FILES)


@pytest.mark.parametrize("name", [str(f.relative_to(STORIES))[: -len(".story.md")] for f in FILES])
def test_the_panel_agrees_with_story_check_on_every_shipped_story(name, checked):
    preset = preset_beside(name)
    panel = StoryPanel(state=state_for(preset), library=StoryLibrary(STORIES), scenario=preset)
    if panel.story_name != name:
        panel.show(name)
    assert panel.story is not None and panel.story_name == name
    expected = checked[name]
    assert panel.statuses() == expected
    assert shown_statuses(panel) == expected  # what the page shows, badge by badge
    assert {c["id"]: c["status"] for c in panel.report()["claims"]} == expected


@pytest.fixture
def goof_off():
    from explorer.ui.dashboard import PriorsDashboard

    return PriorsDashboard(scenario="goof-off", story_library=StoryLibrary(STORIES))


def test_goof_off_rn1_is_supported_beside_priors_as_story_check_says(goof_off, checked):
    """The issue: waste-doubled (written for misbehaviour_cost 6) made RN1 refuted at the preset's cost 3."""
    panel = goof_off.story
    assert panel.story_name == "scenarios/goof-off"
    assert checked["scenarios/goof-off"]["RN1"] == "supported"
    assert panel.statuses()["RN1"] == "supported" and shown_statuses(panel)["RN1"] == "supported"
    written, here = panel.as_written["waste-doubled"], panel.here["waste-doubled"]
    assert written.holds is True and written.params == {"misbehaviour_cost": 6.0}
    assert here.holds is False  # at the page's cost 3 the doubled-waste test fails, and says so
    html = html_mod.unescape(panel.html()).lower()
    assert LABEL_WRITTEN in html and LABEL_HERE in html and "misbehaviour_cost" in html
    # the JSON export carries both evaluations, labelled
    report = json.loads(goof_off.export_json().getvalue())["story"]
    assert {c["id"]: c["status"] for c in report["claims"]}["RN1"] == "supported"
    ev = report["evidence"]["waste-doubled"]
    assert ev["as_written"]["holds"] is True and ev["as_written"]["params"] == {"misbehaviour_cost": 6.0}
    assert ev["at_this_page"]["holds"] is False
    assert "story check" in report["statuses_from"]


def test_the_page_settings_follow_a_slider_but_the_status_stays_story_checks(goof_off, checked):
    panel, state = goof_off.story, goof_off.state
    statuses = panel.statuses()
    assert statuses == checked["scenarios/goof-off"]
    before = panel.here["waste-at-preset"]
    assert before.holds is True and panel.here["waste-doubled"].holds is False
    assert panel.here_verdicts().get("RN1") == "holds"  # its evidence for the page's own parameters holds
    assert state.apply(misbehaviour_cost=6.0)  # the teacher doubles the waste
    after = panel.here["waste-at-preset"]
    assert after.value != before.value and after.holds is False  # the live value moved, and now fails
    assert panel.here["waste-doubled"].holds is True
    assert panel.here_verdicts()["RN1"] == "fails"  # the claim would stop holding here ...
    assert panel.statuses() == statuses == checked["scenarios/goof-off"]  # ... but its status is story check's
    html = html_mod.unescape(panel.html())
    assert "waste-at-preset" in html and LABEL_HERE in html.lower()
    assert panel.report()["evidence"]["waste-at-preset"]["at_this_page"]["holds"] is False
    w = panel.here["average-below-max"].value
    assert state.apply(w_avg=0.0)  # no average-compute penalty
    assert panel.here["average-below-max"].value != w
    assert panel.statuses() == checked["scenarios/goof-off"]


def test_evidence_of_another_scenario_is_not_evaluated_at_the_page(goof_off, checked):
    panel = goof_off.story
    panel.show("speed-prior")
    assert panel.statuses() == checked["speed-prior"]
    other = [e for e in panel.story.evidence if e.simulated and e.scenario != "goof-off"]
    assert other and all(panel.here.get(e.id) is None or panel.here[e.id].holds is None for e in other)
    assert "written for deception-checks" in panel.html()


def test_programs_panel_shows_story_checks_statuses(checked):
    from explorer.ui.programs_view import ProgramsView

    view = ProgramsView(max_length=4)
    panel = view.story
    settle(panel)
    expected = checked[panel.story_name]
    assert panel.statuses() == expected and shown_statuses(panel) == expected
    assert not any(s == "refuted" and expected[c] == "supported" for c, s in shown_statuses(panel).items())
    view.generalization_check = False
    assert panel.statuses() == expected and shown_statuses(panel) == expected


def test_neural_panel_shows_story_checks_statuses(checked):
    from explorer.ui.neural_view import NeuralView

    view = NeuralView()
    view.setup.param.update(bits=4, steps=100)
    panel = view.story
    settle(panel)
    expected = checked[panel.story_name]
    assert panel.statuses() == expected and shown_statuses(panel) == expected
    assert view.start()
    deadline = time.monotonic() + 120
    while not view.trainer.join(0.1) and time.monotonic() < deadline:
        view.refresh()
    view.refresh()
    assert view.trainer.status == "done"
    assert panel.statuses() == expected and shown_statuses(panel) == expected
    assert not any(s == "refuted" and expected[c] == "supported" for c, s in shown_statuses(panel).items())


ENUMERATED_SCENARIO = """\
id: panel-parity
title: Parity among the programs of length 4
world: enumerated
params: {max_length: 4, performance_threshold: 1.0, generalization_check: true}
explanation: A small enumerated space for the story panel's tests.
claim: The simplest program correct on every training input computes parity with a loop.
checks:
  - {metric: simplicity.map.kind, op: "==", value: honest}
"""

ENUMERATED_STORY = """\
---
schema: 1
title: Parity among tiny programs
authors: [tests]
revision: 1
goal_class: narrow-agent
rationale_classes: [inductive-bias-analysis]
components:
  goal_specification:
    claims:
      - id: GS1
        text: The simplest correct program is a general procedure.
        evidence: [with-check]
  goal_desirability:
    claims:
      - id: GD1
        text: Without the held-out check some posterior mass stays on general programs.
        evidence: [without-check]
  rationale_constraints:
    claims:
      - id: RC1
        text: An abstract-world test, which the programs page does not evaluate.
        evidence: [abstract]
  rationale_nudges:
    undeveloped: true
criteria:
  goal_alignment:
    rating: strong
    basis: [GS1]
    note: Tests only.
  goal_competitiveness:
    rating: strong
    basis: [GD1]
    note: Tests only.
  rationale_alignment:
    rating: moderate
    basis: [RC1]
    note: Tests only.
  rationale_competitiveness:
    rating: strong
    basis: [RC1]
    note: Tests only.
evidence:
  - id: with-check
    scenario: panel-parity
    predicate: {metric: simplicity.map.kind, op: ==, value: honest}
  - id: without-check
    scenario: panel-parity
    params: {generalization_check: false}
    predicate: {metric: average_speed.actually_good, op: '>=', value: 0}
  - id: abstract
    scenario: lookup-table
    predicate: {metric: average_speed.map.kind, op: ==, value: lookup}
---
"""


@pytest.fixture
def enumerated_library(tmp_path, monkeypatch):
    """A user scenario of the enumerated world and a story citing it (and one abstract scenario)."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "panel-parity.scenario.yaml").write_text(ENUMERATED_SCENARIO)
    monkeypatch.setenv("EXPLORER_SCENARIO_PATH", str(scenarios))
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "parity.story.md").write_text(ENUMERATED_STORY)
    return StoryLibrary(stories)


def test_a_measured_page_evaluates_the_evidence_of_its_own_world_by_the_same_rules(enumerated_library):
    """/programs: evidence of an enumerated scenario is evaluated on the page's selection; it speaks for its
    claim only where every parameter it was written with is the page's; evidence of the abstract world is
    not evaluated there; the statuses are story check's and never move."""
    from explorer.ui.programs_view import ProgramsView

    view = ProgramsView(max_length=4, story_library=enumerated_library)
    panel = view.story
    panel.show("parity")
    settle(panel)
    statuses = panel.statuses()
    assert statuses == {"GS1": "supported", "GD1": "supported", "RC1": "supported"}
    with_check, without_check = panel.here["with-check"], panel.here["without-check"]
    assert with_check.holds is True and with_check.counts and with_check.differs == ()
    assert without_check.holds is True and not without_check.counts  # evaluated, but at other settings
    assert [d[0] for d in without_check.differs] == ["generalization_check"]
    assert panel.here["abstract"].holds is None and "abstract world" in panel.here["abstract"].problem
    assert panel.here_verdicts() == {"GS1": "holds"}
    view.generalization_check = False
    assert panel.here["without-check"].counts and not panel.here["with-check"].counts
    assert panel.here_verdicts() == {"GD1": "holds"} and panel.statuses() == statuses
    view.max_length = 3  # the scenario's length is 4: nothing speaks for its claim at length 3
    assert not any(r.counts for r in panel.here.values()) and panel.statuses() == statuses
    text = html_mod.unescape(panel.html())
    assert "on the programs measured here" in text and "as written" in text and "max_length = 3 (as written 4)" in text


def test_own_parameter_runs_are_shared_across_sessions(monkeypatch):
    from explorer import checks
    from explorer.stories import evidence as evidence_mod

    evidence_mod.SHARED.clear()
    state = state_for("goof-off")
    first = StoryPanel(state=state, library=StoryLibrary(STORIES), scenario="goof-off")
    assert evidence_mod.as_checked_is_cached(first.story)

    def refuse(world, params):
        raise AssertionError("a second session should not simulate again")

    monkeypatch.setattr(checks, "simulate", refuse)  # what the shared cache (checks.SHARED) runs
    second = StoryPanel(state=state, library=StoryLibrary(STORIES), scenario="goof-off")
    assert second.statuses() == first.statuses() and second.as_written.keys() == first.as_written.keys()


def test_a_served_page_runs_the_evidence_on_a_worker_thread(monkeypatch, checked):
    """Served, a story whose simulations are not cached yet opens at once saying 'checking'; the results
    come from a worker thread through the page's event loop, and a story shown meanwhile wins."""
    import threading

    from explorer import checks
    from explorer.stories import evidence as evidence_mod
    from explorer.ui import story_panel

    evidence_mod.SHARED.clear()
    queued = []
    release = threading.Event()
    real = checks.simulate

    def slow(world, params):
        release.wait(30)
        return real(world, params)

    monkeypatch.setattr(checks, "simulate", slow)
    monkeypatch.setattr(story_panel, "_served_doc", lambda: object())
    monkeypatch.setattr(story_panel, "on_page", lambda doc, callback: queued.append(callback))
    panel = StoryPanel(state=state_for("goof-off"), library=StoryLibrary(STORIES), scenario="goof-off")
    assert panel.checking and panel.statuses() == {}
    assert set(shown_statuses(panel).values()) == {"checking"} and "Running the evidence as written" in panel.html()
    panel.show("speed-prior")  # another story while the first runs
    release.set()
    assert panel.wait(60)
    for callback in queued:  # the event loop runs what the workers handed over, in order
        callback()
    assert not panel.checking and panel.story_name == "speed-prior"
    assert panel.statuses() == checked["speed-prior"] and shown_statuses(panel) == checked["speed-prior"]
