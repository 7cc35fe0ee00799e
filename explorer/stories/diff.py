"""A semantic diff of two revisions of a training story: what the argument gained, lost or changed its mind on.

A text diff of two story files shows moved lines and rewrapped prose; this one compares the stories as
objects, matching claims, evidence and sweeps by id and assumptions by name, and reports:

- claims added, removed, moved to another component, reworded, marked or unmarked undeveloped, or
  citing other evidence or other claims;
- assumptions added or removed, and changes of nominal value, range or parameter;
- evidence added or removed, and changes of scenario, parameters, assumptions, predicate, source or
  finding;
- verdicts flipped: a recorded result that held and now fails (or the reverse), an external source that
  now refutes what it supported, a claim whose status (from the recorded results, nothing is run)
  changed, a criterion rated differently or resting on other claims;
- classes, failure modes, sweeps, title, revision numbers and whether the narrative changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.stories.cells import describe_cell
from explorer.stories.evidence import claim_statuses
from explorer.stories.model import ClassChoice, Evidence, Predicate, Story

#: Sections of a diff, in the order they are printed.
SECTIONS = ("story", "classes", "claims", "criteria", "assumptions", "evidence", "sweeps", "verdicts")

#: The sign each kind of change is printed with.
SIGNS = {"added": "+", "removed": "-", "changed": "~", "flipped": "!"}


@dataclass(frozen=True)
class Change:
    """One difference: where (section, subject), what kind, the old and new values, and in words."""

    section: str
    kind: str  # added, removed, changed or flipped
    subject: str
    what: str  # the aspect that changed: "text", "nominal", "status", ... ("" for added/removed)
    old: Any = None
    new: Any = None
    text: str = ""

    def to_json_data(self) -> dict[str, Any]:
        return {"section": self.section, "kind": self.kind, "subject": self.subject, "what": self.what,
                "old": _jsonable(self.old), "new": _jsonable(self.new), "text": self.text}

    def __str__(self) -> str:
        return f"{SIGNS[self.kind]} {self.text}"


@dataclass
class StoryDiff:
    """Every change from `old` to `new`, in section order."""

    old_title: str
    new_title: str
    old_revision: int
    new_revision: int
    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def section(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.section == name]

    def find(self, section: str, subject: str, what: str | None = None) -> list[Change]:
        """The changes of one subject (a claim id, an assumption name, ...), optionally of one aspect."""
        return [c for c in self.changes if c.section == section and c.subject == subject
                and (what is None or c.what == what)]

    def to_json_data(self) -> dict[str, Any]:
        return {"old": {"title": self.old_title, "revision": self.old_revision},
                "new": {"title": self.new_title, "revision": self.new_revision},
                "count": len(self.changes),
                "sections": {s: [c.to_json_data() for c in self.section(s)] for s in SECTIONS if self.section(s)}}

    def text(self, old_name: str = "old", new_name: str = "new") -> str:
        head = (f"{old_name} (revision {self.old_revision}) -> {new_name} (revision {self.new_revision}): "
                f"{len(self.changes)} change{'s' if len(self.changes) != 1 else ''}")
        lines = [head]
        if not self.changes:
            lines.append("The two stories say the same.")
        for s in SECTIONS:
            items = self.section(s)
            if items:
                lines.append(s.capitalize())
                lines += [f"  {c}" for c in items]
        return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _quote(text: str, limit: int = 120) -> str:
    one = " ".join(str(text).split())
    return repr(one if len(one) <= limit else one[:limit - 3] + "...")


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _choice(c: ClassChoice) -> str:
    return c.id if c.custom is None else f"custom: {' '.join(c.custom.split())}"


def _pred(p: Predicate | None) -> str:
    return "none" if p is None else p.describe()


def _range(rng) -> str:
    return f"[{_num(rng[0])}, {_num(rng[1])}]"


def _ids(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


class _Differ:
    def __init__(self, old: Story, new: Story):
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, section: str, kind: str, subject: str, what: str, old: Any, new: Any, text: str) -> None:
        self.changes.append(Change(section, kind, subject, what, old, new, text))

    def run(self) -> list[Change]:
        self.story()
        self.classes()
        self.claims()
        self.criteria()
        self.assumptions()
        self.evidence()
        self.sweeps()
        self.verdicts()
        return self.changes

    def story(self) -> None:
        o, n = self.old, self.new
        if o.title != n.title:
            self.add("story", "changed", "title", "title", o.title, n.title,
                     f"title: {_quote(o.title)} -> {_quote(n.title)}")
        if o.authors != n.authors:
            self.add("story", "changed", "authors", "authors", o.authors, n.authors,
                     f"authors: {', '.join(o.authors) or 'none'} -> {', '.join(n.authors) or 'none'}")
        if o.revision != n.revision:
            self.add("story", "changed", "revision", "revision", o.revision, n.revision,
                     f"revision {o.revision} -> {n.revision}")
        if o.body != n.body:
            old_lines, new_lines = o.body.splitlines(), n.body.splitlines()
            self.add("story", "changed", "narrative", "body", len(old_lines), len(new_lines),
                     f"narrative rewritten ({len(old_lines)} -> {len(new_lines)} lines)")

    def classes(self) -> None:
        o, n = self.old, self.new
        if o.goal_class != n.goal_class:
            self.add("classes", "changed", "goal_class", "goal_class", _choice(o.goal_class), _choice(n.goal_class),
                     f"goal class: {_choice(o.goal_class)} -> {_choice(n.goal_class)}")
        self._set("classes", "rationale class", [_choice(c) for c in o.rationale_classes],
                  [_choice(c) for c in n.rationale_classes])
        self._set("classes", "failure mode", o.failure_modes, n.failure_modes)

    def _set(self, section: str, noun: str, old: list[str], new: list[str]) -> None:
        for item in new:
            if item not in old:
                self.add(section, "added", item, "", None, item, f"{noun} {item}")
        for item in old:
            if item not in new:
                self.add(section, "removed", item, "", item, None, f"{noun} {item}")

    def claims(self) -> None:
        old, new = self.old.claims(), self.new.claims()
        old_comp, new_comp = self.old.claim_component(), self.new.claim_component()
        for cid, c in new.items():
            if cid not in old:
                state = " (undeveloped)" if c.undeveloped else ""
                self.add("claims", "added", cid, "", None, c.text,
                         f"claim {cid} in {new_comp[cid]}{state}: {_quote(c.text)}")
        for cid, c in old.items():
            if cid not in new:
                self.add("claims", "removed", cid, "", c.text, None,
                         f"claim {cid} from {old_comp[cid]}: {_quote(c.text)}")
        for cid, a in old.items():
            b = new.get(cid)
            if b is None:
                continue
            if old_comp[cid] != new_comp[cid]:
                self.add("claims", "changed", cid, "component", old_comp[cid], new_comp[cid],
                         f"claim {cid} moved: {old_comp[cid]} -> {new_comp[cid]}")
            if a.text != b.text:
                self.add("claims", "changed", cid, "text", a.text, b.text,
                         f"claim {cid} reworded: {_quote(a.text)} -> {_quote(b.text)}")
            if a.undeveloped != b.undeveloped:
                self.add("claims", "changed", cid, "undeveloped", a.undeveloped, b.undeveloped,
                         f"claim {cid} {'marked undeveloped' if b.undeveloped else 'no longer undeveloped'}")
            if a.evidence != b.evidence:
                self.add("claims", "changed", cid, "evidence", a.evidence, b.evidence,
                         f"claim {cid} evidence: {_ids(a.evidence)} -> {_ids(b.evidence)}")
            if a.rests_on != b.rests_on:
                self.add("claims", "changed", cid, "rests_on", a.rests_on, b.rests_on,
                         f"claim {cid} rests on: {_ids(a.rests_on)} -> {_ids(b.rests_on)}")
        for name in dict.fromkeys([*self.old.components, *self.new.components]):
            a, b = self.old.components.get(name), self.new.components.get(name)
            ua, ub = bool(a and a.undeveloped), bool(b and b.undeveloped)
            if ua != ub:
                self.add("claims", "changed", name, "undeveloped", ua, ub,
                         f"component {name} {'marked undeveloped' if ub else 'no longer undeveloped'}")

    def criteria(self) -> None:
        for name in dict.fromkeys([*self.old.criteria, *self.new.criteria]):
            a, b = self.old.criteria.get(name), self.new.criteria.get(name)
            ba, bb = (a.basis if a else []), (b.basis if b else [])
            if ba != bb:
                self.add("criteria", "changed", name, "basis", ba, bb,
                         f"criterion {name} basis: {_ids(ba)} -> {_ids(bb)}")

    def assumptions(self) -> None:
        old, new = self.old.assumption_by_name(), self.new.assumption_by_name()
        for name, a in new.items():
            if name not in old:
                self.add("assumptions", "added", name, "", None, a.nominal,
                         f"assumption {name} = {_num(a.nominal)} in {_range(a.range)}, sets {a.parameter}")
        for name, a in old.items():
            if name not in new:
                self.add("assumptions", "removed", name, "", a.nominal, None,
                         f"assumption {name} (set {a.parameter})")
        for name, a in old.items():
            b = new.get(name)
            if b is None:
                continue
            if a.parameter != b.parameter:
                self.add("assumptions", "changed", name, "parameter", a.parameter, b.parameter,
                         f"assumption {name} sets {a.parameter} -> {b.parameter}")
            if a.nominal != b.nominal:
                self.add("assumptions", "changed", name, "nominal", a.nominal, b.nominal,
                         f"assumption {name} nominal {_num(a.nominal)} -> {_num(b.nominal)}")
            if tuple(a.range) != tuple(b.range):
                self.add("assumptions", "changed", name, "range", list(a.range), list(b.range),
                         f"assumption {name} range {_range(a.range)} -> {_range(b.range)}")

    def evidence(self) -> None:
        old, new = self.old.evidence_by_id(), self.new.evidence_by_id()
        for eid, e in new.items():
            if eid not in old:
                self.add("evidence", "added", eid, "", None, _describe(e), f"evidence {eid}: {_describe(e)}")
        for eid, e in old.items():
            if eid not in new:
                self.add("evidence", "removed", eid, "", _describe(e), None, f"evidence {eid}: {_describe(e)}")
        for eid, a in old.items():
            b = new.get(eid)
            if b is None:
                continue
            if (a.simulated, a.external) != (b.simulated, b.external):
                self.add("evidence", "changed", eid, "kind", _describe(a), _describe(b),
                         f"evidence {eid}: {_describe(a)} -> {_describe(b)}")
                continue
            if a.cell is not None:
                if a.cell != b.cell:
                    self.add("evidence", "changed", eid, "cell", _describe(a), _describe(b),
                             f"evidence {eid}: {_describe(a)} -> {_describe(b)}")
                continue
            if not a.simulated:
                if a.source != b.source:
                    self.add("evidence", "changed", eid, "source", a.source, b.source,
                             f"evidence {eid} source: {_quote(a.source or '')} -> {_quote(b.source or '')}")
                continue  # a changed finding is a verdict (see verdicts)
            if a.scenario != b.scenario:
                self.add("evidence", "changed", eid, "scenario", a.scenario, b.scenario,
                         f"evidence {eid} scenario: {a.scenario} -> {b.scenario}")
            if a.params != b.params:
                self.add("evidence", "changed", eid, "params", a.params, b.params,
                         f"evidence {eid} params: {_params(a.params)} -> {_params(b.params)}")
            if a.assumptions != b.assumptions:
                self.add("evidence", "changed", eid, "assumptions", a.assumptions, b.assumptions,
                         f"evidence {eid} assumptions: {_ids(a.assumptions)} -> {_ids(b.assumptions)}")
            if a.predicate != b.predicate:
                self.add("evidence", "changed", eid, "predicate", _pred(a.predicate), _pred(b.predicate),
                         f"evidence {eid} predicate: {_pred(a.predicate)} -> {_pred(b.predicate)}")

    def sweeps(self) -> None:
        old, new = self.old.sweep_by_id(), self.new.sweep_by_id()
        for sid in new:
            if sid not in old:
                s = new[sid]
                self.add("sweeps", "added", sid, "", None, s.assumptions,
                         f"sweep {sid} over {', '.join(s.assumptions)} in scenario {s.scenario}")
        for sid in old:
            if sid not in new:
                self.add("sweeps", "removed", sid, "", old[sid].assumptions, None, f"sweep {sid}")
        for sid, a in old.items():
            b = new.get(sid)
            if b is None:
                continue
            for what, show in (("scenario", str), ("assumptions", _ids), ("params", _params), ("points", str),
                               ("fails_safely", _preds), ("fails_catastrophically", _preds), ("output", str)):
                va, vb = getattr(a, what), getattr(b, what)
                if va != vb:
                    self.add("sweeps", "changed", sid, what, _sweep_value(va), _sweep_value(vb),
                             f"sweep {sid} {what}: {show(va)} -> {show(vb)}")

    def verdicts(self) -> None:
        old, new = self.old.evidence_by_id(), self.new.evidence_by_id()
        for eid, a in old.items():
            b = new.get(eid)
            if b is None:
                continue
            if a.simulated and b.simulated and a.recorded is not None and b.recorded is not None \
                    and a.recorded.holds != b.recorded.holds:
                word = {True: "holds", False: "fails"}
                self.add("verdicts", "flipped", eid, "holds", a.recorded.holds, b.recorded.holds,
                         f"evidence {eid} recorded result: {word[a.recorded.holds]} -> {word[b.recorded.holds]} "
                         f"({_num(a.recorded.value)} -> {_num(b.recorded.value)})")
            if a.external and b.external and a.finding != b.finding:
                self.add("verdicts", "flipped", eid, "finding", a.finding, b.finding,
                         f"evidence {eid} finding: {a.finding} -> {b.finding}")
        before, after = claim_statuses(self.old), claim_statuses(self.new)
        for cid, status in before.items():
            if cid in after and after[cid] != status:
                self.add("verdicts", "flipped", cid, "status", status, after[cid],
                         f"claim {cid}: {status} -> {after[cid]}")
        for name in dict.fromkeys([*self.old.criteria, *self.new.criteria]):
            a, b = self.old.criteria.get(name), self.new.criteria.get(name)
            ra, rb = (a.rating if a else ""), (b.rating if b else "")
            if ra != rb:
                self.add("verdicts", "flipped", name, "rating", ra, rb,
                         f"criterion {name} rated {ra or 'not rated'} -> {rb or 'not rated'}")


def _describe(e: Evidence) -> str:
    if e.cell is not None:
        return describe_cell(e.cell)
    if not e.simulated:
        return f"{' '.join((e.source or '').split())} ({e.finding})"
    extra = f" with {_params(e.params)}" if e.params else ""
    return f"scenario {e.scenario}{extra}: {_pred(e.predicate)}"


def _params(params: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_num(v)}" for k, v in params.items()) + "}"


def _preds(preds: list[Predicate]) -> str:
    return " and ".join(p.describe() for p in preds) or "never"


def _sweep_value(value: Any) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], Predicate):
        return [p.describe() for p in value]
    return value


def diff(old: Story, new: Story) -> StoryDiff:
    """What changed from story `old` to story `new` (see the module docstring)."""
    return StoryDiff(old.title, new.title, old.revision, new.revision, _Differ(old, new).run())

