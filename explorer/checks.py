"""One check engine: the predicate grammar, its parsers, its evaluator and a runner with a shared cache.

Every claim the project computes (a scenario's checks, a tour's `look_at`, a story's evidence, a
sweep's failure conditions, the editor's condition lines) is a Predicate:

    metric: PRIOR.METRIC              average_speed.posterior.goof_off, simplicity.map.kind
    op:     < <= > >= == !=           (OPERATORS, the only table of operators)
    value:  a literal                 a number, or a program kind for map.kind
    other:  a second PRIOR.METRIC     instead of value
    params:       {name: value}       overrides for the left side (on top of the context's parameters)
    other_params: {name: value}       overrides for the right side (only with `other`)

In data files it is a mapping, `{metric: ..., op: "<", other: ..., other_params: {memory: 0}}`; in
the story editor one line, `average_speed.map.kind == honest` (no overrides there). Nothing is ever
evaluated as code: the operator is looked up in OPERATORS.

Evaluation (`evaluate`): floats are rounded to SIGNIFICANT digits on both sides (a result written to
YAML and read back, or computed on another back end, still compares the same); a missing value (None),
or text against a number, makes a predicate not hold, never an error. An unknown metric or operator is
an ExplorerError.

Running (`Runner`): metrics come from a Simulation of the context's world with the context's
parameters and each side's overrides, one simulation per distinct parameter set; with `shared` they
come from SHARED, one bounded, thread-safe cache of the process keyed by (world, scenario, parameters,
code version), so every session of a server showing the same claims pays for each simulation once.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import explorer
from explorer import yamlfile
from explorer.errors import ExplorerError
from explorer.params import type_name
from explorer.priors import METRIC_NAMES, PRIORS, PriorResult
from explorer.simulation import Simulation
from explorer.table import KINDS
from explorer.worlds import get_world
from explorer.yamlfile import Reader

#: The operators a predicate may use: the one table of them.
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
             "==": operator.eq, "!=": operator.ne}
#: The operators that mean something between texts (program kinds have no order).
TEXT_OPERATORS = ("==", "!=")
#: Floats are compared after rounding to this many significant digits.
SIGNIFICANT = 6
#: The keys of a predicate written as a mapping.
KEYS = ("metric", "op", "value", "other", "params", "other_params")
#: Metrics (after PRIOR.) whose value is text, a program kind; every other metric is a number.
TEXT_METRICS = frozenset({"map.kind"}) & frozenset(METRIC_NAMES)
#: Every PRIOR.METRIC name any world could produce.
ALL_METRICS = frozenset(f"{p}.{m}" for p in PRIORS for m in METRIC_NAMES)


@dataclass
class Predicate:
    """`metric op value` or `metric op other`, each side under its own parameter overrides."""

    metric: str
    op: str
    value: Any = None
    other: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    other_params: dict[str, Any] = field(default_factory=dict)
    line: int = field(default=0, compare=False, repr=False)

    def text(self) -> str:
        """The one-line form the editor reads (`parse_text`); overrides are not part of it."""
        return f"{self.metric} {self.op} {self.other if self.other is not None else format_literal(self.value)}"

    def describe(self) -> str:
        """The predicate in words, overrides included."""
        left = self.metric + _with(self.params)
        right = (self.other + _with(self.other_params)) if self.other is not None else repr(self.value)
        return f"{left} {self.op} {right}"


def _with(params: Mapping[str, Any]) -> str:
    return f" (with {', '.join(f'{k}={v}' for k, v in params.items())})" if params else ""


@dataclass(frozen=True)
class Outcome:
    """One predicate evaluated: the values compared and whether it held."""

    check: Predicate
    left: Any
    right: Any
    passed: bool


# ---- names and values ---------------------------------------------------------------------------

def code_version() -> str:
    """The code version a computed result is stamped with (and cached under)."""
    return explorer.__version__


def plain(value: Any) -> Any:
    """A metric value as a plain, YAML-friendly Python value (floats rounded to SIGNIFICANT digits,
    non-finite ones None)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}") if math.isfinite(value) else None
    return value


def flat_metrics(results: Mapping[str, PriorResult]) -> dict[str, Any]:
    """Every prior's metrics under `PRIOR.METRIC` names."""
    return {f"{prior}.{name}": value for prior, r in results.items() for name, value in r.metrics().items()}


def metric_names(world: str = "abstract", params: Mapping[str, Any] | None = None) -> set[str]:
    """The PRIOR.METRIC names a world produces with these parameters: a world that sets its program mix
    (`kind_mix`) has `posterior.KIND` only for the kinds in the mix; a measured world has every kind."""
    cls = get_world(world)
    absent: set[str] = set()
    if "kind_mix" in cls.param:
        mix = (params or {}).get("kind_mix") or cls.param["kind_mix"].default
        absent = {f"posterior.{k}" for k in KINDS if not float(mix.get(k, 0.0)) > 0}
    return {f"{p}.{m}" for p in PRIORS for m in METRIC_NAMES if m not in absent}


def is_text_metric(metric: str) -> bool:
    return metric.partition(".")[2] in TEXT_METRICS


def literal(text: str) -> Any:
    """A value written in one line of text: true/false, an integer, a finite float, quoted or bare text."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        value = float(t)
        if math.isfinite(value):
            return value
    except ValueError:
        pass
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    return t


def format_literal(value: Any) -> str:
    """A literal as `literal` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else (repr(value) if isinstance(value, str) else str(value))


def meaning_problem(p: Predicate) -> str | None:
    """Why a predicate cannot mean what it says (text against a number, an unknown kind, null, kinds
    ordered), or None. Metric names and the operator are checked elsewhere."""
    left_text = is_text_metric(p.metric)
    if p.other is not None:
        if left_text != is_text_metric(p.other):
            return f"it compares {p.metric} with {p.other}, a kind with a number"
        if left_text and p.op not in TEXT_OPERATORS:
            return f"it orders kinds, which have no order; use {' or '.join(TEXT_OPERATORS)}"
        return None
    if p.value is None:
        return "its value is null; give a number (or a kind for a map.kind metric)"
    if left_text:
        if not isinstance(p.value, str):
            return f"{p.metric} is a program kind, and {_fmt(p.value)} is not one; kinds: {', '.join(KINDS)}"
        if p.value not in KINDS:
            close = difflib.get_close_matches(p.value, KINDS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return f"{p.value!r} is not a program kind{hint}; kinds: {', '.join(KINDS)}"
        if p.op not in TEXT_OPERATORS:
            return f"it orders kinds, which have no order; use {' or '.join(TEXT_OPERATORS)}"
        return None
    if isinstance(p.value, bool) or not isinstance(p.value, (int, float)):
        return f"{p.metric} is a number and {_fmt(p.value)} is {type_name(p.value)}"
    if not math.isfinite(p.value):
        return f"{p.metric} is compared with {p.value}, which is not a finite number"
    return None


# ---- parsing ------------------------------------------------------------------------------------

_LINE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$")


def parse_text(line: str, metrics: Iterable[str] = ()) -> Predicate:
    """One line `metric op value` or `metric op other_metric` (the editor's form). The right side is a
    metric when it is a PRIOR.METRIC name (of any world, or one of `metrics`), else a literal."""
    m = _LINE.match(line)
    if not m:
        raise ExplorerError(f"{line.strip()[:60]!r} is not 'metric op value' (op one of {' '.join(OPERATORS)})")
    metric, op, right = m.groups()
    if right in ALL_METRICS or right in set(metrics):
        return Predicate(metric=metric, op=op, other=right)
    return Predicate(metric=metric, op=op, value=literal(right))


def parse(node: Any, reader: Reader, what: str, line: int | None, world: str = "abstract",
          base: Mapping[str, Any] | None = None, fixed: Iterable[str] = ()) -> Predicate:
    """A predicate written as a mapping (KEYS), checked completely against `world` with `base`
    parameters: known metrics (for each side's parameters), a known operator, exactly one of value and
    other, overrides the world accepts and none of `fixed`, and a comparison that means something.
    Every mistake raises ExplorerError through `reader`, at the line of the offending key."""
    base = dict(base or {})
    m = reader.mapping(node, what, line, KEYS, ("metric", "op"))
    at = lambda key: reader.value_line(m, key, line)  # noqa: E731
    if ("value" in m) == ("other" in m):
        reader.fail(line, f"{what}: give exactly one of 'value' (a literal) or 'other' (a second metric)")
    if "other_params" in m and "other" not in m:
        reader.fail(reader.key_line(m, "other_params", line), f"{what}: 'other_params' set the right side, which "
                    "only a comparison with 'other' has")
    op = m["op"]
    if not isinstance(op, str) or op not in OPERATORS:
        reader.fail(at("op"), f"{what}: unknown operator {yamlfile.plain(op)!r}; operators: {' '.join(OPERATORS)}")
    params = parse_overrides(m, "params", reader, what, line, world, base, fixed)
    other_params = parse_overrides(m, "other_params", reader, what, line, world, base, fixed)
    pred = Predicate(metric=_metric(m, "metric", reader, what, line, world, {**base, **params}), op=str(op),
                     params=params, other_params=other_params, line=line or 0)
    if "other" in m:
        pred.other = _metric(m, "other", reader, what, line, world, {**base, **other_params})
    else:
        pred.value = yamlfile.plain(m["value"])
    problem = meaning_problem(pred)
    if problem:
        reader.fail(at("value") if "value" in m else line, f"{what} ({pred.describe()}) cannot mean what it says: {problem}")
    return pred


def _metric(m: Mapping, key: str, reader: Reader, what: str, line: int | None, world: str,
            params: Mapping[str, Any]) -> str:
    name, at = m[key], reader.value_line(m, key, line)
    known = metric_names(world, params)
    if isinstance(name, str) and name in known:
        return str(name)
    name = yamlfile.plain(name)
    prior, _, short = str(name).partition(".")
    if name in ALL_METRICS:
        why = f"the {world} world has no {short.removeprefix('posterior.')} programs with these parameters (see kind_mix)"
    elif prior not in PRIORS:
        why = f"a metric is PRIOR.METRIC with PRIOR one of {', '.join(PRIORS)}"
    else:
        why = f"metrics after {prior}. are: {', '.join(sorted({n.partition('.')[2] for n in known}))}"
    reader.fail(at, f"{what}: unknown metric {name!r} in its {key!r}; {why}")


def parse_overrides(m: Mapping, key: str, reader: Reader, what: str, line: int | None, world: str,
                    base: Mapping[str, Any], fixed: Iterable[str], setter: str = "here") -> dict[str, Any]:
    """Parameter overrides under `key` (a predicate's params, a tour step's set), each checked by a
    Simulation of `world` on top of `base`; a name in `fixed` (machine settings) cannot be set `setter`."""
    if key not in m:
        return {}
    node, at = m[key], reader.value_line(m, key, line)
    if not isinstance(node, Mapping):
        reader.fail(at, f"{what}: {key!r} must be a mapping of parameter: value, not {type_name(node)}")
    out: dict[str, Any] = {}
    for name, raw in node.items():
        here = reader.key_line(node, name, at)
        if not isinstance(name, str):
            reader.fail(here, f"{what}: parameter name {name!r} is not text")
        if name in fixed:
            reader.fail(here, f"{what}: {key}: {name!r} cannot be set {setter} (it is the user's machine setting)")
        value = yamlfile.plain(raw)
        try:
            new_simulation(world, {**base, **out, name: value})
        except ExplorerError as exc:
            reader.fail(here, f"{what}: {key}: {exc}")
        out[str(name)] = value
    return out


# ---- evaluating ---------------------------------------------------------------------------------

def evaluate(p: Predicate, metrics: Mapping[str, Any], other_metrics: Mapping[str, Any] | None = None) -> tuple[bool, Any, Any]:
    """(holds, left, right): `p.metric` read from `metrics`, `p.other` from `other_metrics` (default the
    same), both as plain values; None or text against a number does not hold. An unknown metric or
    operator is an ExplorerError."""
    if p.op not in OPERATORS:
        raise ExplorerError(f"unknown operator {p.op!r}; allowed: {', '.join(OPERATORS)}")
    right_metrics = metrics if other_metrics is None else other_metrics
    for name, source in ((p.metric, metrics), (p.other, right_metrics)):
        if name is not None and name not in source:
            raise ExplorerError(f"unknown metric {name!r}; this scenario produces: {', '.join(sorted(source))}")
    left = plain(metrics[p.metric])
    right = plain(right_metrics[p.other]) if p.other is not None else p.value
    if left is None or right is None or isinstance(left, str) != isinstance(right, str):
        return False, left, right
    try:
        return bool(OPERATORS[p.op](left, right)), left, right
    except TypeError:
        return False, left, right


# ---- running ------------------------------------------------------------------------------------

def new_simulation(world: str, params: Mapping[str, Any]) -> Simulation:
    """A Simulation of `world` with `params` (checked; nothing is built until it is asked for)."""
    return Simulation(world=world, **params)


def simulate(world: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The flat metrics of `world` with `params`."""
    return flat_metrics(new_simulation(world, params).select())


def frozen(value: Any) -> Any:
    """A parameter value as a hashable key part, exactly (no rounding) and typed, so True is not 1.0."""
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(frozen(v) for v in value))
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("num", float(value))
    return ("repr", repr(value))


class SharedSimulations:
    """A process-wide, bounded, thread-safe cache of `simulate` results, keyed by (world, scenario,
    normalised parameters, code version).

    Two threads asking for the same simulation at once compute it once: the second waits for the
    first. A run that raises is not cached (the next asker tries again). Callers get a copy.
    """

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._running: dict[tuple, threading.Event] = {}

    @staticmethod
    def key(world: str, params: Mapping[str, Any], scenario: str = "") -> tuple:
        return world, scenario, frozen(dict(params)), code_version()

    def has(self, world: str, params: Mapping[str, Any], scenario: str = "") -> bool:
        with self._lock:
            return self.key(world, params, scenario) in self._done

    def get(self, world: str, params: Mapping[str, Any], scenario: str = "") -> dict[str, Any]:
        """`simulate(world, params)`, from the cache when it is there."""
        key = self.key(world, params, scenario)
        while True:
            with self._lock:
                if key in self._done:
                    self._done.move_to_end(key)
                    return dict(self._done[key])
                event = self._running.get(key)
                mine = event is None
                if mine:
                    event = self._running[key] = threading.Event()
            if not mine:
                event.wait()
                continue  # done now, or it failed and this caller tries itself
            try:
                metrics = simulate(world, params)  # looked up at call time, so tests can replace it
                with self._lock:
                    self._done[key] = dict(metrics)
                    while len(self._done) > self.maxsize:
                        self._done.popitem(last=False)
                return dict(metrics)
            finally:
                with self._lock:
                    self._running.pop(key, None)
                event.set()

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


#: The simulations claims share across a process (the apps' story panels use it).
SHARED = SharedSimulations()


class Runner:
    """Evaluates predicates in one context: a world, its parameters (a scenario's preset with any
    overrides) and, for the shared cache's key, the scenario's id. Each distinct parameter set is
    simulated once per runner (or once per process, with `shared`)."""

    def __init__(self, world: str = "abstract", params: Mapping[str, Any] | None = None, scenario: str = "",
                 shared: bool = False):
        self.world, self.params, self.scenario, self.shared = world, dict(params or {}), scenario, shared
        self._done: dict[Any, dict[str, Any]] = {}

    def metrics(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The flat metrics with `overrides` on top of the runner's parameters."""
        params = {**self.params, **(overrides or {})}
        if self.shared:
            return SHARED.get(self.world, params, self.scenario)
        key = frozen(params)
        if key not in self._done:
            self._done[key] = simulate(self.world, params)
        return self._done[key]

    def is_cached(self, p: Predicate, overrides: Mapping[str, Any] | None = None) -> bool:
        """Whether evaluating `p` needs no new simulation (shared runners only; a local one starts empty)."""
        sides = [p.params] + ([p.other_params] if p.other is not None else [])
        if not self.shared:
            return all(frozen({**self.params, **(overrides or {}), **s}) in self._done for s in sides)
        return all(SHARED.has(self.world, {**self.params, **(overrides or {}), **s}, self.scenario) for s in sides)

    def check(self, p: Predicate, overrides: Mapping[str, Any] | None = None) -> Outcome:
        """Evaluate one predicate, each side under its own overrides (on top of `overrides`)."""
        base = dict(overrides or {})
        left = self.metrics({**base, **p.params})
        right = self.metrics({**base, **p.other_params}) if p.other is not None else None
        holds, lvalue, rvalue = evaluate(p, left, right)
        return Outcome(p, lvalue, rvalue, holds)

    def verify(self, predicates: Iterable[Predicate], overrides: Mapping[str, Any] | None = None) -> list[Outcome]:
        return [self.check(p, overrides) for p in predicates]
