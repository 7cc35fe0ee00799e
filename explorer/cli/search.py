"""`search local`: local search (mutation, acceptance by the prior) on the enumerated world, next to the posterior.

    search local --task parity --max-length 5 [--prior P ...] [--chains N] [--steps N] [--acceptance metropolis|greedy]
                 [--temperature T] [--fit F] [--start random|short] [--seed S] [--json]

For each prior: where the chains ended (kinds among the chains that ended at a good-looking program, the
share at the MAP, the programs they ended at) against the posterior's mass per kind, MAP and programs.
"""

from __future__ import annotations

import sys

from explorer.cli.output import print_json, progress_bar


def add_parsers(sub) -> None:
    from explorer.priors import PRIORS
    from explorer.worlds.enumerated.local_search import LocalSearchSettings
    from explorer.worlds.enumerated.world import EnumeratedWorld

    search = sub.add_parser("search", help="local search on the enumerated world, against the posterior (path dependence)")
    cmds = search.add_subparsers(dest="search_command", required=True, parser_class=type(search))
    p = cmds.add_parser("local", help="chains of mutations accepted by the prior; where they end against the posterior")
    world, ls = EnumeratedWorld.param, LocalSearchSettings.param
    p.add_argument("--task", default=world.task.default, choices=world.task.objects,
                   help=f"what a program must compute (default {world.task.default})")
    p.add_argument("--max-length", dest="max_length", type=int, default=5, help="longest program (default 5)")
    p.add_argument("--n-train", dest="n_train", type=int, default=world.n_train.default,
                   help=f"training inputs have 1..N bits (default {world.n_train.default})")
    p.add_argument("--n-test", dest="n_test", type=int, default=world.n_test.default,
                   help=f"held-out inputs have up to N bits (default {world.n_test.default})")
    p.add_argument("--instructions", dest="instruction_set", default=world.instruction_set.default,
                   choices=world.instruction_set.objects, help=f"instruction set (default {world.instruction_set.default})")
    p.add_argument("--threshold", type=float, default=1.0,
                   help="share of training (and held-out) inputs a good-looking program answers right (default 1.0)")
    p.add_argument("--no-generalization-check", dest="generalization_check", action="store_false",
                   help="a program looks good on training inputs alone (lets memorisers through)")
    p.add_argument("--prior", nargs="+", choices=PRIORS, default=list(PRIORS), metavar="PRIOR",
                   help=f"the priors to search under (default all: {', '.join(PRIORS)})")
    p.add_argument("--chains", type=int, default=ls.chains.default, help=f"chains (default {ls.chains.default})")
    p.add_argument("--steps", type=int, default=ls.steps.default, help=f"moves per chain (default {ls.steps.default})")
    p.add_argument("--acceptance", default=ls.acceptance.default, choices=ls.acceptance.objects,
                   help="metropolis (the prior's ratio at a temperature) or greedy (never a worse program)")
    p.add_argument("--temperature", type=float, default=ls.temperature.default,
                   help=f"Metropolis temperature (default {ls.temperature.default:g}: samples the target)")
    p.add_argument("--fit", type=float, default=ls.fit.default,
                   help=f"nats lost per unit of training loss, 0 on good-looking programs (default {ls.fit.default:g})")
    p.add_argument("--start", default=ls.start.default, choices=ls.start.objects,
                   help="random: any program; short: a one-instruction program")
    p.add_argument("--seed", type=int, default=ls.seed.default, help=f"seed of the chains (default {ls.seed.default})")
    p.add_argument("--top", type=int, default=3, help="programs listed per side (default 3)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_local)


def cmd_local(args) -> int:
    from explorer.errors import ExplorerError
    from explorer.simulation import Simulation
    from explorer.worlds.enumerated.local_search import LocalSearchSettings, local_search

    if args.top < 1:
        raise ExplorerError(f"--top: must be at least 1, got {args.top}")
    settings = LocalSearchSettings(chains=args.chains, steps=args.steps, acceptance=args.acceptance,
                                   temperature=args.temperature, fit=args.fit, start=args.start, seed=args.seed)
    sim = Simulation("enumerated", task=args.task, max_length=args.max_length, n_train=args.n_train, n_test=args.n_test,
                     instruction_set=args.instruction_set, performance_threshold=args.threshold,
                     generalization_check=args.generalization_check)
    quiet = args.json or not sys.stderr.isatty()
    with progress_bar("programs", "chunk", disable=quiet) as progress:
        table = sim.table(progress)
    rows = []
    for prior in dict.fromkeys(args.prior):
        with progress_bar(f"chains ({prior})", "step", total=settings.steps, disable=quiet) as progress:
            rows.append(local_search(sim.world, table, sim.priors, prior, settings, progress=progress, top=args.top))
    values = {k: v for k, v in settings.param.values().items() if k != "name"}
    if args.json:
        print_json({"world": sim.params(), "settings": values, "priors": rows})
        return 0
    w = sim.world
    print(f"enumerated world: task {w.task}, programs of length 1..{w.max_length} ({w.instruction_set}), "
          f"{rows[0]['n_good_looking']:,} look good (threshold {args.threshold:g}, held-out check "
          f"{'on' if args.generalization_check else 'off'})")
    print(f"{settings.chains} chains x {settings.steps} steps, {settings.acceptance}"
          + (f" at T = {settings.temperature:g}" if settings.acceptance == "metropolis" else "")
          + f", fit {settings.fit:g}, start {settings.start}, seed {settings.seed}")
    kinds = list(rows[0]["posterior_kind"])
    print(f"\n{'prior':14s} {'side':10s} " + " ".join(f"{k:>9s}" for k in kinds)
          + f" {'at MAP':>7s} {'good':>6s} {'TV kind':>8s} {'accepted':>9s}")
    for r in rows:
        print(f"{r['prior']:14s} {'posterior':10s} " + " ".join(f"{r['posterior_kind'][k]:9.3f}" for k in kinds)
              + f" {r['map_mass']:7.3f}")
        tv = "-" if r["tv_kind"] is None else f"{r['tv_kind']:.3f}"
        print(f"{'':14s} {'chains':10s} " + " ".join(f"{r['end_kind'][k]:9.3f}" for k in kinds)
              + f" {r['at_map']:7.3f} {r['ended_good']:6.3f} {tv:>8s} {r['accepted']:9.3f}")
    print("\n(chains: kinds among the chains that ended at a good-looking program; at MAP: the posterior's mass on its "
          "MAP program(s) against the share of all chains that ended there; good: share of chains that ended at a "
          "good-looking program; TV kind: total variation distance between the two kind rows)")
    for r in rows:
        ties = f" ({r['map_ties']} tied)" if r.get("map_ties", 0) > 1 else ""
        print(f"\n{r['prior']}: MAP{ties} " + "; ".join(m["program"] for m in r["map"]))
        print("  posterior's programs: " + "; ".join(f"{p['program']} {p['share']:.3f}" for p in r["posterior_programs"]))
        print("  chains ended at:      " + ("; ".join(f"{p['program']} {p['share']:.3f}" for p in r["end_programs"])
                                            or "(no chain ended at a good-looking program)"))
    return 0
