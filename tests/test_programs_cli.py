"""`python -m explorer programs ...`: run one program, enumerate them all."""

import json

import pytest

from explorer.cli import main
from explorer.priors import PRIORS
from explorer.table import KINDS


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_run_prints_output_and_steps(capsys):
    assert _json(capsys, ["programs", "run", "LOOP XORX END", "--input", "1011", "--json"]) == {"output": 1, "steps": 9}
    assert _json(capsys, ["programs", "run", "IFDEP INC", "--input", "1", "--deploy", "--json"]) == {"output": 1, "steps": 2}
    failed = _json(capsys, ["programs", "run", "LOOP INC END", "--input", "111", "--step-limit", "3", "--json"])
    assert failed == {"output": None, "steps": 3}


@pytest.mark.parametrize("argv, word", [
    (["programs", "run", "LOOP XORX FOO", "--input", "1011"], "'FOO'"),
    (["programs", "run", "LOOP XORX END", "--input", "10x"], "'10x'"),
    (["programs", "enumerate", "--task", "sorting", "--max-length", "2"], "sorting"),
    (["programs", "enumerate", "--max-length", "12"], "max_length"),
])
def test_user_mistakes_are_one_line_and_exit_2(capsys, argv, word):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and word in err and "\n" not in err


def test_enumerate_reports_counts_and_each_priors_pick(capsys):
    report = _json(capsys, ["programs", "enumerate", "--task", "parity", "--max-length", "4", "--json"])
    assert report["programs"] == 9 + 82 + 754 + 6994
    assert sum(report["counts"].values()) == report["programs"] and set(report["counts"]) == set(KINDS)
    assert set(report["priors"]) == set(PRIORS)
    assert report["priors"]["simplicity"]["map"]["listing"] in ("LOOP ADDX END", "LOOP XORX END")
    assert main(["programs", "enumerate", "--max-length", "3"]) == 0
    assert "simplicity" in capsys.readouterr().out


def test_bench_programs_reports_a_ratio_against_plain_python(capsys):
    report = _json(capsys, ["bench", "programs", "--sizes", "3", "--json"])
    assert report["max_length"] == 3 and report["threads"] == 1
    assert report["pairs"] == report["programs"] * report["inputs"] * 2
    assert report["ratio"] == pytest.approx(report["vectorised"]["pairs_per_s"] / report["plain_python"]["pairs_per_s"])
    assert report["ratio"] > 1
