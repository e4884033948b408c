"""Nothing a student trained is lost: the thread runner writes every job to the job storage (owner, events as they
happen, the last checkpoint), so a new runner on the same storage (a restarted server, another replica) shows the
owner their run, and only them; a job whose process died reads as interrupted, with its checkpoint; another
replica's running job reads as running and stops from there; the storage is bounded."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from cnnviz import ConfigError
from cnnviz.jobs import Checkpoint, Failed, Finished, JobLimiter, JobStore, Progress, SleepJob, ThreadRunner
from cnnviz.jobs.kept import INTERRUPTED
from cnnviz.jobs.storage import event_from_dict, event_to_dict

ROOT = Path(__file__).resolve().parents[3]
ALICE, BOB = "a" * 43, "b" * 43


@dataclass(frozen=True)
class Steps:
    """Three steps, a checkpoint after the second (its bytes name the step), then Finished."""
    n: int = 3
    title = "training"

    def run(self, emit, stop, keep, device=None):
        for i in range(1, self.n + 1):
            emit(Progress(i, i / self.n, 1.0 / i, 0.5, 0.1, 10.0, 0.0))
            if i == 2:
                keep(b"weights@2")
                emit(Checkpoint(2, 1, 9, 0.5))
        emit(Finished(self.n, 1, "done", 0.5))


@dataclass(frozen=True)
class Trial:
    """An event of another kind's own (a search's trial): kept pickled."""
    index: int
    accuracy: float | None


def test_a_new_runner_on_the_same_storage_shows_the_owner_their_run_and_no_one_else(tmp_path):
    first = ThreadRunner(JobLimiter(1), storage=tmp_path)
    job = first.submit(Steps(), owner=ALICE)
    assert first.join(job, timeout=10)
    events = first.poll(job)
    again = ThreadRunner(JobLimiter(1), storage=tmp_path)          # the server restarted
    assert again.poll(job) == events and again.poll(job, 2) == events[2:]
    assert again.status(job).state == "done"
    assert again.checkpoint(job, owner=ALICE) == b"weights@2"
    assert [(j, t, s) for j, t, s in again.jobs_of(ALICE)] == [(job, "training", "done")]
    assert again.jobs_of(BOB) == [] and again.recipe(job, owner=ALICE) == {"n": 3}
    for call in (again.checkpoint, again.stop, again.check_owner, again.recipe):
        with pytest.raises(ConfigError, match="another browser session"):
            call(job, owner=BOB)
    with pytest.raises(ConfigError, match="no such"):
        again.poll("job-" + "0" * 32)
    # an ended job keeps its owner, curve and checkpoint, nothing else
    assert sorted(os.listdir(tmp_path / job)) == ["attempts", "checkpoint.pt", "config.json", "events.jsonl"]
    assert json.loads((tmp_path / job / "config.json").read_text())["owner"] == ALICE


def test_events_of_other_kinds_are_kept_too():
    for event in (Trial(3, 0.75), Trial(4, None), Progress(1, 0.5, 2.0, 0.1, 0.01, 5.0, 1.0, "CPU"),
                  Failed(7, "x", None)):
        assert event_from_dict(json.loads(json.dumps(event_to_dict(event)))) == event


def test_a_job_whose_process_died_reads_as_interrupted_with_its_checkpoint(tmp_path):
    """A real process holds the job and is killed (SIGKILL: nothing runs at its exit), as a server is."""
    script = textwrap.dedent(f"""
        import threading
        from cnnviz.jobs import Checkpoint, JobLimiter, Progress, ThreadRunner
        kept = threading.Event()
        class Forever:
            title = "training"
            def run(self, emit, stop, keep, device=None):
                emit(Progress(1, 0.5, 1.0, 0.5, 0.1, 10.0, 9.0))
                keep(b"weights@1")
                emit(Checkpoint(1, 1, 9, 0.5))
                emit(Progress(2, 1.0, 0.5, 0.6, 0.1, 10.0, 8.0))
                kept.set()
                stop.wait()
        r = ThreadRunner(JobLimiter(1), storage={str(tmp_path)!r})
        print(r.submit(Forever(), owner={ALICE!r}), flush=True)
        kept.wait()
        print("checkpointed", flush=True)
        threading.Event().wait()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)  # -c: cwd on the path
    try:
        job = proc.stdout.readline().strip()
        assert proc.stdout.readline().strip() == "checkpointed"
        alive = ThreadRunner(JobLimiter(1), storage=tmp_path)
        assert alive.status(job).state == "running"                    # its process lives: not interrupted
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    runner = ThreadRunner(JobLimiter(1), storage=tmp_path)
    assert runner.status(job).state == "done"                            # not "running" forever
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and last.message == INTERRUPTED and (last.step, last.checkpoint_step) == (2, 1)
    assert runner.checkpoint(job, owner=ALICE) == b"weights@1"         # what Resume continues from
    assert ThreadRunner(JobLimiter(1), storage=tmp_path).status(job).state == "done"
    assert [type(e).__name__ for e in runner.poll(job)].count("Failed") == 1  # said once, by the first reader
    assert runner.join(job, timeout=1)


def test_another_replicas_running_job_reads_as_running_and_stops_from_here(tmp_path):
    holder = ThreadRunner(JobLimiter(1), storage=tmp_path)
    job = holder.submit(SleepJob(steps=100_000, step_s=0.01), owner=ALICE)
    other = ThreadRunner(JobLimiter(1), storage=tmp_path)
    assert other.status(job).state == "running" and [j for j, _, _ in other.jobs_of(ALICE)] == [job]
    with pytest.raises(ConfigError, match="already has a stand-in job running"):
        other.submit(SleepJob(), owner=ALICE)                          # one job per browser across replicas
    with pytest.raises(ConfigError, match="another browser session"):
        other.stop(job, owner=BOB)
    t0 = time.monotonic()
    other.stop(job, owner=ALICE)                                       # a flag the holder's heartbeat sees
    assert holder.join(job, timeout=15) and time.monotonic() - t0 < 15
    assert other.join(job, timeout=5) and other.poll(job)[-1].reason == "stopped"


def test_the_storage_is_bounded_and_a_live_job_is_never_deleted(tmp_path):
    runner = ThreadRunner(JobLimiter(1), storage=tmp_path)
    live = runner.submit(SleepJob(steps=100_000, step_s=0.01), owner=ALICE)
    done = []
    for _ in range(4):
        done.append(ThreadRunner(JobLimiter(1), storage=tmp_path).submit(SleepJob(steps=1, step_s=0), owner=BOB))
        threading.Event().wait(0.05)
    for job in done:
        assert runner.join(job, timeout=10)
    runner.kept.max_jobs = 3
    runner.sweep()                                                     # 5 on disk, at most 3: the 2 oldest ended go
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("job-")) == sorted([live, *done[2:]])
    runner.kept.max_jobs = 0
    runner.sweep()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("job-")] == [live]  # running: kept
    runner.stop(live, owner=ALICE)
    assert runner.join(live, timeout=10)
    runner.forget_s, runner.clock = -1, time.monotonic                # forgotten: its directory goes too
    runner.tidy()
    assert not (tmp_path / live).exists()
    with pytest.raises(ConfigError, match="no such"):
        runner.poll(live)


def test_the_tests_never_write_the_real_job_storage():
    assert Path(JobStore().root).resolve() != (Path.home() / ".cache" / "cnnviz" / "jobs").resolve()
    assert "pytest-" in os.environ["CNNVIZ_STORAGE"]                   # tests/conftest.py: a temporary one per test


def test_an_unusable_storage_leaves_the_jobs_in_memory(tmp_path):
    (tmp_path / "a-file").write_text("")
    runner = ThreadRunner(JobLimiter(1), storage=tmp_path / "a-file" / "jobs")  # cannot be made: not a directory
    job = runner.submit(Steps(), owner=ALICE)
    assert runner.kept is None and runner.join(job, timeout=10)
    assert runner.poll(job)[-1] == Finished(3, 1, "done", 0.5) and runner.checkpoint(job, owner=ALICE) == b"weights@2"
