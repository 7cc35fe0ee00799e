"""Scenarios: named presets of a world, each with the claim it demonstrates, read from files.

A scenario is a file `ID.scenario.yaml`:

    id: goof-off                       # the file's name without .scenario.yaml
    title: Goofing off on easy tasks
    world: abstract                    # abstract | enumerated | neural (explorer.worlds.WORLDS)
    params: {misbehaviour_cost: 3}     # flat parameter names of that world and of the priors
    explanation: >
      Why the preset is set up this way.
    claim: What it shows, in one or two sentences.
    checks:                            # all must hold for the claim to hold (explorer.checks grammar)
      - {metric: average_speed.posterior.goof_off, op: "<", other: max_speed.posterior.goof_off}
    worlds:                            # how each world where the claim is checked decides it
      abstract: {by: construction, reason: Goof-offs share honest programs' capacity, so max compute ties.}
      enumerated:                      # another world: its own params; the checks above unless given
        by: measurement
        reason: Steps are counted on every input.
        params: {task: parity, max_length: 5}

`worlds` says, for the scenario's own world and for any other world its claim is checked in, whether that
world decides the claim *by construction* (its rules make the checks come out so, whatever the random
draw) or *by measurement* (programs are run or trained and the outcome could go either way), and why. A
file without an entry for its own world is read as decided by measurement, with the reason that the file
does not say. Another world's entry gives that world's parameters, and its own `checks` where the
scenario's do not apply there.

The shipped scenarios are in assets/scenarios; a user adds more without touching the package, in
folders named by `add_scenario_dirs` (the CLI's --scenario-dir) or by EXPLORER_SCENARIO_PATH (folders
separated by os.pathsep). A user scenario with a shipped id, or two user files with one id, is an
ExplorerError naming both files. Files are read with the safe loader of explorer.yamlfile and checked
completely (world, parameters, metrics, operators) with located messages.

`SCENARIOS` is a read-only mapping of every known scenario, loaded on first use and again whenever the
folders change. Checks assert directions, never numbers copied from a run.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer import checks
from explorer.checks import Outcome, Predicate, Runner
from explorer.errors import ExplorerError
from explorer.params import type_name
from explorer.priors import PriorSettings
from explorer.simulation import Simulation
from explorer.worlds import WORLDS, get_world
from explorer.yamlfile import Reader, load, plain, read_text

#: The shipped scenarios, beside the package in a source checkout (as assets/stories and assets/tours).
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "assets" / "scenarios"
SUFFIX = ".scenario.yaml"
#: Folders of user scenarios, separated by os.pathsep.
ENV_VAR = "EXPLORER_SCENARIO_PATH"
KEYS = ("id", "title", "world", "params", "explanation", "claim", "checks", "worlds")
CASE_KEYS = ("by", "reason", "params", "checks")
#: How a world decides a claim: its rules make the checks hold (or fail) whatever the draw, or it measures.
DECIDED_BY = ("construction", "measurement")
UNSTATED = "the scenario file does not say how this world decides the claim"
REQUIRED = ("id", "title", "params", "explanation", "claim", "checks")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


@dataclass(frozen=True)
class WorldCase:
    """One world a scenario's claim is checked in: its parameters, its checks, and how it decides them."""

    world: str
    by: str
    reason: str
    params: Mapping[str, Any]
    checks: tuple[Predicate, ...]
    stated: bool = True

    def runner(self, scenario: str = "", shared: bool = False, **overrides) -> Runner:
        return Runner(self.world, {**self.params, **overrides}, scenario=scenario, shared=shared)


@dataclass(frozen=True)
class Scenario:
    """A world, a preset of its parameters, and checks that demonstrate a claim."""

    id: str
    title: str
    explanation: str
    claim: str
    params: Mapping[str, Any]
    checks: tuple[Predicate, ...]
    world: str = "abstract"
    path: Path | None = field(default=None, compare=False)
    #: Every world the claim is checked in, the scenario's own first (see the module docstring).
    cases: Mapping[str, WorldCase] = field(default_factory=dict, compare=False)

    def case(self, world: str | None = None) -> WorldCase:
        """How `world` (default the scenario's own) checks and decides this claim."""
        world = world or self.world
        if world in self.cases:
            return self.cases[world]
        if world == self.world:
            return WorldCase(self.world, "measurement", UNSTATED, dict(self.params), self.checks, stated=False)
        raise ExplorerError(f"scenario {self.id!r} is not checked in the {world} world; its worlds: "
                            f"{', '.join(self.cases) or self.world}")

    @property
    def worlds(self) -> tuple[str, ...]:
        """The worlds this claim is checked in, its own first."""
        return (self.world, *(w for w in self.cases if w != self.world))

    def simulation(self, **overrides) -> Simulation:
        """A Simulation of this scenario's world with its parameters, then `overrides` applied."""
        return checks.new_simulation(self.world, {**self.params, **overrides})

    def runner(self, shared: bool = False, **overrides) -> Runner:
        """A check runner in this scenario's context (its world, its parameters with `overrides`)."""
        return Runner(self.world, {**self.params, **overrides}, scenario=self.id, shared=shared)

    def metric_names(self, params: Mapping[str, Any] | None = None) -> set[str]:
        """The PRIOR.METRIC names this scenario produces with `params` on top of its own."""
        return checks.metric_names(self.world, {**self.params, **(params or {})})

    def verify(self, **overrides) -> list[Outcome]:
        """Evaluate every check (overrides such as backend or n_programs apply to both sides of each)."""
        return self.runner(**overrides).verify(self.checks)


# ---- folders ------------------------------------------------------------------------------------

_user_dirs: list[Path] = []
_lock = threading.RLock()
_loaded: tuple[tuple, dict[str, Scenario]] | None = None
_once = threading.local()  # depth of looked_once() blocks on this thread, and what they looked up


def add_scenario_dirs(dirs: Iterable[str | Path]) -> None:
    """Add folders of user scenarios (the CLI's --scenario-dir); the next use of SCENARIOS reloads."""
    if isinstance(dirs, (str, Path)):
        dirs = [dirs]
    for d in dirs:
        path = Path(d).expanduser()
        if not path.is_dir():
            raise ExplorerError(f"--scenario-dir: {d} is not a folder")
        if path.resolve() not in [p.resolve() for p in _user_dirs]:
            _user_dirs.append(path)


def shipped_scenario_ids() -> list[str]:
    """The ids of the scenarios shipped in assets/scenarios (what the published story schema lists)."""
    return sorted(p.name.removesuffix(SUFFIX) for p in SHIPPED_DIR.glob(f"*{SUFFIX}"))


def scenario_dirs() -> list[Path]:
    """Every folder scenarios are read from: the shipped one, then EXPLORER_SCENARIO_PATH's, then
    those added by add_scenario_dirs."""
    env = [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    for p in env:
        if not p.is_dir():
            raise ExplorerError(f"{ENV_VAR}: {p} is not a folder")
    return [SHIPPED_DIR, *env, *_user_dirs]


def _stamp(dirs: list[Path]) -> tuple:
    """What, if it changes, makes SCENARIOS reload: the folders and their files' names and times."""
    files = []
    for d in dirs:
        for p in sorted(d.glob(f"*{SUFFIX}")):
            try:
                files.append((str(p), p.stat().st_mtime_ns))
            except OSError:
                files.append((str(p), None))
    return tuple(map(str, dirs)), tuple(files)


@contextmanager
def looked_once() -> Iterator[None]:
    """Within the block, `all_scenarios` looks at the scenario folders at most once on this thread.

    One slider move's update asks for presets some 25 times (the story panel's evidence, the link, the
    controls), and each time the folders were listed and every file stat'ed, some 5 ms of each move on
    these machines; a file changed during one update can wait for the next."""
    depth = getattr(_once, "depth", 0)
    _once.depth = depth + 1
    try:
        yield
    finally:
        _once.depth = depth
        if depth == 0:
            _once.found = None


def all_scenarios() -> dict[str, Scenario]:
    """Every scenario by id: shipped ones first, then the users', each folder's files sorted by name."""
    held = getattr(_once, "depth", 0) > 0
    if held and getattr(_once, "found", None) is not None:
        return _once.found
    found = _all_scenarios()
    if held:
        _once.found = found
    return found


def _all_scenarios() -> dict[str, Scenario]:
    global _loaded
    with _lock:
        dirs = scenario_dirs()
        stamp = _stamp(dirs)
        if _loaded is None or _loaded[0] != stamp:
            found: dict[str, Scenario] = {}
            for d in dirs:
                for path in sorted(d.glob(f"*{SUFFIX}")):
                    s = load_scenario(path)
                    if s.id in found:
                        raise ExplorerError(f"scenario id {s.id!r} is defined twice: in {found[s.id].path} and in "
                                            f"{path}; rename one of them (file name and id)")
                    found[s.id] = s
            _loaded = (stamp, found)
        return _loaded[1]


class _Scenarios(Mapping):
    """The read-only mapping id -> Scenario of every known scenario (see all_scenarios)."""

    def __getitem__(self, key: str) -> Scenario:
        return all_scenarios()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(all_scenarios())

    def __len__(self) -> int:
        return len(all_scenarios())

    def __repr__(self) -> str:
        return f"SCENARIOS({', '.join(self)})"


SCENARIOS: Mapping[str, Scenario] = _Scenarios()


def scenarios_of(world: str) -> dict[str, Scenario]:
    """The scenarios of one world, by id."""
    get_world(world)
    return {i: s for i, s in all_scenarios().items() if s.world == world}


def get_scenario(scenario_id: str) -> Scenario:
    """The scenario with this id; an unknown id raises ExplorerError listing the known ones."""
    known = all_scenarios()
    try:
        return known[scenario_id]
    except (KeyError, TypeError):
        raise ExplorerError(f"unknown scenario {scenario_id!r}; scenarios: {', '.join(known)}") from None


def machine_params(world: str) -> tuple[str, ...]:
    """Parameters a preset leaves as the user set them: how much to compute, and where."""
    return tuple(get_world(world).machine_params)


#: The abstract world's machine parameters (n_programs, backend).
MACHINE_PARAMS = machine_params("abstract")


def preset_params(scenario_id: str) -> dict[str, Any]:
    """Every parameter's default (world and priors) with the scenario's values on top, minus the world's
    machine parameters: applying it loads the preset completely, so nothing set earlier lingers."""
    s = get_scenario(scenario_id)
    fixed = machine_params(s.world)
    defaults = {n: c.param[n].default for c in (get_world(s.world), PriorSettings) for n in c.param
                if n != "name" and n not in fixed}
    defaults = {k: dict(v) if isinstance(v, dict) else v for k, v in defaults.items()}
    return {**defaults, **{k: dict(v) if isinstance(v, dict) else v for k, v in s.params.items()}}


# ---- reading ------------------------------------------------------------------------------------

def load_scenario(path: str | Path) -> Scenario:
    """Read and check one scenario file; any mistake raises ExplorerError naming the file and line."""
    path = Path(path)
    scenario = parse_scenario(read_text(path, "scenario"), path)
    stem = path.name.removesuffix(SUFFIX)
    if path.name.endswith(SUFFIX) and scenario.id != stem:
        raise ExplorerError(f"{path}:1: the scenario's id is {scenario.id!r}, but the file is named {path.name}; "
                            f"name it {scenario.id}{SUFFIX} (or change the id)")
    return scenario


def parse_scenario(text: str, path: str | Path = "<scenario>") -> Scenario:
    """Check scenario YAML `text`; `path` names the source in messages and is kept as Scenario.path."""
    data = load(text, path, "a scenario")
    reader = Reader(path)
    if data is None:
        reader.fail(1, "the scenario is empty; it needs id, title, params, explanation, claim and checks")
    m = reader.mapping(data, "scenario", 1, KEYS, REQUIRED)
    sid = m["id"]
    if not isinstance(sid, str) or not _ID.match(sid):
        reader.fail(reader.value_line(m, "id", 1), f"scenario: id {plain(sid)!r} must be a short name of letters, "
                    "digits, '-', '_' or '.'")
    world = m.get("world", "abstract")
    if not isinstance(world, str) or world not in WORLDS:
        reader.fail(reader.value_line(m, "world", 1), f"scenario: unknown world {plain(world)!r}; worlds: {', '.join(WORLDS)}")
    world = str(world)
    params = _params(m, reader, world)
    node = reader.seq(m, "checks", "scenario", 1)
    at = reader.value_line(m, "checks", 1)
    found = tuple(checks.parse(item, reader, f"check {i + 1}", reader.item_line(node, i, at), world, params)
                  for i, item in enumerate(node))
    cases = _cases(m, reader, world, params, node, at, found)
    return Scenario(id=str(sid), title=reader.text(m, "title", "scenario", 1),
                    explanation=reader.text(m, "explanation", "scenario", 1), claim=reader.text(m, "claim", "scenario", 1),
                    params=params, checks=found, world=world, path=Path(path), cases=cases)


def _cases(m: Mapping, reader: Reader, home: str, params: dict[str, Any], check_nodes, checks_at,
           home_checks: tuple[Predicate, ...]) -> dict[str, WorldCase]:
    """The `worlds` mapping, read and checked: the home world first (decided by measurement, reason
    unstated, if the file leaves it out), then every other world with its own params and checks."""
    cases: dict[str, WorldCase] = {}
    node = m.get("worlds")
    at = reader.value_line(m, "worlds", 1)
    if node is not None and not isinstance(node, Mapping):
        reader.fail(at, f"scenario: 'worlds' must be a mapping of world: {{by, reason}}, not {type_name(node)}")
    node = node or {}
    if home not in node:
        cases[home] = WorldCase(home, "measurement", UNSTATED, dict(params), home_checks, stated=False)
    for world, entry in node.items():
        here = reader.key_line(node, world, at)
        what = f"worlds: {plain(world)}"
        if not isinstance(world, str) or world not in WORLDS:
            reader.fail(here, f"scenario: worlds: unknown world {plain(world)!r}; worlds: {', '.join(WORLDS)}")
        e = reader.mapping(entry, what, here, CASE_KEYS, ("by", "reason"))
        by = e["by"]
        if by not in DECIDED_BY:
            reader.fail(reader.value_line(e, "by", here), f"scenario: {what}: by must be one of "
                        f"{', '.join(DECIDED_BY)}, not {plain(by)!r}")
        reason = reader.text(e, "reason", what, here)
        if world == home:
            for key in ("params", "checks"):
                if key in e:
                    reader.fail(reader.key_line(e, key, here), f"scenario: {what}: {key!r} is the scenario's own "
                                f"for its own world ({home}); give it at the top level")
            case_params, case_checks = dict(params), home_checks
        else:
            case_params = _params(e, reader, str(world)) if "params" in e else {}
            if "checks" in e:
                seq, seq_at = reader.seq(e, "checks", what, here), reader.value_line(e, "checks", here)
            else:
                seq, seq_at = check_nodes, checks_at
            case_checks = tuple(checks.parse(item, reader, f"{what}: check {i + 1}", reader.item_line(seq, i, seq_at),
                                             str(world), case_params) for i, item in enumerate(seq))
        cases[str(world)] = WorldCase(str(world), str(by), reason, case_params, case_checks)
    return {home: cases.pop(home), **cases}


def _params(m: Mapping, reader: Reader, world: str) -> dict[str, Any]:
    node, at = m["params"], reader.value_line(m, "params", 1)  # (a worlds entry's params are read alike)
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        reader.fail(at, f"scenario: 'params' must be a mapping of parameter: value, not {type_name(node)}")
    out: dict[str, Any] = {}
    for name, raw in node.items():
        if not isinstance(name, str):
            reader.fail(reader.key_line(node, name, at), f"scenario: parameter name {name!r} is not text")
        out[str(name)] = plain(raw)
    try:
        checks.new_simulation(world, out)
    except ExplorerError as exc:  # point at the first parameter wrong on its own, else at params
        for name, value in out.items():
            try:
                checks.new_simulation(world, {name: value})
            except ExplorerError as own:
                reader.fail(reader.key_line(node, name, at), f"scenario: params: {own}")
        reader.fail(at, f"scenario: params: {exc}")
    return out
