"""The heavy-job pool: at most N at once (across processes too), FIFO places, one computation per key."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from explorer.jobs import JobCancelled, JobPool, ordinal


@pytest.fixture
def pool(tmp_path):
    return JobPool(slots=2, slots_dir=tmp_path / "slots")


def _until(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


class Gate:
    """A job that runs until opened, counting how many run at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.most = self.calls = 0
        self.opened = threading.Event()

    def __call__(self, progress, should_stop):
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            self.opened.wait(20)
            time.sleep(0.01)
            return "result"
        finally:
            with self.lock:
                self.now -= 1


def _start(pool, key, compute, results, **kw):
    def go():
        try:
            results[key if not kw.get("tag") else kw["tag"]] = pool.run(
                key, compute, **{k: v for k, v in kw.items() if k != "tag"})
        except Exception as exc:  # noqa: BLE001 - the test reads it
            results[key if not kw.get("tag") else kw["tag"]] = exc

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def test_never_more_than_the_slots_run_at_once_and_every_job_finishes(pool):
    gate, results = Gate(), {}
    threads = [_start(pool, f"job{i}", gate, results) for i in range(6)]
    assert _until(lambda: pool.running() == 2 and pool.waiting() == 4)
    time.sleep(0.1)
    assert gate.now == 2  # the other four wait
    gate.opened.set()
    for t in threads:
        t.join(20)
    assert gate.most == 2 and gate.calls == 6 and pool.computed == 6
    assert all(results[f"job{i}"] == "result" for i in range(6))


def test_places_in_line_are_first_come_first_served(pool):
    gate, results, heard = Gate(), {}, {}
    threads = [_start(pool, f"busy{i}", gate, results) for i in range(2)]
    assert _until(lambda: pool.running() == 2)
    for i in range(3):
        heard[i] = []
        threads.append(_start(pool, f"w{i}", gate, results, on_wait=heard[i].append))
        assert _until(lambda i=i: pool.position(f"w{i}") == i + 1)
    assert [pool.position(f"w{i}") for i in range(3)] == [1, 2, 3] and pool.position("nothing") == -1
    assert _until(lambda: [h[:1] for h in heard.values()] == [[1], [2], [3]])
    gate.opened.set()
    for t in threads:
        t.join(20)
    # each only ever moved up (two may move at once when both slots free together), then ran (0)
    assert all(h == sorted(h, reverse=True) and h[-1] == 0 for h in heard.values()), heard


def test_identical_requests_share_one_computation(pool):
    calls = []

    def slow(progress, should_stop):
        calls.append(1)
        for i in range(5):
            time.sleep(0.05)
            progress(i + 1, 5)
        return object()

    results, seen = {}, {"a": [], "b": []}
    a = _start(pool, "same", slow, results, tag="a", progress=lambda d, t: seen["a"].append(d))
    assert _until(lambda: pool.position("same") == 0)
    b = _start(pool, "same", slow, results, tag="b", progress=lambda d, t: seen["b"].append(d))
    a.join(20)
    b.join(20)
    assert len(calls) == 1 and pool.computed == 1
    assert results["a"] is results["b"]  # the very same result object
    assert seen["a"][-1] == 5 and seen["b"] and seen["b"][-1] == 5  # the follower hears the progress too


def test_an_error_reaches_every_caller_of_the_job(pool):
    def broken(progress, should_stop):
        time.sleep(0.2)
        raise ValueError("boom")

    results = {}
    a = _start(pool, "k", broken, results, tag="a")
    b = _start(pool, "k", broken, results, tag="b")
    a.join(20)
    b.join(20)
    assert isinstance(results["a"], ValueError) and isinstance(results["b"], ValueError) and pool.computed == 1


def test_a_waiting_job_whose_caller_stops_leaves_the_line(pool):
    gate, results = Gate(), {}
    busy = [_start(pool, f"busy{i}", gate, results) for i in range(2)]
    assert _until(lambda: pool.running() == 2)
    stop_first, stop_shared = threading.Event(), threading.Event()
    waiting = [_start(pool, "first", gate, results, should_stop=stop_first.is_set),
               _start(pool, "second", gate, results)]
    assert _until(lambda: pool.position("second") == 2)
    stop_first.set()
    waiting[0].join(5)
    assert isinstance(results["first"], JobCancelled) and pool.position("first") == -1
    assert pool.position("second") == 1 and pool.waiting() == 1  # moved up
    # a job shared by two callers stays in line until both have stopped
    t1 = _start(pool, "shared", gate, results, tag="s1", should_stop=stop_shared.is_set)
    t2 = _start(pool, "shared", gate, results, tag="s2")
    assert _until(lambda: pool.position("shared") == 2)
    stop_shared.set()
    t1.join(5)
    assert isinstance(results["s1"], JobCancelled) and pool.position("shared") == 2
    gate.opened.set()
    for t in [*busy, waiting[1], t2]:
        t.join(20)
    assert results["second"] == "result" and results["s2"] == "result"
    assert gate.calls == 4  # busy0, busy1, second, shared: the cancelled job never ran


def test_a_running_job_stops_only_when_every_caller_asks(pool):
    stops = {"a": threading.Event(), "b": threading.Event()}
    asked = []

    def long(progress, should_stop):
        while not should_stop():
            time.sleep(0.01)
        asked.append(True)
        raise RuntimeError("stopped")

    results = {}
    a = _start(pool, "k", long, results, tag="a", should_stop=stops["a"].is_set)
    assert _until(lambda: pool.position("k") == 0)
    b = _start(pool, "k", long, results, tag="b", should_stop=stops["b"].is_set)
    time.sleep(0.1)
    stops["a"].set()  # the one running it: the other still wants the result
    time.sleep(0.2)
    assert not asked
    stops["b"].set()
    a.join(5)
    b.join(5)
    assert asked and isinstance(results["a"], RuntimeError)


def test_a_result_in_the_cache_by_the_time_a_slot_is_free_is_not_computed(pool):
    computed = []
    result = pool.run("k", lambda p, s: computed.append(1), cached=lambda: "from disk")
    assert result == "from disk" and not computed and pool.computed == 0


def test_slots_are_counted_across_processes(tmp_path):
    """Two processes, two slots, four jobs each: never more than two run at once on the machine."""
    log = tmp_path / "log"
    script = textwrap.dedent(f"""
        import os, sys, threading, time
        from explorer.jobs import JobPool
        pool = JobPool(slots=2, slots_dir={str(tmp_path / 'slots')!r})
        def job(progress, should_stop):
            with open({str(log)!r}, "a") as f:
                f.write(f"start {{time.monotonic()}}\\n")
            time.sleep(0.3)
            with open({str(log)!r}, "a") as f:
                f.write(f"end {{time.monotonic()}}\\n")
            return 1
        threads = [threading.Thread(target=pool.run, args=(f"{{os.getpid()}}-{{i}}", job)) for i in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert all(p.wait(60) == 0 for p in procs)
    events = sorted((float(t), kind) for kind, t in (line.split() for line in log.read_text().splitlines()))
    running = most = 0
    for _, kind in sorted(events, key=lambda e: (e[0], e[1] == "start")):  # an end before a start at a tie
        running += 1 if kind == "start" else -1
        most = max(most, running)
    assert len(events) == 16 and most == 2


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_a_job_that_asks_the_pool_again_runs_it_on_its_own_slot(tmp_path):
    """A regime map of the enumerated world holds a slot and builds tables through the pool: with one
    slot, waiting for a second would never end."""
    pool = JobPool(slots=1, slots_dir=tmp_path / "slots")
    inner = pool.run("outer", lambda p, s: pool.run("inner", lambda p2, s2: "built") + " inside")
    assert inner == "built inside" and pool.running() == 0 and pool.position("inner") == -1
