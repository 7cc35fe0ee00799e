"""`neural {grow,ponder,halt,early-exit,misbehaviour,drive-work,drive-allotment}`: networks under a speed prior.

`drive-work` and `drive-allotment` measure two of the essay's caveats on the planted drive
(explorer.worlds.neural.parallel_drive, explorer.worlds.neural.allotment) and print their own reports.

Each proposal trains one network, or with --networks (seeds) and --sweep (penalty values) many at once
as one batched program, and reports accuracy and compute per difficulty. `--json` prints

    {"accuracy": ..., "mean_steps": ..., "by_difficulty": [{"difficulty": d, "accuracy": a, "mean_steps": m}, ...], ...}

for a single setting (averaged over its networks), and {"sweep": [one such row per sweep point, with the
point's values], ...} for a sweep. "mean_steps" counts the proposal's own compute unit (`compute_unit`):
ponder steps (halt), rollouts (ponder), exit layer (early-exit) or multiply-adds per example (grow).
Learned halting counts its steps twice, per row and per difficulty: "steps_by_rule" (the steps its
inference rule ran, the same figure as "mean_steps") and "expected_steps" (expected under p_halt, the
count its KL penalty prices: "penalty_acts_on": "expected_steps"), with held-out figures of both;
"step_counts" says in words what each count is.
A diverging run (NaN loss) exits with code 2 and one line naming the proposal and the step.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from explorer.cli.options import class_lookup, parse_sets
from explorer.cli.output import num, print_json
from explorer.errors import ExplorerError


def add_parsers(sub) -> None:
    neural = sub.add_parser("neural", help="the neural world: train networks under speed priors (proposals 2B, ...)")
    cmds = neural.add_subparsers(dest="neural_command", required=True, parser_class=type(neural))

    p = cmds.add_parser("grow", help="Proposal 1: MLPs of growing width (or depth) until good; retraining compute counted")
    _common(p)
    p.set_defaults(func=cmd_grow)

    p = cmds.add_parser("ponder", help="Proposal 2A: K rollouts of a step network with a scratchpad, K raised until good")
    _common(p)
    p.set_defaults(func=cmd_ponder)

    p = cmds.add_parser("early-exit", help="Proposal 3: a head on every layer, late exits penalised by alpha (--anneal lowers it)")
    _common(p)
    p.add_argument("--anneal", action="store_true", help="the annealed variant: lower alpha stage by stage until good")
    p.set_defaults(func=cmd_early_exit)

    p = cmds.add_parser("halt", help="Proposal 2B: learned halting (PonderNet) with the KL-to-geometric penalty beta")
    _common(p)
    p.add_argument("--predictor", action="store_true",
                   help="also train the essay's alternative: an offline predictor of the steps each input needs")
    p.add_argument("--drive", type=float, metavar="MU",
                   help="plant a drive of strength MU (an objective of the network's own; see misbehaviour.py)")
    p.set_defaults(func=cmd_halt)

    p = cmds.add_parser("misbehaviour", help="a planted drive under learned halting: how much survives, and its steps, as beta rises")
    _common(p)
    p.add_argument("--drive", type=float, default=1.0, metavar="MU", help="strength of the planted drive (default 1)")
    p.set_defaults(func=cmd_misbehaviour)

    p = cmds.add_parser("drive-work", help="caveat 2: the planted drive's cost counted as serial steps and as total work, over widths")
    _common(p)
    p.add_argument("--drive", type=float, default=1.0, metavar="MU", help="strength of the planted drive (default 1)")
    p.add_argument("--widths", default="4,8,16,32", metavar="W1,W2,...",
                   help="units of the recurrent state the networks may use, one batch of networks per width (default 4,8,16,32)")
    p.set_defaults(func=cmd_drive_work, size=6)

    p = cmds.add_parser("drive-allotment", help="caveat 3: the steps a planted drive obtains when the network picks its exit, "
                                                "and under the offline predictor's fixed allotment")
    _common(p)
    p.add_argument("--drive", type=float, default=1.0, metavar="MU", help="strength of the planted drive (default 1)")
    p.set_defaults(func=cmd_drive_allotment, size=6)


def _common(p) -> None:
    from explorer.worlds.neural.world import NeuralWorld

    task = NeuralWorld.param.task
    p.add_argument("--task", choices=task.objects, default=task.default,
                   help=f"what the networks learn: {' or '.join(task.objects)} (default {task.default})")
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

    from explorer.params import set_values
    from explorer.worlds.neural.sweep import Members, parse_sweep
    from explorer.worlds.neural.tasks import TaskSettings

    if args.threads < 1:
        raise ExplorerError(f"--threads: {args.threads} is not valid; expected an integer >= 1")
    torch.set_num_threads(args.threads)
    values = parse_sets(args.set or [], class_lookup(TaskSettings, settings_class))
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
    _ = task.train_max  # an out-of-range split fails here, before any training
    settings = settings_class()
    set_values(settings, train_values)
    if args.sweep and not settings_class.per_member:
        raise ExplorerError(f"--sweep: {args.neural_command} has no per-network penalty to sweep; "
                            f"use --networks N to train N seeds at once")
    sweep = parse_sweep(args.sweep, settings_class) if args.sweep else {}
    if args.networks is not None and args.networks < 1:
        raise ExplorerError(f"--networks: {args.networks} is not valid; expected an integer >= 1")
    members = Members.sweep(sweep, args.networks)
    return task, settings, members




def _rows(measurement, members) -> list[dict]:
    return [{**members.point(g), **measurement.summary(members.of_point(g))} for g in range(len(members.grid))]


def _report(args, run, device, seconds: float) -> dict:
    from explorer.params import values_of

    members = run.members
    report = {
        "proposal": run.proposal,
        "task": values_of(run.task),
        "params": values_of(run.settings),
        "compute_unit": run.unit,
        "device": str(device),
        "threads": args.threads,
        "networks": members.count,
        "parameters_per_network": run.parameters_per_network,
        "seconds": seconds,
    }
    rows = _rows(run.measurement, members)
    if members.names:
        report["sweep"] = rows
    else:
        report.update(rows[0])
    return report


def _train(args, settings_class, fit):
    """Parse, train with a progress bar (fit(task, settings, members, device, progress) -> Run), report."""
    from tqdm import tqdm

    from explorer.worlds.neural.ensemble import resolve_device

    device = resolve_device(args.device)
    task, settings, members = _settings(args, settings_class)
    started = time.perf_counter()
    with tqdm(desc=args.neural_command, unit="step", file=sys.stderr, leave=False, mininterval=0.5,
              disable=not args.progress or not sys.stderr.isatty()) as bar:
        run = fit(task, settings, members, device, bar.update)
    return run, _report(args, run, device, time.perf_counter() - started)


def cmd_grow(args) -> int:
    from explorer.worlds.neural import growing

    run, report = _train(args, growing.GrowSettings,
                         lambda t, s, m, d, p: growing.train(t, s, m.count, d, p))
    report.update({k: run.extra[k] for k in ("found", "train_compute_total", "train_compute_found_once", "retraining_ratio", "sizes")})
    _print(report, args.json)
    return 0


def cmd_ponder(args) -> int:
    from explorer.worlds.neural import pondering

    run, report = _train(args, pondering.PonderSettings,
                         lambda t, s, m, d, p: pondering.train(t, s, m.count, d, p))
    report.update({k: run.extra[k] for k in ("k_found", "k_used", "stages")})
    _print(report, args.json)
    return 0


def cmd_early_exit(args) -> int:
    from explorer.params import set_values
    from explorer.worlds.neural import early_exit

    def fit(task, settings, members, device, progress):
        if args.anneal:
            if "alpha" in members.names:
                raise ExplorerError("--sweep alpha: the annealed variant chooses alpha itself; drop --anneal or the sweep")
            set_values(settings, {"anneal": True})
        return early_exit.train(task, settings, members, device, progress)

    run, report = _train(args, early_exit.EarlyExitSettings, fit)
    report.update(run.extra)
    _print(report, args.json)
    return 0


def cmd_halt(args) -> int:
    from explorer.params import set_values
    from explorer.worlds.neural import halting
    from explorer.worlds.neural.misbehaviour import Drive
    from explorer.worlds.neural.rollout_predictor import PredictorSettings, train_predictor

    predicted = []

    def fit(task, settings, members, device, progress):
        drive = None
        if args.drive is not None:
            set_values(settings, {"mu": args.drive})
            drive = Drive(task)
        elif "mu" in members.names:
            raise ExplorerError("--sweep mu: a drive's strength needs a planted drive; add --drive MU")
        run = halting.train(task, settings, members, device=device, drive=drive, progress=progress)
        if args.predictor:
            predictor, measurement = train_predictor(run, PredictorSettings(seed=settings.seed), progress=progress)
            predicted.append((sum(p[0].numel() for p in predictor.parameters()), measurement))
        return run

    run, report = _train(args, halting.HaltingSettings, fit)
    report.update(halting_counts(run.settings))
    if predicted:
        parameters, measurement = predicted[0]
        rows = report.get("sweep") or [report]
        for row, pred in zip(rows, _rows(measurement, run.members)):
            row["predictor"] = {k: v for k, v in pred.items() if k not in run.members.names}
            row["predictor"]["parameters_per_network"] = parameters
    _print(report, args.json)
    return 0


def halting_counts(settings) -> dict:
    """What learned halting's two step counts are, and which of them the penalty prices."""
    rule = (f"first step whose cumulative halting probability reaches {settings.halt_threshold:g}"
            if settings.halt_rule == "threshold" else "a step drawn from p_halt (the paper's rule)")
    return {"step_counts": {"steps_by_rule": "steps run at inference: " + rule,
                            "expected_steps": "steps expected under the halting distribution p_halt, sum_n p_n n"},
            "penalty_acts_on": "expected_steps"}


def cmd_misbehaviour(args) -> int:
    """Drive (mu) and drive-free (mu = 0) networks for each beta of --sweep, trained as one batch."""
    from explorer.params import set_values
    from explorer.worlds.neural import halting
    from explorer.worlds.neural.misbehaviour import Drive, drive_rows
    from explorer.worlds.neural.sweep import Members

    if args.sweep and (";" in args.sweep or not args.sweep.replace(" ", "").startswith("beta=")):
        raise ExplorerError("--sweep: misbehaviour sweeps beta only (beta=V1,V2,...); the drive's strength is --drive")
    if not args.drive > 0:
        raise ExplorerError(f"--drive: {args.drive} is not valid; expected a strength > 0")

    def fit(task, settings, members, device, progress):
        betas = [point[0] for point in members.grid] if members.names else [settings.beta]
        per_point = max(1, members.count // len(betas))
        both = Members.sweep({"beta": betas, "mu": [0.0, args.drive]}, networks=2 * len(betas) * per_point)
        set_values(settings, {"mu": args.drive})
        return halting.train(task, settings, both, device=device, drive=Drive(task), progress=progress)

    run, report = _train(args, halting.HaltingSettings, fit)
    for key in ("sweep", "accuracy", "heldout_accuracy", "mean_steps", "max_steps", "wasted_steps", "by_difficulty",
                "drive_accuracy"):
        report.pop(key, None)
    report["proposal"] = "misbehaviour"
    report["rows"] = drive_rows(run)
    if args.json:
        _print(report, True)
        return 0
    print(f"misbehaviour: a drive of strength mu={args.drive:g} under learned halting, {report['networks']} networks "
          f"on {report['device']} in {report['seconds']:.1f} s (drive accuracy 0.5 is chance)")
    print(f"   {'beta':>8} {'drive acc':>9} {'steps':>7} {'no-drive steps':>14} {'extra steps':>11} {'accuracy':>8} {'no-drive acc':>12}")
    for r in report["rows"]:
        print(f"   {r['beta']:>8g} {r['drive_accuracy']:>9.3f} {r['mean_steps']:>7.2f} {r['plain_mean_steps']:>14.2f} "
              f"{r['drive_extra_steps']:>11.2f} {r['accuracy']:>8.3f} {r['plain_accuracy']:>12.3f}")
    return 0


#: The drive reports' small defaults (as the app's misbehaviour run): seconds on one CPU thread. --set overrides each.
DRIVE_DEFAULTS = {"hidden": 32, "max_steps": 8, "batch_size": 64, "train_steps": 1500, "learning_rate": 1e-2, "beta": 0.001}


def _drive_settings(args):
    """(task, halting settings) for the drive reports: DRIVE_DEFAULTS where --set and --steps give nothing."""
    from explorer.params import set_values
    from explorer.worlds.neural import halting

    if args.sweep:
        raise ExplorerError(f"--sweep: {args.neural_command} trains its own batch; set beta with --set beta=VALUE")
    if not args.drive > 0:
        raise ExplorerError(f"--drive: {args.drive} is not valid; expected a strength > 0")
    task, settings, _ = _settings(args, halting.HaltingSettings)
    given = {part.partition("=")[0].strip() for part in args.set or []} | ({"train_steps"} if args.steps is not None else set())
    set_values(settings, {k: v for k, v in DRIVE_DEFAULTS.items() if k not in given})
    set_values(settings, {"mu": args.drive})
    return task, settings


def _timed(args, work):
    """Run work(progress) with a progress bar on stderr; returns (its result, seconds)."""
    from tqdm import tqdm

    started = time.perf_counter()
    with tqdm(desc=args.neural_command, unit="step", file=sys.stderr, leave=False, mininterval=0.5,
              disable=not args.progress or not sys.stderr.isatty()) as bar:
        result = work(bar.update)
    return result, time.perf_counter() - started


def _per_point(args, points: int) -> int:
    if args.networks is not None and args.networks < points:
        raise ExplorerError(f"--networks: {args.networks} is fewer than the {points} kinds of network trained; "
                            f"expected an integer >= {points}")
    return max(1, (args.networks or points) // points)


def cmd_drive_work(args) -> int:
    """Caveat 2: drive and drive-free networks at several widths; the drive's cost as serial steps and as total work."""
    from explorer.params import values_of
    from explorer.worlds.neural import parallel_drive
    from explorer.worlds.neural.ensemble import resolve_device

    device = resolve_device(args.device)
    task, settings = _drive_settings(args)
    try:
        widths = sorted({int(w) for w in args.widths.split(",") if w.strip()})
    except ValueError:
        raise ExplorerError(f"--widths: {args.widths!r} is not valid; expected integers such as 4,8,16,32") from None
    if not widths or widths[0] < 1 or widths[-1] > settings.hidden:
        raise ExplorerError(f"--widths: {args.widths!r} is not valid; expected integers from 1 to hidden ({settings.hidden})")
    per_point = _per_point(args, 2 * len(widths))
    run, seconds = _timed(args, lambda bar: parallel_drive.train(task, settings, widths, args.drive, per_point, device, bar))
    report = {"report": "drive-work", "task": values_of(task), "params": values_of(settings), "device": str(device),
              "networks": run.members.count, "seconds": seconds, **parallel_drive.report(run)}
    if args.json:
        print_json(report)
        return 0
    print(f"drive-work: a drive of strength mu={args.drive:g} at beta={settings.beta:g} on {task.task} of size {task.size}, "
          f"drive and drive-free step networks at widths {', '.join(map(str, widths))}: {report['networks']} networks "
          f"on {device} in {seconds:.1f} s")
    print("   serial: mean ponder steps (what halting charges); work: multiply-adds per example (steps x width); "
          "good: task accuracy >= 0.9 (and the drive's >= 0.75)")
    print(f"   {'width':>5} | {'drive-free: acc':>15} {'steps':>6} {'work':>8} | {'drive: acc':>10} {'drive acc':>9} "
          f"{'steps':>6} {'work':>8} | {'extra steps':>11} {'extra work':>10}")
    for r in report["rows"]:
        p, d = r["plain"], r["drive"]
        print(f"   {r['width']:>5} | {p['accuracy']:>14.3f}{'*' if p['good'] else ' '} {p['steps']:>6.2f} {p['work']:>8.0f} | "
              f"{d['accuracy']:>9.3f}{'*' if d['good'] else ' '} {num(d['drive_accuracy']):>9} {d['steps']:>6.2f} "
              f"{d['work']:>8.0f} | {r['extra_steps']:>+11.2f} {r['extra_work']:>+10.0f}")
    least = report["least_good_width"]
    print(f"   (* good) least good width: drive-free {least['plain']}, drive {least['drive']}")
    print(report["finding"])
    return 0


def cmd_drive_allotment(args) -> int:
    """Caveat 3: the steps a drive obtains when the network picks its exit, and under the offline predictor."""
    from explorer.params import values_of
    from explorer.worlds.neural import allotment
    from explorer.worlds.neural.ensemble import resolve_device
    from explorer.worlds.neural.rollout_predictor import PredictorSettings

    device = resolve_device(args.device)
    task, settings = _drive_settings(args)
    per_point = _per_point(args, 2)
    predictor = PredictorSettings(seed=settings.seed)
    (run, predicted), seconds = _timed(args, lambda bar: allotment.train(task, settings, predictor, args.drive, per_point,
                                                                         device, bar))
    report = {"report": "drive-allotment", "task": values_of(task), "params": values_of(settings), "device": str(device),
              "seconds": seconds, **allotment.report(run, predicted)}
    if args.json:
        print_json(report)
        return 0
    print(f"drive-allotment: a drive of strength mu={args.drive:g} at beta={settings.beta:g} on {task.task} of size "
          f"{task.size}: {report['networks']} step networks (drive and drive-free) and a predictor each, on {device} "
          f"in {seconds:.1f} s (drive accuracy 0.5 is chance)")
    print(f"   {'allotment':<32} {'drive-free steps':>16} {'drive steps':>11} {'extra':>6} {'share':>6} "
          f"{'drive acc':>9} {'accuracy':>8}")
    for name, label in zip(allotment.ALLOTMENTS, ("learned halting (picks its exit)", "offline predictor (fixed)")):
        a = report[name]
        print(f"   {label:<32} {a['plain']['steps']:>16.2f} {a['drive']['steps']:>11.2f} {a['extra_steps']:>+6.2f} "
              f"{a['drive_share']:>6.2f} {a['drive']['drive_accuracy']:>9.3f} {a['drive']['accuracy']:>8.3f}")
    print(report["finding"])
    return 0


def _print(report: dict, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    rows = report.get("sweep") or [report]
    unit = report["compute_unit"]
    print(f"{report['proposal']}: {report['task']['task']} of size {report['task']['size']}, {report['networks']} network(s) "
          f"on {report['device']} ({report['threads']} thread(s)) in {report['seconds']:.1f} s; compute counted in {unit}")
    for key, label in (("k_found", "K found (0: never good)"), ("alpha_found", "alpha found (None: never good)"),
                       ("found", "size found (None: never good)"), ("retraining_ratio", "training compute over all sizes / the found size once")):
        if key in report:
            print(f"{label}: {report[key]}")
    if "penalty_acts_on" in report:
        counts = report["step_counts"]
        print(f"steps by rule: {counts['steps_by_rule']}; expected steps: {counts['expected_steps']}. "
              f"The penalty beta * KL(p_halt || p_G) prices the expected steps (on training batches); the rule never enters the loss.")
    for row in rows:
        point = ", ".join(f"{k}={row[k]:g}" for k in ("beta", "lambda_p", "mu", "alpha") if k in row and "sweep" in report)
        line = (f"{point + ': ' if point else ''}accuracy {row['accuracy']:.3f} (held-out {num(row['heldout_accuracy'])}), "
                f"mean {unit} {row['mean_steps']:.4g}, max {row['max_steps']:.4g}, spent after the answer was ready {row['wasted_steps']:.2f}")
        if row.get("drive_accuracy") is not None:
            line += f", drive accuracy {row['drive_accuracy']:.3f}"
        print(line)
        print("   difficulty " + " ".join(f"{r['difficulty']:>5d}{'*' if r['heldout'] else ' '}" for r in row["by_difficulty"]))
        print("   accuracy   " + " ".join(f"{r['accuracy']:>6.3f}" for r in row["by_difficulty"]))
        if "expected_steps" in row:
            print(f"   steps by rule {row['steps_by_rule']:.3f} (held-out {num(row['heldout_steps_by_rule'])}), "
                  f"expected steps {row['expected_steps']:.3f} (held-out {num(row['heldout_expected_steps'])})")
            print("   by rule    " + " ".join(f"{r['steps_by_rule']:>6.4g}" for r in row["by_difficulty"]))
            print("   expected   " + " ".join(f"{r['expected_steps']:>6.4g}" for r in row["by_difficulty"]))
        else:
            print("   mean       " + " ".join(f"{r['mean_steps']:>6.4g}" for r in row["by_difficulty"]))
        pred = row.get("predictor")
        if pred:
            print(f"   rollout predictor: accuracy {pred['accuracy']:.3f}, mean steps {pred['mean_steps']:.2f}")
            print("   mean       " + " ".join(f"{r['mean_steps']:>6.4g}" for r in pred["by_difficulty"]))
    print("   (* held out: harder than any training example)")

