"""Class groups in the thread runner (cnnviz.jobs.gather): compatible trainings submitted within the gathering
window train as one group in ONE limiter slot, each member still a job of its own (events, checkpoint, Stop,
ownership); incompatible ones gather apart; a job arriving while its key's group trains forms the next group.

Numbers: a member's validation accuracies equal those of the same config trained alone (run_training, same
seed) exactly, and its validation losses within 1e-4 relative: the engine's tolerance (tests/unit/training/
test_group.py), the batched convolutions rounding differently (about 1e-6)."""
import io
from dataclasses import replace
import threading
import time

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.io.data import load_dataset
from cnnviz.jobs import Evaluation, Failed, Finished, JobLimiter, Progress, SleepJob, ThreadRunner
from cnnviz.training import budget, load_checkpoint
from cnnviz.training.loop import run_training
from cnnviz.training.recipe import TrainConfig

CPU = torch.device("cpu")
DATA = load_dataset("digits", 0, 200)  # 160 training images: 5 steps of 32 per epoch
BASE = dict(dataset="digits", data=DATA, model="TinyVGG", width=4, epochs=2, batch_size=32)
WINDOW = 0.4


class Counting(JobLimiter):
    """The limiter, remembering every slot request (a group asks once for all its members)."""

    def __init__(self, capacity=1):
        super().__init__(capacity)
        self.requests = []

    def request(self, job_id, start):
        self.requests.append(job_id)
        return super().request(job_id, start)


def make_runner(isolate=False):
    runner = ThreadRunner(Counting(1), device=CPU, isolate=isolate, storage=False)
    runner.gather.gather_s = WINDOW
    return runner


def cfg(**kw):
    return TrainConfig(**{**BASE, **kw})


def alone(config):
    events = []
    run_training(config, events.append, threading.Event(), lambda b: None, CPU)
    return events


def evals(events):
    return [e for e in events if isinstance(e, Evaluation)]


def devices(events):
    return {e.device for e in events if isinstance(e, Progress)}


def wait_for(runner, job, kind, timeout=60):
    deadline = time.time() + timeout
    while not any(isinstance(e, kind) for e in runner.poll(job)):
        assert time.time() < deadline, runner.poll(job)
        time.sleep(0.02)


def assert_same_as_alone(events, config):
    solo = alone(config)
    assert [(e.epoch, e.val_acc) for e in evals(events)] == [(e.epoch, e.val_acc) for e in evals(solo)]
    for a, b in zip(evals(solo), evals(events)):
        assert b.val_loss == pytest.approx(a.val_loss, rel=1e-4)
    assert events[-1] == solo[-1]  # Finished: step, epoch, reason, best accuracy


# ---------------------------------------------------------------- three owners, one group
STUDENTS = [cfg(seed=1, lr=1e-2), cfg(seed=2, lr=3e-3, augment_flip=True, ema=True),
            cfg(seed=3, lr=2e-2, label_smoothing=0.0, grad_clip=1.0, augment_noise=0.05)]


@pytest.fixture(scope="module")
def class_run():
    runner = make_runner()
    jobs = [runner.submit(c, owner=f"owner-{k}") for k, c in enumerate(STUDENTS)]
    gathering = [runner.status(j) for j in jobs]
    for j in jobs:
        assert runner.join(j, timeout=120)
    return runner, jobs, gathering


def test_three_owners_train_as_one_group_in_one_slot(class_run):
    runner, jobs, gathering = class_run
    assert [(s.state, s.queue_position, s.classmates) for s in gathering] == [("queued", None, 2)] * 3
    assert all(s.wait_s is not None and 0 <= s.wait_s <= WINDOW for s in gathering)  # the window's rest
    assert len(runner.limiter.requests) == 1 and runner.limiter.requests[0] not in jobs  # the group's one slot
    assert runner.limiter.running == 0 and runner.limiter.waiting == 0
    for j, config in zip(jobs, STUDENTS):
        events = runner.poll(j)
        assert devices(events) == {"CPU, with 2 classmates"}
        assert_same_as_alone(events, config)
        assert runner.status(j).state == "done" and runner.status(j).classmates == 0


def test_a_members_checkpoint_is_its_own_and_resumes(class_run):
    runner, jobs, _ = class_run
    blob = runner.checkpoint(jobs[1], owner="owner-1")
    raw = torch.load(io.BytesIO(blob), weights_only=True)
    assert "ema" in raw  # the member with EMA on: its own recipe's checkpoint
    _, meta = load_checkpoint(blob)
    assert (meta["config"]["seed"], meta["config"]["lr"], meta["step"]) == (2, 3e-3, 10)
    assert blob != runner.checkpoint(jobs[0], owner="owner-0")
    resumed = runner.submit(replace(STUDENTS[1], epochs=3, resume=blob), owner="owner-1")
    assert runner.join(resumed, timeout=60)
    events = runner.poll(resumed)
    assert [e.epoch for e in evals(events)] == [3] and events[-1] == Finished(15, 3, "done", events[-1].best_val_acc)


def test_a_classmate_cannot_stop_download_or_delete_another_members_run(class_run):
    runner, jobs, _ = class_run
    for act in (lambda: runner.stop(jobs[0], owner="owner-1"), lambda: runner.checkpoint(jobs[0], owner="owner-2"),
                lambda: runner.forget(jobs[0], owner="owner-1"), lambda: runner.check_owner(jobs[2], "owner-0")):
        with pytest.raises(ConfigError):
            act()
    runner.forget(jobs[2], owner="owner-2")  # its owner may
    with pytest.raises(ConfigError):
        runner.poll(jobs[2])
    assert runner.poll(jobs[0])  # the classmates' runs are untouched


# ---------------------------------------------------------------- keys, arrivals, stops
def test_an_incompatible_job_trains_in_its_own_group():
    runner = make_runner()
    same = [runner.submit(cfg(seed=s, epochs=1), owner=f"o{s}") for s in (1, 2)]
    other = runner.submit(cfg(seed=3, epochs=1, batch_size=16), owner="o3")  # another batch size: another key
    solo = runner.submit(SleepJob(steps=2), owner="o4")  # no group key: its own slot at once, as before
    for j in [*same, other, solo]:
        assert runner.join(j, timeout=60)
    assert runner.limiter.requests[0] == solo and len(runner.limiter.requests) == 3
    assert [devices(runner.poll(j)) for j in same] == [{"CPU, with 1 classmate"}] * 2
    assert devices(runner.poll(other)) == {"CPU"}
    assert [runner.poll(j)[-1].reason for j in [*same, other, solo]] == ["done"] * 4


def test_a_job_arriving_while_its_group_trains_forms_the_next_group_and_stops_are_per_member():
    runner = make_runner()
    first = runner.submit(cfg(seed=1, epochs=40), owner="a")
    wait_for(runner, first, Progress)  # its group (of one) trains: newcomers gather for the next one
    b, c = (runner.submit(cfg(seed=s, epochs=1), owner=o) for s, o in ((2, "b"), (3, "c")))
    time.sleep(WINDOW + 0.3)
    late = runner.submit(cfg(seed=4, epochs=2), owner="d")  # the window is closed, the group still queued: joins
    st = [runner.status(j) for j in (b, c, late)]
    assert [(s.state, s.queue_position, s.classmates) for s in st] == [("queued", 1, 2)] * 3
    eta = [e for e in runner.poll(first) if isinstance(e, Progress)][-1].eta_s
    assert 0 <= st[0].wait_s <= eta + 0.01  # the running group's latest estimate, counted down
    runner.stop(b, owner="b")  # stopped while queued: leaves the group at once
    assert runner.poll(b)[-1] == Finished(0, 0, "stopped", 0.0) and runner.status(b).state == "done"
    assert runner.status(c).classmates == 1
    runner.stop(first, owner="a")
    for j in (first, c, late):
        assert runner.join(j, timeout=60)
    assert runner.poll(first)[-1].reason == "stopped" and devices(runner.poll(first)) == {"CPU"}
    assert [devices(runner.poll(j)) for j in (c, late)] == [{"CPU, with 1 classmate"}] * 2
    assert len(runner.limiter.requests) == 2  # the first alone, then c and late together
    assert_same_as_alone(runner.poll(late), cfg(seed=4, epochs=2))


def test_a_member_stopped_while_training_leaves_and_the_others_finish():
    runner = make_runner()
    long, short = runner.submit(cfg(seed=1, epochs=40), owner="a"), runner.submit(cfg(seed=2), owner="b")
    wait_for(runner, long, Progress)
    runner.stop(long, owner="a")
    assert runner.join(long, timeout=30) and runner.join(short, timeout=60)
    end = runner.poll(long)[-1]
    assert end.reason == "stopped" and end.step < 40 * 5
    assert_same_as_alone(runner.poll(short), cfg(seed=2))


def test_a_group_whose_members_all_stop_while_queued_gives_up_its_slot_request():
    runner = make_runner()
    first = runner.submit(SleepJob(steps=400, step_s=0.05), owner="a")
    waiting = [runner.submit(cfg(seed=s), owner=f"o{s}") for s in (1, 2)]
    time.sleep(WINDOW + 0.3)
    assert runner.limiter.waiting == 1
    for s, j in zip((1, 2), waiting):
        runner.stop(j, owner=f"o{s}")
    assert runner.limiter.waiting == 0 and [runner.poll(j)[-1].reason for j in waiting] == ["stopped"] * 2
    runner.stop(first, owner="a")
    assert runner.join(first, timeout=10) and runner.limiter.running == 0


def test_an_oversized_group_is_refused_before_training_and_every_member_is_told(monkeypatch):
    monkeypatch.setattr(budget, "MAX_GROUP_BYTES", 1024)  # no group fits
    runner = make_runner()
    jobs = [runner.submit(cfg(seed=s), owner=f"o{s}") for s in (1, 2, 3)]
    for j in jobs:
        assert runner.join(j, timeout=60)
    for j in jobs:
        events = runner.poll(j)
        assert len(events) == 1 and isinstance(events[0], Failed) and "memory" in events[0].message
    assert runner.limiter.running == 0 and len(runner.limiter.requests) == 1


# ---------------------------------------------------------------- one child process for the group
def test_an_isolated_group_trains_in_the_spare_child_with_per_member_stops():
    runner = ThreadRunner(Counting(1), device=CPU, isolate=True, spare=True, storage=False)
    runner.gather.gather_s = WINDOW
    assert runner.spares.warm(120)
    spare = runner.spares.pid
    long = runner.submit(cfg(seed=1, epochs=40), owner="a")
    short = runner.submit(cfg(seed=2, epochs=2, augment_crop=1), owner="b")
    wait_for(runner, long, Progress, timeout=120)
    assert runner.spares.pid != spare  # the group took the warm spare (one child for both), a new one is on its way
    runner.stop(long, owner="a")  # ("stop", 0) on the child's stdin: the classmate trains on
    assert runner.join(long, timeout=60) and runner.join(short, timeout=60)
    end = runner.poll(long)[-1]
    assert end.reason == "stopped" and end.step < 40 * 5
    assert devices(runner.poll(short)) == {"CPU, with 1 classmate"} and len(runner.limiter.requests) == 1
    assert_same_as_alone(runner.poll(short), cfg(seed=2, epochs=2, augment_crop=1))
    _, meta = load_checkpoint(runner.checkpoint(short, owner="b"))
    assert meta["config"]["seed"] == 2 and runner.limiter.running == 0
    runner.close()


# ---------------------------------------------------------------- the wait estimate
def test_a_queued_jobs_wait_is_the_running_estimate_plus_the_mean_of_the_jobs_ahead():
    runner = ThreadRunner(JobLimiter(1), storage=False)
    assert runner.join(runner.submit(SleepJob(steps=5, step_s=0.02)), timeout=10)
    mean = runner.gather.mean(("alone", "stand-in job"))  # one finished run of this kind: its duration
    assert 0.1 <= mean < 5
    first = runner.submit(SleepJob(steps=2000, step_s=0.01))
    wait_for(runner, first, Progress)
    second, third = runner.submit(SleepJob(steps=5)), runner.submit(SleepJob(steps=5))
    eta = lambda: [e for e in runner.poll(first) if isinstance(e, Progress)][-1].eta_s  # noqa: E731
    before = eta()
    st2, st3 = runner.status(second), runner.status(third)
    after = eta()
    assert (st2.queue_position, st3.queue_position) == (1, 2)
    assert after - 0.5 <= st2.wait_s <= before + 1e-9           # the running job's latest estimate, counted down
    assert after - 0.5 + mean <= st3.wait_s <= before + mean + 1e-9  # + the one ahead, at its kind's mean
    for j in (first, second, third):
        runner.stop(j)
        assert runner.join(j, timeout=10)
