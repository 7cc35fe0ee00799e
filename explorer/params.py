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


#: Longest text a value may have (a link or a --set can carry megabytes; no parameter needs more).
MAX_VALUE_CHARS = 1000


def quoted(value: Any, limit: int = 60) -> str:
    """`repr(value)` for a message, cut to `limit` characters: messages quote what users wrote, which
    may be huge."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_value(p: param.Parameter, text: str) -> Any:
    """Parse text (a link, a --set, a form) for parameter `p`; raises ExplorerError naming it.

    Refused: text that is not a value of the parameter's type, non-finite numbers, true/false where a
    number is meant, mappings with values that are not finite numbers, and text over MAX_VALUE_CHARS.
    """
    name = p.name
    if not isinstance(text, str):
        raise ExplorerError(f"{name}: {type_name(text)} is not valid; expected {allowed(p)}")
    if len(text) > MAX_VALUE_CHARS:
        raise ExplorerError(f"{name}: a value of {len(text):,} characters is not valid (at most "
                            f"{MAX_VALUE_CHARS:,}); expected {allowed(p)}")
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
            value = _finite(t)
            if not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(p, param.Number):
            return _finite(t)
        if isinstance(p, param.Dict):
            return parse_mapping(t)
        if isinstance(p, param.Selector):
            return t
    except ValueError as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise ExplorerError(f"{name}: {quoted(text)} is not valid; expected {allowed(p)}{detail}") from None
    return t


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def parse_mapping(text: str) -> dict[str, float]:
    """Parse `a:0.5,b:0.5`, `a=0.5,b=0.5` or a JSON object of numbers into a dict of finite floats.

    A ValueError says what is wrong: not a mapping, empty, or a value that is not a finite number
    (true/false, null, a list, a nested mapping, NaN or infinity).
    """
    if text.startswith("{"):
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg} at character {exc.pos}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{type_name(data)}, not a mapping")
        items = list(data.items())
    else:
        items = []
        for item in filter(None, (s.strip() for s in text.split(","))):
            key, sep, value = item.replace("=", ":").partition(":")
            if not sep:
                raise ValueError(f"{quoted(item, 30)} is not name:share")
            items.append((key.strip(), _share_text(key.strip(), value)))
    if not items:
        raise ValueError("no entries")
    out = {}
    for key, value in items:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"the value of {quoted(str(key), 30)} is {type_name(value)}, not a number")
        if not math.isfinite(value):
            raise ValueError(f"the value of {quoted(str(key), 30)} is not a finite number")
        out[str(key)] = float(value)
    return out


def _share_text(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"the value of {quoted(key, 30)} is {quoted(text.strip(), 30)}, not a number") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def set_values(obj: param.Parameterized, values: dict[str, Any]) -> None:
    """Set parameters by name, raising ExplorerError for unknown names or bad values."""
    for name, value in values.items():
        p = obj.param[name] if name in obj.param else None
        if p is None or name == "name":
            known = ", ".join(sorted(n for n in obj.param if n != "name"))
            raise ExplorerError(f"unknown parameter {quoted(name)}; known parameters: {known}")
        if isinstance(p, param.Number) and (isinstance(value, bool) or (
                isinstance(value, float) and not math.isfinite(value))):
            raise ExplorerError(f"{name}: {quoted(value)} is not valid; expected {allowed(p)}")
        try:
            setattr(obj, name, value)
        except (ValueError, TypeError) as exc:
            detail = str(exc).split(":")[-1].strip() if isinstance(p, param.Dict) else ""
            extra = f" ({detail})" if detail else ""
            raise ExplorerError(f"{name}: {quoted(value)} is not valid; expected {allowed(p)}{extra}") from None


def values_of(obj: param.Parameterized) -> dict[str, Any]:
    """The parameter values of `obj` (without param's `name`), for JSON reports."""
    return {k: v for k, v in obj.param.values().items() if k != "name"}
