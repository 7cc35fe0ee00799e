"""Priors over programs, and the selection each makes among the programs that look good.

    log prior(p) = -w_s * bits(p) * ln 2 - w_max * max_compute(p) - w_avg * avg_compute(p)

simplicity keeps only the w_s term, max_speed only w_max, average_speed only w_avg, and combined all
three (each with the user's weight). The fifth, levin, is Levin's order Kt = bits + log2(steps) with
steps the average compute, and no weights of its own:

    log prior_levin(p) = -(bits(p) + log2 max(avg_compute(p), 1)) * ln 2

(a program takes at least one step, so compute below 1, which only the abstract world's lookup tables
report, counts as 1). A program looks good when train_perf >= threshold, its max compute
fits the compute budget and, with the generalisation check on, heldout_perf >= threshold too. The
posterior is the prior restricted to those programs and normalised.

Each prior is named once, in PRIOR_WEIGHTS: its weight on each feature, by the feature's name, given
as the name of the PriorSettings parameter that holds it (the user's weight) or as a fixed number.

Selection is split so that a weight change is cheap: `Candidates` filters the table once and keeps a
float32 feature matrix F, one row per feature of FEATURES (bits ln 2, max compute, avg compute,
ln max(avg compute, 1)), and a summary matrix G = [one-hot kind, actually_good, deploy_perf]. For the
weight matrix W (len(FEATURES) x len(PRIORS), built from PRIOR_WEIGHTS by `PriorSettings.weights()`),
one re-selection is

    L = -F W,   P = exp(L - max L),   stats = G^T P / sum P,   MAP = argmax L

two small matrix products and a few passes over the candidates.

**Ties.** The MAP is argmax L, so among programs with the same best score it is the first in the table's
order: an accident of code order, which the result reports rather than hides. A program ties with the
MAP when its score is within TIE_RTOL of the best, relative to the best score's size (at least 1): L is
summed in float32 from up to four non-negative terms, so programs whose scores are equal in exact
arithmetic can differ by a few float32 rounding steps (each about 6e-8 of |L|); 1e-6 covers some eight
of them, and a posterior ratio that close to 1 means nothing. The count costs one comparison pass over L
per re-selection (about a tenth of its time); the tied programs are listed (up to TIES_LISTED) only
where there is more than one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import param

from explorer.table import COLUMNS, KINDS, ProgramTable

#: The features a prior weighs, in the order of the rows of Candidates.features (and of W):
#: bits: description length times ln 2 (so a weight of 1 is the simplicity prior 2^-bits);
#: max_compute and avg_compute: as the table reports them; log_steps: ln max(avg_compute, 1), Levin's
#: log2(steps) times ln 2 (a program takes at least one step).
FEATURES = ("bits", "max_compute", "avg_compute", "log_steps")

#: Each prior's weight on each feature, by name; a feature left out has weight 0. A text weight names the
#: PriorSettings parameter that holds it; a number is fixed (Levin's order has no weights of its own).
PRIOR_WEIGHTS: dict[str, dict[str, str | float]] = {
    "simplicity": {"bits": "w_simplicity"},
    "max_speed": {"max_compute": "w_max"},
    "average_speed": {"avg_compute": "w_avg"},
    "combined": {"bits": "w_simplicity", "max_compute": "w_max", "avg_compute": "w_avg"},
    "levin": {"bits": 1.0, "log_steps": 1.0},
}

PRIORS = tuple(PRIOR_WEIGHTS)

#: The names PriorResult.metrics() gives: what story evidence and tour checks may read.
METRIC_NAMES = (
    *(f"posterior.{k}" for k in KINDS), "actually_good", "deploy_perf", "n_candidates",
    "map.index", *(f"map.{c}" for c in COLUMNS), "map.ties",
)

#: Relative tolerance within which a program's log prior ties with the best (see the module docstring).
TIE_RTOL = 1e-6
#: How many tied programs a result lists (the MAP first); `n_ties` counts them all.
TIES_LISTED = 5


class PriorSettings(param.Parameterized):
    """What looks good to training, and the weights of the speed and simplicity penalties."""

    performance_threshold = param.Number(0.9, bounds=(0.0, 1.0), doc="Share of training tasks a program must solve to look good.")
    generalization_check = param.Boolean(
        True, doc="Also require the threshold on held-out tasks before a program looks good (off, lookup tables pass).")
    compute_budget = param.Number(
        None, allow_None=True, bounds=(0.0, None),
        doc="Programs whose max compute exceeds this cannot run at all; none means no budget.")
    w_simplicity = param.Number(1.0, bounds=(0.0, 100.0), doc="Penalty per bit of description length (times ln 2).")
    w_max = param.Number(1.0, bounds=(0.0, 100.0), doc="Penalty per unit of max compute (the max speed prior).")
    w_avg = param.Number(1.0, bounds=(0.0, 100.0), doc="Penalty per unit of average compute (the average-case speed prior).")

    def __init__(self, **params):
        from explorer.params import set_values

        super().__init__()
        set_values(self, params)

    def weights(self) -> np.ndarray:
        """W, shape (len(FEATURES), len(PRIORS)): each prior's weight on each feature, from PRIOR_WEIGHTS."""
        w = np.zeros((len(FEATURES), len(PRIORS)), dtype=np.float64)
        for j, prior in enumerate(PRIORS):
            for feature, weight in PRIOR_WEIGHTS[prior].items():
                w[FEATURES.index(feature), j] = getattr(self, weight) if isinstance(weight, str) else weight
        return w


def looks_good(table: ProgramTable, threshold: float, generalization_check: bool = False, compute_budget: float | None = None):
    """Boolean mask of the programs training would accept (on the table's back end)."""
    mask = table.train_perf >= threshold
    if generalization_check:
        mask = mask & (table.heldout_perf >= threshold)
    if compute_budget is not None:
        mask = mask & (table.max_compute <= compute_budget)
    return mask


def actually_good(table: ProgramTable, threshold: float):
    """Boolean mask of programs that are good, not just good-looking: honest and generalising."""
    return (table.kind == table.kinds.index("honest")) & (table.heldout_perf >= threshold)


@dataclass(frozen=True)
class PriorResult:
    """What one prior selects: its MAP program and posterior summaries.

    `n_ties` counts the programs whose score ties with the MAP's (1 when the MAP is unique, 0 when nothing
    looks good); `ties` lists the first TIES_LISTED of them as table rows, the MAP first, then the others in
    table order."""

    map: dict[str, Any] | None
    mass: dict[str, float]
    actually_good: float
    deploy_perf: float
    n_candidates: int
    n_ties: int = 1
    ties: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "map": None if self.map is None else _brief(self.map),
            "mass": dict(self.mass),
            "actually_good": self.actually_good,
            "deploy_perf": self.deploy_perf,
            "n_candidates": self.n_candidates,
            "n_ties": self.n_ties,
            "ties": [_brief(row) for row in self.ties],
        }

    def metrics(self) -> dict[str, Any]:
        """Flat named metrics, the vocabulary of story evidence: map.kind, posterior.deceptive, ..."""
        out: dict[str, Any] = {f"posterior.{k}": v for k, v in self.mass.items()}
        out.update(actually_good=self.actually_good, deploy_perf=self.deploy_perf, n_candidates=self.n_candidates)
        for k, v in (self.map or {}).items():
            out[f"map.{k}"] = v
        out["map.ties"] = self.n_ties
        if self.map is None:
            out["map.kind"] = None
        return out


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    """A program row as reports and JSON show it."""
    keep = ("index", "kind", "avg_compute", "max_compute", "bits", "train_perf", "heldout_perf", "deploy_perf")
    return {k: row[k] for k in keep}


class Candidates:
    """The programs of a table that look good, with the summaries every re-selection needs."""

    def __init__(self, table: ProgramTable, threshold: float = 0.9, generalization_check: bool = False,
                 compute_budget: float | None = None):
        self.table = table
        self.threshold = threshold
        be = table.backend
        xp = be.xp
        self.index = xp.nonzero(looks_good(table, threshold, generalization_check, compute_budget))[0]
        self.n = int(self.index.shape[0])
        f32 = xp.float32
        sub = table.take(self.index)
        avg = xp.astype(sub.avg_compute, f32)
        columns = {
            "bits": xp.astype(sub.bits * math.log(2.0), f32),
            "max_compute": xp.astype(sub.max_compute, f32),
            "avg_compute": avg,
            "log_steps": xp.log(xp.maximum(avg, xp.ones_like(avg))),
        }
        self.features = xp.stack([columns[f] for f in FEATURES])
        kinds = be.asarray(np.arange(len(table.kinds)))
        onehot = xp.astype(sub.kind[:, None] == kinds[None, :], f32)
        good = xp.astype(actually_good(sub, threshold), f32)
        self.summaries = xp.concat([onehot, good[:, None], xp.astype(sub.deploy_perf, f32)[:, None]], axis=1)

    def select(self, weights: np.ndarray) -> dict[str, PriorResult]:
        """Posterior summaries and MAP program for each column of `weights` (len(FEATURES) x len(PRIORS))."""
        kinds = self.table.kinds
        if self.n == 0:
            empty = PriorResult(None, {k: 0.0 for k in kinds}, 0.0, 0.0, 0, n_ties=0)
            return {p: empty for p in PRIORS}
        be = self.table.backend
        xp = be.xp
        logp = -(be.asarray(weights.T, dtype=xp.float32) @ self.features)
        best = xp.argmax(logp, axis=1)
        top = xp.max(logp, axis=1)[:, None]
        p = xp.exp(logp - top)
        tied = logp >= top - TIE_RTOL * xp.maximum(xp.abs(top), xp.ones_like(top))
        # One count per row: counting along an axis of a 2-D mask costs numpy some seven times as much.
        n_ties = be.to_numpy(xp.stack([xp.count_nonzero(tied[j, :]) for j in range(len(PRIORS))]))
        stats = be.to_numpy(p @ self.summaries).astype(np.float64)
        stats /= stats[:, : len(kinds)].sum(axis=1, keepdims=True)
        maps = [int(r) for r in be.to_numpy(xp.take(self.index, best)).tolist()]
        others = [self._tied_rows(tied[j, :], maps[j]) if n_ties[j] > 1 else [] for j in range(len(PRIORS))]
        row = self._rows({*maps, *(r for rows in others for r in rows)})
        out = {}
        for j, prior in enumerate(PRIORS):
            out[prior] = PriorResult(
                map=row[maps[j]],
                mass={k: float(stats[j, i]) for i, k in enumerate(kinds)},
                actually_good=float(stats[j, len(kinds)]),
                deploy_perf=float(stats[j, len(kinds) + 1]),
                n_candidates=self.n,
                n_ties=int(n_ties[j]),
                ties=tuple(row[r] for r in (maps[j], *others[j])),
            )
        return out

    def _rows(self, rows) -> dict[int, dict[str, Any]]:
        """Table rows as ProgramTable.row gives them, fetched in one take (one transfer per column)."""
        rows = sorted(rows)
        be = self.table.backend
        sub = self.table.take(be.asarray(np.asarray(rows, dtype=np.int64)))
        columns = {c: be.to_numpy(getattr(sub, c)).tolist() for c in COLUMNS}
        out = {}
        for i, r in enumerate(rows):
            values = {c: columns[c][i] for c in COLUMNS}
            values["kind"] = self.table.kinds[int(values["kind"])]
            values["index"] = r
            out[r] = values
        return out

    def _tied_rows(self, tied, map_row: int) -> list[int]:
        """Table rows of the first programs (in table order) that tie with the MAP, the MAP left out.

        Searched in doubling slices from the start: a full `nonzero` over a million candidates of which a
        tenth tie (the max speed prior among lookup tables of equal compute) costs more than the rest of
        the re-selection."""
        be = self.table.backend
        xp = be.xp
        found: list[int] = []
        start, size = 0, 4096
        while start < self.n and len(found) < TIES_LISTED:
            hits = xp.nonzero(tied[start : min(start + size, self.n)])[0]  # (the Array API has no slice past the end)
            hits = hits[: min(TIES_LISTED - len(found), int(hits.shape[0]))]
            found.extend(int(i) for i in be.to_numpy(xp.take(self.index, hits + start)).tolist())
            start, size = start + size, 2 * size
        return [r for r in found if r != map_row][: TIES_LISTED - 1]


def select(table: ProgramTable, settings: PriorSettings | None = None) -> dict[str, PriorResult]:
    """What each prior selects from `table` under `settings` (one-shot; see Candidates for repeats)."""
    settings = settings or PriorSettings()
    cands = Candidates(table, settings.performance_threshold, settings.generalization_check, settings.compute_budget)
    return cands.select(settings.weights())
