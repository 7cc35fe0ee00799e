"""The app's training session without a UI: the stop and watch hooks of the training loops, the checked
settings, and a Trainer on its worker thread (done, stopped, diverged, queued)."""

import threading
import time

import pytest
import torch

from explorer.priors import PRIORS
from explorer.errors import ExplorerError
from explorer.worlds.neural import early_exit, growing, halting, pondering
from explorer.worlds.neural.session import SERVED, Trainer
from explorer.worlds.neural.sweep import Members
from explorer.worlds.neural.tasks import Batch, TaskSettings
from explorer.worlds.neural.training import TrainingStopped
from explorer.worlds.neural.world import NeuralWorld as NeuralSetup

TASK = {"size": 4, "eval_per_difficulty": 16}


def _stop_after(n):
    calls = []

    def progress(k):
        calls.append(k)
        if len(calls) >= n:
            raise TrainingStopped(f"after {len(calls)} steps")

    return progress, calls


@pytest.mark.parametrize("fit", [
    lambda p, w: halting.train(TaskSettings(**TASK), halting.HaltingSettings(hidden=4, max_steps=3, batch_size=8, train_steps=500), progress=p, watch=w),
    lambda p, w: early_exit.train(TaskSettings(**TASK), early_exit.EarlyExitSettings(hidden=4, layers=2, batch_size=8, train_steps=500), progress=p, watch=w),
    lambda p, w: pondering.train(TaskSettings(**TASK), pondering.PonderSettings(hidden=4, k_max=2, batch_size=8, train_steps=500), progress=p, watch=w),
    lambda p, w: growing.train(TaskSettings(**TASK), growing.GrowSettings(width_max=4, batch_size=8, train_steps=500), progress=p, watch=w),
], ids=["halt", "early-exit", "ponder", "grow"])
def test_a_progress_callback_stops_every_proposal_at_once_and_the_watcher_hears_each_check(fit):
    progress, calls = _stop_after(120)
    heard = []
    with pytest.raises(TrainingStopped):
        fit(progress, heard.append)
    assert len(calls) == 120  # not one step more
    assert len(heard) == 120 // 50  # check_every = 50
    for snap in heard:
        assert snap.loss.shape == snap.accuracy.shape == snap.compute.shape == (1,)
        assert torch.isfinite(snap.loss).all() and 0 <= float(snap.accuracy) <= 1 and float(snap.compute) >= 1


def test_the_halting_watcher_reports_steps_expected_under_p_per_network():
    heard = []
    settings = halting.HaltingSettings(hidden=8, max_steps=4, batch_size=16, train_steps=100, check_every=25)
    halting.train(TaskSettings(**TASK), settings, Members.sweep({"beta": [0.0, 1.0]}), watch=heard.append)
    assert len(heard) == 4 and heard[0].stage == "halt"
    assert all(s.compute.shape == (2,) and ((s.compute >= 1) & (s.compute <= 4)).all() for s in heard)


def test_the_setup_checks_penalties_and_the_served_limits():
    setup = NeuralSetup(proposal="misbehaviour", penalties="0.001, 0.01, 0.01")
    job = setup.job()
    assert job.members.count == 4 and job.point_labels()[:2] == ["beta=0.001, mu=0", "beta=0.001, mu=1"]
    with pytest.raises(ExplorerError, match=r"beta: ' lots' is not valid; expected a number"):
        NeuralSetup(penalties="0.1, lots").job()
    with pytest.raises(ExplorerError, match="out of range"):
        NeuralSetup(penalties="-1").job()
    with pytest.raises(ExplorerError, match=r"steps: 9,000 is more than this server trains \(at most 4,000\)"):
        NeuralSetup(steps=9000).job(SERVED)
    with pytest.raises(ExplorerError, match="networks are more than this server trains"):
        NeuralSetup(proposal="misbehaviour", penalties="1,2,3,4,5,6,7").job(SERVED)
    assert NeuralSetup(proposal="early-exit").penalties == "0.5"  # each proposal brings its own penalty
    grow = NeuralSetup(proposal="grow", penalties="")
    assert grow.job().members.count == 1 and grow.penalty_name is None


def _tiny(**values):
    return NeuralSetup(**{"bits": 4, "steps": 100, **values}).job()


def test_a_trainer_finishes_in_the_background_with_curve_and_outcome():
    trainer = Trainer(_tiny(proposal="halt", penalties="0.01, 0.1")).start()
    assert trainer.join(60) and trainer.status == "done", trainer.message
    poll = trainer.poll()
    assert poll.done == 100 and [p["step"] for p in poll.points[:2]] == [50, 50]
    assert {p["label"] for p in poll.points} == {"beta=0.01", "beta=0.1"}
    outcome = poll.outcome
    assert [r["beta"] for r in outcome.penalty_rows] == [0.01, 0.1]
    assert [r["difficulty"] for r in outcome.points[0]["by_difficulty"]] == [1, 2, 3, 4]
    assert set(outcome.selection) == set(PRIORS)
    assert trainer.poll(poll.seen).points == []  # a later poll brings only what is new


def test_a_trainer_stops_within_a_second_and_a_diverging_one_says_where(monkeypatch):
    trainer = Trainer(_tiny(proposal="halt", steps=100_000)).start()
    deadline = time.monotonic() + 30
    while trainer.done < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    asked = time.monotonic()
    trainer.stop()
    assert trainer.join(5) and time.monotonic() - asked < 1.0
    assert trainer.status == "stopped" and trainer.result is None and "Stopped after" in trainer.message

    real = TaskSettings.sample
    monkeypatch.setattr(TaskSettings, "sample", lambda self, *a, **k: _inf(real(self, *a, **k)))
    diverged = Trainer(_tiny(proposal="early-exit")).start()
    assert diverged.join(30) and diverged.status == "diverged"
    assert "early-exit (stage 1): the training loss became nan at step 1" in diverged.message


def _inf(batch):
    return Batch(batch.x * float("inf"), batch.y, batch.difficulty, batch.drive)


def test_runs_queue_on_the_servers_job_pool_with_their_place_in_line(tmp_path):
    """By default a run takes a slot of the server's heavy-job pool (explorer.jobs), shared with the
    programs page: with the only slot busy it waits, knows its place, and leaves the line when stopped."""
    from explorer import jobs

    pool = jobs.JobPool(slots=1, slots_dir=tmp_path / "slots")
    old = jobs.set_pool(pool)
    release, busy = threading.Event(), threading.Thread(
        target=pool.run, args=("a measurement", lambda p, s: release.wait(30)), daemon=True)
    try:
        busy.start()
        first, second = Trainer(_tiny()).start(), Trainer(_tiny(steps=50)).start()
        deadline = time.monotonic() + 10
        while (first.poll().place, second.poll().place) != (1, 2) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert first.status == second.status == "queued" and (first.place, second.place) == (1, 2)
        first.stop()
        assert first.join(2) and first.status == "stopped" and pool.waiting() == 1
        release.set()
        assert second.join(60) and second.status == "done" and pool.computed == 2  # the measurement, the run
    finally:
        release.set()
        jobs.set_pool(old)


def test_a_queued_run_waits_for_a_slot_and_can_be_stopped_while_waiting():
    slots = threading.BoundedSemaphore(1)
    slots.acquire()  # another run holds the only slot
    trainer = Trainer(_tiny(), slots=slots).start()
    time.sleep(0.3)
    assert trainer.status == "queued" and trainer.done == 0
    trainer.stop()
    assert trainer.join(2) and trainer.status == "stopped"
    slots.release()
    second = Trainer(_tiny(steps=50), slots=slots).start()
    assert second.join(30) and second.status == "done"
