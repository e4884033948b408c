"""The runner contract: what every training runner does the same way — the thread runner (in-process or with a
child process per job) and the RayRunner. Pages use only this interface, so these are the behaviours a page may
rely on.

A test module runs the contract by importing these tests (``from runner_contract import *``) and providing two
fixtures: ``make_runner(capacity)`` (a fresh runner whose limiter admits ``capacity`` jobs at once) and
``stop_within`` (seconds from ``stop`` to the job's end, measured on a loaded 2-core box).

The grouped contract (:data:`GROUPED`, imported by name: ``from runner_contract import GROUPED`` and then the
tests it names) is what a runner with class groups adds: compatible trainings submitted together train as one
computation, each member still its own job (numbers, ownership, Stop). It needs ``make_grouped_runner(capacity)``:
a runner that gathers compatible jobs (a window of a second or less)."""
import dataclasses
import io
import threading
import time

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.io.data import load_dataset
from cnnviz.jobs import Checkpoint, Evaluation, Failed, Finished, Progress
from cnnviz.training import TrainConfig, load_checkpoint
from cnnviz.training.loop import run_training

__all__ = ["test_contract_seeded_run_matches_the_plain_loop", "test_contract_stop_ends_a_running_job_quickly",
           "test_contract_nan_fails_and_keeps_the_last_good_checkpoint", "test_contract_nan_before_any_checkpoint",
           "test_contract_queue_positions_and_one_job_per_session", "test_contract_unknown_job_and_crash_are_messages",
           "test_contract_job_ids_are_random_128_bits", "test_contract_only_the_owner_controls_a_job"]

GROUPED = ["test_grouped_contract_two_students_train_together_as_if_alone",
           "test_grouped_contract_a_classmate_cannot_stop_another_and_one_stop_leaves_the_other_training"]

CPU = torch.device("cpu")
LONG = TrainConfig(dataset="digits", epochs=300, batch_size=64)   # ~2 minutes: always stopped by the test
SHORT = TrainConfig(dataset="digits", n=100, epochs=1)
# How long a job may take to run to its end. Not a speed check: a child process imports torch first, and on a
# box loaded by other suites (two clean-clone CI runs side by side, load average 15-30) 90 s was not enough.
RUN_S = 240


def plain_loop(cfg):
    events, blobs = [], []
    run_training(cfg, events.append, threading.Event(), blobs.append, CPU)
    return events, blobs


def wait_for(runner, job, kind, timeout=RUN_S):
    deadline = time.time() + timeout
    while not any(isinstance(e, kind) for e in runner.poll(job)):
        assert time.time() < deadline, runner.poll(job)[-3:]
        time.sleep(0.05)


def wait_idle(runner, job, timeout=30):
    """Until no job of this runner trains (a Ray worker reports its end a moment after its last event)."""
    deadline = time.time() + timeout
    while runner.status(job).running_jobs and time.time() < deadline:
        time.sleep(0.05)
    return runner.status(job).running_jobs


def test_contract_seeded_run_matches_the_plain_loop(make_runner):
    cfg = TrainConfig(dataset="digits", n=500, epochs=2, batch_size=64, lr=2e-2)
    ref, _ = plain_loop(cfg)
    runner = make_runner(2)
    job = runner.submit(cfg)
    assert runner.join(job, timeout=RUN_S)
    events = runner.poll(job)
    evals = [(e.epoch, e.val_loss, e.val_acc, e.confusion) for e in events if isinstance(e, Evaluation)]
    want = [(e.epoch, e.val_loss, e.val_acc, e.confusion) for e in ref if isinstance(e, Evaluation)]
    # Seeded: the same run wherever it trains -- but not bit for bit. The job trains in another process (or a Ray
    # worker) with its own thread count, so float reductions run in another order; the results agree to rounding.
    assert [e[0] for e in evals] == [e[0] for e in want] == [1, 2]
    n_val = sum(map(sum, want[-1][3]))
    for (_, loss, acc, conf), (_, loss_ref, acc_ref, conf_ref) in zip(evals, want):
        assert loss == pytest.approx(loss_ref, rel=1e-3)
        assert abs(acc - acc_ref) <= 2 / n_val                   # at most two images on a decision boundary
        assert sum(map(sum, conf)) == n_val
        assert sum(abs(a - b) for r, rr in zip(conf, conf_ref) for a, b in zip(r, rr)) <= 4
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"
    assert runner.poll(job, since=len(events) - 1) == events[-1:]
    assert runner.status(job).state == "done"
    model, meta = load_checkpoint(runner.checkpoint(job))     # the checkpoint reproduces the reported accuracy
    ds = load_dataset("digits", 0, 500)
    with torch.no_grad():
        acc = (model(ds.x_val).argmax(1) == ds.y_val).float().mean().item()
    assert acc == pytest.approx(evals[-1][2]) and meta["epoch"] == 2
    assert wait_idle(runner, job) == 0


def test_contract_stop_ends_a_running_job_quickly(make_runner, stop_within):
    runner = make_runner(2)
    job = runner.submit(LONG)
    wait_for(runner, job, Progress)
    assert runner.status(job).state == "running"
    t0 = time.perf_counter()
    runner.stop(job)
    assert runner.join(job, timeout=15)
    took = time.perf_counter() - t0
    events = runner.poll(job)
    assert isinstance(events[-1], Finished) and events[-1].reason == "stopped" and events[-1].step < 300 * 23
    assert took < stop_within, took
    time.sleep(0.3)
    assert len(runner.poll(job)) == len(events)               # nothing trains any more
    assert wait_idle(runner, job) == 0 and runner.status(job).state == "done"


def test_contract_nan_fails_and_keeps_the_last_good_checkpoint(make_runner):
    _, blobs = plain_loop(TrainConfig(dataset="digits", n=200, epochs=1))
    runner = make_runner(1)
    job = runner.submit(TrainConfig(dataset="digits", n=200, epochs=3, optimizer="sgd", lr=1e9, schedule="constant",
                                    resume=blobs[-1]))
    assert runner.join(job, timeout=RUN_S)
    events = runner.poll(job)
    assert isinstance(events[-1], Failed), events[-1]
    assert "lower the learning rate" in events[-1].message and events[-1].checkpoint_step == 5
    assert not any(isinstance(e, (Checkpoint, Finished)) for e in events)
    model, meta = load_checkpoint(runner.checkpoint(job))     # the good one: loadable and finite
    assert meta["step"] == 5 and all(torch.isfinite(p).all() for p in model.parameters())


def test_contract_nan_before_any_checkpoint(make_runner):
    runner = make_runner(1)
    job = runner.submit(TrainConfig(dataset="digits", n=200, epochs=2, optimizer="sgd", lr=1e9, schedule="constant"))
    assert runner.join(job, timeout=RUN_S)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and last.checkpoint_step is None and runner.checkpoint(job) is None


def test_contract_queue_positions_and_one_job_per_session(make_runner):
    runner = make_runner(1)
    first = runner.submit(LONG, owner="alice")
    with pytest.raises(ConfigError) as e:
        runner.submit(LONG, owner="alice")
    assert e.value.field == "job" and "already has" in str(e.value)
    second = runner.submit(SHORT, owner="bob")
    third = runner.submit(SHORT, owner="carol")
    st = runner.status(second)
    assert st.state == "queued" and st.queue_position == 1 and st.running_jobs == 1 and st.capacity == 1
    assert runner.status(third).queue_position == 2
    runner.stop(second, owner="bob")                          # a queued job leaves the queue at once
    assert runner.status(second).state == "done" and runner.poll(second)[-1].reason == "stopped"
    assert runner.status(third).queue_position == 1
    runner.stop(first, owner="alice")
    assert runner.join(first, timeout=30) and runner.join(third, timeout=90)
    assert isinstance(runner.poll(third)[-1], Finished) and runner.poll(third)[-1].reason == "done"
    again = runner.submit(SHORT, owner="alice")               # alice's job is done: she may start another
    runner.stop(again, owner="alice")
    assert runner.join(again, timeout=90) and runner.poll(again)[-1].reason in ("stopped", "done")


def test_contract_unknown_job_and_crash_are_messages(make_runner):
    runner = make_runner(1)
    for bad in ("job-000000000000", "job-" + "0" * 32, "../../etc/passwd", "<script>", "j" * 10_000, None, 7):      # ids come from URLs: never a path
        for call in (runner.poll, runner.stop, runner.status):
            with pytest.raises(ConfigError) as e:
                call(bad)
            assert e.value.field == "job"
    job = runner.submit(TrainConfig(dataset="nope"))
    assert runner.join(job, timeout=RUN_S)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and "dataset" in last.message and "nope" in last.message


def test_contract_job_ids_are_random_128_bits(make_runner):
    """Ids are ``job-`` + 32 hex digits (128 bits) and unrelated to each other: nobody finds a job by counting."""
    import re
    from cnnviz.jobs.ids import new_job_id
    ids = [new_job_id() for _ in range(1000)]
    assert len(set(ids)) == 1000 and all(re.fullmatch(r"job-[0-9a-f]{32}", i) for i in ids)
    # every hex digit takes every value somewhere (a counter or a short random part would not)
    assert all(len({i[k] for i in ids}) == 16 for k in range(4, 36))
    runner = make_runner(1)
    a = runner.submit(SHORT, owner="alice")
    assert runner.join(a, timeout=90)
    b = runner.submit(SHORT, owner="alice")
    assert runner.join(b, timeout=90)
    assert re.fullmatch(r"job-[0-9a-f]{32}", a) and re.fullmatch(r"job-[0-9a-f]{32}", b) and a != b
    assert bin(int(a[4:], 16) ^ int(b[4:], 16)).count("1") > 20   # not neighbours: about 64 bits differ


def test_contract_only_the_owner_controls_a_job(make_runner):
    """Stop and the checkpoint (which Resume and the download use) need the owner's token; a wrong token, or none,
    is a ConfigError("job") and leaves the job untouched: it keeps training and ends on its own owner's Stop."""
    runner = make_runner(1)
    job = runner.submit(TrainConfig(dataset="digits", n=200, epochs=300, batch_size=64), owner="alice-token")
    wait_for(runner, job, Checkpoint)                         # 3 steps an epoch: a checkpoint within seconds
    for intruder in ("mallory", None, "", "alice-token "):
        for call in (runner.stop, runner.checkpoint):
            with pytest.raises(ConfigError) as e:
                call(job, owner=intruder)
            assert e.value.field == "job" and "another browser session" in str(e.value)
    n, deadline = len(runner.poll(job)), time.time() + 60
    while len(runner.poll(job)) <= n and time.time() < deadline:   # still training (a loaded box is slow)
        time.sleep(0.1)
    assert runner.status(job).state == "running" and len(runner.poll(job)) > n
    assert not any(isinstance(e, Finished) for e in runner.poll(job))
    blob = runner.checkpoint(job, owner="alice-token")
    _, meta = load_checkpoint(blob)
    assert meta["step"] >= 1
    runner.stop(job, owner="alice-token")
    assert runner.join(job, timeout=30)
    assert runner.poll(job)[-1].reason == "stopped" and runner.status(job).state == "done"


# ---------------------------------------------------------------------- the grouped contract (GROUPED)
# Two students of one class group: same model, data shapes, batch size and optimizer; their own seeds, learning
# rates and switches. Tolerance (the engine's, tests/unit/training/test_group.py): weights within 1e-4 of their
# tensor's largest weight, validation losses within 1e-4 relative, accuracies equal.
CLASS = dict(dataset="digits", n=200, model="TinyVGG", width=4, batch_size=32)
GROUP_TOL = 1e-4


def assert_trained_as_if_alone(runner, job, owner, cfg):
    ref, blobs = plain_loop(cfg)
    events = runner.poll(job)
    evals = [e for e in events if isinstance(e, Evaluation)]
    want = [e for e in ref if isinstance(e, Evaluation)]
    assert [(e.epoch, e.val_acc) for e in evals] == [(e.epoch, e.val_acc) for e in want]
    for a, b in zip(evals, want):
        assert a.val_loss == pytest.approx(b.val_loss, rel=GROUP_TOL)
    assert events[-1] == ref[-1]  # Finished: step, epoch, reason, best accuracy
    mine = torch.load(io.BytesIO(runner.checkpoint(job, owner=owner)), weights_only=True)
    alone = torch.load(io.BytesIO(blobs[-1]), weights_only=True)
    for part in ("state_dict", "ema") if cfg.ema else ("state_dict",):
        assert mine[part].keys() == alone[part].keys()
        for name, w in alone[part].items():
            if w.is_floating_point():
                scale = w.abs().max().clamp_min(1e-12)
                assert ((mine[part][name] - w).abs().max() / scale).item() < GROUP_TOL, (part, name)


def test_grouped_contract_two_students_train_together_as_if_alone(make_grouped_runner):
    """Submitted together, two compatible trainings train as ONE computation (each says so: "with 1 classmate"),
    and each ends with the weights, accuracies and losses of the same config trained alone."""
    runner = make_grouped_runner(1)
    cfgs = [TrainConfig(**CLASS, epochs=2, seed=1, lr=1e-2),
            TrainConfig(**CLASS, epochs=2, seed=2, lr=3e-3, augment_flip=True, ema=True, grad_clip=1.0)]
    jobs = [runner.submit(c, owner=f"student-{k}") for k, c in enumerate(cfgs)]
    assert [runner.status(j).classmates for j in jobs] == [1, 1]
    for job in jobs:
        assert runner.join(job, timeout=RUN_S)
    for k, (job, cfg) in enumerate(zip(jobs, cfgs)):
        assert {e.device for e in runner.poll(job) if isinstance(e, Progress)} == {"CPU, with 1 classmate"}
        assert_trained_as_if_alone(runner, job, f"student-{k}", cfg)
        assert runner.status(job).state == "done" and runner.status(job).classmates == 0
    assert wait_idle(runner, jobs[0]) == 0


def test_grouped_contract_a_classmate_cannot_stop_another_and_one_stop_leaves_the_other_training(
        make_grouped_runner):
    """Ownership across a group: a classmate (or anyone but the owner) can neither stop a member's run nor read
    its checkpoint; the owner's Stop ends that member only, and the other trains on to its last epoch."""
    runner = make_grouped_runner(1)
    alice = runner.submit(TrainConfig(**CLASS, epochs=300, seed=1), owner="alice-token")
    bob_cfg = TrainConfig(**CLASS, epochs=30, seed=2, lr=5e-3)
    bob = runner.submit(bob_cfg, owner="bob-token")
    wait_for(runner, alice, Checkpoint)
    assert runner.status(alice).classmates == 1 and runner.status(bob).state == "running"
    for intruder in ("bob-token", "mallory", None, ""):
        for call in (runner.stop, runner.checkpoint):
            with pytest.raises(ConfigError) as e:
                call(alice, owner=intruder)
            assert e.value.field == "job" and "another browser session" in str(e.value)
    runner.stop(alice, owner="alice-token")
    assert runner.join(alice, timeout=30)
    stopped = runner.poll(alice)[-1]
    assert isinstance(stopped, Finished) and stopped.reason == "stopped" and stopped.step < 300 * 5
    deadline = time.time() + 10  # bob trains on alone: no classmate left (a runner may read that a moment late)
    while (st := runner.status(bob)).state == "running" and st.classmates and time.time() < deadline:
        time.sleep(0.1)
    # training alone now, or (on a loaded box, where alice's Stop may take seconds) already through its 30 epochs
    assert st.state in ("running", "done") and st.classmates == 0, st
    assert runner.join(bob, timeout=RUN_S)
    last = runner.poll(bob)[-1]
    assert isinstance(last, Finished) and last.reason == "done" and last.epoch == 30 and last.step == 30 * 5
    assert last.step > stopped.step  # bob trained on after alice left the group
    _, meta = load_checkpoint(runner.checkpoint(bob, owner="bob-token"))
    assert meta["epoch"] == 30 and meta["config"]["seed"] == 2


@dataclasses.dataclass(frozen=True)
class SleepClass:
    """A stand-in class-group kind without torch (the runners' admission tests): ``steps`` steps of ``step_s``;
    jobs of one ``key`` run together, each member stoppable on its own; Progress says how many classmates."""

    steps: int = 3
    step_s: float = 0.01
    key: str = "a"
    title = "stand-in class job"

    def run(self, emit, stop, keep=None, device=None):
        from cnnviz.jobs import SleepJob
        SleepJob(self.steps, self.step_s).run(emit, stop, keep, device)

    def group_key(self, device=None):
        return ("sleep", self.key)

    def run_together(self, members, device=None):
        live = list(members)
        for i in range(max(m.config.steps for m in members)):
            time.sleep(self.step_s)
            for m in list(live):
                if m.stop.is_set() or i >= m.config.steps:
                    m.emit(Finished(i, 0, "stopped" if m.stop.is_set() else "done", 0.0))
                    live.remove(m)
                else:
                    m.emit(Progress(i + 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, f"sleep, with {len(members) - 1} classmates"))
        for m in live:
            m.emit(Finished(m.config.steps, 1, "done", 0.0))
