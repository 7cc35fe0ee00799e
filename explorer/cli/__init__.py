"""The command line, the top layer: `python -m explorer {scenarios,select,claims,anneal,bench,serve,story,neural,programs,search,screenshots}`.

Here are only options and printing; each command calls plain functions of the core. One module per
command group (scenarios.py: scenarios and select; claims.py: the claims matrix; anneal.py; bench.py;
serve.py; story.py; neural.py; programs.py; search.py: the local search; screens.py: screenshots), with the shared options in options.py
and the printing helpers in output.py.

A user's mistake (unknown scenario or parameter, a value of the wrong type or out of range, a back end
this machine lacks) prints one line naming what is wrong and what is allowed, and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from explorer.cli import anneal, bench, claims, neural, programs, scenarios, screens, search, serve, story
from explorer.cli.options import CliParser
from explorer.cli.serve import run_forwarding_signals, serve_command
from explorer.errors import ExplorerError

__all__ = ["USAGE_ERROR", "build_parser", "main", "run_forwarding_signals", "serve_command"]

USAGE_ERROR = 2

#: The command groups, in the order `--help` lists them.
GROUPS = (scenarios, claims, anneal, bench, serve, screens, story, neural, programs, search)


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="python -m explorer", description="Speed Prior Explorer: which program does each prior select?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)
    for group in GROUPS:
        group.add_parsers(sub)
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
