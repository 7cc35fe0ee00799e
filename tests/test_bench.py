"""Smoke test of the core benchmark: a tiny run has every measured field, sane ratios and a report that
marks each target met or missed."""

import json
import math

import pytest

from explorer import bench


@pytest.fixture(scope="module")
def report():
    return bench.run(sizes=(20_000,), reference_size=500, progress=False)


def _positive(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def test_report_is_json_and_states_machine_and_threads(report):
    assert json.loads(json.dumps(report)) == report
    assert report["backend"] == "numpy" and report["threads"] == 1
    machine = report["machine"]
    assert machine["cpu"] and machine["platform"] and machine["cores"] >= 1
    assert machine["versions"]["numpy"]


def test_bandwidth_is_measured(report):
    bw = report["bandwidth"]
    for key in ("copy_bytes_per_s", "fresh_write_bytes_per_s", "fresh_write_ratio", "copy_best_s"):
        assert _positive(bw[key]), key


def test_build_ratios(report):
    (build,) = report["build"]
    assert build["n"] == 20_000 and build["repeats"] >= 1
    assert build["table_bytes"] == 64 * 20_000 and build["input_bytes"] == 40 * 20_000
    for key in ("best_s", "median_s", "ns_per_program", "achieved_bytes_per_s", "bandwidth_ratio"):
        assert _positive(build[key]), key
    assert build["target_met"] == (build["bandwidth_ratio"] >= bench.BUILD_TARGET)


def test_reselect_default_and_worst(report):
    cases = {r["case"]: r for r in report["reselect"]}
    assert set(cases) == {"default", "worst"}
    assert cases["worst"]["candidates"] == 20_000
    assert 0 < cases["default"]["candidates"] < 20_000
    for r in cases.values():
        for key in ("median_s", "min_s", "ns_per_candidate", "read_bytes_per_s", "bandwidth_ratio"):
            assert _positive(r[key]), key


def test_reference_speedup(report):
    ref = report["reference"]
    for key in ("reference_ns_per_program", "vectorised_ns_per_program", "speedup", "large_speedup"):
        assert _positive(ref[key]), key
    assert ref["max_abs_diff"] < 1e-12


def test_world_sliders_against_a_copy_of_the_table(report):
    (sliders,) = report["world_slider"]
    assert sliders["n"] == 20_000 and sliders["copy_bytes"] == 64 * 20_000 and _positive(sliders["copy_s"])
    assert [s["name"] for s in sliders["sliders"]] == list(bench.WORLD_SLIDERS)
    for s in sliders["sliders"]:
        for key in ("rebuild_s", "refilter_s", "reselect_s", "total_s", "ratio"):
            assert _positive(s[key]), (s["name"], key)
        assert s["target_met"] == (s["ratio"] <= bench.WORLD_TARGET)
        # each of these sliders moves one kind's rows: the rebuild patched them, nothing was built whole
        assert s["how"]["how"] == "patched" and s["how"]["columns"], s
    assert sliders["nothing_kept_ratio"] > 0
    text = bench.format_report(report)
    assert "5. World sliders at N=20,000" in text and "with nothing kept" in text


def test_format_report_marks_each_target(report):
    text = bench.format_report(report)
    assert [t["name"] for t in report["targets"]] == ["world build bandwidth", "re-selection time", "world slider"]
    for target in report["targets"]:
        assert isinstance(target["met"], bool) and _positive(target["value"])
        line = next(line for line in text.splitlines() if target["target"] in line)
        assert line.strip().startswith("[met]" if target["met"] else "[missed]")
    assert "25%" in text and "20 ms" in text
    assert "thread" in text and report["machine"]["cpu"] in text
