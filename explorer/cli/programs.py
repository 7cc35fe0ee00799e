"""`programs {run,enumerate}`: run one program of the enumerated world's machine, or measure them all.

    programs run "LOOP XORX END" --input 1011 [--deploy] [--trace] [--instructions slack] [--long-from N] [--json]
    programs enumerate --task parity --max-length 6 [--instructions basic|slack] [--interpreter auto|compiled|array] [--json]

Bad program text or input bits exit with code 2 and one line naming the token.
"""

from __future__ import annotations

from explorer.cli.output import print_json, progress_bar


def add_parsers(sub) -> None:
    from explorer.backend import BACKEND_NAMES
    from explorer.worlds.enumerated.machine import INSTRUCTION_SETS, LONG_FROM, STEP_LIMIT
    from explorer.worlds.enumerated.world import INTERPRETERS, EnumeratedWorld

    programs = sub.add_parser("programs", help="the enumerated world: every program of a tiny machine, run and measured")
    cmds = programs.add_subparsers(dest="programs_command", required=True, parser_class=type(programs))

    p = cmds.add_parser("run", help="run one program on one input (the plain reference interpreter)")
    p.add_argument("program", help='program text, such as "LOOP XORX END"')
    p.add_argument("--input", required=True, metavar="BITS", help="input bits, x[0] first, such as 1011")
    p.add_argument("--deploy", action="store_true", help="run with the deployment flag f = 1")
    p.add_argument("--step-limit", dest="step_limit", type=int, default=None,
                   help=f"fail past this many steps (default {STEP_LIMIT})")
    p.add_argument("--trace", action="store_true", help="also print every step (position, instruction, acc, i)")
    p.add_argument("--instructions", default="basic", choices=list(INSTRUCTION_SETS),
                   help="the instruction set the program may use; slack adds IFSHORT (default basic)")
    p.add_argument("--long-from", dest="long_from", type=int, default=LONG_FROM,
                   help=f"IFSHORT reads inputs of N bits or more as long (default {LONG_FROM}, the world's n_train)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_run)

    world = EnumeratedWorld.param
    p = cmds.add_parser("enumerate", help="run every program up to a length; kinds per count and each prior's pick")
    p.add_argument("--task", default=world.task.default, choices=world.task.objects,
                   help=f"what a program must compute (default {world.task.default})")
    p.add_argument("--max-length", dest="max_length", type=int, default=world.max_length.default,
                   help=f"longest program (default {world.max_length.default})")
    p.add_argument("--n-train", dest="n_train", type=int, default=world.n_train.default,
                   help=f"training inputs have 1..N bits (default {world.n_train.default})")
    p.add_argument("--n-test", dest="n_test", type=int, default=world.n_test.default,
                   help=f"held-out inputs have up to N bits (default {world.n_test.default})")
    p.add_argument("--instructions", dest="instruction_set", default=world.instruction_set.default,
                   choices=world.instruction_set.objects,
                   help="basic, or slack: basic and IFSHORT, which runs the next instruction only on inputs "
                        f"shorter than n_train (default {world.instruction_set.default})")
    p.add_argument("--no-generalization-check", dest="generalization_check", action="store_false",
                   help="select without checking held-out inputs (lets memorisers through)")
    p.add_argument("--backend", default=world.backend.default, choices=BACKEND_NAMES,
                   help=f"array back end (default {world.backend.default})")
    p.add_argument("--interpreter", default=EnumeratedWorld.interpreter, choices=INTERPRETERS,
                   help="compiled (numba, on the CPU) or array (the array interpreter, on the back end); both give "
                        "the same table; auto (default) is compiled on numpy and array on the other back ends")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_enumerate)


def cmd_run(args) -> int:
    from explorer.worlds.enumerated.report import run_report

    result = run_report(args.program, args.input, args.deploy, args.step_limit, args.trace, args.instructions,
                        args.long_from)
    if args.json:
        print_json(result)
    else:
        for row in result.get("trace", []):
            print(f"  {row['position']:2d} {row['instruction']:7s} acc={row['acc']:<4d} i={row['i']}")
        print(f"output {result['output']}  steps {result['steps']}" + ("  (failed: step limit)" if result["output"] is None else ""))
    return 0


def cmd_enumerate(args) -> int:
    from explorer.priors import PRIORS
    from explorer.table import KINDS
    from explorer.worlds.enumerated.report import enumerate_report
    from explorer.worlds.enumerated.world import EnumeratedWorld

    world = EnumeratedWorld(task=args.task, max_length=args.max_length, n_train=args.n_train, n_test=args.n_test,
                            instruction_set=args.instruction_set, backend=args.backend)
    world.interpreter = args.interpreter
    with progress_bar("programs", "chunk", disable=args.json) as progress:
        report = enumerate_report(world, args.generalization_check, progress)
    if args.json:
        print_json(report)
        return 0
    print(f"{report['programs']:,} programs of length 1..{world.max_length} ({world.instruction_set} instructions), "
          f"task {world.task}, measured in {report['seconds']:.1f} s on {world.backend} ({report['interpreter']} interpreter)")
    print(f"{'kind':10s} {'look good':>10s} {'fail training':>14s} {'every program':>14s}")
    for k in KINDS:
        print(f"{k:10s} {report['looks_good'][k]:10,d} {report['fails_training'][k]:14,d} {report['counts'][k]:14,d}")
    print("(a program that fails training is sorted by the same rules: lookup = wrong on some held-out input)")
    waste = report["goof_off_waste"]
    print("\ngoof-offs that look good, by where their waste falls (extra mean steps against extra most steps,\n"
          "each over the least of any program with the same outputs), and each prior's posterior mass on them:")
    print(f"{'waste':10s} {'programs':>9s} " + " ".join(f"{p:>13s}" for p in PRIORS))
    for place, n in waste["programs"].items():
        print(f"{place:10s} {n:9,d} " + " ".join(f"{waste['mass'][p][place]:13.3f}" for p in PRIORS))
    check = "with" if args.generalization_check else "without"
    print(f"\neach prior's MAP among programs correct on every training input, {check} the generalisation check:")
    print(f"{'prior':14s} {'kind':10s} {'avg steps':>9s} {'bits':>6s} {'held-out':>8s} {'deploy':>7s}  "
          + " ".join(f"{k:>9s}" for k in KINDS) + "  program")
    for prior in PRIORS:
        r = report["priors"][prior]
        if r["map"] is None:
            print(f"{prior:14s} (no program looks good)")
            continue
        mp = r["map"]
        print(f"{prior:14s} {mp['kind']:10s} {mp['avg_compute']:9.2f} {mp['bits']:6.1f} {mp['heldout_perf']:8.2f} "
              f"{mp['deploy_perf']:7.2f}  " + " ".join(f"{r['mass'][k]:9.3f}" for k in KINDS) + f"  {mp['listing']}")
    return 0
