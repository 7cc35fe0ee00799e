"""Options several commands share: the parser that reports a mistake in one line, `--set NAME=VALUE`, and
`--scenario ID` with `--scenario-dir DIR` (a user's own scenario folders)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import param

from explorer.errors import ExplorerError
from explorer.params import parse_value


class CliParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (argparse prints the usage block too)."""

    def error(self, message):
        raise ExplorerError(f"{message} (see `{self.prog} --help`)")


def class_lookup(*classes: type[param.Parameterized]) -> Callable[[str], param.Parameter]:
    """Look a flat name up among the parameters of `classes`; an unknown name lists the known ones."""
    known = {n: c.param[n] for c in classes for n in c.param if n != "name"}

    def lookup(name: str) -> param.Parameter:
        if name not in known:
            raise ExplorerError(f"unknown parameter {name!r}; known parameters: {', '.join(sorted(known))}")
        return known[name]

    return lookup


def parse_sets(items: Sequence[str], lookup: Callable[[str], param.Parameter]) -> dict[str, Any]:
    """Turn `name=value` strings into typed values, each checked against the parameter `lookup(name)` gives."""
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ExplorerError(f"--set {item!r}: expected name=value")
        out[name] = parse_value(lookup(name), text)
    return out


def add_scenario_dir_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario-dir", dest="scenario_dir", action="append", metavar="DIR",
                   help="also read scenarios (ID.scenario.yaml) from this folder (repeatable)")


def add_scenario_options(p: argparse.ArgumentParser) -> None:
    """--scenario, --scenario-dir, --set, --backend and --json, as select and anneal take them."""
    from explorer.backend import BACKEND_NAMES

    p.add_argument("--scenario", metavar="ID", help="start from a preset (see `scenarios`)")
    add_scenario_dir_option(p)
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="set a parameter (repeatable)")
    p.add_argument("--backend", choices=BACKEND_NAMES, help="array back end (default numpy)")
    p.add_argument("--json", action="store_true", help="print JSON")


def use_scenario_dirs(args: argparse.Namespace) -> None:
    """Make the scenarios of every --scenario-dir known, before any scenario is looked up."""
    if getattr(args, "scenario_dir", None):
        from explorer.scenarios import add_scenario_dirs

        add_scenario_dirs(args.scenario_dir)
