"""`serve --warm`: Panel's setup script that fills the server's shared results before the room arrives.

`panel serve --setup` runs this file in the server process (in each process, after the fork, with
--num-procs), so explorer.warm's tables and selections land in the caches the sessions of that process
share. The warm-up runs on a thread: the server answers at once, and a visitor who comes early shares
whatever is being computed (explorer.shared computes each key once) instead of waiting for all of it.
"""

from __future__ import annotations

import sys
import threading

from explorer.memory import keep_freed_memory
from explorer.warm import warm_up

#: The line the server's log gets when the warm-up has finished (tests and the teacher look for it).
DONE = "explorer warm-up done"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _run() -> None:
    summary = warm_up(lambda label: _say(f"explorer warm-up: {label} ..."))
    counts: dict[str, int] = {}
    for item in summary["items"]:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
        if item["status"] == "failed":
            _say(f"explorer warm-up: {item['label']} failed: {item.get('why', '')}")
    done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    _say(f"{DONE} in {summary['seconds']:.1f} s: {done}")


keep_freed_memory()  # as the apps do (configure_app), before the first big table
threading.Thread(target=_run, daemon=True, name="explorer-warm").start()
