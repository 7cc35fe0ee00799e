"""The trace summary counts each event's own time once, on the page's main thread, and attributes the
JavaScript profile's samples to the functions and phases they were taken in."""

import json
import os

import pytest

from explorer import browser_trace


def _trace(tmp_path):
    main, other = (7, 1), (7, 2)
    x = lambda name, ts, dur, thread=main: {"ph": "X", "name": name, "ts": ts, "dur": dur, "pid": thread[0], "tid": thread[1]}  # noqa: E731
    events = [
        {"ph": "M", "name": "thread_name", "pid": 7, "tid": 1, "args": {"name": "CrRendererMain"}},
        {"ph": "M", "name": "thread_name", "pid": 7, "tid": 2, "args": {"name": "Compositor"}},
        x("RunTask", 0, 100_000), x("FunctionCall", 10_000, 50_000), x("UpdateLayoutTree", 20_000, 10_000),
        x("Layout", 70_000, 10_000), x("Paint", 0, 90_000, other),  # another thread's: not the page's main thread
        {"ph": "P", "name": "ProfileChunk", "pid": 7, "tid": 1, "ts": 0, "args": {"data": {
            "cpuProfile": {"nodes": [
                {"id": 1, "callFrame": {"functionName": "(root)", "url": ""}},
                {"id": 2, "parent": 1, "callFrame": {"functionName": "_on_message", "url": "http://x/static/js/bokeh.min.js?v=1"}},
                {"id": 3, "parent": 2, "callFrame": {"functionName": "_setDataActual", "url": "http://x/tabulator.min.js"}}],
                "samples": [2, 3, 3, 1]},
            "timeDeltas": [0, 4_000, 6_000, 10_000]}}},
    ]
    path = tmp_path / "trace.json"
    path.write_text(json.dumps({"traceEvents": events}))
    return path


def test_own_times_by_kind_and_functions_by_phase(tmp_path):
    summary = browser_trace.summarise(_trace(tmp_path), moves=2)
    # 100 ms task: 40 ms script of its own, 10 of style inside it, 10 of layout, 40 of the task itself; per move half
    assert summary["kinds_ms"] == {"scripting": 20.0, "other": 20.0, "style": 5.0, "layout": 5.0}
    phases = summary["phases_ms"]
    # a sample lasts until the next: 4 ms in _on_message itself, then 6 + 10 ms in _setDataActual under it
    assert phases["apply the document patch (BokehJS _on_message)"] == 10.0
    assert phases["Tabulator: set the table's data"] == 8.0
    own = {(f["function"], f["library"]): f["ms"] for f in summary["functions_ms"]}
    assert own == {("_on_message", "bokeh"): 2.0, ("_setDataActual", "tabulator"): 8.0}
    assert "main thread per move: 50.0 ms" in browser_trace.format_summary(summary)[0]


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium")
def test_a_trace_folder_that_cannot_be_written_is_named_before_any_move(capsys):
    from explorer.cli import main

    assert main(["bench", "--browser", "--trace", "/proc/no-such-folder"]) != 0
    err = capsys.readouterr().err
    assert "--trace: cannot write traces in '/proc/no-such-folder'" in err and "Traceback" not in err
