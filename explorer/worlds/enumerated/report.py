"""The enumerated world's results as plain data: one program's run, and what a whole enumeration holds.

    run_report("LOOP XORX END", "1011")  -> {"output": ..., "steps": ...} (output None: the step limit hit)
    enumerate_report(world)              -> the program count per kind (all, and among those that look
                                            good) and each prior's MAP program with its listing

"Looks good" in an enumeration report is correct on every training input (threshold 1).
"""

from __future__ import annotations

import time

from explorer.errors import ExplorerError


def run_report(text: str, bits: str, deploy: bool = False, step_limit: int | None = None,
               trace: bool = False) -> dict:
    """Run the program `text` on the input `bits` (x[0] first) with the plain reference interpreter."""
    from explorer.worlds.enumerated.machine import STEP_LIMIT, parse, run
    from explorer.worlds.enumerated.tasks import parse_bits

    program = parse(text)
    x = parse_bits(bits)
    limit = STEP_LIMIT if step_limit is None else step_limit
    if limit < 1:
        raise ExplorerError(f"--step-limit: {limit} is not valid; expected an integer >= 1")
    steps_seen = [] if trace else None
    output, steps = run(program, x, int(deploy), limit, trace=steps_seen)
    result = {"output": output, "steps": steps}
    if steps_seen is not None:
        result["trace"] = [{"position": p, "instruction": name, "acc": a, "i": i} for p, name, a, i in steps_seen]
    return result


def enumerate_report(world, generalization_check: bool = True, progress=None) -> dict:
    """Counts per kind and each prior's MAP program (with its listing) for one world, JSON-able."""
    import numpy as np

    from explorer.priors import PriorSettings, select
    from explorer.table import KINDS

    started = time.perf_counter()
    table = world.table(progress)
    seconds = time.perf_counter() - started
    m = world.measure()
    kinds = m.kinds()
    picks = select(table, PriorSettings(performance_threshold=1.0, generalization_check=generalization_check))
    priors = {}
    for name, result in picks.items():
        entry = result.to_dict()
        if result.map is not None:
            entry["map"]["listing"] = m.space.listing(result.map["index"])
        priors[name] = entry
    return {
        "task": world.task, "max_length": world.max_length, "n_train": world.n_train, "n_test": world.n_test,
        "backend": world.backend, "generalization_check": generalization_check,
        "programs": len(m.space), "seconds": seconds,
        "counts": {k: int((kinds == i).sum()) for i, k in enumerate(KINDS)},
        "looks_good": {k: int(((kinds == i) & m.looks_good).sum()) for i, k in enumerate(KINDS)},
        "priors": priors,
        "fastest_looks_good_steps": float(np.min(m.train_steps[m.looks_good]) / m.n_train_inputs) if m.looks_good.any() else None,
    }
