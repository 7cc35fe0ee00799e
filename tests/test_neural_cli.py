"""`python -m explorer neural ...` run as a user runs it, at a tiny size."""

import json
import os
import subprocess
import sys

TINY = ["--bits", "4", "--steps", "40", "--set", "hidden=8", "--set", "max_steps=4", "--set", "eval_per_difficulty=16"]


def explorer(*args, timeout=120):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)


def test_halt_json_has_the_documented_shape():
    run = explorer("neural", "halt", *TINY, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["proposal"] == "halt" and report["networks"] == 1
    assert 0 <= report["accuracy"] <= 1 and 1 <= report["mean_steps"] <= 4
    rows = report["by_difficulty"]
    assert [r["difficulty"] for r in rows] == [1, 2, 3, 4]
    assert all({"difficulty", "accuracy", "mean_steps"} <= set(r) for r in rows)


def test_a_sweep_gives_one_row_per_penalty_value_with_predictor_and_drive():
    run = explorer("neural", "halt", *TINY, "--sweep", "beta=0.01,1;mu=0,1", "--drive", "1", "--networks", "4",
                   "--predictor", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    rows = report["sweep"]
    assert [(r["beta"], r["mu"]) for r in rows] == [(0.01, 0), (0.01, 1), (1, 0), (1, 1)]
    assert all(r["networks"] == 1 and "drive_accuracy" in r and r["predictor"]["by_difficulty"] for r in rows)
    assert "accuracy" not in report  # no average over different penalties


def test_mistakes_are_one_line_with_exit_code_2(capsys):
    from explorer.cli import main

    for args, expected in [
        (["--sweep", "gamma=1"], "cannot be swept"),
        (["--sweep", "beta=-1"], "beta: -1 is out of range"),
        (["--set", "max_steps=0"], "max_steps: 0 is not valid"),
        (["--bits", "4", "--train-max", "5"], "train_max_difficulty: 5"),
        (["--sweep", "mu=1"], "needs a planted drive"),
        (["--networks", "0"], "--networks: 0"),
    ]:
        assert main(["neural", "halt", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err


def test_misbehaviour_reports_the_drive_against_drive_free_networks_per_beta(capsys):
    from explorer.cli import main

    assert main(["neural", "misbehaviour", *TINY, "--sweep", "beta=0.01,1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["proposal"] == "misbehaviour" and report["networks"] == 4
    assert [r["beta"] for r in report["rows"]] == [0.01, 1]
    for r in report["rows"]:
        assert 0 <= r["drive_accuracy"] <= 1
        assert r["drive_extra_steps"] == r["mean_steps"] - r["plain_mean_steps"]


def test_other_proposals_report_their_compute_unit(capsys):
    from explorer.cli import main

    for command, unit, key in [("ponder", "rollouts", "k_found"), ("early-exit", "exit layer", "alpha_found"),
                               ("grow", "multiply-adds", "retraining_ratio")]:
        extra = ["--anneal"] if command == "early-exit" else []
        assert main(["neural", command, "--bits", "4", "--steps", "20", "--set", "eval_per_difficulty=16", *extra, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["compute_unit"] == unit and key in report and len(report["by_difficulty"]) == 4


def test_halt_reports_steps_by_rule_and_expected_steps_and_which_the_penalty_prices():
    run = explorer("neural", "halt", *TINY, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["penalty_acts_on"] == "expected_steps" and set(report["step_counts"]) == {"steps_by_rule", "expected_steps"}
    assert report["steps_by_rule"] == report["mean_steps"] and 1 <= report["expected_steps"] <= 4
    assert 1 <= report["heldout_steps_by_rule"] <= 4 and 1 <= report["heldout_expected_steps"] <= 4
    assert all(1 <= r["steps_by_rule"] <= 4 and 1 <= r["expected_steps"] <= 4 for r in report["by_difficulty"])
    text = explorer("neural", "halt", *TINY)
    assert text.returncode == 0 and "prices the expected steps" in text.stdout
    assert "   by rule " in text.stdout and "   expected " in text.stdout


def test_drive_work_and_drive_allotment_report_both_figures(capsys):
    from explorer.cli import main

    assert main(["neural", "drive-work", *TINY, "--widths", "2,8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["report"] == "drive-work" and [r["width"] for r in report["rows"]] == [2, 8] and report["networks"] == 4
    assert report["params"]["beta"] == 0.001 and report["params"]["hidden"] == 8  # small defaults, --set wins
    assert main(["neural", "drive-work", *TINY, "--widths", "2,8"]) == 0
    out = capsys.readouterr().out
    assert "least good width" in out and "total work" in out or "nothing to compare" in out or "does not survive" in out
    assert main(["neural", "drive-allotment", *TINY, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"halting", "predictor", "finding"} <= set(report) and report["networks"] == 2
    assert main(["neural", "drive-allotment", *TINY]) == 0
    assert "offline predictor (fixed)" in capsys.readouterr().out


def test_drive_report_mistakes_are_one_line(capsys):
    from explorer.cli import main

    for args, expected in [
        (["drive-work", "--widths", "0,8"], "--widths: '0,8' is not valid"),
        (["drive-work", "--widths", "99"], "from 1 to hidden (32)"),
        (["drive-work", "--widths", "a"], "--widths: 'a' is not valid"),
        (["drive-allotment", "--drive", "0"], "--drive: 0.0 is not valid"),
        (["drive-allotment", "--sweep", "beta=1"], "--sweep: drive-allotment trains its own batch"),
        (["drive-work", "--networks", "3"], "--networks: 3 is fewer than the 8"),
    ]:
        assert main(["neural", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err
