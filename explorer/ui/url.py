"""Every app's URL state: its settings in the query string, so a link reproduces the view.

`sync_url` (the priors app) and `sync_params` (every other app: the settings of one param.Parameterized)
read the link once when the page opens and then keep the query string in step with the page. Values are
parsed against the parameters' types (never evaluated); a bad value or an unknown name becomes a
message, and everything else in the link still applies.

Beyond the simulation's settings, a /priors link carries the page's own parts (`dashboard.link_parts`:
which controls show, `show=`/`mode=`, explorer.ui.room_link; a pinned setting A, `pin=`,
explorer.ui.pinned_compare). Each part names its link names, reads them (`apply_link`), writes them
(`link_pairs`) and says which of its parameters change them (`link_watch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.params import parse_value, quoted
from explorer.scenarios import preset_params, scenarios_of
from explorer.simulation import PRIOR_PARAMS, WORLD_PARAMS, parameter
from explorer.ui.deferred import after_update

#: Characters a link leaves as they are: kind_mix's `honest:0.5,lookup:0.5`, and the `name=value;name=value`
#: of a pinned setting (`pin=`), so a link stays readable.
SAFE = ":,;="


def settings_pairs(scenario: str, values: Mapping[str, Any], initial: Mapping[str, Any],
                   skip: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The scenario, and each setting of `values` that differs from its preset (n_programs and back end,
    which no preset sets: from `initial`), as (name, text) pairs; `skip` leaves names out."""
    preset = preset_params(scenario)
    pairs = [("scenario", scenario)]
    for name in (*WORLD_PARAMS, *PRIOR_PARAMS):
        if name in skip:
            continue
        value = values[name]
        if name in preset and value == preset[name]:
            continue
        if name in ("n_programs", "backend") and value == initial[name]:
            continue
        pairs.append((name, value_text(value)))
    return pairs


def link_query(dashboard) -> str:
    """The query string for the dashboard's current view: the scenario, what differs from it, and the
    page's own parts (which controls show, a pinned setting)."""
    pairs = settings_pairs(dashboard.scenario, dashboard.state.simulation.params(), dashboard.initial)
    for part in getattr(dashboard, "link_parts", ()):
        pairs += part.link_pairs()
    return "?" + urlencode(pairs, safe=SAFE)


def value_text(value: Any) -> str:
    """A value as a link writes it (and parse_value reads it back)."""
    if isinstance(value, dict):
        return ",".join(f"{k}:{v:g}" for k, v in value.items())
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


#: Longest query string read (a shared link can be any length; every setting fits in far less).
MAX_QUERY_CHARS = 8192
#: Most name=value pairs read from one link.
MAX_FIELDS = 100
#: Panel's own settings of a page (its template's dark-mode toggle reloads with `?theme=dark`): not the
#: simulation's, so they are neither applied nor reported, and stay in the link as they came.
PAGE_PARAMS = ("theme",)


def read_link(query: str) -> tuple[list[tuple[str, str]], str]:
    """The name=value pairs of a query string, or none and why: a link longer than MAX_QUERY_CHARS or with
    more than MAX_FIELDS settings is not read at all (every app that reads its link uses this)."""
    query = query.lstrip("?")
    if len(query) > MAX_QUERY_CHARS:
        return [], (f"the link's settings are {len(query):,} characters long, more than the {MAX_QUERY_CHARS:,} "
                    "read; none of them was used")
    try:
        return parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS), ""
    except ValueError:
        return [], f"the link has more than {MAX_FIELDS} settings; none of them was used"


def apply_query(dashboard, query: str) -> list[str]:
    """Apply a query string to the dashboard; returns one message per part that could not be applied.

    Everything in a link is untrusted: names and values are looked up and parsed, never evaluated, and
    the messages quote them cut short (the page escapes them before showing them).
    """
    pairs, unread = read_link(query)
    if unread:
        return [unread]
    problems = []
    scenario = dict(pairs).get("scenario")
    if scenario is not None:
        known = scenarios_of("abstract")
        if scenario in known:
            dashboard.scenario = scenario
        else:
            problems.append(f"scenario: {quoted(scenario)} is not a scenario of this page's (abstract) world; "
                            f"scenarios: {', '.join(known)}")
    parts = list(getattr(dashboard, "link_parts", ()))
    own = {n for part in parts for n in part.link_names}
    values = {}
    for name, text in pairs:
        if name == "scenario" or name in PAGE_PARAMS or name in own:
            continue
        if name not in WORLD_PARAMS and name not in PRIOR_PARAMS:
            problems.append(f"unknown parameter {quoted(name)} in the link")
            continue
        try:
            values[name] = parse_value(parameter(name), text)
        except ExplorerError as exc:
            problems.append(str(exc))
    # All at once (one recompute); if the core refuses the set, one at a time, so that one bad value
    # (or two that conflict) does not block the others.
    if values and not dashboard.state.apply(**values):
        for name, value in values.items():
            if not dashboard.state.apply(**{name: value}):
                problems.append(dashboard.state.message)
    dashboard.controls.refresh()
    # The page's own parts last: a pinned setting takes the program count the link just set.
    for part in parts:
        problems += part.apply_link({n: t for n, t in pairs if n in part.link_names})
    return problems


def link_message(problems: list[str]) -> str:
    """The one message a page shows about a link's unusable settings (empty when there were none)."""
    if not problems:
        return ""
    more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
    return "This link had settings that could not be used: " + "; ".join(problems[:10]) + more


def sync_url(dashboard) -> None:
    """Read the page's link into the dashboard, then write every later change back into the link."""
    location = pn.state.location
    if location is None:  # not served (a notebook, a test): nothing to sync
        return
    query = location.search or ""
    dashboard.show_message(link_message(apply_query(dashboard, query)))
    page = [(k, v) for k, v in read_link(query)[0] if k in PAGE_PARAMS and len(v) < 20][:len(PAGE_PARAMS)]

    def write(*_):
        location.search = link_query(dashboard) + "".join(f"&{urlencode([pair])}" for pair in page)

    # After the update: the address bar is not what a slider move is for (explorer.ui.deferred).
    dashboard.state.param.watch(lambda *_: after_update(write), "version")
    dashboard.param.watch(write, "scenario")
    for part in getattr(dashboard, "link_parts", ()):
        part.param.watch(write, list(part.link_watch))
    # Once the browser has connected: its first report of the address would otherwise put the link as
    # typed (bad values, an over-long query) back into the address bar.
    pn.state.onload(write)


@contextmanager
def held(view) -> Iterator[None]:
    """While a link's settings are applied, `view._held` is True: the view's watchers skip recomputing,
    and the caller recomputes once afterwards (a link to a long measurement never waits for the default)."""
    view._held = True
    try:
        yield
    finally:
        view._held = False


def params_query(obj: param.Parameterized, names: Sequence[str]) -> str:
    """The query string of `obj`'s settings among `names` that differ from their defaults ("" if none)."""
    pairs = [(n, value_text(getattr(obj, n))) for n in names if getattr(obj, n) != obj.param[n].default]
    return "?" + urlencode(pairs, safe=":,") if pairs else ""


def apply_params(obj: param.Parameterized, names: Sequence[str], query: str,
                 limits: Mapping[str, Any] | None = None) -> list[str]:
    """Set `obj`'s parameters among `names` from a query string; one message per part not applied.

    `limits` caps numbers on a served page (name: most); a value over its cap is refused with a message
    that names the cap, never silently changed."""
    pairs, unread = read_link(query)
    if unread:
        return [unread]
    problems, values = [], {}
    for name, text in pairs:
        if name in PAGE_PARAMS:
            continue
        if name not in names:
            problems.append(f"unknown parameter {quoted(name)} in the link; this page's: {', '.join(names)}")
            continue
        try:
            value = parse_value(obj.param[name], text)
        except ExplorerError as exc:
            problems.append(str(exc))
            continue
        choices = obj.param[name].objects if isinstance(obj.param[name], param.Selector) else None
        if choices and value not in choices:
            problems.append(f"{name}: {quoted(value)} is not one of: {', '.join(map(str, choices))}")
            continue
        most = (limits or {}).get(name)
        if most is not None and value is not None and value > most:
            problems.append(f"{name}: {value:,} is more than this server allows (at most {most:,})")
            continue
        values[name] = value
    # One at a time, in the page's order of `names` (not the link's): a value one parameter refuses leaves
    # the others, and a parameter that resets another (the neural proposal its penalties) goes first.
    for name in [n for n in names if n in values]:
        value = values[name]
        try:
            obj.param.update(**{name: value})
        except (ValueError, TypeError) as exc:
            problems.append(f"{name}: {quoted(value)} is not valid ({str(exc)[:200]})")
    return problems


def sync_params(obj: param.Parameterized, names: Sequence[str], show: Callable[[str], None],
                limits: Mapping[str, Any] | None = None) -> None:
    """Read the page's link into `obj`'s `names` (showing one message about what could not be used),
    then keep the link in step with them (other apps' `sync_url`)."""
    location = pn.state.location
    if location is None:  # not served: nothing to sync
        return
    query = location.search or ""
    message = link_message(apply_params(obj, names, query, limits))
    if message:
        show(message)
    page = [(k, v) for k, v in read_link(query)[0] if k in PAGE_PARAMS and len(v) < 20][:len(PAGE_PARAMS)]

    def write(*_):
        own = params_query(obj, names)
        extra = "".join(f"{'&' if own else '?'}{urlencode([pair])}" for pair in page[:1])
        location.search = own + extra

    obj.param.watch(write, list(names))
    pn.state.onload(write)  # once connected, so the link as typed does not come back (see sync_url)
