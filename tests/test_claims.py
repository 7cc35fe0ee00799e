"""The claims matrix: its JSON shape, shares that agree with running the checks directly, breakpoints
where the verdict really flips, partial results on stop, and the CLI's messages."""

import json

import pytest

from explorer import claims
from explorer.claims import ClaimsMatrix, check_run, find_breakpoint, plan_runs, run_claims
from explorer.cli import main
from explorer.scenarios import SCENARIOS, shipped_scenario_ids

SMALL = {"n_programs": 5000}
CELL_KEYS = {"scenario", "world", "holds", "runs", "by", "breakpoints", "title", "reason", "params", "failing"}


def direct_share(sid: str, seeds: int) -> float:
    """Every check of the scenario's own world case, seed by seed, through the scenario's own runner."""
    case = SCENARIOS[sid].case()
    held = [all(o.passed for o in case.runner(sid, seed=i, **SMALL).verify(case.checks)) for i in range(seeds)]
    return sum(held) / len(held)


def test_the_json_has_the_documented_shape_and_reads_back():
    m = run_claims(worlds=["abstract"], scenarios=["goof-off", "fastest-is-deceptive"], seeds=2, perturb=0.1,
                   workers=1, settings=SMALL)
    d = json.loads(json.dumps(m.to_dict()))
    assert {"claims", "seeds", "perturb", "complete", "elapsed_s", "code_version"} <= set(d)
    assert d["seeds"] == 2 and d["perturb"] == 0.1 and d["complete"] is True
    assert [(c["scenario"], c["world"]) for c in d["claims"]] == [("fastest-is-deceptive", "abstract"), ("goof-off", "abstract")]
    for c in d["claims"]:
        assert CELL_KEYS <= set(c)
        assert c["by"] in ("construction", "measurement") and c["reason"]
        assert 0.0 <= c["holds"] <= 1.0 and c["runs"] == 2 * (1 + claims.PERTURBED_PER_SEED)
    assert set(d["claims"][0]["breakpoints"]) == {"deceptive_efficiency"}
    assert ClaimsMatrix.from_dict(d).to_dict()["claims"] == d["claims"]


@pytest.mark.parametrize("sid", [s for s in shipped_scenario_ids() if SCENARIOS[s].world == "abstract"])
def test_each_abstract_share_equals_the_checks_run_directly_over_the_same_seeds(sid):
    m = run_claims(worlds=["abstract"], scenarios=[sid], seeds=2, perturb=0.0, workers=1, breakpoints=False,
                   settings=SMALL)
    (cell,) = m.cells
    assert cell.runs == 2 and cell.holds == direct_share(sid, 2)


def test_perturbed_runs_stay_in_range_scale_the_overrides_and_agree_with_a_runner():
    case = SCENARIOS["goof-off"].case()
    runs = plan_runs("goof-off", case, seeds=3, perturb=0.2)
    assert [r.params["seed"] for r in runs] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [r.perturbed for r in runs[:3]] == [False, True, True] and runs[0].params == {**case.params, "seed": 0}
    costs = {r.params["misbehaviour_cost"] for r in runs}
    assert len(costs) > 2 and all(3.0 * 0.8 <= c <= 3.0 * 1.2 for c in costs)
    for r in runs:  # "twice the waste" stays twice this run's waste
        assert r.checks[1].params["misbehaviour_cost"] == pytest.approx(2 * r.params["misbehaviour_cost"])
    m = run_claims(worlds=["abstract"], scenarios=["goof-off"], seeds=3, perturb=0.2, workers=1, breakpoints=False,
                   settings=SMALL)
    direct = [all(o.passed for o in case.runner("goof-off", **{**r.params, **SMALL}).verify(r.checks)) for r in runs]
    assert m.cells[0].runs == len(runs) and m.cells[0].holds == sum(direct) / len(direct)


def test_a_deterministic_world_runs_each_parameter_set_once_and_says_so():
    case = SCENARIOS["parity-measured"].case()
    runs = plan_runs("parity-measured", case, seeds=4, perturb=0.0)
    assert len(runs) == 1 and "seed" not in runs[0].params
    m = run_claims(worlds=["enumerated"], scenarios=["goof-off"], seeds=2, perturb=0.0, workers=1, breakpoints=False)
    (cell,) = m.cells
    assert cell.runs == 1 and any("deterministic" in n for n in cell.notes)


def test_goof_off_fails_in_the_enumerated_world_by_measurement():
    """The essay's max-versus-average argument does not show on the measured machine: the matrix says so."""
    m = run_claims(worlds=["enumerated"], scenarios=["goof-off"], seeds=1, perturb=0.0, workers=1, breakpoints=False)
    (cell,) = m.cells
    assert cell.by == "measurement" and cell.holds == 0.0
    assert "average_speed.posterior.goof_off < max_speed.posterior.goof_off" in cell.failing


def test_every_by_construction_cell_names_its_reason():
    for sid in shipped_scenario_ids():
        for world, case in SCENARIOS[sid].cases.items():
            assert case.stated and case.reason.strip(), (sid, world)
            if case.by == "construction":
                assert len(case.reason.split()) >= 8, (sid, world)


def test_a_breakpoint_is_where_the_verdict_flips():
    """fastest-is-deceptive holds at an efficiency of 2.5 and fails once deception is barely more efficient."""
    case = SCENARIOS["fastest-is-deceptive"].case()
    bp = find_breakpoint(case, "deceptive_efficiency", {"seed": 0}, SMALL)
    assert bp is not None and 1.0 < bp < 2.0

    def verdict(v):
        params, checks = claims.moved(case, {"deceptive_efficiency": v})
        return all(check_run("abstract", {**params, "seed": 0}, checks, SMALL))

    assert verdict(2.5) and not verdict(bp)
    assert verdict(2.5 - (2.5 - bp) * 0.5)  # between the breakpoint and the preset it still holds
    assert find_breakpoint(SCENARIOS["deception-checks"].case(), "deception_overhead", {"seed": 0}, SMALL) is None


def test_stop_gives_a_partial_matrix():
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 2

    m = run_claims(worlds=["abstract"], scenarios=["goof-off", "memory"], seeds=3, workers=1, settings=SMALL,
                   should_stop=stop)
    assert m.complete is False
    assert any(not c.complete for c in m.cells) and sum(c.runs for c in m.cells) < 2 * 9


def test_local_processes_give_the_same_matrix():
    kw = dict(worlds=["abstract"], scenarios=["goof-off"], seeds=2, perturb=0.1, settings=SMALL)
    here, pool = run_claims(workers=1, **kw), run_claims(workers=2, **kw)
    results = lambda m: [{k: v for k, v in c.to_dict().items() if k != "task_s"} for c in m.cells]  # noqa: E731
    assert results(pool) == results(here)


def test_cli_json(capsys):
    rc = main(["claims", "--scenario", "goof-off", "--world", "abstract", "--seeds", "1", "--perturb", "0",
               "--workers", "1", "--no-breakpoints", "--no-progress", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    (cell,) = d["claims"]
    assert cell["scenario"] == "goof-off" and cell["world"] == "abstract" and cell["runs"] == 1
    assert cell["by"] == "construction" and cell["holds"] == 1.0 and cell["breakpoints"] == {}


def test_cli_prints_a_recorded_matrix_without_running(tmp_path, capsys):
    m = run_claims(worlds=["abstract"], scenarios=["memory"], seeds=1, perturb=0.0, workers=1, breakpoints=False,
                   settings=SMALL)
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps(m.to_dict()))
    assert main(["claims", "--recorded", str(path)]) == 0
    out = capsys.readouterr().out
    assert "memory" in out and "construction" in out and SCENARIOS["memory"].case().reason.split()[0] in out
    assert main(["claims", "--recorded", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.startswith("error: --recorded:")


@pytest.mark.parametrize("args, option", [(["--perturb", "1.5"], "--perturb"), (["--perturb", "x"], "--perturb"),
                                          (["--seeds", "0"], "--seeds"), (["--seeds", "two"], "--seeds"),
                                          (["--workers", "0"], "--workers"), (["--world", "moon"], "--world"),
                                          (["--scenario", "nope"], "--scenario")])
def test_cli_bad_values_name_the_option(capsys, args, option):
    assert main(["claims", "--no-progress", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {option}:")


def test_a_dask_cluster_gives_the_same_matrix():
    distributed = pytest.importorskip("distributed")
    kw = dict(worlds=["abstract"], scenarios=["memory"], seeds=1, perturb=0.1, settings=SMALL)
    results = lambda m: [{k: v for k, v in c.to_dict().items() if k != "task_s"} for c in m.cells]  # noqa: E731
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        remote = run_claims(scheduler=cluster.scheduler_address, **kw)
    assert remote.complete and results(remote) == results(run_claims(workers=1, **kw))


def test_a_user_scenario_without_worlds_reads_as_measured_and_unstated(tmp_path, monkeypatch, capsys):
    import explorer.scenarios as scenarios_mod

    monkeypatch.setattr(scenarios_mod, "_user_dirs", [])
    (tmp_path / "mine.scenario.yaml").write_text(
        "id: mine\ntitle: Mine\nparams: {kind_mix: {honest: 0.5, goof_off: 0.5}, misbehaviour_cost: 2.0}\n"
        "explanation: x\nclaim: y\nchecks:\n  - {metric: average_speed.posterior.goof_off, op: '<', "
        "other: max_speed.posterior.goof_off}\n")
    assert main(["claims", "--scenario-dir", str(tmp_path), "--scenario", "mine", "--seeds", "1", "--perturb", "0",
                 "--workers", "1", "--no-breakpoints", "--no-progress", "--json"]) == 0
    (cell,) = json.loads(capsys.readouterr().out)["claims"]
    assert (cell["scenario"], cell["by"], cell["stated"], cell["holds"]) == ("mine", "measurement", False, 1.0)
    assert "does not say" in cell["reason"]
