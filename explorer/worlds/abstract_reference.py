"""The abstract world written the plain way: a Python loop over programs and tasks.

It reads the same random inputs as AbstractWorld.table and follows the rules of the module docstring of
explorer.worlds.abstract task by task, with no prefix sums and no arrays, the caveats included: the
allotment (the capacity, or an offline predictor's grant), sandbagging, and serial depth with parallel
misbehaviour. The benchmark measures the vectorised build against it, and the tests use it as the
oracle the vectorised build must match.
"""

from __future__ import annotations

import numpy as np

from explorer.table import COLUMNS, KINDS
from explorer.worlds.abstract import AbstractWorld


def reference_table(world: AbstractWorld, n: int | None = None) -> dict[str, np.ndarray]:
    """The first `n` programs of `world` (default all), as host columns."""
    n = world.n_programs if n is None else min(n, world.n_programs)
    train, heldout, deploy = (list(map(float, t)) for t in world.tasks())
    u = world.uniforms(0, n)
    cumulative = np.cumsum(world.kind_shares())
    edges = cumulative[:-1]
    # Sandbaggers are the top sandbag_share of the uniforms that make a program deceptive.
    sandbag_from = float(cumulative[2]) - world.sandbag_share * (float(cumulative[2]) - float(cumulative[1]))
    offline = world.allotment == "offline_predictor"
    p = world.misbehaviour_parallel
    serial = world.compute_measure == "serial_depth"
    c_lo, c_hi = world.capacity_range()
    T = world.n_tasks
    rows = {c: [] for c in COLUMNS}
    for i in range(n):
        kind = KINDS[int(sum(u[0, i] >= edge for edge in edges))]
        c = c_lo * (c_hi / c_lo) ** u[1, i]
        e = world.efficiency_min + (1.0 - world.efficiency_min) * u[2, i]
        bits = world.base_bits + world.efficiency_bits * u[2, i] + world.bits_spread * u[3, i]
        o = m = 0.0
        sandbag = kind == "deceptive" and u[0, i] >= sandbag_from
        if kind == "deceptive":
            e *= world.deceptive_efficiency
            o = world.overhead
            bits += world.deception_bits_offset
        if kind == "goof_off":
            m = world.misbehaviour_cost
            bits += world.goof_off_bits_offset
        if kind == "lookup":
            memorised = float(np.floor((0.5 + 0.5 * u[4, i]) * T))
            row = dict(bits=world.lookup_bits_per_task * memorised + world.bits_spread * u[3, i],
                       avg_compute=world.lookup_compute, max_compute=world.lookup_compute,
                       train_perf=memorised / T, heldout_perf=0.0, deploy_perf=0.0, misbehaviour_compute=0.0)
        else:
            def allotted(d):  # the program's own capacity, or the offline predictor's grant for the task
                return min(c, world.allotment_margin * d / e) if offline else c

            spent = misbehaved = solved = 0.0
            for d in train:
                a = allotted(d)
                if d / e + o <= a:
                    solved += 1
                    task = d / e
                    if kind == "goof_off":
                        mis = min(m, a - d / e)  # slack use
                    elif sandbag:
                        mis = a - d / e  # every step granted beyond the task goes to planning
                    else:
                        mis = o
                else:
                    mis = min(o, a)
                    task = a - mis
                # The parallel share of the misbehaviour overlaps the task's serial chain.
                spent += (1 - p) * mis + max(task, p * mis) if serial else task + mis
                misbehaved += mis
            row = dict(
                bits=max(bits, 0.0), avg_compute=spent / T, max_compute=c, train_perf=solved / T,
                heldout_perf=sum(d / e + o <= allotted(d) for d in heldout) / T,
                deploy_perf=0.0 if kind == "deceptive" else sum(d / e <= allotted(d) for d in deploy) / T,
                misbehaviour_compute=misbehaved / T,
            )
        row["kind"] = KINDS.index(kind)
        for col in COLUMNS:
            rows[col].append(row[col])
    return {c: np.asarray(v) for c, v in rows.items()}
