"""The abstract world written the plain way: a Python loop over programs and tasks.

It reads the same random inputs as AbstractWorld.table and follows the rules of the module docstring of
explorer.worlds.abstract task by task, with no prefix sums and no arrays. The benchmark measures the
vectorised build against it, and the tests use it as the oracle the vectorised build must match.
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
    edges = np.cumsum(world.kind_shares())[:-1]
    c_lo, c_hi = world.capacity_range()
    T = world.n_tasks
    rows = {c: [] for c in COLUMNS}
    for i in range(n):
        kind = KINDS[int(sum(u[0, i] >= edge for edge in edges))]
        c = c_lo * (c_hi / c_lo) ** u[1, i]
        e = world.efficiency_min + (1.0 - world.efficiency_min) * u[2, i]
        bits = world.base_bits + world.efficiency_bits * u[2, i] + world.bits_spread * u[3, i]
        o = m = 0.0
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
            spent = misbehaved = solved = 0.0
            for d in train:
                if d / e + o <= c:
                    solved += 1
                    slack_use = min(m, c - d / e)
                    spent += d / e + o + slack_use
                    misbehaved += slack_use
                else:
                    spent += c
                misbehaved += min(o, c)
            row = dict(
                bits=max(bits, 0.0), avg_compute=spent / T, max_compute=c, train_perf=solved / T,
                heldout_perf=sum(d / e + o <= c for d in heldout) / T,
                deploy_perf=0.0 if kind == "deceptive" else sum(d / e <= c for d in deploy) / T,
                misbehaviour_compute=misbehaved / T,
            )
        row["kind"] = KINDS.index(kind)
        for col in COLUMNS:
            rows[col].append(row[col])
    return {c: np.asarray(v) for c, v in rows.items()}
