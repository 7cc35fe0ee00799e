"""Safe YAML reading with located errors, for the project's small data files (scenarios, tours).

A file is first composed into nodes, and any tag other than YAML's plain scalars, mappings and
sequences (`!!python/object`, `!custom`, timestamps, merge keys) is refused before anything is built,
as are anchors and aliases (an alias can make a structure that contains itself). `Reader` then checks
keys and types of the loaded data and raises ExplorerError naming the file, the line and the problem.
Story files, whose messages carry TS codes, have their own reader (explorer.stories.fileformat).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from explorer.errors import ExplorerError
from explorer.params import type_name

#: YAML tags a data file may use; anything else is refused before construction.
SAFE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


def read_text(path: str | Path, what: str) -> str:
    """The file's text; a file that cannot be read or is not UTF-8 is an ExplorerError naming it."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExplorerError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ExplorerError(f"{path}: not UTF-8 text") from None


def load(text: str, path: str | Path, what: str) -> Any:
    """Parse YAML `text` into ruamel round-trip data (which remembers lines); `what` names the kind of
    file in messages ('a tour', 'a scenario')."""
    path = Path(path)
    yaml = YAML(typ="rt")
    try:
        root = yaml.compose(text)
        if root is not None:
            _refuse_tags(root, path, what)
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else "?"
        raise ExplorerError(f"{path}:{line}: not valid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise ExplorerError(f"{path}: not valid YAML: {exc}") from None


def _refuse_tags(node, path: Path, what: str) -> None:
    """Reject any node whose tag is not a plain scalar, mapping or sequence, and any alias (a node met twice)."""
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            raise ExplorerError(f"{path}:{n.start_mark.line + 1}: anchors and aliases (&name, *name) are not "
                                f"allowed in {what}; write the value out")
        seen.add(id(n))
        tag = str(getattr(n.tag, "value", n.tag))
        if tag not in SAFE_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise ExplorerError(f"{path}:{n.start_mark.line + 1}: YAML tag {shown} is not allowed in {what} "
                                "(only plain text, numbers, true/false, null, lists and mappings)")
        if isinstance(n.value, list):
            for item in n.value:
                stack.extend(item if isinstance(item, tuple) else (item,))


def plain(value: Any) -> Any:
    """ruamel's round-trip types as plain Python values."""
    if isinstance(value, (ScalarBoolean, bool)):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Reader:
    """Checks loaded data part by part, raising ExplorerError with the file and line of each mistake."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def fail(self, line: int | None, problem: str):
        where = f"{self.path}:{line}" if line else f"{self.path}"
        raise ExplorerError(f"{where}: {problem}")

    @staticmethod
    def key_line(m: Any, key: str, default: int | None) -> int | None:
        try:
            return m.lc.key(key)[0] + 1
        except (AttributeError, KeyError, TypeError):
            return default

    @staticmethod
    def value_line(m: Any, key: str, default: int | None) -> int | None:
        try:
            return m.lc.value(key)[0] + 1
        except (AttributeError, KeyError, TypeError):
            return default

    @staticmethod
    def item_line(s: Any, i: int, default: int | None) -> int | None:
        try:
            return s.lc.item(i)[0] + 1
        except (AttributeError, KeyError, TypeError, IndexError):
            return default

    @staticmethod
    def own_line(node: Any, default: int | None) -> int | None:
        lc = getattr(node, "lc", None)
        return lc.line + 1 if lc is not None and lc.line is not None else default

    def mapping(self, node: Any, what: str, line: int | None, keys: Iterable[str],
                required: tuple[str, ...] = ()) -> CommentedMap:
        keys = set(keys)
        if not isinstance(node, Mapping):
            self.fail(line, f"{what} must be a mapping (name: value lines), not {type_name(node)}")
        for k in node:
            if not isinstance(k, str):
                self.fail(self.own_line(node, line), f"{what}: key {k!r} is not text")
            if k not in keys:
                self.fail(self.key_line(node, k, line), f"{what}: unknown key {k!r}; allowed keys: {', '.join(sorted(keys))}")
        for k in required:
            if k not in node:
                self.fail(self.own_line(node, line), f"{what}: missing {k!r}")
        return node

    def text(self, m: Mapping, key: str, what: str, line: int | None, required: bool = True) -> str:
        """Non-empty text under `key` (a title's runs of spaces collapsed), '' when optional and absent."""
        if key not in m:
            if required:
                self.fail(line, f"{what}: missing {key!r}")
            return ""
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.value_line(m, key, line), f"{what}: {key!r} must be non-empty text, not {type_name(value)}")
        return " ".join(value.split()) if key == "title" else value.strip()

    def seq(self, m: Mapping, key: str, what: str, line: int | None) -> CommentedSeq:
        """A non-empty list under `key`."""
        node = m[key]
        if not isinstance(node, list) or not node:
            self.fail(self.value_line(m, key, line), f"{what}: {key!r} must be a non-empty list, not {type_name(node)}")
        return node
