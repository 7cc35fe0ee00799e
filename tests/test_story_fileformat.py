"""The story file format: exact round trips, stable writing, and a loader that fails only in located ways.

Three kinds of test: every story in assets/ round-trips to identical bytes; stories generated over the
whole data model (ids and texts full of unicode, newlines, quotes, colons and '---') survive dump ->
load unchanged and dump the same way twice; and a fuzzed loader (arbitrary bytes and text, mutated
valid stories, random YAML spliced into valid ones) either returns a Story or raises StoryFormatError
with a known code, a line and a one-line message, never anything else. Specific bad inputs follow.
"""

from __future__ import annotations

import difflib
import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.checks import OPERATORS
from explorer.scenarios import SCENARIOS
from explorer.stories import fileformat
from explorer.stories.messages import CODES, StoryFormatError
from explorer.stories.model import (
    Assumption, Claim, ClassChoice, Component, Criterion, Evidence, Predicate, Recorded, Story, Sweep,
)
from explorer.stories.vocabulary import COMPONENTS, CRITERIA

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "stories"
EXAMPLES = sorted(ASSETS.rglob("*.story.md"))
SPEED_PRIOR = ASSETS / "speed-prior.story.md"

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: For the tests whose every example builds and parses whole stories (about 0.1 s each).
SLOW = settings(FAST, max_examples=20)


# ---- the library round-trips ---------------------------------------------------------------------

def test_the_library_has_the_expected_stories():
    names = {p.relative_to(ASSETS).as_posix() for p in EXAMPLES}
    assert {"speed-prior.story.md", "cat-classifier.story.md", "microscope-ai.story.md"} <= names
    assert len([n for n in names if n.startswith("templates/")]) == 7
    assert {n for n in names if n.startswith("scenarios/")} == {f"scenarios/{i}.story.md" for i in SCENARIOS}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.relative_to(ASSETS).as_posix())
def test_every_library_story_round_trips_to_identical_bytes(path):
    text = path.read_text(encoding="utf-8")
    story = fileformat.load(path)
    assert fileformat.dumps(story) == text
    assert fileformat.loads(text, path.name) == story


def test_an_edit_changes_only_its_own_lines():
    text = SPEED_PRIOR.read_text(encoding="utf-8")
    story = fileformat.loads(text)
    story.assumptions[0].nominal = 2.0
    story.claims()["RN5"].text = "A new wording."
    out = fileformat.dumps(story)
    diff = [line for line in difflib.unified_diff(text.splitlines(), out.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert sorted(diff) == sorted(["-    nominal: 1.0", "+    nominal: 2.0",
                                   ("-          The speed penalty on its own, without deception checks, withstands "
                                    "cross-episode memory."), "+          A new wording."])
    assert fileformat.loads(out) == story


def test_crlf_line_endings_read_as_the_same_story():
    text = SPEED_PRIOR.read_text(encoding="utf-8")
    crlf = fileformat.loads(text.replace("\n", "\r\n"))
    lf = fileformat.loads(text)
    assert crlf.body.replace("\r\n", "\n") == lf.body
    crlf.body = lf.body
    assert crlf == lf


# ---- generated stories ---------------------------------------------------------------------------

_TRICKY = ["---", "--- ", ": ", ":", "'", '"', "\n", "\n\n", "# ", "#", "- ", "|", ">", "&a", "*a", "!x", "{", "}",
           "[", "]", ",", "?", "%", "@", "`", "\t", "  ", "é", "✓", "日本", "\\", "null", "true", "1e3", "0x1F", "~",
           "\u2028", "\x85", "\r\n", "\r", "\x00", "\ufeff"]
_CHARS = st.characters(blacklist_categories=("Cs",))

texts = st.one_of(st.text(_CHARS, max_size=40), st.lists(st.sampled_from(_TRICKY + ["a", "b c", "x"]), max_size=12)
                  .map("".join))
nonblank = texts.filter(lambda t: t.strip())
ids = st.one_of(
    st.from_regex(r"[A-Z]{1,3}[0-9]{0,2}", fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Z")), min_size=1, max_size=12),
).filter(lambda t: t.strip() and not any(c.isspace() for c in t))
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), numbers, texts)
params = st.dictionaries(ids, st.one_of(scalars, st.dictionaries(ids, numbers, max_size=3)), max_size=3)
id_lists = st.lists(ids, max_size=3)


@st.composite
def predicates(draw):
    op = draw(st.one_of(st.sampled_from(list(OPERATORS)), ids))
    if draw(st.booleans()):
        return Predicate(metric=draw(ids), op=op, other=draw(ids))
    return Predicate(metric=draw(ids), op=op, value=draw(scalars))


@st.composite
def evidence(draw):
    if draw(st.booleans()):
        return Evidence(id=draw(ids), source=draw(nonblank), finding=draw(ids), note=draw(texts))
    recorded = None
    if draw(st.booleans()):
        recorded = Recorded(holds=draw(st.booleans()), value=draw(scalars), other=draw(scalars), params=draw(params),
                            code_version=draw(texts))
    return Evidence(id=draw(ids), scenario=draw(ids), params=draw(params), assumptions=draw(id_lists),
                    predicate=draw(predicates()), note=draw(texts), recorded=recorded)


@st.composite
def assumptions(draw):
    lo, hi = sorted(draw(st.lists(numbers, min_size=2, max_size=2, unique=True)))
    return Assumption(name=draw(ids), parameter=draw(ids), nominal=draw(numbers), range=(lo, hi), note=draw(texts))


@st.composite
def sweeps(draw):
    output = draw(st.one_of(st.none(), ids))
    return Sweep(id=draw(ids), scenario=draw(ids), assumptions=draw(id_lists),
                 fails_safely=draw(st.lists(predicates(), max_size=2)),
                 fails_catastrophically=draw(st.lists(predicates(), max_size=2)),
                 params=draw(params), points=draw(st.integers(2, 101)), output=output, note=draw(texts))


choices = st.one_of(ids.map(lambda i: ClassChoice(id=i)), nonblank.map(lambda t: ClassChoice(custom=t)))
claims = st.builds(Claim, id=ids, text=texts, evidence=id_lists, rests_on=id_lists, undeveloped=st.booleans())
components = st.builds(Component, claims=st.lists(claims, max_size=3), undeveloped=st.booleans(), note=texts)
criteria = st.builds(Criterion, rating=st.one_of(st.just(""), ids), basis=id_lists, note=texts)


@st.composite
def stories(draw):
    return Story(
        title=draw(nonblank), authors=draw(st.lists(texts, max_size=3)), revision=draw(st.integers(1, 10**6)),
        goal_class=draw(choices), rationale_classes=draw(st.lists(choices, max_size=3)),
        failure_modes=draw(id_lists),
        components={c: draw(components) for c in COMPONENTS}, criteria={c: draw(criteria) for c in CRITERIA},
        assumptions=draw(st.lists(assumptions(), max_size=3)), evidence=draw(st.lists(evidence(), max_size=3)),
        sweeps=draw(st.lists(sweeps(), max_size=2)), body=draw(texts),
    )


@FAST
@given(stories())
def test_a_generated_story_survives_dump_and_load_and_dumps_the_same_twice(story):
    text = fileformat.dumps(story)
    again = fileformat.loads(text)
    assert again == story
    assert fileformat.dumps(again) == text


@SLOW
@given(stories(), stories())
def test_saving_a_story_over_another_files_data_gives_exactly_the_new_story(first, second):
    """The editor's path: a file is loaded, everything in it edited, and saved into the parsed data."""
    loaded = fileformat.loads(fileformat.dumps(first))
    second.source = loaded.source
    text = fileformat.dumps(second)
    assert fileformat.loads(text) == second
    assert fileformat.dumps(fileformat.loads(text)) == text


# ---- fuzzing the loader --------------------------------------------------------------------------

def _load_or_refuse(text: str):
    """loads(text), asserting that any failure is a located StoryFormatError with one-line messages."""
    try:
        return fileformat.loads(text, "fuzz.story.md")
    except StoryFormatError as exc:
        _assert_located(exc, text)
        return None


def _assert_located(exc: StoryFormatError, text: str = "") -> None:
    assert exc.messages
    for m in exc.messages:
        assert m.code in CODES
        assert m.line >= 0
        if text:
            assert m.line <= text.count("\n") + 2
        assert m.text.strip() and "\n" not in m.text and "\r" not in m.text
        assert "\n" not in str(m)


@FAST
@given(st.binary(max_size=3000))
def test_fuzz_arbitrary_bytes(data):
    try:
        text = fileformat.decode(data, "fuzz.story.md")
    except StoryFormatError as exc:
        _assert_located(exc)
        return
    _load_or_refuse(text)


@FAST
@given(st.text(max_size=2000))
def test_fuzz_arbitrary_text(text):
    _load_or_refuse(text)


@FAST
@given(st.text(max_size=1000))
def test_fuzz_arbitrary_front_matter(front):
    _load_or_refuse(f"---\n{front}\n---\nbody\n")


yaml_values = st.recursive(
    st.one_of(scalars, st.sampled_from(["", "~", "- x", "{a: 1}", "[1, 2", "&x 1", "*x", "!!str 1", "? k"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=3)),
    max_leaves=8,
)


def _nodes(data, path=()):
    """Every (path, container) pair of parsed front matter, for splicing values in."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((path + (k,), data))
            out += _nodes(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append((path + (i,), data))
            out += _nodes(v, path + (i,))
    return out


@SLOW
@given(st.data())
def test_fuzz_random_yaml_spliced_into_a_valid_story(data):
    text = SPEED_PRIOR.read_text(encoding="utf-8")
    front, body = fileformat.split(text)
    parsed = fileformat._yaml().load(front)
    for _ in range(data.draw(st.integers(1, 3))):
        nodes = _nodes(parsed)
        path, container = data.draw(st.sampled_from(nodes))
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        key = path[-1]
        if action == "replace":
            container[key] = data.draw(yaml_values)
        elif action == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[data.draw(st.one_of(texts, ids))] = data.draw(yaml_values)
        else:
            container.append(data.draw(yaml_values))
    buf = io.StringIO()
    fileformat._yaml().dump(parsed, buf)
    _load_or_refuse(f"---\n{buf.getvalue()}---\n{body}")


@FAST
@given(st.data())
def test_fuzz_mutated_story_lines(data):
    lines = SPEED_PRIOR.read_text(encoding="utf-8").splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        kind = data.draw(st.sampled_from(["delete", "duplicate", "swap", "value", "insert", "indent", "truncate"]))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "value" and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}: {data.draw(st.sampled_from(_TRICKY + ['1', '-1.5', 'x', '[a, b]', '{a: b}', '']))}\n"
        elif kind == "insert":
            lines.insert(i, data.draw(st.text(_CHARS, max_size=30)) + "\n")
        elif kind == "indent":
            lines[i] = " " * data.draw(st.integers(1, 5)) + lines[i]
        elif kind == "truncate":
            lines = lines[:i]
    _load_or_refuse("".join(lines))


# ---- specific bad inputs -------------------------------------------------------------------------

GOOD = """\
---
schema: 1
title: A small story
revision: 1
goal_class: narrow-agent
components:
  goal_specification:
    claims:
      - id: GS1
        text: An honest solver.
        undeveloped: true
  goal_desirability: {undeveloped: true}
  rationale_constraints: {undeveloped: true}
  rationale_nudges: {undeveloped: true}
criteria:
  goal_alignment: {rating: unknown, basis: [GS1]}
  goal_competitiveness: {rating: unknown, basis: [GS1]}
  rationale_alignment: {rating: unknown, basis: [GS1]}
  rationale_competitiveness: {rating: unknown, basis: [GS1]}
---
Body.
"""


def _refused(text: str) -> StoryFormatError:
    with pytest.raises(StoryFormatError) as info:
        fileformat.loads(text, "bad.story.md")
    _assert_located(info.value, text)
    return info.value


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_small_story_is_good():
    assert fileformat.loads(GOOD).title == "A small story"


def test_malformed_yaml_reports_its_line():
    text = GOOD.replace("title: A small story", "title: [unclosed")
    m = _refused(text).messages[0]
    assert m.code == "TS-F03"
    assert _line_of(text, "title:") <= m.line <= _line_of(text, "title:") + 2
    assert str(m).startswith("bad.story.md:")


def test_a_bad_indentation_reports_its_line():
    text = GOOD.replace("        text: An honest solver.", "      text: An honest solver.")
    m = _refused(text).messages[0]
    assert m.code == "TS-F03" and abs(m.line - _line_of(text, "text: An honest")) <= 1


@pytest.mark.parametrize("old, new, needle", [
    ("revision: 1", "revision: two", "revision:"),
    ("revision: 1", "revision: 1.5", "revision:"),
    ("revision: 1", "revision: 0", "revision:"),
    ("title: A small story", "title: [a, b]", "title:"),
    ("title: A small story", "title: ''", "title:"),
    ("        undeveloped: true\n  goal_desirability", "        undeveloped: yes please\n  goal_desirability",
     "undeveloped: yes"),
    ("      - id: GS1", "      - id: [GS1]", "- id:"),
    ("      - id: GS1", "      - id: G S 1", "- id:"),
    ("basis: [GS1]}\n  goal_competitiveness", "basis: GS1}\n  goal_competitiveness", "goal_alignment:"),
    ("  goal_desirability: {undeveloped: true}", "  goal_desirability: 5", "goal_desirability: 5"),
    ("  goal_alignment: {rating: unknown, basis: [GS1]}", "  goal_alignment: {rating: unknown, basis: [GS1, [x]]}",
     "goal_alignment:"),
])
def test_wrong_types_are_refused_at_their_line(old, new, needle):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    m = _refused(text).messages[0]
    assert m.code == "TS-F05", m
    assert m.line == _line_of(text, needle), m


@pytest.mark.parametrize("old, new, needle", [
    ("revision: 1\n", "revision: 1\ncolour: red\n", "colour:"),
    ("        text: An honest solver.\n", "        text: An honest solver.\n        colour: red\n", "colour:"),
    ("  goal_desirability: {undeveloped: true}", "  goal_desire: {undeveloped: true}", "goal_desire:"),
    ("  goal_alignment: {rating: unknown, basis: [GS1]}",
     "  goal_alignment: {rating: unknown, basis: [GS1], weight: 2}", "goal_alignment:"),
])
def test_unknown_keys_are_refused_at_the_line_of_the_key(old, new, needle):
    text = GOOD.replace(old, new, 1)
    m = _refused(text).messages[0]
    assert m.code == "TS-F04", m
    assert m.line == _line_of(text, needle)
    assert "allowed" in m.text


def test_a_missing_required_key_and_an_unknown_schema():
    assert _refused(GOOD.replace("title: A small story\n", "")).messages[0].code == "TS-F06"
    m = _refused(GOOD.replace("schema: 1", "schema: 2")).messages[0]
    assert m.code == "TS-F07" and m.line == 2


def test_missing_fences_are_located():
    m = _refused(GOOD.replace("---\nBody.", "Body.")).messages[0]
    assert m.code == "TS-F02" and "closed" in m.text
    m = _refused(GOOD.removeprefix("---\n")).messages[0]
    assert m.code == "TS-F02" and m.line == 1
    assert _refused("").messages[0].code == "TS-F02"


def test_front_matter_that_is_not_a_mapping():
    assert _refused("---\n- a\n- b\n---\n").messages[0].code == "TS-F05"
    assert _refused("---\n---\n").messages[0].code == "TS-F05"


def test_duplicate_keys_are_refused():
    text = GOOD.replace("revision: 1\n", "revision: 1\nrevision: 2\n")
    assert _refused(text).messages[0].code == "TS-F03"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.story.md"
    path.write_bytes(GOOD.encode() + b"x" * (fileformat.MAX_BYTES + 1))
    with pytest.raises(StoryFormatError) as info:
        fileformat.load(path)
    assert info.value.messages[0].code == "TS-F01" and "at most" in info.value.messages[0].text
    with pytest.raises(StoryFormatError):
        fileformat.loads(GOOD + "x" * (fileformat.MAX_BYTES + 1))


def test_binary_and_non_utf8_files_are_refused_with_their_line(tmp_path):
    path = tmp_path / "binary.story.md"
    path.write_bytes(b"---\nschema: 1\n\x00\x01\x02")
    with pytest.raises(StoryFormatError) as info:
        fileformat.load(path)
    m = info.value.messages[0]
    assert m.code == "TS-F01" and m.line == 3 and "binary" in m.text
    path.write_bytes(b"---\ntitle: caf\xe9\n---\n")
    with pytest.raises(StoryFormatError) as info:
        fileformat.load(path)
    assert info.value.messages[0].code == "TS-F01" and info.value.messages[0].line == 2


def test_an_unreadable_path_is_a_format_error(tmp_path):
    with pytest.raises(StoryFormatError) as info:
        fileformat.load(tmp_path / "missing.story.md")
    assert info.value.messages[0].code == "TS-F01"
    with pytest.raises(StoryFormatError):
        fileformat.load(tmp_path)  # a folder


def test_billion_laughs_is_refused_quickly():
    lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lol += [f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]" for p, c in zip("abcdefgh", "bcdefghi")]
    text = "---\n" + "\n".join(lol) + "\n---\n"
    start = time.perf_counter()
    m = _refused(text).messages[0]
    assert time.perf_counter() - start < 1.0
    assert m.code == "TS-F03" and m.line == 2 and "anchor" in m.text


def test_aliases_and_anchors_are_refused_even_when_harmless():
    text = GOOD.replace("title: A small story", "title: &t A small story\nauthors: [*t]")
    assert _refused(text).messages[0].code == "TS-F03"


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object:explorer.stories.model.Story {{title: x}}",
    "!!python/name:os.system",
    "!custom x",
    "!!binary aGVsbG8=",
])
def test_tags_are_refused_and_nothing_runs(tmp_path, tagged):
    marker = tmp_path / "ran"
    text = GOOD.replace("title: A small story", "title: " + tagged.format(marker=marker))
    m = _refused(text).messages[0]
    assert m.code == "TS-F03" and "tag" in m.text and m.line == _line_of(text, "title:")
    assert not marker.exists()


def test_deep_nesting_is_refused_quickly():
    for depth in (fileformat.MAX_DEPTH + 1, 5000, 200_000):
        text = "---\nschema: " + "[" * depth + "]" * depth + "\n---\n"
        start = time.perf_counter()
        m = _refused(text).messages[0]
        assert time.perf_counter() - start < 2.0
        assert m.code == "TS-F03" and "levels deep" in m.text and m.line == 2


def test_a_flood_of_nodes_is_refused_quickly():
    text = "---\nauthors:\n" + "- x\n" * (fileformat.MAX_EVENTS + 10) + "---\n"
    start = time.perf_counter()
    m = _refused(text).messages[0]
    assert time.perf_counter() - start < 3.0
    assert m.code == "TS-F01" and "nodes" in m.text


# ---- regressions found by the generated stories above --------------------------------------------

def _story(**changes) -> Story:
    story = fileformat.loads(GOOD)
    story.source = None
    for key, value in changes.items():
        setattr(story, key, value)
    return story


def _round_trips(story: Story) -> str:
    text = fileformat.dumps(story)
    assert fileformat.loads(text) == story
    assert fileformat.dumps(fileformat.loads(text)) == text
    return text


def test_a_recorded_result_without_parameters_or_value_round_trips():
    """`story check --record` on evidence with no params wrote a file the loader refused (no 'params')."""
    pred = Predicate(metric="average_speed.map.kind", op="==", value="honest")
    for rec in (Recorded(holds=True, value="honest", params={}, code_version="0.1.0"),
                Recorded(holds=False, value=None, params={}, code_version="", other="")):
        _round_trips(_story(evidence=[Evidence(id="E1", scenario="goof-off", predicate=pred, recorded=rec)]))


def test_a_sweep_with_empty_lists_round_trips():
    _round_trips(_story(sweeps=[Sweep(id="S", scenario="goof-off", assumptions=[], fails_safely=[],
                                      fails_catastrophically=[])]))


@pytest.mark.parametrize("text", ["a\x85b", "a\u2028b", "a\rb", "a\r\nb\n", "x\x00y\nz", "\x9b", "end.  Next " * 12,
                                  "?x", ": x", "line\n\x85"])
def test_text_with_line_breaks_controls_and_indicators_round_trips(text):
    claim = Claim(id="GS1", text=text, undeveloped=True)
    _round_trips(_story(title=text if text.strip() else "t", authors=[text],
                        components={**_story().components, "goal_specification": Component(claims=[claim])},
                        evidence=[Evidence(id="E", scenario="s", params={"p": text, text[:30] or "k": 1},
                                           predicate=Predicate(metric="m", op="==", value=text))]))


@pytest.mark.parametrize("written", ["-1.246724205343258e+225", "2.7527683770044757e+29", "1_000.5", "5e-324", "1.5e3",
                                     "2.50", ".5", "0.1234567890123456789"])
def test_a_float_is_written_back_as_it_was_written(written):
    """ruamel rebuilds floats from their layout and can land one digit off (a different number)."""
    assumption = f"  - name: a\n    parameter: p\n    nominal: {written}\n    range: [-1.0e+300, 1.0e+300]\n"
    text = GOOD.replace("revision: 1\n", f"revision: 1\nassumptions:\n{assumption}")
    story = fileformat.loads(text)
    assert story.assumptions[0].nominal == float(written.replace("_", ""))
    assert fileformat.dumps(story) == text


def test_saving_over_a_file_drops_parameters_and_results_that_are_gone():
    pred = Predicate(metric="m", op="<", value=False)
    old = _story(evidence=[Evidence(id="E", scenario="s", params={"a": False, "b": {}}, predicate=pred,
                                    recorded=Recorded(holds=True, value=1, other=False, params={}, code_version="v"))])
    new = _story(evidence=[Evidence(id="E", scenario="s", params={"c": 1},
                                    predicate=Predicate(metric="m", op="<", other="n"),
                                    recorded=Recorded(holds=True, value=1, params={}, code_version="v"))])
    new.source = fileformat.loads(fileformat.dumps(old)).source
    _round_trips(new)


def test_saving_duplicate_ids_over_a_file_writes_no_anchors():
    sweep = Sweep(id="S", scenario="s", assumptions=["a"], fails_safely=[], fails_catastrophically=[])
    old = _story(sweeps=[sweep])
    twin = Sweep(id="S", scenario="t", assumptions=["b"], fails_safely=[], fails_catastrophically=[])
    new = _story(sweeps=[sweep, twin])
    new.source = fileformat.loads(fileformat.dumps(old)).source
    assert "&" not in _round_trips(new)


def test_a_mapping_used_as_a_key_is_a_located_error_not_a_crash():
    # Found by the fuzz test: '?' makes the next mapping a key, which ruamel cannot hash.
    from explorer.stories.fileformat import loads
    from explorer.stories.messages import StoryFormatError

    with pytest.raises(StoryFormatError) as err:
        loads("---\nschema: 1\ntitle: t\nsweeps:\n?\n  - id: a\n---\n")
    assert err.value.messages[0].code == "TS-F03" and "as a key" in err.value.messages[0].text
