"""The story editor without a browser: every widget edits the story, messages, check, save and conflicts."""

import asyncio
import concurrent.futures
import re

import panel as pn
import pytest

from explorer.checks import literal as parse_literal
from explorer.stories import fileformat
from explorer.stories.library import StoryLibrary
from explorer.stories.model import Predicate
from explorer.ui.story_editor import StoryEditor, run_evidence
from explorer.ui.story_forms import EvidenceForm, parse_conditions, parse_params

XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"

STORY = """\
---
schema: 1
title: Goofing off, checked cheaply
authors: [Ada]
revision: 1
goal_class: narrow-agent
rationale_classes:
  - inductive-bias-analysis
failure_modes:
  - inner-alignment
components:
  goal_specification:
    claims:
      - id: GS1
        text: The selected program spends compute only on the task.
        evidence: [honest-map]
  goal_desirability:
    undeveloped: true
  rationale_constraints:
    undeveloped: true
  rationale_nudges:
    claims:
      - id: RN1
        text: The average-case prior leaves less goof-off mass than the max prior.
        evidence: [average-below-max]
      - id: RN2
        text: A claim the model refutes.
        evidence: [nobody-good]
criteria:
  goal_alignment: {rating: moderate, basis: [GS1]}
  goal_competitiveness: {rating: unknown, basis: [GS1]}
  rationale_alignment: {rating: strong, basis: [RN1]}
  rationale_competitiveness: {rating: unknown, basis: [RN1]}
assumptions:
  - name: weight
    parameter: w_avg
    nominal: 1.0
    range: [0.0, 4.0]
evidence:
  - id: honest-map
    scenario: goof-off
    params: {n_programs: 20000}
    assumptions: [weight]
    predicate: {metric: average_speed.map.kind, op: ==, value: honest}
  - id: average-below-max
    scenario: goof-off
    params: {n_programs: 20000}
    predicate: {metric: average_speed.posterior.goof_off, op: <, other: max_speed.posterior.goof_off}
  - id: nobody-good
    scenario: goof-off
    params: {n_programs: 20000}
    predicate: {metric: average_speed.actually_good, op: <, value: 0.5}
---
# The narrative

Goof-offs waste compute on easy tasks.
"""


@pytest.fixture
def lib(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "goof.story.md").write_text(STORY)
    (tmp_path / "templates" / "narrow-agent.story.md").write_text(STORY.replace("Goofing off, checked cheaply", "Template"))
    return StoryLibrary(tmp_path)


@pytest.fixture
def editor(lib):
    ed = StoryEditor(lib, story="goof")
    assert ed.story_name == "goof"
    return ed


def saved_story(editor):
    """What Save would write, read back."""
    return fileformat.loads(editor.text())


def claim_form(editor, component, i=0):
    return editor.components[component].claims[i]


def test_the_editor_opens_a_story_without_problems(editor):
    assert editor.story.title == "Goofing off, checked cheaply" and editor.story_name == "goof"
    assert editor.opened_revision == 1 and not editor.dirty
    assert editor.errors() == [] and "No problems found" in editor.messages_pane.object
    assert editor.picker.options == ["goof", "templates/narrow-agent"]
    assert editor.template.options[1:] == ["templates/narrow-agent"]
    assert editor.text() == STORY  # nothing edited: the file's exact text


def test_header_widgets_edit_the_story(editor):
    h = editor.header
    h.title.value_input = "A new title"
    h.authors.value = "Ada\nGrace\n"
    h.goal_class.value = "custom"
    assert h.goal_custom.visible
    h.goal_custom.value = "An agent that only sorts"
    h.rationale.value = ["inductive-bias-analysis", "precursor-checking"]
    h.rationale_custom.value = "Arguments from pictures"
    h.failure_modes.value = ["deceptive-alignment"]
    story = saved_story(editor)
    assert story.title == "A new title" and story.authors == ["Ada", "Grace"]
    assert story.goal_class.custom == "An agent that only sorts" and story.goal_class.id is None
    assert [(c.id, c.custom) for c in story.rationale_classes] == [
        ("inductive-bias-analysis", None), ("precursor-checking", None), (None, "Arguments from pictures")]
    assert story.failure_modes == ["deceptive-alignment"]
    assert editor.dirty and "unsaved changes" in editor.status.object
    h.goal_class.value = "myopic-agent"
    assert saved_story(editor).goal_class.id == "myopic-agent"


def test_component_and_claim_widgets_edit_the_story(editor):
    comp = editor.components["goal_desirability"]
    comp.undeveloped.value = False
    comp.note.value = "Worked out below."
    new = comp.add("Nothing lost by honesty.")
    assert new.claim.id == "GD1"
    new.evidence.value = ["honest-map"]
    new.rests_on.value = ["GS1"]
    first = claim_form(editor, "rationale_nudges", 0)
    first.text.value_input = "Edited nudge claim."
    first.undeveloped.value = True
    second = claim_form(editor, "rationale_nudges", 1)
    editor.components["rationale_nudges"].remove(second)
    story = saved_story(editor)
    gd = story.components["goal_desirability"]
    assert not gd.undeveloped and gd.note == "Worked out below."
    assert [(c.id, c.text, c.evidence, c.rests_on) for c in gd.claims] == [("GD1", "Nothing lost by honesty.", ["honest-map"], ["GS1"])]
    assert [(c.id, c.text, c.undeveloped) for c in story.components["rationale_nudges"].claims] == [("RN1", "Edited nudge claim.", True)]
    # the new claim is offered wherever claims are chosen, the removed one no longer is
    basis = editor.criteria["goal_alignment"].basis
    assert "GD1" in basis.options.values() and "RN2" not in basis.options.values()


def test_renaming_an_id_updates_every_choice_of_it(editor):
    ev = editor.evidence.forms[0]
    ev.id.value = "honest-at-map"
    evidence_choice = claim_form(editor, "goal_specification").evidence
    assert "honest-at-map" in evidence_choice.options.values()
    # the claim still names the old id: a dangling reference, kept visible and reported
    assert evidence_choice.value == ["honest-map"] and "honest-map" in evidence_choice.options.values()
    assert any(m.code == "TS-V04" and "honest-map" in m.text for m in editor.errors())


def test_criteria_assumptions_evidence_and_sweep_widgets_edit_the_story(editor):
    crit = editor.criteria["goal_competitiveness"]
    crit.rating.value = "weak"
    crit.basis.value = ["GS1", "RN1"]
    crit.note.value = "Sorting only."
    a = editor.assumptions.forms[0]
    a.parameter.value = "misbehaviour_cost"
    a.nominal.value = 2.0
    a.low.value, a.high.value = 0.5, 6.0
    a.note.value = "How much a goof-off wastes."
    e = editor.evidence.forms[2]
    e.scenario.value = "lookup-table"
    e.params.value = "n_programs=20000\ngeneralization_check=false\nkind_mix=honest:0.5,lookup:0.5"
    e.metric.value = "max_speed.posterior.lookup"
    e.op.value = ">"
    e.value.value = "0.25"
    ext = editor.evidence.add()
    ext.kind.value = EvidenceForm.SOURCE
    ext.source.value = "Ilyas et al. 2019"
    ext.finding.value = "refutes"
    s = editor.sweeps.add()
    s.assumptions.value = ["weight"]
    s.points.value = 5
    s.params.value = "n_programs=20000"
    s.safely.value = "average_speed.actually_good < 0.5"
    s.catastrophically.value = "average_speed.posterior.goof_off > max_speed.posterior.goof_off\naverage_speed.map.kind == goof_off"
    editor.body.value_input = "# New narrative"
    story = saved_story(editor)
    assert (story.criteria["goal_competitiveness"].rating, story.criteria["goal_competitiveness"].basis,
            story.criteria["goal_competitiveness"].note) == ("weak", ["GS1", "RN1"], "Sorting only.")
    asm = story.assumptions[0]
    assert (asm.parameter, asm.nominal, asm.range, asm.note) == ("misbehaviour_cost", 2.0, (0.5, 6.0), "How much a goof-off wastes.")
    ev = story.evidence[2]
    assert ev.scenario == "lookup-table"
    assert ev.params == {"n_programs": 20000, "generalization_check": False, "kind_mix": {"honest": 0.5, "lookup": 0.5}}
    assert ev.predicate == Predicate(metric="max_speed.posterior.lookup", op=">", value=0.25)
    assert (story.evidence[3].source, story.evidence[3].finding, story.evidence[3].simulated) == ("Ilyas et al. 2019", "refutes", False)
    sweep = story.sweeps[0]
    assert (sweep.assumptions, sweep.points, sweep.params) == (["weight"], 5, {"n_programs": 20000})
    assert sweep.fails_safely == [Predicate(metric="average_speed.actually_good", op="<", value=0.5)]
    assert sweep.fails_catastrophically == [
        Predicate(metric="average_speed.posterior.goof_off", op=">", other="max_speed.posterior.goof_off"),
        Predicate(metric="average_speed.map.kind", op="==", value="goof_off")]
    assert story.body == "# New narrative"
    editor.evidence.remove(ext)
    assert [e.id for e in saved_story(editor).evidence] == ["honest-map", "average-below-max", "nobody-good"]


def test_comparing_with_another_metric_and_bad_parameter_lines(editor):
    e = editor.evidence.forms[0]
    e.against.value = "max_speed.map.kind"
    assert e.value.disabled
    assert saved_story(editor).evidence[0].predicate == Predicate(metric="average_speed.map.kind", op="==", other="max_speed.map.kind")
    e.params.value = "n_programs=20000\nwarp=9\nmemory=7\nno equals sign"
    assert e.problems.visible
    text = e.problems.object
    assert "unknown parameter &#x27;warp&#x27;" in text and "memory" in text and "not name=value" in text
    assert saved_story(editor).evidence[0].params == {"n_programs": 20000, "memory": 7.0}
    assert any(m.code == "TS-V07" and "memory" in m.text for m in editor.errors())  # out of bounds, from the validator


def test_validation_messages_appear_inline_as_the_story_is_edited(editor):
    claim = claim_form(editor, "rationale_nudges", 0)
    claim.evidence.value = []
    [msg] = [m for m in editor.errors() if m.code == "TS-V03"]
    assert "RN1" in msg.text and msg.line > 0
    assert "TS-V03" in editor.messages_pane.object and claim.messages.visible and "TS-V03" in claim.messages.object
    assert not claim_form(editor, "goal_specification").messages.visible  # only the claim it is about
    assert "1 error(s)" in editor.status.object
    editor.criteria["rationale_alignment"].rating.value = ""
    assert any(m.code == "TS-V08" for m in editor.errors()) and editor.criteria["rationale_alignment"].messages.visible
    claim.undeveloped.value = True
    assert not any(m.code == "TS-V03" for m in editor.errors()) and not claim.messages.visible
    editor.criteria["rationale_alignment"].rating.value = "weak"
    editor.header.title.value_input = "  "
    assert [m.code for m in editor.errors()] == ["TS-F05"]  # a story that would not load again: the loader says why


def test_check_shows_each_claims_status_and_edits_make_results_unchecked(editor):
    def badge_of(component, i):
        return re.search(r"story-status-(\w+)", claim_form(editor, component, i).status.object).group(1)

    assert badge_of("goal_specification", 0) == "unchecked"
    statuses = editor.check()
    assert statuses == {"GS1": "supported", "RN1": "supported", "RN2": "refuted"}
    assert [badge_of("goal_specification", 0), badge_of("rationale_nudges", 0), badge_of("rationale_nudges", 1)] == [
        "supported", "supported", "refuted"]
    assert "fails" in editor.evidence.forms[2].result.object and "holds" in editor.evidence.forms[0].result.object
    editor.evidence.forms[2].value.value = "1.5"  # the predicate changed: its old result no longer applies
    assert badge_of("rationale_nudges", 1) == "unchecked" and badge_of("goal_specification", 0) == "supported"
    editor.assumptions.forms[0].nominal.value = 3.0  # the assumption under honest-map moved
    assert badge_of("goal_specification", 0) == "unchecked"
    # The button's path (its work runs in a worker thread). A fresh thread gets its own event loop:
    # the browser tests' Playwright keeps one running in this thread when the whole suite runs.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, editor._check_clicked()).result()
    assert badge_of("rationale_nudges", 1) == "supported" and not editor.running


def test_evidence_that_cannot_run_does_not_stop_the_others(editor):
    e = editor.evidence.forms[0]
    e.params.value = "n_programs=20000\nmemory=7"  # parses as a number; the simulation refuses it
    results, problems = run_evidence(editor.story)
    assert set(results) == {"average-below-max", "nobody-good"} and "memory" in problems["honest-map"]
    editor.check()
    assert "could not run" in e.result.object


def test_save_writes_the_file_and_a_conflict_keeps_the_edits(editor, lib, tmp_path):
    other = StoryEditor(lib, story="goof")
    claim_form(editor, "goal_specification").text.value_input = "First session's claim."
    claim_form(other, "goal_specification").text.value_input = "Second session's claim."
    assert editor.save()
    on_disk = (tmp_path / "goof.story.md").read_text()
    assert "First session's claim." in on_disk and "revision: 2" in on_disk
    assert editor.opened_revision == 2 and not editor.dirty and editor.alert.visible and "Saved goof" in editor.alert.object
    assert not other.save()
    assert "story-conflict" in other.alert.object and "saved by someone else" in other.alert.object
    assert (tmp_path / "goof.story.md").read_text() == on_disk  # nothing overwritten
    assert claim_form(other, "goal_specification").text.value_input == "Second session's claim."  # edits kept
    assert "Second session&#x27;s claim." not in on_disk and "Second session's claim." in other.text()
    assert other.download.filename == "goof.story.md" and "Second session's claim." in other._download_text().getvalue()
    assert other.save_as_name.value == "goof-mine"
    assert other.save_as(other.save_as_name.value)
    assert other.story_name == "goof-mine" and "goof-mine" in other.picker.options
    assert "Second session's claim." in (tmp_path / "goof-mine.story.md").read_text()
    claim_form(editor, "goal_specification").text.value_input = "Saved twice."
    assert editor.save() and lib.open("goof").revision == 3  # the first session goes on from its own save
    editor.header.title.value_input = " "
    assert editor.save() is False and "would not load again" in editor.alert.object and "title" in editor.alert.object
    assert lib.open("goof").title == "Goofing off, checked cheaply" and editor.story.title == " "


def test_a_malformed_file_shows_a_located_error_and_the_session_goes_on(editor, lib, tmp_path):
    (tmp_path / "broken.story.md").write_text(STORY.replace("revision: 1", "revision: [1"))
    editor.refresh_library()
    assert editor.open("broken") is None
    assert editor.alert.visible and re.search(r"broken\.story\.md:\d+: error TS-F03", editor.alert.object)
    assert editor.story_name == "goof"  # the open story is still there
    assert editor.open("nope") is None and "no story named" in editor.alert.object
    assert editor.open("../etc/passwd") is None and "not a valid story name" in editor.alert.object
    assert editor.open("templates/narrow-agent") and not editor.alert.visible


def test_new_from_a_template_must_be_saved_under_a_name(editor, lib):
    assert editor.new("templates/narrow-agent")
    assert editor.story.title == "Template" and editor.story_name is None and editor.dirty
    assert editor.save() is None and "not been saved yet" in editor.alert.object
    assert editor.save_as("") is None and "type a name" in editor.alert.object
    assert editor.save_as("goof") is None and "already exists" in editor.alert.object
    assert editor.save_as("mine/first")
    assert lib.open("mine/first").title == "Template" and editor.opened_revision == 1
    assert editor.new()
    assert editor.story.title == "Untitled training story" and editor.text().startswith("---\nschema: 1\n")


def test_user_text_is_shown_sanitised(editor):
    editor.body.value_input = f"# Body\n\n{XSS_IMG}\n\n{XSS_SCRIPT}\n\n[link](javascript:alert(1))"
    html = editor.preview.object
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html and "<h1>Body</h1>" in html
    ev = editor.evidence.forms[0]
    ev.id.value = "<img/src=\"x\"onerror=alert(1)>"  # ids have no spaces, but may still be markup
    labels = list(claim_form(editor, "goal_specification").evidence.options)
    assert "&lt;img/src=&quot;x&quot;onerror=alert(1)&gt;" in labels and not any("<img" in label for label in labels)
    assert "<img" not in editor.messages_pane.object
    editor.show_alert(XSS_SCRIPT)
    assert "<script" not in editor.alert.object


def test_parsers_never_evaluate_text():
    assert parse_literal("0.25") == 0.25 and parse_literal("3") == 3 and parse_literal("true") is True
    assert parse_literal("honest") == "honest" and parse_literal("'__import__(\"os\")'") == '__import__("os")'
    params, problems = parse_params("w_avg = 2\n# a comment\n\nseed=1.5")
    assert params == {"w_avg": 2.0} and len(problems) == 1 and "seed" in problems[0]
    preds, problems = parse_conditions("a.b >= 1\nnonsense\nx.y == z.w", {"z.w"})
    assert preds == [Predicate("a.b", ">=", 1), Predicate("x.y", "==", other="z.w")] and "line 2" in problems[0]


def test_the_editor_renders(editor):
    assert pn.panel(editor).get_root() is not None


# ---- the story panel beside a simulation ---------------------------------------------------------------


@pytest.fixture
def panel_lib(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "goof-off.story.md").write_text(STORY)
    (tmp_path / "speed-prior.story.md").write_text(
        STORY.replace("Goofing off, checked cheaply", f"Fallback {XSS_IMG}")
             .replace("The selected program spends compute only on the task.", XSS_SCRIPT))
    return StoryLibrary(tmp_path)


def test_the_panel_follows_the_simulations_current_parameters(panel_lib):
    from explorer.scenarios import preset_params
    from explorer.ui.state import SimulationState
    from explorer.ui.story_panel import StoryPanel

    state = SimulationState(**{**preset_params("goof-off"), "n_programs": 20_000})
    panel = StoryPanel(state=state, library=panel_lib, scenario="goof-off")
    assert panel.story_name == "scenarios/goof-off" and panel.picker.value == "scenarios/goof-off"
    assert panel.statuses() == {"GS1": "supported", "RN1": "supported", "RN2": "refuted"}
    assert panel.here["average-below-max"].holds and "story-holds" in panel.view.object
    assert "./stories?story=scenarios/goof-off" in panel.view.object
    state.apply(w_avg=0.0)  # no average-compute penalty: goof-offs come back, as the essay predicts
    assert not panel.here["average-below-max"].holds and panel.here["honest-map"].value == "goof_off"
    # ... at the page's settings; the statuses stay those story check computes with the story's own parameters
    assert panel.statuses() == {"GS1": "supported", "RN1": "supported", "RN2": "refuted"}
    assert panel.here_verdicts()["RN1"] == "fails" and "this claim would not hold" in panel.view.object
    report = panel.report()
    assert report["name"] == "scenarios/goof-off" and report["evidence"]["average-below-max"]["at_this_page"]["holds"] is False
    assert {c["id"]: c["status"] for c in report["claims"]}["RN1"] == "supported"
    state.apply(kind_mix={"honest": 1.0})  # no goof-offs at all: predicates about them say why they cannot be read
    assert panel.here["honest-map"].holds is True
    panel.scenario = "memory"  # no story of its own: the fallback, its text escaped
    assert panel.story_name == "speed-prior"
    html = panel.view.object
    assert "<img" not in html and "<script" not in html and "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html
    assert "written for goof-off" in html  # evidence of another scenario says so
    panel.picker.value = "(no story)"
    assert panel.story is None and "No training story" in panel.view.object


def test_the_panel_shows_a_broken_story_file_and_goes_on(panel_lib, tmp_path):
    from explorer.ui.state import SimulationState
    from explorer.ui.story_panel import StoryPanel

    (tmp_path / "broken.story.md").write_text("---\ntitle: [\n---\n")
    panel = StoryPanel(state=SimulationState(n_programs=5_000), library=panel_lib)
    panel.picker.value = "broken"
    assert panel.story is None and "broken.story.md:3: error TS-F03" in panel.view.object
    panel.picker.value = "scenarios/goof-off"
    assert panel.story.title == "Goofing off, checked cheaply"


def test_the_dashboard_exports_its_story(panel_lib):
    import json

    from explorer.ui.dashboard import PriorsDashboard

    dashboard = PriorsDashboard(n_programs=5_000, story_library=panel_lib, scenario="memory")
    report = json.loads(dashboard.export_json().getvalue())
    assert report["story"]["name"] == "speed-prior" and [c["id"] for c in report["story"]["claims"]] == ["GS1", "RN1", "RN2"]
    [story] = [part for part in dashboard.snapshot() if part.name == "story"]  # what export_html saves
    html = story.object
    assert "Fallback" in html and "window.__xss=2" in html  # the story is in the export ...
    assert XSS_IMG not in html and XSS_SCRIPT not in html and "<img src=x" not in html  # ... as escaped text


def test_removing_one_of_two_equal_claims_removes_that_one(editor):
    comp = editor.components["rationale_constraints"]
    first, second = comp.add("Same words."), comp.add("Same words.")
    second.id.value = first.claim.id  # now equal by value (a duplicate id, which validation reports)
    assert first.claim == second.claim and any(m.code == "TS-V10" for m in editor.errors())
    comp.remove(second)
    [left] = editor.story.components["rationale_constraints"].claims
    assert left is first.claim  # the form left on the page still edits the claim left in the story
    first.text.value_input = "Changed words."
    assert saved_story(editor).components["rationale_constraints"].claims[0].text == "Changed words."


# ---- the library first, the map, problems beside their fields ---------------------------------------------


def test_the_editor_opens_on_the_library_not_a_blank_story(lib):
    ed = StoryEditor(lib)
    assert ed.mode == "library" and ed.story_name is None
    assert ed._library_part.visible and not ed._story_part.visible
    assert "The story library: 2 stories" in ed.status.object and "error" not in ed.status.object
    rows = [o for o in ed.library_list.objects if isinstance(o, pn.Row)]
    assert len(rows) == 2 and "Goofing off, checked cheaply" in rows[0][1].object
    assert "3 claims" in rows[0][1].object  # its claims, with their recorded statuses
    rows[0][0].clicks += 1  # Open, as a click does
    assert ed.mode == "story" and ed.story_name == "goof" and ed._story_part.visible and not ed._library_part.visible
    ed.show_library()
    assert ed.mode == "library" and ed.back_button.visible and ed.story_name == "goof"  # the story waits
    ed.back_button.clicks += 1
    assert ed.mode == "story"


def test_the_catalogue_says_what_each_story_is(lib, tmp_path):
    from explorer.stories.catalogue import about, catalogue

    (tmp_path / "broken.story.md").write_text("---\ntitle: [\n---\n")
    entries = {e.name: e for e in catalogue(lib)}
    assert list(entries) == ["broken", "goof", "templates/narrow-agent"]  # templates last
    assert entries["goof"].title == "Goofing off, checked cheaply" and entries["goof"].claims == 3
    assert entries["goof"].about == "Goof-offs waste compute on easy tasks."
    assert sum(entries["goof"].statuses.values()) == 3
    assert "TS-F03" in entries["broken"].problem and entries["templates/narrow-agent"].template
    assert about("# Head\n\nSome **bold** [link](http://x) text.\n\nMore.") == "Some bold link text."


def test_problems_name_the_part_they_are_about_not_a_file_line(editor):
    claim = claim_form(editor, "rationale_nudges", 0)
    claim.evidence.value = []
    side = editor.messages_pane.object
    assert "Claims › claim RN1" in side.replace("&#8250;", "›") or "Claims \u203a claim RN1" in side
    assert "goof.story.md:" not in side and ".story.md" not in claim.messages.object
    assert "TS-V03" in claim.messages.object
    editor.header.title.value_input = "  "
    assert editor.header.messages.visible and "TS-F05" in editor.header.messages.object  # beside the title
    assert "Story › title" in editor.messages_pane.object.replace("&#8250;", "›")


def test_sweeps_and_every_section_have_a_tab(editor):
    from explorer.ui.story_editor import SECTIONS

    assert [editor.tabs._names[i] for i in range(len(SECTIONS))] == list(SECTIONS)
    sweeps = editor._sections["Sweeps"].objects
    assert editor.sweeps.add_button in sweeps and len(sweeps) == len(editor.sweeps.forms) + 2  # and the runner
    form = editor.sweeps.add()
    assert form.layout in editor._sections["Sweeps"].objects  # laid out again after an add
    comp = editor.components["goal_desirability"]
    new = comp.add("A new claim")
    assert new.layout in editor._sections["Claims"].objects
    comp.remove(new)
    assert new.layout not in editor._sections["Claims"].objects


def test_the_editors_map_shows_the_story_and_a_tap_opens_the_form(editor):
    from explorer.ui.story_editor import SECTIONS

    colours = editor.map.colours()
    assert {"claim:GS1", "claim:RN1", "evidence:honest-map", "criterion:goal_alignment"} <= set(colours)
    before = editor.map.figure
    editor.check()  # statuses change: the same plot, its colours patched
    assert editor.map.figure is before
    statuses = editor.statuses()
    assert colours != editor.map.colours() or all(s == "unchecked" for s in statuses.values())
    keys = editor.map.nodes.data["key"]
    editor.map.nodes.selected.indices = [keys.index("evidence:average-below-max")]  # a tap
    assert editor.tabs.active == SECTIONS.index("Evidence") and editor.focused == "evidence:average-below-max"
    form = editor.form_of("evidence", "average-below-max")
    assert form.layout.styles.get("border-left", "").startswith("4px solid")
    editor.map.nodes.selected.indices = [keys.index("criterion:rationale_alignment")]
    assert editor.tabs.active == SECTIONS.index("Criteria")
    assert not form.layout.styles.get("border-left", "").startswith("4px")  # only one part is marked
    assert editor.focus("claim", "nope") is None and "no claim &#x27;nope&#x27;" in editor.alert.object


def test_the_panels_map_follows_the_slider_and_a_tap_says_what_a_node_is(panel_lib):
    from explorer.scenarios import preset_params
    from explorer.ui.state import SimulationState
    from explorer.ui.story_panel import StoryPanel

    state = SimulationState(**{**preset_params("goof-off"), "n_programs": 20_000})
    panel = StoryPanel(state=state, library=panel_lib, scenario="goof-off")
    green, red = "#009E73", "#D55E00"
    assert panel.map.colours()["evidence:average-below-max"] == (green, green)  # supported, holds here
    data = panel.map.nodes.data
    state.apply(w_avg=0.0)
    assert panel.map.nodes.data is data  # patched in place, not redrawn
    assert panel.map.colours()["evidence:average-below-max"] == (green, red)  # status stays, fails here
    assert panel.map.colours()["claim:RN1"] == (green, red)
    panel.map.nodes.selected.indices = [data["key"].index("claim:RN1")]
    assert panel.focused.visible and "fails here" in panel.focused.object
    assert "./stories?story=scenarios/goof-off&amp;item=claim:RN1" in panel.focused.object
    state.apply(w_avg=1.0)
    assert panel.map.colours()["claim:RN1"] == (green, green) and "fails here" not in panel.focused.object
    panel.show_map.value = False
    assert not panel.map.layout.visible


def test_a_problem_opens_the_form_it_is_about(editor):
    from explorer.ui.story_editor import SECTIONS

    assert not editor.goto.visible
    claim_form(editor, "rationale_nudges", 0).evidence.value = []
    editor.criteria["goal_alignment"].rating.value = ""
    assert editor.goto.visible and len(editor.goto.options) == 3  # (none), and each part with a problem
    editor.goto.value = next(o for o in editor.goto.options if "claim RN1" in o)
    assert editor.tabs.active == SECTIONS.index("Claims")
    layout = claim_form(editor, "rationale_nudges", 0).layout
    assert layout.styles.get("border-left", "").startswith("4px solid")
    editor.goto.value = next(o for o in editor.goto.options if "criterion" in o)
    assert editor.tabs.active == SECTIONS.index("Criteria") and not layout.styles.get("border-left", "").startswith("4px")


# ---- workshop mode: reading is open, saving needs signing in (issue 14) ----------------------------------

@pytest.fixture
def workshop(monkeypatch):
    from explorer import editor_access

    monkeypatch.setenv("EXPLORER_WORKSHOP", "1")
    monkeypatch.setenv("EXPLORER_EDITOR_PASSWORD_HASH", editor_access.hash_password("room-42", iterations=1000))


def test_in_workshop_mode_an_unsigned_session_reads_but_cannot_save(workshop, lib, tmp_path):
    editor = StoryEditor(lib, story="goof")
    before = (tmp_path / "goof.story.md").read_bytes()
    assert editor.story.title == "Goofing off, checked cheaply"  # reading is open
    assert editor.save_button.disabled and editor.save_as_button.disabled
    assert editor.save_reason.visible and "Sign in to save; reading is open to everyone." in editor.save_reason.object
    assert editor.sign_in.layout.visible and editor.sign_in._fields.visible
    claim_form(editor, "goal_specification").text.value_input = "An unsigned edit."
    # A button re-enabled in a hostile browser still calls the server's save, which checks:
    assert editor.save() is None and "Sign in to save" in editor.alert.object
    assert editor.save_as("unsigned-copy") is None and "Sign in to save" in editor.alert.object
    assert (tmp_path / "goof.story.md").read_bytes() == before and not lib.exists("unsigned-copy")
    assert editor.dirty and "An unsigned edit." in editor.text()  # the edits stay in the page


def test_in_workshop_mode_signing_in_enables_saving_and_records_the_author(workshop, lib, tmp_path):
    editor = StoryEditor(lib, story="goof")
    editor.sign_in.name_input.value_input = f"Eve {XSS_IMG}"
    editor.sign_in.password.value_input = "room-41"
    assert not editor.sign_in.sign_in()
    assert "wrong password" in editor.sign_in.message.object and editor.save_button.disabled
    assert editor.sign_in.password.value == "" and editor.sign_in.password.value_input == ""  # not kept
    assert editor.sign_in.sign_in(f"Eve {XSS_IMG}", "room-42")
    assert not editor.save_button.disabled and not editor.save_as_button.disabled and not editor.save_reason.visible
    assert "Signed in as <b>Eve &lt;img" in editor.sign_in.state.object and XSS_IMG not in editor.sign_in.state.object
    claim_form(editor, "goal_specification").text.value_input = "A signed-in edit."
    assert editor.save()
    assert lib.saved_by("goof").author == f"Eve {XSS_IMG}" and "A signed-in edit." in lib.open("goof").components[
        "goal_specification"].claims[0].text
    assert "saved by <b>Eve &lt;img" in editor.status.object and XSS_IMG not in editor.status.object
    assert "revision 2 (this one): saved by <b>Eve &lt;img" in editor.history_pane.object
    assert "revision 1: <i>author not recorded</i>" in editor.history_pane.object
    assert XSS_IMG not in editor.history_pane.object
    assert editor.save_as("signed-copy") and lib.saved_by("signed-copy").author == f"Eve {XSS_IMG}"
    editor.sign_in.sign_out()
    assert editor.save_button.disabled and editor.save() is None


def test_sign_in_attempts_are_limited_per_session_in_the_page(workshop, lib):
    editor = StoryEditor(lib, story="goof")
    for _ in range(5):
        assert not editor.sign_in.sign_in("Mallory", "guess")
    assert not editor.sign_in.sign_in("Mallory", "room-42")
    assert "too many sign-in attempts" in editor.sign_in.message.object and editor.save_button.disabled


def test_an_oauth_user_is_signed_in_without_the_form(workshop, lib):
    from explorer import editor_access
    from explorer.ui.sign_in import SignInForm

    form = SignInForm(editor_access.SignIn(oauth_user="ada@example.org"))
    editor = StoryEditor(lib, story="goof", sign_in=form)
    assert not editor.save_button.disabled and not form._fields.visible and not form.sign_out_button.visible
    assert editor.save() and lib.saved_by("goof").author == "ada@example.org"


def test_outside_workshop_mode_nothing_changes_and_the_os_user_is_the_author(lib, monkeypatch):
    monkeypatch.delenv("EXPLORER_WORKSHOP", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "laptop-owner")
    editor = StoryEditor(lib, story="goof")
    assert not editor.save_button.disabled and not editor.save_reason.visible and not editor.sign_in.layout.visible
    assert editor.save() and lib.saved_by("goof").author == "laptop-owner"
    assert "saved by <b>laptop-owner</b>" in editor.status.object
