"""`claims`: every scenario's claim in every world it is checked in, over seeds and perturbed presets.

Prints a table (scenario x world: the share of runs whose checks all hold, the runs, whether the world
decides the claim by construction or by measurement, the breakpoints, the reason) or, with --json,
explorer.claims.ClaimsMatrix.to_dict(). Ctrl-C stops the runs and prints what finished (complete=False).
--recorded prints a recorded matrix (assets/claims/matrix.json) without running anything.
"""

from __future__ import annotations

import signal
import sys
import textwrap
import threading
from pathlib import Path

from explorer.cli.options import add_scenario_dir_option, use_scenario_dirs
from explorer.cli.output import fmt, print_json, progress_bar
from explorer.errors import ExplorerError


def add_parsers(sub) -> None:
    p = sub.add_parser("claims", help="the claims matrix: each scenario's claim per world, over seeds and perturbed presets")
    p.add_argument("--world", action="append", metavar="W", help="only this world (repeatable; default: all)")
    p.add_argument("--scenario", action="append", metavar="ID", help="only this scenario (repeatable; default: all)")
    p.add_argument("--seeds", default="5", metavar="N", help="seeds per claim (default 5; the neural world runs at most 3)")
    p.add_argument("--perturb", default="0.1", metavar="FRACTION",
                   help="each numeric parameter of a preset is moved by up to this fraction (default 0.1)")
    p.add_argument("--workers", default=None, metavar="N", help="local worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed scheduler (tcp://host:8786)")
    p.add_argument("--no-breakpoints", dest="breakpoints", action="store_false",
                   help="skip the breakpoint searches (only the shares over seeds and perturbations)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    p.add_argument("--recorded", nargs="?", const="", metavar="FILE",
                   help="run nothing: print a recorded matrix (default assets/claims/matrix.json)")
    add_scenario_dir_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_claims)


def _int(option: str, text: str, least: int = 1) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise ExplorerError(f"{option}: {text!r} is not an integer; expected an integer >= {least}") from None
    if value < least:
        raise ExplorerError(f"{option}: {value} is not valid; expected an integer >= {least}")
    return value


def _fraction(option: str, text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not 0 <= value < 1:
        raise ExplorerError(f"{option}: {text!r} is not valid; expected a fraction from 0 up to (not including) 1, "
                            "such as 0.1")
    return value


def cmd_claims(args) -> int:
    from explorer.claims import RECORDED, load_recorded, run_claims, select_cases
    from explorer.worlds import WORLDS

    if args.recorded is not None:
        path = Path(args.recorded) if args.recorded else RECORDED
        if not path.is_file():
            raise ExplorerError(f"--recorded: {path} is not a file; record one with "
                                "`python -m explorer claims --seeds 20 --json > assets/claims/matrix.json`")
        matrix = load_recorded(path)
        if args.json:
            print_json(matrix.to_dict())
        else:
            print(report(matrix))
        return 0
    seeds = _int("--seeds", args.seeds)
    perturb = _fraction("--perturb", args.perturb)
    workers = None if args.workers is None else _int("--workers", args.workers)
    for w in args.world or ():
        if w not in WORLDS:
            raise ExplorerError(f"--world: unknown world {w!r}; worlds: {', '.join(WORLDS)}")
    use_scenario_dirs(args)
    try:
        select_cases(args.world, args.scenario)
    except ExplorerError as exc:
        raise ExplorerError(f"--{exc}") from None

    stop = threading.Event()

    def on_interrupt(signum, frame):  # first Ctrl-C: stop and print what finished; a second one: quit
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping: the matrix so far follows (Ctrl-C again to quit)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        with progress_bar("claims", "run", total=0, disable=not args.progress) as progress:
            matrix = run_claims(worlds=args.world, scenarios=args.scenario, seeds=seeds, perturb=perturb,
                                workers=workers, scheduler=args.scheduler, progress=progress,
                                should_stop=stop.is_set, breakpoints=args.breakpoints)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json(matrix.to_dict())
    else:
        print(report(matrix))
    return 0


def report(matrix) -> str:
    """The matrix as a table (task s: the seconds a cell's runs and searches took, over all workers), then
    each cell's reason, failing checks and notes."""
    lines = [f"claims over {matrix.seeds} seed(s), presets perturbed by up to {matrix.perturb:g}"
             f"{'' if matrix.complete else '  (STOPPED: partial)'}; {matrix.elapsed_s:.1f} s",
             f"{'scenario':26s} {'world':11s} {'holds':>6s} {'runs':>5s} {'task s':>7s}  {'by':13s} breakpoints"]
    for c in matrix.cells:
        holds = "-" if c.holds is None else f"{c.holds:.2f}"
        bps = ", ".join(f"{k}={'none' if v is None else fmt(v)}" for k, v in c.breakpoints.items()) or "-"
        bps += "" if c.complete else " (stopped)"
        lines.append(f"{c.scenario:26s} {c.world:11s} {holds:>6s} {c.runs:5d} {c.task_s:7.1f}  {c.by:13s} {bps}")
    for c in matrix.cells:
        lines.append("")
        lines.append(f"{c.scenario} in the {c.world} world ({c.by}{'' if c.stated else ', not stated'}):")
        lines += textwrap.wrap(c.reason, 100, initial_indent="  ", subsequent_indent="  ")
        for f in c.failing:
            lines.append(f"  failed in some run: {f}")
        for n in c.notes:
            lines += textwrap.wrap(f"note: {n}", 100, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(lines)
