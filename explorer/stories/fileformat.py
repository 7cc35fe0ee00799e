"""Reading and writing `NAME.story.md`: YAML front matter between '---' lines, then a Markdown body.

Reading is strict and safe: the YAML is parsed with ruamel's round-trip parser (which builds only plain
mappings, lists and scalars), anchors, aliases and tags are refused before anything is built, every key
is checked against the format, and every problem is a StoryFormatError whose message names the file
and line. Nothing in a story is ever evaluated.

Writing keeps git diffs local: keys go out in one fixed order, and when the story came from a file its
parsed front matter is updated in place, so comments, quoting and layout of untouched parts survive.
Loading and saving an unchanged file gives the same bytes.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarfloat import ScalarFloat
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString, LiteralScalarString

from explorer.params import type_name
from explorer.stories.messages import Message, StoryFormatError
from explorer.stories.model import (
    SCHEMA_VERSION, Assumption, Claim, ClassChoice, Component, Criterion, Evidence, MatrixCell, Predicate, Recorded,
    Story, Sweep,
)
from explorer.stories.vocabulary import COMPONENTS, CRITERIA

#: The largest story file accepted; real stories are a few kilobytes.
MAX_BYTES = 1 << 20
#: The deepest nesting of mappings and lists accepted; a story uses six levels.
MAX_DEPTH = 32
#: The most YAML events (nodes and their ends) the front matter may have; the largest example has 700.
MAX_EVENTS = 20_000
SUFFIX = ".story.md"
FENCE = "---"

#: The front matter's keys in the order they are written.
STORY_KEYS = ("schema", "title", "authors", "revision", "goal_class", "rationale_classes", "failure_modes",
              "components", "criteria", "assumptions", "evidence", "sweeps")
REQUIRED_STORY_KEYS = ("schema", "title", "revision", "goal_class", "components", "criteria")
CLAIM_KEYS = ("id", "text", "evidence", "rests_on", "undeveloped")
COMPONENT_KEYS = ("undeveloped", "note", "claims")
CRITERION_KEYS = ("rating", "basis", "note")
ASSUMPTION_KEYS = ("name", "parameter", "nominal", "range", "note")
EVIDENCE_KEYS = ("id", "scenario", "params", "assumptions", "predicate", "source", "finding", "cell", "note", "recorded")
CELL_KEYS = ("scenario", "world", "op", "share", "by")  # a cited cell of the claims matrix (explorer/stories/cells.py)
PREDICATE_KEYS = ("metric", "op", "value", "other", "params", "other_params")  # explorer.checks.KEYS
RECORDED_KEYS = ("holds", "value", "other", "params", "code_version")
SWEEP_KEYS = ("id", "scenario", "params", "assumptions", "points", "fails_safely", "fails_catastrophically",
              "output", "note")

_SCALARS = (str, int, float, bool, type(None))


# ---- reading ---------------------------------------------------------------------------------------

def load(path: str | Path) -> Story:
    """Read a story file; raises StoryFormatError (located) if it cannot be read as a story."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise StoryFormatError([Message("TS-F01", f"the file is {size:,} bytes; a story may be at most {MAX_BYTES:,}",
                                            1, file=path.name)])
        data = path.read_bytes()
    except OSError as exc:
        raise StoryFormatError([Message("TS-F01", f"cannot read the file: {exc.strerror or exc}", 0, file=path.name)]) from None
    return loads(decode(data, path.name), path.name)


def decode(data: bytes, name: str = "<story>") -> str:
    """Bytes to text, refusing binary, non-UTF-8 and oversized input with a located message."""
    if len(data) > MAX_BYTES:
        raise StoryFormatError([Message("TS-F01", f"the file is {len(data):,} bytes; a story may be at most {MAX_BYTES:,}",
                                        1, file=name)])
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise StoryFormatError([Message("TS-F01", "the file is binary (it contains NUL bytes), not a story", line, file=name)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise StoryFormatError([Message("TS-F01", f"the file is not UTF-8 text (byte {exc.start})", line, file=name)]) from None


def split(text: str, name: str = "<story>") -> tuple[str, str]:
    """(front matter YAML, Markdown body); the body is everything after the closing fence, verbatim."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise StoryFormatError([Message("TS-F01", f"the text is over {MAX_BYTES:,} bytes; a story may be at most that", 1, file=name)])
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != FENCE:
        raise StoryFormatError([Message("TS-F02", "a story starts with a '---' line, then the YAML front matter", 1, file=name)])
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n") == FENCE:
            return "".join(lines[1:i]), "".join(lines[i + 1:])
    raise StoryFormatError([Message("TS-F02", "the front matter is not closed by a '---' line", len(lines), file=name)])


def loads(text: str, name: str = "<story>") -> Story:
    """Parse story text (see `load`)."""
    front, body = split(text, name)
    data = _parse_yaml(front, name)
    story = _Reader(name).story(data)
    story.body = body
    story.source = data
    return story


class _ExactFloat(float):
    """A number read from a story, with the text it was written as."""

    text: str = ""


class _Constructor(RoundTripConstructor):
    """ruamel's round-trip reader, keeping a float's own text where ruamel could not rebuild it.

    ruamel remembers a float's layout (digits, exponent) and formats the value again on writing; with an
    exponent it truncates rather than rounds, so `-1.246724205343258e+225` comes back as
    `...257e+225`, a different number. Such floats keep their text and are written with it verbatim."""

    def construct_yaml_float(self, node):
        value = super().construct_yaml_float(node)
        if type(value) is ScalarFloat and _FLOAT_TEXT.represent_scalar_float(value).value != node.value:
            exact = _ExactFloat(value)
            exact.text = node.value
            return exact
        return value


class _Representer(RoundTripRepresenter):
    pass


class _Emitter(RoundTripEmitter):
    """ruamel's writer, without folding double-quoted text over lines: where a fold meets an escape
    (`\\r`, `\\x85`, `\\x00`) ruamel writes text that reads back with a space added or does not parse. Text
    is double-quoted only when it holds such characters, so this touches nothing else."""

    def write_double_quoted(self, text, split=True):
        super().write_double_quoted(text, split=False)


_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Representer.add_representer(_ExactFloat, lambda r, data: r.represent_scalar("tag:yaml.org,2002:float", data.text))
_FLOAT_TEXT = RoundTripRepresenter()


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    yaml.Representer = _Representer
    yaml.Emitter = _Emitter
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def _parse_yaml(front: str, name: str) -> CommentedMap:
    yaml = _yaml()
    depth = 0
    try:
        for count, event in enumerate(yaml.parse(io.StringIO(front))):  # refuse aliases, anchors and tags
            problem = None                                                 # before building anything
            if count > MAX_EVENTS:  # pure-Python YAML parses some 20,000 nodes a second: stop a flood early
                text = f"the front matter has more than {MAX_EVENTS:,} YAML nodes; a story has a few hundred"
                raise StoryFormatError([Message("TS-F01", text, event.start_mark.line + 2, file=name)])
            depth += isinstance(event, CollectionStartEvent) - isinstance(event, CollectionEndEvent)
            if depth > MAX_DEPTH:  # ruamel's scanner slows down with every level ([[[... takes seconds)
                problem = f"the front matter nests more than {MAX_DEPTH} levels deep; a story needs a handful"
            elif isinstance(event, AliasEvent):
                problem = "aliases (*name) are not allowed in a story"
            elif isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor:
                problem = "anchors (&name) are not allowed in a story"
            elif isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.tag and not _implicit(event):
                problem = f"YAML tags ({event.tag}) are not allowed in a story"
            if problem:
                raise StoryFormatError([Message("TS-F03", problem, event.start_mark.line + 2, file=name)])
        data = yaml.load(front)
    except StoryFormatError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 1
        what = exc.problem or exc.context or "invalid YAML"
        raise StoryFormatError([Message("TS-F03", f"the front matter is not valid YAML: {what}", line, file=name)]) from None
    except (YAMLError, RecursionError, ValueError) as exc:
        raise StoryFormatError([Message("TS-F03", f"the front matter is not valid YAML: {type(exc).__name__}", 1, file=name)]) from None
    except TypeError:  # ruamel cannot hash a mapping or list used as a key ('? {a: 1}: ...')
        raise StoryFormatError([Message("TS-F03", "the front matter uses a mapping or a list as a key; keys are "
                                                  "plain names", 1, file=name)]) from None
    if not isinstance(data, CommentedMap):
        raise StoryFormatError([Message("TS-F05", "the front matter must be a mapping of keys to values", 2, file=name)])
    return data


def _implicit(event) -> bool:
    # A plain scalar's tag is None; quoted ones may carry '!' (non-specific), which is harmless.
    return event.tag in (None, "!")




class _Reader:
    """Turns the parsed front matter into a Story, checking keys and types as it goes."""

    OFFSET = 2  # YAML line 0 is the file's line 2 (line 1 is the opening fence)

    def __init__(self, name: str):
        self.name = name

    def fail(self, code: str, text: str, line: int):
        raise StoryFormatError([Message(code, text, line, file=self.name)])

    def line_of(self, m, key=None) -> int:
        try:
            if key is None:
                return m.lc.line + self.OFFSET
            if isinstance(m, CommentedSeq):
                return m.lc.item(key)[0] + self.OFFSET
            return m.lc.key(key)[0] + self.OFFSET
        except (AttributeError, KeyError, IndexError, TypeError):
            return 0

    def mapping(self, value, what: str, line: int, allowed: Iterable[str], required: Iterable[str] = ()) -> CommentedMap:
        if not isinstance(value, CommentedMap):
            self.fail("TS-F05", f"{what} must be a mapping, not {type_name(value)}", line)
        allowed = tuple(allowed)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                self.fail("TS-F04", f"unknown key {key!r} in {what}; allowed: {', '.join(allowed)}", self.line_of(value, key))
        for key in required:
            if key not in value:
                self.fail("TS-F06", f"{what} has no {key!r}", self.line_of(value) or line)
        return value

    def seq(self, value, what: str, line: int) -> CommentedSeq:
        if not isinstance(value, CommentedSeq):
            self.fail("TS-F05", f"{what} must be a list, not {type_name(value)}", line)
        return value

    def text(self, value, what: str, line: int, allow_empty: bool = True) -> str:
        if not isinstance(value, str):
            self.fail("TS-F05", f"{what} must be text, not {type_name(value)}", line)
        if not allow_empty and not value.strip():
            self.fail("TS-F05", f"{what} must not be empty", line)
        return str(value)

    def ident(self, value, what: str, line: int) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = self.text(value, what, line, allow_empty=False)
        if any(c.isspace() for c in text) or len(text) > 80:
            self.fail("TS-F05", f"{what} {text[:40]!r} must be a short name without spaces", line)
        return text

    def boolean(self, value, what: str, line: int) -> bool:
        if not isinstance(value, bool):
            self.fail("TS-F05", f"{what} must be true or false, not {type_name(value)}", line)
        return bool(value)

    def integer(self, value, what: str, line: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("TS-F05", f"{what} must be an integer, not {type_name(value)}", line)
        return int(value)

    def number(self, value, what: str, line: int) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail("TS-F05", f"{what} must be a finite number, not {type_name(value)}", line)
        return float(value)

    def scalar(self, value, what: str, line: int):
        if not isinstance(value, _SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
            self.fail("TS-F05", f"{what} must be a number, text, true/false or null, not {type_name(value)}", line)
        return _plain(value)

    def id_list(self, value, what: str, line: int) -> list[str]:
        items = self.seq(value, what, line)
        return [self.ident(v, f"an entry of {what}", self.line_of(items, i) or line) for i, v in enumerate(items)]

    def params(self, value, what: str, line: int) -> dict[str, Any]:
        m = self.mapping(value, what, line, allowed=[k for k in value if isinstance(k, str)] if isinstance(value, CommentedMap) else ())
        out = {}
        for key, v in m.items():
            at = self.line_of(m, key)
            if isinstance(v, CommentedMap):  # a mapping parameter such as kind_mix
                out[key] = {self.ident(k, f"a key of {what}.{key}", at): self.number(x, f"{what}.{key}.{k}", at) for k, x in v.items()}
            else:
                out[key] = self.scalar(v, f"{what}.{key}", at)
        return out

    # -- the parts ----------------------------------------------------------------------------------

    def story(self, m: CommentedMap) -> Story:
        self.mapping(m, "the front matter", 2, STORY_KEYS, REQUIRED_STORY_KEYS)
        at = lambda k: self.line_of(m, k)
        schema = self.integer(m["schema"], "schema", at("schema"))
        if schema != SCHEMA_VERSION:
            self.fail("TS-F07", f"schema {schema} is not supported; this version reads schema {SCHEMA_VERSION}", at("schema"))
        story = Story(title=self.text(m["title"], "title", at("title"), allow_empty=False), line=2)
        if "authors" in m:
            seq = self.seq(m["authors"], "authors", at("authors"))
            story.authors = [self.text(a, "an author", self.line_of(seq, i)) for i, a in enumerate(seq)]
        story.revision = self.integer(m["revision"], "revision", at("revision"))
        if story.revision < 1:
            self.fail("TS-F05", f"revision must be 1 or more, not {story.revision}", at("revision"))
        story.goal_class = self.class_choice(m["goal_class"], "goal_class", at("goal_class"))
        if "rationale_classes" in m:
            seq = self.seq(m["rationale_classes"], "rationale_classes", at("rationale_classes"))
            story.rationale_classes = [self.class_choice(v, "a rationale class", self.line_of(seq, i)) for i, v in enumerate(seq)]
        if "failure_modes" in m:
            story.failure_modes = self.id_list(m["failure_modes"], "failure_modes", at("failure_modes"))
        comps = self.mapping(m["components"], "components", at("components"), COMPONENTS)
        story.components = {c: Component() for c in COMPONENTS}
        for name, value in comps.items():
            story.components[name] = self.component(value, name, self.line_of(comps, name))
        crits = self.mapping(m["criteria"], "criteria", at("criteria"), CRITERIA)
        story.criteria = {c: Criterion() for c in CRITERIA}
        for name, value in crits.items():
            story.criteria[name] = self.criterion(value, name, self.line_of(crits, name))
        for key, part in (("assumptions", self.assumption), ("evidence", self.evidence), ("sweeps", self.sweep)):
            if key in m:
                seq = self.seq(m[key], key, at(key))
                setattr(story, key, [part(v, self.line_of(seq, i)) for i, v in enumerate(seq)])
        return story

    def class_choice(self, value, what: str, line: int) -> ClassChoice:
        if isinstance(value, CommentedMap):
            self.mapping(value, what, line, ("custom",), ("custom",))
            return ClassChoice(custom=self.text(value["custom"], f"{what}'s custom description", line, allow_empty=False), line=line)
        return ClassChoice(id=self.ident(value, what, line), line=line)

    def component(self, value, name: str, line: int) -> Component:
        if value is None:
            return Component(line=line)
        m = self.mapping(value, f"component {name}", line, COMPONENT_KEYS)
        comp = Component(line=line)
        if "undeveloped" in m:
            comp.undeveloped = self.boolean(m["undeveloped"], f"{name}.undeveloped", self.line_of(m, "undeveloped"))
        if "note" in m:
            comp.note = self.text(m["note"], f"{name}.note", self.line_of(m, "note"))
        if "claims" in m:
            seq = self.seq(m["claims"], f"{name}.claims", self.line_of(m, "claims"))
            comp.claims = [self.claim(v, self.line_of(seq, i)) for i, v in enumerate(seq)]
        return comp

    def claim(self, value, line: int) -> Claim:
        m = self.mapping(value, "a claim", line, CLAIM_KEYS, ("id",))
        at = lambda k: self.line_of(m, k)
        claim = Claim(id=self.ident(m["id"], "a claim id", at("id")), line=line)
        what = f"claim {claim.id}"
        if "text" in m:
            claim.text = self.text(m["text"], f"{what}'s text", at("text"))
        if "evidence" in m:
            claim.evidence = self.id_list(m["evidence"], f"{what}'s evidence", at("evidence"))
        if "rests_on" in m:
            claim.rests_on = self.id_list(m["rests_on"], f"{what}'s rests_on", at("rests_on"))
        if "undeveloped" in m:
            claim.undeveloped = self.boolean(m["undeveloped"], f"{what}'s undeveloped", at("undeveloped"))
        return claim

    def criterion(self, value, name: str, line: int) -> Criterion:
        if value is None:
            return Criterion(line=line)
        m = self.mapping(value, f"criterion {name}", line, CRITERION_KEYS)
        crit = Criterion(line=line)
        if "rating" in m:
            crit.rating = self.ident(m["rating"], f"{name}.rating", self.line_of(m, "rating"))
        if "basis" in m:
            crit.basis = self.id_list(m["basis"], f"{name}.basis", self.line_of(m, "basis"))
        if "note" in m:
            crit.note = self.text(m["note"], f"{name}.note", self.line_of(m, "note"))
        return crit

    def assumption(self, value, line: int) -> Assumption:
        m = self.mapping(value, "an assumption", line, ASSUMPTION_KEYS, ("name", "parameter", "nominal", "range"))
        at = lambda k: self.line_of(m, k)
        name = self.ident(m["name"], "an assumption name", at("name"))
        what = f"assumption {name}"
        rng = self.seq(m["range"], f"{what}'s range", at("range"))
        if len(rng) != 2:
            self.fail("TS-F05", f"{what}'s range must be [low, high], two numbers", at("range"))
        lo, hi = (self.number(v, f"{what}'s range", at("range")) for v in rng)
        if lo >= hi:
            self.fail("TS-F05", f"{what}'s range [{lo:g}, {hi:g}] must have low < high", at("range"))
        return Assumption(name=name, parameter=self.ident(m["parameter"], f"{what}'s parameter", at("parameter")),
                          nominal=self.number(m["nominal"], f"{what}'s nominal value", at("nominal")), range=(lo, hi),
                          note=self.text(m.get("note", ""), f"{what}'s note", at("note")), line=line)

    def predicate(self, value, what: str, line: int) -> Predicate:
        m = self.mapping(value, what, line, PREDICATE_KEYS, ("metric", "op"))
        at = lambda k: self.line_of(m, k) or line
        if ("value" in m) == ("other" in m):
            self.fail("TS-F06", f"{what} needs exactly one of 'value' (a literal) or 'other' (a second metric)", line)
        pred = Predicate(metric=self.ident(m["metric"], f"{what}'s metric", at("metric")),
                         op=self.text(m["op"], f"{what}'s op", at("op"), allow_empty=False), line=line)
        if "value" in m:
            pred.value = self.scalar(m["value"], f"{what}'s value", at("value"))
        else:
            pred.other = self.ident(m["other"], f"{what}'s other metric", at("other"))
        if "params" in m:
            pred.params = self.params(m["params"], f"{what}'s params", at("params"))
        if "other_params" in m:
            if pred.other is None:
                self.fail("TS-F05", f"{what}'s other_params set the right side, which only a comparison with "
                          "'other' has", at("other_params"))
            pred.other_params = self.params(m["other_params"], f"{what}'s other_params", at("other_params"))
        return pred

    def condition(self, value, what: str, line: int) -> list[Predicate]:
        seq = self.seq(value, f"{what} (a list of predicates, all of which must hold)", line)
        return [self.predicate(v, f"a predicate of {what}", self.line_of(seq, i) or line) for i, v in enumerate(seq)]

    def evidence(self, value, line: int) -> Evidence:
        m = self.mapping(value, "an evidence entry", line, EVIDENCE_KEYS, ("id",))
        at = lambda k: self.line_of(m, k)
        ev = Evidence(id=self.ident(m["id"], "an evidence id", at("id")), line=line)
        what = f"evidence {ev.id}"
        simulated = [k for k in ("scenario", "params", "assumptions", "predicate", "recorded") if k in m]
        external = [k for k in ("source", "finding") if k in m]
        if simulated and external:
            self.fail("TS-F05", f"{what} mixes a simulation ({', '.join(simulated)}) with an external source "
                      f"({', '.join(external)}); use two entries", line)
        if "cell" in m:
            if simulated or external:
                self.fail("TS-F05", f"{what} cites a claims-matrix cell and also has {', '.join(simulated + external)}; "
                          "use two entries", line)
            ev.cell = self.cell(m["cell"], f"{what}'s cell", at("cell") or line)
        elif external:
            for key in ("source", "finding"):
                if key not in m:
                    self.fail("TS-F06", f"{what} cites a source, so it needs '{key}'", line)
            ev.source = self.text(m["source"], f"{what}'s source", at("source"), allow_empty=False)
            ev.finding = self.ident(m["finding"], f"{what}'s finding", at("finding"))
        else:
            for key in ("scenario", "predicate"):
                if key not in m:
                    self.fail("TS-F06", f"{what} needs '{key}' (or 'source' and 'finding' for an external source)", line)
            ev.scenario = self.ident(m["scenario"], f"{what}'s scenario", at("scenario"))
            if "params" in m:
                ev.params = self.params(m["params"], f"{what}'s params", at("params"))
            if "assumptions" in m:
                ev.assumptions = self.id_list(m["assumptions"], f"{what}'s assumptions", at("assumptions"))
            ev.predicate = self.predicate(m["predicate"], f"{what}'s predicate", at("predicate"))
            if "recorded" in m:
                ev.recorded = self.recorded(m["recorded"], f"{what}'s recorded result", at("recorded"))
        if "note" in m:
            ev.note = self.text(m["note"], f"{what}'s note", at("note"))
        return ev

    def cell(self, value, what: str, line: int) -> MatrixCell:
        m = self.mapping(value, what, line, CELL_KEYS, ("scenario", "world", "op", "share"))
        at = lambda k: self.line_of(m, k) or line
        share = self.number(m["share"], f"{what}'s share", at("share"))
        if not 0 <= share <= 1:
            self.fail("TS-F05", f"{what}'s share {share:g} must be a fraction from 0 to 1", at("share"))
        return MatrixCell(scenario=self.ident(m["scenario"], f"{what}'s scenario", at("scenario")),
                          world=self.ident(m["world"], f"{what}'s world", at("world")),
                          op=self.text(m["op"], f"{what}'s op", at("op"), allow_empty=False), share=share,
                          by=self.ident(m["by"], f"{what}'s by", at("by")) if "by" in m else None, line=line)

    def recorded(self, value, what: str, line: int) -> Recorded:
        m = self.mapping(value, what, line, RECORDED_KEYS, ("holds", "value", "params", "code_version"))
        at = lambda k: self.line_of(m, k) or line
        return Recorded(holds=self.boolean(m["holds"], f"{what}'s holds", at("holds")),
                        value=self.scalar(m["value"], f"{what}'s value", at("value")),
                        other=self.scalar(m.get("other"), f"{what}'s other", at("other")),
                        params=self.params(m["params"], f"{what}'s params", at("params")),
                        code_version=self.text(m["code_version"], f"{what}'s code_version", at("code_version")), line=line)

    def sweep(self, value, line: int) -> Sweep:
        m = self.mapping(value, "a sweep", line, SWEEP_KEYS, ("id", "scenario", "assumptions", "fails_safely", "fails_catastrophically"))
        at = lambda k: self.line_of(m, k) or line
        sid = self.ident(m["id"], "a sweep id", at("id"))
        what = f"sweep {sid}"
        sweep = Sweep(id=sid, scenario=self.ident(m["scenario"], f"{what}'s scenario", at("scenario")),
                      assumptions=self.id_list(m["assumptions"], f"{what}'s assumptions", at("assumptions")),
                      fails_safely=self.condition(m["fails_safely"], f"{what}'s fails_safely", at("fails_safely")),
                      fails_catastrophically=self.condition(m["fails_catastrophically"], f"{what}'s fails_catastrophically",
                                                            at("fails_catastrophically")), line=line)
        if "params" in m:
            sweep.params = self.params(m["params"], f"{what}'s params", at("params"))
        if "points" in m:
            sweep.points = self.integer(m["points"], f"{what}'s points", at("points"))
            if not 2 <= sweep.points <= 101:
                self.fail("TS-F05", f"{what}'s points must be between 2 and 101, not {sweep.points}", at("points"))
        if "output" in m:
            sweep.output = self.ident(m["output"], f"{what}'s output", at("output"))
        if "note" in m:
            sweep.note = self.text(m["note"], f"{what}'s note", at("note"))
        return sweep


def _plain(value):
    """ruamel's scalar subclasses to plain Python values."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


# ---- writing ---------------------------------------------------------------------------------------

def dumps(story: Story) -> str:
    """The story as file text: front matter in the fixed key order, then the body verbatim."""
    data = to_data(story)
    if story.source is not None:
        data = _merge(story.source, data)
    data = _writable(data)
    out = io.StringIO()
    _yaml().dump(data, out)
    return f"{FENCE}\n{out.getvalue()}{FENCE}\n{story.body}"


#: Characters a YAML reader takes as (or folds into) line breaks, which ruamel writes raw into plain,
#: single-quoted and literal scalars: text holding one would come back changed, or not parse at all.
_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
#: Two whitespace characters in a row (see _needs_quotes).
_SPACE_RUN = re.compile(r"\s\s")
#: Characters YAML cannot hold unescaped (a literal block written with one does not parse).
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def _needs_quotes(text, flow: bool, key: bool = False) -> bool:
    """Whether ruamel would write `text` so that it reads back differently (or not at all). Besides the
    characters above: in flow collections it writes plain text starting with '?' or ': ' (keys: with '?'
    or ':'), which its own reader then refuses; it folds a long key with spaces over two lines, where a
    key must fit on one; and folding long plain or single-quoted text inside a run of spaces loses one
    of them (literal and folded blocks keep their own line breaks and are safe)."""
    if not isinstance(text, str) or isinstance(text, DoubleQuotedScalarString):
        return False
    if any(c in text for c in _BREAKS) or _NON_PRINTABLE.search(text):
        return True
    if len(text) > 40 and _SPACE_RUN.search(text) and not isinstance(text, (LiteralScalarString, FoldedScalarString)):
        return True
    if key:
        return (flow and text[:1] in "?:") or (len(text) > 40 and any(c.isspace() for c in text))
    return flow and (text[:1] == "?" or text[:2] in (": ", ":\t"))


def _writable(node, flow: bool = False):
    """`node` with every text ruamel cannot write faithfully made a double-quoted scalar (written with
    escapes); everything else, and so every unchanged file, is left as it is."""
    if isinstance(node, CommentedMap):
        inner = bool(flow or node.fa.flow_style())
        for key in list(node):
            node[key] = _writable(node[key], inner)
            if _needs_quotes(key, inner, key=True):
                pos = list(node).index(key)
                value = node.pop(key)
                node.insert(pos, DoubleQuotedScalarString(key), value)
    elif isinstance(node, CommentedSeq):
        inner = bool(flow or node.fa.flow_style())
        for i, value in enumerate(node):
            node[i] = _writable(value, inner)
    elif _needs_quotes(node, flow):
        return DoubleQuotedScalarString(node)
    return node


def write_atomic(path: str | Path, text: str) -> None:
    """Write text to `path` so readers see the old file or the new one, never half of one:
    write a temporary file beside it, flush it to disk, then rename it over the old one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _flow(items) -> CommentedSeq | CommentedMap:
    node = CommentedMap(items) if isinstance(items, dict) else CommentedSeq(items)
    node.fa.set_flow_style()
    return node


def _text(value: str):
    return LiteralScalarString(value) if "\n" in value else value


def _map(pairs: Iterable[tuple[str, Any]], keep: tuple[str, ...] = ()) -> CommentedMap:
    """A mapping without the optional keys that are at their (empty) default; `keep` names required keys,
    written even when empty (the reader insists on them)."""
    return CommentedMap([(k, v) for k, v in pairs if k in keep or not _empty(v)])


def _empty(value) -> bool:
    return value is None or value is False or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _predicate(p: Predicate) -> CommentedMap:
    pairs = [("metric", p.metric), ("op", p.op)]
    pairs.append(("other", p.other) if p.other is not None else ("value", p.value))
    if p.params:
        pairs.append(("params", _params(p.params)))
    if p.other_params and p.other is not None:
        pairs.append(("other_params", _params(p.other_params)))
    return _flow(dict(pairs))


def _params(params: dict[str, Any]) -> CommentedMap:
    return _flow({k: (_flow(dict(v)) if isinstance(v, dict) else v) for k, v in params.items()})


def _choice(c: ClassChoice):
    return c.id if c.custom is None else CommentedMap([("custom", _text(c.custom))])


def to_data(story: Story) -> CommentedMap:
    """The front matter as ruamel data in the fixed order, optional empty fields left out."""
    data = CommentedMap()
    data["schema"] = story.schema
    data["title"] = story.title
    if story.authors:
        data["authors"] = _flow(list(story.authors))
    data["revision"] = story.revision
    data["goal_class"] = _choice(story.goal_class)
    if story.rationale_classes:
        data["rationale_classes"] = CommentedSeq([_choice(c) for c in story.rationale_classes])
    if story.failure_modes:
        data["failure_modes"] = CommentedSeq(story.failure_modes)
    comps = CommentedMap()
    for name in COMPONENTS:
        comp = story.components.get(name, Component())
        claims = CommentedSeq(_map([("id", c.id), ("text", _text(c.text)),
                                    ("evidence", _flow(list(c.evidence)) if c.evidence else None),
                                    ("rests_on", _flow(list(c.rests_on)) if c.rests_on else None),
                                    ("undeveloped", c.undeveloped)]) for c in comp.claims)
        comps[name] = _map([("undeveloped", comp.undeveloped), ("note", _text(comp.note)), ("claims", claims if comp.claims else None)])
    data["components"] = comps
    crits = CommentedMap()
    for name in CRITERIA:
        crit = story.criteria.get(name, Criterion())
        crits[name] = _map([("rating", crit.rating), ("basis", _flow(list(crit.basis)) if crit.basis else None), ("note", _text(crit.note))])
    data["criteria"] = crits
    if story.assumptions:
        data["assumptions"] = CommentedSeq(
            _map([("name", a.name), ("parameter", a.parameter), ("nominal", a.nominal), ("range", _flow(list(a.range))),
                  ("note", _text(a.note))]) for a in story.assumptions)
    if story.evidence:
        data["evidence"] = CommentedSeq(_evidence(e) for e in story.evidence)
    if story.sweeps:
        data["sweeps"] = CommentedSeq(
            _map([("id", s.id), ("scenario", s.scenario), ("params", _params(s.params) if s.params else None),
                  ("assumptions", _flow(list(s.assumptions))), ("points", s.points),
                  ("fails_safely", CommentedSeq(_predicate(p) for p in s.fails_safely)),
                  ("fails_catastrophically", CommentedSeq(_predicate(p) for p in s.fails_catastrophically)),
                  ("output", s.output), ("note", _text(s.note))],
                 keep=("assumptions", "fails_safely", "fails_catastrophically")) for s in story.sweeps)
    return data


def _evidence(e: Evidence) -> CommentedMap:
    if e.cell is not None:
        c = e.cell
        return _map([("id", e.id), ("cell", _flow({"scenario": c.scenario, "world": c.world, "op": c.op, "share": c.share,
                                                   **({"by": c.by} if c.by else {})})), ("note", _text(e.note))])
    if not e.simulated:
        return _map([("id", e.id), ("source", _text(e.source or "")), ("finding", e.finding), ("note", _text(e.note))])
    recorded = None
    if e.recorded is not None:
        r = e.recorded
        recorded = _map([("holds", r.holds), ("value", r.value), ("other", r.other), ("params", _params(r.params)),
                         ("code_version", r.code_version)],
                        keep=("holds", "value", "params", "code_version") + (("other",) if r.other is not None else ()))
    return _map([("id", e.id), ("scenario", e.scenario), ("params", _params(e.params) if e.params else None),
                 ("assumptions", _flow(list(e.assumptions)) if e.assumptions else None),
                 ("predicate", _predicate(e.predicate) if e.predicate else None), ("note", _text(e.note)),
                 ("recorded", recorded)])


def _key_of(item) -> Any:
    if isinstance(item, dict):
        for k in ("id", "name"):
            if k in item:
                return (k, item[k])
    return None


#: Keys whose values are data (parameters, predicates, results): there a key absent from the new data is
#: gone, even when its old value was false, zero-like or empty.
_DATA_KEYS = ("params", "predicate", "fails_safely", "fails_catastrophically", "recorded")


def _merge(old, new, data: bool = False):
    """Update parsed data `old` to equal `new`, keeping old nodes (comments, quoting, style) where equal."""
    if old is None and isinstance(new, CommentedMap) and not new:
        return old  # `key:` with nothing after it reads as an empty part; keep it that way
    if isinstance(old, CommentedMap) and isinstance(new, CommentedMap):
        for key in list(old):
            if key not in new and (data or not _empty(old[key])):
                del old[key]  # a key absent from new is at its empty default; an old empty value may stay
        order = list(new)
        for key, value in new.items():
            if key in old:
                old[key] = _merge(old[key], value, data or key in _DATA_KEYS)
            else:
                before = order[:order.index(key)]
                pos = max((list(old).index(k) + 1 for k in before if k in old), default=0)
                old.insert(pos, key, value)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, CommentedSeq):
        if len(old) == len(new) and all(_key_of(a) == _key_of(b) for a, b in zip(old, new)):
            for i, value in enumerate(new):
                old[i] = _merge(old[i], value, data)
            return old
        by_key: dict = {}
        for item in old:
            by_key.setdefault(_key_of(item), item)
        by_key.pop(None, None)
        # each old node is reused once at most: a node written twice would be written as an anchor and alias
        merged = CommentedSeq(_merge(by_key.pop(_key_of(v)), v, data) if _key_of(v) in by_key else v for v in new)
        if old.fa.flow_style():
            merged.fa.set_flow_style()
        return merged
    if type(_plain(old)) is type(_plain(new)) and _plain(old) == _plain(new) and not isinstance(old, (dict, list)):
        return old
    return new

