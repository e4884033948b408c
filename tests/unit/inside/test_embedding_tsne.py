"""t-SNE as a job: the job's coordinates equal scikit-learn's TSNE with the same seed on the same features, its
progress counts scikit-learn's own iterations, Stop ends it within an iteration, it pickles (the runner sends it
to a child process), it ends with the runner's Finished like every job kind (so the job storage reads it as ended,
not interrupted), and a bad perplexity is refused naming the field."""
import pickle
import threading

import numpy as np
import pytest
from sklearn.manifold import TSNE

from cnnviz.errors import ConfigError
from cnnviz.inside import TsneJob, TsneResult, TsneStep, check_perplexity, tsne_2d
from cnnviz.jobs import Finished, ThreadRunner


def features(n: int = 45, d: int = 6, seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed)
    centres = g.normal(0, 4, (3, d))
    return (centres[np.arange(n) % 3] + g.normal(0, 1, (n, d))).astype(np.float32)


def run(job, stop=None):
    events = []
    job.run(events.append, stop or threading.Event(), None)
    return events


def test_job_coordinates_equal_sklearn_tsne_and_progress_counts_its_iterations():
    f = features()
    job = TsneJob(f, perplexity=9.5, seed=3, max_iter=300)
    events = run(pickle.loads(pickle.dumps(job)))  # as the runner's child process gets it
    sk = TSNE(n_components=2, perplexity=9.5, random_state=3, init="pca", learning_rate="auto", max_iter=300)
    ref = sk.fit_transform(f)
    end, last = events[-2:]
    assert isinstance(end, TsneResult) and end.reason == "done"
    assert last == Finished(end.step, 0, "done", 0.0)  # the end every job kind reports
    np.testing.assert_allclose(np.array(end.coords), ref, rtol=1e-6, atol=1e-6)
    steps = [e.step for e in events if isinstance(e, TsneStep)]
    assert steps[0] == 0 and steps == sorted(steps) and len(steps) >= 2
    assert end.step == sk.n_iter_ + 1  # one objective call per iteration of scikit-learn's loop
    np.testing.assert_allclose(tsne_2d(f, 9.5, 3, 300), ref, rtol=1e-6, atol=1e-6)  # no hook: the same


def test_stop_ends_the_job_within_an_iteration():
    stop = threading.Event()
    events = []

    def emit(e):
        events.append(e)
        if isinstance(e, TsneStep) and e.step >= 25:
            stop.set()

    TsneJob(features(), perplexity=5, seed=0, max_iter=1000).run(emit, stop, None)
    end, last = events[-2:]
    assert isinstance(end, TsneResult) and end.reason == "stopped" and end.coords == ()
    assert end.step == 26  # stopped at the first iteration after the one that asked
    assert last == Finished(26, 0, "stopped", 0.0)


def test_a_finished_job_is_kept_as_ended_not_interrupted():
    """The job storage reads a job as ended by its last event's kind (Finished or Failed): before, a t-SNE job's
    last event was its TsneResult, so a restarted server (or another replica) read a finished t-SNE as
    interrupted."""
    runner = ThreadRunner()  # writes to this test's job storage (tests/conftest.py)
    job = runner.submit(TsneJob(features(n=12), perplexity=3, seed=0, max_iter=250), owner="o" * 43)
    assert runner.join(job, timeout=60)
    assert runner.kept.store.last_kind(job) == "Finished" and runner.kept.store.is_done(job)
    assert runner.kept.settle(job) == "done" and isinstance(runner.kept.events(job)[-1], Finished)


@pytest.mark.parametrize("bad", [0.5, 45, 44.5, 101, float("nan"), "30", True])
def test_bad_perplexity_is_refused_naming_the_field(bad):
    with pytest.raises(ConfigError) as e:
        TsneJob(features(n=45), perplexity=bad)
    assert e.value.field == "perplexity"


def test_perplexity_bounds_follow_the_number_of_points():
    assert check_perplexity(44, 45) == 44.0 and check_perplexity(100, 500) == 100.0
    with pytest.raises(ConfigError):
        check_perplexity(100, 100)  # scikit-learn's rule: below the number of points


@pytest.mark.parametrize("kw,field", [(dict(max_iter=100), "max_iter"), (dict(seed=-1), "seed"),
                                      (dict(features=np.zeros((2, 5), np.float32)), "features"),
                                      (dict(features=np.full((9, 3), np.nan, np.float32)), "features")])
def test_other_bad_settings_name_their_field(kw, field):
    args = dict(features=features(), perplexity=3.0) | kw
    with pytest.raises(ConfigError) as e:
        TsneJob(**args)
    assert e.value.field == field
