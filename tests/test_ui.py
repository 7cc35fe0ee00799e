"""The first app's view without a browser, and `python -m explorer serve` answering over HTTP."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from explorer.ui.comparison import PriorComparison


@pytest.fixture
def view():
    return PriorComparison(n_programs=20_000)


def test_weight_slider_moves_the_selection(view):
    before = view.results["average_speed"]["mass"]["goof_off"]
    view.w_avg = 4.0
    after = view.results["average_speed"]["mass"]["goof_off"]
    assert after < before
    assert view.frame().set_index("prior").loc["average_speed", "goof_off"] == pytest.approx(after)


def test_scenario_picker_loads_the_preset(view):
    view.w_avg = 7.0
    view.scenario = "lookup-table"
    assert view.w_avg == 1.0  # the preset's value, not the leftover
    assert view.results["average_speed"]["map"]["kind"] == "lookup"
    assert view.simulation.priors.generalization_check is False


def test_a_rejected_value_keeps_the_last_good_selection(view):
    good = view.results
    view.param.w_avg.bounds = (0, 1000)  # as if a value came past the slider (a URL, a notebook)
    view.w_avg = 500.0
    assert "w_avg" in view.message and "[0, 100]" in view.message
    assert view.results == good
    view.w_avg = 2.0
    assert view.message == "" and view.results != good


def test_the_view_renders(view):
    import panel as pn

    model = pn.panel(view).get_root()
    assert model is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_the_apps():
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "serve", "--port", str(port), "--address", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
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
    finally:
        proc.terminate()
        proc.wait(timeout=10)
