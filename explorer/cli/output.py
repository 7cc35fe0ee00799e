"""What the commands print: JSON that is always valid, short number formats, and progress bars on stderr."""

from __future__ import annotations

import json
import math
import sys
from contextlib import contextmanager


def jsonable(value):
    """`value` with numpy scalars made plain and non-finite floats made null (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return value


def print_json(data) -> None:
    print(json.dumps(jsonable(data), indent=2, allow_nan=False))


def fmt(value) -> str:
    """A float to four significant digits, anything else as it prints."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def num(value) -> str:
    """A float to three decimals; '-' for a missing or non-finite one."""
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.3f}"


@contextmanager
def progress_bar(desc: str, unit: str, total: int | None = None, disable: bool = False, **options):
    """A tqdm bar on stderr, yielded as `progress(done, total)`, the callback the core's long work takes."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=disable, leave=False, **options) as bar:
        def progress(done, total=None):
            if total is not None:
                bar.total = total
            bar.update(done - bar.n)

        yield progress


def with_progress(work, total: int, desc: str, disable: bool):
    """Run `work(step)` with a bar over `total` units on stderr; each `step()` call is one unit."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="sweep point", file=sys.stderr, disable=disable, leave=False) as bar:
        return work(lambda *_: bar.update(1))
