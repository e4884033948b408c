"""The run history's Delete: ``ThreadRunner.forget`` deletes an ended job of its owner, events, checkpoint and
files, and refuses a classmate, an unknown id and a job still running."""
import pytest

from cnnviz import ConfigError
from cnnviz.jobs import JobLimiter, SleepJob, ThreadRunner


@pytest.fixture
def runner(tmp_path):
    r = ThreadRunner(JobLimiter(1), storage=tmp_path)
    yield r
    for job in list(r._jobs.values()):
        job.stop.set()


def test_forget_deletes_an_ended_job_for_its_owner_only(runner, tmp_path):
    job = runner.submit(SleepJob(steps=2, step_s=0.0), owner="me")
    assert runner.join(job, timeout=20)
    assert runner.poll(job)  # its events are there
    with pytest.raises(ConfigError, match="job"):
        runner.forget(job, owner="classmate")
    assert runner.poll(job)  # still there after the refusal
    runner.forget(job, owner="me")
    with pytest.raises(ConfigError, match="job"):
        runner.poll(job)
    assert job not in {j for j, _, _ in runner.jobs_of("me")}
    assert not any(job in p.name for p in tmp_path.rglob("*"))  # its files went too


def test_forget_refuses_a_running_job(runner):
    job = runner.submit(SleepJob(steps=100_000, step_s=0.01), owner="me")
    with pytest.raises(ConfigError, match="still running"):
        runner.forget(job, owner="me")
    runner.stop(job, owner="me")
    assert runner.join(job, timeout=20)
    runner.forget(job, owner="me")
