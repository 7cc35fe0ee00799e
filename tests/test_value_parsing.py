"""Every value parser refuses what it cannot use, with one line naming the parameter.

Links, `--set` and the story forms all parse text through explorer.params. What they must refuse: text
that is not a number, non-finite numbers, true/false where a number is meant, mappings whose values are
null, lists, mappings or booleans, nesting, and text too long to be a setting. The CLI exits 2 with one
line; the parsers raise ExplorerError and nothing else, whatever the text.
"""

import json
import math
import subprocess
import sys

import param
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli import main
from explorer.errors import ExplorerError
from explorer.params import MAX_VALUE_CHARS, parse_mapping, parse_value, set_values
from explorer.priors import PriorSettings
from explorer.simulation import PRIOR_PARAMS, WORLD_PARAMS, parameter
from explorer.worlds.abstract import AbstractWorld

DEEP = "[" * 400 + "]" * 400
DEEP_OBJECT = '{"honest":' * 300 + "1" + "}" * 300

#: (parameter, text) pairs that once crashed the CLI or were taken as something they are not.
REFUSED = [
    ("kind_mix", '{"honest":null}'),
    ("kind_mix", '{"honest":[1]}'),
    ("kind_mix", '{"honest":{"a":1}}'),
    ("kind_mix", '{"honest":true}'),
    ("kind_mix", "{}"),
    ("kind_mix", "[1]"),
    ("kind_mix", DEEP),
    ("kind_mix", DEEP_OBJECT),
    ("kind_mix", "honest:inf"),
    ("kind_mix", "honest:nan"),
    ("kind_mix", '{"honest":1e999}'),
    ("kind_mix", '{"honest":NaN}'),
    ("kind_mix", '{"honest":Infinity}'),
    ("kind_mix", "honest:-1"),
    ("kind_mix", "goof:1"),
    ("w_avg", "nan"),
    ("w_avg", "inf"),
    ("w_avg", "1e400"),
    ("w_avg", "true"),
    ("w_avg", "<img src=x onerror=alert(3)>"),
    ("compute_budget", "inf"),
    ("seed", "1.5"),
    ("seed", "1e400"),
    ("generalization_check", "maybe"),
    ("w_avg", "9" * (MAX_VALUE_CHARS + 1)),
]


def _cli(*args: str) -> tuple[int, str]:
    """`python -m explorer ARGS` in this process (the subprocess test below covers the real entry point)."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


@pytest.mark.parametrize("command", ["select", "anneal"])
@pytest.mark.parametrize(("name", "text"), REFUSED, ids=[f"{n}={t[:24]}" for n, t in REFUSED])
def test_the_cli_refuses_a_bad_value_with_one_line_and_exit_2(command, name, text):
    code, err = _cli(command, "--set", f"{name}={text}", "--set", "n_programs=200")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {name}: "), err
    assert len(lines[0]) < 400  # a huge value is quoted cut short, not echoed whole


def test_the_real_entry_point_exits_2_without_a_traceback():
    run = subprocess.run([sys.executable, "-m", "explorer", "select", "--set", 'kind_mix={"honest":null}'],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip() == ("error: kind_mix: '{\"honest\":null}' is not valid; expected a mapping such as "
                                  "name:0.5,other:0.5 (or JSON) (the value of 'honest' is nothing, not a number)")


@pytest.mark.parametrize("text", ['{"honest":true}', "honest:true", '{"honest":"1"}'])
def test_a_boolean_or_text_is_never_taken_as_a_share(text):
    with pytest.raises(ValueError, match="not a number"):
        parse_mapping(text)


def test_values_set_from_files_are_refused_like_text():
    # A story's or scenario's YAML hands values over already typed: NaN and infinity must fail there too.
    world = AbstractWorld()
    for name, value in [("misbehaviour_cost", math.nan), ("misbehaviour_cost", math.inf), ("memory", True),
                        ("kind_mix", {"honest": math.inf}), ("kind_mix", {"honest": True}), ("kind_mix", {"honest": None})]:
        with pytest.raises(ExplorerError, match=f"^{name}: "):
            set_values(world, {name: value})
    with pytest.raises(ExplorerError, match="^compute_budget: "):
        set_values(PriorSettings(), {"compute_budget": math.inf})


# ---- fuzzing: the parsers raise ExplorerError or return a usable value, nothing else -----------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(WORLD_PARAMS + PRIOR_PARAMS), st.text(max_size=60))
def test_any_text_for_any_parameter_is_a_value_or_one_clear_error(name, text):
    try:
        value = parse_value(parameter(name), text)
    except ExplorerError as exc:
        assert str(exc).startswith(f"{name}: ")
        assert "\n" not in str(exc)
        return
    target = AbstractWorld() if name in WORLD_PARAMS else PriorSettings()
    try:
        set_values(target, {name: value})
    except ExplorerError as exc:  # out of range, an unknown kind or back end: refused by the core, by name
        assert str(exc).startswith(f"{name}: ")
        return
    if isinstance(value, float):
        assert math.isfinite(value)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_for_kind_mix_is_a_mapping_of_finite_numbers_or_one_clear_error(data):
    text = json.dumps(data, allow_nan=True)
    try:
        mix = parse_value(AbstractWorld.param.kind_mix, text)
    except ExplorerError as exc:
        assert str(exc).startswith("kind_mix: ")
        return
    assert isinstance(mix, dict) and mix
    assert all(type(v) is float and math.isfinite(v) for v in mix.values())


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="[]{}:,\"0123456789.-eE honestgof_", max_size=200))
def test_mapping_lookalikes_never_raise_anything_but_value_error(text):
    try:
        parse_mapping(text)
    except ValueError:
        pass


def test_every_number_parameter_refuses_non_finite_text():
    for name in WORLD_PARAMS + PRIOR_PARAMS:
        p = parameter(name)
        if isinstance(p, param.Number) and not isinstance(p, param.Boolean):
            for text in ("nan", "inf", "-inf", "1e999"):
                with pytest.raises(ExplorerError, match=f"^{name}: "):
                    parse_value(p, text)
