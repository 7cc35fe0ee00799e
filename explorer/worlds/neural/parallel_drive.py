"""The essay's caveat on parallel computation, measured on the planted drive: serial steps against total work.

Pondering and learned halting charge a network for the steps it runs one after another (serial depth).
A drive that runs alongside the task, in units of the recurrent state the task leaves idle, costs few
extra steps (explorer.worlds.neural.misbehaviour), so such a prior hardly sees it. A prior that charged
all the work done would also count the width the drive occupies. Here both are measured on the same
networks: drive (mu > 0) and drive-free (mu = 0) step networks of several widths (halting.py's `width`,
units of the state a network may use) train as one batch, and each is charged

- serial steps: the mean ponder steps its halting rule runs (what learned halting and pondering count);
- total work: multiply-adds per example of a GRU of its width, 3 w n_in for the input gates (once per
  example), then per step 3 w^2 for the recurrent gates and w (outputs) for the heads, where a
  drive-free network is charged only the inputs and outputs its task uses and a drive network also the
  drive's inputs and its head.

The least width at which each kind is good (task accuracy >= threshold on the training difficulties,
and for the drive networks the drive surviving: its accuracy >= drive_survives) is where a prior that
picks the cheapest good network would find it; comparing the two kinds there, counted either way,
says whether the drive hides from a serial-only charge and shows under a total-work one.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.worlds.neural.misbehaviour import Drive
from explorer.worlds.neural.sweep import Members


@dataclass(frozen=True)
class WorkModel:
    """The sizes that fix a step network's multiply-adds (see multiply_adds)."""

    task_inputs: int
    drive_inputs: int
    task_outputs: int  # answer logits + the halting logit
    drive_outputs: int

    def multiply_adds(self, width: int, steps: float, drive: bool) -> float:
        """Multiply-adds per example of a GRU of `width` units running `steps` steps."""
        n_in = self.task_inputs + (self.drive_inputs if drive else 0)
        outputs = self.task_outputs + (self.drive_outputs if drive else 0)
        return 3 * width * n_in + steps * (3 * width * width + width * outputs)


#: The compute unit of a run counted as total work (as_work).
WORK_UNIT = "work (full-width steps)"


def work_model(run) -> WorkModel:
    """The sizes of `run`'s step networks (a drive's inputs and head count only where one is planted)."""
    drive = run.drive
    return WorkModel(run.task.n_inputs, drive.extra_inputs if drive else 0, run.task.n_classes + 1, drive.n_classes if drive else 0)


def member_widths(run) -> list[int]:
    """Units of the recurrent state each network of `run` used."""
    hidden = run.settings.hidden
    widths = run.members.tensors(run.settings, "cpu")["width"].tolist()
    return [int(w) if 0 < w < hidden else hidden for w in widths]


def as_work(run):
    """`run` with its compute counted as total work: each example's multiply-adds (multiply_adds), in steps of
    a full-width drive-free network (3 hidden^2 + hidden (task outputs) multiply-adds), so a full-width
    network's work is its steps plus the input gates' share. Steps needed and expected are converted alike."""
    import dataclasses

    import torch

    model, hidden = work_model(run), run.settings.hidden
    unit = 3 * hidden * hidden + hidden * model.task_outputs
    planted = run.drive_planted.tolist()
    once = torch.tensor([model.multiply_adds(w, 0.0, d) for w, d in zip(member_widths(run), planted)])[:, None] / unit
    per_step = torch.tensor([model.multiply_adds(w, 1.0, d) for w, d in zip(member_widths(run), planted)])[:, None] / unit - once
    m = run.measurement
    convert = (lambda t: None if t is None else once + per_step * t.float())
    measurement = dataclasses.replace(m, steps=convert(m.steps), needed=convert(m.needed), expected=convert(m.expected))
    return dataclasses.replace(run, measurement=measurement, unit=WORK_UNIT)


def parameters_at_width(run) -> list[int]:
    """Parameters each network of `run` uses: a GRU of its width with the batch's inputs and heads."""
    n_in = run.network.input.weight.shape[1]
    outs = run.network.head.weight.shape[2]
    return [3 * w * (n_in + 1) + 3 * w * (w + 1) + (w + 1) * outs for w in member_widths(run)]


def train(task, settings, widths: list[int], mu: float = 1.0, networks_per_point: int = 1, device="cpu",
          progress=None):
    """Drive and drive-free step networks at each width, one batched run (halting.train); returns the run."""
    from explorer.worlds.neural import halting

    members = Members.sweep({"width": [float(w) for w in widths], "mu": [0.0, float(mu)]},
                            networks=2 * len(widths) * networks_per_point)
    return halting.train(task, settings, members, device=device, drive=Drive(task), progress=progress)


def report(run, threshold: float = 0.9, drive_survives: float = 0.75) -> dict:
    """Per width, each kind's accuracy, steps and work; the least good width of each; what the two charges show."""
    m, members = run.measurement, run.members
    model = work_model(run)
    hidden = run.settings.hidden
    by_width: dict[int, dict] = {}
    for g, values in enumerate(members.grid):
        point = dict(zip(members.names, values))
        width = int(point["width"]) or hidden
        drive = point["mu"] > 0
        s = m.summary(members.of_point(g))
        side = {"accuracy": s["accuracy"], "steps": s["mean_steps"], "expected_steps": s.get("expected_steps"),
                "work": model.multiply_adds(width, s["mean_steps"], drive)}
        if drive:
            side["drive_accuracy"] = s.get("drive_accuracy")
        by_width.setdefault(width, {"width": width})["drive" if drive else "plain"] = side
    rows = []
    for width in sorted(by_width):
        row = by_width[width]
        plain, drive = row["plain"], row["drive"]
        row["plain"]["good"] = plain["accuracy"] >= threshold
        row["drive"]["good"] = drive["accuracy"] >= threshold and (drive["drive_accuracy"] or 0.0) >= drive_survives
        row["extra_steps"] = drive["steps"] - plain["steps"]
        row["extra_work"] = drive["work"] - plain["work"]
        rows.append(row)
    least = {side: next((r for r in rows if r[side]["good"]), None) for side in ("plain", "drive")}
    out = {"threshold": threshold, "drive_survives": drive_survives, "hidden": hidden, "rows": rows,
           "least_good_width": {side: r["width"] if r else None for side, r in least.items()}}
    if least["plain"] and least["drive"]:
        plain, drive = least["plain"]["plain"], least["drive"]["drive"]
        out["serial"] = {"plain": plain["steps"], "drive": drive["steps"], "extra": drive["steps"] - plain["steps"],
                         "ratio": drive["steps"] / plain["steps"]}
        out["work"] = {"plain": plain["work"], "drive": drive["work"], "extra": drive["work"] - plain["work"],
                       "ratio": drive["work"] / plain["work"]}
    out["finding"] = finding(out)
    return out


def finding(out: dict) -> str:
    """What the two charges show, in words, from the measured figures."""
    least = out["least_good_width"]
    if least["plain"] is None:
        return "No drive-free network is good at any width tried, so there is nothing to compare; train longer or wider."
    if least["drive"] is None:
        return (f"No drive network is good with its drive surviving at any width tried (the drive-free ones are from "
                f"width {least['plain']}); the drive does not survive here, so neither charge has a drive to see.")
    serial, work = out["serial"], out["work"]
    wider = least["drive"] > least["plain"]
    where = (f"the drive needs width {least['drive']} where the task alone needs {least['plain']}" if wider else
             f"the drive fits in the width the task needs anyway ({least['plain']})")
    more = "more" if work["ratio"] > serial["ratio"] else "no more"
    return (f"Counted in serial steps the drive costs {serial['extra']:+.2f} steps ({serial['ratio']:.2f}x); counted as "
            f"total work {work['ratio']:.2f}x the multiply-adds: {where}, so a charge on all work sees {more} of it "
            f"than one on serial steps.")
