"""Regime maps: the grid, agreement with a direct selection, the essay's directions, caching, stopping,
errors, and the view (synchronously and through a queued-callback document; in a browser: tests/browser)."""

import json

import numpy as np
import pytest

from explorer import shared

from explorer.errors import ExplorerError
from explorer.regimes import NUMERIC_PARAMS, axis_values, default_values, regime_map
from explorer.scenarios import SCENARIOS
from explorer.simulation import Simulation
from explorer.table import KINDS
from explorer.worlds.abstract import AbstractWorld

N = 5_000
GOOF_OFF = {**SCENARIOS["goof-off"].params, "n_programs": N}
BASE = {"n_programs": N}


@pytest.fixture
def count_builds(monkeypatch):
    """How many times any world built its table during the test."""
    calls = []
    original = AbstractWorld.table

    def counted(self, *args, **kwargs):
        calls.append({"misbehaviour_cost": self.misbehaviour_cost, "n_tasks": self.n_tasks})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AbstractWorld, "table", counted)
    return calls


# ---- the core ----------------------------------------------------------------------------------


def test_grid_shape_axes_and_json():
    xs, ys = [0.5, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0]
    m = regime_map(BASE, "w_avg", xs, "misbehaviour_cost", ys, prior="average_speed")
    assert m.shape == (4, 3) and m.complete and m.done.all()
    assert (m.x, m.y, m.prior) == ("w_avg", "misbehaviour_cost", "average_speed")
    np.testing.assert_array_equal(m.x_values, xs)
    np.testing.assert_array_equal(m.y_values, ys)
    for k in KINDS:
        assert m.mass[k].shape == (4, 3)
    np.testing.assert_allclose(sum(m.mass[k] for k in KINDS), 1.0, rtol=1e-5)
    assert set(m.winner.ravel()) <= set(KINDS) and set(m.winners("map").ravel()) <= set(KINDS)
    data = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert len(data["mass"]["honest"]) == 4 and len(data["mass"]["honest"][0]) == 3
    assert data["base"]["n_programs"] == N


def test_cells_agree_with_a_direct_selection():
    xs, ys = [0.3, 3.0], [0.0, 5.0]
    m = regime_map(GOOF_OFF, "w_max", xs, "misbehaviour_cost", ys, prior="combined")
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            direct = Simulation(**{**GOOF_OFF, "w_max": x, "misbehaviour_cost": y}).select()["combined"]
            for k in KINDS:
                assert m.mass[k][j, i] == pytest.approx(direct.mass[k], rel=1e-9, abs=1e-15)
            assert m.map_kind[j, i] == direct.map["kind"]
            assert m.actually_good[j, i] == pytest.approx(direct.actually_good)
            assert m.n_candidates[j, i] == direct.n_candidates
            assert m.winner[j, i] == max(direct.mass, key=direct.mass.get)


def test_the_average_prior_drives_out_goof_offs_along_both_axes():
    """The essay's point: under the average-case prior, goofing off loses mass the more the average
    penalty weighs and the more compute the goofing off costs (ties allowed)."""
    w = [0.1, 0.5, 2.0, 8.0]
    cost = [1.0, 2.5, 4.0, 6.0]
    m = regime_map(GOOF_OFF, "w_avg", w, "misbehaviour_cost", cost, prior="average_speed")
    g = m.mass["goof_off"]
    tol = 1e-12
    assert np.all(np.diff(g, axis=1) <= tol), "goof-off mass rose with w_avg"
    assert np.all(np.diff(g, axis=0) <= tol), "goof-off mass rose with misbehaviour_cost"
    assert g[-1, -1] < 0.01 < 0.4 < g[0, 0]
    assert np.all(m.winner == "honest")


def test_a_world_axis_against_a_weight_builds_one_table_per_world_value(count_builds):
    costs = [1.0, 2.0, 3.0]
    m = regime_map(GOOF_OFF, "w_avg", [0.1, 0.5, 1.0, 2.0, 4.0], "misbehaviour_cost", costs, prior="average_speed")
    assert m.complete
    assert [c["misbehaviour_cost"] for c in count_builds] == costs
    count_builds.clear()
    regime_map(GOOF_OFF, "misbehaviour_cost", costs, "w_avg", [0.1, 1.0, 4.0])  # the same with the axes swapped
    assert count_builds == []  # the process shares the first map's three tables (explorer.shared)
    shared.clear()
    regime_map(GOOF_OFF, "misbehaviour_cost", costs, "w_avg", [0.1, 1.0, 4.0])
    assert [c["misbehaviour_cost"] for c in count_builds] == costs


def test_two_prior_axes_build_one_table(count_builds):
    regime_map(BASE, "w_avg", [0.1, 1.0, 3.0], "performance_threshold", [0.6, 0.8, 0.9])
    assert len(count_builds) == 1


def test_progress_is_reported_once_per_cell():
    calls = []
    regime_map(BASE, "w_avg", [0.5, 1.0, 2.0], "w_max", [0.5, 1.0],
               progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 6) for i in range(1, 7)]


def test_should_stop_returns_the_cells_done():
    calls = []
    m = regime_map(BASE, "w_avg", [0.5, 1.0, 2.0], "w_max", [0.5, 1.0, 2.0],
                   progress=lambda done, total: calls.append(done), should_stop=lambda: len(calls) >= 4)
    assert not m.complete
    assert int(m.done.sum()) == 4 == len(calls)
    assert np.isnan(m.mass["honest"][~m.done]).all() and not np.isnan(m.mass["honest"][m.done]).any()
    assert all(w is None for w in m.winner[~m.done]) and all(w in KINDS for w in m.winner[m.done])
    assert json.loads(json.dumps(m.to_dict(), allow_nan=False))["complete"] is False


@pytest.mark.parametrize("x, y, fragment", [
    ("w_average", "w_max", "'w_average'"),
    ("w_avg", "kind_mix", "'kind_mix'"),
    ("backend", "w_avg", "'backend'"),
    ("generalization_check", "w_avg", "'generalization_check'"),
    ("w_avg", "w_avg", "'w_avg'"),
])
def test_bad_axes_are_named(x, y, fragment, count_builds):
    with pytest.raises(ExplorerError, match=fragment):
        regime_map(BASE, x, [1.0, 2.0], y, [1.0, 2.0])
    assert count_builds == []


@pytest.mark.parametrize("x, xs, fragment", [
    ("w_avg", [1.0, 500.0], r"w_avg: 500.0 is not valid; expected a number in \[0, 100\]"),
    ("misbehaviour_cost", [-1.0], r"misbehaviour_cost: -1.0 is not valid; expected a number in \[0, 10\]"),
    ("n_tasks", [4, 8.5], "n_tasks: axis values must be whole numbers"),
    ("w_avg", [1.0, float("nan")], "w_avg: axis values must be finite"),
    ("w_avg", [], "w_avg: the axis needs at least one value"),
])
def test_bad_values_are_named_before_any_work(x, xs, fragment, count_builds):
    with pytest.raises(ExplorerError, match=fragment):
        regime_map(BASE, x, xs, "performance_threshold", [0.9])
    assert count_builds == []


def test_cross_parameter_rules_fail_before_any_work(count_builds):
    with pytest.raises(ExplorerError, match="difficulty_min"):
        regime_map(BASE, "difficulty_min", [1.0, 8.0], "difficulty_max", [5.0, 10.0])
    assert count_builds == []


def test_unknown_prior_is_named():
    with pytest.raises(ExplorerError, match="prior: 'fastest'"):
        regime_map(BASE, "w_avg", [1.0], "w_max", [1.0], prior="fastest")


def test_default_values_lie_within_bounds_for_every_axis():
    for name in NUMERIC_PARAMS:
        values = default_values(name, 7)
        assert 1 <= len(values) <= 7 and np.all(np.diff(values) > 0), name
        Simulation(**{name: values[0].item()})  # the ends are accepted
        Simulation(**{name: values[-1].item()})
    w = default_values("w_avg", 4)
    np.testing.assert_allclose(w[1:] / w[:-1], w[1] / w[0])  # weights are log spaced
    np.testing.assert_allclose(np.diff(default_values("misbehaviour_cost", 5)), 2.5)
    assert default_values("n_tasks", 40).dtype.kind == "i"
    with pytest.raises(ExplorerError, match="w_avg: the range 3 to 1"):
        axis_values("w_avg", 3.0, 1.0, 4)


# ---- the view ----------------------------------------------------------------------------------


@pytest.fixture
def view():
    from explorer.ui.regime_map import RegimeMapView
    from explorer.ui.state import SimulationState

    return RegimeMapView(SimulationState(**GOOF_OFF), resolution=4)


def test_view_defaults_and_ranges(view):
    assert (view.x, view.y, view.prior, view.resolution) == ("w_avg", "misbehaviour_cost", "average_speed", 4)
    assert (view.x_min, view.x_max) == pytest.approx((0.01, 10.0))
    view.x = "performance_threshold"
    assert (view.x_min, view.x_max) == pytest.approx((0.5, 1.0))
    assert view.param.resolution.bounds == (2, 40)
    for name in ("x", "y", "x_min", "x_max", "y_min", "y_max", "resolution", "prior", "color_by"):
        assert view.param[name].doc, name
    assert view._compute_button.description and view._stop_button.description


def test_view_computes_synchronously_with_its_own_simulation(view, count_builds):
    before = view.state.simulation.params()
    version, table = view.state.version, view.state.simulation.table()
    m = view.compute(sync=True)
    assert view.message == "" and view.result is m and m.complete and m.shape == (4, 4)
    assert (view._progress.value, view._progress.max) == (16, 16)
    assert view.state.simulation.params() == before and view.state.version == version
    assert view.state.simulation.table() is table and len(count_builds) == 4  # one per misbehaviour_cost
    element = view.winner_element()
    assert len(element) == 16 and len(view.good_element()) == 16
    assert set(element.dimension_values("winner")) <= set(KINDS)
    from explorer.ui.controls import LABELS

    # the axes say what the controls say, not the parameters' names
    assert element.kdims[0].label == LABELS["w_avg"] and element.kdims[1].label == LABELS["misbehaviour_cost"]
    import holoviews as hv
    from bokeh.models import GlyphRenderer

    data = next(r.data_source.data for r in hv.render(element).select(GlyphRenderer))
    np.testing.assert_array_equal(data["x_value"], np.tile(m.x_values, 4))  # what the hover shows
    np.testing.assert_array_equal(data["y_value"], np.repeat(m.y_values, 4))
    marker = view.marker()
    assert marker.array().tolist() == [[1.0, 3.0]]  # the scenario's w_avg and misbehaviour_cost
    assert not view.is_stale()
    view.state.apply(w_avg=2.0)  # an axis: the marker moves, the map still holds
    assert view.marker().array().tolist() == [[2.0, 3.0]] and not view.is_stale()
    view.state.apply(w_max=2.0)  # another parameter: the map is out of date
    assert view.is_stale()
    # the same cells, coloured by the MAP kind
    view.color_by = "kind of the MAP program"
    assert list(view.frame().winner) == [k for k in m.winners("map").ravel()]


def test_view_shows_errors_instead_of_raising(view):
    view.y = "w_avg"
    assert view.compute(sync=True) is None
    assert "must be different" in view.message and view.result is None
    view.y = "w_max"
    view.x_min = 200.0
    view.x_max = 300.0
    assert view.compute(sync=True) is None and "w_avg" in view.message and "[0, 100]" in view.message
    view._compute_button.clicks += 1  # through the button: still no exception
    assert "w_avg" in view.message and not view.running


def test_stop_button_ends_the_run_early(view):
    def press_stop(event):
        if event.new == 5:
            view._stop_button.clicks += 1

    view._progress.param.watch(press_stop, "value")
    view.resolution = 3
    m = view.compute(sync=True)
    assert not m.complete and int(m.done.sum()) == 5
    assert view.message.startswith("Stopped: 5 of 9")
    assert not view.running and not view._compute_button.disabled and view._stop_button.disabled
    frame = view.frame()
    assert len(frame) == 9 and (frame.winner == "not computed").sum() == 4
    view._progress.param.unwatch(view._progress.param.watchers["value"]["value"][-1])
    assert view.compute(sync=True).complete  # the next run starts afresh


class QueuedDocument:
    """Stands in for a server session's document: callbacks are queued, as Bokeh does, and run later."""

    session_context = object()

    def __init__(self):
        self.queue = []

    def add_next_tick_callback(self, callback):
        self.queue.append(callback)


def test_in_a_server_session_the_work_runs_off_the_page_thread(view):
    from panel.io.state import set_curdoc

    doc = QueuedDocument()
    with set_curdoc(doc):
        assert view.compute() is None
    assert view.running and view._compute_button.disabled and not view._stop_button.disabled
    assert view.wait(60)
    assert view.result is None and view.running  # nothing reached the page outside its event loop
    for callback in doc.queue:
        callback()
    assert view.result is not None and view.result.complete and not view.running
    assert view._progress.value == 16


def test_view_renders(view):
    import panel as pn

    assert pn.panel(view).get_root() is not None
    view.compute(sync=True)
    assert pn.panel(view).get_root() is not None
    view.state.apply(w_simplicity=2.0)  # out of date: the note shows above the maps
    assert view.is_stale() and pn.panel(view).get_root() is not None


def test_a_measured_world_maps_over_its_own_parameters_with_one_table_per_world_value(monkeypatch, tmp_path):
    from explorer import table_cache
    from explorer.regimes import numeric_params
    from explorer.worlds import EnumeratedWorld

    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    table_cache.forget()
    builds = []
    real = EnumeratedWorld.table
    monkeypatch.setattr(EnumeratedWorld, "table", lambda self, *a, **k: builds.append(self.max_length) or real(self, *a, **k))
    base = {"n_test": 5, "performance_threshold": 1.0}
    assert "max_length" in numeric_params("enumerated") and "misbehaviour_cost" not in numeric_params("enumerated")
    m = regime_map(base, "max_length", [2, 3], "w_avg", [0.1, 1.0, 10.0], prior="average_speed", world="enumerated")
    assert m.world == "enumerated" and m.complete and m.done.all() and sorted(builds) == [2, 3]
    direct = Simulation("enumerated", **base, max_length=3, w_avg=10.0).select()["average_speed"]
    assert m.mass["honest"][2, 1] == pytest.approx(direct.mass["honest"])
    assert m.to_dict()["world"] == "enumerated"
    with pytest.raises(ExplorerError, match="'misbehaviour_cost' cannot be a regime-map axis of the enumerated world"):
        regime_map(base, "misbehaviour_cost", [1.0], "w_avg", [1.0], world="enumerated")
    stopped = regime_map(base, "max_length", [4], "w_avg", [1.0], world="enumerated", should_stop=lambda: len(builds) > 2)
    assert not stopped.complete and not stopped.done.any()
    table_cache.forget()
