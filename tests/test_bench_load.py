"""The load benchmark: its pure pieces (percentiles, memory of a process tree, a log's errors, what a
page's status says), and one small real run through the CLI against a server it starts itself."""

import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from explorer.ui import bench_load as bl

ROOT = Path(__file__).resolve().parent.parent


# ---- pure pieces ----------------------------------------------------------------------------------------

def test_percentile_is_numpys_and_nan_for_nothing():
    assert bl.percentile([5.0, 1.0, 9.0, 3.0], 50) == 4.0 and bl.percentile([4.0], 95) == 4.0
    assert math.isnan(bl.percentile([], 50))


def test_summary_counts_and_orders():
    s = bl.summary([3.0, 1.0, 2.0])
    assert s["count"] == 3 and s["p50"] == 2.0 and s["max"] == 3.0 and s["p50"] <= s["p95"] <= s["max"]
    assert bl.summary([])["count"] == 0 and math.isnan(bl.summary([])["max"])


def test_the_process_tree_counts_a_child_and_its_memory():
    """The server is a wrapper with the panel server under it: a child holding 200 MB must show in the sum."""
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; b = bytearray(200_000_000); "
                              "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        alone = psutil.Process().memory_info().rss / 1e6
        assert bl.tree_rss_mb(os.getpid()) >= alone + 190
        assert bl.tree_threads(os.getpid()) >= threading.active_count() + 1
        assert bl.tree_cpu_s(os.getpid()) >= psutil.Process().cpu_times().user
    finally:
        child.kill()
        child.wait()
    assert bl.tree_rss_mb(2**22 + 7) == 0 and bl.tree_threads(2**22 + 7) == 0  # no such process


def test_log_errors_counts_error_lines_and_tracebacks_once():
    log = "\n".join([
        "2026-12-07 10:00:00,000 Starting Bokeh server version 3.9.2",
        "2026-12-07 10:00:01,000 ERROR: panel.reactive - Callback failed for object named 'w_avg'",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in f',
        "    raise ValueError('boom')",
        "ValueError: boom",
        "2026-12-07 10:00:02,000 WebSocket connection closed: code=1001, reason=None",
        "2026-12-07 10:00:03,000 W-1005 (FIXED_SIZING_MODE): a warning, not an error",
    ])
    found = bl.log_errors(log)
    # the ERROR line, the Traceback (with its exception) and the exception line itself
    assert found["count"] == 3
    assert found["first"][0].startswith("2026-12-07 10:00:01,000 ERROR")
    assert found["first"][1] == 'Traceback (most recent call last): ... File "x.py", line 1, in f ... ValueError: boom'
    assert bl.log_errors("all fine\nServerConnection created\n") == {"count": 0, "first": []}
    assert len(bl.log_errors("ERROR x\n" * 9, first=4)["first"]) == 4


def test_status_phase_reads_waiting_working_done():
    assert bl.status_phase(["<p>Waiting for a free worker: 2nd in line</p>", "Measuring"]) == "waiting"
    assert bl.status_phase(["&lt;strong&gt;Waiting for a free worker (other runs are training).&lt;/strong&gt;"]) == "waiting"
    assert bl.status_phase(["Measuring: 3 of 40 chunks of programs."]) == "working"
    assert bl.status_phase(["<strong>Training:</strong> step 41 of at most 200."]) == "working"
    assert bl.status_phase(["**80,000 programs** ...; 12 are correct on every training input: honest 3"]) == "done"
    assert bl.status_phase(["&lt;p&gt;&lt;strong&gt;Done&lt;/strong&gt; in 1.4 s: 3 network(s)"]) == "done"
    assert bl.status_phase(["<strong>Stopped</strong> after 40 steps; nothing was measured."]) == "done"
    assert bl.status_phase(["Press <strong>Start</strong> to train."]) is None
    # the story beside the page talks of training and of programs correct on every training input: no phase
    assert bl.status_phase(["Training goal: a model that is done when training ends; each prior's selection "
                            "among the programs correct on every training input"]) is None


def test_composition_of_a_level():
    assert bl.composition(1, 2, 0.1) == {"probe": 1, "programs": 0, "neural": 0, "browser": 0, "movers": 0}
    c = bl.composition(20, 2, 0.1)
    assert c == {"probe": 1, "programs": 2, "neural": 2, "browser": 2, "movers": 13} and sum(c.values()) == 20
    c = bl.composition(3, 5, 0.5)
    assert sum(c.values()) == 3 and c["programs"] == c["neural"] == 1 and c["browser"] == 0
    with pytest.raises(ValueError):
        bl.composition(0, 0, 0.1)


def test_cli_refuses_bad_options():
    from explorer.cli import main

    assert main(["bench", "load", "--pace", "0"]) == 2
    assert main(["bench", "load", "--mix", "0.9"]) == 2
    assert main(["bench", "load", "--num-procs", "0"]) == 2


def test_the_server_is_started_with_the_processes_asked_for(monkeypatch):
    from explorer.ui import bench_load

    started = []
    monkeypatch.setattr(bench_load.subprocess, "Popen", lambda cmd, **kw: started.append(cmd) or (_ for _ in ()).throw(OSError("no")))
    for procs in (1, 3):
        with pytest.raises(OSError):
            bench_load.Server(num_procs=procs).start()
    assert "--num-procs" not in started[0] and started[1][started[1].index("--num-procs") + 1] == "3"


# ---- one real run ---------------------------------------------------------------------------------------

def _positive(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Levels 1 and 4 (a probe, one /programs at length 6, one /neural, and a Chromium page or a /priors
    client), 3 s each, then 2 sessions one after another: the real server, about a minute."""
    out = tmp_path_factory.mktemp("load") / "load.json"
    browser = os.path.exists(bl.CHROMIUM)
    cmd = [sys.executable, "-m", "explorer", "bench", "load", "--sessions", "1", "4", "--duration", "3",
           "--mix", "0.25", "--browser-pages", "1", "--sequential", "2", "--discard-wait", "2",
           "--json", "--out", str(out)]
    if not browser:
        cmd.append("--no-browser")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    return {"report": report, "file": json.loads(out.read_text()), "stderr": proc.stderr, "browser": browser}


def test_run_states_machine_options_and_writes_the_file(run):
    r = run["report"]
    assert run["file"] == r
    assert r["machine"]["cpu"] and r["machine"]["cores"] >= 1 and r["server_omp_threads"] == 1
    assert r["options"]["sessions"] == [1, 4] and r["options"]["browser"] is run["browser"]
    assert "[load" in run["stderr"]  # progress on stderr, the report alone on stdout
    assert _positive(r["rss_idle_mb"]) and _positive(r["rss_after_all_closed_mb"])


def test_levels_measure_arrivals_probe_and_memory(run):
    levels = run["report"]["levels"]
    assert [lv["n"] for lv in levels] == [1, 4]
    for lv in levels:
        assert lv["arrival"]["errors"] == [], lv["arrival"]["errors"]
        assert _positive(lv["arrival"]["pull"]["max"])
        p = lv["probe"]
        assert p["first_ms"]["count"] >= 1 and _positive(p["first_ms"]["p50"]) and _positive(p["ratio_p95"])
        assert p["first_ms"]["p50"] <= p["complete_ms"]["p50"] + 1e-9 or p["complete_ms"]["count"] == 0
        assert _positive(lv["newcomer"]["seconds"]) and lv["newcomer"]["error"] == ""
        assert _positive(lv["rss_mb"]["live"]) and lv["rss_mb"]["peak"] >= lv["rss_mb"]["before"] * 0.5
        assert lv["server_threads"] >= 1 and lv["cpu_s"]["server"] > 0
    assert levels[0]["probe"]["ratio_p50"] == pytest.approx(1.0)
    four = levels[1]
    assert sum(four["composition"].values()) == 4
    assert four["composition"]["programs"] == four["composition"]["neural"] == 1
    if run["browser"]:
        assert four["arrival"]["browser"]["count"] == 1 and _positive(four["arrival"]["browser"]["max"])
        assert four["newcomer"]["kind"].startswith("chromium")
    jobs = {j["app"]: j for j in four["jobs"]}
    assert set(jobs) == {"programs", "neural"}
    for j in jobs.values():
        assert _positive(j["ready_s"]) and j["error"] == ""
        assert j["wait_s"] is None or j["wait_s"] >= 0  # None (JSON for NaN): not started within the level


def test_sequential_memory_and_log_errors(run):
    r = run["report"]
    s = r["sequential"]
    assert s["sessions"] == 2 and s["errors"] == []
    assert _positive(s["rss_after_first_mb"]) and _positive(s["rss_after_all_mb"])
    assert s["growth_mb"] == pytest.approx(s["rss_after_all_mb"] - s["rss_after_first_mb"])
    errors = r["server_log_errors"]
    assert isinstance(errors["count"], int) and errors["count"] >= 0 and len(errors["first"]) <= 5


def test_text_report_prints_every_figure(run):
    text = bl.format_report(run["report"])  # from the JSON: NaN came back as None
    for words in ("load benchmark", "machine:", "arrive pull", "newcomer", "probe p50", "RSS live",
                  "single-user probe p50", "2 sessions opened and closed", "server log:", "/programs:", "/neural:"):
        assert words in text, words
