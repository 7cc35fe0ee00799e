"""`bench programs`: the enumerated world end to end, against the plain Python interpreter and the array one.

Per program length (default 6 and 7), every side does the same job, counted in program-input pairs: every
program up to that length run on every training and held-out input, once with f = 0 and once with
f = 1 (P x inputs x 2 pairs).

- **end to end**: `python -m explorer programs enumerate --task T --max-length L --json` in a fresh process,
  as a user runs it (start, imports, the compiled kernel loaded from numba's cache, measuring, the table,
  each prior's pick); its wall time, and the seconds it reports for measuring and the table. Target:
  length 6 within 4 s, length 7 within 60 s, on one thread.
- **array interpreter**: the same command with `--interpreter array` (interpreter.execute on numpy, the
  path the other back ends take), up to length ARRAY_UP_TO only (beyond, it takes minutes), so its
  ratio is measured at the lengths where it runs and the report says where it did not.
- **plain Python**: machine.run on a random sample of the same pairs, timed in the same run; its rate is
  what running them all would take (the ratio of rates is the figure; target >= 30x).
- **compile**: numba compiling the kernel into an empty cache (a user's first run pays it once), and
  loading it from that cache (every later run), each in a fresh process.

Every shortcut (input deduplication for loop-free programs, f = 1 only where a program has IFDEP) is
fair: both interpreters give the same table, which the tests check column by column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

#: Target ratio of the enumeration's rate to the plain interpreter's (one CPU thread).
TARGET_RATIO = 30.0
#: End-to-end targets, seconds, by program length (one CPU thread).
TARGET_SECONDS = {6: 4.0, 7: 60.0}
#: Longest programs the array interpreter is run on here (length 7 took it about 6 minutes).
ARRAY_UP_TO = 6


def run(lengths: tuple[int, ...] = (6, 7), task: str = "parity", threads: int = 1, reference_pairs: int = 20_000,
        seed: int = 0, array_backend: str = "numpy", progress=None) -> dict[str, Any]:
    """Time every side at each length; returns a JSON-able report (see format_report).

    The array interpreter runs on `array_backend` (on numpy up to ARRAY_UP_TO only). `progress(text)`, when
    given, is told what runs next (the length-7 enumeration takes half a minute)."""
    from explorer.bench_machine import machine, set_torch_threads
    from explorer.errors import ExplorerError
    from explorer.worlds.enumerated.spaces import MAX_LENGTH

    if threads < 1 or reference_pairs < 100:
        raise ExplorerError(f"threads must be >= 1 and reference_pairs >= 100, got {threads}, {reference_pairs}")
    if not lengths or any(not 1 <= L <= MAX_LENGTH for L in lengths):
        raise ExplorerError(f"--sizes: program lengths must be 1..{MAX_LENGTH}, got {list(lengths)}")
    say = progress or (lambda text: None)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads)}
    before, torch_threads = set_torch_threads(threads)
    try:
        say("compiling the kernel into an empty cache, then loading it from there")
        compile_cold, compile_cached = _compile_seconds(env)
        _enumerate(1, task, "compiled", env)  # fills numba's usual cache, if this checkout's is empty
        rows = []
        for L in lengths:
            say(f"length {L}: programs enumerate (compiled)")
            compiled = _enumerate(L, task, "compiled", env)
            array = None
            if L <= ARRAY_UP_TO or array_backend != "numpy":
                say(f"length {L}: programs enumerate --interpreter array --backend {array_backend}")
                array = _enumerate(L, task, "array", env, array_backend)
            say(f"length {L}: plain Python on {reference_pairs:,} sampled pairs")
            rows.append(_length_row(L, task, compiled, array, _plain(L, task, reference_pairs, seed)))
    finally:
        if before is not None:
            set_torch_threads(before)
    return {
        "task": task, "backend": "numpy", "array_backend": array_backend, "threads": threads, "torch_threads": torch_threads,
        "omp_num_threads": env["OMP_NUM_THREADS"], "numba_num_threads": env["NUMBA_NUM_THREADS"],
        "compile": {"cold_seconds": compile_cold, "cached_seconds": compile_cached},
        "lengths": rows, "target_ratio": TARGET_RATIO, "array_up_to": ARRAY_UP_TO,
        "machine": machine(),
    }


def _length_row(L: int, task: str, compiled: dict, array: dict | None, plain: dict) -> dict[str, Any]:
    programs, inputs = compiled["programs"], plain["inputs"]
    pairs = programs * inputs * 2
    plain_rate = plain["pairs"] / plain["seconds"]
    target = TARGET_SECONDS.get(L)
    row = {
        "max_length": L, "programs": programs, "inputs": inputs, "pairs": pairs,
        "compiled": {**compiled, "pairs_per_s": pairs / compiled["measure_seconds"]},
        "array": None if array is None else {**array, "pairs_per_s": pairs / array["measure_seconds"]},
        "plain_python": {"sampled_pairs": plain["pairs"], "seconds": plain["seconds"], "pairs_per_s": plain_rate,
                         "projected_seconds_for_all": pairs / plain_rate},
        "target_seconds": target,
        "target_met": None if target is None else compiled["wall_seconds"] <= target,
    }
    row["ratio"] = row["compiled"]["pairs_per_s"] / plain_rate
    row["ratio_met"] = row["ratio"] >= TARGET_RATIO
    if array is not None:
        row["ratio_to_array"] = array["measure_seconds"] / compiled["measure_seconds"]
        row["ratio_to_array_end_to_end"] = array["wall_seconds"] / compiled["wall_seconds"]
        row["same_counts"] = array["counts"] == compiled["counts"] and array["looks_good"] == compiled["looks_good"]
    return row


def _enumerate(L: int, task: str, interpreter: str, env: dict, backend: str = "numpy") -> dict[str, Any]:
    """`programs enumerate` in a fresh process: its wall time, its own measuring time, what it counted."""
    argv = [sys.executable, "-m", "explorer", "programs", "enumerate", "--task", task, "--max-length", str(L),
            "--interpreter", interpreter, "--backend", backend, "--json"]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    return {"wall_seconds": wall, "measure_seconds": report["seconds"], "interpreter": report["interpreter"],
            "programs": report["programs"], "counts": report["counts"], "looks_good": report["looks_good"]}


def _compile_seconds(env: dict) -> tuple[float, float]:
    """(seconds to compile the kernel into an empty numba cache, seconds to load it from there), each in a
    fresh process (NUMBA_CACHE_DIR points numba at the empty folder instead of its usual cache)."""
    code = "from explorer.worlds.enumerated import compiled; print(compiled.compile_seconds())"
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as folder:
        times = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                  env={**env, "NUMBA_CACHE_DIR": folder})
            times.append(float(done.stdout.split()[-1]))
    return times[0], times[1]


def _plain(L: int, task: str, reference_pairs: int, seed: int) -> dict[str, Any]:
    """machine.run on `reference_pairs` random (program, input, flag) triples of the length-L job."""
    from explorer.worlds.enumerated.machine import run as run_one
    from explorer.worlds.enumerated.tasks import all_inputs
    from explorer.worlds.enumerated.world import EnumeratedWorld

    world = EnumeratedWorld(task=task, max_length=L)
    space = world.space()
    inputs = [x for n in range(1, world.n_test + 1) for x in all_inputs(n)]
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(space), reference_pairs)
    cols = rng.integers(0, len(inputs), reference_pairs)
    flags = rng.integers(0, 2, reference_pairs)
    programs = [space.program(r) for r in rows]
    started = time.perf_counter()
    for p, c, f in zip(programs, cols, flags):
        run_one(p, inputs[c], int(f))
    return {"pairs": reference_pairs, "seconds": time.perf_counter() - started, "inputs": len(inputs)}


def format_report(r: dict[str, Any]) -> str:
    lines = [
        (f"bench programs: task {r['task']}, compiled interpreter on {r['backend']}, array interpreter on "
         f"{r['array_backend']}, {r['threads']} thread(s) (torch "
         f"{r['torch_threads']}, OMP_NUM_THREADS={r['omp_num_threads']}, NUMBA_NUM_THREADS={r['numba_num_threads']}; "
         f"the compiled kernel is serial)"),
        (f"  numba compiling the kernel: {r['compile']['cold_seconds']:.1f} s into an empty cache (a first run), "
         f"{r['compile']['cached_seconds']:.2f} s loading it from the cache (every later run)"),
    ]
    for row in r["lengths"]:
        c, a, p = row["compiled"], row["array"], row["plain_python"]
        met = "" if row["target_seconds"] is None else \
            f"  (target <= {row['target_seconds']:.0f} s: {'met' if row['target_met'] else 'MISSED'})"
        lines += [
            (f"length {row['max_length']}: {row['programs']:,} programs x {row['inputs']} inputs x 2 flags = "
             f"{row['pairs']:,} program-input pairs"),
            f"  programs enumerate, end to end:  {c['wall_seconds']:6.1f} s{met}",
            (f"  compiled interpreter:  {c['pairs_per_s']:14,.0f} pairs/s  ({c['measure_seconds']:.1f} s measuring "
             f"and the table, of the {c['wall_seconds']:.1f} s)"),
        ]
        if a is None:
            lines.append(f"  array interpreter:     not run above length {r['array_up_to']} on numpy (minutes); "
                         f"compared at the lengths where it ran")
        else:
            lines += [
                (f"  array interpreter:     {a['pairs_per_s']:14,.0f} pairs/s  ({a['measure_seconds']:.1f} s measuring; "
                 f"end to end {a['wall_seconds']:.1f} s)"),
                (f"  compiled against array: {row['ratio_to_array']:.1f}x measuring, "
                 f"{row['ratio_to_array_end_to_end']:.1f}x end to end; same counts per kind: "
                 f"{'yes' if row['same_counts'] else 'NO'}"),
            ]
        lines += [
            (f"  plain Python:          {p['pairs_per_s']:14,.0f} pairs/s  ({p['sampled_pairs']:,} sampled pairs; "
             f"all would take {p['projected_seconds_for_all']:,.0f} s)"),
            (f"  ratio {row['ratio']:.0f}x the plain interpreter's rate  (target >= {r['target_ratio']:.0f}x: "
             f"{'met' if row['ratio_met'] else 'MISSED'})"),
        ]
    lines.append(f"machine: {r['machine']['cpu']}, {r['machine']['usable_cores']} usable cores")
    return "\n".join(lines)
