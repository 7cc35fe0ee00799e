"""Measured worlds' tables on disk, so a table that took minutes to measure is measured once per setting.

A measured world (World.measured: the enumerated and neural worlds) builds its table by running or
training programs. Simulation keeps each such table in a folder, one .npz file of numpy columns per
setting, so `story check` on five claims about the enumerated world at length 6 enumerates once, and
the next run of the command, or the app, does not enumerate at all.

- Key: the world's name, its parameter values (leaving out `result_free_params`, such as the back end,
  which do not change the numbers) and the code version: a hash of the world's own source files (its
  package, or its module), of base.py and table.py, and explorer.__version__. Editing the world's code
  makes every old entry a miss; nothing has to be cleared by hand.
- Folder: EXPLORER_CACHE_DIR, else $XDG_CACHE_HOME (default ~/.cache)/speed-prior-explorer/tables.
  Deleting it is always safe.
- Writes go to a temporary file in the same folder, then os.replace: a reader sees a whole file or none,
  so two processes filling the same entry at once are safe (the last one wins, with equal content).
- An entry that cannot be read (truncated, corrupt, another format) is a miss, and is written again.
- A folder that cannot be written is not an error: the table is used, and a warning is logged once.
- The last few tables also stay in memory (MEMORY entries), so the Simulations of one process share
  a table without reading it again.

Tables come back on the world's back end (its `backend` parameter, numpy when it has none).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

import explorer
from explorer.backend import get_backend
from explorer.params import values_of
from explorer.table import COLUMNS, ProgramTable

log = logging.getLogger(__name__)

#: Bump when the file layout below changes.
FORMAT = 1
#: Tables kept in memory as well (an enumerated table at length 6 is about 44 MB).
MEMORY = 2
_memory: OrderedDict[Path, ProgramTable] = OrderedDict()
_lock = threading.Lock()  # apps build and read tables on worker threads
_warned: set[str] = set()


def cache_dir() -> Path:
    """Where tables are kept: EXPLORER_CACHE_DIR, else the user's cache folder."""
    env = os.environ.get("EXPLORER_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "speed-prior-explorer" / "tables"


def code_version(world_cls: type) -> str:
    """A hash of the world's source files, the table format and explorer.__version__."""
    return _source_hash(world_cls.__module__) + "-" + explorer.__version__


@functools.lru_cache(maxsize=None)
def _source_hash(module_name: str) -> str:
    module = sys.modules[module_name]
    here = Path(module.__file__).resolve()
    package = Path(explorer.__file__).resolve().parent
    # a world that is a package (enumerated/, neural/) is all its files; a one-module world is that file
    files = sorted(here.parent.rglob("*.py")) if here.parent != package / "worlds" else [here]
    files += [package / "worlds" / "base.py", package / "table.py"]
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def describe(world_name: str, world) -> dict[str, Any]:
    """Everything an entry's numbers depend on, as JSON-ready values."""
    skip = set(type(world).result_free_params)
    params = {k: v for k, v in sorted(values_of(world).items()) if k not in skip}
    return {"format": FORMAT, "world": world_name, "params": params, "code": code_version(type(world))}


def path_of(world_name: str, world) -> Path:
    """The entry's file: WORLD-<hash of describe()>.npz in cache_dir()."""
    text = json.dumps(describe(world_name, world), sort_keys=True, default=repr)
    return cache_dir() / f"{world_name}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.npz"


def load(world_name: str, world) -> ProgramTable | None:
    """The cached table for this world's setting, or None (never there, or unreadable)."""
    path = path_of(world_name, world)
    with _lock:
        kept = _memory.get(path)
        if kept is not None:
            _memory.move_to_end(path)
    if kept is not None:
        return _on_backend(kept, world)
    want = json.dumps(describe(world_name, world), sort_keys=True, default=repr)
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["_describe"]) != want:
                return None
            cols = {c: data[c] for c in COLUMNS}
            kinds = tuple(str(k) for k in data["_kinds"])
    except FileNotFoundError:
        return None
    except Exception as exc:  # truncated, corrupt or foreign: a miss, which the next save rewrites
        log.info("table cache: ignoring unreadable %s (%s)", path, exc)
        return None
    table = ProgramTable(backend=get_backend("numpy"), kinds=kinds, **cols)
    _remember(path, table)
    return _on_backend(table, world)


def forget() -> None:
    """Drop the tables kept in memory, here and in the process's shared results (the files stay)."""
    from explorer import shared

    with _lock:
        _memory.clear()
    shared.clear()


def _remember(path: Path, host: ProgramTable) -> None:
    with _lock:
        _memory[path] = host
        _memory.move_to_end(path)
        while len(_memory) > MEMORY:
            _memory.popitem(last=False)


def _on_backend(host: ProgramTable, world) -> ProgramTable:
    be = get_backend(getattr(world, "backend", "numpy"))
    if be.name == "numpy":
        return host
    return ProgramTable(backend=be, kinds=host.kinds, **{c: be.asarray(getattr(host, c)) for c in COLUMNS})


def save(world_name: str, world, table: ProgramTable) -> Path | None:
    """Write the table for this world's setting (atomically); None when the folder cannot be written."""
    path = path_of(world_name, world)
    text = json.dumps(describe(world_name, world), sort_keys=True, default=repr)
    cols = {c: table.backend.to_numpy(getattr(table, c)) for c in COLUMNS}
    _remember(path, ProgramTable(backend=get_backend("numpy"), kinds=table.kinds, **cols))
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, _describe=np.asarray(text), _kinds=np.asarray(table.kinds), **cols)
        os.replace(tmp, path)
        return path
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if str(path.parent) not in _warned:
            _warned.add(str(path.parent))
            log.warning("table cache: cannot write %s (%s); tables are not kept between runs", path.parent, exc)
        return None
