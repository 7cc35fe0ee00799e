"""Every scenario's claim holds, computed; and the simulation recomputes only what changed."""

import pytest

from explorer.errors import ExplorerError
from explorer.scenarios import SCENARIOS, Case, Check, get_scenario
from explorer.simulation import Simulation


@pytest.mark.parametrize("scenario_id", list(SCENARIOS))
def test_claim_holds(scenario_id):
    outcomes = SCENARIOS[scenario_id].verify()
    assert outcomes, "a scenario without checks demonstrates nothing"
    failed = [o.check.describe() + f" ({o.left} vs {o.right})" for o in outcomes if not o.passed]
    assert not failed


@pytest.mark.parametrize("scenario_id", ["goof-off", "lookup-table", "fastest-is-deceptive"])
def test_claim_holds_on_other_backends_and_seeds(scenario_id, backend):
    for seed in (1, 2):
        assert all(o.passed for o in SCENARIOS[scenario_id].verify(backend=backend, seed=seed))


def test_a_check_can_fail():
    """The checks are real comparisons: the goof-off claim reversed must fail."""
    reversed_check = Check("posterior.goof_off", Case("average_speed"), ">", Case("max_speed"))
    scenario = get_scenario("goof-off")
    from dataclasses import replace

    assert not replace(scenario, checks=(reversed_check,)).verify()[0].passed


def test_scenarios_have_the_required_ids_and_text():
    required = {"goof-off", "deceptive-planner", "lookup-table", "memory", "deception-checks",
                "fastest-is-deceptive", "simple-deception", "costly-deployment-check"}
    assert required <= set(SCENARIOS)
    for s in SCENARIOS.values():
        assert s.title and s.claim and len(s.explanation) > 80
        Simulation(**s.params)  # every preset's parameters are valid


def test_unknown_scenario_lists_the_known_ones():
    with pytest.raises(ExplorerError, match="unknown scenario 'nope'.*goof-off"):
        get_scenario("nope")


def test_simulation_reuses_the_table_when_only_weights_change():
    sim = Simulation(n_programs=5000)
    table, cands = sim.table(), sim.candidates()
    sim.update(w_avg=3.0)
    assert sim.table() is table and sim.candidates() is cands
    sim.update(performance_threshold=0.8)
    assert sim.table() is table and sim.candidates() is not cands
    sim.update(misbehaviour_cost=2.0)
    assert sim.table() is not table


def test_a_bad_update_changes_nothing():
    sim = Simulation(n_programs=5000, w_avg=2.0)
    with pytest.raises(ExplorerError, match="memory"):
        sim.update(w_avg=3.0, memory=7)
    assert sim.priors.w_avg == 2.0 and sim.world.memory == 0.0
    with pytest.raises(ExplorerError, match="difficulty_min"):
        sim.update(difficulty_min=50.0)
    assert sim.world.difficulty_min == 1.0
