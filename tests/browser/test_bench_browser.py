"""`bench --browser` end to end at a small size: both sliders moved, each move split into server and browser,
a trace per slider summarised, every target marked. No timing is asserted: only that each part was measured.

The command runs in its own process, as a user runs it (and because Playwright's sync API cannot start
inside the event loop the browser tests' own page fixture leaves running in this one)."""

import json
import os
import subprocess
import sys

from explorer import bench_browser


def test_the_browser_bench_moves_both_sliders_and_traces_them(tmp_path):
    run = subprocess.run([sys.executable, "-m", "explorer", "bench", "--browser", "--sizes", "1e4", "--moves", "2",
                          "--trace", str(tmp_path), "--json"],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["panel_round_trip"]["moves"] == 2
    rows = {r["slider"]: r for r in report["priors"]}
    assert set(rows) == {"weight", "world"} and {r["parameter"] for r in rows.values()} == {"w_avg", "misbehaviour_cost"}
    for r in rows.values():
        assert r["n_programs"] == 10_000 and r["moves"] == 2
        assert 0 < r["server_ms"] < r["median_ms"] <= r["settled_ms"] and r["browser_ms"] > 0
        assert r["target"] is None and r["target_met"] is None  # targets are set for 1e5 and 1e6 only
        assert r["trace"]["kinds_ms"]["scripting"] > 0
        assert (tmp_path / f"priors-10000-{r['slider']}.json").stat().st_size > 0
    text = bench_browser.format_report(report)
    assert "world slider: misbehaviour_cost" in text and "Where the browser's main thread went" in text
    row = dict(rows["weight"], n_programs=100_000, target=1.5, target_met=False)
    assert "<= 1.5x: missed" in bench_browser.format_report({**report, "priors": [row]})
