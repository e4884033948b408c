"""Rebuild ``assets/data/fashion_mnist_subset.npz`` from Debian's ``dataset-fashion-mnist`` package.

Fashion-MNIST (Zalando Research, MIT licence): 70,000 greyscale 28×28 images of 10 kinds of clothing, 60,000 for
training and 10,000 for testing. cnnviz ships a balanced, seeded subset of it:
- training split: 600 images per class drawn from the 60,000 training images (6,000 in all);
- validation split: 100 images per class drawn from the 10,000 test images (1,000 in all), so no validation image
  was ever a training image of the original set either.

The script checks the four source files against the SHA-256 values below, reads them with
:func:`cnnviz.io.idx.read_idx`, draws the subset with a seeded generator, writes the ``.npz`` byte for byte the
same on every run (fixed zip timestamps) and records its SHA-256 in ``fashion_mnist_subset.json``; it also copies
the licence. ``--check`` rebuilds in memory and only compares with the shipped file.

    apt-get install dataset-fashion-mnist
    python -m scripts.build_fashion_subset [--check] [--source /usr/share/datasets/fashion-mnist]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from cnnviz.errors import ConfigError
from cnnviz.io.data import FASHION_CLASSES, FASHION_INDEX, FASHION_NPZ
from cnnviz.io.idx import read_idx

SOURCE = Path("/usr/share/datasets/fashion-mnist")
COPYRIGHT = Path("/usr/share/doc/dataset-fashion-mnist/copyright")
SOURCE_SHA256 = {  # the files of Debian's dataset-fashion-mnist 0.0~git20200523 (= Zalando's release)
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
TRAIN_PER_CLASS, VAL_PER_CLASS, SEED = 600, 100, 0
LICENSE = FASHION_NPZ.parent / "FASHION_MNIST_LICENSE"
LICENSE_HEAD = """Fashion-MNIST subset shipped with cnnviz (assets/data/fashion_mnist_subset.npz)

Source: Fashion-MNIST by Zalando Research, https://github.com/zalandoresearch/fashion-mnist
Paper: Han Xiao, Kashif Rasul, Roland Vollgraf. Fashion-MNIST: a Novel Image Dataset for Benchmarking
Machine Learning Algorithms. arXiv:1708.07747, 2017.
Taken from the Debian package dataset-fashion-mnist by scripts/build_fashion_subset.py: 600 training images
per class from the training set, 100 validation images per class from the test set, unchanged pixels.

The MIT License (MIT)

Copyright © 2017 Zalando SE, https://tech.zalando.com

"""
MIT_BODY = """Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including without
limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the
Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
IN THE SOFTWARE.
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_source(source: Path, name: str) -> np.ndarray:
    """One source file, refused unless its SHA-256 is the recorded one."""
    path = source / name
    if not path.is_file():
        raise ConfigError("source", f"{path} is missing: install the Debian package dataset-fashion-mnist")
    data = path.read_bytes()
    if sha256(data) != SOURCE_SHA256[name]:
        raise ConfigError("source", f"{path} has SHA-256 {sha256(data)}, expected {SOURCE_SHA256[name]}")
    return read_idx(data, name)


def balanced(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of each class, drawn without replacement, then shuffled together."""
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(len(FASHION_CLASSES))]
    out = np.concatenate(picks)
    return out[rng.permutation(len(out))]


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``np.load``-able compressed ``.npz`` whose bytes depend only on the arrays (np.savez_compressed stamps
    the current time into the zip)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def build(source: Path = SOURCE) -> tuple[bytes, dict]:
    """(the .npz bytes, its index record)."""
    x_tr, y_tr = read_source(source, "train-images-idx3-ubyte.gz"), read_source(source, "train-labels-idx1-ubyte.gz")
    x_te, y_te = read_source(source, "t10k-images-idx3-ubyte.gz"), read_source(source, "t10k-labels-idx1-ubyte.gz")
    if x_tr.shape != (60000, 28, 28) or y_tr.shape != (60000,) or x_te.shape != (10000, 28, 28):
        raise ConfigError("source", f"unexpected shapes {x_tr.shape}, {y_tr.shape}, {x_te.shape}")
    rng = np.random.default_rng(SEED)
    i_tr, i_va = balanced(y_tr, TRAIN_PER_CLASS, rng), balanced(y_te, VAL_PER_CLASS, rng)
    arrays = dict(x_train=x_tr[i_tr].astype(np.uint8), y_train=y_tr[i_tr].astype(np.int64),
                  x_val=x_te[i_va].astype(np.uint8), y_val=y_te[i_va].astype(np.int64),
                  train_index=i_tr.astype(np.int32), val_index=i_va.astype(np.int32))
    data = npz_bytes(arrays)
    record = dict(file=FASHION_NPZ.name, sha256=sha256(data), bytes=len(data), classes=list(FASHION_CLASSES),
                  train_per_class=TRAIN_PER_CLASS, val_per_class=VAL_PER_CLASS, seed=SEED,
                  split="training: 600 per class from Fashion-MNIST's 60,000 training images; validation: 100 per "
                        "class from its 10,000 test images",
                  source="Debian package dataset-fashion-mnist (https://github.com/zalandoresearch/fashion-mnist)",
                  source_sha256=SOURCE_SHA256, note="made by scripts/build_fashion_subset.py; do not edit by hand")
    return data, record


def licence_text() -> str:
    return LICENSE_HEAD + MIT_BODY


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--check", action="store_true", help="rebuild in memory and compare with the shipped file")
    args = ap.parse_args(argv)
    data, record = build(args.source)
    if args.check:
        shipped = FASHION_NPZ.read_bytes() if FASHION_NPZ.exists() else b""
        same = sha256(shipped) == record["sha256"] == json.loads(FASHION_INDEX.read_text())["sha256"]
        print(f"{FASHION_NPZ}: {'matches' if same else 'DIFFERS from'} the rebuild ({record['sha256']})")
        return 0 if same else 1
    FASHION_NPZ.parent.mkdir(parents=True, exist_ok=True)
    FASHION_NPZ.write_bytes(data)
    FASHION_INDEX.write_text(json.dumps(record, indent=1) + "\n")
    LICENSE.write_text(licence_text())
    print(f"wrote {FASHION_NPZ} ({len(data):,} bytes, SHA-256 {record['sha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
