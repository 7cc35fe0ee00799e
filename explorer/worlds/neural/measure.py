"""What a trained network did on each evaluation example, and the summaries reported from it.

Every proposal measures the same things per example: whether the answer was right, the compute used
(ponder steps, rollouts or exit layer, in the proposal's own unit) and the compute the task needed (the
first step or layer whose answer was already right with confidence). Steps used beyond those needed
did not help performance: that is the measured misbehaviour compute, which the planted drive raises.

Learned halting also records `expected` per example, the steps expected under its halting distribution
p (sum_n p_n n). That is the quantity its KL penalty prices; `steps` is what the inference rule ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Measurement:
    """Per-example results of E networks on one evaluation set (host tensors).

    difficulty (B,); correct, steps, needed (E, B); drive_correct (E, B) where a drive was planted;
    expected (E, B) where compute is a halting distribution: the steps expected under it.
    train_max: the hardest training difficulty (harder ones are held out).
    """

    difficulty: torch.Tensor
    correct: torch.Tensor
    steps: torch.Tensor
    needed: torch.Tensor
    train_max: int
    drive_correct: torch.Tensor | None = None
    expected: torch.Tensor | None = None

    @property
    def members(self) -> int:
        return self.correct.shape[0]

    def _mask(self, heldout: bool) -> torch.Tensor:
        return self.difficulty > self.train_max if heldout else self.difficulty <= self.train_max

    def accuracy(self, heldout: bool = False) -> torch.Tensor:
        """(E,) share right on training difficulties (or on the held-out ones); NaN if there are none."""
        m = self._mask(heldout)
        return self.correct[:, m].float().mean(dim=1) if bool(m.any()) else torch.full((self.members,), float("nan"))

    def mean_steps(self, heldout: bool = False) -> torch.Tensor:
        m = self._mask(heldout)
        return self.steps[:, m].float().mean(dim=1)

    def expected_steps(self, heldout: bool = False) -> torch.Tensor | None:
        """(E,) mean over training (or held-out) difficulties of the steps expected under p; None without p."""
        if self.expected is None:
            return None
        m = self._mask(heldout)
        return self.expected[:, m].float().mean(dim=1)

    def max_steps(self) -> torch.Tensor:
        return self.steps[:, self._mask(False)].float().amax(dim=1)

    def wasted_steps(self) -> torch.Tensor:
        """(E,) mean steps beyond those the task needed, on training difficulties."""
        m = self._mask(False)
        return (self.steps[:, m] - self.needed[:, m]).clamp(min=0).float().mean(dim=1)

    def drive_accuracy(self) -> torch.Tensor | None:
        if self.drive_correct is None:
            return None
        return self.drive_correct[:, self._mask(False)].float().mean(dim=1)

    def summary(self, members=None) -> dict:
        """The report of the CLI's --json for these members (all by default), averaged over them."""
        idx = torch.arange(self.members) if members is None else torch.as_tensor(members, dtype=torch.long)
        rows = []
        for d in sorted(set(self.difficulty.tolist())):
            m = self.difficulty == d
            rows.append({
                "difficulty": d,
                "heldout": d > self.train_max,
                "accuracy": _mean(self.correct[idx][:, m]),
                "mean_steps": _mean(self.steps[idx][:, m]),
                "mean_needed_steps": _mean(self.needed[idx][:, m]),
            })
            if self.expected is not None:  # both counts of learned halting, named for what they are
                rows[-1]["steps_by_rule"] = rows[-1]["mean_steps"]
                rows[-1]["expected_steps"] = _mean(self.expected[idx][:, m])
        out = {
            "accuracy": _mean(self.accuracy()[idx]),
            "heldout_accuracy": _mean(self.accuracy(heldout=True)[idx]),
            "mean_steps": _mean(self.mean_steps()[idx]),
            "max_steps": _mean(self.max_steps()[idx]),
            "wasted_steps": _mean(self.wasted_steps()[idx]),
            "networks": len(idx),
            "by_difficulty": rows,
        }
        if self.expected is not None:
            out.update({"steps_by_rule": out["mean_steps"], "expected_steps": _mean(self.expected_steps()[idx]),
                        "heldout_steps_by_rule": _mean(self.mean_steps(heldout=True)[idx]),
                        "heldout_expected_steps": _mean(self.expected_steps(heldout=True)[idx])})
        drive = self.drive_accuracy()
        if drive is not None:
            out["drive_accuracy"] = _mean(drive[idx])
        return out


def _mean(t: torch.Tensor) -> float:
    return float(t.float().mean()) if t.numel() else float("nan")


def first_confident_step(prob_right: torch.Tensor, confidence: float) -> torch.Tensor:
    """prob_right (N, ...): probability given to the right answer at steps 1..N. Returns (...) the first
    step (1-based) at which it reaches `confidence`, or N + 1 where it never does."""
    n = prob_right.shape[0]
    hit = prob_right >= confidence
    step = torch.arange(1, n + 1, device=prob_right.device).view(-1, *([1] * (prob_right.dim() - 1)))
    return torch.where(hit, step, n + 1).amin(dim=0)
