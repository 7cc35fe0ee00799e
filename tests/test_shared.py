"""Results shared by every session of a server: one table and one selection per setting, read-only."""

import gc
import threading
import weakref

import numpy as np
import pytest

from explorer import shared, warm
from explorer.scenarios import preset_params
from explorer.simulation import Simulation
from explorer.table import COLUMNS

PRESET = {"n_programs": 20_000, **preset_params("goof-off")}


def test_a_second_session_gets_the_same_table_and_selection_without_recomputing():
    first = Simulation("abstract", **PRESET)
    results = first.select()
    built, selected = shared.TABLES.computed, shared.SELECTIONS.computed
    second = Simulation("abstract", **PRESET)
    again = second.select()
    assert second.table() is first.table() and second.candidates() is first.candidates()
    assert shared.TABLES.computed == built and shared.SELECTIONS.computed == selected  # nothing recomputed
    assert all(again[p] is results[p] for p in results)
    assert again is not results  # each caller gets its own dict of the shared results
    second.update(w_avg=first.priors.w_avg + 1.0)  # a new weight: a new selection, the same table
    assert second.select()["average_speed"] is not results["average_speed"] and second.table() is first.table()
    assert shared.SELECTIONS.computed == selected + 1


def test_shared_tables_are_read_only():
    table = Simulation("abstract", **PRESET).table()
    for name in COLUMNS:
        column = getattr(table, name)
        assert isinstance(column, np.ndarray) and not column.flags.writeable, name
    with pytest.raises(ValueError, match="read-only"):
        table.avg_compute[0] = 0.0


def test_other_settings_get_other_tables():
    a = Simulation("abstract", **PRESET).table()
    b = Simulation("abstract", **{**PRESET, "misbehaviour_cost": PRESET.get("misbehaviour_cost", 1.0) + 0.5}).table()
    assert a is not b


def test_concurrent_sessions_build_one_table():
    tables = []
    threads = [threading.Thread(target=lambda: tables.append(Simulation("abstract", **PRESET).table())) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert len(tables) == 4 and all(t is tables[0] for t in tables) and shared.TABLES.computed == 1


def test_the_cache_keeps_no_session_alive():
    from explorer.ui.state import SimulationState

    state = SimulationState(Simulation("abstract", **PRESET))
    gone = weakref.ref(state)
    sim = weakref.ref(state.simulation)
    del state
    gc.collect()
    assert gone() is None and sim() is None and len(shared.TABLES) == 1


def test_the_cache_is_bounded_in_bytes():
    cache = shared.SharedCache(entries=10, max_bytes=3 * 20_000 * 40, size_of=shared._table_bytes)
    tables = [Simulation("abstract", n_programs=20_000, seed=s).table() for s in range(1, 4)]
    for i, t in enumerate(tables):
        cache.put(i, t)
    assert len(cache) < 3 and cache.get(2) is tables[2] and cache.get(0) is None  # the oldest went first


def test_warm_up_computes_the_presets_once(monkeypatch):
    monkeypatch.setattr(warm, "presets", lambda: [("goof-off", "abstract", PRESET),
                                                  ("bad", "abstract", {**PRESET, "n_programs": -1})])
    summary = warm.warm_up()
    assert [i["status"] for i in summary["items"]] == ["computed", "failed"] and summary["seconds"] >= 0
    assert summary["items"][0]["programs"] == 20_000 and "n_programs" in summary["items"][1]["why"]
    built = shared.TABLES.computed
    Simulation("abstract", **PRESET).select()  # what a page opening the preset does
    assert shared.TABLES.computed == built


def test_warm_up_lists_every_scenario_and_the_programs_page_default():
    labels = [label for label, _, _ in warm.presets()]
    assert "scenario goof-off" in labels and "scenario parity-measured" in labels and "/programs default" in labels


def test_sessions_measuring_the_same_enumeration_at_once_share_one_measurement(tmp_path, monkeypatch):
    """What ten visitors of /programs do at once: one enumeration, through the pool, one table object."""
    from explorer import jobs, table_cache
    from explorer.worlds.enumerated.world import EnumeratedWorld

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    table_cache.forget()
    pool = jobs.JobPool(slots=1, slots_dir=tmp_path / "slots")
    old = jobs.set_pool(pool)
    measured = []
    real = EnumeratedWorld.table

    def counted(self, progress=None, should_stop=None):
        measured.append(1)
        return real(self, progress, should_stop)

    monkeypatch.setattr(EnumeratedWorld, "table", counted)
    try:
        tables, places = [], []
        people = [threading.Thread(target=lambda: tables.append(
            Simulation("enumerated", max_length=4, task="count").table(None, None, places.append))) for _ in range(5)]
        [t.start() for t in people]
        [t.join(120) for t in people]
        assert len(tables) == 5 and all(t is tables[0] for t in tables)
        assert len(measured) == 1 and pool.computed == 1
    finally:
        jobs.set_pool(old)
        table_cache.forget()
