"""The program scatter and the per-task bars, checked against the table they draw, without a browser."""

import holoviews as hv
import numpy as np
import panel as pn
import pytest
from bokeh.models import ColumnDataSource, GlyphRenderer, ImageRGBA, Title
from bokeh.plotting import figure as Figure

from explorer.priors import PRIORS
from explorer.ui.scatter import ProgramScatter
from explorer.ui.state import SimulationState
from explorer.ui.task_bars import TaskBars, bins_of

SMALL, LARGE = 3_000, 20_000


def layers_of(overlay, kind):
    return [el for el in overlay if isinstance(el, kind)]


def sample_points(overlay):
    """The glyph layers of the kinds (the MAP highlight is a Points layer too, labelled apart)."""
    return [el for el in layers_of(overlay, hv.Points) if el.label != "MAP of a prior"]


def renders(obj):
    hv.renderer("bokeh").get_plot(obj)


def sources(root, column):
    return [dict(s.data) for s in root.select({"type": ColumnDataSource}) if column in s.data]


# ---- the scatter --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [SMALL, LARGE])
def test_drawn_points_are_the_tables_programs(n):
    view = ProgramScatter(state=SimulationState(n_programs=n))
    cols = view.table.to_numpy()
    df = view.frame()
    assert len(df) == min(n, view.max_points)
    assert df["index"].is_unique
    at = df["index"].to_numpy()
    np.testing.assert_array_equal(df["avg_compute"], cols["avg_compute"][at])
    np.testing.assert_array_equal(df["train_perf"], cols["train_perf"][at])
    np.testing.assert_array_equal(df["kind"].astype(str), cols["kind_name"][at])
    # The glyphs split the same rows by kind, each layer holding one kind only.
    points = sample_points(view.element())
    assert sum(len(p) for p in points) == len(df)
    for p in points:
        assert set(p.dframe()["kind"].astype(str)) <= {p.label}


def test_above_max_points_the_table_is_rasterised_and_a_fixed_sample_carries_hover():
    state = SimulationState(n_programs=LARGE)
    view = ProgramScatter(state=state, max_points=1_000)
    element = view.element()
    raster = layers_of(element, hv.ImageStack)
    assert len(raster) == 1
    # Every program is counted in the raster, not only the sample.
    counts = sum(float(np.nansum(raster[0].dimension_values(vd))) for vd in raster[0].vdims)
    assert counts == LARGE
    assert sum(len(p) for p in sample_points(element)) == 1_000
    for p in sample_points(element):
        assert "hover" in hv.Store.lookup_options("bokeh", p, "plot").kwargs["tools"]
    sample = view.sample_indices().copy()
    state.apply(w_avg=2.0)  # a new selection, same programs on screen: no flicker
    np.testing.assert_array_equal(view.sample_indices(), sample)
    np.testing.assert_array_equal(ProgramScatter(state=state, max_points=1_000).sample_indices(), sample)


def test_below_max_points_there_is_no_raster():
    view = ProgramScatter(state=SimulationState(n_programs=SMALL))
    assert not view.dense
    assert layers_of(view.element(), hv.ImageStack) == []


def test_segments_show_exactly_the_misbehaviour_compute():
    view = ProgramScatter(state=SimulationState(n_programs=LARGE))
    df, segs = view.frame(), view.segments()
    misbehaving = df[df["misbehaviour_compute"] > 0]
    assert set(segs["kind"]) == {"goof_off", "deceptive"}
    assert sorted(segs["index"]) == sorted(misbehaving["index"])
    np.testing.assert_allclose(segs["x1"] - segs["x0"], segs["misbehaviour_compute"], rtol=1e-12)
    by_index = misbehaving.set_index("index").loc[segs["index"]]
    np.testing.assert_allclose(segs["x1"], by_index["avg_compute"])
    np.testing.assert_allclose(segs["misbehaviour_compute"], by_index["misbehaviour_compute"])
    np.testing.assert_array_equal(segs["y0"], segs["y1"])
    assert (segs["x0"] >= 0).all()  # misbehaviour is part of the average, never more
    assert len(layers_of(view.element(), hv.Segments)[0]) == len(segs)


def test_threshold_and_budget_lines_follow_the_state():
    state = SimulationState(n_programs=SMALL)
    view = ProgramScatter(state=state)

    def lines():
        el = view.element()
        return (layers_of(el, hv.HLines)[0].dimension_values(0), layers_of(el, hv.VLines)[0].dimension_values(0),
                [t for lab in layers_of(el, hv.Labels) for t in lab.dimension_values(2)])

    hlines, vlines, _ = lines()
    assert list(hlines) == [0.9] and len(vlines) == 0
    state.apply(performance_threshold=0.7, compute_budget=12.5)
    hlines, vlines, texts = lines()
    assert list(hlines) == [0.7] and list(vlines) == [12.5]
    assert any("0.7" in t for t in texts) and any("12.5" in t for t in texts)


def test_map_highlights_sit_at_each_priors_map_program():
    state = SimulationState(n_programs=LARGE, w_avg=0.0)  # priors disagree, so there are several picks
    view = ProgramScatter(state=state)
    picks = view.highlights().set_index("index")
    assert len(picks) > 1
    for prior in PRIORS:
        m = state.results[prior].map
        row = view.table.row(m["index"])
        assert picks.loc[m["index"], "avg_compute"] == row["avg_compute"]
        assert picks.loc[m["index"], "train_perf"] == row["train_perf"]
        assert prior.replace("_", " ") in picks.loc[m["index"], "priors"]
    maps = [p for p in layers_of(view.element(), hv.Points) if p.label == "MAP of a prior"][0]
    assert sorted(maps.dimension_values("index")) == sorted(picks.index)


def test_scatter_frame_is_the_same_on_every_backend(backend):
    ref = ProgramScatter(state=SimulationState(n_programs=LARGE)).frame()
    got = ProgramScatter(state=SimulationState(n_programs=LARGE, backend=backend)).frame()
    np.testing.assert_array_equal(got["index"], ref["index"])
    np.testing.assert_array_equal(got["kind"], ref["kind"])
    for c in ("avg_compute", "train_perf", "misbehaviour_compute"):
        np.testing.assert_allclose(got[c], ref[c], rtol=1e-9)


def test_a_weight_change_does_not_rerasterise_but_a_new_table_does():
    state = SimulationState(n_programs=LARGE)
    view = ProgramScatter(state=state)
    state.apply(w_avg=2.0)
    assert view.table_revision == 0
    state.apply(misbehaviour_cost=2.0)
    assert view.table_revision == 1


# ---- the task bars ------------------------------------------------------------------------------


def total_per_prior(frame):
    """Each prior's mean compute per task, from the bars (a bar's height times its share of tasks)."""
    weighted = frame["compute"] * frame["n_tasks"]
    return weighted.groupby(frame["prior"]).sum() / frame[frame["part"] == "task"].groupby("prior")["n_tasks"].sum()


@pytest.mark.parametrize("n_tasks", [1, 4, 32])
def test_bars_average_to_the_tables_avg_compute_and_stay_under_capacity(n_tasks):
    state = SimulationState(n_programs=LARGE, n_tasks=n_tasks, w_avg=0.0)
    view = TaskBars(state=state)
    frame = view.frame()
    assert set(frame["prior"]) == set(PRIORS)
    assert (frame.groupby(["prior", "part"]).size() == n_tasks).all()  # one bar per task, no binning
    means = total_per_prior(frame)
    for prior in PRIORS:
        row = state.simulation.table().row(state.results[prior].map["index"])
        assert means[prior] == pytest.approx(row["avg_compute"], rel=1e-9)
        mine = frame[frame["prior"] == prior]
        assert (mine["top"] <= row["max_compute"] * (1 + 1e-12)).all()
        assert np.all(np.diff(mine[mine["part"] == "task"]["difficulty"].to_numpy()) >= 0)  # easiest first
        curves = layers_of(view.panel_for(prior), hv.Curve)
        by_label = {c.label: c.dimension_values("compute") for c in curves}
        np.testing.assert_allclose(by_label["max compute (capacity)"], row["max_compute"])
        np.testing.assert_allclose(by_label["average compute"], row["avg_compute"])


def test_a_goof_off_map_shows_misbehaviour_bars():
    state = SimulationState(n_programs=LARGE)  # the simplicity prior picks a goof-off here
    assert state.results["simplicity"].map["kind"] == "goof_off"
    frame = TaskBars(state=state).frame()
    mis = frame[(frame["prior"] == "simplicity") & (frame["part"] == "misbehaviour")]
    assert (mis["compute"] > 0).any()
    # It misbehaves only where it has slack, so its easiest tasks carry the most misbehaviour.
    assert mis["compute"].iloc[0] >= mis["compute"].iloc[-1]


def test_many_tasks_are_binned_and_the_average_is_conserved():
    state = SimulationState(n_programs=LARGE, n_tasks=200)
    view = TaskBars(state=state)
    assert view.binned
    frame = view.frame()
    assert (frame.groupby(["prior", "part"]).size() == view.max_bars).all()
    per_prior = frame[frame["part"] == "task"].groupby("prior")["n_tasks"]
    assert (per_prior.sum() == 200).all() and set(per_prior.min()) | set(per_prior.max()) <= {3, 4}
    means = total_per_prior(frame)
    for prior in PRIORS:
        assert means[prior] == pytest.approx(state.results[prior].map["avg_compute"], rel=1e-9)
    assert "64 bars" in view.panel_for("simplicity").opts.get().kwargs["title"]
    view.max_bars = 10
    assert (view.frame().groupby(["prior", "part"]).size() == 10).all()


def test_bins_split_consecutive_tasks_evenly():
    for n, m in [(1, 64), (64, 64), (65, 64), (200, 64), (4096, 64), (4096, 4096), (7, 3)]:
        b = bins_of(n, m)
        counts = np.bincount(b)
        assert len(counts) == min(n, m) and counts.sum() == n
        assert np.all(np.diff(b) >= 0) and counts.max() - counts.min() <= 1


def test_nothing_looks_good_shows_a_note_and_still_renders():
    state = SimulationState(n_programs=SMALL)
    bars, scatter = TaskBars(state=state), ProgramScatter(state=state)
    assert state.apply(compute_budget=0.05)  # below every program's max compute
    assert all(state.results[p].map is None for p in PRIORS)
    notes = bars.notes()
    assert all("No program looks good" in notes[p] and "0.05" in notes[p] for p in PRIORS)
    assert bars.frame().empty and scatter.highlights().empty
    renders(bars.element())
    renders(scatter.element())
    texts = [t for lab in layers_of(bars.panel_for("combined"), hv.Labels) for t in lab.dimension_values(2)]
    assert notes["combined"] in texts


# ---- the served views ---------------------------------------------------------------------------


def test_views_render_and_update_in_place():
    state = SimulationState(n_programs=LARGE, w_avg=0.0)
    scatter, bars = ProgramScatter(state=state), TaskBars(state=state)
    s_root, b_root = pn.panel(scatter).get_root(), pn.panel(bars).get_root()
    assert list(s_root.select({"type": ImageRGBA}))  # rasterised (and coloured on the server) above max_points

    def picks():
        return sorted(i for d in sources(s_root, "priors") if "index" in d for i in d["index"])

    def bar_tops():
        return sorted(round(float(v), 9) for d in sources(b_root, "compute_top") for v in d["compute_top"])

    before_picks, before_bars = picks(), bar_tops()
    assert before_picks == sorted(scatter.highlights()["index"])
    old = state.results["average_speed"].map["index"]
    state.apply(w_avg=3.0)
    assert state.results["average_speed"].map["index"] != old
    assert picks() == sorted(scatter.highlights()["index"]) != before_picks
    assert bar_tops() != before_bars
    titles = [t.text for t in b_root.select({"type": Title})]
    assert any(f"program {state.results['average_speed'].map['index']}" in t for t in titles)


def test_a_new_table_reaches_the_rendered_plot_whole():
    """A world setting's new table is put into the live plot by hand (ProgramScatter._patch_table): every
    sampled glyph, the misbehaviour lines, the raster and the axes must show the new table, not the old."""
    state = SimulationState(n_programs=LARGE)
    scatter = ProgramScatter(state=state)
    root = pn.panel(scatter).get_root()
    (image,) = [r.data_source for r in root.select({"type": GlyphRenderer}) if isinstance(r.glyph, ImageRGBA)]
    before = image.data["image"][0].copy()
    assert state.apply(misbehaviour_cost=6.0)  # goof-offs waste more: they move right
    frame = scatter.frame()
    drawn = sorted(i for d in sources(root, "heldout_perf") for i in d["index"])
    assert drawn == sorted(frame["index"])
    for d in sources(root, "heldout_perf"):
        if len(d["index"]):
            rows = frame.set_index("index").loc[list(d["index"])]
            np.testing.assert_allclose(d["avg_compute"], rows["avg_compute"])
    (lines,) = sources(root, "x0")
    np.testing.assert_allclose(sorted(lines["x1"] - lines["x0"]), sorted(scatter.segments()["misbehaviour_compute"]))
    assert not np.array_equal(image.data["image"][0], before)
    (fig,) = root.select({"type": Figure})
    assert fig.x_range.start < scatter.population()["avg_compute"].min()
    assert fig.x_range.end > scatter.population()["avg_compute"].max()
    assert scatter.table_revision == 1  # a zoom re-renders through HoloViews, from the new table


def test_scatter_drops_the_raster_when_the_table_shrinks_below_max_points():
    state = SimulationState(n_programs=LARGE)
    scatter = ProgramScatter(state=state)
    root = pn.panel(scatter).get_root()
    assert scatter.dense and list(root.select({"type": ImageRGBA}))
    state.apply(n_programs=SMALL)  # the same root, updated in place
    assert not list(root.select({"type": ImageRGBA}))
    assert sum(len(d["index"]) for d in sources(root, "heldout_perf")) == SMALL


def test_live_map_picks_follow_a_weight_change_in_a_rendered_page():
    import panel as pn

    from explorer.ui.scatter import PICKS_TAG, ProgramScatter
    from explorer.ui.state import SimulationState

    state = SimulationState(n_programs=20_000, kind_mix={"honest": 0.5, "goof_off": 0.5}, misbehaviour_cost=3.0)
    view = ProgramScatter(state=state)
    root = pn.panel(view).get_root()
    figures = [m for m in root.references() if PICKS_TAG in getattr(m, "tags", [])]
    assert len(figures) == 1 and len(view._pick_sources) == 1
    source = view._pick_sources[0]
    before = list(source.data["index"])
    state.apply(w_max=0.0, w_avg=0.0, w_simplicity=5.0)  # only simplicity counts: the picks move
    after = list(source.data["index"])
    assert after != before
    assert sorted(after) == sorted({r.map["index"] for r in state.results.values()})


# ---- what a room reads: labels inside the plot, one key, the controls' names, larger type ----------


def test_pick_labels_in_the_right_half_are_drawn_to_their_left():
    state = SimulationState(n_programs=SMALL, kind_mix={"honest": 0.5, "goof_off": 0.5}, misbehaviour_cost=3.0)
    view = ProgramScatter(state=state)
    picks = view.pick_data()
    x = view.frame()["avg_compute"]
    middle = (x.min() + x.max()) / 2
    assert len(picks) >= 2
    for _, row in picks.iterrows():
        right = row["avg_compute"] > middle
        assert row["align"] == ("right" if right else "left")
        assert (row["dx"] < 0) == right


def test_scatter_text_follows_its_font_scale():
    from bokeh.models import LabelSet
    from bokeh.plotting import figure

    view = ProgramScatter(state=SimulationState(n_programs=SMALL))
    root = pn.panel(view).get_root()
    fig = next(m for m in root.references() if isinstance(m, figure))
    labels = next(iter(fig.select(LabelSet)))
    size = lambda text: float(text.rstrip("px"))  # noqa: E731
    before, pick_before = size(fig.xaxis[0].axis_label_text_font_size), size(labels.text_font_size)
    view.font_scale = 1.5
    assert size(fig.xaxis[0].axis_label_text_font_size) > before and size(labels.text_font_size) > pick_before
    assert size(fig.title.text_font_size) > 13


def test_task_bars_have_one_key_and_no_legend_in_any_panel():
    from explorer.ui.task_bars import PART_LABELS

    view = TaskBars(state=SimulationState(n_programs=SMALL))
    for prior in PRIORS:
        assert view.panel_for(prior).opts.get().kwargs["show_legend"] is False
    key = view.key()
    assert all(label in key for label in PART_LABELS.values())
    assert "max compute (capacity)" in key and "average compute" in key


def test_regime_map_names_parameters_by_the_controls_labels():
    from explorer.ui.controls import LABELS
    from explorer.ui.regime_map import AXIS_CHOICES, RegimeMapView

    view = RegimeMapView(SimulationState(n_programs=SMALL), resolution=2)
    assert AXIS_CHOICES[LABELS["w_avg"]] == "w_avg" and view.x == "w_avg"  # the value stays the flat name
    view.compute(sync=True)
    element = view.winner_element()
    assert element.kdims[0].label == LABELS["w_avg"] and element.kdims[1].label == LABELS["misbehaviour_cost"]


def test_the_compact_table_has_every_prior_pick_and_kind_with_short_headers():
    from explorer.table import KINDS
    from explorer.ui.comparison import PICK_TITLES, PriorComparison

    view = PriorComparison(state=SimulationState(n_programs=SMALL))
    table = view.picks()
    assert list(table.value["prior"]) == list(PRIORS)
    assert {*KINDS, "MAP kind", "actually good"} <= set(table.value.columns)
    assert max(len(t) for t in PICK_TITLES.values()) <= 9
    assert len(table.value.columns) == 7  # the rest is in the full table, below the fold
    assert all(f">{c}<" in view.table_view().object for c in ("MAP index", "avg compute", "bits", "deploy perf"))


def test_the_picks_say_how_many_programs_tie_with_each_pick():
    """The speed priors cannot tell lookup tables of equal compute apart: the pick is one of many."""
    from explorer.scenarios import SCENARIOS
    from explorer.ui.comparison import PriorComparison, selection_frame

    state = SimulationState(**SCENARIOS["lookup-table"].params)
    view = PriorComparison(state=state)
    n = state.results["max_speed"].n_ties
    assert n > 1 and state.results["combined"].n_ties == 1
    note = view.ties()
    assert note.visible and f"max speed 1 of {n:,}, average speed 1 of {n:,}." in note.object
    assert "combined" not in note.object
    assert list(selection_frame(state)["MAP ties"]) == [state.results[p].n_ties for p in PRIORS]  # the exports
    state.apply(kind_mix={"honest": 0.5, "goof_off": 0.5})  # no lookup tables, every pick unique: the line goes
    assert not note.visible and note.object == ""


def test_the_patched_raster_is_the_picture_holoviews_draws():
    """_patch_table colours the raster with datashader directly: the same image, bounds and all, as
    HoloViews' datashade of the same programs gives the live plot."""
    import datashader as ds
    import holoviews as hv
    from holoviews.operation.datashader import datashade

    from explorer.ui.comparison import KIND_COLORS

    state = SimulationState(n_programs=LARGE)
    scatter = ProgramScatter(state=state)
    pn.panel(scatter).get_root()
    assert state.apply(deception_overhead=0.2)
    ((plot, _),) = scatter._pane._plots.values()
    (sub,) = [s for s in plot.subplots.values() if isinstance(s.current_frame, hv.RGB)]
    height, width = sub.handles["source"].data["image"][0].shape
    x_range, y_range = scatter._fitted_ranges()
    element = datashade(scatter._population_points(), aggregator=ds.count_cat("kind"), color_key=KIND_COLORS,
                        dynamic=False, x_range=x_range, y_range=y_range, width=width, height=height)
    want = sub.get_data(element, sub.current_ranges or {}, sub.style[sub.cyclic_index])[0]
    got = scatter._raster_data(x_range, y_range, width, height)
    assert set(got) == set(want)
    np.testing.assert_array_equal(got["image"][0], want["image"][0])
    assert (want["image"][0] != 0).any() and (want["image"][0] == 0).any()
    for key in ("x", "y", "dw", "dh"):
        np.testing.assert_allclose(np.ravel(got[key]), np.ravel(want[key]), rtol=1e-12, err_msg=key)
    np.testing.assert_array_equal(sub.handles["source"].data["image"][0], got["image"][0])


def test_the_patched_glyphs_are_the_data_holoviews_gives():
    """_patch_table takes each glyph layer's columns straight from its frame: the same data, column by
    column, as HoloViews' get_data of that layer."""
    import holoviews as hv

    from explorer.table import KINDS
    from explorer.ui.scatter import layer_data

    state = SimulationState(n_programs=LARGE)
    scatter = ProgramScatter(state=state)
    pn.panel(scatter).get_root()
    assert state.apply(misbehaviour_cost=3.0)
    ((plot, _),) = scatter._pane._plots.values()
    frame, templates, checked = scatter.frame(), scatter._templates(scatter.dense), 0
    for sub in plot.subplots.values():
        el, source = sub.current_frame, sub.handles.get("source")
        if isinstance(el, hv.Segments):
            layer, template = scatter.segments(), templates["segments"]
        elif isinstance(el, hv.Points) and el.label in KINDS:
            layer, template = frame[frame["kind"] == el.label], templates[el.label]
        else:
            continue
        want = sub.get_data(template.clone(layer), sub.current_ranges or {}, sub.style[sub.cyclic_index])[0]
        got = layer_data(layer, source.data)
        # a style mapped from a column (the lines' colour) is in the source, not in get_data's columns
        want.update({c: layer[c].to_numpy() for c in set(source.data) - set(want)})
        assert got is not None and set(got) == set(source.data) == set(want), el
        for column in source.data:
            np.testing.assert_array_equal(np.asarray(got[column]), np.asarray(want[column]), err_msg=column)
            np.testing.assert_array_equal(np.asarray(source.data[column]), np.asarray(want[column]), err_msg=column)
        checked += len(layer) > 0
    assert checked >= 3  # the lines and at least two kinds of glyph had programs
