"""Coded, located messages about a story file, and the error that carries them.

A message reads like a compiler's: `speed-prior.story.md:42: error TS-V03: claim RN1 has no evidence
and is not marked undeveloped`. Codes TS-Fnn are about the file itself (it cannot be read as a story);
codes TS-Vnn are about what a readable story says. The list of codes lives in CODES, so the README, the
editor and the tests share one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.errors import ExplorerError

#: Every message code, with a one-line meaning.
CODES = {
    "TS-F01": "the file is not readable text (binary, not UTF-8, or too large)",
    "TS-F02": "the front matter is missing or not closed by a '---' line",
    "TS-F03": "the front matter is not valid YAML (or uses anchors, aliases or tags)",
    "TS-F04": "a key the format does not know",
    "TS-F05": "a value of the wrong type",
    "TS-F06": "a required key is missing",
    "TS-F07": "an unsupported schema version",
    "TS-V01": "a component with no claim that is not marked undeveloped",
    "TS-V02": "an unknown goal class, rationale class, failure mode, rating, finding or operator",
    "TS-V03": "a claim with no evidence that is not marked undeveloped",
    "TS-V04": "a reference to an id or name the story does not define",
    "TS-V05": "a cycle of claims resting on each other",
    "TS-V06": "a predicate whose metric its scenario does not produce",
    "TS-V07": "a value outside its range (an assumption's nominal value, or a parameter's bounds)",
    "TS-V08": "a criterion without a rating or without a basis",
    "TS-V09": "stale evidence: the recorded result was computed from other parameters or code",
    "TS-V10": "an id or name defined twice",
    "TS-V11": "an unknown scenario or parameter",
    "TS-V12": "a recorded result that differs from the new one and was not replaced",
    "TS-V13": "an assumption or sweep nobody uses, or a sweep that cannot run",
    "TS-V14": "a predicate that cannot mean what it says (text vs a number, an unknown kind, null, ordered kinds)",
}


@dataclass(frozen=True)
class Message:
    """One finding about a story file."""

    code: str
    text: str
    line: int = 0
    severity: str = "error"  # or "warning"
    file: str = ""

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unknown message code {self.code!r}")
        if self.severity not in ("error", "warning"):
            raise ValueError(f"unknown severity {self.severity!r}")

    def located(self, file: str) -> "Message":
        return Message(self.code, self.text, self.line, self.severity, file)

    def __str__(self) -> str:
        where = f"{self.file or '<story>'}:{self.line}" if self.line else (self.file or "<story>")
        return f"{where}: {self.severity} {self.code}: {self.text}"


def errors(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.severity == "error"]


class StoryFormatError(ExplorerError):
    """The file cannot be read as a story; carries the located message(s)."""

    def __init__(self, messages: list[Message]):
        self.messages = list(messages)
        super().__init__("\n".join(map(str, self.messages)))
