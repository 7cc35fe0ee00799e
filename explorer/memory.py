"""Keep freed memory in the process instead of handing it back to the kernel.

On the virtual machines this project runs on, a page the process gives back to the kernel and then
touches again costs more than the arithmetic done on it: glibc returns freed blocks above 128 KiB by
default, so every re-selection or chunked build faults its temporaries in afresh. Raising glibc's trim
and mmap thresholds keeps them for reuse (measured: re-selecting 1e6 candidates went from 18-23 ms to
11-14 ms). The setting is process-wide, so only entry points (the CLI, the apps) call this, never
library code, and it does nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied = False


def keep_freed_memory(trim_bytes: int = 256 << 20, mmap_bytes: int = 32 << 20) -> bool:
    """Raise glibc's trim and mmap thresholds; returns whether the setting is in force."""
    global _applied
    if _applied:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): leave the allocator alone
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _applied = bool(mallopt(_M_TRIM_THRESHOLD, trim_bytes)) and bool(mallopt(_M_MMAP_THRESHOLD, mmap_bytes))
    return _applied


def is_applied() -> bool:
    """Whether keep_freed_memory has taken effect in this process (benchmarks state it)."""
    return _applied


def keep_cap_bytes() -> int:
    """EXPLORER_KEEP_FREED_MB (default 256) in bytes: the freed memory a process keeps after a heavy job."""
    from explorer.environment import number

    return int(number("EXPLORER_KEEP_FREED_MB", 256) * (1 << 20))


def trim_freed_memory(pad: int | None = None) -> bool:
    """Give freed heap memory back to the kernel beyond `pad` bytes (default keep_cap_bytes()).

    keep_freed_memory raises the trim threshold so quick re-selections reuse their pages, but glibc
    then only trims the top of the heap, and a server that ran a few enumerations (hundreds of MB of
    temporaries each, in many arenas) kept 1.7 GB it no longer used. malloc_trim(pad) releases the free
    pages of every arena, keeping `pad` bytes at the top of the main heap for the next job; the heavy-job
    pool (explorer.jobs) calls it after each job, where a few ms do not matter. False where not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        malloc_trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim(keep_cap_bytes() if pad is None else pad)
    return True
