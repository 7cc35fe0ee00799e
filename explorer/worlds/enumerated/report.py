"""The enumerated world's results as plain data: one program's run, and what a whole enumeration holds.

    run_report("LOOP XORX END", "1011")  -> {"output": ..., "steps": ...} (output None: the step limit hit)
    enumerate_report(world)              -> the program count per kind (every program, those that look
                                            good, those that fail training), each prior's MAP program
                                            with its listing, and where the goof-offs' waste falls

"Looks good" in an enumeration report is correct on every training input (threshold 1). A program that
fails training still gets a kind by the same rules (most such programs are wrong on held-out inputs
too, so "lookup"); `counts` counts every program, `looks_good` and `fails_training` split it.
"""

from __future__ import annotations

import time

from explorer.errors import ExplorerError


def run_report(text: str, bits: str, deploy: bool = False, step_limit: int | None = None,
               trace: bool = False, instructions: str = "basic", long_from: int | None = None) -> dict:
    """Run the program `text` on the input `bits` (x[0] first) with the plain reference interpreter.

    `instructions` is the set the program may use (basic, or slack with IFSHORT); IFSHORT reads inputs of
    `long_from` bits or more as long (default machine.LONG_FROM, the enumerated world's default n_train).
    """
    from explorer.worlds.enumerated.machine import LONG_FROM, STEP_LIMIT, parse, run
    from explorer.worlds.enumerated.tasks import parse_bits

    program = parse(text, instructions)
    x = parse_bits(bits)
    limit = STEP_LIMIT if step_limit is None else step_limit
    if limit < 1:
        raise ExplorerError(f"--step-limit: {limit} is not valid; expected an integer >= 1")
    long_from = LONG_FROM if long_from is None else long_from
    if long_from < 0:
        raise ExplorerError(f"--long-from: {long_from} is not valid; expected an integer >= 0")
    steps_seen = [] if trace else None
    output, steps = run(program, x, int(deploy), limit, trace=steps_seen, long_from=long_from)
    result = {"output": output, "steps": steps}
    if steps_seen is not None:
        result["trace"] = [{"position": p, "instruction": name, "acc": a, "i": i} for p, name, a, i in steps_seen]
    return result


def waste_masses(table, where, settings) -> dict[str, dict[str, float]]:
    """Each prior's posterior mass on goof-offs, split by where their waste falls (`where`: per program,
    an index into world.WASTE_PLACES, as Measurement.waste_where gives it)."""
    import numpy as np

    from explorer.priors import PRIORS, Candidates
    from explorer.table import KINDS
    from explorer.worlds.enumerated.world import WASTE_PLACES

    places = WASTE_PLACES[1:]
    cands = Candidates(table, settings.performance_threshold, settings.generalization_check, settings.compute_budget)
    if cands.n == 0:
        return {prior: {place: 0.0 for place in places} for prior in PRIORS}
    be = table.backend
    logp = -(settings.weights().T @ be.to_numpy(cands.features).astype(np.float64))
    post = np.exp(logp - logp.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    index = be.to_numpy(cands.index)
    goof = be.to_numpy(table.kind)[index] == KINDS.index("goof_off")
    at = np.asarray(where)[index]
    return {prior: {place: float(post[j, goof & (at == WASTE_PLACES.index(place))].sum()) for place in places}
            for j, prior in enumerate(PRIORS)}


def enumerate_report(world, generalization_check: bool = True, progress=None) -> dict:
    """Counts per kind, each prior's MAP program (with its listing) and where goof-offs waste, JSON-able."""
    import numpy as np

    from explorer.priors import PriorSettings, select
    from explorer.table import KINDS
    from explorer.worlds.enumerated.world import WASTE_PLACES

    started = time.perf_counter()
    table = world.table(progress)
    seconds = time.perf_counter() - started
    m = world.measure()
    kinds = m.kinds()
    settings = PriorSettings(performance_threshold=1.0, generalization_check=generalization_check)
    picks = select(table, settings)
    priors = {}
    for name, result in picks.items():
        entry = result.to_dict()
        if result.map is not None:
            entry["map"]["listing"] = m.space.listing(result.map["index"])
        priors[name] = entry
    where = m.waste_where()
    goof_good = (kinds == KINDS.index("goof_off")) & m.looks_good
    return {
        "task": world.task, "max_length": world.max_length, "n_train": world.n_train, "n_test": world.n_test,
        "instruction_set": world.instruction_set,
        "backend": world.backend, "interpreter": world.engine(), "generalization_check": generalization_check,
        "programs": len(m.space), "seconds": seconds,
        "counts": {k: int((kinds == i).sum()) for i, k in enumerate(KINDS)},
        "looks_good": {k: int(((kinds == i) & m.looks_good).sum()) for i, k in enumerate(KINDS)},
        "fails_training": {k: int(((kinds == i) & ~m.looks_good).sum()) for i, k in enumerate(KINDS)},
        "goof_off_waste": {
            "programs": {p: int((goof_good & (where == i)).sum()) for i, p in enumerate(WASTE_PLACES) if p != "none"},
            "mass": waste_masses(table, where, settings),
        },
        "priors": priors,
        "fastest_looks_good_steps": float(np.min(m.train_steps[m.looks_good]) / m.n_train_inputs) if m.looks_good.any() else None,
    }
