"""A job child's CPU priority (cnnviz.jobs.priority): a spare imports at nice 10, its job stays at nice 10 by
default, runs under SCHED_IDLE (every thread) with CNNVIZ_JOB_SCHED=idle, and a refused SCHED_IDLE falls back to nice."""
import errno
import os
import pickle
import sys

import pytest

from cnnviz.errors import ConfigError
from cnnviz.jobs import SleepJob, child, priority
from cnnviz.jobs.events import Finished, Progress

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE and /proc are Linux's")


def policies(pid: int) -> set[int]:
    """The scheduling policy of every thread of ``pid``."""
    out = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out.add(os.sched_getscheduler(int(tid)))
        except ProcessLookupError:
            pass
    return out


def run_worker(monkeypatch, sched: str | None):
    """A real worker child through child._spawn: (its policy and niceness while it waits as a spare, what its
    "ready" says, its threads' policies while its job runs, its events)."""
    if sched is None:
        monkeypatch.delenv(priority.SCHED_ENV, raising=False)
    else:
        monkeypatch.setenv(priority.SCHED_ENV, sched)
    proc = child._spawn()
    try:
        assert pickle.load(proc.stdout) == ("imported", None)  # its imports are done: a warm spare
        spare = (os.sched_getscheduler(proc.pid), os.getpriority(os.PRIO_PROCESS, proc.pid))
        proc.stdin.write(pickle.dumps((SleepJob(steps=20, step_s=0.02), None, 1)))
        proc.stdin.close()
        kind, applied = pickle.load(proc.stdout)
        assert kind == "ready"
        running = policies(proc.pid)
        events = []
        while (msg := pickle.load(proc.stdout))[0] != "end":
            events.append(msg)
        return spare, applied, running, events
    finally:
        proc.stdout.close()
        proc.wait(20)


@linux
def test_a_spare_imports_at_nice_10_and_its_job_runs_under_sched_idle(monkeypatch):
    (policy, nice), applied, running, events = run_worker(monkeypatch, "idle")
    assert policy == os.SCHED_OTHER and nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + priority.NICENESS)
    assert applied == "idle" and running == {os.SCHED_IDLE}   # every thread, torch's pool included
    # SCHED_IDLE still gets the idle CPU: the job runs to its end, every step reported
    assert [k for k, _ in events].count("event") == 21
    assert isinstance(events[-1][1], Finished) and events[-1][1].reason == "done"
    assert [e.step for k, e in events if isinstance(e, Progress)] == list(range(1, 21))


@linux
@pytest.mark.parametrize("sched", [None, "nice"])
def test_nice_keeps_the_job_at_nice_10(monkeypatch, sched):
    (policy, nice), applied, running, events = run_worker(monkeypatch, sched)  # None: the default
    assert applied == "nice" and running == {os.SCHED_OTHER}
    assert nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + priority.NICENESS)
    assert isinstance(events[-1][1], Finished) and events[-1][1].reason == "done"


def test_a_refused_sched_idle_falls_back_to_nice():
    calls = []

    def refuse(pid, policy, param):
        calls.append(policy)
        raise PermissionError(errno.EPERM, "Operation not permitted")

    if hasattr(os, "SCHED_IDLE"):
        assert priority.for_job("idle", setscheduler=refuse) == "nice" and calls == [os.SCHED_IDLE]
    assert priority.for_job("nice", setscheduler=refuse) == "nice" and calls in ([], [os.SCHED_IDLE])


def test_the_setting_is_read_and_checked_in_one_place(monkeypatch):
    assert priority.job_sched({}) == "nice" and priority.job_sched({"CNNVIZ_JOB_SCHED": " IDLE "}) == "idle"
    with pytest.raises(ConfigError) as e:
        priority.job_sched({"CNNVIZ_JOB_SCHED": "realtime"})
    assert e.value.field == "CNNVIZ_JOB_SCHED"
    monkeypatch.setenv(priority.SCHED_ENV, "fifo")
    with pytest.raises(ConfigError):  # the parent refuses to start a child with it: a message, not a dead child
        child._spawn()
