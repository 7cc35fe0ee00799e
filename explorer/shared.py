"""Results every session of a server shares: world tables, candidate sets and selections, read-only.

A room of thirty opens the same few presets. Before this, each session built its own world table and
its own selection of the same preset; now a Simulation asks these caches first, so a second session
asking for the same setting gets the very same table object and the same selection results.

- Keys are values only (the world's name and every parameter value, the looks-good filter, the prior
  weights): the caches hold no session, callback or widget, so they never keep a closed session alive.
- Bounded: TABLES by bytes (EXPLORER_SHARED_MB, default 512) and entries, KEPT (the abstract world's kept
  draws) by the same number of bytes again; the smaller caches by entries.
  Least recently used goes first.
- Thread-safe, and one computation per key: a second thread asking for a key being computed waits for
  the first's result (explorer.jobs does the same across a server's heavy jobs, with a queue).
- Read-only: a shared table's numpy columns are set `writeable = False`, so no session can change
  another's table (other back ends' arrays have no such flag; the core never writes into a table).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from explorer.environment import number
from explorer.table import ProgramTable


def table_bytes_limit() -> int:
    """EXPLORER_SHARED_MB (default 512) in bytes: how much of the world tables a process keeps shared (and,
    separately, how much of the abstract world's kept draws)."""
    return int(number("EXPLORER_SHARED_MB", 512) * (1 << 20))


class SharedCache:
    """A thread-safe LRU of computed values, bounded in entries and (optionally) bytes."""

    def __init__(self, entries: int, max_bytes: int | Callable[[], int] | None = None,
                 size_of: Callable[[Any], int] | None = None, freeze: bool = True):
        """max_bytes: a number, or a function read on first use (a setting from the environment, so a bad one
        is a message where it is used, not an error importing this module). freeze: make the numpy arrays a
        kept value holds read-only (its own attributes, one level)."""
        self.entries, self._max_bytes, self.size_of, self.freeze = entries, max_bytes, size_of, freeze
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.computed = 0  # values computed here (tests read it)

    @property
    def max_bytes(self) -> int | None:
        if callable(self._max_bytes):
            self._max_bytes = self._max_bytes()
        return self._max_bytes

    def get(self, key: Hashable) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any) -> Any:
        """Keep `value` (made read-only) unless one is kept already; returns the one kept."""
        size = self.size_of(value) if self.size_of else 0
        if self.max_bytes is not None and size > self.max_bytes:
            return value  # too big to keep: the caller uses it alone
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
            if self.freeze:
                _read_only(value)
            self._items[key] = (value, size)
            self._shrink()
            return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept for `key`, else `compute()`'s, computed once however many threads ask at once."""
        while True:
            with self._lock:
                item = self._items.get(key)
                if item is not None:
                    self._items.move_to_end(key)
                    return item[0]
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()  # another thread computes it: take its value (or compute, if it failed)
        try:
            value = compute()
            with self._lock:
                self.computed += 1
            return self.put(key, value)
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.computed = 0

    def __len__(self) -> int:
        return len(self._items)

    def _shrink(self) -> None:
        total = sum(size for _, size in self._items.values())
        while len(self._items) > self.entries or (self.max_bytes is not None and total > self.max_bytes
                                                  and len(self._items) > 1):
            _, (_, size) = self._items.popitem(last=False)
            total -= size


def _read_only(value: Any) -> None:
    arrays = [value] if isinstance(value, np.ndarray) else list(getattr(value, "__dict__", {}).values())
    for array in arrays:
        if isinstance(array, np.ndarray):
            array.flags.writeable = False


def _table_bytes(table: ProgramTable) -> int:
    return int(table.nbytes)


#: World tables by (world name, every parameter value): about 44 MB for the enumerated world at length 6.
TABLES = SharedCache(entries=16, max_bytes=table_bytes_limit, size_of=_table_bytes)
#: Candidates (the programs that look good, with their summaries) by (table key, filter).
CANDIDATES = SharedCache(entries=16, freeze=False)
#: Each prior's selection by (table key, filter, weights): what a preset opens with.
SELECTIONS = SharedCache(entries=256, freeze=False)
#: The abstract world's kept draws and parts by (seed, programs, back end): explorer.worlds.abstract_kept.
KEPT = SharedCache(entries=4, max_bytes=table_bytes_limit, size_of=lambda kept: kept.nbytes_bound, freeze=False)
#: The enumerated world's program spaces (every program's codes, for listings) by (length, instruction set).
SPACES = SharedCache(entries=8)


def clear() -> None:
    """Forget every shared result (tests; a server never needs to)."""
    for cache in (TABLES, CANDIDATES, SELECTIONS, SPACES, KEPT):
        cache.clear()
