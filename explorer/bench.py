"""The core benchmark: how fast worlds build and priors re-select, as ratios measured in one run.

Every figure is set against something measured in the same run on the same machine, never reported as
a bare time alone:

1. memory bandwidth: a STREAM-like copy of a large warmed buffer (bytes read + written), and, for
   context, the rate of writing freshly allocated memory of a table's size (first touch);
2. the abstract world's build, `AbstractWorld(n_programs=N).table()`: the bytes it must move (the table it
   writes plus the random inputs it reads) per second, as a share of that bandwidth;
3. re-selection of all five priors after a weight change (`Candidates.select`), at the default threshold
   and with every program a candidate, against its target time and as a share of the bandwidth;
4. the vectorised build against the plain per-program Python loop of `explorer.worlds.abstract_reference`;
5. a world slider moved (misbehaviour cost, deception overhead, ...: explorer.worlds.abstract_kept): the
   table's rebuild, the refilter and the re-selection a Simulation does, against one copy of the table's
   bytes (eight float64 columns) measured in the same run, and against a build with nothing kept.

`run` returns a JSON-able dict and `format_report` prints it, with each target marked met or missed.
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from typing import Any

import numpy as np

from explorer import shared
from explorer.bench_machine import machine, set_torch_threads
from explorer.table import itemsize

#: The world build should move its bytes at this share of the measured memory bandwidth, or better.
BUILD_TARGET = 0.25
#: Re-selecting this many candidate programs (all five priors) should take less than RESELECT_TARGET_S.
RESELECT_TARGET_N = 1_000_000
RESELECT_TARGET_S = 0.020
#: Size of the buffers of the copy that measures memory bandwidth (far beyond any cache).
COPY_BYTES = 256 * 2**20
#: Timed re-selections per case (the median is reported).
RESELECT_CALLS = 10
#: From this size on, a build is timed at most twice (each takes seconds and most of a GiB).
LARGE = 5_000_000
#: The world sliders the benchmark moves (the apps' "Misbehaviour" group), and the values it moves each to.
WORLD_SLIDERS = {
    "misbehaviour_cost": (1.5, 2.0, 0.5, 2.5, 1.0, 3.0),
    "deception_overhead": (1.5, 0.5, 2.0, 0.8, 1.2, 3.0),
    "deception_check_strength": (0.5, 1.0, 0.2, 1.5, 0.0, 0.8),
    "memory": (0.3, 0.6, 0.1, 0.8, 0.0, 0.5),
    "deceptive_efficiency": (1.2, 1.5, 0.8, 2.0, 1.0, 1.4),
    "deception_bits_offset": (-4.0, 4.0, -8.0, 2.0, 0.0, -2.0),
}
#: The untimed pass moves each slider to its values plus this (values the timed pass does not revisit).
WARM_OFFSET = 0.05
#: A world slider's rebuild + refilter + re-selection should take at most this many times one copy of the
#: table's bytes, at WORLD_TARGET_N programs.
WORLD_TARGET = 4.0
WORLD_TARGET_N = 1_000_000


def run(sizes=(100_000, 1_000_000, 10_000_000), backend: str = "numpy", threads: int = 1,
        reference_size: int = 5_000, repeats: int = 5, progress: bool = True) -> dict[str, Any]:
    """Measure everything in one run; see the module docstring. Returns a JSON-able dict."""
    from tqdm import tqdm

    from explorer.backend import get_backend
    from explorer.errors import ExplorerError

    sizes = sorted({int(n) for n in sizes})
    if not sizes or sizes[0] < 10:
        raise ExplorerError(f"sizes: need at least one program count of 10 or more, got {sizes}")
    if int(reference_size) < 10:
        raise ExplorerError(f"reference_size: must be at least 10, got {reference_size}")
    if int(repeats) < 1 or int(threads) < 1:
        raise ExplorerError(f"repeats and threads must be at least 1, got repeats={repeats}, threads={threads}")
    be = get_backend(backend)
    started = time.perf_counter()
    torch_threads_before, torch_threads = set_torch_threads(int(threads))
    slider_sizes = [n for n in sizes if n <= WORLD_TARGET_N]
    steps = 2 + len(sizes) * 3 + 1 + len(slider_sizes)
    bar = tqdm(total=steps, desc="bench", unit="step", file=sys.stderr, disable=not progress, leave=False)
    try:
        report: dict[str, Any] = {
            "backend": be.name,
            "threads": int(threads),
            "torch_threads": torch_threads,
            "machine": machine(),
        }
        bar.set_postfix_str("memory bandwidth")
        report["bandwidth"] = _bandwidth(be, _table_bytes_per_program(be) * sizes[-1], repeats)
        bar.update(2)

        _build(be, min(sizes[0], 100_000))  # warm-up: imports, allocator, caches
        builds, reselects = [], []
        for n in sizes:
            bar.set_postfix_str(f"build N={n:,}")
            entry, table = _time_build(be, n, repeats if n < LARGE else min(2, repeats))
            entry["bandwidth_ratio"] = entry["achieved_bytes_per_s"] / report["bandwidth"]["copy_bytes_per_s"]
            entry["target_met"] = entry["bandwidth_ratio"] >= BUILD_TARGET
            builds.append(entry)
            bar.update(1)
            for case in ("default", "worst"):
                bar.set_postfix_str(f"re-select N={n:,} ({case})")
                entry = _time_reselect(table, case)
                entry["bandwidth_ratio"] = entry["read_bytes_per_s"] / report["bandwidth"]["copy_bytes_per_s"]
                reselects.append(entry)
                bar.update(1)
            del table
            gc.collect()
        report["build"] = builds
        report["reselect"] = reselects

        bar.set_postfix_str(f"plain Python loop, N={reference_size:,}")
        report["reference"] = _reference(be, int(reference_size), repeats, builds)
        bar.update(1)

        report["world_slider"] = []
        for n in slider_sizes:
            bar.set_postfix_str(f"world sliders, N={n:,}")
            report["world_slider"].append(_world_sliders(be, n, repeats))
            bar.update(1)
    finally:
        bar.close()
        if torch_threads_before is not None:
            import torch

            torch.set_num_threads(torch_threads_before)
    report["targets"] = _targets(report)
    report["seconds"] = time.perf_counter() - started
    return report


# ---- measurements ---------------------------------------------------------------------------------

def _table_bytes_per_program(be) -> int:
    from explorer.worlds.abstract import AbstractWorld

    return AbstractWorld(n_programs=10).table(backend=be).nbytes // 10


def _bandwidth(be, fresh_bytes: int, repeats: int) -> dict[str, Any]:
    """STREAM-like copy of warmed buffers (best of a few), and first-touch writes of fresh memory."""
    xp = be.xp
    device = {"device": be.device} if be.device is not None else {}
    copy_repeats = max(3, repeats)
    copy_s = _best_copy_s(be, COPY_BYTES // 8, copy_repeats)
    copy_rate = 2 * COPY_BYTES / copy_s
    fresh_n = max(1, fresh_bytes // 8)
    fresh = []
    for _ in range(3):
        gc.collect()
        t0 = time.perf_counter()
        a = xp.empty((fresh_n,), dtype=xp.float64, **device)
        a[...] = 1.0
        be.synchronize()
        fresh.append(time.perf_counter() - t0)
        del a
    fresh_rate = 8 * fresh_n / min(fresh)
    return {
        "copy_bytes": 2 * COPY_BYTES,
        "copy_best_s": copy_s,
        "copy_repeats": copy_repeats,
        "copy_bytes_per_s": copy_rate,
        "fresh_write_bytes": 8 * fresh_n,
        "fresh_write_best_s": min(fresh),
        "fresh_write_bytes_per_s": fresh_rate,
        "fresh_write_ratio": fresh_rate / copy_rate,
    }


def _build(be, n: int):
    from explorer.worlds.abstract import AbstractWorld

    table = AbstractWorld(n_programs=n).table(backend=be)
    be.synchronize()
    return table


def _time_build(be, n: int, repeats: int):
    """Best and median of `repeats` builds of N programs; returns (entry, the last table)."""
    from explorer.worlds.abstract import UNIFORMS, AbstractWorld

    world = AbstractWorld(n_programs=n)
    times, table = [], None
    for _ in range(repeats):
        table = None  # free the previous table before the next build
        shared.clear()  # a whole build: nothing kept from the last one
        gc.collect()
        t0 = time.perf_counter()
        table = world.table(backend=be)
        be.synchronize()
        times.append(time.perf_counter() - t0)
    best = min(times)
    table_bytes = table.nbytes
    input_bytes = len(UNIFORMS) * 8 * n
    # The floor under any build of this world: drawing its random inputs, which it cannot skip.
    draws = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        world.uniforms(0, n)
        draws.append(time.perf_counter() - t0)
    return {
        "random_inputs_ns_per_program": min(draws) / n * 1e9,
        "n": n,
        "repeats": repeats,
        "best_s": best,
        "median_s": statistics.median(times),
        "ns_per_program": best / n * 1e9,
        "table_bytes": table_bytes,
        "input_bytes": input_bytes,
        "achieved_bytes_per_s": (table_bytes + input_bytes) / best,
    }, table


def _time_reselect(table, case: str) -> dict[str, Any]:
    """Median time of Candidates.select over RESELECT_CALLS weight changes."""
    from explorer.priors import Candidates, PriorSettings

    if case == "default":
        settings = PriorSettings()
    else:  # every program a candidate
        settings = PriorSettings(performance_threshold=0.0, generalization_check=False, compute_budget=None)
    t0 = time.perf_counter()
    cands = Candidates(table, settings.performance_threshold, settings.generalization_check, settings.compute_budget)
    filter_s = time.perf_counter() - t0
    cands.select(settings.weights())  # warm-up
    rng = np.random.default_rng(0)
    times = []
    for _ in range(RESELECT_CALLS):
        settings.w_simplicity, settings.w_max, settings.w_avg = (float(w) for w in rng.uniform(0.1, 3.0, 3))
        t0 = time.perf_counter()
        cands.select(settings.weights())
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    read = sum(math.prod(a.shape) * itemsize(a.dtype) for a in (cands.features, cands.summaries)) if cands.n else 0
    return {
        "n": len(table),
        "case": case,
        "threshold": settings.performance_threshold,
        "generalization_check": settings.generalization_check,
        "candidates": cands.n,
        "filter_s": filter_s,
        "calls": RESELECT_CALLS,
        "median_s": median,
        "min_s": min(times),
        "ns_per_candidate": median / cands.n * 1e9 if cands.n else None,
        "read_bytes": read,
        "read_bytes_per_s": read / median,
    }


def _best_copy_s(be, n: int, repeats: int) -> float:
    """Best time of `repeats` copies of n float64 between warmed buffers (after one copy to warm them)."""
    xp = be.xp
    device = {"device": be.device} if be.device is not None else {}
    src = xp.ones((n,), dtype=xp.float64, **device)
    dst = xp.zeros((n,), dtype=xp.float64, **device)
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        dst[...] = src
        be.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times[1:])


def _world_sliders(be, n: int, repeats: int) -> dict[str, Any]:
    """Each world slider moved through its values in a Simulation at the default threshold: the median
    rebuild, refilter and re-selection, and their sum against one copy of the table's bytes; and, for
    comparison, the same move with nothing kept (a whole build, the whole filter)."""
    from explorer.simulation import Simulation

    shared.clear()
    sim = Simulation(n_programs=n, backend=be.name)
    sim.select()

    def move(name, value) -> tuple[float, float, float]:
        sim.update(**{name: value})
        t0 = time.perf_counter()
        sim.table()
        be.synchronize()
        t1 = time.perf_counter()
        sim.candidates()
        t2 = time.perf_counter()
        sim.select()
        return t1 - t0, t2 - t1, time.perf_counter() - t2

    # An untimed pass first, to values near the timed ones: the process's heap grows to its steady size
    # (a fresh page costs more than the arithmetic on it here), as it has on a server that has run a while.
    for name, values in WORLD_SLIDERS.items():
        default = sim.params()[name]
        for v in values:
            move(name, v + WARM_OFFSET)
        move(name, default)
    sliders = []
    for name, values in WORLD_SLIDERS.items():
        default = sim.params()[name]
        move(name, values[0])  # the first move works out the kind's steps once
        times = [move(name, v) for v in values[1:]]
        how = _last_build(sim, be)
        move(name, default)
        rebuild, refilter, reselect = (statistics.median(t[i] for t in times) for i in range(3))
        sliders.append({"name": name, "moves": len(times), "rebuild_s": rebuild, "refilter_s": refilter,
                        "reselect_s": reselect, "total_s": statistics.median(sum(t) for t in times), "how": how})
    # The same move with nothing kept: what every world slider cost before.
    whole = []
    for value in WORLD_SLIDERS["deception_overhead"][:3]:
        shared.clear()
        sim = Simulation(n_programs=n, backend=be.name, deception_overhead=value)
        t0 = time.perf_counter()
        sim.select()
        be.synchronize()
        whole.append(time.perf_counter() - t0)
    shared.clear()
    copy_s = _best_copy_s(be, 8 * n, max(3, repeats))  # one copy of the table's eight float64 columns
    for s in sliders:
        s["ratio"] = s["total_s"] / copy_s
        s["target_met"] = s["ratio"] <= WORLD_TARGET
    return {"n": n, "copy_s": copy_s, "copy_bytes": 64 * n, "sliders": sliders,
            "nothing_kept_s": min(whole), "nothing_kept_ratio": min(whole) / copy_s}


def _last_build(sim, be) -> dict:
    from explorer.worlds.abstract_kept import kept_draws

    kept = kept_draws(sim.world, be)
    return dict(kept.last) if kept is not None else {"how": "whole (not kept)"}


def _reference(be, n: int, repeats: int, builds: list[dict]) -> dict[str, Any]:
    """The plain per-program loop against the vectorised build of the same world (same n)."""
    from explorer.table import COLUMNS
    from explorer.worlds.abstract import AbstractWorld
    from explorer.worlds.abstract_reference import reference_table

    world = AbstractWorld(n_programs=n)
    t0 = time.perf_counter()
    ref = reference_table(world, n=n)
    ref_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        shared.clear()
        t0 = time.perf_counter()
        table = world.table(backend=be)
        be.synchronize()
        times.append(time.perf_counter() - t0)
    vec = table.to_numpy()
    diff = max(float(np.max(np.abs(ref[c] - vec[c]))) for c in COLUMNS)
    ref_per = ref_s / n
    vec_per = min(times) / n
    near = min(builds, key=lambda b: abs(math.log(b["n"] / 1e6)))  # the build closest to 1e6 programs
    return {
        "n": n,
        "reference_s": ref_s,
        "vectorised_best_s": min(times),
        "vectorised_repeats": repeats,
        "reference_ns_per_program": ref_per * 1e9,
        "vectorised_ns_per_program": vec_per * 1e9,
        "speedup": ref_per / vec_per,
        "max_abs_diff": diff,
        "large_n": near["n"],
        "large_ns_per_program": near["ns_per_program"],
        "large_speedup": ref_per * 1e9 / near["ns_per_program"],
    }


def _table_bytes_per_program_from(report: dict) -> float:
    b = report["build"][0]
    return b["table_bytes"] / b["n"]


def _targets(report: dict) -> list[dict[str, Any]]:
    builds = report["build"]
    worst = min(builds, key=lambda b: b["bandwidth_ratio"])
    best = max(builds, key=lambda b: b["bandwidth_ratio"])
    build = {
        "name": "world build bandwidth",
        "target": (f"world build moves its bytes at >= {BUILD_TARGET:.0%} of the measured memory bandwidth, "
                   "at every size"),
        "value": worst["bandwidth_ratio"],
        "met": all(b["target_met"] for b in builds),
        "detail": (f"{worst['bandwidth_ratio']:.1%} at N={worst['n']:,} (worst), "
                   f"{best['bandwidth_ratio']:.1%} at N={best['n']:,} (best)"),
    }
    worst_case = [r for r in report["reselect"] if r["case"] == "worst"]
    near = min(worst_case, key=lambda r: abs(math.log(r["n"] / RESELECT_TARGET_N)))
    value = near["median_s"] * RESELECT_TARGET_N / near["n"]
    how = "measured" if near["n"] == RESELECT_TARGET_N else f"extrapolated linearly from N={near['n']:,}"
    reselect = {
        "name": "re-selection time",
        "target": (f"re-selecting {RESELECT_TARGET_N:,} programs (all four priors) takes under "
                   f"{RESELECT_TARGET_S * 1e3:g} ms"),
        "value": value,
        "met": value < RESELECT_TARGET_S,
        "detail": f"{value * 1e3:.1f} ms with every program a candidate ({how}); "
                  f"{value / RESELECT_TARGET_S:.2f} x the target",
    }
    targets = [build, reselect]
    if report.get("world_slider"):
        near = min(report["world_slider"], key=lambda w: abs(math.log(w["n"] / WORLD_TARGET_N)))
        worst = max(near["sliders"], key=lambda s: s["ratio"])
        how = "" if near["n"] == WORLD_TARGET_N else f" (measured at N={near['n']:,}, not {WORLD_TARGET_N:,})"
        targets.append({
            "name": "world slider",
            "target": (f"a world slider's rebuild + refilter + re-selection at {WORLD_TARGET_N:,} programs takes at "
                       f"most {WORLD_TARGET:g} x one copy of the table's bytes"),
            "value": worst["ratio"],
            "met": all(s["target_met"] for s in near["sliders"]),
            "detail": f"worst {worst['ratio']:.2f} x ({worst['name']}){how}; with nothing kept "
                      f"{near['nothing_kept_ratio']:.1f} x",
        })
    return targets


# ---- the report -------------------------------------------------------------------------------------

def format_report(report: dict) -> str:
    """A human-readable table of `run`'s report, with each target line marked met or missed."""
    m, bw = report["machine"], report["bandwidth"]
    v = m["versions"]
    gbs = 1e9
    lines = [
        f"Speed Prior Explorer core benchmark: backend {report['backend']}, {report['threads']} thread(s)",
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); {m['platform']}",
        f"software: Python {v['python']}, numpy {v['numpy']}, torch {v['torch']}",
        f"threads: torch.set_num_threads({report['threads']}) -> torch uses {report['torch_threads']}; numpy "
        f"element-wise ops are single-threaded (OMP_NUM_THREADS={m['env']['OMP_NUM_THREADS']}, "
        f"OPENBLAS_NUM_THREADS={m['env']['OPENBLAS_NUM_THREADS']})",
        f"allocator: freed memory kept in the process (explorer.memory): {'yes' if m['keep_freed_memory'] else 'no'}",
        "",
        "1. Memory bandwidth, measured in this run",
        f"   copy of a warmed {COPY_BYTES / 2**20:.0f} MiB float64 buffer (bytes read + written), best of "
        f"{bw['copy_repeats']}: {bw['copy_bytes_per_s'] / gbs:.2f} GB/s  <- the reference for the ratios below",
        f"   fresh allocation + first write of {bw['fresh_write_bytes'] / 1e6:,.0f} MB (the largest table's size), "
        f"best of 3: {bw['fresh_write_bytes_per_s'] / gbs:.2f} GB/s = {bw['fresh_write_ratio']:.2f} x the copy",
        "",
        "2. World build: AbstractWorld(n_programs=N).table(); bytes = table written + 5 float64 random inputs "
        "read per program",
        f"   {'N':>12} {'repeats':>7} {'best s':>9} {'median s':>9} {'ns/program':>10} {'bytes':>12} "
        f"{'GB/s':>6} {'of bandwidth':>12}  target >= {BUILD_TARGET:.0%}",
    ]
    for b in report["build"]:
        lines.append(
            f"   {b['n']:>12,} {b['repeats']:>7} {b['best_s']:>9.4f} {b['median_s']:>9.4f} "
            f"{b['ns_per_program']:>10.1f} {b['table_bytes'] + b['input_bytes']:>12,} "
            f"{b['achieved_bytes_per_s'] / gbs:>6.2f} "
            f"{b['bandwidth_ratio']:>12.1%}  {'met' if b['target_met'] else 'missed'}")
    floor = max(b["random_inputs_ns_per_program"] for b in report["build"])
    budget = (_table_bytes_per_program_from(report) + 40) / (BUILD_TARGET * report["bandwidth"]["copy_bytes_per_s"]) * 1e9
    lines.append(f"   drawing the random inputs alone takes up to {floor:.1f} ns/program; the {BUILD_TARGET:.0%} target "
                 f"allows {budget:.1f} ns/program for the whole build")
    lines += [
        "",
        f"3. Re-selection of all four priors after a weight change: Candidates(table, threshold) once, then the median "
        f"of {RESELECT_CALLS} select() calls",
        f"   {'N':>12} {'case':<40} {'candidates':>11} {'filter s':>9} {'median ms':>10} {'ns/cand.':>9} "
        f"{'read GB/s':>9} {'of bandwidth':>12}",
    ]
    for r in report["reselect"]:
        case = (f"default (threshold {r['threshold']:g}{', held-out check' if r['generalization_check'] else ''})"
                if r["case"] == "default" else "worst (threshold 0: every program)")
        per = f"{r['ns_per_candidate']:.1f}" if r["ns_per_candidate"] is not None else "-"
        lines.append(
            f"   {r['n']:>12,} {case:<40} {r['candidates']:>11,} {r['filter_s']:>9.4f} {r['median_s'] * 1e3:>10.2f} "
            f"{per:>9} {r['read_bytes_per_s'] / gbs:>9.2f} {r['bandwidth_ratio']:>12.1%}")
    ref = report["reference"]
    lines += [
        "",
        "4. Vectorised build against the plain per-program Python loop (explorer.worlds.abstract_reference)",
        f"   N={ref['n']:,}: loop {ref['reference_ns_per_program'] / 1e3:.1f} us/program, vectorised "
        f"{ref['vectorised_ns_per_program'] / 1e3:.2f} us/program (best of {ref['vectorised_repeats']}) -> "
        f"{ref['speedup']:,.0f} x faster (largest |difference| {ref['max_abs_diff']:.1e})",
        f"   vectorised at N={ref['large_n']:,}: {ref['large_ns_per_program']:.1f} ns/program -> "
        f"{ref['large_speedup']:,.0f} x the loop's per-program speed",
    ]
    for w in report.get("world_slider", []):
        lines += [
            "",
            f"5. World sliders at N={w['n']:,}: a Simulation at the default threshold, each slider moved "
            f"{w['sliders'][0]['moves']} times (medians), after an untimed pass over all of them",
            f"   one copy of the table's bytes ({w['copy_bytes'] / 1e6:,.0f} MB, eight float64 columns), best of "
            f"several: {w['copy_s'] * 1e3:.2f} ms  <- the reference for the ratios below",
            f"   {'slider':<26} {'rebuild ms':>10} {'refilter ms':>11} {'re-select ms':>12} {'total ms':>9} "
            f"{'x copy':>7}  target <= {WORLD_TARGET:g}x   what the rebuild worked out again",
        ]
        for s in w["sliders"]:
            cols = s["how"].get("columns")
            what = s["how"]["how"] if cols is None else "; ".join(f"{c} ({', '.join(k)})" for c, k in cols.items())
            lines.append(
                f"   {s['name']:<26} {s['rebuild_s'] * 1e3:>10.2f} {s['refilter_s'] * 1e3:>11.2f} "
                f"{s['reselect_s'] * 1e3:>12.2f} {s['total_s'] * 1e3:>9.2f} {s['ratio']:>7.2f}  "
                f"{'met' if s['target_met'] else 'missed':<13} {what}")
        lines.append(f"   with nothing kept (a whole build, the whole filter): {w['nothing_kept_s'] * 1e3:.1f} ms = "
                     f"{w['nothing_kept_ratio']:.1f} x the copy")
    lines += [
        "",
        "Targets",
    ]
    for t in report["targets"]:
        lines.append(f"   [{'met' if t['met'] else 'missed'}] {t['target']}: {t['detail']}")
    lines.append(f"\n(whole run: {report['seconds']:.1f} s)")
    return "\n".join(lines)
