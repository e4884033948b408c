"""A job kind carries its own way to run: the runners run any object with ``run`` and know no kind."""
import threading
from dataclasses import dataclass

import pytest

from cnnviz import ConfigError
from cnnviz.jobs import Finished, JobLimiter, Progress, SleepJob, ThreadRunner, check_kind
from cnnviz.jobs.storage import JobStore
from cnnviz.training import TrainConfig


@dataclass(frozen=True)
class Countdown:
    """A kind the jobs room has never heard of."""
    n: int

    def run(self, emit, stop, keep, device=None):
        for i in range(self.n):
            emit(Progress(i + 1, 0.0, float(self.n - i), 0.0, 0.0, 0.0, 0.0))
        keep(b"blob-%d" % self.n)
        emit(Finished(self.n, 1, "done", 0.0))


def test_the_thread_runner_runs_a_kind_it_does_not_know():
    runner = ThreadRunner(JobLimiter(1))
    job = runner.submit(Countdown(3))
    assert runner.join(job, timeout=10)
    events = runner.poll(job)
    assert [e.train_loss for e in events[:-1]] == [3.0, 2.0, 1.0]
    assert events[-1] == Finished(3, 1, "done", 0.0) and runner.checkpoint(job) == b"blob-3"


@pytest.mark.parametrize("not_a_kind", [object(), {"steps": 3}, "train", None])
def test_anything_without_run_is_refused_by_name(not_a_kind):
    with pytest.raises(ConfigError) as err:
        ThreadRunner(JobLimiter(1)).submit(not_a_kind)
    assert err.value.field == "job" and type(not_a_kind).__name__ in str(err.value)


def test_sleep_job_runs_in_a_child_process_and_stops():
    """Pickled to ``python -m cnnviz.jobs.worker``, which imports the kind's module by itself."""
    runner = ThreadRunner(JobLimiter(1), isolate=True)
    done = runner.submit(SleepJob(steps=3, step_s=0.01))
    assert runner.join(done, timeout=60)
    assert [type(e).__name__ for e in runner.poll(done)] == ["Progress"] * 3 + ["Finished"]
    assert runner.poll(done)[-1].reason == "done"
    long = runner.submit(SleepJob(steps=100_000, step_s=0.01))
    while not runner.poll(long):
        threading.Event().wait(0.05)
    runner.stop(long)
    assert runner.join(long, timeout=30) and runner.poll(long)[-1].reason == "stopped"


def test_the_shared_storage_keeps_the_kind_and_its_recipe(tmp_path):
    store = JobStore(tmp_path)
    store.create("job-" + "a" * 32, SleepJob(steps=7), owner="o" * 30)
    assert store.job("job-" + "a" * 32) == SleepJob(steps=7)
    assert store.config("job-" + "a" * 32) == dict(config={}, kind="SleepJob", owner="o" * 30)
    cfg = TrainConfig(epochs=2, n=100)
    store.create("job-" + "b" * 32, cfg)
    assert store.job("job-" + "b" * 32) == cfg and store.config("job-" + "b" * 32)["config"] == cfg.to_dict()


def test_kinds_say_where_they_run():
    from cnnviz.architecture import SearchConfig
    from cnnviz.compression import DistillConfig
    for kind in (TrainConfig(), SearchConfig(), DistillConfig(), SleepJob()):
        check_kind(kind)
    assert getattr(TrainConfig(), "cluster", True) and not SearchConfig.cluster and not DistillConfig.cluster
    assert TrainConfig().resumed(None) == TrainConfig()
