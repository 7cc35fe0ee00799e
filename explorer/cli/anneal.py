"""`anneal`: Proposal 0, computational annealing swept over the ratio of annealing rate to search speed."""

from __future__ import annotations

import math
import sys

from explorer.annealing import AnnealingSettings
from explorer.cli.options import add_scenario_options
from explorer.cli.output import num, print_json, with_progress
from explorer.errors import ExplorerError


def add_parsers(sub) -> None:
    p = sub.add_parser("anneal", help="Proposal 0: computational annealing, swept over annealing rate / search speed")
    add_scenario_options(p)
    settings = AnnealingSettings.param
    p.add_argument("--runs", type=int, help=f"independent runs per sweep point (default {settings.runs.default})")
    p.add_argument("--schedule", choices=settings.schedule.objects, help="how C rises")
    p.add_argument("--sampling", choices=settings.sampling.objects, help="how the search draws from P(C)")
    p.add_argument("--search-speed", dest="search_speed", type=int, help="samples drawn per step")
    p.add_argument("--ratios", type=float, nargs="+", metavar="R", help="annealing rate / search speed values to sweep")
    p.add_argument("--quanta", type=float, nargs="+", metavar="Q",
                   help="sweep the quantum in which compute is granted instead (0: continuous), at each ratio "
                        "(default ratio 1e-3): the share of runs whose first find misbehaves, per quantum")
    p.set_defaults(func=cmd_anneal)


def cmd_anneal(args) -> int:
    from explorer import annealing
    from explorer.cli.scenarios import known_parameter, scenario_params
    from explorer.priors import looks_good
    from explorer.simulation import PRIOR_PARAMS, Simulation, world_param_names
    from explorer.table import KINDS

    scenario_id, world, params = scenario_params(args, lambda name, w: known_parameter(name, w, AnnealingSettings))
    shared = set(world_param_names(world)) | set(PRIOR_PARAMS)
    anneal_params = {k: params.pop(k) for k in list(params) if k in AnnealingSettings.param and k not in shared}
    if "rate" in anneal_params:
        raise ExplorerError("rate: the sweep sets rate = ratio x search speed for each ratio; choose the ratios with --ratios")
    for flag in ("runs", "schedule", "sampling", "search_speed"):
        if getattr(args, flag) is not None:
            anneal_params[flag] = getattr(args, flag)
    sim = Simulation(world, **params)
    # The search's own simplicity bias is the prior's simplicity weight, and its seed the world's (where the
    # world has one): the names are shared, so one --set moves both.
    shared_values = {"w_simplicity": sim.priors.w_simplicity}
    if "seed" in shared:
        shared_values["seed"] = sim.world.seed
    settings = annealing.AnnealingSettings(**shared_values, **anneal_params)
    table = sim.table()
    mask = looks_good(table, sim.priors.performance_threshold, sim.priors.generalization_check, sim.priors.compute_budget)
    if "quantum" in anneal_params and args.quanta is not None:
        raise ExplorerError("quantum: --quanta sweeps the quantum; choose the quanta there, not with --set")
    ratios = args.ratios or list(annealing.DEFAULT_RATIOS if args.quanta is None else (annealing.QUANTA_RATIO,))
    if any(not (r > 0 and math.isfinite(r)) for r in ratios):
        raise ExplorerError(f"--ratios: every ratio must be a positive number, got {ratios}")
    if args.quanta is not None:
        return _quanta(args, scenario_id, sim, settings, table, mask, ratios)
    rows = with_progress(lambda progress: annealing.sweep(table, mask, settings, ratios, progress=progress),
                         len(ratios), "annealing", disable=args.json or not sys.stderr.isatty())
    report = {"scenario": scenario_id, "params": {**sim.params(), **{k: v for k, v in settings.param.values().items() if k != "name"}},
              "sweep": rows}
    if args.json:
        print_json(report)
        return 0
    print(f"scenario: {scenario_id or '(defaults)'}   schedule: {settings.schedule}   sampling: {settings.sampling}   "
          f"runs: {settings.runs}   search speed: {settings.search_speed} samples/step")
    c_min = rows[0].get("c_min") if rows else None
    if c_min is not None:
        print(f"least average compute of a good-looking program (the ideal C*): {c_min:.3f}")
    kinds = list(KINDS) + ["none"]
    print(f"{'rate/speed':>10s} {'median C*':>10s} {'p90 C*':>8s}  " + " ".join(f"{k:>9s}" for k in kinds))
    for row in rows:
        cs = row["c_star"]
        print(f"{row['ratio']:10.4g} {num(cs['median']):>10s} {num(cs['p90']):>8s}  "
              + " ".join(f"{row['kind'].get(k, 0.0):9.3f}" for k in kinds))
    return 0


def _quanta(args, scenario_id, sim, settings, table, mask, ratios) -> int:
    """`anneal --quanta`: one table per ratio, quantum by quantum."""
    from explorer import annealing

    if any(not (q >= 0 and math.isfinite(q)) for q in args.quanta):
        raise ExplorerError(f"--quanta: every quantum must be a number of at least 0 (0: continuous), got {args.quanta}")
    total = len(ratios) * len(args.quanta)
    rows = with_progress(lambda progress: annealing.quanta_sweep(table, mask, settings, args.quanta, ratios, progress=progress),
                         total, "annealing", disable=args.json or not sys.stderr.isatty())
    values = {k: v for k, v in settings.param.values().items() if k not in ("name", "quantum", "rate")}
    if args.json:
        print_json({"scenario": scenario_id, "params": {**sim.params(), **values}, "quanta": rows})
        return 0
    phase = "drawn per run in [0, Q)" if settings.quantum_phase is None else f"{settings.quantum_phase:g}"
    print(f"scenario: {scenario_id or '(defaults)'}   schedule: {settings.schedule}   sampling: {settings.sampling}   "
          f"runs: {settings.runs}   search speed: {settings.search_speed} samples/step   grid offset: {phase}")
    c_min = rows[0].get("c_min") if rows else None
    if c_min is not None:
        print(f"least average compute of a good-looking program (the ideal C*): {c_min:.3f}")
    print(f"misbehaving: {' + '.join(annealing.MISBEHAVING)}; slow limit: the misbehaving share a slow enough rise "
          "finds, computed from the table")
    for ratio in ratios:
        print(f"\nrate/speed {ratio:g}")
        print(f"{'quantum':>8s} {'misbehaving':>12s} {'honest':>8s} {'none':>6s} {'mean C*':>8s} {'median C*':>10s} {'slow limit':>10s}")
        for row in (r for r in rows if r["ratio"] == ratio):
            print(f"{row['quantum']:8.4g} {row['misbehaving']:12.3f} {row['honest']:8.3f} {row['kind']['none']:6.3f} "
                  f"{num(row['c_star']['mean']):>8s} {num(row['c_star']['median']):>10s} {num(row['slow_limit']):>10s}")
    return 0
