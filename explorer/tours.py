"""Guided tours: a sequence of presets, each with a question to predict and an answer to reveal.

A tour is a YAML file in assets/tours/:

    title: ...
    intro: ...                      # optional
    steps:
      - title: ...                  # optional
        scenario: goof-off          # an id from explorer.scenarios.SCENARIOS
        set: {misbehaviour_cost: 6} # optional overrides, by flat parameter name
        question: ...
        options: [..., ...]         # optional multiple choice
        answer: ...                 # the right option (required with options)
        look_at:                    # optional: what to read, as checks the tests and the reveal compute
          - {metric: posterior.goof_off, prior: average_speed, op: "<", than: max_speed}
          - {metric: map.kind, prior: average_speed, changes: {misbehaviour_cost: 6}, op: "==", value: honest}
        reveal: ...

`look_at` entries become explorer.scenarios.Check objects, evaluated exactly as a scenario's claims are
(Scenario.verify), so a reveal that says "the average-case prior leaves less goof-off mass" is a claim
the test suite computes, and the tour view can show the numbers behind it.

Loading is safe: the file is first composed into nodes and any tag other than YAML's plain scalars,
mappings and sequences (`!!python/object`, `!custom`, timestamps, merge keys) is rejected before
anything is constructed, as are aliases. Every mistake raises ExplorerError naming the file, the line and the problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from explorer.errors import ExplorerError
from explorer.params import type_name
from explorer.priors import METRIC_NAMES, PRIORS
from explorer.scenarios import MACHINE_PARAMS, OPERATORS, SCENARIOS, Case, Check, Outcome, Scenario, preset_params
from explorer.simulation import Simulation
from explorer.table import KINDS

#: Where the shipped tours live (beside the package in a source checkout).
TOURS_DIR = Path(__file__).resolve().parent.parent / "assets" / "tours"

#: YAML tags a tour may use; anything else is refused before construction.
_SAFE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}

_TOUR_KEYS = {"title", "intro", "steps"}
_STEP_KEYS = {"title", "scenario", "set", "question", "options", "answer", "look_at", "reveal"}
_CHECK_KEYS = {"metric", "prior", "changes", "op", "than", "value"}


@dataclass(frozen=True)
class TourStep:
    """One stop of a tour: a preset (plus overrides), a question, and its answer."""

    scenario: str
    question: str
    reveal: str
    title: str = ""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    answer: str | None = None
    look_at: tuple[Check, ...] = ()
    line: int = 0

    def params(self) -> dict[str, Any]:
        """The scenario's parameters with this step's `set` overrides on top."""
        params = {**SCENARIOS[self.scenario].params, **self.overrides}
        return {k: dict(v) if isinstance(v, dict) else v for k, v in params.items()}

    def complete_params(self) -> dict[str, Any]:
        """`params()` on top of every parameter's default (except MACHINE_PARAMS).

        Applying these to a running simulation loads the step completely: nothing set by an earlier step
        or by the learner's sliders lingers.
        """
        return {**preset_params(self.scenario), **self.params()}

    def simulation(self, **machine) -> Simulation:
        """A Simulation for this step; `machine` (n_programs, backend, ...) goes on top."""
        return Simulation(**{**self.params(), **machine})

    def verify(self, **machine) -> list[Outcome]:
        """Evaluate the `look_at` checks under this step's parameters.

        The step is wrapped as a Scenario (its preset's id, its own parameters and checks) so that tour
        checks are computed by exactly the code that checks the presets' claims.
        """
        scenario = SCENARIOS[self.scenario]
        return Scenario(scenario.id, self.title, scenario.explanation, self.reveal, self.params(), self.look_at).verify(**machine)

    def is_right(self, choice: str | None) -> bool | None:
        """Whether `choice` is the answer; None when there is nothing to compare."""
        if choice is None or self.answer is None:
            return None
        return choice == self.answer


@dataclass(frozen=True)
class Tour:
    """A titled sequence of steps, as loaded from `path`."""

    title: str
    intro: str
    steps: tuple[TourStep, ...]
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.steps)


def describe_outcome(outcome: Outcome) -> str:
    """One line: the check, the computed numbers, and whether it held."""
    check = outcome.check
    right = f"{_fmt(outcome.right)} under {check.other.describe()}" if check.other else _fmt(outcome.right)
    mark = "holds" if outcome.passed else "does NOT hold"
    return f"{check.metric} under {check.case.describe()}: {_fmt(outcome.left)} {check.op} {right} ({mark})"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def list_tours(folder: str | Path = TOURS_DIR) -> dict[str, Path]:
    """The tour files in `folder`, by name (file stem), sorted; nothing is loaded or validated."""
    folder = Path(folder)
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def load_tour(path: str | Path) -> Tour:
    """Read and validate a tour; any mistake raises ExplorerError naming the file, line and problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExplorerError(f"{path}: cannot read tour ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ExplorerError(f"{path}: not UTF-8 text") from None
    return parse_tour(text, path)


def parse_tour(text: str, path: str | Path = "<tour>") -> Tour:
    """Validate tour YAML `text`; `path` only names the source in error messages."""
    path = Path(path)
    yaml = YAML(typ="rt")
    try:
        root = yaml.compose(text)
        if root is not None:
            _refuse_tags(root, path)
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else "?"
        raise ExplorerError(f"{path}:{line}: not valid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise ExplorerError(f"{path}: not valid YAML: {exc}") from None
    return _Validator(path).tour(data)


def _refuse_tags(node, path: Path) -> None:
    """Reject any node whose tag is not a plain scalar, mapping or sequence, and any alias (a node met
    twice): a tour needs neither, and an alias can make a structure that contains itself."""
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            raise ExplorerError(f"{path}:{n.start_mark.line + 1}: anchors and aliases (&name, *name) are not "
                                "allowed in a tour; write the value out")
        seen.add(id(n))
        tag = str(getattr(n.tag, "value", n.tag))
        if tag not in _SAFE_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise ExplorerError(f"{path}:{n.start_mark.line + 1}: YAML tag {shown} is not allowed in a tour "
                                "(only plain text, numbers, true/false, null, lists and mappings)")
        if isinstance(n.value, list):
            for item in n.value:
                stack.extend(item if isinstance(item, tuple) else (item,))


def _plain(value: Any) -> Any:
    """ruamel's round-trip types as plain Python values."""
    if isinstance(value, (ScalarBoolean, bool)):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _Validator:
    """Turns the loaded mapping into a Tour, raising ExplorerError with file and line on any mistake."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, line: int | None, problem: str):
        where = f"{self.path}:{line}" if line else f"{self.path}"
        raise ExplorerError(f"{where}: {problem}")

    # ---- helpers --------------------------------------------------------------------------------

    @staticmethod
    def key_line(m: CommentedMap, key: str, default: int | None) -> int | None:
        try:
            return m.lc.key(key)[0] + 1
        except (AttributeError, KeyError, TypeError):
            return default

    @staticmethod
    def value_line(m: CommentedMap, key: str, default: int | None) -> int | None:
        try:
            return m.lc.value(key)[0] + 1
        except (AttributeError, KeyError, TypeError):
            return default

    @staticmethod
    def item_line(s: CommentedSeq, i: int, default: int | None) -> int | None:
        try:
            return s.lc.item(i)[0] + 1
        except (AttributeError, KeyError, TypeError, IndexError):
            return default

    @staticmethod
    def own_line(node: Any, default: int | None) -> int | None:
        lc = getattr(node, "lc", None)
        return lc.line + 1 if lc is not None and lc.line is not None else default

    def mapping(self, node: Any, what: str, line: int | None, keys: set[str], required: tuple[str, ...] = ()) -> CommentedMap:
        if not isinstance(node, Mapping):
            self.fail(line, f"{what} must be a mapping (name: value lines), not {type_name(node)}")
        for k in node:
            if not isinstance(k, str):
                self.fail(self.own_line(node, line), f"{what}: key {k!r} is not text")
            if k not in keys:
                self.fail(self.key_line(node, k, line), f"{what}: unknown key {k!r}; allowed keys: {', '.join(sorted(keys))}")
        for k in required:
            if k not in node:
                self.fail(self.own_line(node, line), f"{what}: missing {k!r}")
        return node

    def text(self, m: CommentedMap, key: str, what: str, line: int | None, required: bool = True) -> str:
        if key not in m:
            if required:
                self.fail(line, f"{what}: missing {key!r}")
            return ""
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.value_line(m, key, line), f"{what}: {key!r} must be non-empty text, not {type_name(value)}")
        return " ".join(value.split()) if key in ("title",) else value.strip()

    def params(self, m: CommentedMap, key: str, what: str, line: int | None, base: dict[str, Any],
               scalars_only: bool = False) -> dict[str, Any]:
        """Parameter overrides under `key`, each validated on top of `base` (Simulation checks them)."""
        node = m.get(key)
        at = self.value_line(m, key, line)
        if node is None:
            return {}
        if not isinstance(node, Mapping):
            self.fail(at, f"{what}: {key!r} must be a mapping of parameter: value, not {type_name(node)}")
        out: dict[str, Any] = {}
        for name, raw in node.items():
            here = self.key_line(node, name, at)
            if not isinstance(name, str):
                self.fail(here, f"{what}: parameter name {name!r} is not text")
            value = _plain(raw)
            if scalars_only and isinstance(value, (dict, list)):
                self.fail(here, f"{what}: {key} {name!r} must be a single value here (set mappings such as kind_mix with `set`)")
            if name in MACHINE_PARAMS:
                self.fail(here, f"{what}: {name!r} cannot be set by a tour (it is the learner's machine setting)")
            try:
                Simulation(**{**base, **out, name: value})
            except ExplorerError as exc:
                self.fail(here, f"{what}: {key}: {exc}")
            out[str(name)] = value
        return out

    # ---- the tour -------------------------------------------------------------------------------

    def tour(self, data: Any) -> Tour:
        if data is None:
            self.fail(1, "the tour is empty; it needs a title and steps")
        root = self.mapping(data, "tour", 1, _TOUR_KEYS, ("title", "steps"))
        title = self.text(root, "title", "tour", 1)
        intro = self.text(root, "intro", "tour", 1, required=False)
        steps_node = root["steps"]
        at = self.value_line(root, "steps", 1)
        if not isinstance(steps_node, list) or not steps_node:
            self.fail(at, f"tour: 'steps' must be a non-empty list of steps, not {type_name(steps_node)}")
        steps = tuple(self.step(s, i + 1, self.item_line(steps_node, i, at)) for i, s in enumerate(steps_node))
        return Tour(title=title, intro=intro, steps=steps, path=self.path)

    def step(self, node: Any, number: int, line: int | None) -> TourStep:
        what = f"step {number}"
        m = self.mapping(node, what, line, _STEP_KEYS, ("scenario", "question", "reveal"))
        scenario = m["scenario"]
        if not isinstance(scenario, str) or scenario not in SCENARIOS:
            self.fail(self.value_line(m, "scenario", line),
                      f"{what}: unknown scenario {_plain(scenario)!r}; scenarios: {', '.join(SCENARIOS)}")
        base = dict(SCENARIOS[scenario].params)
        overrides = self.params(m, "set", what, line, base)
        params = {**base, **overrides}
        options = self.options(m, what, line)
        answer = None
        if "answer" in m:
            answer = m["answer"]
            if not options:
                self.fail(self.key_line(m, "answer", line), f"{what}: 'answer' needs 'options' to choose from")
            answer = str(_plain(answer)).strip() if isinstance(answer, (str, int, float)) else answer
            if answer not in options:
                self.fail(self.value_line(m, "answer", line), f"{what}: answer {answer!r} is not one of the options {list(options)}")
        elif options:
            self.fail(self.key_line(m, "options", line), f"{what}: 'options' need an 'answer' (one of them)")
        look_at = self.look_at(m, what, line, params)
        return TourStep(scenario=scenario, question=self.text(m, "question", what, line), reveal=self.text(m, "reveal", what, line),
                        title=self.text(m, "title", what, line, required=False), overrides=overrides, options=options,
                        answer=answer, look_at=look_at, line=line or 0)

    def options(self, m: CommentedMap, what: str, line: int | None) -> tuple[str, ...]:
        if "options" not in m:
            return ()
        node, at = m["options"], self.value_line(m, "options", line)
        if not isinstance(node, list) or len(node) < 2:
            self.fail(at, f"{what}: 'options' must be a list of at least two choices, not {type_name(node)}")
        out = []
        for i, item in enumerate(node):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.fail(self.item_line(node, i, at), f"{what}: option {i + 1} must be non-empty text, not {type_name(item)}")
            text = str(_plain(item)).strip()
            if text in out:
                self.fail(self.item_line(node, i, at), f"{what}: option {text!r} appears twice")
            out.append(text)
        return tuple(out)

    def look_at(self, m: CommentedMap, what: str, line: int | None, params: dict[str, Any]) -> tuple[Check, ...]:
        if "look_at" not in m:
            return ()
        node, at = m["look_at"], self.value_line(m, "look_at", line)
        if not isinstance(node, list) or not node:
            self.fail(at, f"{what}: 'look_at' must be a non-empty list of checks, not {type_name(node)}")
        return tuple(self.check(item, f"{what}, look_at {i + 1}", self.item_line(node, i, at), params)
                     for i, item in enumerate(node))

    def check(self, node: Any, what: str, line: int | None, params: dict[str, Any]) -> Check:
        m = self.mapping(node, what, line, _CHECK_KEYS, ("metric", "prior", "op"))
        metric = m["metric"]
        if not isinstance(metric, str) or metric not in METRIC_NAMES:
            self.fail(self.value_line(m, "metric", line), f"{what}: unknown metric {_plain(metric)!r}; metrics: {', '.join(METRIC_NAMES)}")
        op = m["op"]
        if not isinstance(op, str) or op not in OPERATORS:
            self.fail(self.value_line(m, "op", line), f"{what}: unknown op {_plain(op)!r}; ops: {' '.join(OPERATORS)}")
        case = self.case(m, what, line, params)
        if ("than" in m) == ("value" in m):
            self.fail(line, f"{what}: give exactly one of 'than' (another prior to compare with) or 'value' (a literal)")
        if "than" in m:
            than, at = m["than"], self.value_line(m, "than", line)
            if isinstance(than, str):
                other = self.case({"prior": than}, what, at, params)
            else:
                inner = self.mapping(than, f"{what}, than", at, {"prior", "changes"}, ("prior",))
                other = self.case(inner, f"{what}, than", at, params)
            return Check(metric, case, op, other=other)
        value, at = _plain(m["value"]), self.value_line(m, "value", line)
        if metric == "map.kind":
            if value not in KINDS:
                self.fail(at, f"{what}: value {value!r} is not a kind; kinds: {', '.join(KINDS)}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(at, f"{what}: value for {metric} must be a finite number, not {type_name(m['value'])}")
        return Check(metric, case, op, value=value)

    def case(self, m: Mapping, what: str, line: int | None, params: dict[str, Any]) -> Case:
        prior = m["prior"]
        at = self.value_line(m, "prior", line) if isinstance(m, CommentedMap) else line
        if not isinstance(prior, str) or prior not in PRIORS:
            self.fail(at, f"{what}: unknown prior {_plain(prior)!r}; priors: {', '.join(PRIORS)}")
        changes = self.params(m, "changes", what, line, params, scalars_only=True) if isinstance(m, CommentedMap) else {}
        return Case(prior, changes)


