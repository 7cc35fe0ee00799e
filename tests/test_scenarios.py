"""Scenarios are files: every shipped claim holds, computed; user folders add scenarios; mistakes are located."""

from dataclasses import replace

import pytest

from explorer import scenarios as scenarios_mod
from explorer.checks import Predicate
from explorer.errors import ExplorerError
from explorer.scenarios import (
    ENV_VAR, SCENARIOS, SHIPPED_DIR, add_scenario_dirs, get_scenario, load_scenario, preset_params, scenarios_of,
)
from explorer.simulation import Simulation

ABSTRACT = ["goof-off", "deceptive-planner", "lookup-table", "memory", "deception-checks", "fastest-is-deceptive",
            "simple-deception", "costly-deployment-check"]

USER = """\
id: {id}
title: Goof-offs pay for their waste
world: abstract
params: {{kind_mix: {{honest: 0.5, goof_off: 0.5}}, misbehaviour_cost: 4.0}}
explanation: >
  A user's own preset, kept outside the package: goof-offs waste four units of compute on easy tasks.
claim: The average-case prior leaves less goof-off mass than the max prior.
checks:
  - {{metric: average_speed.posterior.goof_off, op: "<", other: max_speed.posterior.goof_off}}
"""


@pytest.fixture(autouse=True)
def no_user_folders(monkeypatch):
    """Each test starts with the shipped scenarios only (user folders are process-wide state)."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(scenarios_mod, "_user_dirs", [])


@pytest.mark.parametrize("scenario_id", sorted(scenarios_of("abstract")))
def test_claim_holds(scenario_id):
    outcomes = SCENARIOS[scenario_id].verify()
    assert outcomes, "a scenario without checks demonstrates nothing"
    failed = [o.check.describe() + f" ({o.left} vs {o.right})" for o in outcomes if not o.passed]
    assert not failed


@pytest.mark.parametrize("scenario_id", ["goof-off", "lookup-table", "fastest-is-deceptive"])
def test_claim_holds_on_other_backends_and_seeds(scenario_id, backend):
    for seed in (1, 2):
        assert all(o.passed for o in SCENARIOS[scenario_id].verify(backend=backend, seed=seed))


@pytest.mark.parametrize("scenario_id, world", [("parity-measured", "enumerated"), ("halting-parity-measured", "neural")])
def test_a_measured_world_claim_holds(scenario_id, world):
    s = get_scenario(scenario_id)
    assert s.world == world and scenarios_of(world)[scenario_id] == s
    failed = [o.check.describe() + f" ({o.left} vs {o.right})" for o in s.verify() if not o.passed]
    assert not failed
    sim = s.simulation()
    assert sim.world_name == world and sim.params()["task"] == "parity"
    assert set(sim.select()) == {"simplicity", "max_speed", "average_speed", "combined", "levin"}


def test_measured_parity_shows_no_goof_off_gap_between_max_and_average():
    """What the enumerated scenario reports against the essay: measured waste shows in the max too."""
    m = get_scenario("parity-measured").runner().metrics()
    gap = m["average_speed.posterior.goof_off"] - m["max_speed.posterior.goof_off"]
    assert abs(gap) < 0.05
    abstract = get_scenario("goof-off").runner().metrics()
    assert abstract["max_speed.posterior.goof_off"] - abstract["average_speed.posterior.goof_off"] > 0.3


def test_story_evidence_from_the_enumerated_world():
    """The speed-prior story cites parity-measured: the held-out check matters there, RN2's gap does not appear."""
    from explorer.stories import evidence, fileformat

    story = fileformat.load(SHIPPED_DIR.parent / "stories" / "speed-prior.story.md")
    measured = [e for e in story.evidence if e.scenario == "parity-measured"]
    assert {e.id for e in measured} == {"measured-memoriser-without-check", "measured-honest-with-check",
                                        "measured-average-sees-goof-off"}
    results = {e.id: evidence.run(story, e) for e in measured}
    assert results["measured-memoriser-without-check"].holds and results["measured-honest-with-check"].holds
    assert not results["measured-average-sees-goof-off"].holds
    statuses = evidence.claim_statuses(story, results)
    assert statuses["RN7"] == "refuted"


def test_a_check_can_fail():
    """The checks are real comparisons: the goof-off claim reversed must fail."""
    reversed_check = Predicate("average_speed.posterior.goof_off", ">", other="max_speed.posterior.goof_off")
    scenario = get_scenario("goof-off")
    assert not replace(scenario, checks=(reversed_check,)).verify()[0].passed


def test_each_side_runs_with_its_own_overrides():
    """`params` change the left side only, `other_params` the right: raising the waste lowers the mass."""
    s = get_scenario("goof-off")
    more = Predicate("average_speed.posterior.goof_off", "<", other="average_speed.posterior.goof_off",
                     params={"misbehaviour_cost": 6.0})
    same = Predicate("average_speed.posterior.goof_off", "<", other="average_speed.posterior.goof_off",
                     params={"misbehaviour_cost": 6.0}, other_params={"misbehaviour_cost": 6.0})
    first, second = replace(s, checks=(more, same)).verify()
    assert first.passed and first.left < first.right
    assert not second.passed and second.left == second.right


def test_the_shipped_presets_are_files_with_the_required_ids_and_text():
    assert set(ABSTRACT) <= set(scenarios_of("abstract"))
    for s in SCENARIOS.values():
        assert s.path == SHIPPED_DIR / f"{s.id}.scenario.yaml" and s.path.is_file()
        assert s.title and s.claim and len(s.explanation) > 80 and s.checks
        Simulation(world=s.world, **s.params)  # every preset's parameters are valid in its world


def test_every_world_has_a_scenario():
    assert {s.world for s in SCENARIOS.values()} == {"abstract", "enumerated", "neural"}
    assert all(s.world == "abstract" for s in scenarios_of("abstract").values())


def test_unknown_scenario_lists_the_known_ones():
    with pytest.raises(ExplorerError, match="unknown scenario 'nope'.*goof-off"):
        get_scenario("nope")


def test_preset_params_load_the_preset_completely_but_keep_the_machine_settings():
    params = preset_params("goof-off")
    assert params["misbehaviour_cost"] == 3.0 and params["w_avg"] == 1.0 and "n_programs" not in params
    assert params["kind_mix"] == {"honest": 0.5, "goof_off": 0.5}
    params["kind_mix"]["honest"] = 0.1  # a copy: the scenario itself is untouched
    assert get_scenario("goof-off").params["kind_mix"]["honest"] == 0.5


def test_a_user_folder_adds_scenarios_through_add_scenario_dirs(tmp_path):
    (tmp_path / "my-goof-off.scenario.yaml").write_text(USER.format(id="my-goof-off"))
    assert "my-goof-off" not in SCENARIOS
    add_scenario_dirs(str(tmp_path))  # one folder, or a list of them
    add_scenario_dirs([tmp_path])  # added once only
    assert scenarios_mod._user_dirs == [tmp_path]
    s = SCENARIOS["my-goof-off"]
    assert s.path == tmp_path / "my-goof-off.scenario.yaml" and s.world == "abstract"
    assert all(o.passed for o in s.verify(n_programs=20_000))
    assert "my-goof-off" in scenarios_of("abstract") and "goof-off" in SCENARIOS


def test_a_user_folder_adds_scenarios_through_the_environment(tmp_path, monkeypatch):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "first.scenario.yaml").write_text(USER.format(id="first"))
    (tmp_path / "two" / "second.scenario.yaml").write_text(USER.format(id="second"))
    monkeypatch.setenv(ENV_VAR, f"{tmp_path / 'one'}{__import__('os').pathsep}{tmp_path / 'two'}")
    assert {"first", "second"} <= set(SCENARIOS)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "two"))
    assert "first" not in SCENARIOS and "second" in SCENARIOS  # the folders changed: reloaded


def test_a_missing_folder_is_named(tmp_path, monkeypatch):
    with pytest.raises(ExplorerError, match="--scenario-dir: .*nowhere is not a folder"):
        add_scenario_dirs([tmp_path / "nowhere"])
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(ExplorerError, match=f"{ENV_VAR}: .*nowhere is not a folder"):
        get_scenario("goof-off")


def test_a_user_scenario_with_a_shipped_id_names_both_files(tmp_path):
    (tmp_path / "goof-off.scenario.yaml").write_text(USER.format(id="goof-off"))
    add_scenario_dirs([tmp_path])
    with pytest.raises(ExplorerError) as info:
        get_scenario("goof-off")
    message = str(info.value)
    assert "'goof-off' is defined twice" in message
    assert str(SHIPPED_DIR / "goof-off.scenario.yaml") in message and str(tmp_path / "goof-off.scenario.yaml") in message


def test_two_user_files_with_one_id_name_both_files(tmp_path, monkeypatch):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mine.scenario.yaml").write_text(USER.format(id="mine"))
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "a"))
    add_scenario_dirs([tmp_path / "b"])
    with pytest.raises(ExplorerError, match=r"'mine' is defined twice: in .*a/mine.scenario.yaml and in .*b/mine.scenario.yaml"):
        list(SCENARIOS)


BAD = {
    "unknown key": (USER.format(id="bad").replace("claim:", "claims:"), 7, ["unknown key 'claims'"]),
    "missing checks": (USER.format(id="bad").split("checks:")[0], 1, ["missing 'checks'"]),
    "unknown world": (USER.format(id="bad").replace("world: abstract", "world: platonic"), 3,
                      ["unknown world 'platonic'", "abstract, enumerated, neural"]),
    "unknown parameter": (USER.format(id="bad").replace("misbehaviour_cost: 4.0", "misbehavior_cost: 4.0"), 4,
                          ["unknown parameter 'misbehavior_cost'"]),
    "parameter of another world": (USER.format(id="bad").replace("misbehaviour_cost: 4.0", "max_length: 4"), 4,
                                   ["unknown parameter 'max_length' for the abstract world"]),
    "out of range": (USER.format(id="bad").replace("misbehaviour_cost: 4.0", "misbehaviour_cost: 40.0"), 4,
                     ["misbehaviour_cost"]),
    "unknown metric": (USER.format(id="bad").replace("other: max_speed.posterior.goof_off", "other: max_speed.sneaky"),
                       9, ["unknown metric 'max_speed.sneaky'"]),
    "metric of a kind not in the mix": (USER.format(id="bad").replace("average_speed.posterior.goof_off",
                                                                      "average_speed.posterior.lookup"),
                                        9, ["no lookup programs"]),
    "unknown operator": (USER.format(id="bad").replace('op: "<"', 'op: "=<"'), 9, ["unknown operator '=<'"]),
    "wrong type": (USER.format(id="bad").replace("title: Goof-offs pay for their waste", "title: [a, b]"), 2,
                   ["'title' must be non-empty text"]),
    "tag": (USER.format(id="bad").replace("world: abstract", "world: !!python/name:os.system abstract"), 3,
            ["YAML tag !!python/name:os.system is not allowed"]),
    "id not the file name": (USER.format(id="other"), 1, ["the file is named bad.scenario.yaml"]),
}


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.replace(" ", "-"))
def test_a_bad_scenario_file_names_file_line_and_problem(tmp_path, case):
    text, line, fragments = BAD[case]
    path = tmp_path / "bad.scenario.yaml"
    path.write_text(text)
    with pytest.raises(ExplorerError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_a_bad_user_file_stops_the_listing_with_its_location(tmp_path):
    (tmp_path / "bad.scenario.yaml").write_text(BAD["unknown metric"][0])
    add_scenario_dirs([tmp_path])
    with pytest.raises(ExplorerError, match=r"bad.scenario.yaml:9: .*max_speed.sneaky"):
        get_scenario("goof-off")


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
