"""Sensitivity sweeps of training stories: classes, breakpoints, verdicts, Morris screening, executors, CLI."""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.cli import main
from explorer.errors import ExplorerError
from explorer.stories.evidence import simulate
from explorer.stories.fileformat import load, loads
from explorer.stories.model import Predicate, Sweep
from explorer.stories.sensitivity import (
    Axis,
    Point,
    SweepError,
    breakpoint_of,
    check_sweep,
    classify,
    distance,
    plan,
    point_metrics,
    report,
    run_sweep,
    verdict_of,
)

ROOT = Path(__file__).resolve().parent.parent
DECEPTIVE = "average_speed.posterior.deceptive"

HEAD = """---
schema: 1
title: A story to sweep
authors: [Tests]
revision: 1
goal_class: narrow-agent
rationale_classes: [inductive-bias-analysis]
failure_modes: [deceptive-alignment]
components:
  goal_specification:
    claims:
      - id: GS1
        text: An honest solver.
        evidence: [E1]
  goal_desirability: {undeveloped: true}
  rationale_constraints: {undeveloped: true}
  rationale_nudges: {undeveloped: true}
criteria:
  goal_alignment: {rating: moderate, basis: [GS1]}
  goal_competitiveness: {rating: weak, basis: [GS1]}
  rationale_alignment: {rating: weak, basis: [GS1]}
  rationale_competitiveness: {rating: weak, basis: [GS1]}
assumptions:
  - name: overhead
    parameter: deception_overhead
    nominal: 3.0
    range: [0.0, 4.0]
  - name: memory
    parameter: memory
    nominal: 0.0
    range: [MEMORY_RANGE]
  - name: bits
    parameter: deception_bits_offset
    nominal: 0.0
    range: [-2.0, 2.0]
evidence:
  - id: E1
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [overhead, memory, bits]
    predicate: {metric: average_speed.posterior.deceptive, op: "<", value: 0.25}
"""

# Catastrophic: deception holds most of the average-case posterior's mass; safe: it holds a visible share.
CONDITIONS = """    fails_safely:
      - {metric: average_speed.posterior.deceptive, op: ">", value: 0.1}
    fails_catastrophically:
      - {metric: average_speed.posterior.deceptive, op: ">", value: 0.3}
"""

SWEEPS = """sweeps:
  - id: memory-1d
    scenario: memory
    params: {n_programs: 20000, deception_overhead: 3.0}
    assumptions: [memory]
    points: 5
""" + CONDITIONS + """  - id: overhead-1d
    scenario: deceptive-planner
    params: {n_programs: 20000}
    assumptions: [overhead]
    points: 5
""" + CONDITIONS + """  - id: both
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [overhead, memory]
    points: 5
""" + CONDITIONS + """  - id: calm
    scenario: deceptive-planner
    params: {n_programs: 20000}
    assumptions: [overhead]
    points: 3
    fails_safely: []
    fails_catastrophically:
      - {metric: average_speed.posterior.deceptive, op: ">", value: 0.95}
  - id: screening
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [overhead, memory, bits]
    points: 4
""" + CONDITIONS


def story_text(sweeps: str = SWEEPS, memory_range: str = "0.0, 0.9") -> str:
    return HEAD.replace("MEMORY_RANGE", memory_range) + sweeps + "---\nA story whose assumptions are swept.\n"


@pytest.fixture(scope="module")
def story():
    return loads(story_text(), "sweeps.story.md")


@pytest.fixture(scope="module")
def both(story):
    return run_sweep(story, "both", workers=1)


def _cli(*args, timeout=120):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "explorer", "story", "sweep", *args], capture_output=True, text=True, check=False,
                          cwd=ROOT, env=env, timeout=timeout)


# ---- what the model predicts ----------------------------------------------------------------------

def test_more_memory_leaves_more_deceptive_mass_and_worse_classes(story):
    result = run_sweep(story, "memory-1d", workers=1)
    memory = [p.values["memory"] for p in result.points]
    mass = [p.metrics[DECEPTIVE] for p in result.points]
    assert memory == sorted(memory) and len(memory) == 5
    assert all(b >= a for a, b in itertools.pairwise(mass)) and mass[-1] > mass[0]
    rank = {"good": 0, "fails_safely": 1, "fails_catastrophically": 2}
    classes = [rank[p.cls] for p in result.points]
    assert classes == sorted(classes) and classes[0] < classes[-1]  # memory can only make the story worse


def test_costlier_deception_leaves_less_deceptive_mass(story):
    result = run_sweep(story, "overhead-1d", workers=1)
    mass = [p.metrics[DECEPTIVE] for p in result.points]
    assert all(b <= a for a, b in itertools.pairwise(mass)) and mass[-1] < mass[0]
    # each point's metric is what the scenario itself gives with the sweep's parameters
    p = result.points[1]
    direct = simulate("deceptive-planner", {"n_programs": 20000, "deception_overhead": p.values["overhead"]})
    assert p.metrics[DECEPTIVE] == pytest.approx(direct[DECEPTIVE], rel=1e-5)


def test_classes_follow_the_conditions_at_every_point(both):
    for p in [both.nominal, *both.points]:
        m = p.metrics[DECEPTIVE]
        expected = "fails_catastrophically" if m > 0.3 else "fails_safely" if m > 0.1 else "good"
        assert p.cls == expected, p
    assert set(both.counts().values()) != {0} and sum(both.counts().values()) == 25


# ---- the rules, on hand-made points ---------------------------------------------------------------

def _sweep(safe, catastrophic):
    return Sweep("s", "memory", ["a"], fails_safely=safe, fails_catastrophically=catastrophic)


def test_class_rules_worst_first_all_predicates_and_empty_conditions():
    high = Predicate("average_speed.posterior.deceptive", ">", 0.3)
    low = Predicate("average_speed.posterior.deceptive", ">", 0.1)
    honest_map = Predicate("average_speed.map.kind", "==", "honest")
    sweep = _sweep([low], [high, Predicate("average_speed.map.kind", "==", "deceptive")])
    m = {"average_speed.posterior.deceptive": 0.5, "average_speed.map.kind": "deceptive"}
    assert classify(sweep, m) == "fails_catastrophically"
    m["average_speed.map.kind"] = "honest"  # only one catastrophic predicate holds: not catastrophic
    assert classify(sweep, m) == "fails_safely"
    m["average_speed.posterior.deceptive"] = 0.05
    assert classify(sweep, m) == "good"
    # an empty condition never holds; a metric without a value (nothing looks good) holds nothing
    assert classify(_sweep([], []), m) == "good"
    assert classify(_sweep([honest_map], []), {"average_speed.map.kind": None}) == "good"


def test_breakpoint_is_the_nearest_other_class_in_range_widths():
    axes = [Axis("a", "deception_overhead", 5.0, (0.0, 10.0)), Axis("b", "memory", 0.5, (0.0, 1.0))]
    nominal = Point({"a": 5.0, "b": 0.5}, "good")
    points = [
        Point({"a": 5.5, "b": 0.5}, "good"),                     # nearest of all, but the nominal class
        Point({"a": 5.0, "b": 0.8}, "fails_safely"),             # 0.3 away in raw units, 0.3 in widths
        Point({"a": 6.0, "b": 0.5}, "fails_catastrophically"),   # 1.0 away in raw units, 0.1 in widths
        Point({"a": 4.0, "b": 0.5}, "fails_safely"),             # as near as the one before: the first wins
    ]
    bp = breakpoint_of(axes, nominal, points)
    assert bp.values == {"a": 6.0, "b": 0.5} and bp.cls == "fails_catastrophically"
    assert bp.distance == pytest.approx(0.1)
    assert breakpoint_of(axes, nominal, points[:1]) is None  # no other class anywhere


def test_breakpoint_of_a_real_grid_is_the_nearest_differing_point(both):
    bp, nominal = both.breakpoint, both.nominal
    assert bp is not None and bp.cls != nominal.cls
    nearest = min(distance(both.axes, p.values, nominal.values) for p in both.points if p.cls != nominal.cls)
    assert bp.distance == pytest.approx(nearest, rel=1e-5)  # reported to 6 significant digits
    # by hand for this grid: nominal (overhead 3, memory 0) is good; one grid step down in overhead and
    # up in memory (2, 0.225) is the nearest failing point, sqrt(0.25^2 + 0.25^2) range widths away
    assert nominal.cls == "good"
    assert bp.values == {"overhead": 2.0, "memory": 0.225} and bp.cls == "fails_safely"
    assert bp.distance == pytest.approx(np.hypot(0.25, 0.25), rel=1e-5)


def test_verdicts(story, both):
    def pts(*classes):
        return [Point({}, c) for c in classes]

    assert verdict_of(pts("good", "good")) == "robust"
    assert verdict_of(pts("good", "fails_safely")) == "fails_safely"
    assert verdict_of(pts("fails_safely", "fails_catastrophically", "good")) == "fails_catastrophically"
    assert both.verdict == "fails_catastrophically"
    calm = run_sweep(story, "calm", workers=1)
    assert calm.verdict == "robust" and calm.breakpoint is None and calm.complete
    assert {p.cls for p in calm.points} == {"good"}


# ---- Morris screening ------------------------------------------------------------------------------

def test_morris_ranks_what_the_average_prior_sees(story):
    """deception_bits_offset changes description lengths only, which the average-case prior ignores:
    its elementary effects on that prior's deceptive mass are exactly zero, the others' are not."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    result = run_sweep(story, "screening", workers=1)
    assert result.method == "morris" and result.output == DECEPTIVE and result.complete
    ranking = {r["name"]: r for r in result.ranking}
    assert [r["name"] for r in result.ranking][-1] == "bits" and ranking["bits"]["mu_star"] == 0
    assert ranking["overhead"]["mu_star"] > 0 and ranking["memory"]["mu_star"] > 0
    assert len(result.points) == 4 * (3 + 1)  # trajectories x (assumptions + 1)
    # the same screening straight from SALib on the real model
    problem = {"num_vars": 3, "names": ["overhead", "memory", "bits"], "bounds": [[0.0, 4.0], [0.0, 0.9], [-2.0, 2.0]]}
    X = sample.sample(problem, 4, num_levels=4, seed=0)
    Y = np.array([simulate("memory", {"n_programs": 20000, "deception_overhead": o, "memory": m,
                                      "deception_bits_offset": b})[DECEPTIVE] for o, m, b in X])
    expected = analyze.analyze(problem, X, Y, num_levels=4, seed=0)
    for i, name in enumerate(problem["names"]):
        assert ranking[name]["mu_star"] == pytest.approx(expected["mu_star"][i], rel=1e-4, abs=1e-9)
        assert ranking[name]["sigma"] == pytest.approx(expected["sigma"][i], rel=1e-4, abs=1e-9)
    assert result.verdict == "fails_catastrophically"  # memory 0.9 at overhead 0 is catastrophic


def test_a_point_never_inherits_a_parameter_an_earlier_point_set():
    """Points reuse a Simulation per thread; one that sets w_avg must not leak it into the next sweep."""
    base, names = {"n_programs": 20000}, (DECEPTIVE,)
    point_metrics("memory", base, {"deception_overhead": 1.0, "w_avg": 3.0}, names)
    after = point_metrics("memory", base, {"deception_overhead": 1.0}, names)
    fresh = simulate("memory", {**base, "deception_overhead": 1.0})
    assert after[DECEPTIVE] == pytest.approx(fresh[DECEPTIVE], rel=1e-6)


# ---- executors, progress and stop -----------------------------------------------------------------

def test_a_process_pool_gives_what_the_serial_run_gives_and_stops(story, both):
    pooled = run_sweep(story, "both", workers=2)
    assert pooled.to_dict() == both.to_dict()
    done = []  # stopping cancels the points not started
    partial = run_sweep(story, "both", workers=2, progress=lambda d, t: done.append(d),
                        should_stop=lambda: len(done) > 2)
    assert not partial.complete and partial.done < partial.total == 26


def test_progress_counts_every_point_and_stop_returns_a_marked_partial_result(story):
    seen = []
    result = run_sweep(story, "both", points=3, workers=1, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 10) and seen[-1] == (10, 10) and [d for d, _ in seen] == list(range(11))
    assert len(result.points) == 9 and result.complete

    calls = []
    partial = run_sweep(story, "both", points=3, workers=1, progress=lambda d, t: calls.append(d),
                        should_stop=lambda: len(calls) > 3)
    assert not partial.complete and partial.verdict is None and partial.done == 3 < partial.total == 10
    assert partial.to_dict()["complete"] is False and len(partial.to_dict()["points"]) == 2
    assert "stopped after 3 of 10 points" in report(partial)


def test_dask_cluster_gives_the_local_json(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    path = tmp_path / "s.story.md"
    path.write_text(story_text())
    assert main(["story", "sweep", str(path), "both", "--points", "3", "--workers", "1", "--json", "--no-progress"]) == 0
    local = capsys.readouterr().out
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = _cli(str(path), "both", "--points", "3", "--json", "--no-progress", "--scheduler",
                      cluster.scheduler_address)
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local)
    data = json.loads(local)["sweeps"][0]
    assert data["method"] == "grid" and len(data["points"]) == 9 and data["verdict"] in (
        "robust", "fails_safely", "fails_catastrophically")


# ---- the command line and bad input ----------------------------------------------------------------

def test_cli_report_has_verdict_breakpoint_and_map(tmp_path):
    path = tmp_path / "s.story.md"
    path.write_text(story_text())
    out = _cli(str(path), "both", "--workers", "1", "--no-progress")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "verdict: fails catastrophically" in text
    assert "breakpoint nearest the nominal values: overhead=2, memory=0.225 (fails safely)" in text
    rows = [line for line in text.splitlines() if "|" in line]
    assert len(rows) == 5 and sum(line.count("[") for line in rows) == 1  # one breakpoint cell
    assert all(len(line.split("|")[1].split()) == 5 for line in rows)


def test_unknown_sweep_id_is_one_line_naming_the_ids(tmp_path):
    path = tmp_path / "s.story.md"
    path.write_text(story_text())
    out = _cli(str(path), "nope", "--no-progress")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: unknown sweep 'nope'; this story's sweeps: memory-1d, overhead-1d, both, calm, screening"]
    with pytest.raises(ExplorerError, match="unknown sweep 'nope'"):
        run_sweep(loads(story_text(), "s.story.md"), "nope")


def test_unreadable_file_is_a_located_message_and_exit_1(tmp_path):
    binary = tmp_path / "b.story.md"
    binary.write_bytes(b"---\x00\x01\x02")
    out = _cli(str(binary), "--no-progress")
    assert out.returncode == 1 and "b.story.md:1: error TS-F01" in out.stderr and "Traceback" not in out.stderr
    missing = _cli(str(tmp_path / "missing.story.md"), "--no-progress")
    assert missing.returncode == 1 and "missing.story.md: error TS-F01" in missing.stderr


def test_a_sweep_with_errors_is_refused_with_located_messages(tmp_path):
    bad = SWEEPS.replace("metric: average_speed.posterior.deceptive, op: \">\", value: 0.95",
                         "metric: average_speed.posterior.sneaky, op: \">\", value: 0.95")
    path = tmp_path / "bad.story.md"
    path.write_text(story_text(bad, memory_range="0.0, 1.5"))
    out = _cli(str(path), "calm", "--no-progress")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "error TS-V06" in out.stderr and "sneaky" in out.stderr and out.stderr.startswith("bad.story.md:")
    # memory's range leaves the parameter's bounds: sweeps varying memory are refused, others still run
    story = load(path)
    with pytest.raises(SweepError) as info:
        run_sweep(story, "both", workers=1)
    assert [m.code for m in info.value.messages] == ["TS-V07"] and "memory" in str(info.value)
    assert run_sweep(story, "overhead-1d", points=2, workers=1).complete


def test_check_sweep_on_its_own_names_what_is_wrong(story):
    sweep = story.sweep_by_id()["both"]
    ok = check_sweep(story, sweep)
    assert [m for m in ok if m.severity == "error"] == []
    assert any(m.code == "TS-V07" for m in check_sweep(story, sweep, points=500))
    wrong = Sweep("w", "memory", ["overhead", "ghost"], fails_safely=[], fails_catastrophically=[
        Predicate("average_speed.posterior.deceptive", "~", 0.3)])
    codes = {m.code for m in check_sweep(story, wrong)}
    assert {"TS-V04", "TS-V02"} <= codes
    assert any(m.code == "TS-V11" for m in check_sweep(story, Sweep("u", "no-such", ["overhead"], [], [])))
    morris_text = Sweep("m", "memory", ["overhead", "memory", "bits"], [], [], output="average_speed.map.kind")
    assert any("not a number" in m.text for m in check_sweep(story, morris_text))


def test_points_override_and_usage_errors(story, tmp_path, capsys):
    path = tmp_path / "s.story.md"
    path.write_text(story_text())
    assert main(["story", "sweep", str(path), "both", "--points", "500", "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --points: 500 is not valid for sweep both; it takes 2 to 101 grid points per assumption")
    p = plan(story, "both", points=3)
    assert [a.values for a in p.axes] == [(0.0, 2.0, 4.0), (0.0, 0.45, 0.9)] and len(p.rows) == 9
    with pytest.raises(SweepError):
        plan(story, "both", points=1)
    with pytest.raises(ExplorerError, match="workers"):
        run_sweep(story, "both", workers=0)
    with pytest.raises(ExplorerError, match="not a scheduler address"):
        run_sweep(story, "both", scheduler="nonsense")
