"""A class's fairness on the thread runner: one job per browser across its tabs and kinds, a closed tab's job is
stopped, finished jobs let go of their data and are forgotten later, and the queue has a length limit. The
runner's clock is replaced by a hand-moved one, so nothing here waits for minutes."""
import threading
from dataclasses import dataclass

import pytest

from cnnviz import ConfigError
from cnnviz.jobs import Finished, JobLimiter, SleepJob, ThreadRunner


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def runner():
    r = ThreadRunner(JobLimiter(1))
    r.clock = Clock()
    r.abandon_s, r.forget_s, r.max_queue = 60, 600, 3
    yield r
    for jid, job in list(r._jobs.items()):
        job.stop.set()
    for jid in list(r._jobs):
        r.join(jid, timeout=10)


@dataclass(frozen=True)
class Search(SleepJob):
    title = "architecture search"


def long():
    return SleepJob(steps=100_000, step_s=0.01)


def test_one_job_per_browser_across_kinds_and_the_message_says_where(runner):
    first = runner.submit(long(), owner="alice")
    with pytest.raises(ConfigError, match="already has a stand-in job running") as e:
        runner.submit(Search(steps=1), owner="alice")  # another kind from another tab: still one at a time
    assert e.value.field == "job"
    queued = runner.submit(long(), owner="bob")
    with pytest.raises(ConfigError, match="waiting, position 1"):
        runner.submit(long(), owner="bob")
    runner.stop(first, owner="alice")
    assert runner.join(first, timeout=10)
    runner.submit(Search(steps=1), owner="alice")  # the first one ended: a new one is welcome
    assert [t for _, t, _ in runner.jobs_of("alice")] == ["stand-in job", "architecture search"]
    assert [s for _, _, s in runner.jobs_of("bob")] in (["queued"], ["running"]) and queued


def test_a_closed_tabs_job_is_stopped_and_frees_its_slot(runner):
    gone = runner.submit(long(), owner="gone")
    waiting = runner.submit(long(), owner="here")
    assert runner.status(waiting).state == "queued"
    runner.clock.t += 59
    runner.seen("here")
    runner.tidy()
    assert runner.status(gone).state == "running"  # 59 s unseen: not yet
    runner.clock.t += 2
    runner.seen("here")
    runner.tidy()  # "gone" unseen 61 s > 60: stopped; "here" was seen: it starts
    assert runner.join(gone, timeout=10) and runner.poll(gone)[-1].reason == "stopped"
    for _ in range(200):
        if runner.status(waiting).state == "running":
            break
        threading.Event().wait(0.02)
    assert runner.status(waiting).state == "running"


def test_an_abandoned_queued_job_leaves_the_queue_at_once(runner):
    runner.submit(long(), owner="a")
    queued = runner.submit(long(), owner="b")
    runner.clock.t += 61
    runner.seen("a")
    runner.tidy()
    assert runner.poll(queued) == [Finished(0, 0, "stopped", 0.0)] and runner.status(queued).state == "done"


def test_a_finished_job_drops_its_config_then_is_forgotten(runner):
    job = runner.submit(SleepJob(steps=2), owner="a")
    assert runner.join(job, timeout=10)
    assert runner._jobs[job].config is None  # a student's data set is not held for the rest of the day
    assert runner.poll(job)[-1].reason == "done"  # the curve stays for a reconnect
    runner.clock.t += 599
    runner.tidy()
    assert runner.poll(job)[-1].reason == "done"
    runner.clock.t += 2
    runner.tidy()
    with pytest.raises(ConfigError, match="no such"):
        runner.poll(job)
    assert runner.jobs_of("a") == []


def test_the_queue_has_a_length_limit(runner):
    runner.submit(long())  # running
    for _ in range(3):
        runner.submit(long())  # waiting: 3 = max_queue
    with pytest.raises(ConfigError, match="busy, try again in a minute: 3 jobs are waiting") as e:
        runner.submit(long())
    assert e.value.field == "job"


def test_any_page_of_the_browser_keeps_its_job_alive(runner, monkeypatch):
    """app.py's heartbeat on every page run: a student watching another page while training keeps the job."""
    import streamlit as st

    from cnnviz.jobs import factory
    from cnnviz.ui import jobs as jobs_ui
    owner = "o" * 43
    job = runner.submit(long(), owner=owner)
    monkeypatch.setattr(factory, "_DEFAULT", runner)
    monkeypatch.setattr(st, "session_state", {"job_owner": owner})
    runner.clock.t += 59
    jobs_ui.heartbeat()            # a rerun of any page
    runner.clock.t += 59           # 118 s since Start, 59 s since the heartbeat
    runner.tidy()
    assert runner.status(job).state == "running"
    runner.clock.t += 2
    runner.tidy()                  # 61 s without a page run: stopped
    assert runner.join(job, timeout=10) and runner.poll(job)[-1].reason == "stopped"


def test_a_classmates_page_run_frees_an_abandoned_slot(runner):
    """Nobody presses Start: the waiting student's own page runs (seen) stop the abandoned job ahead of them."""
    gone = runner.submit(long(), owner="gone")
    waiting = runner.submit(long(), owner="here")
    runner.clock.t += 61
    runner.seen("here")  # no explicit tidy
    assert runner.join(gone, timeout=10) and runner.poll(gone)[-1].reason == "stopped"
    for _ in range(200):
        if runner.status(waiting).state == "running":
            break
        threading.Event().wait(0.02)
    assert runner.status(waiting).state == "running"
