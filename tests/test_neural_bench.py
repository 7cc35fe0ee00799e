"""`python -m explorer bench neural` at a tiny size: both sides run, the report states threads and ratios."""

from explorer.worlds.neural import bench


def test_bench_reports_ratios_and_threads_and_both_sides_did_the_same_work():
    report = bench.run(networks=3, steps=2, rounds=1, threads=1, progress=False)
    assert report["threads"] == 1 and set(report["cases"]) == {"mlp", "halting"}
    for case in report["cases"].values():
        assert case["ratio"] > 0 and case["networks"] == 3
        assert case["max_weight_difference"] < 1e-4
    text = bench.format_report(report)
    assert "torch threads 1" in text and "Target:" in text
