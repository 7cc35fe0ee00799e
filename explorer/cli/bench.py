"""`bench [core|neural|programs] [--browser]`: the benchmarks, each a ratio measured in one run."""

from __future__ import annotations

from explorer.cli.output import print_json

SUITES = ("core", "neural", "programs")


def add_parsers(sub) -> None:
    from explorer.backend import BACKEND_NAMES

    p = sub.add_parser("bench", help="build and re-selection speed, as ratios measured in one run")
    p.add_argument("suite", nargs="?", choices=SUITES, default="core",
                   help="core (default), neural (batched networks against a loop) or programs (vectorised interpreter "
                        "against plain Python; --sizes L sets the program length, default 6)")
    p.add_argument("--sizes", nargs="+", type=float, metavar="N", help="program counts (default 1e5 1e6 1e7)")
    p.add_argument("--backend", default="numpy", choices=BACKEND_NAMES)
    p.add_argument("--threads", type=int, default=1, help="torch threads (stated in the report)")
    p.add_argument("--browser", action="store_true",
                   help="instead: slider-to-paint latency of the priors app against Panel's own round trip (needs chromium)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    if args.suite == "neural":
        from explorer.worlds.neural import bench as neural_bench

        device = "cuda" if args.backend == "torch:cuda" else "cpu"
        report = neural_bench.run(threads=args.threads, device=device, progress=not args.json)
        return _show(args, report, neural_bench.format_report)
    if args.suite == "programs":
        from explorer.worlds.enumerated import bench as programs_bench

        max_length = int(args.sizes[0]) if args.sizes else 6
        report = programs_bench.run(max_length=max_length, backend=args.backend, threads=args.threads)
        return _show(args, report, programs_bench.format_report)
    if args.browser:
        from explorer import bench_browser

        sizes = tuple(int(s) for s in args.sizes) if args.sizes else (100_000, 1_000_000)
        return _show(args, bench_browser.run(sizes=sizes, progress=not args.json), bench_browser.format_report)

    from explorer import bench
    from explorer.backend import get_backend

    get_backend(args.backend)
    sizes = tuple(int(s) for s in args.sizes) if args.sizes else (100_000, 1_000_000, 10_000_000)
    report = bench.run(sizes=sizes, backend=args.backend, threads=args.threads, progress=not args.json)
    return _show(args, report, bench.format_report)


def _show(args, report: dict, format_report) -> int:
    print_json(report) if args.json else print(format_report(report))
    return 0
