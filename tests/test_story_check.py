"""`python -m explorer story check`: exit codes, located messages, evidence lines, --record, --replace, --json.

The command-line tests run the real CLI in a subprocess (what a user or CI runs); the finer cases call
`check_file` in-process. Evidence uses 20,000 programs so a run takes a fraction of a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import checks
from explorer.cli.story import cmd_check as main
from explorer.errors import ExplorerError
from explorer.stories import evidence as evidence_mod
from explorer.stories.check import check_file
from explorer.stories.fileformat import dumps, load, loads

ROOT = Path(__file__).resolve().parents[1]

STORY = """\
---
schema: 1
title: Deception under an average-case speed prior
revision: 1
goal_class: narrow-agent
components:
  goal_specification:
    claims:
      - id: GS1
        text: Training should pick an honest solver.
        evidence: [E1]
  goal_desirability:
    undeveloped: true
  rationale_constraints:
    undeveloped: true
  rationale_nudges:
    claims:
      - id: RN1
        text: Little posterior mass is left on deceptive programs.
        evidence: [E1, E2]
      - id: RN2
        text: Deception wins outright (it does not).
        evidence: [E3]
criteria:
  goal_alignment: {rating: moderate, basis: [GS1]}
  goal_competitiveness: {rating: weak, basis: [GS1]}
  rationale_alignment: {rating: moderate, basis: [RN1]}
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
  - id: E3
    scenario: deceptive-planner
    params: {n_programs: 20000}
    predicate: {metric: average_speed.posterior.deceptive, op: ">", other: average_speed.posterior.honest}
---
# Deception under an average-case speed prior

The body stays as written.
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explorer", "story", "check", *args], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture
def story(tmp_path) -> Path:
    path = tmp_path / "deception.story.md"
    path.write_text(STORY, encoding="utf-8")
    return path


def write(tmp_path, text: str, name: str = "bad.story.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- the command line ------------------------------------------------------------------------------

def test_good_story_passes_and_reports_evidence_and_claims(story):
    out = cli(str(story))
    assert out.returncode == 0, out.stderr + out.stdout
    lines = out.stdout.splitlines()
    e1 = line_of(STORY, "- id: E1")
    assert any(line.startswith(f"{story}:{e1}: E1 holds: average_speed.posterior.deceptive = ")
               and line.endswith(" < 0.25") for line in lines), out.stdout
    e3 = line_of(STORY, "- id: E3")
    assert any(line.startswith(f"{story}:{e3}: E3 fails: average_speed.posterior.deceptive = ")
               and "> average_speed.posterior.honest = " in line for line in lines), out.stdout
    assert f"{story}:{line_of(STORY, '- id: GS1')}: claim GS1 supported" in lines
    assert f"{story}:{line_of(STORY, '- id: RN2')}: claim RN2 refuted" in lines
    assert lines[-1].startswith(
        f"{story}: 0 errors, 0 warnings; evidence: 2 hold, 1 fail; claims: 2 supported, 1 refuted")
    assert story.read_text() == STORY  # nothing written without --record


def test_errors_are_located_and_exit_1(tmp_path):
    text = STORY.replace("        evidence: [E3]\n", "")
    path = write(tmp_path, text)
    out = cli(str(path))
    assert out.returncode == 1
    want = f"{path}:{line_of(text, '- id: RN2')}: error TS-V03: claim RN2 has no evidence and is not marked undeveloped"
    assert any(line.startswith(want) for line in out.stdout.splitlines()), out.stdout
    assert "evidence not run (the file has errors)" in out.stdout
    assert " holds:" not in out.stdout  # evidence runs only when the file has no errors


@pytest.mark.parametrize("content,code", [
    (b"\x00\x01binary", "TS-F01"),
    (b"---\ntitle: [unclosed\n---\n", "TS-F03"),
    (b"no front matter\n", "TS-F02"),
    (STORY.replace("revision: 1", "revision: 1\ncolour: blue").encode(), "TS-F04"),
])
def test_unreadable_file_gives_located_message_not_traceback(tmp_path, content, code):
    path = tmp_path / "broken.story.md"
    path.write_bytes(content)
    out = cli(str(path))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    first = out.stdout.splitlines()[0]
    assert first.startswith(f"{path}:") and f" error {code}: " in first


def test_one_bad_file_among_good_ones_fails_the_run(story, tmp_path):
    bad = write(tmp_path, STORY.replace("goal_class: narrow-agent", "goal_class: oracle"))
    out = cli("--no-run", str(story), str(bad))
    assert out.returncode == 1
    assert f"{bad}:{line_of(STORY, 'goal_class')}: error TS-V02: unknown goal class 'oracle'" in out.stdout
    assert out.stdout.splitlines()[-1] == "2 files checked: 1 with errors"


@pytest.mark.parametrize("args,words", [
    (["--replace"], "--replace only makes sense with --record"),
    (["--record", "--no-run"], "cannot be combined with --no-run"),
])
def test_usage_mistakes_exit_2_with_one_line(story, args, words):
    out = cli(*args, str(story))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and words in out.stderr and "Traceback" not in out.stderr
    assert story.read_text() == STORY


def test_json_report(story, tmp_path):
    bad = write(tmp_path, STORY.replace("rating: weak, ", ""))
    out = cli("--json", str(story), str(bad))
    assert out.returncode == 1
    reports = json.loads(out.stdout)
    assert [r["file"] for r in reports] == [str(story), str(bad)]
    good, broken = reports
    assert good["errors"] == 0 and good["ran"] and good["claims"] == {"GS1": "supported", "RN1": "supported",
                                                                      "RN2": "refuted"}
    e1 = next(e for e in good["evidence"] if e["id"] == "E1")
    assert e1["holds"] is True and e1["params"] == {"n_programs": 20000, "w_avg": 2.0, "deception_overhead": 2.0}
    assert e1["change"] == "new" and e1["code_version"] == evidence_mod.code_version()
    assert broken["errors"] == 1 and not broken["ran"]
    msg = broken["messages"][0]
    assert (msg["code"], msg["line"], msg["severity"]) == ("TS-V08", line_of(STORY, "goal_competitiveness"), "error")


# ---- --record and --replace -------------------------------------------------------------------------

def test_record_writes_results_bumps_revision_and_round_trips(story):
    out = cli("--record", str(story))
    assert out.returncode == 0, out.stdout
    assert "recorded 3 results, revision 1 -> 2" in out.stdout
    text = story.read_text()
    saved = load(story)
    assert saved.revision == 2
    rec = saved.evidence_by_id()["E1"].recorded
    assert rec.holds is True and rec.code_version == evidence_mod.code_version()
    assert rec.params == {"n_programs": 20000, "w_avg": 2.0, "deception_overhead": 2.0}
    assert saved.evidence_by_id()["E3"].recorded.holds is False
    assert saved.evidence_by_id()["E3"].recorded.other is not None
    assert saved.body == loads(STORY).body and text.startswith("---\nschema: 1\ntitle: Deception")
    assert dumps(saved) == text  # the written file round-trips to the same bytes
    # Recording again changes nothing: same results, same revision, same bytes.
    again = cli("--record", str(story))
    assert again.returncode == 0 and "recorded" not in again.stdout.splitlines()[-1]
    assert story.read_text() == text


def test_differing_record_is_refused_without_replace_and_replaced_with_it(story):
    report = check_file(story, record=True)
    assert report.written and report.recorded == ["E1", "E2", "E3"]
    value = report.results["E1"].value
    edited = load(story)
    edited.evidence_by_id()["E1"].recorded.value = 0.2
    tampered = dumps(edited)
    story.write_text(tampered)
    rec_line = line_of(tampered, "recorded:")  # E1's, the first

    # Without --record, the changed result is reported as a warning.
    plain = check_file(story)
    [warning] = [m for m in plain.messages if m.code == "TS-V12"]
    assert warning.severity == "warning" and warning.line == rec_line
    assert not plain.errors and plain.changes["E1"] == "changed"

    out = cli("--record", str(story))
    assert out.returncode == 1
    assert f"{story}:{rec_line}: error TS-V12: evidence E1's recorded result (holds, value 0.2) differs" in out.stdout
    assert "--replace" in out.stdout
    assert story.read_text() == tampered  # never silently overwritten, and nothing else written either

    out = cli("--record", "--replace", str(story))
    assert out.returncode == 0, out.stdout
    assert "E1 holds" in out.stdout and "replaced" in out.stdout
    saved = load(story)
    assert saved.evidence_by_id()["E1"].recorded.value == value
    assert saved.revision == 3


def test_stale_record_after_changing_a_parameter(story):
    check_file(story, record=True)
    text = story.read_text()
    changed = text.replace("w_avg: 2.0}", "w_avg: 3.0}", 1)
    story.write_text(changed)
    out = cli("--no-run", str(story))
    assert out.returncode == 0  # stale is a warning
    want = f"{story}:{line_of(changed, 'recorded:')}: warning TS-V09: evidence E1's recorded result is stale"
    assert any(line.startswith(want) for line in out.stdout.splitlines()), out.stdout
    assert "w_avg 2 (now 3)" in out.stdout
    assert "claim GS1 stale" in out.stdout  # without a run, claims follow their records
    # The new result differs from the stale record, so --record alone refuses and --replace records it.
    report = check_file(story, record=True)
    assert report.changes["E1"] == "stale" and not report.written
    assert [m.code for m in report.errors] == ["TS-V12"]
    report = check_file(story, record=True, replace=True)
    assert report.written and report.replaced == ["E1"]
    assert load(story).evidence_by_id()["E1"].recorded.params["w_avg"] == 3.0
    assert not [m for m in check_file(story, run=False).messages if m.code == "TS-V09"]


def test_stale_record_with_the_same_answer_is_refreshed(story):
    check_file(story, record=True)
    text = story.read_text()
    e2 = load(story).evidence_by_id()["E2"]
    assert e2.recorded.value == "honest"
    # Another seed gives the same MAP kind: the record is stale, its answer the same, so --record refreshes it.
    before = "params: {n_programs: 20000}\n    predicate: {metric: average_speed.map.kind"
    story.write_text(text.replace(before, before.replace("20000}", "20000, seed: 1}")))
    report = check_file(story, record=True)
    assert report.changes["E2"] == "refresh" and report.written and "E2" in report.recorded
    assert load(story).evidence_by_id()["E2"].recorded.params == {"n_programs": 20000, "seed": 1}


def test_evidence_that_cannot_run_is_a_located_error(tmp_path, monkeypatch):
    path = write(tmp_path, STORY)

    def refuse(world, params):
        raise ExplorerError("backend: this machine has no CUDA device")

    monkeypatch.setattr(checks, "simulate", refuse)
    report = check_file(path)
    assert {(m.code, m.line) for m in report.errors} == {
        ("TS-V11", line_of(STORY, f"- id: {e}")) for e in ("E1", "E2", "E3")}
    assert "no CUDA device" in report.errors[0].text


def test_main_uses_the_parser_defaults(story, capsys):
    from explorer.cli import build_parser

    args = build_parser().parse_args(["story", "check", "--no-run", str(story)])
    assert main(args) == 0
    assert "evidence not run" in capsys.readouterr().out
    with pytest.raises(ExplorerError):
        main(build_parser().parse_args(["story", "check", "--replace", str(story)]))


def test_a_predicate_sets_each_side_s_parameters(tmp_path):
    """Story predicates use the one grammar of explorer.checks: params / other_params per side."""
    text = STORY.replace(
        '    predicate: {metric: average_speed.posterior.deceptive, op: ">", other: average_speed.posterior.honest}\n',
        "    predicate:\n      metric: average_speed.posterior.deceptive\n      params: {deception_overhead: 4.0}\n"
        "      op: <\n      other: average_speed.posterior.deceptive\n      other_params: {deception_overhead: 1.0}\n")
    text = text.replace("Deception wins outright (it does not).", "Costlier planning leaves less deceptive mass.")
    assert dumps(loads(text, "t.story.md")) == text  # written back as read
    report = check_file(write(tmp_path, text))
    assert not report.errors and report.results["E3"].holds
    assert report.results["E3"].value < report.results["E3"].other
    bad = text.replace("other_params: {deception_overhead: 1.0}", "other_params: {deception_overhed: 1.0}")
    report = check_file(write(tmp_path, bad))
    at = next(i for i, line in enumerate(bad.splitlines(), start=1) if line.strip() == "predicate:")
    assert [(m.code, m.line) for m in report.errors] == [("TS-V11", at)]
    assert "other_params set unknown parameter 'deception_overhed' (did you mean deception_overhead" in report.errors[0].text
