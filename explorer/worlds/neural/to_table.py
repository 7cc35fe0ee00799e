"""Trained networks as programs: every network of a run becomes one row of a ProgramTable.

So the priors, views and stories of the other worlds apply to real networks unchanged. Every column is
measured on the evaluation set (explorer.worlds.neural.measure):

- kind: goof_off when a drive was planted and survives (its accuracy at the halting step reaches
  `drive_survives`; chance is 0.5); else lookup when the network fits the training difficulties
  (train_perf >= threshold) but fails the held-out harder ones; else honest (it generalises, or it fails
  training too and so never looks good to any prior). No network here is labelled deceptive: none of
  them behaves differently in deployment.
- bits: parameters of one network x bits_per_parameter, a size proxy for description length (not a
  measured code length); the step network and any predictor count together.
- avg_compute, max_compute: mean and largest compute over training-difficulty examples, in the run's
  own unit (ponder steps, rollouts or exit layer; for learned halting counted as total work,
  parallel_drive.as_work, multiply-adds in steps of a full-width network).
- train_perf, heldout_perf: accuracy on training and on held-out difficulties (held-out falls back to
  training when nothing is held out); deploy_perf: accuracy over all difficulties, as deployment meets both.
- misbehaviour_compute: mean steps spent after the answer was already right with confidence.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from explorer.backend import get_backend
from explorer.table import KINDS, ProgramTable


def to_table(runs: Iterable, threshold: float = 0.9, drive_survives: float = 0.75, bits_per_parameter: float = 16.0,
             backend: str = "numpy") -> ProgramTable:
    """One row per network of each run (anything with measurement, parameters_per_network, drive_planted).

    Tables mix runs of one compute unit meaningfully only: ponder steps, rollouts and exit layers are
    each their own unit (a run's `unit`)."""
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("kind", "bits", "avg_compute", "max_compute", "train_perf",
                                                          "heldout_perf", "deploy_perf", "misbehaviour_compute")}
    for run in runs:
        m = run.measurement
        train = m.accuracy().numpy()
        held = m.accuracy(heldout=True).numpy()
        held = np.where(np.isnan(held), train, held)
        deploy = m.correct.float().mean(dim=1).numpy()
        planted = np.asarray(run.drive_planted, dtype=bool)
        drive = m.drive_accuracy()
        survives = planted & (drive.numpy() >= drive_survives) if drive is not None else np.zeros_like(planted)
        kind = np.where(survives, KINDS.index("goof_off"),
                        np.where((train >= threshold) & (held < threshold), KINDS.index("lookup"), KINDS.index("honest")))
        cols["kind"].append(kind)
        params = np.asarray(run.parameters_per_network, dtype=np.float64)
        cols["bits"].append(np.broadcast_to(params * bits_per_parameter, (m.members,)).copy())
        cols["avg_compute"].append(m.mean_steps().numpy())
        cols["max_compute"].append(m.max_steps().numpy())
        cols["train_perf"].append(train)
        cols["heldout_perf"].append(held)
        cols["deploy_perf"].append(deploy)
        cols["misbehaviour_compute"].append(m.wasted_steps().numpy())
    be = get_backend(backend)
    host = {c: np.concatenate(v) if v else np.zeros(0) for c, v in cols.items()}
    host["kind"] = host["kind"].astype(np.int64)
    return ProgramTable(backend=be, **{c: be.asarray(v) for c, v in host.items()})
