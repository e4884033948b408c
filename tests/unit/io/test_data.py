"""Offline data sets: shapes, ranges, seeded determinism, the split, and the error for unknown names."""

import numpy as np
import pytest
import torch

from cnnviz import ConfigError
from cnnviz.io.data import load_dataset, make_shapes, samples_per_class


def test_digits_matches_sklearn_and_splits_without_overlap():
    from sklearn.datasets import load_digits
    raw = load_digits()
    ds = load_dataset("digits")
    assert ds.x_train.shape[1:] == (1, 8, 8) and ds.x_train.dtype == torch.float32
    assert ds.y_train.dtype == torch.int64 and ds.classes == tuple("0123456789")
    assert len(ds.y_train) + len(ds.y_val) == 1797 and len(ds.y_val) == 359  # round(0.2 · 1797)
    assert float(ds.x_train.max()) == 1.0 and float(ds.x_train.min()) == 0.0
    # every split image is a scaled sklearn image with its own label (no mixing of x and y)
    table = {tuple((img / 16).ravel().round(6)): int(t) for img, t in zip(raw.images, raw.target)}
    for x, y in zip(ds.x_val[:50], ds.y_val[:50]):
        assert table[tuple(np.round(x.numpy().ravel().astype(np.float64), 6))] == int(y)
    train = {tuple(x.numpy().ravel()) for x in ds.x_train}
    assert sum(tuple(x.numpy().ravel()) in train for x in ds.x_val) < 10  # sklearn has a few duplicate images


def test_same_seed_same_data_other_seed_other_split():
    a, b, c = load_dataset("digits", seed=3), load_dataset("digits", seed=3), load_dataset("digits", seed=4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.y_val, c.y_val)
    s1, s2 = load_dataset("shapes", seed=1, n=300), load_dataset("shapes", seed=1, n=300)
    assert torch.equal(s1.x_train, s2.x_train)
    assert not torch.equal(s1.x_train, load_dataset("shapes", seed=2, n=300).x_train)


def test_shapes_are_balanced_and_in_range():
    ds = load_dataset("shapes")   # its speed is a benchmark's business, not a timed test's
    assert ds.x_train.shape == (2400, 3, 32, 32) and ds.x_val.shape == (600, 3, 32, 32)
    assert ds.classes == ("circle", "square", "triangle")
    assert 0.0 <= float(ds.x_train.min()) and float(ds.x_train.max()) <= 1.0
    counts = torch.bincount(torch.cat([ds.y_train, ds.y_val]))
    assert counts.tolist() == [1000, 1000, 1000]


def test_shape_areas_match_geometry():
    """Without noise the bright pixels are the shape: circle ≈ πr² > square (1.7r)² = 2.89r² > triangle ≈ 2r²."""
    x, y = make_shapes(600, seed=0, noise=0.0)
    fg = (x.min(dim=1).values >= 0.55).float().sum(dim=(1, 2))  # foreground channels are all ≥ 0.55
    # every image has a visible shape
    assert bool((fg > 20).all())
    means = [float(fg[y == c].mean()) for c in range(3)]
    assert means[0] > means[1] > means[2]
    assert 1.3 < means[0] / means[2] < 1.8  # π / 2 ≈ 1.57 (same radius distribution for every class)


def test_n_limits_and_samples_per_class():
    ds = load_dataset("digits", n=100)
    assert len(ds.y_train) + len(ds.y_val) == 100
    xs, ys = samples_per_class(load_dataset("shapes", n=90), k=4)
    assert ys.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and xs.shape == (12, 3, 32, 32)


def test_unknown_dataset_names_field():
    with pytest.raises(ConfigError) as e:
        load_dataset("cifar10")
    assert e.value.field == "dataset" and "digits" in str(e.value)
