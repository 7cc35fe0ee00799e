"""Guided tours: a sequence of presets, each with a question to predict and an answer to reveal.

A tour is a YAML file in assets/tours/:

    title: ...
    intro: ...                      # optional
    steps:
      - title: ...                  # optional
        scenario: goof-off          # an abstract-world scenario (explorer.scenarios)
        set: {misbehaviour_cost: 6} # optional overrides, by flat parameter name
        question: ...
        options: [..., ...]         # optional multiple choice
        answer: ...                 # the right option (required with options)
        look_at:                    # optional: what to read, as checks the tests and the reveal compute
          - {metric: average_speed.posterior.goof_off, op: "<", other: max_speed.posterior.goof_off}
          - {metric: average_speed.map.kind, params: {misbehaviour_cost: 6}, op: "==", value: honest}
        reveal: ...

`look_at` entries are predicates of explorer.checks (the grammar scenarios and stories use), evaluated
by its Runner under the step's parameters, so a reveal that says "the average-case prior leaves less
goof-off mass" is a claim the test suite computes, and the tour view can show the numbers behind it.

Loading is safe (explorer.yamlfile): tags other than plain scalars, mappings and sequences, anchors and
aliases are refused before anything is built. Every mistake raises ExplorerError naming the file, the
line and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from explorer.checks import Outcome, Predicate, Runner, new_simulation, parse, parse_overrides
from explorer.params import type_name
from explorer.scenarios import MACHINE_PARAMS, SCENARIOS, preset_params, scenarios_of
from explorer.simulation import Simulation
from explorer.yamlfile import Reader, load, plain, read_text

#: Where the shipped tours live (beside the package in a source checkout).
TOURS_DIR = Path(__file__).resolve().parent.parent / "assets" / "tours"

_TOUR_KEYS = {"title", "intro", "steps"}
_STEP_KEYS = {"title", "scenario", "set", "question", "options", "answer", "look_at", "reveal"}


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
    look_at: tuple[Predicate, ...] = ()
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
        return new_simulation("abstract", {**self.params(), **machine})

    def verify(self, **machine) -> list[Outcome]:
        """Evaluate the `look_at` checks under this step's parameters, with the runner that checks the
        presets' claims."""
        return Runner("abstract", {**self.params(), **machine}).verify(self.look_at)

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
    p = outcome.check
    left = p.metric + _with(p.params)
    right = f"{p.other}{_with(p.other_params)} = {_fmt(outcome.right)}" if p.other is not None else _fmt(outcome.right)
    mark = "holds" if outcome.passed else "does NOT hold"
    return f"{left} = {_fmt(outcome.left)} {p.op} {right} ({mark})"


def _with(params: Mapping[str, Any]) -> str:
    return f" with {', '.join(f'{k}={v}' for k, v in params.items())}" if params else ""


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
    return parse_tour(read_text(path, "tour"), path)


def parse_tour(text: str, path: str | Path = "<tour>") -> Tour:
    """Validate tour YAML `text`; `path` only names the source in error messages."""
    return _Validator(path).tour(load(text, path, "a tour"))


class _Validator(Reader):
    """Turns the loaded mapping into a Tour, raising ExplorerError with file and line on any mistake."""

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
        scenario, known = m["scenario"], scenarios_of("abstract")
        if not isinstance(scenario, str) or scenario not in known:
            self.fail(self.value_line(m, "scenario", line), f"{what}: unknown scenario {plain(scenario)!r}; tours "
                      f"visit the abstract world's scenarios: {', '.join(known)}")
        base = dict(SCENARIOS[scenario].params)
        overrides = parse_overrides(m, "set", self, what, line, "abstract", base, MACHINE_PARAMS, setter="by a tour")
        params = {**base, **overrides}
        options = self.options(m, what, line)
        answer = None
        if "answer" in m:
            answer = m["answer"]
            if not options:
                self.fail(self.key_line(m, "answer", line), f"{what}: 'answer' needs 'options' to choose from")
            answer = str(plain(answer)).strip() if isinstance(answer, (str, int, float)) else answer
            if answer not in options:
                self.fail(self.value_line(m, "answer", line), f"{what}: answer {answer!r} is not one of the options {list(options)}")
        elif options:
            self.fail(self.key_line(m, "options", line), f"{what}: 'options' need an 'answer' (one of them)")
        look_at = self.look_at(m, what, line, params)
        return TourStep(scenario=scenario, question=self.text(m, "question", what, line), reveal=self.text(m, "reveal", what, line),
                        title=self.text(m, "title", what, line, required=False), overrides=overrides, options=options,
                        answer=answer, look_at=look_at, line=line or 0)

    def options(self, m: Mapping, what: str, line: int | None) -> tuple[str, ...]:
        if "options" not in m:
            return ()
        node, at = m["options"], self.value_line(m, "options", line)
        if not isinstance(node, list) or len(node) < 2:
            self.fail(at, f"{what}: 'options' must be a list of at least two choices, not {type_name(node)}")
        out = []
        for i, item in enumerate(node):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.fail(self.item_line(node, i, at), f"{what}: option {i + 1} must be non-empty text, not {type_name(item)}")
            text = str(plain(item)).strip()
            if text in out:
                self.fail(self.item_line(node, i, at), f"{what}: option {text!r} appears twice")
            out.append(text)
        return tuple(out)

    def look_at(self, m: Mapping, what: str, line: int | None, params: dict[str, Any]) -> tuple[Predicate, ...]:
        if "look_at" not in m:
            return ()
        node, at = m["look_at"], self.value_line(m, "look_at", line)
        if not isinstance(node, list) or not node:
            self.fail(at, f"{what}: 'look_at' must be a non-empty list of checks, not {type_name(node)}")
        return tuple(parse(item, self, f"{what}, look_at {i + 1}", self.item_line(node, i, at), "abstract", params,
                           fixed=MACHINE_PARAMS) for i, item in enumerate(node))
