"""A room opening /programs at length 6 at once: the heavy-job pool against every session for itself.

Each of `--people` threads does what the programs page's worker thread does for a new visitor
(SimulationState.built: a Simulation of the enumerated world, its table, then every prior's selection),
all started together on an empty disk cache. Modes:

- pool: through the server's pool (explorer.jobs) and shared results (explorer.shared), as pages do now;
- alone: the way before them: each thread builds its own world table (EnumeratedWorld.table) at once.

`--different` gives each person other settings (task, instruction set, training inputs), so nothing can
be shared and the pool only queues. Prints one JSON line: wall time, each person's wait, computations
run, peak RSS (VmHWM) and RSS after (VmRSS, after the pool's malloc_trim) of this process.

    python -m explorer.bench_pool --mode pool [--different] [--people 10] [--length 6]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time


def _status(field: str) -> int:
    """A /proc/self/status field in MB (VmHWM: the peak resident set; VmRSS: now)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    return -1


def settings(people: int, length: int, different: bool) -> list[dict]:
    base = {"task": "parity", "max_length": length, "instruction_set": "basic"}
    if not different:
        return [dict(base) for _ in range(people)]
    combos = [{"task": t, "instruction_set": s} for s in ("basic", "slack") for t in ("parity", "count", "first", "majority")]
    combos += [{"task": t, "instruction_set": "basic", "n_train": 5} for t in ("parity", "count", "first", "majority")]
    return [{**base, **combos[i % len(combos)]} for i in range(people)]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("pool", "alone"), default="pool")
    ap.add_argument("--people", type=int, default=10)
    ap.add_argument("--length", type=int, default=6)
    ap.add_argument("--different", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("EXPLORER_CACHE_DIR", tempfile.mkdtemp(prefix="bench-pool-"))

    from explorer import jobs, shared
    from explorer.memory import keep_freed_memory
    from explorer.simulation import Simulation

    keep_freed_memory()  # as the served apps do (explorer.ui.serving)
    requests = settings(args.people, args.length, args.different)
    waits: list[float] = [0.0] * args.people
    built = [0]
    lock = threading.Lock()
    gate = threading.Barrier(args.people)

    def person(i: int) -> None:
        gate.wait()
        t0 = time.perf_counter()
        sim = Simulation("enumerated", **requests[i], performance_threshold=1.0)
        if args.mode == "pool":
            sim.table(lambda d, t: None, lambda: False, lambda place: None)
        else:  # every session for itself: its own world, its own enumeration
            sim.world.check()
            sim.adopt_table(sim.world.table(lambda d, t: None, lambda: False))
            with lock:
                built[0] += 1
        sim.select()
        waits[i] = time.perf_counter() - t0

    start = time.perf_counter()
    threads = [threading.Thread(target=person, args=(i,)) for i in range(args.people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if args.mode == "alone":
        shared.clear()  # what is left once the sessions are gone
        from explorer import table_cache

        table_cache.forget()
    import gc

    gc.collect()
    result = {
        "mode": args.mode, "different": args.different, "people": args.people, "length": args.length,
        "slots": jobs.pool().slots, "cpus": os.cpu_count(), "wall_s": round(wall, 1),
        "wait_s": {"min": round(min(waits), 1), "median": round(sorted(waits)[len(waits) // 2], 1),
                   "max": round(max(waits), 1)},
        "computations": jobs.pool().computed if args.mode == "pool" else built[0],
        "distinct_settings": len({json.dumps(r, sort_keys=True) for r in requests}),
        "peak_rss_mb": _status("VmHWM"), "rss_after_mb": _status("VmRSS"),
        "shared_tables_mb": round(sum(size for _, size in shared.TABLES._items.values()) / 2**20),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
