"""The training loop (accuracy, resume) and the job limiter; what every runner does is in tests/support/runner_contract.py."""
import threading

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.jobs import Evaluation, Finished, Progress
from cnnviz.training import TrainConfig, load_checkpoint
from cnnviz.training.loop import run_training
from cnnviz.jobs.runner import JobLimiter

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
    from cnnviz.io.data import load_dataset
    ds = load_dataset("digits")
    with torch.no_grad():
        acc = (model(ds.x_val).argmax(1) == ds.y_val).float().mean().item()
    assert acc == pytest.approx(evals[-1].val_acc) and meta["epoch"] == 2 and meta["classes"] == tuple("0123456789")
    # every stage of the loop was timed
    assert evals[-1].timings["forward"] > 0 and evals[-1].timings["backward"] > 0


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
