"""The app's runner trains in a child process: same events as in-process, stop forwarded, failures and a
killed child become messages, and the last good checkpoint is kept."""
import os
import signal
import time
from pathlib import Path

import pytest
import torch

from cnnviz.jobs import Checkpoint, Failed, Finished, Progress
from cnnviz.training import TrainConfig, load_checkpoint
from cnnviz.jobs.runner import JobLimiter, ThreadRunner

CPU = torch.device("cpu")


@pytest.fixture
def runner():
    return ThreadRunner(JobLimiter(1), device=CPU, isolate=True)


def children() -> list[int]:
    """Our training children (not multiprocessing's resource tracker, which stays for the process), minus the warm
    spares of runners that other tests in this worker process made (the app's runner keeps one for its life)."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:  # that thread ended between the listing and the read (a CI run hit this)
            continue
    def is_training(pid):
        try:
            return b"cnnviz.jobs.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # it has just exited
            return False
    return [p for p in pids if is_training(p) and p not in FOREIGN]


FOREIGN: set[int] = set()


@pytest.fixture(autouse=True)
def _ignore_other_runners_spares():
    FOREIGN.clear()
    FOREIGN.update(children())
    yield
    FOREIGN.clear()


def wait_for(runner, job, kind, timeout=90):
    deadline = time.time() + timeout
    while not any(isinstance(e, kind) for e in runner.poll(job)):
        assert time.time() < deadline, runner.poll(job)
        time.sleep(0.05)


def test_stop_is_forwarded_to_the_child(runner):
    job = runner.submit(TrainConfig(dataset="shapes", n=600, model="SmallResNet", epochs=50, batch_size=64))
    wait_for(runner, job, Progress)
    runner.stop(job)
    assert runner.join(job, timeout=15)
    last = runner.poll(job)[-1]
    assert isinstance(last, Finished) and last.reason == "stopped" and last.step < 50 * 8
    assert runner.status(job).state == "done" and children() == []


def test_a_killed_child_fails_the_job_and_keeps_the_last_checkpoint(runner):
    job = runner.submit(TrainConfig(dataset="shapes", n=600, model="SmallResNet", epochs=50, batch_size=64))
    # one epoch done: 300 s, not 90, because three CI suites sharing two cores trained at 7-12 samples/s
    wait_for(runner, job, Checkpoint, timeout=300)
    saved = runner.checkpoint(job)
    for pid in children():
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    assert runner.join(job, timeout=30)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and "ended unexpectedly" in last.message and "-9" in last.message
    assert last.checkpoint_step is not None and runner.checkpoint(job) is not None
    _, meta = load_checkpoint(runner.checkpoint(job))
    assert meta["step"] >= load_checkpoint(saved)[1]["step"] and runner.limiter.running == 0


# ---------------------------------------------------------------- the warm spare child
SPARE_JOB = TrainConfig(dataset="digits", epochs=50, batch_size=64)  # always stopped by the test


@pytest.fixture
def spare_runner():
    runner = ThreadRunner(JobLimiter(1), device=CPU, isolate=True, spare=True)
    yield runner
    for job in list(runner._jobs):
        runner.stop(job)
        runner.join(job, timeout=15)
    runner.close()


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def run_one(runner) -> tuple[int, list]:
    """(the job child's pid, the job's events): trains until its first Progress, then stops."""
    job = runner.submit(SPARE_JOB)
    wait_for(runner, job, Progress)
    pids = children()
    runner.stop(job)
    assert runner.join(job, timeout=15)
    return pids, runner.poll(job)


def test_a_job_takes_the_warm_spare_and_a_new_spare_is_started(spare_runner):
    for _ in range(2):
        assert spare_runner.spares.warm(120)
        spare = spare_runner.spares.pid
        pids, events = run_one(spare_runner)
        assert spare in pids                                   # the job trained in the spare
        assert isinstance(events[-1], Finished) and events[-1].reason == "stopped"
        assert spare_runner.spares.pid not in (None, spare)     # the next one is on its way
        assert not alive(spare)


def test_a_dead_spare_is_replaced_by_a_fresh_child(spare_runner):
    dead = spare_runner.spares.pid
    os.kill(dead, signal.SIGKILL)  # as the OOM killer would
    deadline = time.time() + 10
    while alive(dead) and time.time() < deadline:
        time.sleep(0.05)
    pids, events = run_one(spare_runner)                      # falls back to today's path
    assert dead not in pids and len(pids) >= 1
    assert isinstance(events[-1], Finished) and events[-1].reason == "stopped"
    assert spare_runner.spares.pid not in (None, dead)         # and a new spare waits again


def test_no_child_outlives_the_runner():
    runner = ThreadRunner(JobLimiter(1), device=CPU, isolate=True, spare=True)
    first = runner.spares.pid
    run_one(runner)
    assert len(children()) == 1                                # only the next spare
    runner.close()
    assert children() == [] and not alive(first) and runner.spares.pid is None
    runner.spares.refill()                                     # a closed pool starts nothing
    assert children() == []
