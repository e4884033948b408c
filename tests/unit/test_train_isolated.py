"""The app's runner trains in a child process: same events as in-process, stop forwarded, failures and a
killed child become messages, and the last good checkpoint is kept."""
import os
import signal
import time
from pathlib import Path

import pytest
import torch

from cnnviz.train import Checkpoint, Evaluation, Failed, Finished, Progress, TrainConfig, load_checkpoint
from cnnviz.train.runner import JobLimiter, ThreadRunner

CPU = torch.device("cpu")


@pytest.fixture
def runner():
    return ThreadRunner(JobLimiter(1), device=CPU, isolate=True)


def children() -> list[int]:
    """Our training children (not multiprocessing's resource tracker, which stays for the process)."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    def is_training(pid):
        try:
            return b"cnnviz.train.isolated" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # it has just exited
            return False
    return [p for p in pids if is_training(p)]


def wait_for(runner, job, kind, timeout=90):
    deadline = time.time() + timeout
    while not any(isinstance(e, kind) for e in runner.poll(job)):
        assert time.time() < deadline, runner.poll(job)
        time.sleep(0.05)


def test_child_process_run_matches_the_in_process_run(runner):
    cfg = TrainConfig(dataset="digits", n=300, epochs=2, batch_size=64, lr=2e-2)
    job = runner.submit(cfg)
    assert runner.join(job, timeout=120)
    child = runner.poll(job)
    plain = ThreadRunner(JobLimiter(1), device=CPU)
    ref = plain.submit(cfg)
    assert plain.join(ref, timeout=120)
    inproc = plain.poll(ref)
    evals = lambda evs: [(e.epoch, e.val_acc, e.confusion) for e in evs if isinstance(e, Evaluation)]  # noqa: E731
    assert evals(child) == evals(inproc) and len(evals(child)) == 2  # seeded: the same numbers
    assert isinstance(child[-1], Finished) and child[-1].reason == "done"
    model, meta = load_checkpoint(runner.checkpoint(job))
    assert meta["epoch"] == 2 and runner.limiter.running == 0


def test_stop_is_forwarded_to_the_child(runner):
    job = runner.submit(TrainConfig(dataset="shapes", n=600, model="SmallResNet", epochs=50, batch_size=64))
    wait_for(runner, job, Progress)
    runner.stop(job)
    assert runner.join(job, timeout=15)
    last = runner.poll(job)[-1]
    assert isinstance(last, Finished) and last.reason == "stopped" and last.step < 50 * 8
    assert runner.status(job).state == "done" and children() == []


def test_a_config_error_in_the_child_is_a_message(runner):
    job = runner.submit(TrainConfig(dataset="nope"))
    assert runner.join(job, timeout=60)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and "dataset" in last.message and "nope" in last.message


def test_a_killed_child_fails_the_job_and_keeps_the_last_checkpoint(runner):
    job = runner.submit(TrainConfig(dataset="shapes", n=600, model="SmallResNet", epochs=50, batch_size=64))
    wait_for(runner, job, Checkpoint)  # one epoch done
    saved = runner.checkpoint(job)
    for pid in children():
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    assert runner.join(job, timeout=30)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and "ended unexpectedly" in last.message and "-9" in last.message
    assert last.checkpoint_step is not None and runner.checkpoint(job) is not None
    _, meta = load_checkpoint(runner.checkpoint(job))
    assert meta["step"] >= load_checkpoint(saved)[1]["step"] and runner.limiter.running == 0
