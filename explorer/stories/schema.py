"""The JSON Schema (draft 2020-12) of a story's front matter, generated from the code that reads it.

Keys come from fileformat's key lists, words from the vocabulary, parameter types and bounds from the
simulation's own param declarations, so the published schema (assets/schema/story.schema.json) cannot
drift from the loader: `python -m explorer story schema` prints it, and a test compares the file with
the output. Editors use it for completion and early errors; `story check` remains the judge, since a
schema cannot see references, cycles or which metrics a scenario produces.
"""

from __future__ import annotations

import json
from typing import Any

import param

from explorer.checks import ALL_METRICS, OPERATORS
from explorer.scenarios import DECIDED_BY, shipped_scenario_ids
from explorer.simulation import PRIOR_PARAMS, parameter, world_param_names
from explorer.stories import fileformat as ff
from explorer.stories.model import SCHEMA_VERSION
from explorer.stories.vocabulary import (
    COMPONENTS,
    CRITERIA,
    FAILURE_MODES,
    FINDINGS,
    GOAL_CLASSES,
    RATINGS,
    RATIONALE_CLASSES,
)
from explorer.table import KINDS
from explorer.worlds import WORLDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _object(keys: tuple[str, ...], properties: dict[str, Any], required: tuple[str, ...] = (), **extra) -> dict:
    """A closed object whose properties are exactly `keys` (in their order); a key list and its schema
    falling out of step is a programming error, caught the moment the schema is built."""
    if set(keys) != set(properties):
        raise AssertionError(f"schema properties {sorted(properties)} do not match the format's keys {sorted(keys)}")
    out: dict[str, Any] = {"type": "object", "additionalProperties": False,
                           "properties": {k: properties[k] for k in keys}}
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def _param_schema(p: param.Parameter) -> dict:
    """A simulation parameter as JSON Schema: its type, bounds or choices, and its doc."""
    if isinstance(p, param.Boolean):
        out: dict[str, Any] = {"type": "boolean"}
    elif isinstance(p, param.Selector):
        out = {"enum": [o for o in p.objects]}
    elif isinstance(p, param.Dict):  # kind_mix: shares of program kinds
        out = {"type": "object", "propertyNames": {"enum": list(KINDS)},
               "additionalProperties": {"type": "number", "minimum": 0}, "minProperties": 1}
    elif isinstance(p, param.String):
        out = {"type": "string"}
    elif isinstance(p, param.Number):
        out = {"type": "integer" if isinstance(p, param.Integer) else "number"}
        lo, hi = p.bounds or (None, None)
        lo_in, hi_in = getattr(p, "inclusive_bounds", (True, True))
        if lo is not None:
            out["minimum" if lo_in else "exclusiveMinimum"] = lo
        if hi is not None:
            out["maximum" if hi_in else "exclusiveMaximum"] = hi
    else:  # pragma: no cover - every simulation parameter is one of the above
        raise TypeError(f"no schema for parameter type {type(p).__name__}")
    if p.allow_None:
        out = {"anyOf": [out, {"type": "null"}]}
    if p.doc:
        out["description"] = " ".join(p.doc.split())
    return out


def _world_of() -> dict[str, str]:
    """Every flat parameter name with the first world that has it (the priors' names: abstract)."""
    out: dict[str, str] = {}
    for world in WORLDS:
        for n in world_param_names(world) + PRIOR_PARAMS:
            out.setdefault(n, world)
    return out


def _param_schemas(name: str) -> dict:
    """A parameter's schema; a name several worlds use with different definitions accepts any of them."""
    found: list[dict] = []
    for world in WORLDS:
        if name in world_param_names(world) + PRIOR_PARAMS:
            schema = _param_schema(parameter(name, world))
            if schema not in found:
                found.append(schema)
    return found[0] if len(found) == 1 else {"anyOf": found}


def _params() -> dict:
    return {"type": "object", "additionalProperties": False,
            "description": "Parameters by flat name, of the scenario's world and of the priors (they override the "
                           "scenario's presets); `story check` says which world has which.",
            "properties": {n: _param_schemas(n) for n in sorted(_world_of())}}


def _class_choice(known: dict[str, str], what: str) -> dict:
    return {"description": f"One of the known {what} classes, or {{custom: a description}}.",
            "if": {"type": "object"},
            "then": _object(("custom",), {"custom": _ref("nonempty_text")}, ("custom",)),
            "else": {"enum": list(known)}}


def story_schema() -> dict:
    """The front matter of NAME.story.md as a JSON Schema (draft 2020-12)."""
    metrics = sorted(ALL_METRICS)
    worlds = _world_of()
    ids = _ref("id")
    id_list = {"type": "array", "items": ids}
    scalar = {"type": ["string", "number", "boolean", "null"]}
    defs: dict[str, Any] = {
        "id": {"description": "A short name without spaces (claim, evidence, sweep or assumption).",
               "anyOf": [{"type": "string", "pattern": r"^\S+$", "maxLength": 80}, {"type": "integer"}]},
        "text": {"type": "string"},
        "nonempty_text": {"type": "string", "pattern": r"\S"},
        "scenario": {"type": "string", "minLength": 1, "examples": shipped_scenario_ids(),
                     "description": "A scenario id: a shipped one (the examples) or one of your own folders' "
                                    "(--scenario-dir, EXPLORER_SCENARIO_PATH); `python -m explorer scenarios` lists them."},
        "metric": {"enum": metrics, "description": "A selection metric, PRIOR.METRIC."},
        "params": _params(),
        "predicate": _object(ff.PREDICATE_KEYS, {
            "metric": _ref("metric"),
            "op": {"enum": list(OPERATORS)},
            "value": scalar,
            "other": _ref("metric"),
            "params": _ref("params"),
            "other_params": _ref("params"),
        }, ("metric", "op"), oneOf=[{"required": ["value"]}, {"required": ["other"]}],
            description="metric op value, or metric op other (a second metric); never evaluated as code."),
        "condition": {"type": "array", "items": _ref("predicate"),
                      "description": "Predicates that must all hold."},
        "claim": _object(ff.CLAIM_KEYS, {
            "id": ids, "text": _ref("text"), "evidence": id_list, "rests_on": id_list,
            "undeveloped": {"type": "boolean"},
        }, ("id",)),
        # `name:` with nothing after it is an empty component or criterion, so null is allowed too
        "component": {**_object(ff.COMPONENT_KEYS, {
            "undeveloped": {"type": "boolean"}, "note": _ref("text"),
            "claims": {"type": "array", "items": _ref("claim")},
        }), "type": ["object", "null"]},
        "criterion": {**_object(ff.CRITERION_KEYS, {
            "rating": {"enum": list(RATINGS)}, "basis": id_list, "note": _ref("text"),
        }), "type": ["object", "null"]},
        "assumption": _object(ff.ASSUMPTION_KEYS, {
            "name": ids,
            "parameter": {"enum": sorted(n for n, w in worlds.items()
                                         if isinstance(parameter(n, w), param.Number)
                                         and not isinstance(parameter(n, w), param.Integer))},
            "nominal": {"type": "number"},
            "range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            "note": _ref("text"),
        }, ("name", "parameter", "nominal", "range")),
        "recorded": _object(ff.RECORDED_KEYS, {
            "holds": {"type": "boolean"}, "value": scalar, "other": scalar, "params": _ref("params"),
            "code_version": {"type": "string"},
        }, ("holds", "value", "params", "code_version"),
            description="Written by `story check --record`; not meant to be edited by hand."),
    }
    simulated = {"id": ids, "scenario": _ref("scenario"), "params": _ref("params"), "assumptions": id_list,
                 "predicate": _ref("predicate"), "note": _ref("text"), "recorded": _ref("recorded")}
    external = {"id": ids, "source": _ref("nonempty_text"), "finding": {"enum": list(FINDINGS)}, "note": _ref("text")}
    cited = {"id": ids, "cell": _ref("cell"), "note": _ref("text")}
    if set(simulated) | set(external) | set(cited) != set(ff.EVIDENCE_KEYS):
        raise AssertionError("evidence schema does not match fileformat.EVIDENCE_KEYS")
    defs["cell"] = _object(ff.CELL_KEYS, {
        "scenario": _ref("scenario"), "world": {"enum": list(WORLDS)},
        "op": {"enum": [op for op in OPERATORS if op not in ("==", "!=")]},
        "share": {"type": "number", "minimum": 0, "maximum": 1}, "by": {"enum": list(DECIDED_BY)},
    }, ("scenario", "world", "op", "share"),
        description="A cell of the claims matrix (python -m explorer claims): the share of runs in which the "
                    "scenario's claim holds in that world must compare with `share` as `op` says; checked against "
                    "the recorded matrix.")
    defs["evidence"] = {  # an entry with a cell cites the claims matrix; one citing a source or a finding is
        # external; any other is a simulation
        "description": "A simulation (scenario, params, predicate), a claims-matrix cell (cell), or an external "
                       "source (source, finding).",
        "if": {"required": ["cell"]},
        "then": _object(tuple(k for k in ff.EVIDENCE_KEYS if k in cited), cited, ("id", "cell")),
        "else": {
            "if": {"anyOf": [{"required": ["source"]}, {"required": ["finding"]}]},
            "then": _object(tuple(k for k in ff.EVIDENCE_KEYS if k in external), external,
                            ("id", "source", "finding")),
            "else": _object(tuple(k for k in ff.EVIDENCE_KEYS if k in simulated), simulated,
                            ("id", "scenario", "predicate")),
        },
    }
    defs["sweep"] = _object(ff.SWEEP_KEYS, {
        "id": ids, "scenario": _ref("scenario"), "params": _ref("params"),
        "assumptions": {"type": "array", "items": ids, "minItems": 1},
        "points": {"type": "integer", "minimum": 2, "maximum": 101},
        "fails_safely": _ref("condition"), "fails_catastrophically": _ref("condition"),
        "output": _ref("metric"), "note": _ref("text"),
    }, ("id", "scenario", "assumptions", "fails_safely", "fails_catastrophically"))
    top = _object(ff.STORY_KEYS, {
        "schema": {"const": SCHEMA_VERSION},
        "title": _ref("nonempty_text"),
        "authors": {"type": "array", "items": {"type": "string"}},
        "revision": {"type": "integer", "minimum": 1},
        "goal_class": _class_choice(GOAL_CLASSES, "goal"),
        "rationale_classes": {"type": "array", "items": _class_choice(RATIONALE_CLASSES, "rationale")},
        "failure_modes": {"type": "array", "items": {"enum": list(FAILURE_MODES)}},
        "components": _object(tuple(COMPONENTS), {c: _ref("component") for c in COMPONENTS}),
        "criteria": _object(tuple(CRITERIA), {c: _ref("criterion") for c in CRITERIA}),
        "assumptions": {"type": "array", "items": _ref("assumption")},
        "evidence": {"type": "array", "items": _ref("evidence")},
        "sweeps": {"type": "array", "items": _ref("sweep")},
    }, ff.REQUIRED_STORY_KEYS)
    return {"$schema": DIALECT, "title": "Training story front matter",
            "description": "The YAML front matter of a NAME.story.md file (Speed Prior Explorer). "
                           "`python -m explorer story check` also checks what a schema cannot: references, "
                           "cycles, the metrics each scenario produces, and recorded results.",
            **top, "$defs": defs}


def schema_errors(text: str, name: str = "<story>") -> list[str]:
    """Where a story file's front matter breaks the schema: `path: problem` lines, [] when it fits.

    The front matter is read as plain YAML data (the loader's own checks are not applied), so this
    shows what an editor using the published schema would show. Unreadable text raises StoryFormatError.
    """
    import jsonschema

    front, _ = ff.split(ff.decode(text.encode("utf-8", "surrogatepass"), name), name)
    data = ff._parse_yaml(front, name)  # the loader's YAML reading: located errors, no anchors or tags
    data = json.loads(json.dumps(data, default=str))  # as a JSON document would carry it
    validator = jsonschema.Draft202012Validator(story_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]


def schema_text() -> str:
    """The schema as the text of assets/schema/story.schema.json."""
    return json.dumps(story_schema(), indent=2, ensure_ascii=False) + "\n"

