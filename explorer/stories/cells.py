"""Story evidence that cites a cell of the claims matrix, and that cell's verdict.

A story can rest a claim on how robust a scenario's claim is in one world, rather than on one run:

    - id: goof-off-measured
      cell: {scenario: goof-off, world: enumerated, op: <, share: 0.5, by: measurement}

reads "in the enumerated world the goof-off claim holds in fewer than half the runs of the claims matrix,
and that world measures it". The cell is looked up in the recorded matrix (explorer.claims.RECORDED,
written by `python -m explorer claims --json`), never recomputed here: a story check stays as quick as
the file it checks. The evidence holds when the cell's share of runs that hold compares as asked with
`share` (and the world decides the claim as `by` says, where given); it is unchecked when there is no
recorded matrix, no such cell or nothing ran in it, and stale when the matrix was recorded by another
version of the code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from explorer import claims
from explorer.checks import OPERATORS, code_version
from explorer.errors import ExplorerError
from explorer.stories.model import MatrixCell

__all__ = ["CellVerdict", "cell_status", "cell_verdict", "describe_cell", "describe_verdict", "recorded_matrix"]

_lock = threading.Lock()
_cache: dict[str, tuple[tuple, claims.ClaimsMatrix | None, str]] = {}


def _stamp(path: Path) -> tuple:
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size
    except OSError:
        return (None, None)


def _shown(path: Path) -> str:
    """`path` relative to the working folder where it lies inside it (a message names a file briefly)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def recorded_matrix(path: Path | None = None) -> tuple[claims.ClaimsMatrix | None, str]:
    """The recorded claims matrix and '' (read again when its file changes), or None and why there is none."""
    path = Path(path or claims.RECORDED)
    stamp = _stamp(path)
    with _lock:
        hit = _cache.get(str(path))
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        try:
            matrix, why = claims.load_recorded(path), ""
            if matrix is None:
                why = (f"no claims matrix is recorded in {_shown(path)} "
                       "(python -m explorer claims --json > assets/claims/matrix.json records one)")
        except ExplorerError as exc:
            matrix, why = None, str(exc)
        _cache[str(path)] = (stamp, matrix, why)
        return matrix, why


@dataclass(frozen=True)
class CellVerdict:
    """What the recorded matrix says of a cited cell: `holds` None when it cannot say, with `problem` why."""

    holds: bool | None
    share: float | None = None
    runs: int = 0
    by: str | None = None
    stale: bool = False
    problem: str = ""


def cell_verdict(cell: MatrixCell, path: Path | None = None) -> CellVerdict:
    """Look the cited cell up in the recorded matrix and compare its share held with the citation's bound."""
    matrix, why = recorded_matrix(path)
    if matrix is None:
        return CellVerdict(None, problem=why)
    found = matrix.cell(cell.scenario, cell.world)
    if found is None:
        return CellVerdict(None, problem=f"the recorded claims matrix has no cell for {cell.scenario} in the "
                                         f"{cell.world} world")
    stale = matrix.code_version != code_version()
    if found.holds is None:
        return CellVerdict(None, None, found.runs, found.by, stale, "nothing ran in this cell of the recorded matrix")
    compare = OPERATORS.get(cell.op)
    if compare is None:
        return CellVerdict(None, found.holds, found.runs, found.by, stale, f"unknown operator {cell.op!r}")
    holds = bool(compare(found.holds, cell.share)) and (cell.by is None or cell.by == found.by)
    return CellVerdict(holds, found.holds, found.runs, found.by, stale)


def cell_status(cell: MatrixCell, path: Path | None = None) -> str:
    """supported / refuted / stale / unchecked, as the story's other evidence reports it."""
    v = cell_verdict(cell, path)
    if v.holds is None:
        return "unchecked"
    if v.stale:
        return "stale"
    return "supported" if v.holds else "refuted"


def describe_cell(cell: MatrixCell) -> str:
    """The citation in words: `claims-matrix cell goof-off in enumerated: share held < 0.5, by measurement`."""
    by = f", by {cell.by}" if cell.by else ""
    return f"claims-matrix cell {cell.scenario} in {cell.world}: share held {cell.op} {cell.share:g}{by}"


def describe_verdict(cell: MatrixCell, path: Path | None = None) -> str:
    """What the recorded matrix found for the cell, in words: `0.00 of 60 runs, by measurement: holds`."""
    v = cell_verdict(cell, path)
    if v.share is None:
        return f"not checked: {v.problem}"
    word = "not decided" if v.holds is None else ("holds" if v.holds else "fails")
    stale = " (the matrix was recorded by another code version)" if v.stale else ""
    return f"{v.share:.2f} of {v.runs} runs, by {v.by}: {word}{stale}"
