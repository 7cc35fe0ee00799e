"""Proposal 2B: the PonderNet loss in the paper's KL direction, halting rules, training, divergence."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from explorer.worlds.neural import halting
from explorer.worlds.neural.halting import (
    HaltingSettings,
    halting_step,
    kl_halting_to_prior,
    log_geometric_prior,
    log_halting_distribution,
)
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import Batch, TaskSettings
from explorer.worlds.neural.training import TrainingDiverged

#: Three steps, lambda_1 = lambda_2 = 1/2 (logit 0), lambda_3 := 1: p = (1/2, 1/4, 1/4).
#: Prior lambda_p = 1/2 truncated at 3: (1/2, 1/4, 1/8) / (7/8) = (4/7, 2/7, 1/7).
P = (1 / 2, 1 / 4, 1 / 4)
PG = (4 / 7, 2 / 7, 1 / 7)


def test_halting_distribution_by_hand():
    log_p = log_halting_distribution(torch.zeros(3, 1, 1))
    torch.testing.assert_close(log_p.exp()[:, 0, 0], torch.tensor(P))
    lam = torch.tensor([0.2, 0.6, 0.9])
    p = log_halting_distribution(torch.logit(lam)[:, None]).exp()[:, 0]
    torch.testing.assert_close(p, torch.tensor([0.2, 0.8 * 0.6, 0.8 * 0.4]))  # the last step takes what is left


def test_geometric_prior_is_truncated_and_renormalised():
    torch.testing.assert_close(log_geometric_prior(torch.tensor([0.5]), 3).exp()[:, 0], torch.tensor(PG))
    assert float(log_geometric_prior(torch.tensor([0.1]), 40).exp().sum()) == pytest.approx(1.0, abs=1e-6)


def test_kl_is_the_papers_direction_not_the_reverse():
    paper = sum(p * math.log(p / g) for p, g in zip(P, PG))  # KL(p || p_G)
    reverse = sum(g * math.log(g / p) for p, g in zip(P, PG))  # KL(p_G || p)
    assert abs(paper - reverse) > 1e-3  # a case where the two directions differ
    log_p = log_halting_distribution(torch.zeros(3, 1, 1))
    log_pg = log_geometric_prior(torch.tensor([0.5]), 3)
    got = float(kl_halting_to_prior(log_p, log_pg))
    assert got == pytest.approx(paper, rel=1e-5)
    # what nn.KLDivLoss(log p, p_G) computes, as in two public implementations: the reverse
    kldiv = float(nn.KLDivLoss(reduction="sum")(log_p[:, 0, 0], log_pg[:, 0].exp()))
    assert kldiv == pytest.approx(reverse, rel=1e-5) and got != pytest.approx(kldiv, rel=1e-3)


@given(st.lists(st.floats(-6, 6), min_size=2, max_size=8), st.floats(0.05, 0.95))
@settings(max_examples=40, deadline=None)
def test_the_papers_kl_is_a_price_per_expected_step_minus_entropy(logits, lambda_p):
    """KL(p || p_G) = -log(1 - lambda_p) E_p[n] - H(p) + a constant of lambda_p and N (see halting.py)."""
    n = len(logits)
    log_p = log_halting_distribution(torch.tensor(logits, dtype=torch.float64)[:, None, None])[:, 0, 0]
    lam = torch.tensor([lambda_p], dtype=torch.float64)
    log_pg = log_geometric_prior(lam, n).double()
    kl = float(kl_halting_to_prior(log_p[:, None, None], log_pg))
    p = log_p.exp()
    steps = torch.arange(1, n + 1, dtype=torch.float64)
    entropy = -float((p * log_p).sum())
    const = -math.log(lambda_p) + math.log(1 - lambda_p) + math.log(1 - (1 - lambda_p) ** n)
    assert kl == pytest.approx(-math.log(1 - lambda_p) * float((p * steps).sum()) - entropy + const, abs=1e-4)


def test_halting_rules():
    log_p = torch.log(torch.tensor(P))[:, None]
    assert halting_step(log_p, "threshold", 0.5).tolist() == [1]
    assert halting_step(log_p, "threshold", 0.7).tolist() == [2]
    assert halting_step(log_p, "threshold", 0.99).tolist() == [3]
    many = torch.log(torch.tensor(P))[:, None].expand(3, 20_000)
    steps = halting_step(many, "sample", generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(steps, minlength=4)[1:].float() / 20_000
    torch.testing.assert_close(freq, torch.tensor(P), atol=0.02, rtol=0)


TINY = {"hidden": 16, "max_steps": 6, "batch_size": 64, "train_steps": 500, "learning_rate": 1e-2, "lambda_p": 0.8}


@pytest.fixture(scope="module")
def tiny_sweep():
    task = TaskSettings(size=4, eval_per_difficulty=64)
    members = Members.sweep({"beta": [0.0, 1.0]}, networks=4)
    return halting.train(task, HaltingSettings(**TINY), members)


def test_a_larger_beta_halts_sooner(tiny_sweep):
    run = tiny_sweep
    free, pulled = (run.measurement.summary(run.members.of_point(g)) for g in range(2))
    assert pulled["mean_steps"] < free["mean_steps"] - 0.5
    assert pulled["mean_steps"] < 2.0  # the prior's mean is 1 / 0.8 steps
    assert run.losses.shape == (TINY["train_steps"], 4) and bool(torch.isfinite(run.losses).all())


def test_networks_learn_and_the_report_covers_every_difficulty(tiny_sweep):
    run = tiny_sweep
    for g in range(2):
        summary = run.measurement.summary(run.members.of_point(g))
        assert summary["accuracy"] > 0.8 and summary["networks"] == 2
        assert [r["difficulty"] for r in summary["by_difficulty"]] == [1, 2, 3, 4]
        assert [r["heldout"] for r in summary["by_difficulty"]] == [False, False, False, True]
        assert 1 <= summary["mean_steps"] <= summary["max_steps"] <= TINY["max_steps"]


class _CorruptedTask(TaskSettings):
    """Gives infinite inputs from its `bad_from`-th batch on: the loss turns NaN there."""

    calls = 0

    def sample(self, generator, batch_size, difficulties=None):
        b = super().sample(generator, batch_size, difficulties)
        type(self).calls += 1
        return Batch(b.x * float("inf"), b.y, b.difficulty) if type(self).calls >= 7 else b


def test_a_diverging_run_stops_with_a_message_naming_the_proposal_and_step():
    task = _CorruptedTask(size=4, eval_per_difficulty=8)
    settings = HaltingSettings(hidden=4, max_steps=3, batch_size=8, train_steps=20, check_every=5)
    with pytest.raises(TrainingDiverged, match=r"^halt: the training loss became nan at step 7 for network 0 \(beta=0\.1\)"):
        halting.train(task, settings, Members.sweep({"beta": [0.1]}))
