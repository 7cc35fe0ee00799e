"""Where a page's main thread spends a slider move: a Chromium performance trace, summed.

`python -m explorer bench --browser --trace DIR` records one trace per page and slider (Chromium's
devtools.timeline categories and its sampling JavaScript profiler) and prints this summary of it. The
renderer's main thread is the one that applies Bokeh's document patches, runs the JavaScript they set off
(BokehJS, Panel's models, Tabulator), recalculates style and layout and paints; one thread, so its time
per move adds up. Trace events nest (a task holds a script call, which holds a style recalculation):
each event's own time is its duration less its children's, so nothing is counted twice. The
JavaScript profile then says which functions the scripting time went to.

Open a saved trace in Chromium's DevTools (Performance, "Load profile") to see the moves on a timeline.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

#: Trace categories to record: the DevTools timeline and the JavaScript sampling profiler.
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute",
              "disabled-by-default-v8.cpu_profiler", "blink.user_timing", "toplevel"]

#: Event names by what DevTools calls them; the rest of a task's own time is "other".
KINDS = {
    "scripting": ("FunctionCall", "EvaluateScript", "TimerFire", "EventDispatch", "FireAnimationFrame",
                  "RunMicrotasks", "v8.compile", "v8.run", "v8.callFunction", "V8.Execute", "V8.HandleInterrupts",
                  "BlinkScheduler_PerformMicrotaskCheckpoint", "XHRReadyStateChange", "FireIdleCallback",
                  "V8.StackGuard", "V8.BytecodeBudgetInterrupt"),
    "style": ("UpdateLayoutTree", "RecalculateStyles", "ParseAuthorStyleSheet", "ScheduleStyleRecalculation"),
    "layout": ("Layout", "UpdateLayerTree", "HitTest"),
    "paint and composite": ("Paint", "PrePaint", "Layerize", "Commit", "UpdateLayer", "CompositeLayers", "PaintImage",
                            "Decode Image", "RasterTask"),
    # The sampling profiler interrupts the page to take its samples: its cost, not the page's.
    "profiler sampling": ("V8.InvokeApiInterruptCallbacks",),
}
_KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}

#: JavaScript functions whose time, with everything they call, says what a move's scripting was for.
PHASES = {
    "apply the document patch (BokehJS _on_message)": ("_on_message",),
    "Tabulator: set the table's data": ("_setDataActual",),
    "image: colour-map and upload": ("_set_data", "_update_image"),
    "canvas paint (BokehJS _actual_paint)": ("_actual_paint",),
    "layout of Bokeh's plots (compute_layout)": ("compute_layout",),
    "URL update (history.pushState)": ("pushState",),
}


def _kind(name: str) -> str:
    if name in _KIND_OF:
        return _KIND_OF[name]
    if name.startswith("V8.GC") or name in ("MinorGC", "MajorGC", "GCEvent"):
        return "garbage collection"
    return "other"


def _library(url: str) -> str:
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    for lib in ("bokeh", "panel", "tabulator"):
        if name.startswith(lib):
            return lib
    return name or "browser"


def load(path: Path | str) -> list[dict[str, Any]]:
    """The trace's events (Chromium writes either a list or an object with `traceEvents`)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data["traceEvents"] if isinstance(data, dict) else data


def main_thread(events: list[dict]) -> tuple[int, int]:
    """(pid, tid) of the busiest renderer main thread: the page's."""
    names = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"}
    busy = Counter()
    for e in events:
        if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in names:
            busy[(e["pid"], e["tid"])] += e.get("dur", 0)
    if not busy:
        raise ValueError("the trace has no renderer main thread (was the page traced?)")
    return busy.most_common(1)[0][0]


def self_times(events: list[dict], thread: tuple[int, int]) -> Counter:
    """Each event name's own time in microseconds on `thread`: its duration less its children's."""
    spans = sorted((e for e in events if e.get("ph") == "X" and "dur" in e and (e.get("pid"), e.get("tid")) == thread),
                   key=lambda e: (e["ts"], -e["dur"]))
    own, stack = Counter(), []
    for e in spans:
        while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
            stack.pop()
        if stack:
            own[stack[-1]["name"]] -= e["dur"]
        own[e["name"]] += e["dur"]
        stack.append(e)
    return own


def js_profile(events: list[dict], pid: int) -> tuple[Counter, Counter]:
    """From the sampling profile of process `pid`: microseconds by (function, library) where the sample
    was taken (self), and by function with everything it called (inclusive)."""
    nodes, samples, deltas = {}, [], []
    for e in events:
        if e.get("name") == "ProfileChunk" and e.get("pid") == pid:
            data = e["args"]["data"]
            for n in data.get("cpuProfile", {}).get("nodes", []):
                nodes[n["id"]] = n
            samples += data.get("cpuProfile", {}).get("samples", [])
            deltas += data.get("timeDeltas", [])
    own, inclusive = Counter(), Counter()
    for i, sample in enumerate(samples[:-1]):
        dt, node = deltas[i + 1], nodes.get(sample)  # a sample lasts until the next one
        if node is None or node["callFrame"]["functionName"] in ("(idle)", "(root)", "(program)"):
            continue
        frame = node["callFrame"]
        own[(frame["functionName"] or "(anonymous)", _library(frame.get("url", "")))] += dt
        seen = set()
        while node is not None:
            name = node["callFrame"]["functionName"]
            if name not in seen:
                inclusive[name] += dt
                seen.add(name)
            node = nodes.get(node.get("parent"))
    return own, inclusive


def summarise(path: Path | str, moves: int, top: int = 8) -> dict[str, Any]:
    """Main-thread milliseconds per move: by kind of work, by phase of the update, and the functions
    that took the most (their own time)."""
    events = load(path)
    thread = main_thread(events)
    own = self_times(events, thread)
    kinds = Counter()
    for name, us in own.items():
        kinds[_kind(name)] += us
    js_own, js_inclusive = js_profile(events, thread[0])
    per = lambda us: us / 1000 / moves  # noqa: E731
    return {
        "trace": str(path), "moves": moves,
        "kinds_ms": {k: per(v) for k, v in kinds.most_common() if per(v) >= 0.05},
        "phases_ms": {label: per(max(js_inclusive[f] for f in names)) for label, names in PHASES.items()},
        "functions_ms": [{"function": f, "library": lib, "ms": per(us)} for (f, lib), us in js_own.most_common(top)],
    }


def format_summary(summary: dict[str, Any], indent: str = "   ") -> list[str]:
    """The summary as report lines."""
    work = {k: v for k, v in summary["kinds_ms"].items() if k != "profiler sampling"}
    lines = [f"{indent}main thread per move: {sum(work.values()):.1f} ms: "
             + ", ".join(f"{k} {v:.1f}" for k, v in work.items())]
    sampling = summary["kinds_ms"].get("profiler sampling")
    if sampling:
        lines[-1] += f" (and {sampling:.1f} ms of the profiler's own sampling, left out)"
    lines.append(f"{indent}  scripting by phase (with what each calls): "
                 + ", ".join(f"{k} {v:.1f}" for k, v in summary["phases_ms"].items() if v >= 0.05))
    lines.append(f"{indent}  functions by own time: "
                 + ", ".join(f"{f['function']} ({f['library']}) {f['ms']:.1f}" for f in summary["functions_ms"]))
    lines.append(f"{indent}  trace: {summary['trace']}")
    return lines
