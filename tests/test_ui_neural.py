"""The neural app's view without a browser: it renders, trains in the background, stops, and turns every
failure (a diverging run, a bad setting, a bug) into a message on a page that stays usable."""

import runpy
import time
from pathlib import Path

import panel as pn
import pytest

from explorer.params import values_of
from explorer.priors import PRIORS
from explorer.stories.library import StoryLibrary
from explorer.ui.neural_view import LINK_PARAMS, NeuralView
from explorer.ui.url import apply_params, params_query
from explorer.worlds.neural.session import SERVED
from explorer.worlds.neural.tasks import Batch, TaskSettings

APP = Path(__file__).resolve().parent.parent / "apps" / "neural.py"


@pytest.fixture
def view():
    v = NeuralView()
    v.setup.param.update(bits=4, steps=100)
    return v


def finish(view, timeout=60):
    """Wait for the run on its thread, polling as the page's periodic callback would."""
    deadline = time.monotonic() + timeout
    while not view.trainer.join(0.1) and time.monotonic() < deadline:
        view.refresh()
    view.refresh()
    assert view.trainer.finished, "the run did not finish"


def test_the_view_renders_and_the_proposal_sets_penalty_drive_and_story(view):
    pn.panel(view).get_root()  # builds every widget and pane
    assert view.penalties.label.startswith("beta") and not view.penalties.disabled
    assert view.story.story_name == "scenarios/halting-parity-measured" and "nothing measured yet" in view.story.view.object
    view.proposal.value = "misbehaviour"
    assert view.setup.proposal == "misbehaviour" and view.mu.visible and view.setup.penalties == "0.001, 0.01, 0.1"
    assert view.story.story_name == "scenarios/goof-off"
    view.proposal.value = "grow"
    assert view.penalties.disabled and not view.mu.visible
    view.proposal.value = "early-exit"
    assert view.penalties.label.startswith("alpha") and view.penalties.value == "0.5"


def test_a_tiny_run_trains_in_the_background_and_fills_the_results(view):
    view.penalties.value = "0.01, 1"
    assert view.start()
    assert view.stop_button.disabled is False and view.start_button.disabled is True
    assert not view.start()  # one run at a time
    finish(view)
    assert view.trainer.status == "done" and view.message == ""
    assert view.curves.points() == 4  # two checks (every 50 steps) for each of the two betas
    assert view.progress.value == view.progress.max == 100
    frame = view.difficulty_frame()
    assert list(frame["difficulty"]) == [1, 2, 3, 4] * 2
    assert list(frame["held out"]) == ["no", "no", "no", "yes"] * 2  # size 4: difficulty 4 is held out
    assert ((frame["accuracy"] >= 0) & (frame["accuracy"] <= 1)).all()
    # learned halting's two counts, named for what they are, and both drawn
    assert {"ponder steps by rule", "expected ponder steps (penalised)"} <= set(frame) and "mean ponder steps" not in frame
    assert len(view.difficulty_plots()[1]) == 2 * 2 * 2 + 1  # (curve, dots) x (by rule, expected) x 2 betas + shading
    assert len(view.outcome.penalty_rows) == 2 and "Done" in view.status
    compute = view.penalty_plots()[1]  # against the penalty, too: the rule's count and the priced one
    assert {"by the halting rule", "expected (penalised)"} <= {el.label for el in compute.values()}
    assert "Dashed lines: the steps expected" in view.results[0].object  # the caption tells the dashes apart
    assert len(view.results) >= 6  # per difficulty (plots, table), per penalty (plots, table), selection
    assert list(view.selection_frame()["prior"]) == list(PRIORS)
    # the story beside it is evaluated on these networks
    report = view.story.report()
    assert report["evidence"] and all(e["problem"] is None for e in report["evidence"].values())
    assert "(written for halting-parity-measured)" in view.story.view.object
    assert view.start_button.disabled is False and view.stop_button.disabled is True
    # the networks trained are the table of the page's Simulation of the neural world, at the settings trained
    sim = view.state.simulation
    assert view.state.world_name == "neural" and sim.has_table() and len(sim.table()) == 2
    assert {k: sim.params()[k] for k in ("bits", "steps", "penalties")} == {"bits": 4, "steps": 100, "penalties": "0.01, 1"}
    assert view.state.results["average_speed"].n_candidates == view.outcome.selection["average_speed"].n_candidates
    # evidence of this world speaks here only at the parameters it was written with: these differ (bits 4, not 6)
    assert view.story.here and all(not r.counts and ("bits", 6, 4) in r.differs for r in view.story.here.values())


def test_the_drive_shows_its_surviving_share_against_the_penalty(view):
    view.proposal.value = "misbehaviour"
    view.penalties.value = "0.01, 0.1"
    assert view.start()
    finish(view)
    rows = view.outcome.penalty_rows
    assert [r["beta"] for r in rows] == [0.01, 0.1]
    assert all(0 <= r["drive_accuracy"] <= 1 and r["plain_mean_steps"] >= 1 for r in rows)
    assert any("drive against the penalty" in str(getattr(p, "object", "")) for p in view.results)


def test_stop_stops_a_run_within_a_second(view):
    view.setup.steps = 100_000
    assert view.start()
    deadline = time.monotonic() + 30
    while view.trainer.done < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    asked = time.monotonic()
    view.stop_button.clicks += 1
    assert view.trainer.join(5) and time.monotonic() - asked < 1.0
    view.refresh()
    assert view.trainer.status == "stopped" and view.outcome is None and "Stopped" in view.status
    assert view.message == "" and not view.start_button.disabled


def test_a_diverging_run_shows_a_message_and_the_page_goes_on(view, monkeypatch):
    real = TaskSettings.sample

    def infinite_inputs(self, *args, **kwargs):
        b = real(self, *args, **kwargs)
        return Batch(b.x * float("inf"), b.y, b.difficulty, b.drive)

    monkeypatch.setattr(TaskSettings, "sample", infinite_inputs)
    assert view.start()
    finish(view)
    assert view.trainer.status == "diverged" and view.outcome is None
    assert "halt: the training loss became nan at step" in view.message and view.alert.visible
    assert "Diverged" in view.status
    monkeypatch.undo()
    assert view.start()  # the page is still usable
    finish(view)
    assert view.trainer.status == "done"


def test_bad_settings_and_bugs_become_escaped_messages(view, monkeypatch):
    view.penalties.value = "<img src=x onerror=alert(1)>"
    assert view.start() is None and view.trainer is None
    assert view.message.startswith("penalties: beta:") and "<img" not in view.alert.object and "&lt;img" in view.alert.object
    served = NeuralView(limits=SERVED)
    served.setup.steps = 5000  # under the parameter's bound, over the served cap
    served.start()
    assert "at most 4,000" in served.message and served.trainer is None
    view.penalties.value = "0.01"
    assert view.start()
    monkeypatch.setattr(type(view.trainer), "poll", lambda *a, **k: 1 / 0)
    view.refresh()
    assert "Updating the page failed (ZeroDivisionError" in view.message
    monkeypatch.undo()
    finish(view)
    assert view.trainer.status == "done"


def test_the_app_module_builds_a_page(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_STORY_LIBRARY", str(tmp_path))
    StoryLibrary()  # an empty library: the panel says there is no story, the page still builds
    namespace = runpy.run_path(str(APP))
    assert isinstance(namespace["view"], NeuralView) and namespace["view"].limits == SERVED


def test_a_number_over_the_served_limit_says_so_and_the_field_keeps_the_setting():
    served = NeuralView(limits=SERVED)
    served.steps.value = 40_000  # the browser's spinner once put 1500 back without a word
    assert served.message.startswith("steps: 40,000 is more than this server trains (at most 4,000)")
    assert "steps stays 1,500" in served.message and served.alert.visible
    assert served.setup.steps == served.steps.value == 1500
    served.size.value = 13
    assert served.message.startswith("bits: 13 is more than this server trains (at most 12)") and served.setup.bits == 6
    served.steps.value = 300  # within the limit: taken
    assert served.setup.steps == 300
    served.mu.value = 0.0  # outside the setting's own range: named, with the range
    assert "mu: 0 is not valid; expected a number in (0, 100]" in served.message and served.setup.mu == 1.0
    served.seed.value = None  # an emptied field
    assert served.message.startswith("seed: give a number") and served.seed.value == 0
    unlimited = NeuralView()
    unlimited.steps.value = 40_000  # no served limit: any count the setting allows
    assert unlimited.setup.steps == 40_000 and unlimited.message == ""


def test_the_link_sets_every_setting_shows_it_in_the_fields_and_reads_back():
    served = NeuralView(limits=SERVED)
    link = "?proposal=early-exit&task=pointer&bits=5&penalties=0.2&mu=3&steps=300&learning_rate=0.005&seed=7"
    assert apply_params(served.setup, LINK_PARAMS, link, served.caps) == []
    assert (served.proposal.value, served.task.value, served.size.value, served.penalties.value, served.mu.value,
            served.steps.value, served.learning_rate.value, served.seed.value) == (
        "early-exit", "pointer", 5, "0.2", 3.0, 300, 0.005, 7)  # the proposal set first kept the link's penalties
    assert served.penalties.label.startswith("alpha")
    fresh = NeuralView(limits=SERVED)
    apply_params(fresh.setup, LINK_PARAMS, params_query(served.setup, LINK_PARAMS), fresh.caps)
    assert values_of(fresh.setup) == values_of(served.setup)


def test_a_bad_or_over_limit_link_value_is_one_message_and_the_rest_applies():
    served = NeuralView(limits=SERVED)
    problems = apply_params(served.setup, LINK_PARAMS, "?steps=40000&bits=5&proposal=<script>&seed=-1", served.caps)
    assert len(problems) == 3
    assert "steps: 40,000 is more than this server allows (at most 4,000)" in problems
    assert any(p.startswith("proposal:") for p in problems) and any(p.startswith("seed:") for p in problems)
    assert (served.setup.steps, served.setup.bits, served.setup.proposal, served.setup.seed) == (1500, 5, "halt", 0)
    assert served.steps.value == 1500 and served.size.value == 5


def test_a_link_keeps_its_penalties_whichever_order_it_lists_them():
    """Setting the proposal resets its penalties; the link's own penalties still win, in any order."""
    from explorer.ui.neural_view import LINK_PARAMS
    from explorer.ui.url import apply_params
    from explorer.worlds.neural.world import NeuralWorld

    for query in ("?penalties=0.2&proposal=early-exit", "?proposal=early-exit&penalties=0.2"):
        setup = NeuralWorld()
        assert apply_params(setup, LINK_PARAMS, query) == []
        assert (setup.proposal, setup.penalties) == ("early-exit", "0.2"), query


# ---- how results and messages are drawn ----------------------------------------------------------


def test_penalties_over_decades_get_a_log_axis_with_no_penalty_drawn_at_its_left():
    import numpy as np

    from explorer.ui.neural_view import penalty_axis

    axis = penalty_axis(np.array([0.0, 0.001, 0.01, 0.1]))
    assert axis["logx"] and axis["positions"][0] == pytest.approx(1e-4)  # 0: a decade left of the smallest
    assert [label for _, label in axis["ticks"]] == ["0", "0.001", "0.01", "0.1"]
    assert 1e-4 < axis["break_at"] < 1e-3 and "0 at the left" in axis["label"]
    assert list(penalty_axis(np.array([0.001, 0.01, 0.1]))["positions"]) == [0.001, 0.01, 0.1]
    narrow = penalty_axis(np.array([0.0, 0.01, 0.02]))  # less than a decade: a linear axis holds 0 itself
    assert not narrow["logx"] and list(narrow["positions"]) == [0.0, 0.01, 0.02]


def test_a_sweep_from_no_penalty_over_decades_is_drawn_on_a_log_axis(view):
    import holoviews as hv
    from bokeh.models import LogAxis

    view.penalties.value = "0, 0.01, 1"
    assert view.start()
    finish(view)
    for plot in view.penalty_plots().values():
        fig = hv.render(plot)
        assert isinstance(fig.xaxis[0], LogAxis)
        assert fig.xaxis[0].axis_label.startswith("beta")
        labels = dict(fig.xaxis[0].major_label_overrides)
        assert sorted(labels.values()) == ["0", "0.01", "1"]
        assert fig.x_range.start < min(labels) and fig.x_range.end > max(labels)  # every tick drawn, 0's too


def test_a_message_is_a_red_alert_shown_only_while_there_is_one(view):
    assert isinstance(view.alert, pn.pane.Alert) and view.alert.alert_type == "danger"
    assert not view.alert.visible and "neural-message" not in view.alert.css_classes
    view.seed.value = -3
    assert view.alert.visible and "neural-message" in view.alert.css_classes and "seed: -3" in view.message
    view.message = ""
    assert not view.alert.visible and "neural-message" not in view.alert.css_classes
