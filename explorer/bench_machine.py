"""What every benchmark report states about where it ran: the machine, its libraries and thread settings.

Benchmarks report ratios measured in one run, but a ratio still belongs to a machine; the core, the
enumerated and neural worlds' and the browser benchmarks all describe it with `machine()`.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np

from explorer.memory import is_applied


def set_torch_threads(threads: int) -> tuple[int | None, int | None]:
    """Set torch's intra-op threads; returns (threads before, threads now), None where torch cannot load."""
    try:
        import torch
    except Exception:  # torch is a core dependency, but a broken install should not stop a numpy run
        return None, None
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    return before, torch.get_num_threads()


def machine() -> dict[str, Any]:
    """The machine a benchmark ran on: CPU, cores usable, library versions, thread settings."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import torch

        versions["torch"] = torch.__version__
    except Exception:
        versions["torch"] = None
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "versions": versions,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "keep_freed_memory": is_applied(),
    }
