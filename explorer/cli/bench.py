"""`bench [core|neural|programs|load] [--browser]`: the benchmarks, each a ratio measured in one run."""

from __future__ import annotations

import json
import sys

from explorer.cli.output import print_json

SUITES = ("core", "neural", "programs", "load")


def add_parsers(sub) -> None:
    from explorer.backend import BACKEND_NAMES

    p = sub.add_parser("bench", help="build and re-selection speed, as ratios measured in one run")
    p.add_argument("suite", nargs="?", choices=SUITES, default="core",
                   help="core (default), neural (batched networks against a loop) or programs (`programs enumerate` end to "
                        "end, its compiled interpreter against the array one (on --backend) and plain Python; --sizes "
                        "L [L ...] sets the program lengths, default 6 7) or load (N sessions on "
                        "one `serve`: arrivals, a newcomer's first canvas, a probe's slider latency, memory, queues)")
    p.add_argument("--sizes", nargs="+", type=float, metavar="N", help="program counts (default 1e5 1e6 1e7)")
    p.add_argument("--backend", default="numpy", choices=BACKEND_NAMES)
    p.add_argument("--threads", type=int, default=1, help="torch threads (stated in the report)")
    p.add_argument("--browser", action="store_true",
                   help="instead: slider-to-paint latency of the priors app against Panel's own round trip (needs chromium)")
    p.add_argument("--json", action="store_true", help="print JSON")
    browser = p.add_argument_group("browser", "options of `bench --browser`")
    browser.add_argument("--moves", type=int, default=15, help="moves of each slider per size (default 15)")
    browser.add_argument("--trace", metavar="DIR",
                         help="also record a Chromium trace of a few more moves of each slider in DIR, and print where "
                              "the browser's main thread spent them")
    load = p.add_argument_group("load", "options of `bench load` (it starts its own server on 127.0.0.1)")
    load.add_argument("--sessions", nargs="+", type=int, metavar="N", default=[1, 5, 10, 20],
                      help="the levels: sessions live at once (default 1 5 10 20; 1, the baseline, is always run)")
    load.add_argument("--pace", type=float, default=2.0, help="seconds between one session's slider moves (default 2)")
    load.add_argument("--duration", type=float, default=20.0, help="seconds of slider moves per level (default 20)")
    load.add_argument("--port", type=int, help="the server's port (default: a free one)")
    load.add_argument("--enumerations", type=int, default=0, metavar="K",
                      help="also: K simultaneous length-6 enumerations on a fresh server (peak memory, probe p95)")
    load.add_argument("--no-browser", action="store_true", help="Bokeh client sessions only, no Chromium")
    load.add_argument("--browser-pages", type=int, default=2, metavar="B",
                      help="arrivals per level that are Chromium pages (default 2)")
    load.add_argument("--mix", type=float, default=0.1,
                      help="share of each level's sessions on /programs, and the same on /neural (default 0.1)")
    load.add_argument("--sequential", type=int, default=30, metavar="S",
                      help="sessions opened and closed one after another for the memory check (default 30; 0: skip)")
    load.add_argument("--discard-wait", type=float, default=35.0, metavar="S",
                      help="seconds after sessions close before memory is read (Bokeh discards a closed session "
                           "at its next check, every 17 s, once unused 15 s; default 35)")
    load.add_argument("--num-procs", type=int, default=1, metavar="N",
                      help="serve from N processes (serve --num-procs; default 1); RSS is summed over them")
    load.add_argument("--server-log", metavar="FILE", help="keep the (first) server's log in this file")
    load.add_argument("--out", help="also write the report (text, or JSON with --json) to this file")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    if args.suite == "load":
        return _load(args)
    if args.suite == "neural":
        from explorer.worlds.neural import bench as neural_bench

        device = "cuda" if args.backend == "torch:cuda" else "cpu"
        report = neural_bench.run(threads=args.threads, device=device, progress=not args.json)
        return _show(args, report, neural_bench.format_report)
    if args.suite == "programs":
        from explorer.worlds.enumerated import bench as programs_bench

        lengths = tuple(int(s) for s in args.sizes) if args.sizes else (6, 7)
        report = programs_bench.run(lengths=lengths, threads=args.threads, array_backend=args.backend,
                                    progress=None if args.json else _say)
        return _show(args, report, programs_bench.format_report)
    if args.browser:
        from explorer import bench_browser

        sizes = tuple(int(s) for s in args.sizes) if args.sizes else (100_000, 1_000_000)
        if args.moves < 1:
            from explorer.errors import ExplorerError

            raise ExplorerError(f"--moves: {args.moves} is not a number of moves (1 or more)")
        report = bench_browser.run(sizes=sizes, moves=args.moves, trace=args.trace, progress=not args.json)
        return _show(args, report, bench_browser.format_report)

    from explorer import bench
    from explorer.backend import get_backend

    get_backend(args.backend)
    sizes = tuple(int(s) for s in args.sizes) if args.sizes else (100_000, 1_000_000, 10_000_000)
    report = bench.run(sizes=sizes, backend=args.backend, threads=args.threads, progress=not args.json)
    return _show(args, report, bench.format_report)


def _load(args) -> int:
    from explorer.ui import bench_load
    from explorer.errors import ExplorerError

    if args.pace <= 0 or args.duration <= 0:
        raise ExplorerError(f"--pace and --duration must be positive seconds (got {args.pace}, {args.duration})")
    if not 0 <= args.mix <= 0.5:
        raise ExplorerError(f"--mix: {args.mix} is not a share between 0 and 0.5")
    if args.port is not None and not 0 < args.port <= 65535:
        raise ExplorerError(f"--port: {args.port} is not a port number (1 to 65535)")
    if args.num_procs < 1:
        raise ExplorerError(f"--num-procs: {args.num_procs} is not a number of processes (1 or more)")
    report = bench_load.run(sessions=args.sessions, pace=args.pace, duration=args.duration, port=args.port,
                            browser=not args.no_browser, browser_pages=args.browser_pages, mix=args.mix,
                            sequential=args.sequential, enumerations=args.enumerations,
                            discard_wait=args.discard_wait, server_log=args.server_log, progress=True,
                            num_procs=args.num_procs)
    if args.out:
        from pathlib import Path

        from explorer.cli.output import jsonable

        text = json.dumps(jsonable(report), indent=2) if args.json else bench_load.format_report(report)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return _show(args, report, bench_load.format_report)


def _say(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def _show(args, report: dict, format_report) -> int:
    print_json(report) if args.json else print(format_report(report))
    return 0
