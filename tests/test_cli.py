"""The CLI run the way a user runs it: `python -m explorer ...` in a subprocess."""

import json
import os
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
