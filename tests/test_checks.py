"""The one check engine: its grammar, parsers (with located errors), evaluator, runner and shared cache."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer import checks
from explorer.checks import (
    ALL_METRICS, OPERATORS, SHARED, Predicate, Runner, SharedSimulations, evaluate, literal, parse, parse_text,
)
from explorer.errors import ExplorerError
from explorer.yamlfile import Reader, load

EXPLORER = Path(checks.__file__).resolve().parent
GOOF_OFF = {"kind_mix": {"honest": 0.5, "goof_off": 0.5}, "misbehaviour_cost": 3.0, "n_programs": 5000}


def parse_yaml(text: str, world: str = "abstract", base=None, fixed=()) -> Predicate:
    """Parse the first item of a YAML list, as a scenario or tour reads its checks."""
    data = load(text, "t.yaml", "a test")
    return parse(data[0], Reader("t.yaml"), "check 1", data.lc.item(0)[0] + 1, world, base or GOOF_OFF, fixed)


# ---- the grammar -------------------------------------------------------------------------------

def test_a_mapping_with_a_value_or_another_metric_and_per_side_params():
    p = parse_yaml('- {metric: average_speed.map.kind, op: "==", value: honest}\n')
    assert p == Predicate("average_speed.map.kind", "==", value="honest") and p.line == 1
    p = parse_yaml("- metric: average_speed.posterior.goof_off\n  params: {misbehaviour_cost: 6}\n  op: '<'\n"
                   "  other: max_speed.posterior.goof_off\n  other_params: {w_max: 2.0}\n")
    assert p == Predicate("average_speed.posterior.goof_off", "<", other="max_speed.posterior.goof_off",
                          params={"misbehaviour_cost": 6}, other_params={"w_max": 2.0})
    assert p.describe() == ("average_speed.posterior.goof_off (with misbehaviour_cost=6) < "
                            "max_speed.posterior.goof_off (with w_max=2.0)")


BAD = {
    "unknown key": ("- {metric: average_speed.actually_good, prior: simplicity, op: '<', value: 1}\n", 1,
                    "unknown key 'prior'"),
    "no op": ("- {metric: average_speed.actually_good, value: 1}\n", 1, "missing 'op'"),
    "value and other": ("- {metric: average_speed.actually_good, op: '<', value: 1, other: combined.actually_good}\n",
                        1, "exactly one of 'value'"),
    "neither": ("- {metric: average_speed.actually_good, op: '<'}\n", 1, "exactly one of 'value'"),
    "other_params without other": ("- metric: average_speed.actually_good\n  op: '<'\n  value: 1\n"
                                   "  other_params: {w_avg: 2}\n", 4, "only a comparison with 'other'"),
    "unknown metric": ("- metric: average_speed.actually_good\n  op: '<'\n  other: combined.sneaky\n", 3,
                       "unknown metric 'combined.sneaky'"),
    "unknown prior": ("- metric: fastest.actually_good\n  op: '<'\n  value: 1\n", 1, "PRIOR one of"),
    "kind not in the mix": ("- {metric: average_speed.posterior.lookup, op: '<', value: 1}\n", 1,
                            "no lookup programs"),
    "bad operator": ("- metric: average_speed.actually_good\n  op: '=<'\n  value: 1\n", 2,
                     "unknown operator '=<'"),
    "unknown parameter": ("- metric: average_speed.actually_good\n  params:\n    w_avg: 2\n    warp: 9\n  op: '<'\n"
                          "  value: 1\n", 4, "unknown parameter 'warp'"),
    "parameter out of range": ("- metric: average_speed.actually_good\n  params: {memory: 7}\n  op: '<'\n  value: 1\n",
                               2, "memory"),
    "a machine setting": ("- metric: average_speed.actually_good\n  params: {n_programs: 10}\n  op: '<'\n  value: 1\n",
                          2, "'n_programs' cannot be set here"),
    "not a kind": ("- metric: average_speed.map.kind\n  op: '=='\n  value: honset\n", 3, "did you mean honest?"),
    "kinds ordered": ("- metric: average_speed.map.kind\n  op: '<'\n  value: honest\n", 3, "kinds, which have no order"),
    "text against a number": ("- metric: average_speed.actually_good\n  op: '<'\n  value: lots\n", 3,
                              "is a number and 'lots' is text"),
    "kind against a number": ("- {metric: average_speed.map.kind, op: '==', other: average_speed.actually_good}\n", 1,
                              "a kind with a number"),
    "not a mapping": ("- average_speed.actually_good < 1\n", 1, "must be a mapping"),
}


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.replace(" ", "-"))
def test_a_bad_predicate_names_the_line_and_the_problem(case):
    text, line, fragment = BAD[case]
    with pytest.raises(ExplorerError) as info:
        parse_yaml(text, fixed=("n_programs", "backend"))
    assert str(info.value).startswith(f"t.yaml:{line}: check 1"), str(info.value)
    assert fragment in str(info.value)


def test_metrics_follow_the_world():
    """A measured world produces every kind's posterior; the abstract world only the kinds in its mix."""
    assert "average_speed.posterior.lookup" in checks.metric_names("enumerated")
    assert "average_speed.posterior.lookup" not in checks.metric_names("abstract", GOOF_OFF)
    assert checks.metric_names("neural") == set(ALL_METRICS)
    with pytest.raises(ExplorerError, match="unknown world 'platonic'"):
        checks.metric_names("platonic")


def test_params_are_checked_against_the_world():
    text = "- metric: average_speed.actually_good\n  params: {max_length: 4}\n  op: '<'\n  value: 1\n"
    with pytest.raises(ExplorerError, match="t.yaml:2: .*unknown parameter 'max_length' for the abstract world"):
        parse_yaml(text)
    p = parse_yaml(text, world="enumerated", base={"task": "parity"})
    assert p.params == {"max_length": 4}


# ---- the editor's one-line form -----------------------------------------------------------------

def test_one_line_form():
    assert parse_text("average_speed.map.kind == honest") == Predicate("average_speed.map.kind", "==", value="honest")
    assert parse_text("  average_speed.posterior.goof_off<max_speed.posterior.goof_off ") == Predicate(
        "average_speed.posterior.goof_off", "<", other="max_speed.posterior.goof_off")
    assert parse_text("simplicity.actually_good >= 0.5").value == 0.5
    assert parse_text("a.b != 'x y'").value == "x y"
    assert parse_text("a.b == my.metric", {"my.metric"}).other == "my.metric"
    for bad in ("nonsense", "a.b = 1", "a.b <", "__import__('os') == 1"):
        with pytest.raises(ExplorerError, match="is not 'metric op value'"):
            parse_text(bad)


@given(st.sampled_from(sorted(ALL_METRICS)), st.sampled_from(list(OPERATORS)),
       st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                 st.sampled_from(["honest", "goof_off", "lookup"]), st.booleans(), st.sampled_from(sorted(ALL_METRICS))))
def test_the_one_line_form_reads_back(metric, op, right):
    p = Predicate(metric, op, other=right) if right in ALL_METRICS else Predicate(metric, op, value=right)
    assert parse_text(p.text()) == p


def test_literals():
    assert literal("0.25") == 0.25 and literal("3") == 3 and literal("true") is True and literal("False") is False
    assert literal("honest") == "honest" and literal("'__import__(\"os\")'") == '__import__("os")'
    assert literal("inf") == "inf" and literal("nan") == "nan"  # never a non-finite number


# ---- the evaluator -------------------------------------------------------------------------------

def test_evaluation_edge_cases():
    m = {"a.x": 0.1 + 0.2, "a.y": None, "a.k": "honest", "b.x": 0.3, "a.n": 3}
    assert evaluate(Predicate("a.x", "==", value=0.3), m) == (True, 0.3, 0.3)  # rounded to SIGNIFICANT digits
    assert evaluate(Predicate("a.x", "==", other="b.x"), m)[0]
    assert evaluate(Predicate("a.y", "<", value=1), m) == (False, None, 1)  # a missing value never holds
    assert evaluate(Predicate("a.k", "<", value=1), m)[0] is False  # text against a number does not hold
    assert evaluate(Predicate("a.k", "==", value="honest"), m)[0]
    assert evaluate(Predicate("a.n", ">", value=True), m)[0] is True  # numbers compare as numbers
    left, right = {"a.x": 1.0}, {"a.x": 2.0}
    assert evaluate(Predicate("a.x", "<", other="a.x"), left, right) == (True, 1.0, 2.0)  # each side its own
    with pytest.raises(ExplorerError, match="unknown metric 'a.zz'"):
        evaluate(Predicate("a.zz", "<", value=1), m)
    with pytest.raises(ExplorerError, match="unknown operator '=<'"):
        evaluate(Predicate("a.x", "=<", value=1), m)


def test_the_operators_table_is_the_only_one():
    """No other module of explorer/ spells out the comparison operators or maps them to functions."""
    ops = [re.escape(f'"{o}"') for o in ("<=", ">=", "!=")]
    for path in EXPLORER.rglob("*.py"):
        if path.name == "checks.py" and path.parent == EXPLORER:
            continue
        text = path.read_text(encoding="utf-8")
        assert not all(re.search(o, text) for o in ops), f"{path} has its own table of operators"
        assert "operator.lt" not in text and "operator.ge" not in text, path


# ---- the runner and the shared cache -------------------------------------------------------------

def test_the_runner_simulates_each_parameter_set_once(monkeypatch):
    calls = []
    real = checks.simulate

    def counting(world, params):
        calls.append(dict(params))
        return real(world, params)

    monkeypatch.setattr(checks, "simulate", counting)
    runner = Runner("abstract", GOOF_OFF)
    preds = [Predicate("average_speed.posterior.goof_off", "<", other="max_speed.posterior.goof_off"),
             Predicate("average_speed.map.kind", "==", value="honest"),
             Predicate("average_speed.posterior.goof_off", "<", other="average_speed.posterior.goof_off",
                       params={"misbehaviour_cost": 6.0})]
    outcomes = runner.verify(preds)
    assert [o.passed for o in outcomes] == [True, True, True]
    assert len(calls) == 2 and calls[1]["misbehaviour_cost"] == 6.0


def test_shared_simulations_compute_once_across_threads_and_do_not_keep_failures(monkeypatch):
    cache = SharedSimulations(maxsize=2)
    started, release, calls = threading.Event(), threading.Event(), []

    def slow(world, params):
        calls.append(params["seed"])
        if params["seed"] == 13:
            raise ExplorerError("no such back end")
        started.set()
        release.wait(10)
        return {"a.x": float(params["seed"])}

    monkeypatch.setattr(checks, "simulate", slow)
    out = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("abstract", {"seed": 1}, "s"))) for _ in range(3)]
    for t in threads:
        t.start()
    started.wait(10)
    release.set()
    for t in threads:
        t.join(10)
    assert out == [{"a.x": 1.0}] * 3 and calls == [1]
    out[0]["a.x"] = 99.0  # callers get copies
    assert cache.get("abstract", {"seed": 1}, "s") == {"a.x": 1.0}
    assert cache.has("abstract", {"seed": 1}, "s") and not cache.has("enumerated", {"seed": 1}, "s")
    for _ in range(2):
        with pytest.raises(ExplorerError):
            cache.get("abstract", {"seed": 13})
    assert calls.count(13) == 2  # a failure is not cached: the next asker tries again
    cache.get("abstract", {"seed": 2})
    cache.get("abstract", {"seed": 3})
    assert not cache.has("abstract", {"seed": 1}, "s")  # bounded: the oldest went


def test_keys_are_exact_and_typed():
    assert SharedSimulations.key("abstract", {"a": True}) != SharedSimulations.key("abstract", {"a": 1.0})
    assert SharedSimulations.key("abstract", {"a": 1}) == SharedSimulations.key("abstract", {"a": 1.0})
    assert SharedSimulations.key("abstract", {"m": {"x": 1, "y": 2}}) == SharedSimulations.key("abstract", {"m": {"y": 2, "x": 1}})
    assert SharedSimulations.key("abstract", {}) != SharedSimulations.key("enumerated", {})


def test_a_shared_runner_reads_and_fills_the_process_cache():
    SHARED.clear()
    p = Predicate("average_speed.map.kind", "==", value="honest")
    runner = Runner("abstract", GOOF_OFF, scenario="goof-off", shared=True)
    assert not runner.is_cached(p)
    assert runner.check(p).passed
    assert Runner("abstract", GOOF_OFF, scenario="goof-off", shared=True).is_cached(p)
