"""`python -m explorer neural {halt}`: train networks under a speed prior and report what they did.

Each proposal trains one network, or with --sweep / --networks many at once as one batched program,
and reports accuracy and compute per difficulty. `--json` prints

    {"accuracy": ..., "mean_steps": ..., "by_difficulty": [{"difficulty": d, "accuracy": a, "mean_steps": m}, ...], ...}

for a single setting, and {"sweep": [one such row per sweep point, with the point's values], ...} for a
sweep. A diverging run (NaN loss) exits with code 2 and one line naming the proposal and the step.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from explorer.errors import ExplorerError


def add_neural_parser(sub) -> None:
    neural = sub.add_parser("neural", help="the neural world: train networks under speed priors (proposals 2B, ...)")
    cmds = neural.add_subparsers(dest="neural_command", required=True, parser_class=type(neural))

    p = cmds.add_parser("halt", help="Proposal 2B: learned halting (PonderNet) with the KL-to-geometric penalty beta")
    _common(p)
    p.add_argument("--predictor", action="store_true",
                   help="also train the essay's alternative: an offline predictor of the steps each input needs")
    p.add_argument("--drive", type=float, metavar="MU",
                   help="plant a drive of strength MU (an objective of the network's own; see misbehaviour.py)")
    p.set_defaults(func=cmd_halt)


def _common(p) -> None:
    p.add_argument("--task", choices=["parity", "pointer"], default="parity", help="parity (default) or pointer following")
    p.add_argument("--bits", "--size", dest="size", type=int, default=8,
                   help="entries of a parity vector, or slots of a pointer list (default 8)")
    p.add_argument("--train-max", dest="train_max", type=int, metavar="D",
                   help="hardest training difficulty; harder ones are held out (default: three quarters of the hardest)")
    p.add_argument("--seed", type=int, default=0, help="seed of the examples and of the initial weights")
    p.add_argument("--steps", type=int, help="training steps (default: the proposal's own)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--sweep", metavar="NAME=V1,V2,...",
                   help="train one batch of networks over these penalty values (';' joins several names into a grid)")
    p.add_argument("--networks", type=int, help="networks trained at once (default: one per sweep point)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="set any task or training parameter (repeatable)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    p.add_argument("--json", action="store_true", help="print JSON")


def _settings(args, settings_class):
    """(task settings, proposal settings, members) from the command line, checked."""
    import torch

    from explorer.cli import parse_sets
    from explorer.params import set_values
    from explorer.worlds.neural.sweep import Members, parse_sweep
    from explorer.worlds.neural.tasks import TaskSettings

    if args.threads < 1:
        raise ExplorerError(f"--threads: {args.threads} is not valid; expected an integer >= 1")
    torch.set_num_threads(args.threads)
    values = parse_sets(args.set or [], TaskSettings, settings_class)
    task_names = set(TaskSettings.param) - {"name"}
    task_values = {"task": args.task, "size": args.size, "seed": args.seed}
    if args.train_max is not None:
        task_values["train_max_difficulty"] = args.train_max
    train_values: dict[str, Any] = {"seed": args.seed}
    if args.steps is not None:
        train_values["train_steps"] = args.steps
    for name, value in values.items():
        (task_values if name in task_names else train_values)[name] = value
        if name == "seed":
            task_values[name] = train_values[name] = value
    task = TaskSettings()
    set_values(task, task_values)
    task.train_max  # an out-of-range split fails here, before any training
    settings = settings_class()
    set_values(settings, train_values)
    sweep = parse_sweep(args.sweep, settings_class) if args.sweep else {}
    if args.networks is not None and args.networks < 1:
        raise ExplorerError(f"--networks: {args.networks} is not valid; expected an integer >= 1")
    members = Members.sweep(sweep, args.networks)
    return task, settings, members


def _progress_bar(args, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, mininterval=0.5,
                disable=not args.progress or not sys.stderr.isatty())


def _rows(measurement, members) -> list[dict]:
    return [{**members.point(g), **measurement.summary(members.of_point(g))} for g in range(len(members.grid))]


def cmd_halt(args) -> int:
    from explorer.params import values_of
    from explorer.worlds.neural import halting
    from explorer.worlds.neural.ensemble import resolve_device
    from explorer.worlds.neural.misbehaviour import Drive

    device = resolve_device(args.device)
    task, settings, members = _settings(args, halting.HaltingSettings)
    drive = None
    if args.drive is not None:
        from explorer.params import set_values

        set_values(settings, {"mu": args.drive})
        drive = Drive(task)
    elif "mu" in members.names:
        raise ExplorerError("--sweep mu: a drive's strength needs a planted drive; add --drive MU")
    predictor_settings = None
    total = settings.train_steps
    if args.predictor:
        from explorer.worlds.neural.rollout_predictor import PredictorSettings

        predictor_settings = PredictorSettings(seed=settings.seed)
        total += predictor_settings.train_steps
    started = time.perf_counter()
    with _progress_bar(args, total, "halt") as bar:
        run = halting.train(task, settings, members, device=device, drive=drive, progress=bar.update)
        predicted = None
        if predictor_settings is not None:
            from explorer.worlds.neural.rollout_predictor import train_predictor

            _, predicted = train_predictor(run, predictor_settings, progress=bar.update)
    seconds = time.perf_counter() - started
    rows = _rows(run.measurement, members)
    if predicted is not None:
        for row, pred in zip(rows, _rows(predicted, members)):
            row["predictor"] = {k: v for k, v in pred.items() if k not in members.names}
    report = {
        "proposal": "halt",
        "task": values_of(task),
        "params": values_of(settings),
        "device": str(device),
        "threads": args.threads,
        "networks": members.count,
        "parameters_per_network": run.parameters_per_network,
        "seconds": seconds,
    }
    if members.names:
        report["sweep"] = rows
    else:
        report.update(rows[0])
    _print(report, args.json)
    return 0


def _print(report: dict, as_json: bool) -> None:
    from explorer.cli import _print_json

    if as_json:
        _print_json(report)
        return
    rows = report.get("sweep") or [report]
    print(f"{report['proposal']}: {report['task']['task']} of size {report['task']['size']}, {report['networks']} network(s) "
          f"on {report['device']} ({report['threads']} thread(s)) in {report['seconds']:.1f} s")
    for row in rows:
        point = ", ".join(f"{k}={row[k]:g}" for k in ("beta", "lambda_p", "mu", "alpha") if k in row and "sweep" in report)
        line = (f"{point + ': ' if point else ''}accuracy {row['accuracy']:.3f} (held-out {_num(row['heldout_accuracy'])}), "
                f"mean steps {row['mean_steps']:.2f}, max {row['max_steps']:.1f}, after the answer was ready {row['wasted_steps']:.2f}")
        if row.get("drive_accuracy") is not None:
            line += f", drive accuracy {row['drive_accuracy']:.3f}"
        print(line)
        print("   difficulty " + " ".join(f"{r['difficulty']:>5d}{'*' if r['heldout'] else ' '}" for r in row["by_difficulty"]))
        print("   accuracy   " + " ".join(f"{r['accuracy']:>6.3f}" for r in row["by_difficulty"]))
        print("   mean steps " + " ".join(f"{r['mean_steps']:>6.2f}" for r in row["by_difficulty"]))
        pred = row.get("predictor")
        if pred:
            print(f"   rollout predictor: accuracy {pred['accuracy']:.3f}, mean steps {pred['mean_steps']:.2f}")
            print("   mean steps " + " ".join(f"{r['mean_steps']:>6.2f}" for r in pred["by_difficulty"]))
    print("   (* held out: harder than any training example)")


def _num(v) -> str:
    return "-" if v is None or v != v else f"{v:.3f}"
