"""The shipped Fashion-MNIST subset: its bytes match the recorded SHA-256, the classes are exactly balanced
(600 training and 100 validation images each), no image is in both splits, the licence ships with it, and
load_dataset("fashion") gives the same pixels and labels as tensors."""
import hashlib
import json

import numpy as np
import pytest
import torch

from cnnviz import ConfigError
from cnnviz.io import data as data_mod
from cnnviz.io.data import DATASETS, FASHION_CLASSES, FASHION_INDEX, FASHION_NPZ, load_dataset

from scripts import build_fashion_subset as script


def test_checksum_matches_the_record_and_the_script():
    record = json.loads(FASHION_INDEX.read_text())
    raw = FASHION_NPZ.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == record["sha256"] and len(raw) == record["bytes"]
    assert len(raw) < 4 * 2 ** 20                                  # a few MB at most
    assert record["source_sha256"] == script.SOURCE_SHA256 and record["classes"] == list(FASHION_CLASSES)
    assert (record["train_per_class"], record["val_per_class"]) == (script.TRAIN_PER_CLASS, script.VAL_PER_CLASS)
    licence = (FASHION_NPZ.parent / "FASHION_MNIST_LICENSE").read_text()
    assert "MIT" in licence and "Zalando SE" in licence and "zalandoresearch/fashion-mnist" in licence
    assert licence == script.licence_text()


def test_exact_class_balance_dtypes_and_disjoint_splits():
    with np.load(FASHION_NPZ, allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    assert a["x_train"].shape == (6000, 28, 28) and a["x_val"].shape == (1000, 28, 28)
    assert a["x_train"].dtype == np.uint8 and a["y_train"].dtype == np.int64 and a["y_val"].dtype == np.int64
    assert np.bincount(a["y_train"], minlength=10).tolist() == [600] * 10
    assert np.bincount(a["y_val"], minlength=10).tolist() == [100] * 10
    assert len(set(a["train_index"].tolist())) == 6000 and len(set(a["val_index"].tolist())) == 1000
    train = {x.tobytes() for x in a["x_train"]}
    assert sum(x.tobytes() in train for x in a["x_val"]) == 0
    assert not np.array_equal(a["y_train"][:10], np.sort(a["y_train"][:10]))  # shuffled, not class by class


def test_load_dataset_gives_the_shipped_pixels_and_a_seeded_subsample():
    assert "fashion" in DATASETS and data_mod.DATASET_TITLES["fashion"] == "Fashion-MNIST (28×28 clothing)"
    ds = load_dataset("fashion")
    assert ds.classes == FASHION_CLASSES and ds.num_classes == 10 and ds.in_channels == 1 and ds.size == 28
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    with np.load(FASHION_NPZ) as z:
        assert torch.equal(ds.x_val[:, 0], torch.from_numpy(z["x_val"]).float() / 255)
        assert torch.equal(ds.y_train, torch.from_numpy(z["y_train"]))
    assert ds.class_counts() == [600] * 10
    a, b = load_dataset("fashion", seed=1, n=200), load_dataset("fashion", seed=1, n=200)
    assert (len(a.y_train), len(a.y_val)) == (160, 40) and torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.y_train, load_dataset("fashion", seed=2, n=200).y_train)
    ds.x_train[0, 0, 0, 0] = 7.0                                    # a caller's copy: the cache stays as it was
    assert float(load_dataset("fashion").x_train[0, 0, 0, 0]) != 7.0


def test_a_changed_file_is_refused(monkeypatch, tmp_path):
    bad = tmp_path / "fashion_mnist_subset.npz"
    raw = bytearray(FASHION_NPZ.read_bytes())
    raw[len(raw) // 2] ^= 0xFF                                      # one byte of the compressed pixels
    bad.write_bytes(bytes(raw))
    (tmp_path / "fashion_mnist_subset.json").write_text(FASHION_INDEX.read_text())
    monkeypatch.setattr(data_mod, "FASHION_NPZ", bad)
    monkeypatch.setattr(data_mod, "FASHION_INDEX", bad.with_suffix(".json"))
    monkeypatch.setattr(data_mod, "_FASHION", None)
    with pytest.raises(ConfigError, match="SHA-256"):
        load_dataset("fashion")
    monkeypatch.setattr(data_mod, "FASHION_NPZ", tmp_path / "gone.npz")
    with pytest.raises(ConfigError, match="build_fashion_subset"):
        load_dataset("fashion")


@pytest.mark.skipif(not script.SOURCE.exists(), reason="dataset-fashion-mnist not installed")
def test_a_source_file_with_another_checksum_is_refused(tmp_path):
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b tampered")
    with pytest.raises(ConfigError, match="expected 8d3605d1"):
        script.read_source(tmp_path, "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(ConfigError, match="dataset-fashion-mnist"):
        script.read_source(tmp_path, "train-labels-idx1-ubyte.gz")
