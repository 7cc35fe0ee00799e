"""The command line: `python -m explorer {scenarios,select,anneal,bench,serve,story,neural,programs}`.

A user's mistake (unknown scenario or parameter, a value of the wrong type or out of range, a back end
this machine lacks) prints one line naming what is wrong and what is allowed, and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import param

from explorer.errors import ExplorerError
from explorer.params import parse_value
from explorer.priors import PRIORS, PriorSettings
from explorer.table import KINDS
from explorer.worlds.abstract import AbstractWorld

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (argparse prints the usage block too)."""

    def error(self, message):
        raise ExplorerError(f"{message} (see `{self.prog} --help`)")


def _param_lookup(*classes: type[param.Parameterized]) -> dict[str, param.Parameter]:
    return {n: c.param[n] for c in classes for n in c.param if n != "name"}


def parse_sets(items: Sequence[str], *classes: type[param.Parameterized]) -> dict[str, Any]:
    """Turn `name=value` strings into typed values, checked against the parameters of `classes`."""
    known = _param_lookup(*classes)
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ExplorerError(f"--set {item!r}: expected name=value")
        if name not in known:
            raise ExplorerError(f"unknown parameter {name!r}; known parameters: {', '.join(sorted(known))}")
        out[name] = parse_value(known[name], text)
    return out


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _print_json(data) -> None:
    print(json.dumps(_jsonable(data), indent=2, allow_nan=False))


# ---- scenarios ---------------------------------------------------------------------------------

def cmd_scenarios(args) -> int:
    from explorer.scenarios import SCENARIOS

    rows = []
    failed = 0
    for s in SCENARIOS.values():
        row = {"id": s.id, "title": s.title, "claim": s.claim, "explanation": s.explanation, "params": dict(s.params)}
        if args.check:
            outcomes = s.verify(**({"backend": args.backend} if args.backend else {}))
            row["checks"] = [{"check": o.check.describe(), "left": o.left, "right": o.right, "passed": o.passed} for o in outcomes]
            failed += sum(not o.passed for o in outcomes)
        rows.append(row)
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            print(f"{row['id']:24s} {row['title']}")
            print(f"{'':24s} claim: {row['claim']}")
            for c in row.get("checks", []):
                print(f"{'':24s}   [{'ok' if c['passed'] else 'FAILED'}] {c['check']}  ({_fmt(c['left'])} vs {_fmt(c['right'])})")
    return 1 if failed else 0


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# ---- select ------------------------------------------------------------------------------------

def _scenario_params(args, *classes) -> tuple[str, dict[str, Any]]:
    from explorer.scenarios import get_scenario

    scenario = get_scenario(args.scenario) if args.scenario else None
    params = dict(scenario.params) if scenario else {}
    params.update(parse_sets(args.set or [], *classes))
    if args.backend:
        params["backend"] = args.backend
    return (scenario.id if scenario else None), params


def cmd_select(args) -> int:
    from explorer.backend import get_backend
    from explorer.simulation import Simulation

    scenario_id, params = _scenario_params(args, AbstractWorld, PriorSettings)
    sim = Simulation(**params)
    get_backend(sim.world.backend)  # a clear error before any work if the back end is not here
    results = sim.select()
    report = {"scenario": scenario_id, "params": sim.params(), "priors": {p: r.to_dict() for p, r in results.items()}}
    if args.json:
        _print_json(report)
        return 0
    n = results["combined"].n_candidates
    print(f"scenario: {scenario_id or '(defaults)'}   programs: {sim.world.n_programs}   look good: {n}   backend: {sim.world.backend}")
    header = f"{'prior':14s} {'MAP kind':10s} {'avg C':>7s} {'max C':>7s} {'bits':>6s}  " + " ".join(f"{k:>9s}" for k in KINDS) + f" {'good':>7s} {'deploy':>7s}"
    print(header)
    for prior in PRIORS:
        r = report["priors"][prior]
        m = r["map"]
        lead = f"{prior:14s} " + (f"{m['kind']:10s} {m['avg_compute']:7.2f} {m['max_compute']:7.2f} {m['bits']:6.1f}  " if m else f"{'(none)':10s} {'':7s} {'':7s} {'':6s}  ")
        print(lead + " ".join(f"{r['mass'][k]:9.3f}" for k in KINDS) + f" {r['actually_good']:7.3f} {r['deploy_perf']:7.3f}")
    if n == 0:
        print("no program looks good: lower performance_threshold or raise capacity_max")
    return 0


# ---- anneal ------------------------------------------------------------------------------------

def cmd_anneal(args) -> int:
    from explorer import annealing
    from explorer.priors import looks_good
    from explorer.simulation import Simulation

    scenario_id, params = _scenario_params(args, AbstractWorld, PriorSettings, annealing.AnnealingSettings)
    anneal_names = [n for n in annealing.AnnealingSettings.param if n != "name"]
    anneal_params = {k: params.pop(k) for k in list(params) if k in anneal_names and k not in AbstractWorld.param and k not in PriorSettings.param}
    if "rate" in anneal_params:
        raise ExplorerError("rate: the sweep sets rate = ratio x search speed for each ratio; choose the ratios with --ratios")
    for flag in ("runs", "schedule", "sampling", "search_speed"):
        if getattr(args, flag) is not None:
            anneal_params[flag] = getattr(args, flag)
    sim = Simulation(**params)
    # The search's own simplicity bias is the prior's simplicity weight, and its seed the world's: the
    # names are shared, so one --set moves both.
    settings = annealing.AnnealingSettings(seed=sim.world.seed, w_simplicity=sim.priors.w_simplicity, **anneal_params)
    table = sim.table()
    mask = looks_good(table, sim.priors.performance_threshold, sim.priors.generalization_check, sim.priors.compute_budget)
    ratios = args.ratios or list(annealing.DEFAULT_RATIOS)
    if any(not (r > 0 and math.isfinite(r)) for r in ratios):
        raise ExplorerError(f"--ratios: every ratio must be a positive number, got {ratios}")
    rows = _with_progress(lambda progress: annealing.sweep(table, mask, settings, ratios, progress=progress),
                          len(ratios), "annealing", disable=args.json or not sys.stderr.isatty())
    report = {"scenario": scenario_id, "params": {**sim.params(), **{k: v for k, v in settings.param.values().items() if k != "name"}},
              "sweep": rows}
    if args.json:
        _print_json(report)
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
        print(f"{row['ratio']:10.4g} {_num(cs['median']):>10s} {_num(cs['p90']):>8s}  " + " ".join(f"{row['kind'].get(k, 0.0):9.3f}" for k in kinds))
    return 0


def _num(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3f}"


def _with_progress(work, total: int, desc: str, disable: bool):
    """Run `work(progress)` with a tqdm bar over `total` units on stderr."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="sweep point", file=sys.stderr, disable=disable, leave=False) as bar:
        return work(lambda *_: bar.update(1))


# ---- bench -------------------------------------------------------------------------------------

def cmd_bench(args) -> int:
    from explorer import bench
    from explorer.backend import get_backend

    if args.suite == "neural":
        from explorer.worlds.neural.bench import main

        return main(args)
    if args.suite == "programs":
        from explorer.worlds.enumerated.bench import main as programs_main

        return programs_main(args)
    if args.browser:
        from explorer import bench_browser

        sizes = tuple(int(s) for s in args.sizes) if args.sizes else (100_000, 1_000_000)
        report = bench_browser.run(sizes=sizes, progress=not args.json)
        _print_json(report) if args.json else print(bench_browser.format_report(report))
        return 0

    get_backend(args.backend)
    sizes = tuple(int(s) for s in args.sizes) if args.sizes else (100_000, 1_000_000, 10_000_000)
    report = bench.run(sizes=sizes, backend=args.backend, threads=args.threads, progress=not args.json)
    if args.json:
        _print_json(report)
    else:
        print(bench.format_report(report))
    return 0


# ---- serve -------------------------------------------------------------------------------------

#: The panel-serve apps; found beside the package in a source checkout (the README's set-up).
APPS_DIR = Path(__file__).resolve().parent.parent / "apps"
#: The site index at /: Panel's, less the web font and the images it loads from other hosts.
INDEX_HTML = Path(__file__).resolve().parent / "ui" / "index.html"


def serve_command(port: int, show: bool = False, address: str | None = None) -> list[str]:
    """The `panel serve` command line that serves every app in apps/ (each at its file's name)."""
    apps = sorted(str(p) for p in APPS_DIR.glob("*.py"))
    if not apps:
        raise ExplorerError(f"no apps to serve: {APPS_DIR} has no .py files (serve runs from a source checkout)")
    cmd = [sys.executable, "-m", "explorer.ui.panel_serve", "--port", str(port)]
    if address:
        cmd += ["--address", address]
    if show:
        cmd.append("--show")
    cmd += ["--index", str(INDEX_HTML)]  # Panel's own index page loads a web font and its logo from outside
    return cmd + apps


def cmd_serve(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ExplorerError(f"--port: {args.port} is not a port number (0 to 65535)")
    cmd = serve_command(args.port, args.show, args.address)
    print(f"serving {', '.join(Path(a).stem for a in cmd if a.endswith('.py'))} at http://localhost:{args.port}/", file=sys.stderr)
    return run_forwarding_signals(cmd)


def run_forwarding_signals(cmd: list[str], grace_s: float = 5.0) -> int:
    """Run `cmd` and pass a SIGTERM or Ctrl-C on to it, so stopping this wrapper never leaves the server
    running on its own; a child that has not exited `grace_s` seconds later is killed."""
    proc = subprocess.Popen(cmd)
    stopping = []

    def forward(signum, _frame):
        stopping.append(signum)
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                code = proc.wait(timeout=grace_s if stopping else None)
                return 0 if stopping else code
            except KeyboardInterrupt:
                forward(signal.SIGINT, None)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---- parser ------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from explorer.backend import BACKEND_NAMES

    parser = _Parser(prog="python -m explorer", description="Speed Prior Explorer: which program does each prior select?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("scenarios", help="list the presets and the claim each demonstrates")
    p.add_argument("--check", action="store_true", help="compute every claim's checks (exit 1 if one fails)")
    p.add_argument("--backend", choices=BACKEND_NAMES, help="array back end for --check")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_scenarios)

    def common(p):
        p.add_argument("--scenario", metavar="ID", help="start from a preset (see `scenarios`)")
        p.add_argument("--set", action="append", metavar="NAME=VALUE", help="set a parameter (repeatable)")
        p.add_argument("--backend", choices=BACKEND_NAMES, help="array back end (default numpy)")
        p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("select", help="what each prior selects: MAP program and posterior mass per kind")
    common(p)
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("anneal", help="Proposal 0: computational annealing, swept over annealing rate / search speed")
    common(p)
    p.add_argument("--runs", type=int, help="independent runs per sweep point")
    p.add_argument("--schedule", choices=["linear", "geometric", "backoff"], help="how C rises")
    p.add_argument("--sampling", choices=["uniform", "simplicity"], help="how the search draws from P(C)")
    p.add_argument("--search-speed", dest="search_speed", type=int, help="samples drawn per step")
    p.add_argument("--ratios", type=float, nargs="+", metavar="R", help="annealing rate / search speed values to sweep")
    p.set_defaults(func=cmd_anneal)

    p = sub.add_parser("bench", help="build and re-selection speed, as ratios measured in one run")
    p.add_argument("suite", nargs="?", choices=["core", "neural", "programs"], default="core",
                   help="core (default), neural (batched networks against a loop) or programs (vectorised interpreter "
                        "against plain Python; --sizes L sets the program length, default 6)")
    p.add_argument("--sizes", nargs="+", type=float, metavar="N", help="program counts (default 1e5 1e6 1e7)")
    p.add_argument("--backend", default="numpy", choices=BACKEND_NAMES)
    p.add_argument("--threads", type=int, default=1, help="torch threads (stated in the report)")
    p.add_argument("--browser", action="store_true",
                   help="instead: slider-to-paint latency of the priors app against Panel's own round trip (needs chromium)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("serve", help="serve the apps in apps/ with panel (each at /its-file-name)")
    p.add_argument("--port", type=int, default=5006, help="port to listen on (default 5006)")
    p.add_argument("--address", help="address to listen on (default: all interfaces)")
    p.add_argument("--show", action="store_true", help="open the apps in a browser")
    p.set_defaults(func=cmd_serve)

    # Each world's and the stories' commands live beside their code.
    from explorer.stories.commands import add_story_parser
    from explorer.worlds.enumerated.commands import add_programs_parser
    from explorer.worlds.neural.commands import add_neural_parser

    add_story_parser(sub)
    add_neural_parser(sub)
    add_programs_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from explorer.memory import keep_freed_memory

    keep_freed_memory()
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `python -m explorer select | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
