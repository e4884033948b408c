"""A Training Lab run before and after training: the initial weights rebuilt from the checkpoint's spec and seed
equal the ones the training loop started from, the last weights equal the checkpoint's, and both embeddings sit on
the PCA axes scikit-learn fits on the last model's features (the first one through ``PCA.transform``)."""
import threading

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from cnnviz.errors import ConfigError
from cnnviz.inside import first_and_last, penultimate_features, project, pca_2d, run_checkpoint
from cnnviz.training import TrainConfig, load_checkpoint, run_training
from cnnviz.training.loop import build, get_data


@pytest.fixture(scope="module")
def trained():
    cfg = TrainConfig(dataset="digits", seed=5, n=300, width=8, epochs=2, batch_size=32)
    kept = []
    run_training(cfg, lambda e: None, threading.Event(), kept.append, device=torch.device("cpu"))
    data = get_data(cfg)
    start = build(cfg, data, torch.device("cpu"))[0]  # what the loop started from
    return cfg, kept[-1], data, start


def test_first_is_the_loops_initial_model_and_last_the_checkpoint(trained):
    cfg, ckpt, data, start = trained
    rc = run_checkpoint(ckpt)
    assert rc.seed == 5 and rc.n == 300 and rc.dataset == "digits" and rc.epoch == 2
    assert rc.classes == tuple(data.classes)
    for k, v in start.state_dict().items():
        torch.testing.assert_close(rc.first.state_dict()[k], v, rtol=0, atol=0)
    saved, _ = load_checkpoint(ckpt)
    for k, v in saved.state_dict().items():
        torch.testing.assert_close(rc.last.state_dict()[k], v, rtol=0, atol=0)
    assert any(not torch.equal(v, rc.first.state_dict()[k]) for k, v in saved.state_dict().items())


def test_both_embeddings_on_the_pca_axes_of_the_last(trained):
    _, ckpt, data, _ = trained
    rc = run_checkpoint(ckpt)
    x, y = data.x_val, data.y_val
    first, last = first_and_last(rc.first, rc.last, x, y)
    f_first = penultimate_features(rc.first, x).double().numpy()
    f_last = penultimate_features(rc.last, x).double().numpy()
    sk = PCA(n_components=2).fit(f_last)
    ref_last, ref_first = sk.transform(f_last), sk.transform(f_first)
    signs = np.sign((last.coords.numpy() * ref_last).sum(0))  # components are defined up to sign
    np.testing.assert_allclose(last.coords.numpy(), ref_last * signs, atol=1e-8)
    np.testing.assert_allclose(first.coords.numpy(), ref_first * signs, atol=1e-8)
    np.testing.assert_allclose(last.ratio, sk.explained_variance_ratio_, rtol=1e-8)
    own = f_first - f_first.mean(0)  # the first's own variance kept by each axis
    share = ((own @ sk.components_.T) ** 2).sum(0) / (own ** 2).sum()
    np.testing.assert_allclose(first.ratio, share, rtol=1e-8)
    with torch.no_grad():
        assert torch.equal(first.predictions, rc.first(x).argmax(1)) and torch.equal(last.predictions,
                                                                                   rc.last(x).argmax(1))
    assert torch.equal(first.wrong, first.predictions != y) and torch.equal(last.labels, y)


def test_refusals_name_the_field():
    with pytest.raises(ConfigError) as e:
        run_checkpoint("not bytes")
    assert e.value.field == "checkpoint"
    with pytest.raises(ConfigError):
        run_checkpoint(b"garbage")
    p = pca_2d(torch.randn(10, 4, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ConfigError) as e:
        project(p, torch.zeros(3, 5))
    assert e.value.field == "features"
