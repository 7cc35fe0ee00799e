"""`python -m explorer story check FILE...`: validate stories, run their evidence, optionally record it.

A file is loaded (a file that cannot be read gives its located TS-F messages), validated, and, when it
has no errors, its simulated evidence is run. Each result is compared with the one recorded in the file:
a stale record (other parameters or code) and a changed one (same parameters and code, another answer)
are both reported. `--record` writes new results into the file and bumps its revision, so an editor
holding the old revision notices; a recorded result that differs from the new one is never silently
overwritten: that needs `--replace`, and without it the file is left untouched (error TS-V12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.errors import ExplorerError
from explorer.stories import evidence as evidence_mod
from explorer.stories import fileformat
from explorer.stories.cells import cell_verdict, describe_cell, describe_verdict
from explorer.stories.evidence import Result
from explorer.stories.messages import Message, StoryFormatError, errors
from explorer.stories.model import Evidence, Recorded, Story
from explorer.stories.validate import validate

#: How a new result relates to the one recorded in the file.
#: new: nothing recorded; same: the record says the same; refresh: the record is stale (other parameters
#: or code) but its answer is the same; changed: the record's parameters and code match but its answer
#: does not; stale: the record is stale and its answer differs too.
CHANGES = ("new", "same", "refresh", "changed", "stale")


@dataclass
class FileReport:
    """What checking one story file found, ran and wrote."""

    file: str
    messages: list[Message] = field(default_factory=list)
    story: Story | None = None
    ran: bool = False
    results: dict[str, Result] = field(default_factory=dict)
    changes: dict[str, str] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    written: bool = False
    old_revision: int | None = None

    @property
    def errors(self) -> list[Message]:
        return errors(self.messages)

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "warning"]

    @property
    def recorded(self) -> list[str]:
        """Evidence ids whose result was written into the file."""
        if not self.written:
            return []
        return [e for e, c in self.changes.items() if c in ("new", "refresh") or e in self.replaced]

    def to_json(self) -> dict[str, Any]:
        story = self.story
        evidence = []
        for ev in (story.evidence if story else []):
            item: dict[str, Any] = {"id": ev.id, "line": ev.line}
            if ev.cell is not None:
                v = cell_verdict(ev.cell)
                item.update(cell={"scenario": ev.cell.scenario, "world": ev.cell.world, "op": ev.cell.op,
                                  "share": ev.cell.share, "by": ev.cell.by},
                            status=evidence_mod.evidence_status(story, ev), holds=v.holds, value=v.share,
                            runs=v.runs, by=v.by, problem=v.problem or None)
            elif not ev.simulated:
                item.update(source=ev.source, finding=ev.finding)
            else:
                item.update(scenario=ev.scenario, predicate=ev.predicate.describe() if ev.predicate else None,
                            status=evidence_mod.evidence_status(story, ev, self.results if self.ran else None))
                if ev.id in self.results:
                    r = self.results[ev.id]
                    item.update(holds=r.holds, value=r.value, other=r.other, params=r.params,
                                code_version=r.code_version, change=self.changes.get(ev.id),
                                replaced=ev.id in self.replaced, recorded=ev.id in self.recorded)
            evidence.append(item)
        return {
            "file": self.file,
            "loaded": story is not None,
            "title": story.title if story else None,
            "revision": story.revision if story else None,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "messages": [{"code": m.code, "severity": m.severity, "line": m.line, "text": m.text, "message": str(m)}
                         for m in self.messages],
            "ran": self.ran,
            "evidence": evidence,
            "claims": self.statuses,
            "written": self.written,
        }

    def lines(self) -> list[str]:
        """The text report: messages, one line per evidence, one per claim, then a summary."""
        out = [str(m) for m in self.messages]
        story = self.story
        if story is None:
            return out + [f"{self.file}: {_count(len(self.errors), 'error')}; the file could not be read as a story"]
        for ev in story.evidence:
            where = f"{self.file}:{ev.line}"
            if ev.cell is not None:
                out.append(f"{where}: {ev.id}: {describe_cell(ev.cell)}: {describe_verdict(ev.cell)}")
            elif not ev.simulated:
                out.append(f"{where}: {ev.id} {ev.finding} (external source: {_one_line(ev.source or '')})")
            elif ev.id in self.results:
                out.append(f"{where}: {_describe_result(ev, self.results[ev.id])}{self._change_note(ev)}")
        claims = story.claims()
        for cid, status in self.statuses.items():
            out.append(f"{self.file}:{claims[cid].line}: claim {cid} {status}")
        out.append(self.summary())
        return out

    def _change_note(self, ev: Evidence) -> str:
        change, written = self.changes.get(ev.id), ev.id in self.recorded
        if change == "new":
            return " [recorded]" if written else ""
        if change == "refresh":
            return " [stale record refreshed]" if written else " [the recorded result is stale]"
        if change in ("changed", "stale"):
            what = "differs from the " + ("recorded result" if change == "changed" else "stale recorded result")
            return f" [{what}; replaced]" if written else f" [{what}: {_outcome_text(ev.recorded)}]"
        return ""

    def summary(self) -> str:
        story = self.story
        parts = [f"{_count(len(self.errors), 'error')}, {_count(len(self.warnings), 'warning')}"]
        simulated = [e for e in story.evidence if e.simulated]
        if self.ran and self.results:
            holds = sum(r.holds for r in self.results.values())
            parts.append(f"evidence: {holds} hold, {len(self.results) - holds} fail")
        elif simulated:
            parts.append("evidence not run" + (" (the file has errors)" if self.errors else ""))
        counts = {s: list(self.statuses.values()).count(s) for s in evidence_mod.STATUSES}
        claims = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        parts.append(f"claims: {claims or 'none'}")
        if self.written:
            parts.append(f"recorded {_count(len(self.recorded), 'result')}, "
                         f"revision {self.old_revision} -> {story.revision}")
        return f"{self.file}: " + "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return repr(value)
    return "null" if value is None else str(value)


def _describe_result(ev: Evidence, r: Result) -> str:
    p = ev.predicate
    right = f"{p.other} = {_fmt(r.other)}" if p.other is not None else _fmt(p.value)
    return f"{ev.id} {'holds' if r.holds else 'fails'}: {p.metric} = {_fmt(r.value)} {p.op} {right}"


def _outcome(holds: bool, value: Any, other: Any) -> tuple:
    def norm(v):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return evidence_mod.plain(float(v))
        return v

    return holds, norm(value), norm(other)


def change_of(result: Result, recorded: Recorded | None) -> str:
    """How a new result relates to the recorded one (one of CHANGES)."""
    if recorded is None:
        return "new"
    if result.matches(recorded):
        return "same"
    new, old = (_outcome(x.holds, x.value, x.other) for x in (result, recorded))
    same = new == old
    if evidence_mod.is_stale(recorded, result.params):
        return "refresh" if same else "stale"
    return "changed"


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def check_file(path: str | Path, run: bool = True, record: bool = False, replace: bool = False) -> FileReport:
    """Validate one story file, run its evidence (when it has no errors) and, with `record`, write the results."""
    if replace and not record:
        raise ExplorerError("--replace only makes sense with --record (it lets --record overwrite differing results)")
    if record and not run:
        raise ExplorerError("--record writes the results of running the evidence; it cannot be combined with --no-run")
    shown = str(path)
    path = Path(path)
    report = FileReport(file=shown)
    try:
        stamp = _stamp(path)
        story = fileformat.load(path)
    except StoryFormatError as exc:
        report.messages = [m.located(shown) for m in exc.messages]
        return report
    except OSError as exc:
        report.messages = [Message("TS-F01", f"cannot read the file: {exc.strerror or exc}", 0, file=shown)]
        return report
    report.story = story
    report.old_revision = story.revision
    report.messages = validate(story, shown)
    if run and not report.errors:
        _run(story, report)
    report.statuses = evidence_mod.claim_statuses(story, report.results if report.ran else None)
    if record and report.ran:
        _record(path, stamp, story, report, replace)
    report.messages.sort(key=lambda m: m.line)  # in file order, like a compiler's
    return report


def _run(story: Story, report: FileReport) -> None:
    """Run the simulated evidence; one that cannot run gives a located error instead of a result."""
    report.results, problems = evidence_mod.run_each(story)
    lines = {ev.id: ev.line for ev in story.evidence}
    for eid, problem in problems.items():
        report.messages.append(Message("TS-V11", f"evidence {eid} cannot run: {problem}", lines[eid], file=report.file))
    report.ran = True
    for ev in story.evidence:
        if ev.id not in report.results:
            continue
        change = change_of(report.results[ev.id], ev.recorded)
        report.changes[ev.id] = change
        if change == "changed":
            report.messages.append(Message(
                "TS-V12", f"evidence {ev.id}'s recorded result ({_outcome_text(ev.recorded)}) differs from the new "
                f"one ({_outcome_text(report.results[ev.id])}) although its parameters and code version match; "
                "run with --record --replace to replace it", ev.recorded.line or ev.line, "warning", report.file))


def _outcome_text(r: Recorded | Result) -> str:
    """'holds, value 0.0131' (and the other metric's value, when the predicate compares two)."""
    other = f", other {_fmt(r.other)}" if r.other is not None else ""
    return f"{'holds' if r.holds else 'fails'}, value {_fmt(r.value)}{other}"



def _record(path: Path, stamp: tuple, story: Story, report: FileReport, replace: bool) -> None:
    """Write new results into the file, unless that would silently overwrite a differing recorded one."""
    differing = [e for e in story.evidence if report.changes.get(e.id) in ("changed", "stale")]
    # Without --replace a differing record is an error, whatever the warning said before.
    report.messages = [m for m in report.messages if m.code != "TS-V12"]
    if differing and not replace:
        for ev in differing:
            report.messages.append(Message(
                "TS-V12", f"evidence {ev.id}'s {'stale ' if report.changes[ev.id] == 'stale' else ''}recorded result "
                f"({_outcome_text(ev.recorded)}) differs from the new one ({_outcome_text(report.results[ev.id])}); "
                "nothing was written: rerun with --record --replace to replace it", ev.recorded.line or ev.line,
                file=report.file))
    if report.errors:
        return
    writes = [e for e in story.evidence if report.changes.get(e.id) in ("new", "refresh", "changed", "stale")]
    if not writes:
        return
    try:
        if _stamp(path) != stamp:
            report.messages.append(Message(
                "TS-V12", "the file changed on disk while its evidence ran; nothing was written: check it again",
                0, file=report.file))
            return
    except OSError as exc:
        report.messages.append(Message("TS-F01", f"cannot read the file: {exc.strerror or exc}", 0, file=report.file))
        return
    for ev in writes:
        ev.recorded = report.results[ev.id].recorded()
    report.replaced = [e.id for e in differing]
    story.revision += 1
    text = fileformat.dumps(story)
    fileformat.loads(text, path.name)  # never write a file the loader would refuse
    fileformat.write_atomic(path, text)
    report.written = True


def check_files(paths: list[str], run: bool = True, record: bool = False, replace: bool = False) -> list[FileReport]:
    return [check_file(p, run=run, record=record, replace=replace) for p in paths]

