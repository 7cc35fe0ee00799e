"""The slack instruction set, measured: where goof-offs waste, and what the max and average priors make of it.

The directions the scenario slack-measured claims, computed on parity at length 5, and the figures its
claim text quotes, recomputed so that the text cannot go stale.
"""

import numpy as np
import pytest

from explorer.priors import PriorSettings, select
from explorer.scenarios import get_scenario
from explorer.table import KINDS
from explorer.worlds.enumerated.machine import IFSHORT
from explorer.worlds.enumerated.report import waste_masses
from explorer.worlds.enumerated.world import WASTE_PLACES, EnumeratedWorld

SETTINGS = dict(performance_threshold=1.0, generalization_check=True)


@pytest.fixture(scope="module")
def measured():
    out = {}
    for instructions in ("basic", "slack"):
        world = EnumeratedWorld(task="parity", max_length=5, instruction_set=instructions)
        table = world.table()
        settings = PriorSettings(**SETTINGS)
        out[instructions] = (world, table, select(table, settings), waste_masses(table, world.measure().waste_where(), settings))
    return out


def _goof_offs_by_place(world):
    m = world.measure()
    good_goof = m.looks_good & m.generalises & (m.kinds() == KINDS.index("goof_off"))
    where = m.waste_where()
    return {place: np.nonzero(good_goof & (where == i))[0] for i, place in enumerate(WASTE_PLACES)}


def test_the_default_space_is_unchanged(measured):
    world, _, picks, _ = measured["basic"]
    assert len(world.space()) == 73_247 and not (world.space().codes == IFSHORT).any()
    assert picks["average_speed"].mass["goof_off"] > picks["max_speed"].mass["goof_off"]  # as before IFSHORT


def test_programs_that_waste_in_their_slack_appear_only_with_ifshort(measured):
    assert len(_goof_offs_by_place(measured["basic"][0])["slack"]) == 0
    world = measured["slack"][0]
    slack = _goof_offs_by_place(world)["slack"]
    assert len(slack) > 0 and all("IFSHORT" in world.space().listing(r) for r in slack)
    assert "IFSHORT NOP LOOP XORX END" in {world.space().listing(r) for r in slack}


def test_max_prior_favours_slack_wasters_and_average_prior_favours_peak_wasters(measured):
    _, _, picks, masses = measured["slack"]
    assert masses["max_speed"]["slack"] > masses["average_speed"]["slack"] > 0  # the essay's mechanism
    assert masses["average_speed"]["peak"] > masses["max_speed"]["peak"]        # and its opposite
    for prior in ("max_speed", "average_speed"):
        assert sum(masses[prior].values()) == pytest.approx(picks[prior].mass["goof_off"], abs=1e-5)


def test_slack_narrows_the_gap_without_reversing_it_at_length_5(measured):
    gap = {i: measured[i][2]["average_speed"].mass["goof_off"] - measured[i][2]["max_speed"].mass["goof_off"]
           for i in ("basic", "slack")}
    assert 0 < gap["slack"] < gap["basic"]


def test_the_scenario_checks_hold_and_its_claim_quotes_the_measured_counts(measured):
    scenario = get_scenario("slack-measured")
    case = scenario.case()
    assert case.world == "enumerated" and case.by == "measurement" and case.stated and case.reason
    assert all(o.passed for o in scenario.verify())
    world = measured["slack"][0]
    places = _goof_offs_by_place(world)
    n_goof = sum(len(v) for v in places.values())
    assert f"{len(places['slack'])} of the {n_goof}" in " ".join(scenario.claim.split())
    assert f"({len(world.space()):,} of them)" in " ".join(scenario.explanation.split())
