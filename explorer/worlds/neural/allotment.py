"""The essay's caveat on manipulating the compute allotment, measured on the planted drive.

Under learned halting the network chooses its own exit: its halting distribution is trained with the
rest of it, and the drive's loss sits inside PonderNet's expectation over the halting step, so a drive
that needs more steps than the task gains from exiting later, and the network can grant it them, paying
only the penalty beta puts on expected steps. Under the essay's offline predictor
(explorer.worlds.neural.rollout_predictor) the steps are fixed per input in advance, from the task
answer alone: the first step at which the frozen network already gives the right task answer with
confidence; its halting head is ignored, so delaying the exit buys the drive nothing. (Proposal 3's
early exit, as built, exits at the first confident task head and its loss does not depend on where an
example exits, so a drive there has no exit to push; learned halting is where the network chooses.)

Drive (mu > 0) and drive-free (mu = 0) step networks train as one batch; a predictor is then trained for
each. Each allotment is measured on the same evaluation set: steps run, task accuracy, and the drive's
accuracy at the step where the allotment stops (0.5 is chance). The steps the drive obtains are the
drive networks' mean steps minus the drive-free ones', and its share of compute is that over the drive
networks' steps. Each side's `needed_steps` (the first step whose task answer is right with confidence,
on training difficulties) is what the predictor learns to allot.
"""

from __future__ import annotations

from explorer.worlds.neural.misbehaviour import Drive
from explorer.worlds.neural.sweep import Members

#: The two allotments compared: the network's own halting, and the offline predictor's.
ALLOTMENTS = ("halting", "predictor")


def train(task, settings, predictor_settings=None, mu: float = 1.0, networks_per_point: int = 1, device="cpu",
          progress=None):
    """Train drive and drive-free step networks (one batch), then a predictor for each.

    Returns (the run, the predictor's Measurement of the same networks)."""
    from explorer.worlds.neural import halting
    from explorer.worlds.neural.rollout_predictor import PredictorSettings, train_predictor

    members = Members.sweep({"mu": [0.0, float(mu)]}, networks=2 * networks_per_point)
    run = halting.train(task, settings, members, device=device, drive=Drive(task), progress=progress)
    predictor_settings = predictor_settings or PredictorSettings(seed=settings.seed)
    _, predicted = train_predictor(run, predictor_settings, progress=progress)
    return run, predicted


def report(run, predicted) -> dict:
    """Per allotment: what the drive and drive-free networks ran and got, and the steps the drive obtains."""
    members = run.members
    groups = {("drive" if dict(zip(members.names, values))["mu"] > 0 else "plain"): members.of_point(g)
              for g, values in enumerate(members.grid)}
    out: dict = {"beta": run.settings.beta, "mu": max(v[0] for v in members.grid), "networks": members.count}
    for name, measurement in zip(ALLOTMENTS, (run.measurement, predicted)):
        sides = {}
        for side, idx in groups.items():
            s = measurement.summary(idx)
            train = measurement.difficulty <= measurement.train_max
            needed = measurement.needed[idx][:, train].clamp(max=run.settings.max_steps)
            sides[side] = {"accuracy": s["accuracy"], "steps": s["mean_steps"], "max_steps": s["max_steps"],
                           "needed_steps": float(needed.float().mean()),
                           "drive_accuracy": s.get("drive_accuracy") if side == "drive" else None}
            if "expected_steps" in s:
                sides[side]["expected_steps"] = s["expected_steps"]
        extra = sides["drive"]["steps"] - sides["plain"]["steps"]
        out[name] = {**sides, "extra_steps": extra, "drive_share": extra / sides["drive"]["steps"]}
    out["finding"] = finding(out)
    return out


def finding(out: dict) -> str:
    """What the two allotments show, in words, from the measured figures."""
    halt, pred = out["halting"], out["predictor"]
    gains = halt["extra_steps"] > pred["extra_steps"]
    text = (f"Choosing its own exit, the drive network runs {halt['extra_steps']:+.2f} steps against the drive-free one "
            f"({100 * halt['drive_share']:.0f}% of its steps), its drive right {halt['drive']['drive_accuracy']:.3f}; "
            f"allotted by the offline predictor, {pred['extra_steps']:+.2f} steps "
            f"({100 * pred['drive_share']:.0f}%), its drive right {pred['drive']['drive_accuracy']:.3f}. ")
    text += ("The drive gains steps where the network picks its exit, and fewer where the allotment is fixed in advance."
             if gains else "The drive gains no more steps where the network picks its exit than under the fixed allotment.")
    if pred["extra_steps"] > 0:
        text += (f" What the predictor still grants follows the task: the drive network's task answer is first right with "
                 f"confidence after {pred['drive']['needed_steps']:.2f} steps against {pred['plain']['needed_steps']:.2f} "
                 f"without the drive, and the predictor learns those steps.")
    return text
