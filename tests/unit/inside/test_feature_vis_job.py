"""Feature visualisation as a job: the job's images equal the inline computation's for the same seed (a shipped
model sent by its key, any other model sent as a copy), Stop ends it within one step, it reports its progress, the
cost estimate is the arithmetic it says (and refuses beyond the caps), it ends with the runner's Finished like every
job kind, and bad jobs are refused when made."""
import pickle
import threading

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.inside import check_cost, load_model, visualise_channel
from cnnviz.inside.feature_vis_job import (FLOPS_PER_S, INLINE_MAX_S, STEP_OVERHEAD_S, FeatureVisDone, FeatureVisJob,
                                           FeatureVisStep, estimate_seconds, job_done, job_step, runs_as_job)
from cnnviz.jobs import Finished, ThreadRunner
from cnnviz.limits import FEATURE_VIS_MAX_STEPS

LAYER, SHAPE = "features.7", (1, 8, 8)  # the digits TinyVGG's last conv layer, its input


@pytest.fixture(scope="module")
def digits():
    return load_model("digits_TinyVGG")[0]


def test_job_through_the_runner_equals_the_inline_computation(digits):
    runner = ThreadRunner(storage=False)  # the page's runner in-process (the app's puts it in a child process)
    settings = dict(steps=24, images=2, jitter=True, robust=True, fourier=True, blur=True, seed=3)
    jobs = {"key": FeatureVisJob(LAYER, 4, SHAPE, model_key="digits_TinyVGG", **settings),
            "copy": FeatureVisJob(LAYER, 4, SHAPE, model=digits, **settings)}
    want = visualise_channel(digits, LAYER, 4, SHAPE, **settings)
    for name, job in jobs.items():
        jid = runner.submit(job)
        assert runner.join(jid, timeout=60)
        events = runner.poll(jid)
        done = job_done(events)
        assert events[-2] is done and done.reason == "done" and done.step == 24, name
        assert events[-1] == Finished(24, 0, "done", 0.0), name  # the end every job kind reports
        assert torch.equal(done.result.images, want.images), name
        assert done.result.activation == want.activation and not done.result.stopped
        steps = [e.step for e in events if isinstance(e, FeatureVisStep)]
        assert steps == list(range(1, 25)) and job_step(events).total == 24  # every step (24 < 50 reports)


def test_stop_ends_the_job_within_a_step(digits):
    stop, seen = threading.Event(), []

    def emit(event):
        seen.append(event)
        if isinstance(event, FeatureVisStep) and event.step == 8:  # reports every 200 // 50 = 4 steps
            stop.set()

    FeatureVisJob(LAYER, 0, SHAPE, steps=200, model=digits).run(emit, stop, None, "cpu")
    done = seen[-2]
    assert isinstance(done, FeatureVisDone) and done.reason == "stopped" and seen[-1] == Finished(8, 0, "stopped", 0.0)
    assert done.step == 8 and done.result.steps_done == 8 and done.result.stopped
    assert max(e.step for e in seen if isinstance(e, FeatureVisStep)) == 8


def test_progress_is_reported_about_fifty_times(digits):
    seen = []
    FeatureVisJob(LAYER, 1, SHAPE, steps=200, fourier=False, model=digits).run(seen.append, threading.Event())
    steps = [e.step for e in seen if isinstance(e, FeatureVisStep)]
    assert steps == list(range(4, 201, 4))  # every 200 // 50 = 4 steps, the last one included
    assert all(e.eta_s >= 0 for e in seen if isinstance(e, FeatureVisStep)) and seen[-3].eta_s == 0  # then the result, then Finished


def test_estimate_is_the_arithmetic_and_refuses_beyond_the_caps(digits):
    for steps, images in ((8, 1), (64, 3), (512, 6)):
        flops = check_cost(digits, SHAPE, steps, images)  # steps × images × 3 × forward FLOPs
        assert estimate_seconds(digits, SHAPE, steps, images) == pytest.approx(
            steps * STEP_OVERHEAD_S + flops / FLOPS_PER_S)
    assert not runs_as_job(digits, SHAPE, 64, 1)  # the page's default: inline
    assert runs_as_job(digits, SHAPE, 512, 6) == (estimate_seconds(digits, SHAPE, 512, 6) > INLINE_MAX_S) is True
    with pytest.raises(ConfigError) as err:
        estimate_seconds(digits, SHAPE, FEATURE_VIS_MAX_STEPS + 1, 1)
    assert err.value.field == "steps"


def test_bad_jobs_are_refused_and_a_job_pickles(digits):
    for kw, field in ((dict(), "model"), (dict(model_key="digits_TinyVGG", model=digits), "model"),
                      (dict(model="not a model"), "model"), (dict(model_key="x", channel=-1), "channel"),
                      (dict(model_key="x", shape=(1, 8)), "size")):
        args = dict(layer=LAYER, channel=0, shape=SHAPE) | kw
        with pytest.raises(ConfigError) as err:
            FeatureVisJob(**args)
        assert err.value.field == field, kw
    job = FeatureVisJob(LAYER, 0, [1, 8, 8], model=digits)
    assert job.shape == SHAPE and next(job.model.parameters()) is not next(digits.parameters())  # a copy
    back = pickle.loads(pickle.dumps(job))
    assert back == job and torch.equal(back.model.features[0].weight, digits.features[0].weight.cpu())
