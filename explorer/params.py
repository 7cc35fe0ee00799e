"""Setting parameters by name, with errors a user can act on.

The CLI, scenarios and stories all set parameters by name from text or literals. This module turns
param's own ValueError/TypeError into an ExplorerError that names the parameter and the allowed values,
and parses "name=value" text against the parameter's type (never evaluating it as code).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import param

from explorer.errors import ExplorerError


def type_name(value: Any) -> str:
    """How a message names the type of a value a user wrote (YAML or JSON): 'a list', 'text', ..."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, int):
        return "an integer"
    return type(value).__name__


def allowed(p: param.Parameter) -> str:
    """A short description of what a parameter accepts."""
    if isinstance(p, param.Boolean):
        return "true or false"
    if isinstance(p, param.Selector):
        return "one of: " + ", ".join(map(str, p.objects))
    if isinstance(p, param.Dict):
        return "a mapping such as name:0.5,other:0.5 (or JSON)"
    if isinstance(p, param.Number):
        lo, hi = p.bounds if p.bounds else (None, None)
        kind = "an integer" if isinstance(p, param.Integer) else "a number"
        lo_in, hi_in = getattr(p, "inclusive_bounds", (True, True))
        fmt = (lambda v: f"{v:,}") if isinstance(p, param.Integer) else (lambda v: f"{v:g}")
        lo_s = "(-inf" if lo is None else ("[" if lo_in else "(") + fmt(lo)
        hi_s = "inf)" if hi is None else fmt(hi) + ("]" if hi_in else ")")
        rng = f" in {lo_s}, {hi_s}"
        return kind + rng + (" or none" if p.allow_None else "")
    return type(p).__name__


def parse_value(p: param.Parameter, text: str) -> Any:
    """Parse command-line text for parameter `p`; raises ExplorerError naming it."""
    name = p.name
    t = text.strip()
    try:
        if p.allow_None and t.lower() in ("none", "null", ""):
            return None
        if isinstance(p, param.Boolean):
            low = t.lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if isinstance(p, param.Integer):
            value = float(t)
            if not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(p, param.Number):
            value = float(t)
            if math.isnan(value):
                raise ValueError
            return value
        if isinstance(p, param.Dict):
            return parse_mapping(t)
        if isinstance(p, param.Selector):
            return t
    except ValueError:
        raise ExplorerError(f"{name}: {text!r} is not valid; expected {allowed(p)}") from None
    return t


def parse_mapping(text: str) -> dict[str, float]:
    """Parse `a:0.5,b:0.5`, `a=0.5,b=0.5` or a JSON object into a dict of floats."""
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError
        return {str(k): float(v) for k, v in data.items()}
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, value = item.replace("=", ":").partition(":")
        if not sep:
            raise ValueError
        out[key.strip()] = float(value)
    if not out:
        raise ValueError
    return out


def set_values(obj: param.Parameterized, values: dict[str, Any]) -> None:
    """Set parameters by name, raising ExplorerError for unknown names or bad values."""
    for name, value in values.items():
        p = obj.param[name] if name in obj.param else None
        if p is None or name == "name":
            known = ", ".join(sorted(n for n in obj.param if n != "name"))
            raise ExplorerError(f"unknown parameter {name!r}; known parameters: {known}")
        if isinstance(p, param.Number) and isinstance(value, bool):
            raise ExplorerError(f"{name}: {value!r} is not valid; expected {allowed(p)}")
        try:
            setattr(obj, name, value)
        except (ValueError, TypeError) as exc:
            detail = str(exc).split(":")[-1].strip() if isinstance(p, param.Dict) else ""
            extra = f" ({detail})" if detail else ""
            raise ExplorerError(f"{name}: {value!r} is not valid; expected {allowed(p)}{extra}") from None


def values_of(obj: param.Parameterized) -> dict[str, Any]:
    """The parameter values of `obj` (without param's `name`), for JSON reports."""
    return {k: v for k, v in obj.param.values().items() if k != "name"}
