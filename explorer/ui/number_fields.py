"""Number fields that take what is typed or say why not, never changing a value without a word.

Why not `pn.widgets.IntInput.from_param`: it gives the field the parameter's bounds, and Bokeh's spinner
then puts the previous value back, silently, when a typed value is outside them (20,000 draws per step
became 8 again). These fields have no bounds of their own: every typed value reaches `refusal`, which
accepts it or names the limit it breaks, and the caller shows that message (the field keeps the setting).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import panel as pn
import param

from explorer.params import allowed


def amount(v: Any) -> str:
    """A setting's value in a message: 40,000 for a count, 0.001 for a rate."""
    return f"{v:,}" if isinstance(v, int) else f"{v:g}" if isinstance(v, float) else str(v)


#: What a value over a served limit is told (a page may say more: where larger runs are done).
OVER_CAP = "{name}: {value} is more than this server allows (at most {most})"


def refusal(obj: param.Parameterized, name: str, value: Any, caps: dict[str, int] | None = None,
            over_cap: str = OVER_CAP) -> str:
    """Why `obj` should not take `value` for its setting `name` ("" when it should): empty (unless the
    setting allows none), over a served limit in `caps` (which it names), or outside the setting's range."""
    p = obj.param[name]
    if value is None:
        return "" if p.allow_None else f"{name}: give a number"
    most = (caps or {}).get(name)
    if most is not None and value > most:
        return over_cap.format(name=name, value=amount(value), most=f"{most:,}")
    (low, high), (low_in, high_in) = p.bounds or (None, None), getattr(p, "inclusive_bounds", (True, True))
    too_low = low is not None and (value < low or (value == low and not low_in))
    too_high = high is not None and (value > high or (value == high and not high_in))
    if too_low or too_high or math.isnan(value):
        return f"{name}: {amount(value)} is not valid; expected {allowed(p)}"
    return ""


def number_field(obj: param.Parameterized, name: str, refuse: Callable[[str], None],
                 caps: dict[str, int] | None = None, over_cap: str = OVER_CAP, **params) -> pn.widgets.Widget:
    """An IntInput or FloatInput (by the parameter's type) for `obj.name`, without bounds, in step with it.

    A typed value is set, or the field goes back to the setting and `refuse` gets one message saying why
    (the setting, the value, the limit, and what it stays at)."""
    p = obj.param[name]
    kind = pn.widgets.IntInput if isinstance(p, param.Integer) else pn.widgets.FloatInput
    params.setdefault("label", p.label)
    params.setdefault("description", p.doc)
    if p.step is not None and "step" not in params:
        params["step"] = p.step
    field = kind(value=getattr(obj, name), **params)
    field.param.watch(functools.partial(_typed, obj, name, field, refuse, caps, over_cap), "value")
    obj.param.watch(lambda event: setattr(field, "value", event.new), name)
    return field


def _typed(obj, name, field, refuse, caps, over_cap, event) -> None:
    kept = getattr(obj, name)
    if event.new == kept:
        return
    problem = refusal(obj, name, event.new, caps, over_cap)
    if not problem:
        try:
            obj.param.update({name: event.new})
            return
        except ValueError as exc:  # a check of the parameter's own that refusal() does not repeat
            problem = f"{name}: {amount(event.new)} is not valid ({str(exc)[:200]})"
    field.value = kept
    refuse(f"{problem}. {name} stays {'empty' if kept is None else amount(kept)}.")
