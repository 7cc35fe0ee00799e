"""ProgramTable: the one data structure every world produces and every prior reads.

One row per candidate program; each column is a 1-D array on the table's back end. Priors, annealing
and views see only this table, so a new world needs no change to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.backend import Backend

#: Program kinds, in the order their integer codes use.
KINDS = ("honest", "goof_off", "deceptive", "lookup")

#: Columns every table carries, with what each means.
COLUMNS = {
    "kind": "integer code into KINDS: how the program was generated or, in measured worlds, what it did",
    "bits": "description length in bits",
    "avg_compute": "mean compute per training task, misbehaviour included",
    "max_compute": "the most compute the program has for any one task (its capacity)",
    "train_perf": "share of training tasks solved",
    "heldout_perf": "share of held-out tasks solved",
    "deploy_perf": "share of deployment tasks solved (deceptive programs defect there)",
    "misbehaviour_compute": "mean compute per training task spent on what does not help performance",
}


@dataclass(frozen=True)
class ProgramTable:
    """Columns of equal length on one back end; see COLUMNS for their meaning."""

    backend: Backend
    kind: Any
    bits: Any
    avg_compute: Any
    max_compute: Any
    train_perf: Any
    heldout_perf: Any
    deploy_perf: Any
    misbehaviour_compute: Any
    kinds: tuple[str, ...] = KINDS
    #: (origin, {column: one label per kind}) where a build says which rows it shares with other tables:
    #: two tables of the same origin whose labels for a column agree at a kind hold equal values in that
    #: kind's rows (explorer.worlds.abstract_kept sets it, explorer.priors.Candidates reads it). None: unknown.
    kind_labels: tuple | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        lengths = {name: int(getattr(self, name).shape[0]) for name in COLUMNS}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"ProgramTable columns differ in length: {lengths}")

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns (what a build writes)."""
        return sum(len(self) * itemsize(getattr(self, c).dtype) for c in COLUMNS)

    def to_numpy(self) -> dict[str, np.ndarray]:
        """All columns as host arrays, plus a `kind_name` column of strings."""
        out = {c: self.backend.to_numpy(getattr(self, c)) for c in COLUMNS}
        out["kind_name"] = np.asarray(self.kinds, dtype=object)[out["kind"]]
        return out

    def row(self, index: int) -> dict[str, Any]:
        """One program as a plain dict (kind as its name), for reports and JSON."""
        index = int(index)
        values = {c: self.backend.to_numpy(getattr(self, c)[index : index + 1])[0].item() for c in COLUMNS}
        values["kind"] = self.kinds[int(values["kind"])]
        values["index"] = index
        return values

    def take(self, indices) -> ProgramTable:
        """The rows at `indices` (an array on this back end), as a new table."""
        xp = self.backend.xp
        cols = {c: xp.take(getattr(self, c), indices, axis=0) for c in COLUMNS}
        return ProgramTable(backend=self.backend, kinds=self.kinds, **cols)


def itemsize(dtype) -> int:
    """Bytes per element of an array-API dtype (torch and numpy dtypes know it; array-api-strict's wrap numpy's)."""
    if hasattr(dtype, "itemsize"):
        return int(dtype.itemsize)
    return int(np.dtype(str(dtype).split(".")[-1]).itemsize)
