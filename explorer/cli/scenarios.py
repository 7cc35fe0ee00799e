"""`scenarios` (the presets, and --check to compute their claims) and `select` (what each prior picks)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

from explorer.cli.options import add_scenario_dir_option, add_scenario_options, parse_sets, use_scenario_dirs
from explorer.cli.output import fmt, print_json, progress_bar
from explorer.errors import ExplorerError


def add_parsers(sub) -> None:
    from explorer.backend import BACKEND_NAMES

    p = sub.add_parser("scenarios", help="list the presets (of every world) and the claim each demonstrates")
    p.add_argument("--check", action="store_true", help="compute every claim's checks (exit 1 if one fails)")
    p.add_argument("--backend", choices=BACKEND_NAMES, help="array back end for --check (worlds that have one)")
    add_scenario_dir_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("select", help="what each prior selects: MAP program and posterior mass per kind")
    add_scenario_options(p)
    p.set_defaults(func=cmd_select)


def cmd_scenarios(args) -> int:
    from explorer.scenarios import SCENARIOS
    from explorer.simulation import world_param_names

    use_scenario_dirs(args)
    rows = []
    failed = 0
    for s in SCENARIOS.values():
        row = {"id": s.id, "title": s.title, "world": s.world, "claim": s.claim, "explanation": s.explanation,
               "params": dict(s.params)}
        if args.check:
            overrides = {"backend": args.backend} if args.backend and "backend" in world_param_names(s.world) else {}
            outcomes = s.verify(**overrides)
            row["checks"] = [{"check": o.check.describe(), "left": o.left, "right": o.right, "passed": o.passed}
                             for o in outcomes]
            failed += sum(not o.passed for o in outcomes)
        rows.append(row)
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            world = "" if row["world"] == "abstract" else f"  ({row['world']} world)"
            print(f"{row['id']:24s} {row['title']}{world}")
            print(f"{'':24s} claim: {row['claim']}")
            for c in row.get("checks", []):
                print(f"{'':24s}   [{'ok' if c['passed'] else 'FAILED'}] {c['check']}  ({fmt(c['left'])} vs {fmt(c['right'])})")
    return 1 if failed else 0


def scenario_params(args, lookup=None) -> tuple[str | None, str, dict[str, Any]]:
    """(scenario id or None, its world, its parameters with every --set and --backend applied).

    `lookup(name, world)` gives the parameter a --set name refers to; by default the world's and the priors'
    (explorer.simulation.parameter)."""
    from explorer.scenarios import get_scenario
    from explorer.simulation import parameter

    use_scenario_dirs(args)
    scenario = get_scenario(args.scenario) if args.scenario else None
    world = scenario.world if scenario else "abstract"
    lookup = lookup or parameter
    params = dict(scenario.params) if scenario else {}
    params.update(parse_sets(args.set or [], lambda name: lookup(name, world)))
    if args.backend:
        lookup("backend", world)  # a world without a back end says so
        params["backend"] = args.backend
    return (scenario.id if scenario else None), world, params


def cmd_select(args) -> int:
    from explorer.backend import get_backend
    from explorer.priors import PRIORS
    from explorer.simulation import Simulation
    from explorer.table import KINDS

    scenario_id, world, params = scenario_params(args)
    sim = Simulation(world, **params)
    backend = getattr(sim.world, "backend", None)
    if backend is not None:
        get_backend(backend)  # a clear error before any work if the back end is not here
    if sim.world.measured and not sim.has_table():  # measuring takes seconds (a cached table does not): show it
        with ExitStack() as stack:
            bar = []

            def progress(done: int, total: int) -> None:  # the bar opens with the first report, not for a cache read
                if not bar:
                    bar.append(stack.enter_context(progress_bar(f"measuring the {world} world", "part",
                                                                disable=not sys.stderr.isatty())))
                bar[0](done, total)

            sim.table(progress)
    results = sim.select()
    report = {"scenario": scenario_id, "params": sim.params(), "priors": {p: r.to_dict() for p, r in results.items()}}
    name = program_namer(sim.world)
    if name is not None:  # a world whose programs have text: each MAP and tied program with its listing
        for r in report["priors"].values():
            for row in filter(None, (r["map"], *r["ties"])):
                row["listing"] = name(row["index"])
    if args.json:
        print_json(report)
        return 0
    n = results["combined"].n_candidates
    where = f"   backend: {backend}" if backend is not None else ""
    print(f"scenario: {scenario_id or '(defaults)'}   world: {world}   programs: {len(sim.table())}   look good: {n}{where}")
    kinds = list(results["combined"].mass) or list(KINDS)
    header = (f"{'prior':14s} {'MAP kind':10s} {'avg C':>7s} {'max C':>7s} {'bits':>6s}  "
              + " ".join(f"{k:>9s}" for k in kinds) + f" {'good':>7s} {'deploy':>7s}")
    print(header)
    for prior in PRIORS:
        r = report["priors"][prior]
        m = r["map"]
        lead = f"{prior:14s} " + (f"{m['kind']:10s} {m['avg_compute']:7.2f} {m['max_compute']:7.2f} {m['bits']:6.1f}  " if m
                                  else f"{'(none)':10s} {'':7s} {'':7s} {'':6s}  ")
        print(lead + " ".join(f"{r['mass'][k]:9.3f}" for k in kinds) + f" {r['actually_good']:7.3f} {r['deploy_perf']:7.3f}")
    for line in tie_lines(report["priors"], name is not None):
        print(line)
    if n == 0:
        hint = "lower performance_threshold or raise capacity_max" if world == "abstract" else "lower performance_threshold"
        print(f"no program looks good: {hint}")
    return 0


def program_namer(world):
    """`name(index)`: a program's text, for a world that has it (the enumerated world's listings); else None."""
    space = getattr(world, "space", None)
    if space is None:
        return None
    programs = space()
    return programs.listing


def tie_lines(priors: dict[str, dict], listed: bool) -> list[str]:
    """One line per prior whose MAP ties with other programs (and, where programs have text, per prior):
    the MAP, how many share its score, and the others listed (the first few in table order)."""
    lines = []
    for prior, r in priors.items():
        m, n = r["map"], r["n_ties"]
        if m is None or (n == 1 and not listed):
            continue

        def label(row):
            return row["listing"] if "listing" in row else f"#{row['index']} ({row['kind']})"

        if n == 1:
            lines.append(f"{prior:14s} MAP: {label(m)} (unique)")
            continue
        also = ", ".join(label(t) for t in r["ties"][1:])
        more = n - len(r["ties"])
        lines.append(f"{prior:14s} MAP: {label(m)} (1 of {n:,} tied; also: {also}{f' and {more:,} more' if more else ''})")
    if any(r["n_ties"] > 1 for r in priors.values()):
        lines.append("tied: programs with the MAP's score (within float32 rounding); which of them is the MAP is an "
                     "accident of table order")
    return lines


def known_parameter(name: str, world: str, *extra) -> Any:
    """The parameter behind `name` for `world` (its own or the priors'), else among the settings classes
    `extra` (anneal's own); an unknown name lists every known one."""
    from explorer.simulation import PRIOR_PARAMS, parameter, world_param_names

    if name in world_param_names(world) or name in PRIOR_PARAMS or not extra:
        return parameter(name, world)
    for cls in extra:
        if name in cls.param and name != "name":
            return cls.param[name]
    known = set(world_param_names(world)) | set(PRIOR_PARAMS) | {n for c in extra for n in c.param if n != "name"}
    raise ExplorerError(f"unknown parameter {name!r}; known parameters: {', '.join(sorted(known))}")
