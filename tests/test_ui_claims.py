"""The claims page: its picture, its links to each world's app, and scenario text kept as text."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import holoviews as hv
import numpy as np
import panel as pn
import pytest

from explorer.claims import ClaimCell, ClaimsMatrix
from explorer.scenarios import SCENARIOS
from explorer.ui import markup
from explorer.ui.claims_view import ClaimsView, cell_link, cells_table, claim_labels, matrix_frame, matrix_plot
from explorer.ui.url import apply_params, apply_query

HOSTILE = "<img src=x onerror=alert(1)> & <script>alert(2)</script>"


def cell(scenario, world, holds=1.0, by="construction", params=None, title=None, **extra) -> ClaimCell:
    values = {"scenario": scenario, "world": world, "title": title or SCENARIOS[scenario].title, "holds": holds,
              "runs": 4 if holds is not None else 0, "by": by, "reason": f"why {scenario} in {world}",
              "breakpoints": {}, "params": dict(params if params is not None else SCENARIOS[scenario].params),
              "stated": True, "failing": []}
    return ClaimCell(**{**values, **extra})


def matrix(*cells) -> ClaimsMatrix:
    return ClaimsMatrix(cells=list(cells), seeds=2, perturb=0.1, complete=True, elapsed_s=1.5, code_version="test")


@pytest.fixture
def sample() -> ClaimsMatrix:
    return matrix(
        cell("goof-off", "abstract", 1.0, breakpoints={"misbehaviour_cost": 0.25, "w_avg": None}),
        cell("goof-off", "enumerated", 0.0, "measurement", {"task": "parity", "max_length": 5},
             failing=["average_speed.posterior.goof_off < max_speed.posterior.goof_off"]),
        cell("parity-measured", "enumerated", 0.5, "measurement"),
        cell("halting-parity-measured", "neural", None, "measurement"))


def test_each_world_links_to_its_app_with_the_cells_settings(sample):
    goof, goof_enum, parity, halting = sample.cells
    assert cell_link(goof) == "priors?scenario=goof-off"
    assert cell_link(goof_enum) == "programs?task=parity&max_length=5"
    assert cell_link(parity) == "programs?task=parity&max_length=5&generalization_check=true"
    assert cell_link(halting) == "neural?proposal=halt&task=parity&bits=6"
    # an abstract setting the cell changes from the preset travels with it; a world without an app has no link
    assert cell_link(cell("goof-off", "abstract", params={**SCENARIOS["goof-off"].params, "w_avg": 2.0})) == \
        "priors?scenario=goof-off&w_avg=2"
    assert cell_link(cell("goof-off", "elsewhere")) == ""


def test_each_link_is_read_back_by_its_app_without_a_complaint(sample):
    """The links say what the apps' own link readers accept: same names, same value texts."""
    from explorer.ui.dashboard import PriorsDashboard
    from explorer.ui.neural_view import LINK_PARAMS
    from explorer.ui.programs_view import LINK, ProgramsView
    from explorer.worlds.neural.world import NeuralWorld

    goof, goof_enum, parity, halting = sample.cells
    page = PriorsDashboard(n_programs=2000)
    assert apply_query(page, urlsplit(cell_link(goof)).query) == [] and page.scenario == "goof-off"
    programs = ProgramsView(measure=False)
    assert apply_params(programs, LINK, urlsplit(cell_link(parity)).query) == []
    assert (programs.task, programs.max_length, programs.generalization_check) == ("parity", 5, True)
    world = NeuralWorld()
    assert apply_params(world, LINK_PARAMS, urlsplit(cell_link(halting)).query) == []
    assert (world.proposal, world.task, world.bits) == ("halt", "parity", 6)


def test_the_picture_has_a_cell_per_claim_and_world_grey_where_unchecked(sample):
    frame = matrix_frame(sample)
    assert len(frame) == 3 * 3  # three claims by three worlds
    assert list(claim_labels(sample)) == ["goof-off", "parity-measured", "halting-parity-measured"]
    by_key = {(r.claim, r.world): r for r in frame.itertuples()}
    goof = claim_labels(sample)["goof-off"]
    assert by_key[(goof, "abstract")].holds == 1.0 and by_key[(goof, "abstract")].mark == "C 100%"
    assert by_key[(goof, "enumerated")].mark == "M 0%" and by_key[(goof, "enumerated")].link.startswith("programs?")
    assert np.isnan(by_key[(goof, "neural")].holds) and by_key[(goof, "neural")].link == ""
    halting = claim_labels(sample)["halting-parity-measured"]
    assert np.isnan(by_key[(halting, "neural")].holds) and by_key[(halting, "neural")].share == "nothing ran"
    assert "misbehaviour_cost = 0.25" in by_key[(goof, "abstract")].breakpoints
    assert "w_avg: none in range" in by_key[(goof, "abstract")].breakpoints
    plot = hv.render(matrix_plot(sample))
    assert any(type(t).__name__ == "TapTool" for t in plot.tools)  # a click opens the cell's link


def test_the_view_shows_the_matrix_its_table_links_every_cell_and_is_built(sample):
    view = ClaimsView(sample)
    assert pn.panel(view).get_root() is not None
    table = cells_table(sample)
    for c in sample.cells:
        link = cell_link(c)
        assert f'href="{link.replace("&", "&amp;")}"' in table
    assert "2 seeds" in view._status().object and "code version test" in view._status().object


def test_scenario_text_is_shown_as_text_never_as_markup():
    hostile = matrix(cell("goof-off", "abstract", 0.5, title=HOSTILE, reason=HOSTILE, failing=[HOSTILE],
                          breakpoints={HOSTILE: None}))
    view = ClaimsView(hostile)
    parsed = _Tags()
    parsed.feed(markup.sanitise(cells_table(hostile)))
    assert not {"img", "script"} & parsed.tags
    assert "<img src=x onerror=alert(1)>" in parsed.text
    panes = [view._status(), view._table()]
    assert all(markup.is_safe_pane(p) for p in panes)
    assert "<img" not in view._table().object.replace("&lt;img", "")
    frame = matrix_frame(hostile)  # plain data for Bokeh, whose tooltips escape it
    assert HOSTILE in set(frame["title"]) and HOSTILE in set(frame["why"])


def test_without_a_recorded_matrix_the_page_says_how_to_make_one():
    view = ClaimsView(None, load=False)
    assert "No matrix is recorded yet" in view._status().object
    assert pn.panel(view).get_root() is not None


def test_recompute_shows_the_new_matrix_and_progress(monkeypatch, sample):
    import explorer.ui.claims_view as claims_view

    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        kwargs["progress"](1, 2)
        kwargs["progress"](2, 2)
        return matrix(*sample.cells[:2])

    monkeypatch.setattr(claims_view, "run_claims", fake_run)
    view = ClaimsView(sample)
    view.param.update(worlds=["abstract", "enumerated"], seeds=2)
    result = view.recompute(sync=True)
    assert result is view.matrix and not view.recorded and (view.done, view.total) == (2, 2)
    assert seen["worlds"] == ["abstract", "enumerated"] and seen["seeds"] == 2 and seen["workers"] == 1
    assert "Matrix recomputed on this page" in view._status().object
    view.worlds = []
    assert view.recompute(sync=True) is None and view.message.startswith("Worlds:")


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = set(), ""

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text += data

