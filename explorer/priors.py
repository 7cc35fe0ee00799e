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
ln max(avg compute, 1)), and a summary matrix G, one row per summary (one-hot kind, actually_good, deploy_perf). For the
weight matrix W (len(FEATURES) x len(PRIORS), built from PRIOR_WEIGHTS by `PriorSettings.weights()`),
one re-selection is

    L = -F W,   P = exp(L - max L),   stats = P G^T / sum P,   MAP = argmax L

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
    columns = {c: getattr(table, c) for c in ("train_perf", "heldout_perf", "max_compute")}
    return _looks_good(columns, threshold, generalization_check, compute_budget)


def _looks_good(columns: dict, threshold: float, generalization_check: bool, compute_budget: float | None):
    mask = columns["train_perf"] >= threshold
    if generalization_check:
        mask = mask & (columns["heldout_perf"] >= threshold)
    if compute_budget is not None:
        mask = mask & (columns["max_compute"] <= compute_budget)
    return mask


def _unchanged_kinds(previous: Candidates | None, table: ProgramTable, columns) -> set[int]:
    """The kinds whose rows of `columns` hold the same values in `table` as in the previous Candidates' table."""
    if previous is None:
        return set()
    kinds = range(len(table.kinds))
    if all(getattr(previous.table, c) is getattr(table, c) for c in columns):
        return set(kinds)
    before, now = previous.table.kind_labels, table.kind_labels
    if before is None or now is None or before[0] != now[0]:
        return set()
    return {k for k in kinds if all(before[1][c][k] == now[1][c][k] for c in columns)}


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


def row_sources(kinds: tuple[str, ...] = KINDS) -> dict[str, tuple[str, ...]]:
    """Where each row of Candidates.features and .summaries comes from: the table columns it reads (the
    features first, in FEATURES order, then the summaries: a one-hot row per kind, actually_good, deploy_perf)."""
    return {"bits": ("bits",), "max_compute": ("max_compute",), "avg_compute": ("avg_compute",),
            "log_steps": ("avg_compute",), **{f"kind.{k}": ("kind",) for k in kinds},
            "actually_good": ("kind", "heldout_perf"), "deploy_perf": ("deploy_perf",)}


@dataclass(frozen=True)
class Block:
    """The candidates of one kind: their table rows (in table order), their rows of `row_sources`, and these
    stacked as the features (len(FEATURES) x n) and summaries (one row per other source) a selection reads."""

    index: Any
    rows: dict[str, Any]
    features: Any
    summaries: Any

    @classmethod
    def of(cls, xp, index, rows: dict) -> Block:
        """`rows` in `row_sources` order."""
        return cls(index, rows, xp.stack([rows[f] for f in FEATURES]),
                   xp.stack([row for name, row in rows.items() if name not in FEATURES]))


class Candidates:
    """The programs of a table that look good, with the summaries every re-selection needs.

    They are held in blocks, one per kind, so that a world slider's rebuild, which changes one kind's rows
    (explorer.worlds.abstract_kept), is filtered again for that kind alone: given the `previous`
    Candidates of a table that shares rows with this one (the same column arrays, or equal
    ProgramTable.kind_labels), a block whose filter columns did not change keeps its candidates, and a
    row of its features and summaries is taken again only when a column it reads changed. `index`,
    `features` and `summaries` are the blocks one after another, in kind order."""

    def __init__(self, table: ProgramTable, threshold: float = 0.9, generalization_check: bool = False,
                 compute_budget: float | None = None, previous: Candidates | None = None):
        self.table = table
        self.threshold = threshold
        self.filter = (threshold, generalization_check, compute_budget)
        xp = table.backend.xp
        self._reads = ("train_perf", *(["heldout_perf"] if generalization_check else []),
                       *(["max_compute"] if compute_budget is not None else []))
        if previous is not None and (previous.filter != self.filter or previous.table.kind is not table.kind
                                     or previous.table.kinds != table.kinds):
            previous = None
        kinds = range(len(table.kinds))
        sources = row_sources(table.kinds)
        self._kind_rows = list(previous._kind_rows) if previous is not None else [None for _ in kinds]
        keep_index = _unchanged_kinds(previous, table, self._reads)
        whole = previous is None or not keep_index  # nothing to keep: filter the whole table at once
        split = self._split(xp, looks_good(table, threshold, generalization_check, compute_budget)) if whole else None
        self.blocks = []
        for k in kinds:
            if k in keep_index:
                index = previous.blocks[k].index
            else:
                index = split[k] if whole else self._filter_kind(xp, k)
            same = {name for name, reads in sources.items() if k in keep_index
                    and k in _unchanged_kinds(previous, table, reads)}
            if len(same) == len(sources):
                self.blocks.append(previous.blocks[k])
            else:
                kept = {name: previous.blocks[k].rows[name] for name in same}
                self.blocks.append(Block.of(xp, index, self._block_rows(xp, index, kept)))
        self.n = sum(int(b.index.shape[0]) for b in self.blocks)

    @property
    def index(self):
        """Every candidate's table row, block after block (kind order)."""
        return self.table.backend.xp.concat([b.index for b in self.blocks])

    @property
    def features(self):
        """len(FEATURES) x n, in the order of `index`."""
        return self.table.backend.xp.concat([b.features for b in self.blocks], axis=1)

    @property
    def summaries(self):
        """One row per summary (one-hot kind, actually_good, deploy_perf) x n, in the order of `index`."""
        return self.table.backend.xp.concat([b.summaries for b in self.blocks], axis=1)

    def _split(self, xp, mask) -> list:
        """The looks-good rows of each kind, from the whole table's mask."""
        index = xp.nonzero(mask)[0]
        kind = xp.take(self.table.kind, index)
        return [xp.take(index, xp.nonzero(kind == k)[0]) for k in range(len(self.table.kinds))]

    def _filter_kind(self, xp, k: int):
        """The looks-good rows of kind k, from its rows alone."""
        if self._kind_rows[k] is None:
            self._kind_rows[k] = xp.nonzero(self.table.kind == k)[0]
        rows = self._kind_rows[k]
        threshold, check, budget = self.filter
        mask = _looks_good({c: xp.take(getattr(self.table, c), rows) for c in self._reads}, threshold, check, budget)
        return xp.take(rows, xp.nonzero(mask)[0])

    def _block_rows(self, xp, index, kept: dict) -> dict:
        """The rows of `row_sources` for the candidates at `index` (float32, in its order), taking only those
        not `kept`."""
        f32 = xp.float32
        taken: dict = {}

        def column(name):
            if name not in taken:
                taken[name] = xp.take(getattr(self.table, name), index)
            return taken[name]

        rows = dict(kept)
        if "bits" not in rows:
            rows["bits"] = xp.astype(column("bits") * math.log(2.0), f32)
        if "avg_compute" not in rows or "log_steps" not in rows:
            avg = rows["avg_compute"] = xp.astype(column("avg_compute"), f32)
            rows["log_steps"] = xp.log(xp.maximum(avg, xp.ones_like(avg)))
        if "max_compute" not in rows:
            rows["max_compute"] = xp.astype(column("max_compute"), f32)
        for i, k in enumerate(self.table.kinds):
            if f"kind.{k}" not in rows:
                rows[f"kind.{k}"] = xp.astype(column("kind") == i, f32)
        if "actually_good" not in rows:
            honest = column("kind") == self.table.kinds.index("honest")
            rows["actually_good"] = xp.astype(honest & (column("heldout_perf") >= self.threshold), f32)
        if "deploy_perf" not in rows:
            rows["deploy_perf"] = xp.astype(column("deploy_perf"), f32)
        return {name: rows[name] for name in row_sources(self.table.kinds)}  # in order: Block stacks them so

    def select(self, weights: np.ndarray) -> dict[str, PriorResult]:
        """Posterior summaries and MAP program for each column of `weights` (len(FEATURES) x len(PRIORS))."""
        kinds = self.table.kinds
        if self.n == 0:
            empty = PriorResult(None, {k: 0.0 for k in kinds}, 0.0, 0.0, 0, n_ties=0)
            return {p: empty for p in PRIORS}
        be = self.table.backend
        xp = be.xp
        w = be.asarray(weights.T, dtype=xp.float32)
        blocks = [b for b in self.blocks if int(b.index.shape[0])]
        logps = [-(w @ b.features) for b in blocks]
        maps, top = self._maps(blocks, logps)
        tolerance = TIE_RTOL * xp.maximum(xp.abs(top), xp.ones_like(top))
        stats, n_ties, tied = 0.0, np.zeros(len(PRIORS), dtype=np.int64), []
        for b, logp in zip(blocks, logps):
            p = xp.exp(logp - top)
            stats = stats + be.to_numpy(p @ xp.permute_dims(b.summaries, (1, 0))).astype(np.float64)
            tied.append(logp >= top - tolerance)
            # One count per row: counting along an axis of a 2-D mask costs numpy some seven times as much.
            n_ties += be.to_numpy(xp.stack([xp.count_nonzero(tied[-1][j, :]) for j in range(len(PRIORS))]))
        stats /= stats[:, : len(kinds)].sum(axis=1, keepdims=True)
        others = [self._tied_rows(blocks, [t[j, :] for t in tied], maps[j]) if n_ties[j] > 1 else []
                  for j in range(len(PRIORS))]
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

    def _maps(self, blocks: list[Block], logps: list) -> tuple[list[int], Any]:
        """Each prior's MAP (a table row) and best score (a column, on the back end). Each block is in table
        order, so its argmax is its first best; of the blocks that reach the best score, the MAP is the
        first in table order."""
        be = self.table.backend
        xp = be.xp
        tops = xp.stack([xp.max(logp, axis=1) for logp in logps])
        rows = np.stack([be.to_numpy(xp.take(b.index, xp.argmax(logp, axis=1))) for b, logp in zip(blocks, logps)])
        tops_host = be.to_numpy(tops)
        best = tops_host.max(axis=0)
        maps = [int(rows[tops_host[:, j] == best[j], j].min()) for j in range(len(PRIORS))]
        return maps, xp.max(tops, axis=0)[:, None]

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

    def _tied_rows(self, blocks: list[Block], tied: list, map_row: int) -> list[int]:
        """Table rows of the first programs (in table order) that tie with the MAP, the MAP left out; `tied`
        holds each block's tie mask.

        Searched in doubling slices from the start of each block: a full `nonzero` over a million candidates
        of which a tenth tie (the max speed prior among lookup tables of equal compute) costs more than the
        rest of the re-selection."""
        be = self.table.backend
        xp = be.xp
        found: list[int] = []
        for block, mask in zip(blocks, tied):
            end = int(block.index.shape[0])
            start, size, here = 0, 4096, 0
            while start < end and here < TIES_LISTED:
                hits = xp.nonzero(mask[start : min(start + size, end)])[0]  # (the Array API has no slice past the end)
                hits = hits[: min(TIES_LISTED - here, int(hits.shape[0]))]
                found.extend(int(i) for i in be.to_numpy(xp.take(block.index, hits + start)).tolist())
                here += int(hits.shape[0])
                start, size = start + size, 2 * size
        return [r for r in sorted(found) if r != map_row][: TIES_LISTED - 1]


def select(table: ProgramTable, settings: PriorSettings | None = None) -> dict[str, PriorResult]:
    """What each prior selects from `table` under `settings` (one-shot; see Candidates for repeats)."""
    settings = settings or PriorSettings()
    cands = Candidates(table, settings.performance_threshold, settings.generalization_check, settings.compute_budget)
    return cands.select(settings.weights())
