"""The training loop and the thread runner: accuracy, stop, resume, NaN, the job limiter."""
import threading
import time

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.train import Checkpoint, Evaluation, Failed, Finished, Progress, TrainConfig, load_checkpoint
from cnnviz.train.loop import run_training
from cnnviz.train.runner import JobLimiter, ThreadRunner

CPU = torch.device("cpu")


def train(cfg, **kw):
    events, blobs = [], []
    run_training(cfg, events.append, threading.Event(), blobs.append, CPU, **kw)
    return events, blobs


def test_short_seeded_digits_run_reaches_90_percent():
    events, blobs = train(TrainConfig(dataset="digits", epochs=2, batch_size=64, lr=2e-2))
    evals = [e for e in events if isinstance(e, Evaluation)]
    assert [e.epoch for e in evals] == [1, 2]
    assert evals[-1].val_acc >= 0.90
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"
    # the confusion matrix counts every validation image once; its diagonal is the accuracy
    conf = torch.tensor(evals[-1].confusion)
    assert conf.sum() == 359 and abs(conf.trace().item() / 359 - evals[-1].val_acc) < 1e-6
    # the checkpoint reproduces the reported accuracy
    model, meta = load_checkpoint(blobs[-1])
    from cnnviz.data import load_dataset
    ds = load_dataset("digits")
    with torch.no_grad():
        acc = (model(ds.x_val).argmax(1) == ds.y_val).float().mean().item()
    assert acc == pytest.approx(evals[-1].val_acc) and meta["epoch"] == 2 and meta["classes"] == tuple("0123456789")
    # every stage of the loop was timed
    assert evals[-1].timings["forward"] > 0 and evals[-1].timings["backward"] > 0


def test_stop_really_stops_the_thread_within_a_second():
    runner = ThreadRunner(JobLimiter(2), device=CPU)
    job = runner.submit(TrainConfig(dataset="shapes", n=600, model="SmallResNet", epochs=50, batch_size=64))
    deadline = time.time() + 60
    while not any(isinstance(e, Progress) for e in runner.poll(job)) and time.time() < deadline:
        time.sleep(0.05)
    assert runner.status(job).state == "running"
    t0 = time.perf_counter()
    runner.stop(job)
    assert runner.join(job, timeout=5)
    assert time.perf_counter() - t0 < 1.0
    events = runner.poll(job)
    assert isinstance(events[-1], Finished) and events[-1].reason == "stopped"
    assert events[-1].step < 50 * 8
    time.sleep(0.3)
    assert len(runner.poll(job)) == len(events)  # nothing trains any more
    assert runner.status(job).state == "done" and runner.limiter.running == 0


def test_resume_continues_from_the_saved_step_and_matches_an_uninterrupted_run():
    cfg = TrainConfig(dataset="digits", n=300, epochs=3, batch_size=32, ema=True, augment_noise=0.05)
    full, blobs = train(cfg)
    saved = torch.load(__import__("io").BytesIO(blobs[1]), weights_only=True)
    assert saved["epoch"] == 2 and saved["step"] == 2 * 8  # 240 training images / 32 → 8 steps per epoch
    resumed, blobs2 = train(TrainConfig(**{**cfg.to_dict()}, resume=blobs[1]))
    steps = [e.step for e in resumed if isinstance(e, Progress)]
    assert min(steps) > 16 and max(steps) == 24
    assert [e.epoch for e in resumed if isinstance(e, Evaluation)] == [3]
    a, b = torch.load(__import__("io").BytesIO(blobs[-1]), weights_only=True), \
        torch.load(__import__("io").BytesIO(blobs2[-1]), weights_only=True)
    for k in a["state_dict"]:
        torch.testing.assert_close(a["state_dict"][k], b["state_dict"][k])
        torch.testing.assert_close(a["ema"][k], b["ema"][k])


def test_resume_with_another_model_is_refused():
    _, blobs = train(TrainConfig(dataset="digits", n=100, epochs=1))
    events, _ = [], []
    with pytest.raises(ConfigError) as e:
        train(TrainConfig(dataset="digits", n=100, epochs=2, model="SmallResNet", resume=blobs[-1]))
    assert e.value.field == "resume"


def test_nan_run_fails_cleanly_and_keeps_the_last_good_checkpoint():
    good, blobs = train(TrainConfig(dataset="digits", n=200, epochs=1))
    runner = ThreadRunner(JobLimiter(1), device=CPU)
    job = runner.submit(TrainConfig(dataset="digits", n=200, epochs=3, optimizer="sgd", lr=1e9, schedule="constant",
                                    resume=blobs[-1]))
    assert runner.join(job, timeout=60)
    events = runner.poll(job)
    assert isinstance(events[-1], Failed), events[-1]
    assert "lower the learning rate" in events[-1].message and events[-1].checkpoint_step == 5
    assert not any(isinstance(e, (Checkpoint, Finished)) for e in events)
    model, meta = load_checkpoint(runner.checkpoint(job))  # the good one, still loadable and finite
    assert meta["step"] == 5 and all(torch.isfinite(p).all() for p in model.parameters())


def test_nan_in_the_first_epoch_has_no_checkpoint():
    runner = ThreadRunner(JobLimiter(1), device=CPU)
    job = runner.submit(TrainConfig(dataset="digits", n=200, epochs=2, optimizer="sgd", lr=1e9, schedule="constant"))
    assert runner.join(job, timeout=60)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and last.checkpoint_step is None and runner.checkpoint(job) is None


def test_limiter_caps_running_jobs_and_reports_queue_positions():
    lim, started = JobLimiter(2), []
    for j in "abcd":
        lim.request(j, lambda j=j: started.append(j))
    assert started == ["a", "b"] and lim.running == 2
    assert [lim.position(j) for j in "abcd"] == [None, None, 1, 2]
    lim.release("a")
    assert started == ["a", "b", "c"] and lim.position("d") == 1
    assert lim.cancel("d") and lim.position("d") is None and not lim.cancel("d")
    lim.release("b"), lim.release("c")
    assert lim.running == 0 and started == ["a", "b", "c"]


def test_runner_queues_beyond_capacity_and_one_job_per_session():
    runner = ThreadRunner(JobLimiter(1), device=CPU)
    long = TrainConfig(dataset="shapes", n=300, model="SmallResNet", epochs=100)
    first = runner.submit(long, owner="alice")
    with pytest.raises(ConfigError) as e:
        runner.submit(long, owner="alice")
    assert e.value.field == "job" and "already has" in str(e.value)
    second = runner.submit(TrainConfig(dataset="digits", n=100, epochs=1), owner="bob")
    st = runner.status(second)
    assert st.state == "queued" and st.queue_position == 1 and st.running_jobs == 1 and st.capacity == 1
    runner.stop(first)
    assert runner.join(first, timeout=5)
    assert runner.join(second, timeout=60)
    assert isinstance(runner.poll(second)[-1], Finished)
    third = runner.submit(TrainConfig(dataset="digits", n=100, epochs=1), owner="alice")  # alice's job is done
    runner.stop(third)
    assert runner.join(third, timeout=5)


def test_stopping_a_queued_job_removes_it_from_the_queue():
    runner = ThreadRunner(JobLimiter(1), device=CPU)
    first = runner.submit(TrainConfig(dataset="shapes", n=300, model="SmallResNet", epochs=100))
    queued = runner.submit(TrainConfig(dataset="digits", n=100, epochs=1))
    runner.stop(queued)
    assert runner.status(queued).state == "done" and runner.poll(queued)[-1].reason == "stopped"
    runner.stop(first)
    assert runner.join(first, timeout=5) and runner.limiter.running == 0


def test_unknown_job_and_crash_become_messages():
    runner = ThreadRunner(JobLimiter(1), device=CPU)
    with pytest.raises(ConfigError):
        runner.poll("job-999")
    job = runner.submit(TrainConfig(dataset="nope"))
    assert runner.join(job, timeout=30)
    last = runner.poll(job)[-1]
    assert isinstance(last, Failed) and "dataset" in last.message
