"""The disk cache of measured worlds' tables: hit, miss, a code change, two writers at once, a corrupt entry."""

import multiprocessing
import os

import numpy as np
import pytest

from explorer import table_cache
from explorer.simulation import Simulation
from explorer.table import COLUMNS
from explorer.worlds import EnumeratedWorld

SMALL = {"max_length": 3, "n_test": 5}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    table_cache.forget()
    yield tmp_path
    table_cache.forget()


def _equal(a, b):
    return all(np.array_equal(a.backend.to_numpy(getattr(a, c)), b.backend.to_numpy(getattr(b, c))) for c in COLUMNS) \
        and a.kinds == b.kinds


def _counting(monkeypatch):
    builds = []
    real = EnumeratedWorld.table

    def table(self, progress=None, should_stop=None):
        builds.append(self.max_length)
        return real(self, progress, should_stop)

    monkeypatch.setattr(EnumeratedWorld, "table", table)
    return builds


def test_a_miss_builds_and_writes_and_a_hit_reads_it_back_without_building(cache, monkeypatch):
    builds = _counting(monkeypatch)
    world = EnumeratedWorld(**SMALL)
    assert table_cache.load("enumerated", world) is None
    first = Simulation("enumerated", **SMALL).table()
    files = list(cache.glob("enumerated-*.npz"))
    assert builds == [3] and len(files) == 1 and not list(cache.glob("*.tmp"))
    table_cache.forget()  # from the file this time, not from memory
    again = Simulation("enumerated", **SMALL).table()
    assert builds == [3] and _equal(first, again)
    Simulation("enumerated", max_length=4, n_test=5).table()  # another setting: a miss
    assert builds == [3, 4] and len(list(cache.glob("enumerated-*.npz"))) == 2


def test_the_back_end_is_not_in_the_key_and_a_hit_comes_back_on_the_worlds_back_end():
    numpy_table = Simulation("enumerated", **SMALL).table()
    table_cache.forget()
    torch_world = EnumeratedWorld(**SMALL, backend="torch")
    assert table_cache.path_of("enumerated", torch_world) == table_cache.path_of("enumerated", EnumeratedWorld(**SMALL))
    hit = table_cache.load("enumerated", torch_world)
    assert hit.backend.name.startswith("torch") and _equal(hit, numpy_table)


def test_a_code_change_is_a_miss(cache, monkeypatch):
    builds = _counting(monkeypatch)
    Simulation("enumerated", **SMALL).table()
    table_cache.forget()
    monkeypatch.setattr(table_cache, "code_version", lambda cls: "edited")
    assert table_cache.load("enumerated", EnumeratedWorld(**SMALL)) is None
    Simulation("enumerated", **SMALL).table()
    assert builds == [3, 3] and len(list(cache.glob("enumerated-*.npz"))) == 2


def test_the_code_version_follows_the_worlds_source_and_the_package_version(monkeypatch):
    import explorer

    enumerated = table_cache.code_version(EnumeratedWorld)
    assert enumerated != table_cache.code_version(type(Simulation().world))
    monkeypatch.setattr(explorer, "__version__", "9.9.9")
    assert table_cache.code_version(EnumeratedWorld) != enumerated


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"not a table", lambda b: b""],
                         ids=["truncated", "garbage", "empty"])
def test_a_corrupt_entry_is_a_miss_and_is_written_again(cache, monkeypatch, damage):
    good = Simulation("enumerated", **SMALL).table()
    (path,) = cache.glob("enumerated-*.npz")
    path.write_bytes(damage(path.read_bytes()))
    table_cache.forget()
    builds = _counting(monkeypatch)
    assert table_cache.load("enumerated", EnumeratedWorld(**SMALL)) is None
    again = Simulation("enumerated", **SMALL).table()
    assert builds == [3] and _equal(good, again)
    table_cache.forget()
    assert _equal(table_cache.load("enumerated", EnumeratedWorld(**SMALL)), good)


def test_an_unwritable_folder_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(blocker / "tables"))
    assert len(Simulation("enumerated", **SMALL).table()) > 0


def _fill(folder, barrier):
    os.environ["EXPLORER_CACHE_DIR"] = folder
    barrier.wait()
    world = EnumeratedWorld(max_length=4, n_test=5)
    for _ in range(5):
        table_cache.save("enumerated", world, world.table())


def test_two_processes_writing_the_same_entry_at_once_leave_a_whole_equal_table(cache):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    writers = [ctx.Process(target=_fill, args=(str(cache), barrier)) for _ in range(2)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(120)
    assert [p.exitcode for p in writers] == [0, 0]
    assert len(list(cache.glob("enumerated-*.npz"))) == 1 and not list(cache.glob("*.tmp"))
    world = EnumeratedWorld(max_length=4, n_test=5)
    assert _equal(table_cache.load("enumerated", world), world.table())


def test_the_folder_defaults_to_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("EXPLORER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert table_cache.cache_dir() == tmp_path / "speed-prior-explorer" / "tables"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert table_cache.cache_dir().parts[-3:] == (".cache", "speed-prior-explorer", "tables")
