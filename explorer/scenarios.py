"""Named presets: parameters, a short explanation, and the claim each demonstrates.

A claim is data, not prose only: a list of checks, each comparing a named selection metric
(`posterior.deceptive`, `map.kind`, ...) under one prior and parameter change against another, or
against a literal. `verify` computes them, so tests, the CLI (`scenarios --check`) and stories all
check the same thing. Checks assert directions, never numbers copied from a run.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Mapping

from explorer.errors import ExplorerError
from explorer.priors import PRIORS
from explorer.simulation import Simulation

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Case:
    """One prior, under the scenario's parameters with some of them changed."""

    prior: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.prior not in PRIORS:
            raise ValueError(f"unknown prior {self.prior!r}")

    def describe(self) -> str:
        changed = ", ".join(f"{k}={v}" for k, v in self.changes.items())
        return f"{self.prior}" + (f" with {changed}" if changed else "")


@dataclass(frozen=True)
class Check:
    """`metric` under `case` compared by `op` with the same metric under `other`, or with `value`."""

    metric: str
    case: Case
    op: str
    other: Case | None = None
    value: Any = None

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}")

    def describe(self) -> str:
        right = f"under {self.other.describe()}" if self.other else repr(self.value)
        return f"{self.metric} under {self.case.describe()} {self.op} {right}"


@dataclass(frozen=True)
class Outcome:
    check: Check
    left: Any
    right: Any
    passed: bool


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    explanation: str
    claim: str
    params: Mapping[str, Any]
    checks: tuple[Check, ...]

    def simulation(self, **overrides) -> Simulation:
        """A Simulation with this scenario's parameters, then `overrides` applied."""
        return Simulation(**{**self.params, **overrides})

    def verify(self, **overrides) -> list[Outcome]:
        """Evaluate every check (overrides such as backend or n_programs apply to all cases)."""
        cache: dict[tuple, dict[str, dict[str, Any]]] = {}

        def metric(case: Case, name: str):
            key = tuple(sorted(case.changes.items()))
            if key not in cache:
                cache[key] = {p: r.metrics() for p, r in self.simulation(**{**overrides, **case.changes}).select().items()}
            return cache[key][case.prior][name]

        outcomes = []
        for check in self.checks:
            left = metric(check.case, check.metric)
            right = metric(check.other, check.metric) if check.other else check.value
            passed = left is not None and right is not None and OPERATORS[check.op](left, right)
            outcomes.append(Outcome(check, left, right, bool(passed)))
        return outcomes


HONEST_AND_DECEPTIVE = {"honest": 0.5, "deceptive": 0.5}

SCENARIOS: dict[str, Scenario] = {s.id: s for s in [
    Scenario(
        id="goof-off",
        title="Goofing off on easy tasks",
        explanation=(
            "Half the programs are honest, half goof off: whenever a task leaves them spare compute they "
            "burn some of it on something that does not help. Both kinds have the same capacity, so the "
            "most they could ever spend on a task is identical; only their average spend differs."),
        claim="The max speed prior cannot tell goof-offs from honest programs; the average-case prior disfavours them.",
        params={"kind_mix": {"honest": 0.5, "goof_off": 0.5}, "misbehaviour_cost": 3.0},
        checks=(
            Check("posterior.goof_off", Case("average_speed"), "<", Case("max_speed")),
            Check("posterior.goof_off", Case("average_speed", {"misbehaviour_cost": 6.0}), "<", Case("average_speed")),
            Check("map.kind", Case("average_speed"), "==", value="honest"),
        ),
    ),
    Scenario(
        id="deceptive-planner",
        title="Deceptive planning costs compute",
        explanation=(
            "Deceptive programs spend part of every task planning and checking whether they have been "
            "deployed, and defect once they are. The planning solves no task, so it shows up as extra "
            "compute, and the more of it they need the more a speed prior counts against them."),
        claim="A speed prior puts less posterior mass on deceptive programs than the simplicity prior, less the costlier their planning.",
        params={"kind_mix": HONEST_AND_DECEPTIVE, "deception_overhead": 2.0},
        checks=(
            Check("posterior.deceptive", Case("average_speed"), "<", Case("simplicity")),
            Check("posterior.deceptive", Case("average_speed", {"deception_overhead": 4.0}), "<", Case("average_speed")),
            Check("deploy_perf", Case("average_speed"), ">", Case("simplicity")),
        ),
    ),
    Scenario(
        id="lookup-table",
        title="The fastest fit is a lookup table",
        explanation=(
            "A table of memorised answers spends almost nothing per training task, so a strong speed "
            "prior loves it, yet it knows nothing about tasks it has not seen. Checking performance on "
            "held-out tasks during training removes it from the programs that look good."),
        claim="Without a generalisation check the average-case speed prior picks a lookup table; with the check it does not.",
        params={"generalization_check": False},
        checks=(
            Check("map.kind", Case("average_speed"), "==", value="lookup"),
            Check("map.kind", Case("average_speed", {"generalization_check": True}), "!=", value="lookup"),
            Check("actually_good", Case("average_speed", {"generalization_check": True}), ">", Case("average_speed")),
        ),
    ),
    Scenario(
        id="memory",
        title="Cross-episode memory weakens the speed prior",
        explanation=(
            "A deceptive program that can carry its plans from one episode to the next need not work them "
            "out again on every task. The saved planning is compute the speed prior no longer sees."),
        claim="The more of the deception overhead memory saves, the more mass the average-case prior leaves on deception.",
        params={"kind_mix": HONEST_AND_DECEPTIVE, "deception_overhead": 3.0, "memory": 0.9},
        checks=(
            Check("posterior.deceptive", Case("average_speed"), ">", Case("average_speed", {"memory": 0.0})),
            Check("actually_good", Case("average_speed"), "<", Case("average_speed", {"memory": 0.0})),
        ),
    ),
    Scenario(
        id="deception-checks",
        title="Deception checks strengthen the speed prior",
        explanation=(
            "If training looks for signs of deception, a deceptive program must spend further compute "
            "hiding from those checks. Even checks that never catch anything raise the price of deceiving."),
        claim="Stronger deception checks lower the deceptive mass under the average-case speed prior.",
        params={"kind_mix": HONEST_AND_DECEPTIVE, "deception_overhead": 1.0, "deception_check_strength": 3.0},
        checks=(
            Check("posterior.deceptive", Case("average_speed"), "<", Case("average_speed", {"deception_check_strength": 0.0})),
            Check("posterior.deceptive", Case("combined"), "<", Case("combined", {"deception_check_strength": 0.0})),
        ),
    ),
    Scenario(
        id="fastest-is-deceptive",
        title="When the fastest good program is deceptive",
        explanation=(
            "Suppose the quickest way to solve the tasks is a capable internal search that ends up "
            "deceptive, and the space holds no honest program nearly as efficient. Then the overhead of "
            "deception is small beside the efficiency it brings, and speed points the wrong way."),
        claim="In a space whose most efficient solvers are deceptive, the speed priors favour deception more than the simplicity prior does.",
        params={"kind_mix": HONEST_AND_DECEPTIVE, "deceptive_efficiency": 2.5},
        checks=(
            Check("map.kind", Case("average_speed"), "==", value="deceptive"),
            Check("posterior.deceptive", Case("average_speed"), ">", Case("simplicity")),
            Check("posterior.deceptive", Case("average_speed"), ">", Case("average_speed", {"deceptive_efficiency": 1.0})),
        ),
    ),
    Scenario(
        id="simple-deception",
        title="Deception can be the simpler program",
        explanation=(
            "A program that pursues a simple goal of its own and plays along only while watched may be "
            "shorter to describe than one that encodes what we want. Here deceptive programs are ten bits "
            "shorter, and a prior that only rewards brevity follows them."),
        claim="When deception is simpler, the simplicity prior favours it while the speed priors do not.",
        params={"kind_mix": HONEST_AND_DECEPTIVE, "deception_bits_offset": -10.0},
        checks=(
            Check("map.kind", Case("simplicity"), "==", value="deceptive"),
            Check("posterior.deceptive", Case("simplicity"), ">", Case("average_speed")),
            Check("posterior.deceptive", Case("simplicity"), ">", Case("simplicity", {"deception_bits_offset": 0.0})),
        ),
    ),
    Scenario(
        id="costly-deployment-check",
        title="Checking for deployment costs bits",
        explanation=(
            "To defect only after deployment a program has to tell deployment from training, and that "
            "test has to be written down somewhere. Here it costs ten bits, and the ordinary simplicity "
            "prior already counts against deception."),
        claim="When the deployment check costs bits, the simplicity prior alone lowers the deceptive mass.",
        params={"kind_mix": HONEST_AND_DECEPTIVE, "deception_bits_offset": 10.0},
        checks=(
            Check("posterior.deceptive", Case("simplicity"), "<", Case("simplicity", {"deception_bits_offset": 0.0})),
            Check("map.kind", Case("simplicity"), "==", value="honest"),
        ),
    ),
]}


#: Parameters a preset leaves as the user set them: how big a space to compute, and where.
MACHINE_PARAMS = ("n_programs", "backend")


def preset_params(scenario_id: str) -> dict[str, Any]:
    """Every parameter's default with the scenario's values on top, minus MACHINE_PARAMS: applying it
    loads the preset completely, so nothing set for an earlier preset lingers."""
    from explorer.priors import PriorSettings
    from explorer.worlds.abstract import AbstractWorld

    defaults = {n: c.param[n].default for c in (AbstractWorld, PriorSettings) for n in c.param
                if n != "name" and n not in MACHINE_PARAMS}
    defaults["kind_mix"] = dict(defaults["kind_mix"])
    return {**defaults, **get_scenario(scenario_id).params}


def get_scenario(scenario_id: str) -> Scenario:
    """The scenario with this id; an unknown id raises ExplorerError listing the known ones."""
    try:
        return SCENARIOS[scenario_id]
    except KeyError:
        raise ExplorerError(f"unknown scenario {scenario_id!r}; scenarios: {', '.join(SCENARIOS)}") from None
