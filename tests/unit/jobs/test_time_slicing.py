"""Time-slicing (cnnviz/jobs/slicing.py): jobs beyond the CPU slots take turns, paused with SIGSTOP between
turns; a Stop still ends a paused job; a paused job's status says how it shares the machine and its estimates
count the turns."""
import os
import signal
import time
from pathlib import Path

import pytest
import torch

from cnnviz.jobs import Finished, JobLimiter, Progress, SleepJob, ThreadRunner
from cnnviz.jobs.events import JobStatus
from cnnviz.jobs.slicing import Slicer
from cnnviz.jobs.turns import share_of, shared_times, turns_text

CPU = torch.device("cpu")


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def fake_slicer(capacity=1, quantum=3.0):
    clock, sent = Clock(), []
    slicer = Slicer(capacity, quantum, clock=clock, kill=lambda pid, sig: sent.append((pid, sig)), tick=3600)
    return slicer, clock, sent


def running(slicer):
    return sorted(slicer.running_pids())


# ------------------------------------------------------------------ the scheduler, with a fake clock and no processes
def test_turns_rotate_every_quantum_and_never_more_than_capacity_run():
    slicer, clock, sent = fake_slicer(capacity=1, quantum=3.0)
    a = slicer.enter(1)
    slicer.shown(a)
    assert running(slicer) == [1] and sent == [] or sent == [(1, signal.SIGCONT)]
    sent.clear()
    b = slicer.enter(2)  # a's turn is not over: the newcomer waits (paused)
    assert running(slicer) == [1] and sent == [(2, signal.SIGSTOP)]
    slicer.shown(b)
    order = []
    for _ in range(6):  # 3 s turns: 1, 2, 1, 2, ...
        clock.t += 3.0
        slicer.poke()
        assert len(slicer.running_pids()) <= 1
        order += running(slicer)
    assert order == [2, 1, 2, 1, 2, 1]
    # the pause always comes before the resume: never two running at once
    for i, (pid, sig) in enumerate(sent):
        if sig == signal.SIGCONT:
            assert sent[i - 1][1] == signal.SIGSTOP and sent[i - 1][0] != pid
    assert a.ran(clock.t) == pytest.approx(9.0) and b.ran(clock.t) == pytest.approx(9.0)
    assert slicer.share() == (3.0, 6.0)


def test_a_child_without_its_first_point_is_not_cut_and_a_stop_runs_a_paused_child_at_once():
    slicer, clock, sent = fake_slicer(capacity=1, quantum=3.0)
    a = slicer.enter(1)
    slicer.shown(a)
    clock.t += 5.0
    b = slicer.enter(2)  # a's turn is over: the newcomer runs at once
    assert running(slicer) == [2]
    clock.t += 10.0  # three quanta without a first point: b keeps the slot
    slicer.poke()
    assert running(slicer) == [2]
    slicer.shown(b)
    slicer.poke()
    assert running(slicer) == [1]
    stop = [False]
    c = slicer.enter(3, lambda: stop[0])
    slicer.shown(c)
    slicer.poke()
    assert running(slicer) == [1]  # a's turn has just begun
    stop[0] = True  # c's Stop: it must run to see it
    slicer.poke()
    assert running(slicer) == [3]
    slicer.leave(c)  # it ended: the slot goes back
    slicer.poke()
    assert len(slicer.running_pids()) == 1 and slicer.children() == 2


def test_share_and_processor_sharing_arithmetic():
    assert share_of(1, 1, 3.0) is None and share_of(3, 1, 3.0) == (3.0, 9.0) and share_of(3, 2, 2.0) == (2.0, 4.0)
    # two running children of 4 s and 10 s solo on one slot: each at half speed until the first ends at 8 s,
    # then the other alone: 10 - 4 = 6 s more, at 14 s. A queued 5 s entry is admitted (2 slots) when the first
    # ends (8 s) and shares with the second's last 6 s: both at half speed, it ends at 8 + 2·5 = 18 s with 1 s
    # of the second left, which then runs alone: 19 s.
    ends_r, starts_q, ends_q = shared_times([4.0, 10.0], [], 1, 2)
    assert ends_r == pytest.approx([8.0, 14.0]) and starts_q == [] and ends_q == []
    ends_r, starts_q, ends_q = shared_times([4.0, 10.0], [5.0], 1, 2)
    assert ends_r == pytest.approx([8.0, 19.0]) and starts_q == pytest.approx([8.0]) and ends_q == pytest.approx([18.0])
    # with as many slots as CPU slots: first-come, each at full speed
    assert shared_times([3.0], [2.0, 4.0], 1, 1) == (pytest.approx([3.0]), pytest.approx([3.0, 5.0]),
                                                     pytest.approx([5.0, 9.0]))


def test_a_paused_jobs_status_text():
    st = JobStatus("running", None, 2, 2, classmates=9, end_s=40.0, share=(3.0, 6.0, 1), paused=True)
    assert turns_text(st) == ("Sharing the machine with 1 other class group or trainings: your group trains 3 s of "
                              "every 6 s (paused now, until its next turn).")
    assert turns_text(JobStatus("running", None, 1, 1)) is None


# ------------------------------------------------------------------ real children
def state_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def unpaused(pids) -> list[int]:
    return [p for p in pids if state_of(p) not in ("T", "t", "gone", "Z")]


def settled_unpaused(pids, wait_s: float = 3.0) -> int:
    """How many of ``pids`` run, looked at again while more than one shows, for up to ``wait_s``: a SIGSTOP
    takes effect when the child is next scheduled, a moment later on a loaded box; two running for good stay."""
    end = time.time() + wait_s
    while len(up := unpaused(pids)) > 1 and time.time() < end:
        time.sleep(0.02)
    return len(up)


def test_two_jobs_on_one_slot_both_progress_and_a_paused_one_stops_promptly():
    limiter = JobLimiter(1)
    runner = ThreadRunner(limiter, device=CPU, isolate=True, storage=False, slice_s=0.5)
    assert runner.slicer is not None and limiter.slots > 1
    t0 = time.time()
    jobs = [runner.submit(SleepJob(steps=100000, step_s=0.02), owner=o) for o in ("a", "b")]
    steps, worst, pids = {j: 0 for j in jobs}, 0, []
    deadline = time.time() + 150  # two children start (torch imports, in turns): ~10 s on an idle box
    while min(steps.values()) < 20 and time.time() < deadline:  # first-come, b would never start
        pids = [t.pid for t in list(runner.slicer._tickets)]
        assert len(runner.slicer.running_pids()) <= 1
        worst = max(worst, settled_unpaused(pids))
        for j in jobs:
            steps[j] = max([e.step for e in runner.poll(j) if isinstance(e, Progress)], default=0)
        time.sleep(0.02)
    assert min(steps.values()) >= 20, steps
    assert worst <= 1 and len(pids) == 2
    assert all(runner.status(j).state == "running" for j in jobs)
    started = time.time() - t0
    # stop one while it is paused: it runs at once to see its Stop and ends within a step
    while not runner.status(jobs[1]).paused:
        assert time.time() < deadline
        time.sleep(0.01)
    st = runner.status(jobs[1])
    assert st.share == (0.5, 1.0, 1) and "paused now" in turns_text(st) and st.end_s is not None
    t1 = time.time()
    runner.stop(jobs[1], owner="b")
    assert runner.join(jobs[1], timeout=10), runner.poll(jobs[1])[-1:]
    assert time.time() - t1 < 3 and runner.poll(jobs[1])[-1].reason == "stopped"
    runner.stop(jobs[0], owner="a")
    assert runner.join(jobs[0], timeout=10)
    assert runner.slicer.children() == 0 and not [p for p in pids if state_of(p) in ("T", "t")]
    print(f"both at 20 steps after {started:.1f} s")


def test_estimates_count_the_turns_with_a_fake_clock():
    """One CPU slot, two admitted: j1 runs (it has run 10 of its 20 s: half the machine, so its reported 40 s
    left are 20 s alone), j2 is paused (no point yet; its kind's mean is 30 s alone, it has run 10 s: 20 s
    left); j3 waits (30 s alone). Both admitted advance at half speed: both end at 40 s; j3 then starts alone:
    ends at 70 s; its first point (mean 4 s from a start) after the turn then running (3 s): 40 + 3 + 4."""
    from collections import deque
    from cnnviz.jobs.runner import _Job
    from cnnviz.jobs.slicing import Ticket
    from cnnviz.jobs import new_job_id
    j1, j2, j3 = (new_job_id() for _ in range(3))
    clock = Clock()
    clock.t = 120.0
    runner = ThreadRunner(JobLimiter(1), device=CPU, storage=False)
    runner.clock = clock
    runner.slicer = Slicer(1, 3.0, clock=clock, kill=lambda pid, sig: None, tick=3600)
    runner.limiter.extra = 1
    runner.slicer._tickets = [Ticket(1, lambda: False, 100.0, j1, running=True, turn_at=115.0, ran_s=5.0,
                                     first=True, fresh=False),
                              Ticket(2, lambda: False, 100.0, j2, running=False, ran_s=10.0, fresh=False)]
    runner._jobs = {j1: _Job(None, "a", "stand-in job", "running", id=j1, started_at=100.0, eta=(40.0, 120.0)),
                    j2: _Job(None, "b", "stand-in job", "running", id=j2, started_at=100.0),
                    j3: _Job(None, "c", "stand-in job", "queued", id=j3)}
    runner.limiter._running = {j1, j2}
    runner.limiter._queue = deque([(j3, lambda: None)])
    runner.gather.record(("alone", "stand-in job"), 30.0)
    runner.gather.record(("first", ("alone", "stand-in job")), 4.0)
    s1, s2, s3 = (runner.status(j) for j in (j1, j2, j3))
    assert (s1.paused, s1.end_s, s1.share) == (False, pytest.approx(40.0), (3.0, 6.0, 1))
    assert (s2.paused, s2.end_s, s2.first_s) == (True, pytest.approx(40.0), 0.0)
    assert (s3.state, s3.queue_position, s3.capacity) == ("queued", 1, 2)
    assert (s3.wait_s, s3.end_s, s3.first_s) == (pytest.approx(40.0), pytest.approx(70.0), pytest.approx(47.0))
    clock.t += 10.0  # 10 s later (no turn taken meanwhile): j1 reported nothing new (its estimate ages by 10 s)
    s1 = runner.status(j1)  # it ran 20 of 30 s: (40 - 10) · 2/3 = 20 s alone left, as j2: both end at 2 · 20 s
    assert s1.end_s == pytest.approx(40.0)


def test_two_spares_when_jobs_take_turns(monkeypatch):
    """Two class groups starting together both find a warm child: the app's runner keeps two spares. (The
    children here are stand-ins that wait on stdin, not torch workers: the pool's bookkeeping is the point.)"""
    import subprocess
    import sys
    from cnnviz.jobs import spares
    monkeypatch.setattr(spares, "_spawn", lambda modules=(): subprocess.Popen(  # "imported" at once, then waits
        [sys.executable, "-c", "import sys; sys.stdout.write('i'); sys.stdout.flush(); sys.stdin.buffer.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    pool = spares.SparePool(size=2)
    try:
        assert pool.warm(30)  # the second starts once the first is warm (child.SparePool.refill)
        first = pool.pid
        taken = pool.take()
        assert taken.pid == first and pool.pid not in (None, first)  # the other is still waiting
        second = pool.take()
        assert pool.take() is None and second.pid != first
        pool.refill()
        assert pool.warm(30) and len({pool.pid, first, second.pid}) == 3
        for proc in (taken, second):
            proc.kill()
            proc.wait()
    finally:
        pool.close()
    assert pool.pid is None
    runner = ThreadRunner(JobLimiter(1), device=CPU, isolate=True, spare=True, storage=False, slice_s=2.0)
    try:
        assert runner.spares.size == 2 and runner.slicer.quantum == 2.0
    finally:
        runner.close()
