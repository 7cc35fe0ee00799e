"""The priors app's URL state: every setting in the query string, so a link reproduces the view.

One function, `sync_url`, reads the link once when the page opens and then keeps the query string in
step with the dashboard. Values are parsed against the core's parameter types (never evaluated); a bad
value or an unknown name becomes a message, and everything else in the link still applies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import panel as pn

from explorer.errors import ExplorerError
from explorer.params import parse_value
from explorer.scenarios import SCENARIOS, preset_params
from explorer.simulation import PRIOR_PARAMS, WORLD_PARAMS, parameter


def link_query(dashboard) -> str:
    """The query string for the dashboard's current view: the scenario, and what differs from it."""
    preset = preset_params(dashboard.scenario)
    values = dashboard.state.simulation.params()
    pairs = [("scenario", dashboard.scenario)]
    for name in (*WORLD_PARAMS, *PRIOR_PARAMS):
        value = values[name]
        if name in preset and value == preset[name]:
            continue
        if name in ("n_programs", "backend") and value == dashboard.initial[name]:
            continue
        pairs.append((name, _text(value)))
    return "?" + urlencode(pairs, safe=":,")


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{v:g}" for k, v in value.items())
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def apply_query(dashboard, query: str) -> list[str]:
    """Apply a query string to the dashboard; returns one message per part that could not be applied."""
    problems = []
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    scenario = dict(pairs).get("scenario")
    if scenario is not None:
        if scenario in SCENARIOS:
            dashboard.scenario = scenario
        else:
            problems.append(f"scenario: {scenario!r} is not a scenario; scenarios: {', '.join(SCENARIOS)}")
    values = {}
    for name, text in pairs:
        if name == "scenario":
            continue
        if name not in WORLD_PARAMS and name not in PRIOR_PARAMS:
            problems.append(f"unknown parameter {name!r} in the link")
            continue
        try:
            values[name] = parse_value(parameter(name), text)
        except ExplorerError as exc:
            problems.append(str(exc))
    for name, value in values.items():  # one at a time, so one bad value does not block the others
        if not dashboard.state.apply(**{name: value}):
            problems.append(dashboard.state.message)
    dashboard.controls.refresh()
    return problems


def sync_url(dashboard) -> None:
    """Read the page's link into the dashboard, then write every later change back into the link."""
    location = pn.state.location
    if location is None:  # not served (a notebook, a test): nothing to sync
        return
    problems = apply_query(dashboard, location.search or "")
    if problems:
        dashboard.show_message("This link had settings that could not be used: " + "; ".join(problems))

    def write(*_):
        location.search = link_query(dashboard)

    dashboard.state.param.watch(write, "version")
    dashboard.param.watch(write, "scenario")
    write()
