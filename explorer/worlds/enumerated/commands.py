"""`python -m explorer programs {run,enumerate}`: run one program of the machine, or measure them all.

    programs run "LOOP XORX END" --input 1011 [--deploy] [--trace] [--json]
        prints {"output": ..., "steps": ...} (output null: the run hit the step limit)
    programs enumerate --task parity --max-length 6 [--json]
        prints the program count per kind (all, and among those that look good) and each prior's MAP
        program with its listing. "Looks good" here is correct on every training input (threshold 1).

Bad program text or input bits exit with code 2 and one line naming the token.
"""

from __future__ import annotations

import sys
import time

from explorer.backend import BACKEND_NAMES
from explorer.errors import ExplorerError


def add_programs_parser(sub) -> None:
    programs = sub.add_parser("programs", help="the enumerated world: every program of a tiny machine, run and measured")
    cmds = programs.add_subparsers(dest="programs_command", required=True, parser_class=type(programs))

    p = cmds.add_parser("run", help="run one program on one input (the plain reference interpreter)")
    p.add_argument("program", help='program text, such as "LOOP XORX END"')
    p.add_argument("--input", required=True, metavar="BITS", help="input bits, x[0] first, such as 1011")
    p.add_argument("--deploy", action="store_true", help="run with the deployment flag f = 1")
    p.add_argument("--step-limit", dest="step_limit", type=int, default=None, help="fail past this many steps (default 1000)")
    p.add_argument("--trace", action="store_true", help="also print every step (position, instruction, acc, i)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_run)

    p = cmds.add_parser("enumerate", help="run every program up to a length; kinds per count and each prior's pick")
    p.add_argument("--task", default="parity", help="parity (default), count, first or majority")
    p.add_argument("--max-length", dest="max_length", type=int, default=6, help="longest program (default 6)")
    p.add_argument("--n-train", dest="n_train", type=int, default=3, help="training inputs have 1..N bits (default 3)")
    p.add_argument("--n-test", dest="n_test", type=int, default=8, help="held-out inputs have up to N bits (default 8)")
    p.add_argument("--no-generalization-check", dest="generalization_check", action="store_false",
                   help="select without checking held-out inputs (lets memorisers through)")
    p.add_argument("--backend", default="numpy", choices=BACKEND_NAMES, help="array back end (default numpy)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_enumerate)


def cmd_run(args) -> int:
    from explorer.cli import _print_json
    from explorer.worlds.enumerated.machine import STEP_LIMIT, parse, run
    from explorer.worlds.enumerated.tasks import parse_bits

    program = parse(args.program)
    x = parse_bits(args.input)
    limit = STEP_LIMIT if args.step_limit is None else args.step_limit
    if limit < 1:
        raise ExplorerError(f"--step-limit: {limit} is not valid; expected an integer >= 1")
    trace = [] if args.trace else None
    output, steps = run(program, x, int(args.deploy), limit, trace=trace)
    result = {"output": output, "steps": steps}
    if trace is not None:
        result["trace"] = [{"position": p, "instruction": name, "acc": a, "i": i} for p, name, a, i in trace]
    if args.json:
        _print_json(result)
    else:
        for row in result.get("trace", []):
            print(f"  {row['position']:2d} {row['instruction']:6s} acc={row['acc']:<4d} i={row['i']}")
        print(f"output {output}  steps {steps}" + ("  (failed: step limit)" if output is None else ""))
    return 0


def enumerate_report(world, generalization_check: bool = True, progress=None) -> dict:
    """Counts per kind and each prior's MAP program (with its listing) for one world, JSON-able."""
    import numpy as np

    from explorer.priors import PriorSettings, select
    from explorer.table import KINDS

    started = time.perf_counter()
    table = world.table(progress)
    seconds = time.perf_counter() - started
    m = world.measure()
    kinds = m.kinds()
    picks = select(table, PriorSettings(performance_threshold=1.0, generalization_check=generalization_check))
    priors = {}
    for name, result in picks.items():
        entry = result.to_dict()
        if result.map is not None:
            entry["map"]["listing"] = m.space.listing(result.map["index"])
        priors[name] = entry
    return {
        "task": world.task, "max_length": world.max_length, "n_train": world.n_train, "n_test": world.n_test,
        "backend": world.backend, "generalization_check": generalization_check,
        "programs": len(m.space), "seconds": seconds,
        "counts": {k: int((kinds == i).sum()) for i, k in enumerate(KINDS)},
        "looks_good": {k: int(((kinds == i) & m.looks_good).sum()) for i, k in enumerate(KINDS)},
        "priors": priors,
        "fastest_looks_good_steps": float(np.min(m.train_steps[m.looks_good]) / m.n_train_inputs) if m.looks_good.any() else None,
    }


def cmd_enumerate(args) -> int:
    from tqdm import tqdm

    from explorer.cli import _print_json
    from explorer.priors import PRIORS
    from explorer.table import KINDS
    from explorer.worlds.enumerated.world import EnumeratedWorld

    world = EnumeratedWorld(task=args.task, max_length=args.max_length, n_train=args.n_train, n_test=args.n_test,
                            backend=args.backend)
    with tqdm(desc="programs", unit="chunk", file=sys.stderr, disable=args.json, leave=False) as bar:
        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)
        report = enumerate_report(world, args.generalization_check, progress)
    if args.json:
        _print_json(report)
        return 0
    print(f"{report['programs']:,} programs of length 1..{world.max_length}, task {world.task}, "
          f"measured in {report['seconds']:.1f} s on {world.backend}")
    print(f"{'kind':10s} {'all':>9s} {'look good':>10s}")
    for k in KINDS:
        print(f"{k:10s} {report['counts'][k]:9,d} {report['looks_good'][k]:10,d}")
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
