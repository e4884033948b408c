"""Class groups on the RayRunner, against a local Ray head (tests/cluster/conftest.py): compatible jobs submitted
within the manager's gathering window run as ONE Ray task on one worker (one admission slot, one queue entry),
each member still its own job in the shared storage. The grouped runner contract (tests/support/runner_contract.py:
two students train together as if alone; ownership and one member's Stop across a group), the manager's
admission of groups (positions, a member's Stop while queued, a late job joins a waiting group, a group of one
is a solo task), and failover: a killed group worker resumes every member from its own checkpoint (and a member's
checkpoint resumes alone afterwards), and a group whose worker dies for good fails each member with its own
message."""
import dataclasses
import os
import signal

import pytest

ray = pytest.importorskip("ray")

from cnnviz.jobs import Checkpoint, Evaluation, Failed, Finished, Progress, SleepJob  # noqa: E402
from cnnviz.jobs.cluster.ray_runner import RayRunner  # noqa: E402
from cnnviz.jobs.cluster.tasks import read_group  # noqa: E402
from cnnviz.training import TrainConfig  # noqa: E402
from tests.support.polling import until  # noqa: E402
from tests.support.runner_contract import (  # noqa: E402,F401  the grouped contract's tests, run here
    CLASS, GROUPED, SleepClass, assert_trained_as_if_alone, wait_for,
    test_grouped_contract_a_classmate_cannot_stop_another_and_one_stop_leaves_the_other_training,
    test_grouped_contract_two_students_train_together_as_if_alone)

WINDOW = 0.5  # the managers' gathering window here (the app's default is CNNVIZ_GATHER_S = 1.0)
assert len(GROUPED) == 2  # every grouped contract test is imported above


@pytest.fixture(scope="module")
def make(cluster, tmp_path_factory):
    """Grouped RayRunners; one manager (detached actor) per setting, shared by the tests, killed at the end."""
    made, root = {}, tmp_path_factory.mktemp("jobs")

    def _make(max_running, **kw):
        name = f"test-groups-{os.getpid()}-{max_running}-{kw.get('max_retries')}"
        made[name] = RayRunner(root=root, name=name, max_running=max_running, gather_s=WINDOW, **kw)
        return made[name]

    yield _make
    for r in made.values():
        ray.kill(r.manager)


@pytest.fixture
def make_grouped_runner(make):
    return lambda capacity: make(max_running=capacity)


def wait_until(check, timeout=60):
    until(check, timeout, every=0.05)


def test_a_group_waits_as_one_entry_takes_late_members_and_runs_as_one_task(make):
    runner = make(max_running=1, options=dict(num_cpus=0.1))
    warm = runner.submit(SleepClass(steps=2, key="a"), owner="s0")  # a finished task: the wait estimate's base
    assert runner.join(warm, timeout=60) and read_group(runner.store, warm) is None  # a group of one: solo task
    tasks_before = runner.stats()["group_tasks"]
    blocker = runner.submit(SleepJob(steps=3000, step_s=0.01), owner="teacher")  # no key: alone, as before
    wait_for(runner, blocker, Progress)
    a, b, c = (runner.submit(SleepClass(steps=4, key="a"), owner=f"s{k}") for k in range(3))
    other = runner.submit(SleepClass(steps=4, key="b"), owner="s3")  # another key: its own group
    gathering = runner.status(a)
    # gathering (no position yet), or already waiting as one entry when the window closed meanwhile (loaded box)
    assert (gathering.state, gathering.classmates) == ("queued", 2) and gathering.queue_position in (None, 1)
    wait_until(lambda: runner.status(other).queue_position == 2)  # both windows over: two entries in the queue
    assert [runner.status(j).queue_position for j in (a, b, c)] == [1, 1, 1]
    waits = [runner.status(j).wait_s for j in (a, b, c, other)]  # the other key's group waits behind this one's
    assert max(waits[:3]) - min(waits[:3]) < 1.0 and 0 <= waits[0] < waits[3], waits  # (it counts down meanwhile)
    assert ray.get(runner.manager.queued.remote()) == [a, b, c, other]
    runner.stop(b, owner="s1")  # a waiting member leaves its group; the group keeps its place
    assert runner.status(b).state == "done" and runner.poll(b)[-1].reason == "stopped"
    assert runner.status(a).classmates == 1 and runner.status(c).queue_position == 1
    late = runner.submit(SleepClass(steps=4, key="a"), owner="s4")  # joins the waiting group of its key
    assert (runner.status(late).queue_position, runner.status(late).classmates) == (1, 2)
    runner.stop(blocker, owner="teacher")
    for job in (a, c, late, other):
        assert runner.join(job, timeout=60)
    group = read_group(runner.store, a)
    assert group["members"] == [a, c, late] and all(read_group(runner.store, j) == group for j in (c, late))
    pids = {pid for j in (a, c, late) for pid, _ in runner.store.attempts(j)}
    assert pids == {group["pid"]}  # one worker process trained the three
    for job in (a, c, late):
        events = runner.poll(job)
        assert {e.device for e in events if isinstance(e, Progress)} == {"sleep, with 2 classmates"}
        assert events[-1] == Finished(4, 1, "done", 0.0)
    assert runner.store.attempts(b) == [] and read_group(runner.store, b) is None  # it never ran
    assert read_group(runner.store, other) is None  # a group of one: exactly a solo task
    assert runner.poll(other)[-1] == Finished(4, 1, "done", 0.0)
    stats = runner.stats()
    assert stats["group_tasks"] == tasks_before + 1 and stats["lost"] == 0 and stats["peak"] <= 1


def test_a_killed_group_worker_resumes_every_member_from_its_own_checkpoint(make):
    cfgs = [TrainConfig(**CLASS, epochs=3, seed=1, lr=1e-2),
            TrainConfig(**CLASS, epochs=3, seed=2, lr=3e-3, ema=True, augment_noise=0.05)]
    runner = make(max_running=2, options=dict(pause_after_checkpoint_s=30))
    jobs = [runner.submit(c, owner=f"student-{k}") for k, c in enumerate(cfgs)]
    for job in jobs:
        wait_for(runner, job, Checkpoint)
    pid = read_group(runner.store, jobs[0])["pid"]
    assert all(runner.store.attempts(j) == [(pid, runner.store.attempts(j)[0][1])] for j in jobs)
    os.kill(pid, signal.SIGKILL)  # the group's worker dies while it pauses after every member's first checkpoint
    for job in jobs:
        assert runner.join(job, timeout=240)
    second = {runner.store.attempts(j)[1][0] for j in jobs if len(runner.store.attempts(j)) == 2}
    assert len(second) == 1 and pid not in second  # both retried together, in one new worker
    for k, (job, cfg) in enumerate(zip(jobs, cfgs)):
        steps = [e.step for e in runner.poll(job) if isinstance(e, Progress)]
        assert steps == sorted(set(steps)) and steps[-1] == 3 * 5  # resumed after step 5: no step twice
        assert_trained_as_if_alone(runner, job, f"student-{k}", cfg)  # and ends where it would alone
    assert runner.stats()["lost"] == 0
    # a member's checkpoint resumes alone, as any job's: one more epoch from where the group left it
    blob = runner.checkpoint(jobs[1], owner="student-1")
    runner = make(max_running=2)  # the same manager; a runner without the pause hook
    more = runner.submit(dataclasses.replace(cfgs[1], epochs=4, resume=blob), owner="student-1")
    assert runner.join(more, timeout=120)
    events = runner.poll(more)
    assert [e.epoch for e in events if isinstance(e, Evaluation)] == [4] and events[-1].reason == "done"
    assert events[-1].step == 4 * 5 and read_group(runner.store, more) is None


def test_a_group_whose_worker_dies_for_good_fails_each_member(make):
    runner = make(max_running=1, max_retries=0, options=dict(num_cpus=0.1))
    jobs = [runner.submit(SleepClass(steps=3000, key="dies"), owner=f"d{k}") for k in range(2)]
    wait_until(lambda: all(runner.poll(j) for j in jobs))
    pid = read_group(runner.store, jobs[0])["pid"]
    os.kill(pid, signal.SIGKILL)
    for job in jobs:
        assert runner.join(job, timeout=60)
        last = runner.poll(job)[-1]
        assert isinstance(last, Failed) and "worker died" in last.message and last.checkpoint_step is None
        assert runner.status(job).state == "done"
    assert runner.stats()["lost"] == 2
    again = runner.submit(SleepClass(steps=2, key="dies"), owner="d0")  # the owners are free again
    assert runner.join(again, timeout=60) and runner.poll(again)[-1].reason == "done"
