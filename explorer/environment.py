"""Numbers read from environment variables (EXPLORER_JOB_SLOTS, EXPLORER_SHARED_MB, ...).

`int(os.environ[...])` turned a mistyped setting into a traceback inside whichever session first read
it; `number` gives one message naming the variable and what it takes, and `serve` reads every one at
start (explorer/cli/serve.py), so a server with a bad setting never starts.
"""

from __future__ import annotations

import math
import os

from explorer.errors import ExplorerError


def number(var: str, default: float, *, minimum: float = 0, whole: bool = False) -> float:
    """The variable's value (`default` when it is unset or blank); ExplorerError naming it when it is not
    a number (a whole one if `whole`) of at least `minimum`."""
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= minimum):
        kind = "a whole number" if whole else "a number"
        raise ExplorerError(f"{var}: {text!r} is not {kind} ({minimum:g} or more)")
    return value
