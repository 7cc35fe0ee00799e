"""The annealing app's view without a browser: the player, re-tracing, the Monte Carlo, errors, rendering."""

import math
import runpy
from pathlib import Path

import holoviews as hv
import numpy as np
import panel as pn
import pytest

from explorer.annealing import DEFAULT_RATIOS, AnnealingSettings, anneal
from explorer.ui import markup
from explorer.ui.annealing_view import SCHEDULES, TRACE_MAX_STEPS, AnnealingView

APP = Path(__file__).resolve().parent.parent / "apps" / "annealing.py"


@pytest.fixture
def view():
    return AnnealingView(n_programs=20_000)


def test_moving_the_player_moves_c_and_grows_p_of_c(view):
    assert view.step_slider.end == view.traced.steps - 1 > 10
    view.step_slider.value = 0
    start = view.current()
    view.step_slider.value = view.step_slider.end // 2
    middle = view.current()
    assert view.step == view.step_slider.end // 2
    assert middle["c"] > start["c"] and middle["in_p"] > start["in_p"]
    # the picture: the veil (fading what is not yet in P(C)) starts at C_t, and this step's draws are marked
    assert view.figures.veil.left == pytest.approx(middle["c"])
    assert len(view.figures.now_source.data["x"]) == len(view.traced.samples_at(middle["step"]))
    assert f"{middle['in_p']:,}" in view.status.object
    avg = view.world.cols["avg_compute"]
    assert middle["in_p"] == np.count_nonzero(avg <= middle["c"])


def test_the_last_frame_shows_the_run_anneal_reports(view):
    view.step_slider.value = view.step_slider.end
    now = view.current()
    world = view.world
    settings = AnnealingSettings(runs=1, max_steps=TRACE_MAX_STEPS, rate=view.rate, search_speed=view.search_speed)
    res = anneal(world.table, world.mask, settings)
    assert now["found"] and now["last"]
    assert now["c_star"] == res.c_star[0] and now["row"] == res.index[0]
    assert now["kind"] == world.table.kinds[res.kind[0]] == "honest"  # slow annealing in the goof-off world
    assert world.good[now["row"]] and world.cols["avg_compute"][now["row"]] <= now["c_star"]
    assert len(view.figures.finds_source.data["x"]) == 1
    assert "C*" in view.figures.label.text and "honest" in view.status.object


def test_changing_the_schedule_retraces_from_the_first_step(view):
    view.step_slider.value = 5
    linear = view.traced
    view.schedule = "geometric"
    tr = view.traced
    assert tr is not linear and tr.settings["schedule"] == "geometric"
    assert view.step == 0 and view.step_slider.value == 0 and view.step_slider.end == tr.steps - 1
    np.testing.assert_allclose(tr.c[1:] / tr.c[:-1], 1 + view.rate)
    view.schedule = "backoff"
    assert view.traced.settings["schedule"] == "backoff" and view.traced.found.sum() >= 1


def test_changing_the_scenario_changes_the_world(view):
    view.scenario = "deceptive-planner"
    assert set(view.figures.world_source.data["kind"]) == {"honest", "deceptive"}
    assert view.traced.kind in ("honest", "deceptive")


def test_a_rejected_setting_shows_the_message_and_keeps_the_last_trace(view):
    view.c_start = 0.0  # fine for the linear schedule
    good = view.traced
    assert view.message == "" and good.c[0] == 0.0
    view.schedule = "geometric"  # C_0 = 0 cannot grow geometrically
    assert "c_start" in view.message and "geometric" in view.message
    assert view.alert.visible and view.alert.object == markup.text(view.message)  # shown as plain words
    assert view.traced is good and view.current()["c"] == good.c[0]
    view.c_start = 1.0
    assert view.message == "" and not view.alert.visible
    assert view.traced.settings["schedule"] == "geometric" and view.traced.c[0] == 1.0


def test_monte_carlo_gives_a_row_per_ratio_per_schedule_and_slow_annealing_finds_honest_programs(view):
    rows = view.run_monte_carlo(runs=200)
    assert view.mc_rows == rows and len(rows) == len(SCHEDULES) * len(DEFAULT_RATIOS)
    assert {(r["schedule"], r["ratio"]) for r in rows} == {(s, r) for s in SCHEDULES for r in DEFAULT_RATIOS}
    for r in rows:
        assert math.isclose(sum(r[k] for k in ("honest", "goof_off", "deceptive", "lookup", "none")), 1.0)
    frame = view.monte_carlo_frame()
    for schedule in SCHEDULES:
        part = frame[frame["schedule"] == schedule].sort_values("ratio")
        slow, fast = part.iloc[0], part.iloc[-1]
        assert slow["honest"] > fast["honest"] and slow["goof_off"] < fast["goof_off"]
        assert slow["median_c_star"] < fast["median_c_star"]
    assert not view.mc_running and view.progress.value == view.progress.max == len(rows)
    assert "200 runs per point" in view.mc_status
    plots = view._mc_plots()
    assert len(plots.select(pn.pane.HoloViews)) == len(SCHEDULES) + 1  # one bar chart per schedule, one C* plot


def test_stop_cancels_between_sweep_points(view):
    view.param.watch(lambda event: view.stop_monte_carlo() if event.new == 3 else None, "mc_done")
    rows = view.run_monte_carlo(runs=50)
    assert len(rows) == 3 and view.mc_rows == rows
    assert "Stopped after 3 of 24" in view.mc_status
    assert not view.mc_running and not view.run_button.disabled and view.stop_button.disabled


def test_the_run_button_works_on_a_worker_thread(view):
    view.mc_runs = 50
    view.run_button.clicks += 1
    thread = view._worker.thread
    assert thread is not None
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert len(view.mc_rows) == len(SCHEDULES) * len(DEFAULT_RATIOS) and not view.mc_running
    assert view.run_button.disabled is False and view.stop_button.disabled is True


def test_a_rejected_monte_carlo_setting_keeps_the_last_results(view):
    rows = view.run_monte_carlo(runs=30)
    view.c_start = 0.0  # fine for the linear trace, but the geometric sweep cannot start from C_0 = 0
    assert view.message == ""
    assert view.run_monte_carlo(runs=30) == []
    assert "c_start" in view.message and "geometric" in view.message
    assert view.mc_rows == rows
    assert view.start_monte_carlo() is False and view._worker.thread is None


def test_every_control_has_a_description(view):
    widgets = pn.panel(view).select(pn.widgets.Widget)
    described = [w for w in widgets if "description" in w.param]
    names = {w.label for w in described}
    for label in ("Scenario", "Schedule", "Sampling", "Search speed (draws per step)", "Annealing rate", "C at step 0",
                  "Seed", "Monte Carlo runs per point", "Run Monte Carlo", "Stop"):
        assert label in names
    assert all(w.description for w in described)
    # the playback buttons are named in words (a screen reader reads the name; a room reads the label)
    buttons = {w.label for w in widgets if isinstance(w, pn.widgets.Button)}
    assert {"First", "Back", "Play", "Next", "Last"} <= buttons


def test_the_view_renders(view):
    assert pn.panel(view).get_root() is not None
    view.run_monte_carlo(runs=20, ratios=[0.001, 0.1])
    assert pn.panel(view).get_root() is not None


def test_the_app_module_builds_its_page():
    namespace = runpy.run_path(str(APP))
    assert isinstance(namespace["view"], AnnealingView)
    assert namespace["view"].traced.steps > 0
    assert isinstance(namespace["template"], pn.template.FastListTemplate)


# ---- the page's link ----------------------------------------------------------------------------


def test_a_link_opens_the_run_it_names_traced_once_and_follows_changes(link):
    from explorer.scenarios import scenarios_of
    from explorer.ui.annealing_view import LINK
    from explorer.ui.url import apply_params

    other = next(s for s in scenarios_of("abstract") if s != "goof-off")
    location = link(f"?scenario={other}&schedule=geometric&c_start=1&rate=0.2&seed=3&mc_runs=50")
    view = AnnealingView.from_link()
    assert list(view._worlds) == [other]  # the default world was never built
    assert view.traced.settings["schedule"] == "geometric" and view.traced.settings["c_start"] == 1
    assert view.traced.settings["rate"] == 0.2 and view.traced.settings["seed"] == 3 and view.mc_runs == 50
    assert view.message == "" and location.search == f"?scenario={other}&schedule=geometric&rate=0.2&c_start=1&seed=3&mc_runs=50"
    view.sampling = "simplicity"
    assert "sampling=simplicity" in location.search and view.traced.settings["sampling"] == "simplicity"
    fresh = AnnealingView(retrace=False)
    assert apply_params(fresh, LINK, location.search) == []
    assert {n: getattr(fresh, n) for n in LINK} == {n: getattr(view, n) for n in LINK}


def test_bad_settings_in_a_link_are_one_escaped_message_and_the_rest_applies(link):
    link("?scenario=<img src=x onerror=alert(1)>&schedule=sideways&rate=0.3&search_speed=0")
    view = AnnealingView.from_link()
    assert view.scenario == "goof-off" and view.schedule == "linear" and view.traced.settings["rate"] == 0.3
    for name in ("scenario", "schedule", "search_speed"):
        assert f"{name}: " in view.message
    assert view.alert.visible and "<img" not in view.alert.object and "&lt;img" in view.alert.object
    view.rate = 0.2  # the next change: the link as typed no longer applies
    assert view.message == "" and not view.alert.visible


def test_a_link_whose_settings_conflict_shows_the_defaults_and_says_so(link):
    location = link("?schedule=geometric&c_start=0")
    view = AnnealingView.from_link()
    assert "could not be traced together" in view.message and "c_start" in view.message
    assert "the page shows the default settings" in view.message
    assert view.schedule == "linear" and view.c_start is None and view.traced is not None
    assert location.search == ""


# ---- playback, the Monte Carlo's curves, typed numbers ------------------------------------------


def test_play_follows_the_clock_so_a_run_takes_frames_times_the_interval(view):
    clock = [100.0]
    view._clock = lambda: clock[0]
    view.interval = 50
    last = view.traced.steps - 1
    view.play()
    assert view.playing and view.play_button.label == "Pause"
    clock[0] += 0.26  # five frames of 50 ms
    view._tick()
    assert view.step == 5 and view.playing
    clock[0] += 0.02  # not yet the next frame
    view._tick()
    assert view.step == 5
    clock[0] += 60  # a page that could not keep up jumps to where the clock is, never lags behind it
    view._tick()
    assert view.step == last and not view.playing and view.play_button.label == "Play"
    view.play()  # from the end: starts again at 0
    assert view.step == 0 and view.playing
    view.step_slider.value = 7  # dragged by hand: playback stops there
    assert not view.playing and view.step == 7


def test_the_step_buttons_move_and_stay_within_the_run(view):
    last = view.traced.steps - 1
    view.last_button.clicks += 1
    assert view.step == last
    view.next_button.clicks += 1
    assert view.step == last
    view.back_button.clicks += 1
    assert view.step == last - 1
    view.first_button.clicks += 1
    view.back_button.clicks += 1
    assert view.step == 0


def test_both_the_linear_and_the_backoff_median_curves_stay_visible(view):
    """Back-off often lies on linear: linear is wide and under, back-off thin, dashed and on top."""
    from bokeh.models import GlyphRenderer, Line

    view.run_monte_carlo(runs=20, ratios=[0.001, 0.1])
    medians = pn.panel(view._mc_plots()).objects[-1].object
    fig = hv.render(medians)
    lines = [r for r in fig.renderers if isinstance(r, GlyphRenderer) and isinstance(r.glyph, Line)]
    by_color = {r.glyph.line_color: (i, r) for i, r in enumerate(lines)}
    (i_lin, linear), (i_back, backoff) = by_color["#56B4E9"], by_color["#000000"]
    assert linear.visible and backoff.visible and i_lin < i_back  # back-off drawn last, on top
    assert linear.glyph.line_alpha >= 0.5 and backoff.glyph.line_alpha >= 0.9
    assert linear.glyph.line_width >= 2 * backoff.glyph.line_width + 2  # linear shows either side of it
    assert backoff.glyph.line_dash != [] and linear.glyph.line_dash == []
    assert {item.label["value"] for item in fig.legend[0].items} >= {"linear", "geometric", "backoff"}


def test_a_number_typed_outside_a_settings_range_is_refused_with_the_limit_not_clamped(view):
    fields = {w.label: w for w in pn.panel(view).select(pn.widgets.IntInput)}
    speed = fields["Search speed (draws per step)"]
    assert speed.start is None and speed.end is None  # no spinner bounds to put the old value back silently
    speed.value = 20_000
    assert view.search_speed == 8 and speed.value == 8
    assert "search_speed: 20,000" in view.message and "10,000" in view.message and view.alert.visible
    speed.value = 12
    assert view.search_speed == 12 and view.traced.settings["search_speed"] == 12 and view.message == ""
    runs = fields["Monte Carlo runs per point"]
    runs.value = 5
    assert view.mc_runs == 500 and "mc_runs: 5 " in view.message and "[10, 100,000]" in view.message


def test_the_world_is_drawn_one_dot_per_kind_and_pixel_with_every_program_counted(view):
    data = view.figures.world_source.data
    assert len(data["x"]) < len(view.world.cols["avg_compute"]) and sum(data["count"]) == len(view.world.cols["avg_compute"])
