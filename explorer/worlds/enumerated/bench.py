"""`bench programs`: the vectorised enumerated world against the plain Python interpreter, as one ratio.

Both sides do the same job, counted in program-input pairs: every program up to max_length run on every
training and held-out input, once with f = 0 and once with f = 1 (P x inputs x 2 pairs). The vectorised
side is EnumeratedWorld.measure (input deduplication for loop-free programs, f = 1 skipped where a
program has no IFDEP, schedule groups as array operations: all fair, the results are the same); the
plain side is machine.run on a random sample of the same pairs, timed in the same run, and its rate is
what running them all would take. The ratio of the two rates is the figure; target >= 30x on the CPU.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

#: Target ratio of the vectorised rate to the plain interpreter's (one CPU thread).
TARGET_RATIO = 30.0


def run(max_length: int = 6, task: str = "parity", backend: str = "numpy", threads: int = 1,
        reference_pairs: int = 20_000, seed: int = 0) -> dict[str, Any]:
    """Time both sides; returns a JSON-able report (see format_report)."""
    from explorer.bench_machine import machine, set_torch_threads
    from explorer.errors import ExplorerError
    from explorer.worlds.enumerated.machine import run as run_one
    from explorer.worlds.enumerated.tasks import all_inputs
    from explorer.worlds.enumerated.world import EnumeratedWorld

    if threads < 1 or reference_pairs < 100:
        raise ExplorerError(f"threads must be >= 1 and reference_pairs >= 100, got {threads}, {reference_pairs}")
    before, torch_threads = set_torch_threads(threads)
    try:
        world = EnumeratedWorld(task=task, max_length=max_length, backend=backend)
        space = world.space()
        inputs = [x for n in range(1, world.n_test + 1) for x in all_inputs(n)]
        pairs = len(space) * len(inputs) * 2
        EnumeratedWorld(task=task, max_length=min(3, max_length), backend=backend).measure()  # warm-up
        t0 = time.perf_counter()
        world.measure()
        vector_s = time.perf_counter() - t0

        rng = np.random.default_rng(seed)
        rows = rng.integers(0, len(space), reference_pairs)
        cols = rng.integers(0, len(inputs), reference_pairs)
        flags = rng.integers(0, 2, reference_pairs)
        programs = [space.program(r) for r in rows]
        t0 = time.perf_counter()
        for p, c, f in zip(programs, cols, flags):
            run_one(p, inputs[c], int(f))
        plain_s = time.perf_counter() - t0
    finally:
        if before is not None:
            set_torch_threads(before)
    vector_rate, plain_rate = pairs / vector_s, reference_pairs / plain_s
    return {
        "task": task, "max_length": max_length, "backend": backend, "threads": threads,
        "torch_threads": torch_threads, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "programs": len(space), "inputs": len(inputs), "pairs": pairs,
        "vectorised": {"seconds": vector_s, "pairs_per_s": vector_rate},
        "plain_python": {"sampled_pairs": reference_pairs, "seconds": plain_s, "pairs_per_s": plain_rate,
                         "projected_seconds_for_all": pairs / plain_rate},
        "ratio": vector_rate / plain_rate, "target_ratio": TARGET_RATIO,
        "target_met": vector_rate / plain_rate >= TARGET_RATIO,
        "machine": machine(),
    }


def format_report(r: dict[str, Any]) -> str:
    met = "met" if r["target_met"] else "MISSED"
    return "\n".join([
        (f"bench programs: task {r['task']}, programs up to length {r['max_length']}, back end {r['backend']}, "
         f"{r['threads']} thread(s) (torch {r['torch_threads']}, OMP_NUM_THREADS={r['omp_num_threads']})"),
        f"  {r['programs']:,} programs x {r['inputs']} inputs x 2 flags = {r['pairs']:,} program-input pairs",
        f"  vectorised world:  {r['vectorised']['pairs_per_s']:14,.0f} pairs/s  ({r['vectorised']['seconds']:.1f} s for all)",
        (f"  plain Python:      {r['plain_python']['pairs_per_s']:14,.0f} pairs/s  "
         f"({r['plain_python']['sampled_pairs']:,} sampled pairs; "
         f"all would take {r['plain_python']['projected_seconds_for_all']:,.0f} s)"),
        f"  ratio {r['ratio']:.1f}x  (target >= {r['target_ratio']:.0f}x: {met})",
        f"  machine: {r['machine']['cpu']}",
    ])

