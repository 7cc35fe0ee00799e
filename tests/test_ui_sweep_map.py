"""The sweep map and runner without a browser: plots render with the class colours, runs finish, Stop stops."""

import copy
import time

import holoviews as hv
import panel as pn
import pytest
from bokeh.core.property.vectorization import Field
from bokeh.models import GlyphRenderer, Legend, Quad

from explorer.stories.fileformat import loads
from explorer.stories.model import Predicate, Sweep
from explorer.stories.sensitivity import SweepResult, run_sweep
from explorer.ui.sweep_map import LABEL_COLORS, SweepRunner, describe, sweep_plot

STORY = """---
schema: 1
title: A story to map
revision: 1
goal_class: narrow-agent
components:
  goal_specification:
    claims:
      - {id: GS1, text: An honest solver., evidence: [E1]}
  goal_desirability: {undeveloped: true}
  rationale_constraints: {undeveloped: true}
  rationale_nudges: {undeveloped: true}
criteria:
  goal_alignment: {rating: moderate, basis: [GS1]}
  goal_competitiveness: {rating: weak, basis: [GS1]}
  rationale_alignment: {rating: weak, basis: [GS1]}
  rationale_competitiveness: {rating: weak, basis: [GS1]}
assumptions:
  - {name: overhead, parameter: deception_overhead, nominal: 3.0, range: [0.0, 4.0]}
  - {name: memory, parameter: memory, nominal: 0.0, range: [0.0, 0.9]}
  - {name: w_avg, parameter: w_avg, nominal: 1.0, range: [0.5, 2.0]}
evidence:
  - id: E1
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [overhead, memory, w_avg]
    predicate: {metric: average_speed.posterior.deceptive, op: "<", value: 0.25}
sweeps:
  - id: line
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [memory]
    points: 5
    fails_safely: [{metric: average_speed.posterior.deceptive, op: ">", value: 0.1}]
    fails_catastrophically: [{metric: average_speed.posterior.deceptive, op: ">", value: 0.3}]
  - id: map
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [overhead, memory]
    points: 4
    fails_safely: [{metric: average_speed.posterior.deceptive, op: ">", value: 0.1}]
    fails_catastrophically: [{metric: average_speed.posterior.deceptive, op: ">", value: 0.3}]
  - id: screen
    scenario: memory
    params: {n_programs: 20000}
    assumptions: [overhead, memory, w_avg]
    points: 3
    fails_safely: [{metric: average_speed.posterior.deceptive, op: ">", value: 0.1}]
    fails_catastrophically: [{metric: average_speed.posterior.deceptive, op: ">", value: 0.3}]
---
"""


@pytest.fixture(scope="module")
def story():
    return loads(STORY, "map.story.md")


@pytest.fixture(scope="module")
def results(story):
    return {s: run_sweep(story, s, workers=1) for s in ("line", "map", "screen")}


def _renderers(fig):
    return [r for r in fig.renderers if isinstance(r, GlyphRenderer)]


def _legend_labels(fig):
    """What the legend shows: fixed labels, and one entry per category of a field-labelled item."""
    out = []
    for legend in fig.select(type=Legend):
        for item in legend.items:
            if isinstance(item.label, Field):
                out += sorted(set(item.renderers[0].data_source.data[item.label.field]))
            else:
                out.append(item.label.value)
    return out


def test_two_assumptions_draw_one_cell_per_point_in_class_colours(results):
    result = results["map"]
    plot = sweep_plot(result)
    fig = hv.render(plot)
    assert fig.xaxis[0].axis_label == "overhead (deception_overhead)"
    assert fig.yaxis[0].axis_label == "memory (memory)"
    cells = plot.get(0)
    assert isinstance(cells, hv.Rectangles) and len(cells) == len(result.points) == 16
    mapped = dict(zip(cells.dimension_values("class"), zip(cells.dimension_values("x_value"),
                                                            cells.dimension_values("y_value"))))
    assert set(mapped) <= set(LABEL_COLORS)
    # the colour mapper pairs every class label with its Okabe-Ito colour
    mapper = next(r.glyph.fill_color.transform for r in _renderers(fig) if isinstance(r.glyph, Quad))
    assert {f: c.upper() for f, c in zip(mapper.factors, mapper.palette)} == {
        label: LABEL_COLORS[label].upper() for label in mapper.factors}
    labels = _legend_labels(fig)
    assert "nominal" in labels and "breakpoint" in labels
    assert set(labels) - {"nominal", "breakpoint"} == {c for c in mapped}  # every class on the map
    assert fig.title.text.startswith("Sweep map: ")
    assert pn.panel(plot).get_root() is not None


def test_one_assumption_plots_the_metric_with_thresholds_and_nominal(results):
    result = results["line"]
    plot = sweep_plot(result)
    fig = hv.render(plot)
    assert fig.xaxis[0].axis_label == "memory (memory)"
    assert fig.yaxis[0].axis_label == "average_speed.posterior.deceptive"
    points = [el for el in plot if isinstance(el, hv.Points) and el.label in LABEL_COLORS]
    assert sum(len(el) for el in points) == len(result.points) == 5
    for el in points:  # each class in its colour
        assert hv.Store.lookup_options("bokeh", el, "style").kwargs["color"] == LABEL_COLORS[el.label]
    hlines = sorted(el.data for el in plot if isinstance(el, hv.HLine))
    assert hlines == [0.1, 0.3]
    assert [el.data for el in plot if isinstance(el, hv.VLine)] == [0.0]  # memory's nominal value


def test_morris_draws_mu_star_and_sigma_per_assumption(results):
    result = results["screen"]
    plot = sweep_plot(result)
    assert isinstance(plot, hv.Bars) and len(plot) == 2 * 3
    assert set(plot.dimension_values("statistic")) == {"mu*", "sigma"}
    first = result.ranking[0]
    top = plot.select(statistic="mu*").dimension_values("effect")[0]
    assert top == pytest.approx(first["mu_star"])
    hv.render(plot)


def test_a_stopped_sweep_still_draws_what_it_has(story):
    calls = []
    partial = run_sweep(story, "map", workers=1, progress=lambda d, t: calls.append(d),
                        should_stop=lambda: len(calls) > 5)
    assert not partial.complete
    fig = hv.render(sweep_plot(partial))
    assert "stopped after 5 of 17 points" in fig.title.text
    assert "no verdict" in describe(partial).lower()


def test_runner_runs_a_sweep_to_completion(story, results):
    runner = SweepRunner(story=story)
    assert runner.param.sweep.objects == ["line", "map", "screen"] and runner.sweep == "line"
    runner.sweep = "map"
    result = runner.run()
    assert isinstance(result, SweepResult) and result.complete and runner.result is result
    assert result.to_dict() == results["map"].to_dict()
    assert runner.done == runner.total == 17 and not runner.running
    assert runner._progress.value == 17 and runner._stop_button.disabled and not runner._run_button.disabled
    assert runner.summary().startswith("Verdict: ") and "Breakpoint" in runner.summary()
    assert runner.summary() in runner._status().object
    root = runner.__panel__().get_root()
    assert root is not None


def test_stop_ends_a_background_sweep_early(story):
    runner = SweepRunner(story=story, points=40)  # 1,601 points: far longer than the test waits
    runner.sweep = "map"
    runner.run(sync=False)
    deadline = time.monotonic() + 20
    while runner.done < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.running and runner._run_button.disabled and not runner._stop_button.disabled
    runner.stop()
    assert runner.wait(20)
    result = runner.result
    assert result is not None and not result.complete and result.done < result.total == 1601
    assert runner.message.startswith("Stopped after") and not runner.running
    assert not runner._run_button.disabled and runner._stop_button.disabled
    hv.render(sweep_plot(result))


def test_a_changed_story_updates_the_sweeps_and_marks_the_result_stale(story):
    runner = SweepRunner(story=story)
    runner.sweep = "line"
    runner.run()
    assert not runner.is_stale()
    edited = copy.deepcopy(story)
    edited.assumption_by_name()["memory"].range = (0.0, 0.5)
    edited.sweeps = [s for s in edited.sweeps if s.id != "screen"]
    runner.story = edited
    assert runner.param.sweep.objects == ["line", "map"] and runner.sweep == "line"
    assert runner.is_stale() and "changed" in runner._status().object
    runner.story = copy.deepcopy(story)  # back as it was: the result is current again
    assert not runner.is_stale()
    runner.story = None
    assert runner.param.sweep.objects == [] and runner.sweep is None
    assert runner.run() is None and "no sweeps" in runner.message


def test_user_text_reaches_the_page_escaped(story):
    evil = copy.deepcopy(story)
    evil.sweeps = [Sweep("<img/src=x/onerror=alert(1)>", "memory", ["nowhere"], [],
                         [Predicate("average_speed.posterior.deceptive", ">", 0.3)])]
    runner = SweepRunner(story=evil)
    assert runner.run() is None and runner.message  # the dangling assumption is refused, with a message
    html = runner._status().object
    assert "<img" not in html and "&lt;img/src=x/onerror=alert(1)&gt;" in html


def test_a_sweep_error_shows_as_a_message(story):
    runner = SweepRunner(story=story, scheduler="nonsense")
    runner.sweep = "line"
    assert runner.run() is None and "not a scheduler address" in runner.message and not runner.running
