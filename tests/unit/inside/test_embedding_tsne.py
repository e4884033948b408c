"""t-SNE as a job: the job's coordinates equal scikit-learn's TSNE with the same seed on the same features, its
progress counts scikit-learn's own iterations, Stop ends it within an iteration, it pickles (the runner sends it
to a child process), and a bad perplexity is refused naming the field."""
import pickle
import threading

import numpy as np
import pytest
from sklearn.manifold import TSNE

from cnnviz.errors import ConfigError
from cnnviz.inside import TsneJob, TsneResult, TsneStep, check_perplexity, tsne_2d


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
    end = events[-1]
    assert isinstance(end, TsneResult) and end.reason == "done"
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
    assert isinstance(events[-1], TsneResult) and events[-1].reason == "stopped" and events[-1].coords == ()
    assert events[-1].step == 26  # stopped at the first iteration after the one that asked


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
