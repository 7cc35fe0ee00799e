"""Compute what a room's pages open with before the room arrives.

A workshop's thirty people open the same few presets within a minute: the /priors page's scenarios of
the abstract world (at the page's default size), the enumerated world's scenarios, and /programs at its
default length. `warm_up()` computes each once into the process's shared results (explorer.shared) and,
for the measured enumerated world, the disk cache (explorer.table_cache, which other server processes
read too), so the first visitor waits no longer than the thirtieth. The neural world's presets train
networks for minutes; they are warmed only when their tables are already on disk.

`python -m explorer.warm` runs it alone and prints what it computed and how long each took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from explorer import table_cache
from explorer.errors import ExplorerError
from explorer.scenarios import MACHINE_PARAMS, all_scenarios, preset_params
from explorer.simulation import Simulation

#: What /priors computes for a preset (PriorsDashboard's defaults: 1e5 programs on numpy).
PRIORS_PAGE = {"n_programs": 100_000, "backend": "numpy"}
#: What /programs opens with (explorer/ui/programs_view.py's defaults; kept here so the core needs no UI).
PROGRAMS_PAGE = {"task": "parity", "max_length": 5, "instruction_set": "basic", "generalization_check": True,
                 "performance_threshold": 1.0}


def presets() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, world, parameters) of every Simulation the pages open by default."""
    out = []
    for sid, s in sorted(all_scenarios().items()):
        params = preset_params(sid)
        if s.world == "abstract":
            params = {**params, **{k: v for k, v in PRIORS_PAGE.items() if k in MACHINE_PARAMS}}
        out.append((f"scenario {sid}", s.world, params))
    out.append(("/programs default", "enumerated", dict(PROGRAMS_PAGE)))
    return out


def warm_up(progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Compute every preset's table and selection once; returns {"items": [...], "seconds": total}.

    Each item: label, world, status (computed, skipped or failed), seconds, and why when not computed.
    `progress(label)` hears each item before it starts (a server's log, the CLI's lines)."""
    items, started = [], time.perf_counter()
    for label, world, params in presets():
        if progress is not None:
            progress(label)
        t0 = time.perf_counter()
        item: dict[str, Any] = {"label": label, "world": world}
        try:
            sim = Simulation(world, **params)
            if world == "neural" and table_cache.load(world, sim.world) is None:
                item.update(status="skipped", why="trains networks for minutes; warmed only when its table is on disk already")
            else:
                sim.select()
                item.update(status="computed", programs=len(sim.table()))
        except ExplorerError as exc:
            item.update(status="failed", why=str(exc))
        item["seconds"] = round(time.perf_counter() - t0, 3)
        items.append(item)
    return {"items": items, "seconds": round(time.perf_counter() - started, 3)}


def main() -> int:
    from explorer.memory import keep_freed_memory

    keep_freed_memory()
    summary = warm_up(lambda label: print(f"warming {label} ...", flush=True))
    for item in summary["items"]:
        extra = f" ({item['programs']:,} programs)" if "programs" in item else f": {item.get('why', '')}"
        print(f"{item['seconds']:8.2f} s  {item['status']:8s} {item['label']} [{item['world']}]{extra}")
    print(f"{summary['seconds']:8.2f} s  in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
