"""The priors dashboard without a browser: controls, presets, reset, links, exports; and `serve` over HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import panel as pn
import pytest

from explorer.priors import PRIORS
from explorer.scenarios import preset_params, scenarios_of
from explorer.ui.dashboard import PriorsDashboard
from explorer.ui.url import apply_query, link_query


@pytest.fixture
def dashboard():
    return PriorsDashboard(n_programs=20_000)


def test_moving_a_weight_control_moves_the_selection(dashboard):
    before = dashboard.state.results["average_speed"].mass["goof_off"]
    dashboard.controls.widgets["w_avg"].value = 4.0
    after = dashboard.state.results["average_speed"].mass["goof_off"]
    assert after < before
    table = dashboard.comparison._table.value.set_index("prior")
    assert table.loc["average_speed", "goof_off"] == pytest.approx(after)


def test_every_listed_control_is_generated_from_the_core_parameters(dashboard):
    from explorer.ui.controls import GROUPS, parameter

    for names in GROUPS.values():
        for name in names:
            parameter(name)  # exists in the core
    for name in ("w_simplicity", "w_max", "w_avg", "compute_budget", "misbehaviour_cost", "deception_overhead",
                 "deception_check_strength", "memory", "performance_threshold", "generalization_check",
                 "n_programs", "seed", "backend", "kind_mix.honest", "kind_mix.lookup"):
        assert name in dashboard.controls.widgets


def test_kind_mix_sliders_set_the_mix(dashboard):
    dashboard.controls.widgets["kind_mix.deceptive"].value = 0.5
    assert dashboard.state.simulation.world.kind_mix["deceptive"] == 0.5
    assert dashboard.state.results["combined"].mass["deceptive"] > 0


def test_a_rejected_control_value_snaps_back_and_says_why(dashboard):
    good = dashboard.state.results
    dashboard.controls.widgets["seed"].value = 5
    assert dashboard.state.simulation.world.seed == 5
    for key in ("kind_mix.honest", "kind_mix.goof_off"):  # a mix of all zeros is refused by the core
        dashboard.controls.widgets[key].value = 0.0
    assert "kind_mix" in dashboard.state.message and dashboard._message.visible
    assert dashboard.state.simulation.world.kind_mix["honest"] + dashboard.state.simulation.world.kind_mix["goof_off"] > 0
    assert dashboard.controls.widgets["kind_mix.goof_off"].value > 0  # snapped back
    assert dashboard.state.results is not good  # the seed change before it did apply


def test_a_preset_loads_completely_and_reset_returns_to_it(dashboard):
    dashboard.controls.widgets["memory"].value = 0.7
    dashboard.scenario = "lookup-table"
    assert dashboard.state.simulation.world.memory == 0.0  # nothing lingers from before
    assert dashboard.state.results["average_speed"].map["kind"] == "lookup"
    assert dashboard.controls.widgets["generalization_check"].value is False
    dashboard.controls.widgets["w_avg"].value = 7.0
    dashboard.reset()
    params = dashboard.state.simulation.params()
    assert all(params[k] == v for k, v in preset_params("lookup-table").items())
    assert dashboard.controls.widgets["w_avg"].value == 1.0


def test_links_round_trip(dashboard):
    dashboard.scenario = "memory"
    dashboard.controls.widgets["w_avg"].value = 2.5
    dashboard.controls.widgets["kind_mix.lookup"].value = 0.25
    query = link_query(dashboard)
    assert query.startswith("?scenario=memory") and "w_avg=2.5" in query
    fresh = PriorsDashboard(n_programs=20_000)
    assert apply_query(fresh, query) == []
    assert fresh.state.simulation.params() == dashboard.state.simulation.params()
    assert fresh.controls.widgets["w_avg"].value == 2.5


def test_a_bad_link_reports_each_problem_and_applies_the_rest(dashboard):
    problems = apply_query(dashboard, "?scenario=nope&w_avg=3&memory=7&warp=9&seed=1.5")
    assert len(problems) == 4
    assert any("scenario" in p for p in problems) and any("memory" in p and "[0, 1]" in p for p in problems)
    assert any("warp" in p for p in problems) and any("seed" in p for p in problems)
    assert dashboard.state.simulation.priors.w_avg == 3.0 and dashboard.state.simulation.world.memory == 0.0


@pytest.mark.parametrize("scenario", list(scenarios_of("abstract")))
def test_exports(scenario):
    dashboard = PriorsDashboard(n_programs=5_000, scenario=scenario)
    csv = pd.read_csv(dashboard.export_csv())
    assert list(csv["prior"]) == list(PRIORS)
    report = json.loads(dashboard.export_json().getvalue())
    assert report["scenario"] == scenario and report["params"]["n_programs"] == 5_000
    assert report["priors"]["combined"]["mass"] == pytest.approx(dashboard.state.results["combined"].mass)


def test_html_export_is_standalone(dashboard):
    html = dashboard.export_html().getvalue()
    assert html.startswith("<!DOCTYPE html>") and "Goofing off on easy tasks" in html
    assert "cdn.bokeh.org" not in html and "Bokeh" in html  # resources inline: it opens offline


def test_the_dashboard_renders(dashboard):
    assert pn.panel(dashboard).get_root() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_the_apps():
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "serve", "--port", str(port), "--address", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:  # (little output before the assertions below, so the unread pipe cannot fill)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/priors", timeout=30) as resp:
                    page = resp.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(f"server did not answer: {proc.stdout.read().decode() if proc.poll() is not None else ''}")
                time.sleep(0.5)
        assert resp.status == 200
        assert "Speed Prior Explorer" in page and "bokeh" in page.lower()
        # Stopping the wrapper stops the server it started: nothing answers on the port afterwards.
        proc.terminate()
        assert proc.wait(timeout=15) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_back_end_this_machine_lacks_is_refused_and_the_session_keeps_working(dashboard):
    from explorer.backend import available_backends

    if "cupy" in available_backends():
        pytest.skip("this machine has a GPU")
    assert not dashboard.state.apply(backend="cupy")
    assert "cupy" in dashboard.state.message and dashboard.state.simulation.world.backend == "numpy"
    assert dashboard.state.apply(w_avg=2.0)  # later changes still work


def test_served_pages_cap_the_program_count():
    dashboard = PriorsDashboard(n_programs=5_000, max_programs=10_000)
    problems = apply_query(dashboard, "?n_programs=200000000&w_avg=2")
    assert len(problems) == 1 and "at most 10,000" in problems[0]
    assert dashboard.state.simulation.world.n_programs == 5_000 and dashboard.state.simulation.priors.w_avg == 2.0


# ---- a presenter's controls: marks, reset one, compare A and B ------------------------------------------

def test_a_changed_control_is_marked_and_one_click_puts_the_presets_value_back(dashboard):
    controls = dashboard.controls
    assert controls.changed() == {} and not any(controls.reset_shown(k) for k in controls.resets)
    controls.widgets["w_avg"].value = 4.0
    controls.widgets["kind_mix.lookup"].value = 0.25
    assert controls.changed() == {"w_avg": 1.0, "kind_mix.lookup": 0.0}
    assert "changed" in controls.widgets["w_avg"].css_classes and controls.reset_shown("w_avg")
    assert controls.resets["w_avg"].label == "↺ 1" and "changed" not in controls.widgets["w_max"].css_classes
    controls.resets["w_avg"].clicks += 1  # what a click does
    assert dashboard.state.simulation.priors.w_avg == 1.0 and controls.widgets["w_avg"].value == 1.0
    assert not controls.reset_shown("w_avg") and "changed" not in controls.widgets["w_avg"].css_classes
    controls.reset_one("kind_mix.lookup")
    assert dashboard.state.simulation.world.kind_mix == preset_params("goof-off")["kind_mix"]
    assert controls.changed() == {}


def test_marks_follow_a_link_a_preset_a_tour_step_and_the_pages_program_count(dashboard):
    controls = dashboard.controls
    apply_query(dashboard, "?scenario=memory&w_max=3&n_programs=5000")
    assert controls.changed() == {"w_max": 1.0, "n_programs": 20_000}  # against the page's own count
    dashboard.scenario = "lookup-table"  # a preset loads completely: nothing is changed from it
    assert controls.changed() == {"n_programs": 20_000}
    controls.widgets["n_programs"].value = 20_000
    tour = dashboard.start_tour()
    for index, step in enumerate(tour.tour.steps):
        tour.go(index)
        preset = preset_params(step.scenario)
        params = dashboard.state.simulation.params()
        expected = {n for n in controls.widgets if n in preset and params[n] != preset[n]}
        assert {k for k in controls.changed() if "." not in k} == expected, step.scenario


def test_pinned_a_stays_while_b_moves_and_is_recomputed_only_for_a_new_program_count(dashboard):
    pinned = dashboard.pinned
    pinned.pin(dashboard.scenario)
    a = pinned.results
    before = a["average_speed"].mass["goof_off"]
    dashboard.controls.widgets["misbehaviour_cost"].value = 9.0
    assert pinned.results is a  # not recomputed for a slider
    assert dashboard.state.results["average_speed"].mass["goof_off"] < before
    assert pinned.differences() == [("misbehaviour_cost", "3", "9")]
    html = pinned._view.object
    assert "<td><b>A</b></td>" in html and "<td><b>B</b></td>" in html and "background: #fde68a" in html
    assert f"{before:.0%}" in html and f"{dashboard.state.results['average_speed'].mass['goof_off']:.0%}" in html
    dashboard.controls.widgets["n_programs"].value = 10_000
    assert pinned.results is not a and pinned._key == (10_000, "numpy")
    fresh = PriorsDashboard(n_programs=10_000)
    for prior in PRIORS:  # A at the new count is the pinned settings' own selection
        assert pinned.results[prior].mass == pytest.approx(fresh.state.results[prior].mass)
    pinned.unpin()
    assert pinned.pinned is None and "Nothing pinned" in pinned._heading.object
