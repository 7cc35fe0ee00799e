"""The CLI run the way a user runs it: `python -m explorer ...` in a subprocess."""

import json
import os
import re
import subprocess
import sys

import pytest

from explorer.priors import PRIORS
from explorer.scenarios import SCENARIOS
from explorer.table import KINDS


def explorer(*args, timeout=120):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_scenarios_lists_every_preset_with_its_claim():
    run = explorer("scenarios")
    assert run.returncode == 0, run.stderr
    for s in SCENARIOS.values():
        assert s.id in run.stdout and s.claim in run.stdout


def test_scenarios_check_computes_the_claims():
    run = explorer("scenarios", "--check", "--json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert {r["id"] for r in rows} == set(SCENARIOS)
    assert all(c["passed"] for r in rows for c in r["checks"])


def test_select_json_has_the_documented_shape_and_the_essays_direction():
    run = explorer("select", "--scenario", "goof-off", "--set", "n_programs=20000", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["scenario"] == "goof-off" and report["params"]["n_programs"] == 20000
    assert set(report["priors"]) == set(PRIORS)
    for r in report["priors"].values():
        assert {"kind", "avg_compute", "max_compute", "bits"} <= set(r["map"])
        assert set(r["mass"]) == set(KINDS)
        assert 0 <= r["actually_good"] <= 1 and 0 <= r["deploy_perf"] <= 1
    priors = report["priors"]
    assert priors["average_speed"]["mass"]["goof_off"] < priors["max_speed"]["mass"]["goof_off"]


def test_select_human_output_and_backend():
    run = explorer("select", "--scenario", "lookup-table", "--set", "n_programs=20000", "--backend", "torch")
    assert run.returncode == 0, run.stderr
    assert "average_speed" in run.stdout and "lookup" in run.stdout and "backend: torch" in run.stdout


def test_set_overrides_the_scenario():
    a = json.loads(explorer("select", "--scenario", "goof-off", "--set", "n_programs=20000", "--json").stdout)
    b = json.loads(explorer("select", "--scenario", "goof-off", "--set", "n_programs=20000", "--set", "w_avg=0", "--json").stdout)
    assert b["params"]["w_avg"] == 0
    assert b["priors"]["average_speed"]["mass"] != a["priors"]["average_speed"]["mass"]


@pytest.mark.parametrize("args, words", [
    (["select", "--scenario", "nope"], ["unknown scenario 'nope'", "goof-off"]),
    (["select", "--set", "warp=9"], ["unknown parameter 'warp'", "misbehaviour_cost"]),
    (["select", "--set", "w_avg=lots"], ["w_avg", "a number in [0, 100]"]),
    (["select", "--set", "memory=2"], ["memory", "[0, 1]"]),
    (["select", "--set", "n_programs=12.5"], ["n_programs", "an integer"]),
    (["select", "--set", "generalization_check=perhaps"], ["generalization_check", "true or false"]),
    (["select", "--set", "kind_mix=honest:1,evil:1"], ["kind_mix", "evil"]),
    (["select", "--set", "w_avg"], ["w_avg", "name=value"]),
    (["select", "--backend", "cupy"], ["cupy", "needs a CUDA GPU"]),
    (["select", "--backend", "jax"], ["--backend", "invalid choice"]),
    (["select", "--set", "seed=-1"], ["seed", "[0, 4,294,967,295]"]),
    (["anneal", "--set", "rate=2"], ["rate", "--ratios"]),
    (["teleport"], ["invalid choice", "teleport"]),
])
def test_user_mistakes_are_one_line_and_exit_2(args, words):
    if "cupy" in args:
        from explorer.backend import available_backends

        if "cupy" in available_backends():
            pytest.skip("this machine has a GPU")
    run = explorer(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    for word in words:
        assert word in lines[0]


USER_SCENARIO = """\
id: my-goof-off
title: A user's goof-off variant
world: {world}
params: {params}
explanation: >
  Written outside the package, to check that --scenario-dir makes it a scenario like any other.
claim: >
  The average-case prior gives goof-offs no more mass than the max prior does.
checks:
  - {{metric: average_speed.posterior.goof_off, op: "<=", other: max_speed.posterior.goof_off}}
"""


def test_a_user_scenario_folder_is_read_by_scenarios_and_select(tmp_path):
    (tmp_path / "my-goof-off.scenario.yaml").write_text(
        USER_SCENARIO.format(world="abstract", params="{misbehaviour_cost: 3, n_programs: 20000}"))
    run = explorer("scenarios", "--scenario-dir", str(tmp_path), "--json")
    assert run.returncode == 0, run.stderr
    rows = {r["id"]: r for r in json.loads(run.stdout)}
    assert set(SCENARIOS) < set(rows) and rows["my-goof-off"]["world"] == "abstract"
    run = explorer("select", "--scenario-dir", str(tmp_path), "--scenario", "my-goof-off", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["scenario"] == "my-goof-off" and report["params"]["misbehaviour_cost"] == 3
    assert set(report["priors"]) == set(PRIORS)
    run = explorer("select", "--scenario", "my-goof-off")  # without the folder it is unknown
    assert run.returncode == 2 and "my-goof-off" in run.stderr


def test_a_missing_scenario_folder_is_one_line():
    run = explorer("select", "--scenario-dir", "/no/such/folder", "--scenario", "goof-off")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "/no/such/folder" in run.stderr


@pytest.mark.parametrize("world, own_name", [("enumerated", "max_length"), ("neural", "bits")])
def test_select_works_for_a_scenario_of_a_measured_world(world, own_name):
    from explorer.scenarios import scenarios_of

    sid = next(iter(scenarios_of(world)))
    run = explorer("select", "--scenario", sid, "--json", timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["scenario"] == sid and set(report["priors"]) == set(PRIORS)
    assert own_name in report["params"]
    for r in report["priors"].values():
        assert set(r) == {"map", "mass", "actually_good", "deploy_perf", "n_candidates", "n_ties", "ties"}
    run = explorer("select", "--scenario", sid, "--set", "misbehaviour_cost=3")  # an abstract-world name
    assert run.returncode == 2 and "misbehaviour_cost" in run.stderr and own_name in run.stderr


def test_help_lists_every_command_group():
    run = explorer("--help")
    assert run.returncode == 0
    for group in ("scenarios", "select", "anneal", "bench", "serve", "story", "neural", "programs"):
        assert group in run.stdout


def test_choices_are_the_parameters_own(capsys):
    from explorer.annealing import AnnealingSettings
    from explorer.cli import main
    from explorer.worlds import WORLDS

    for argv, objects in [
        (["programs", "enumerate", "--task", "nope"], WORLDS["enumerated"].param.task.objects),
        (["neural", "halt", "--task", "nope"], WORLDS["neural"].param.task.objects),
        (["anneal", "--schedule", "nope"], AnnealingSettings.param.schedule.objects),
        (["anneal", "--sampling", "nope"], AnnealingSettings.param.sampling.objects),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "invalid choice" in err and all(repr(o) in err for o in objects), err


USER_STORY = """\
---
schema: 1
title: A story citing a user's scenario
revision: 1
goal_class: narrow-agent
components:
  goal_specification:
    claims:
      - id: GS1
        text: The average-case prior leaves goof-offs no more mass than the max prior does.
        evidence: [E1]
  goal_desirability:
    undeveloped: true
  rationale_constraints:
    undeveloped: true
  rationale_nudges:
    undeveloped: true
criteria:
  goal_alignment: {rating: weak, basis: [GS1]}
  goal_competitiveness: {rating: unknown, basis: [GS1]}
  rationale_alignment: {rating: unknown, basis: [GS1]}
  rationale_competitiveness: {rating: unknown, basis: [GS1]}
evidence:
  - id: E1
    scenario: my-goof-off
    predicate: {metric: average_speed.posterior.goof_off, op: "<=", other: max_speed.posterior.goof_off}
---
A story written outside the package about a scenario written outside the package.
"""


def test_story_check_reads_a_user_scenario_folder(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "my-goof-off.scenario.yaml").write_text(
        USER_SCENARIO.format(world="abstract", params="{misbehaviour_cost: 3, n_programs: 20000}"))
    story = tmp_path / "mine.story.md"
    story.write_text(USER_STORY)
    run = explorer("story", "check", "--scenario-dir", str(folder), "--json", str(story))
    assert run.returncode == 0, run.stdout + run.stderr
    [report] = json.loads(run.stdout)
    assert report["errors"] == 0 and report["claims"] == {"GS1": "supported"}
    assert report["evidence"][0]["scenario"] == "my-goof-off" and report["evidence"][0]["holds"]
    run = explorer("story", "check", str(story))  # without the folder the scenario is unknown
    assert run.returncode == 1 and "my-goof-off" in run.stdout + run.stderr


def test_the_parser_loads_neither_torch_nor_a_ui_library():
    """Every command's parser is built on each call, so it must stay light: `select` never waits for torch."""
    code = ("import sys; from explorer.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'panel', 'holoviews', 'bokeh') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_story_sweep_in_worker_processes_reads_a_user_scenario(tmp_path):
    """Worker processes never see --scenario-dir; each point carries its scenario's world and preset."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "my-goof-off.scenario.yaml").write_text(
        USER_SCENARIO.format(world="abstract", params="{misbehaviour_cost: 3, n_programs: 5000}"))
    story = tmp_path / "mine.story.md"
    story.write_text(USER_STORY.replace(
        "evidence:\n  - id: E1", "assumptions:\n  - {name: cost, parameter: misbehaviour_cost, nominal: 3.0, range: [1.0, 6.0]}\n"
        "sweeps:\n  - id: S1\n    scenario: my-goof-off\n    assumptions: [cost]\n    points: 3\n"
        "    fails_safely:\n      - {metric: average_speed.posterior.goof_off, op: '>', value: 0.9}\n"
        "    fails_catastrophically:\n      - {metric: average_speed.posterior.goof_off, op: '>', value: 0.99}\n"
        "evidence:\n  - id: E1"))
    run = explorer("story", "sweep", "--scenario-dir", str(folder), "--workers", "2", "--json", str(story))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    [result] = json.loads(run.stdout)["sweeps"]
    assert result["scenario"] == "my-goof-off" and result["complete"] and len(result["points"]) == 3


def test_select_shows_progress_while_a_measured_world_is_built(tmp_path, monkeypatch, capsys):
    """On a terminal, a measured world's build (seconds the first time) has a bar on stderr; JSON stays clean."""
    import sys

    from explorer.cli import main

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))  # nothing cached: the world is measured
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["select", "--scenario", "parity-measured", "--set", "max_length=3", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["scenario"] == "parity-measured" and "measuring the enumerated world" in err
    assert main(["select", "--scenario", "parity-measured", "--set", "max_length=3", "--json"]) == 0
    assert "measuring" not in capsys.readouterr().err  # read from the cache: nothing to show


def test_select_names_the_programs_that_tie_with_each_map():
    """In the enumerated world the MAP is one of a tie (LOOP ADDX END and LOOP XORX END), picked by table order."""
    run = explorer("select", "--scenario", "parity-measured", "--set", "max_length=4", timeout=600)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if " MAP: " in line]
    assert [line.split()[0] for line in lines] == list(PRIORS)
    assert all("tied; also: " in line and "LOOP XORX END" in line for line in lines), lines
    report = json.loads(explorer("select", "--scenario", "parity-measured", "--set", "max_length=4", "--json").stdout)
    for r in report["priors"].values():
        assert r["n_ties"] >= 2 and r["ties"][0] == r["map"] and "listing" in r["map"]
    run = explorer("select", "--scenario", "lookup-table")  # the speed priors cannot tell lookup tables apart
    assert re.search(r"max_speed +MAP: #\d+ \(lookup\) \(1 of [\d,]+ tied; also: .* and [\d,]+ more\)", run.stdout), run.stdout
