"""Every world behind one interface: a Simulation of each builds, selects, routes names and rebuilds only when it must."""

import subprocess
import sys

import pytest

from explorer import table_cache
from explorer.errors import ExplorerError
from explorer.priors import PRIORS, PriorResult
from explorer.simulation import PRIOR_PARAMS, Simulation, parameter, split_params, world_param_names
from explorer.table import ProgramTable
from explorer.worlds import WORLDS, BuildStopped, World, get_world

#: Small settings per world, so each builds in a second or two.
SMALL = {
    "abstract": {"n_programs": 2000},
    "enumerated": {"max_length": 3, "n_test": 5},
    "neural": {"bits": 4, "steps": 60},
}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path))
    table_cache.forget()
    yield
    table_cache.forget()


def _count_builds(monkeypatch, cls):
    builds = []
    real = cls.table

    def table(self, progress=None, should_stop=None):
        builds.append(1)
        return real(self, progress, should_stop)

    monkeypatch.setattr(cls, "table", table)
    return builds


def test_the_worlds_are_named_and_an_unknown_one_lists_them():
    assert list(WORLDS) == ["abstract", "enumerated", "neural"]
    assert all(issubclass(cls, World) and isinstance(cls.measured, bool) for cls in WORLDS.values())
    assert not WORLDS["abstract"].measured and WORLDS["enumerated"].measured and WORLDS["neural"].measured
    assert get_world("enumerated") is WORLDS["enumerated"]
    with pytest.raises(ExplorerError, match="unknown world 'lattice'; worlds are: abstract, enumerated, neural"):
        get_world("lattice")
    for cls in WORLDS.values():
        assert set(cls.machine_params) <= set(cls.param) and set(cls.result_free_params) <= set(cls.param)


@pytest.mark.parametrize("world", list(WORLDS))
def test_every_world_builds_a_table_through_a_simulation_and_every_prior_selects(world):
    sim = Simulation(world, **SMALL[world])
    assert sim.world_name == world and isinstance(sim.world, WORLDS[world]) and not sim.has_table()
    seen = []
    table = sim.table(progress=lambda done, total: seen.append((done, total)))
    assert isinstance(table, ProgramTable) and len(table) > 0 and sim.has_table()
    assert seen and seen[-1][0] == seen[-1][1]  # progress ends at its total
    results = sim.select()
    assert set(results) == set(PRIORS) and all(isinstance(r, PriorResult) for r in results.values())
    assert sim.params().keys() == set(world_param_names(world)) | set(PRIOR_PARAMS)


def test_flat_names_route_to_the_world_or_the_priors_and_unknown_ones_list_that_worlds_names():
    assert split_params({"max_length": 4, "w_avg": 2.0}, "enumerated") == ({"max_length": 4}, {"w_avg": 2.0})
    assert split_params({"bits": 5, "performance_threshold": 1.0}, "neural") == ({"bits": 5}, {"performance_threshold": 1.0})
    assert parameter("max_length", "enumerated").bounds[0] == 1 and parameter("w_avg", "neural").name == "w_avg"
    with pytest.raises(ExplorerError, match=r"unknown parameter 'misbehaviour_cost' for the enumerated world; "
                                            r"known parameters: backend, compute_budget, .*max_length"):
        Simulation("enumerated", misbehaviour_cost=2.0)
    with pytest.raises(ExplorerError, match="unknown parameter 'max_length' for the abstract world"):
        Simulation(max_length=4)
    with pytest.raises(ExplorerError, match="n_test .* must be above n_train"):
        Simulation("enumerated", n_train=4, n_test=3)
    sim = Simulation("enumerated", **SMALL["enumerated"])
    with pytest.raises(ExplorerError):
        sim.update(max_length=2, n_train=9)  # out of bounds: nothing is applied
    assert sim.world.max_length == 3 and sim.world.n_train == 3


def test_the_neural_proposal_brings_its_penalties_unless_they_are_given_too():
    sim = Simulation("neural", proposal="early-exit")
    assert sim.world.penalties == "0.5"
    sim.update(penalties="0.2, 0.4", proposal="misbehaviour")  # applied in declaration order: proposal first
    assert sim.world.proposal == "misbehaviour" and sim.world.penalties == "0.2, 0.4"
    with pytest.raises(ExplorerError, match="penalties: beta"):
        sim.update(penalties="lots")


@pytest.mark.parametrize("world, change", [("abstract", {"misbehaviour_cost": 2.0}), ("enumerated", {"n_train": 2})])
def test_only_a_world_parameter_change_rebuilds(monkeypatch, world, change):
    builds = _count_builds(monkeypatch, WORLDS[world])
    sim = Simulation(world, **SMALL[world])
    sim.select()
    sim.update(w_avg=3.0, w_max=0.5)
    sim.select()
    first = sim.candidates()
    sim.update(w_simplicity=2.0)
    assert sim.candidates() is first  # a weight change does not even refilter
    sim.update(performance_threshold=0.5)
    sim.select()
    assert sim.candidates() is not first and builds == [1]
    sim.update(**SMALL[world])  # the same values again: nothing changed
    sim.select()
    assert builds == [1]
    sim.update(**change)
    sim.select()
    assert builds == [1, 1]


def test_a_measured_table_is_built_once_for_many_simulations_of_one_setting(monkeypatch):
    builds = _count_builds(monkeypatch, WORLDS["enumerated"])
    for threshold in (1.0, 0.9, 0.5):  # as `story check` does: one Simulation per claim
        Simulation("enumerated", **SMALL["enumerated"], performance_threshold=threshold).select()
    assert builds == [1]


@pytest.mark.parametrize("world", ["enumerated", "neural"])
def test_should_stop_stops_a_measured_build_and_the_simulation_keeps_its_table(world):
    sim = Simulation(world, **SMALL[world])
    kept = sim.table()
    sim.update(**({"max_length": 4} if world == "enumerated" else {"steps": 50}))
    calls = []
    with pytest.raises(BuildStopped, match="stopped"):
        sim.table(should_stop=lambda: calls.append(1) or len(calls) > 1)
    assert not sim.has_table() and sim._table[1] is kept
    assert not list(table_cache.cache_dir().glob(f"{world}-*.tmp"))


def test_a_table_built_elsewhere_can_be_adopted_for_the_current_setting():
    sim = Simulation("neural", **SMALL["neural"])
    table = sim.world.table()
    sim.adopt_table(table)
    assert sim.has_table() and sim.table() is table
    table_cache.forget()
    assert len(table_cache.load("neural", sim.world)) == len(table)  # and it went to the disk cache
    sim.update(seed=1)
    assert not sim.has_table()


def test_importing_the_worlds_and_the_simulation_imports_no_torch():
    code = ("import sys, explorer.worlds, explorer.simulation, explorer.table_cache; "
            "from explorer.worlds import NeuralWorld; NeuralWorld(bits=5).penalty_name; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_neural_worlds_choices_are_those_of_its_training_code():
    from explorer.worlds.neural import tasks, training
    from explorer.worlds.neural.world import PROPOSALS, TASKS, NeuralWorld, settings_class

    assert TASKS == tasks.TASKS
    assert NeuralWorld.param.bits.bounds == tasks.TaskSettings.param.size.bounds
    assert NeuralWorld.param.steps.bounds == training.TrainingSettings.param.train_steps.bounds
    assert NeuralWorld.param.learning_rate.bounds == training.TrainingSettings.param.learning_rate.bounds
    assert NeuralWorld.param.seed.bounds == training.TrainingSettings.param.seed.bounds
    assert all(issubclass(settings_class(p), training.TrainingSettings) for p in PROPOSALS)
