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


def test_run_with_the_slack_instruction_set():
    """IFSHORT runs its next instruction on inputs shorter than --long-from (default 3) only."""
    def run(*argv):
        return ["programs", "run", "IFSHORT NOP LOOP XORX END", "--instructions", "slack", *argv, "--json"]

    import contextlib
    import io

    def out(argv):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(argv) == 0
        return json.loads(buf.getvalue())

    assert out(run("--input", "11")) == {"output": 0, "steps": 7}           # short: NOP runs
    assert out(run("--input", "111")) == {"output": 1, "steps": 8}          # long: NOP skipped
    assert out(run("--input", "111", "--long-from", "4")) == {"output": 1, "steps": 9}


@pytest.mark.parametrize("argv, word", [
    (["programs", "run", "LOOP XORX FOO", "--input", "1011"], "'FOO'"),
    (["programs", "run", "LOOP XORX END", "--input", "10x"], "'10x'"),
    (["programs", "enumerate", "--task", "sorting", "--max-length", "2"], "sorting"),
    (["programs", "enumerate", "--max-length", "12"], "max_length"),
    (["programs", "run", "IFSHORT NOP", "--input", "1"], "--instructions slack"),
    (["programs", "run", "IFSHORT NOP", "--input", "1", "--instructions", "slack", "--long-from", "-1"], "--long-from"),
    (["programs", "enumerate", "--instructions", "fancy"], "fancy"),
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
    assert report["instruction_set"] == "basic" and report["goof_off_waste"]["programs"]["slack"] == 0
    assert main(["programs", "enumerate", "--max-length", "3"]) == 0
    assert "simplicity" in capsys.readouterr().out


def test_enumerate_names_its_count_columns_for_what_they_count(capsys):
    """Programs that fail training are counted apart: 'lookup' among every program is mostly those."""
    report = _json(capsys, ["programs", "enumerate", "--max-length", "4", "--json"])
    for k in KINDS:
        assert report["counts"][k] == report["looks_good"][k] + report["fails_training"][k]
    assert report["fails_training"]["lookup"] > 100 * report["looks_good"]["lookup"]
    assert main(["programs", "enumerate", "--max-length", "4"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("kind"))
    assert header.split() == ["kind", "look", "good", "fail", "training", "every", "program"]


def test_enumerate_with_the_slack_instructions_splits_goof_offs_by_where_they_waste(capsys):
    # length 5: the shortest slack waster is IFSHORT NOP and a three-instruction solver
    report = _json(capsys, ["programs", "enumerate", "--max-length", "5", "--n-test", "5", "--instructions", "slack",
                            "--json"])
    assert report["instruction_set"] == "slack" and report["programs"] == 119_893
    waste = report["goof_off_waste"]
    assert waste["programs"]["slack"] > 0  # IFSHORT makes programs that waste where they have slack
    assert sum(waste["programs"].values()) == report["looks_good"]["goof_off"]
    for prior, r in report["priors"].items():
        assert sum(waste["mass"][prior].values()) == pytest.approx(r["mass"]["goof_off"], abs=1e-5)


def test_enumerate_can_take_either_interpreter_and_says_which(capsys):
    argv = ["programs", "enumerate", "--max-length", "3", "--json"]
    default = _json(capsys, argv)
    array = _json(capsys, [*argv, "--interpreter", "array"])
    assert (default["interpreter"], array["interpreter"]) == ("compiled", "array")
    assert {k: v for k, v in default.items() if k not in ("seconds", "interpreter")} == \
        {k: v for k, v in array.items() if k not in ("seconds", "interpreter")}
    assert main(["programs", "enumerate", "--max-length", "3", "--interpreter", "array"]) == 0
    assert "(array interpreter)" in capsys.readouterr().out


def test_bench_programs_reports_ratios_against_plain_python_and_the_array_interpreter(capsys):
    report = _json(capsys, ["bench", "programs", "--sizes", "3", "--json"])
    assert report["threads"] == 1 and report["compile"]["cold_seconds"] > 0 and report["compile"]["cached_seconds"] > 0
    (row,) = report["lengths"]
    assert row["max_length"] == 3 and row["compiled"]["interpreter"] == "compiled"
    assert row["pairs"] == row["programs"] * row["inputs"] * 2
    assert row["ratio"] == pytest.approx(row["compiled"]["pairs_per_s"] / row["plain_python"]["pairs_per_s"])
    assert row["ratio_to_array"] == pytest.approx(row["array"]["measure_seconds"] / row["compiled"]["measure_seconds"])
    assert row["same_counts"] is True and row["target_seconds"] is None
