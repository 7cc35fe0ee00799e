"""The training-story data model: plain dataclasses, one per part of the front matter.

Every object remembers the line of the story file it came from (`line`, 0 when it was made in code) so
that validation messages can point at it; the line never takes part in equality, so a story loaded from
a file equals the same story built in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from explorer.checks import Predicate, code_version, plain
from explorer.errors import ExplorerError
from explorer.stories.vocabulary import COMPONENTS, CRITERIA

__all__ = ["Assumption", "ClassChoice", "Claim", "Component", "Criterion", "Evidence", "MatrixCell", "Predicate", "Recorded",
           "SCHEMA_VERSION", "Story", "Sweep", "effective_params", "is_stale"]

SCHEMA_VERSION = 1


def _line() -> Any:
    return field(default=0, compare=False, repr=False)


@dataclass
class Claim:
    """One statement of a component, with what supports it."""

    id: str
    text: str = ""
    evidence: list[str] = field(default_factory=list)
    rests_on: list[str] = field(default_factory=list)
    undeveloped: bool = False
    line: int = _line()


@dataclass
class Component:
    """One of the four components: its claims, or an honest 'not worked out yet'."""

    claims: list[Claim] = field(default_factory=list)
    undeveloped: bool = False
    note: str = ""
    line: int = _line()


@dataclass
class Criterion:
    """A rating of one criterion and the claims it rests on."""

    rating: str = ""
    basis: list[str] = field(default_factory=list)
    note: str = ""
    line: int = _line()


@dataclass
class Assumption:
    """A named number the story depends on: nominal value, plausible range, the parameter it sets."""

    name: str
    parameter: str
    nominal: float
    range: tuple[float, float]
    note: str = ""
    line: int = _line()


@dataclass
class Recorded:
    """A result written into the file by `story check --record`, and what it was computed from."""

    holds: bool
    value: Any
    params: dict[str, Any]
    code_version: str
    other: Any = None
    line: int = _line()


@dataclass
class MatrixCell:
    """A cell of the claims matrix (explorer.claims) that evidence cites: a scenario's claim in one world, the
    share of runs in which it must hold (`op` `share`), and, if given, how that world must decide it."""

    scenario: str
    world: str
    op: str
    share: float
    by: str | None = None
    line: int = _line()


@dataclass
class Evidence:
    """Support for claims: a simulation (scenario, parameters, predicate), a cell of the claims matrix, or an
    external source."""

    id: str
    scenario: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    predicate: Predicate | None = None
    source: str | None = None
    finding: str | None = None
    note: str = ""
    recorded: Recorded | None = None
    cell: MatrixCell | None = None
    line: int = _line()

    @property
    def simulated(self) -> bool:
        """Whether this evidence runs a simulation of its own (neither a matrix cell nor an external source)."""
        return self.source is None and self.cell is None

    @property
    def external(self) -> bool:
        return self.source is not None


@dataclass
class Sweep:
    """A sensitivity sweep: vary assumptions over their ranges and classify every point."""

    id: str
    scenario: str
    assumptions: list[str]
    fails_safely: list[Predicate]
    fails_catastrophically: list[Predicate]
    params: dict[str, Any] = field(default_factory=dict)
    points: int = 7
    output: str | None = None
    note: str = ""
    line: int = _line()


@dataclass
class ClassChoice:
    """One of the known goal classes, or a custom one described in words."""

    id: str | None = None
    custom: str | None = None
    line: int = _line()


@dataclass
class Story:
    """A whole training story: front matter as objects, the Markdown body verbatim."""

    title: str
    authors: list[str] = field(default_factory=list)
    revision: int = 1
    schema: int = SCHEMA_VERSION
    goal_class: ClassChoice = field(default_factory=ClassChoice)
    rationale_classes: list[ClassChoice] = field(default_factory=list)
    failure_modes: list[str] = field(default_factory=list)
    components: dict[str, Component] = field(default_factory=lambda: {c: Component() for c in COMPONENTS})
    criteria: dict[str, Criterion] = field(default_factory=lambda: {c: Criterion() for c in CRITERIA})
    assumptions: list[Assumption] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)
    body: str = ""
    #: The parsed front matter of the file this story came from (ruamel round-trip data), so saving
    #: an edited story keeps the file's comments and layout; None for a story made in code.
    source: Any = field(default=None, compare=False, repr=False)
    line: int = _line()

    def claims(self) -> dict[str, Claim]:
        """Every claim by id, in reading order."""
        return {c.id: c for comp in self.components.values() for c in comp.claims}

    def claim_component(self) -> dict[str, str]:
        """The component each claim id belongs to."""
        return {c.id: name for name, comp in self.components.items() for c in comp.claims}

    def evidence_by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.evidence}

    def assumption_by_name(self) -> dict[str, Assumption]:
        return {a.name: a for a in self.assumptions}

    def sweep_by_id(self) -> dict[str, Sweep]:
        return {s.id: s for s in self.sweeps}


def effective_params(story: Story, evidence: Evidence, values: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The parameters evidence runs with: its literals, then its assumptions (nominal, or `values[name]`).

    The scenario's own preset parameters sit underneath when it runs; they are not repeated here so
    that a recorded result lists only what the story chose.
    """
    assumptions = story.assumption_by_name()
    params = dict(evidence.params)
    for name in evidence.assumptions:
        if name not in assumptions:
            raise ExplorerError(f"evidence {evidence.id} uses assumption {name!r}, which the story does not define")
        a = assumptions[name]
        params[a.parameter] = (values or {}).get(name, a.nominal)
    return params


def same_value(value: Any) -> Any:
    """A recorded number as it compares (rounded like every metric); anything else as it is."""
    return plain(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def normalised(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ({kk: same_value(vv) for kk, vv in v.items()} if isinstance(v, dict) else same_value(v))
            for k, v in params.items()}


def is_stale(recorded: Recorded, params: Mapping[str, Any]) -> bool:
    """A recorded result is stale when its parameters or code version differ from the current ones."""
    return recorded.code_version != code_version() or normalised(recorded.params) != normalised(params)
