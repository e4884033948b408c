"""Offline data sets as tensors: scikit-learn's digits (ships in the package), generated shapes and a balanced
subset of Fashion-MNIST (shipped in assets/data, rebuilt by scripts/build_fashion_subset.py).

All come back as a :class:`Dataset` of float32 images ``(N, C, H, W)`` in [0, 1] and int64 labels, split
into train / validation by a fixed seeded permutation. Nothing is downloaded."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnviz.errors import ConfigError

DATASETS = ("digits", "shapes", "fashion")
DATASET_TITLES = {"digits": "digits (8×8)", "shapes": "shapes (32×32)", "fashion": "Fashion-MNIST (28×28 clothing)"}
SHAPE_CLASSES = ("circle", "square", "triangle")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
FASHION_NPZ = Path(__file__).resolve().parents[2] / "assets" / "data" / "fashion_mnist_subset.npz"
FASHION_INDEX = FASHION_NPZ.with_suffix(".json")  # its SHA-256, split and source, written by the build script
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Dataset:
    x_train: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    y_train: torch.Tensor  # (N,) int64
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: tuple[str, ...]

    @property
    def in_channels(self) -> int:
        return self.x_train.shape[1]

    @property
    def size(self) -> int:
        return self.x_train.shape[-1]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_counts(self) -> list[int]:
        return torch.bincount(self.y_train, minlength=self.num_classes).tolist()


def split(x: torch.Tensor, y: torch.Tensor, classes, seed: int = 0, val_fraction: float = VAL_FRACTION) -> Dataset:
    """A fixed seeded train / validation split (at least one validation image)."""
    g = torch.Generator().manual_seed(seed + 1_000_003)
    perm = torch.randperm(len(y), generator=g)
    n_val = max(1, int(round(len(y) * val_fraction)))
    val, train = perm[:n_val], perm[n_val:]
    return Dataset(x[train].contiguous(), y[train].contiguous(), x[val].contiguous(), y[val].contiguous(),
                   tuple(classes))


_DIGITS: tuple[np.ndarray, np.ndarray] | None = None


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits.csv.gz (the file ``sklearn.datasets.load_digits`` reads), read without importing
    scikit-learn itself (a slow import); cached read-only."""
    global _DIGITS
    if _DIGITS is None:
        import importlib.util
        import os
        spec = importlib.util.find_spec("sklearn")
        path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz") if spec else ""
        if os.path.exists(path):
            raw = np.loadtxt(path, delimiter=",")
            images, target = raw[:, :-1].reshape(-1, 8, 8), raw[:, -1].astype(np.int64)
        else:  # pragma: no cover - another scikit-learn layout
            from sklearn.datasets import load_digits as sk_digits
            d = sk_digits()
            images, target = d.images, d.target
        images.flags.writeable = target.flags.writeable = False
        _DIGITS = (images, target)
    return _DIGITS


def load_digits(seed: int = 0, n: int | None = None) -> Dataset:
    images, target = _digits_arrays()
    x = torch.from_numpy(images.astype(np.float32) / 16.0).unsqueeze(1)  # (1797, 1, 8, 8)
    y = torch.from_numpy(target.astype(np.int64))
    if n is not None:
        keep = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
        x, y = x[keep], y[keep]
    return split(x, y, [str(i) for i in range(10)], seed)


def make_shapes(n: int, seed: int = 0, size: int = 32, noise: float = 0.06) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images of one circle / square / triangle each: random colour, position, size, background and
    Gaussian noise; labels cycle through the classes so they stay balanced. Vectorised; deterministic."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % len(SHAPE_CLASSES)
    y = y[torch.randperm(n, generator=g)]
    u = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    r = (0.18 + 0.14 * u(n)) * size                       # (n,) half-extent in pixels
    cx = r + (size - 2 * r) * u(n)                        # centre keeps the shape inside the image
    cy = r + (size - 2 * r) * u(n)
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    yy, xx = coords.view(1, size, 1), coords.view(1, 1, size)
    dx, dy = xx - cx.view(n, 1, 1), yy - cy.view(n, 1, 1)  # (n, H, W)
    rr = r.view(n, 1, 1)
    circle = dx ** 2 + dy ** 2 <= rr ** 2
    square = torch.maximum(dx.abs(), dy.abs()) <= 0.85 * rr
    top = dy + rr                                          # 0 at the apex, 2r at the base
    triangle = (top >= 0) & (dy <= rr) & (dx.abs() <= top / 2)
    mask = torch.where((y == 0).view(n, 1, 1), circle, torch.where((y == 1).view(n, 1, 1), square, triangle))
    bg = 0.35 * u(n, 3, 1, 1)                              # dim background, bright shape: always visible
    fg = 0.55 + 0.45 * u(n, 3, 1, 1)
    x = torch.where(mask.unsqueeze(1), fg, bg)             # (n, 3, H, W)
    x = x + noise * torch.randn(n, 3, size, size, generator=g)
    return x.clamp_(0, 1).float(), y.long()


def load_shapes(seed: int = 0, n: int | None = None) -> Dataset:
    x, y = make_shapes(3000 if n is None else n, seed)
    return split(x, y, SHAPE_CLASSES, seed)


_FASHION: dict[str, np.ndarray] | None = None


def _fashion_arrays() -> dict[str, np.ndarray]:
    """The shipped subset's arrays (uint8 images, int64 labels), checked against the recorded SHA-256; cached
    read-only."""
    global _FASHION
    if _FASHION is None:
        import json
        if not FASHION_NPZ.is_file() or not FASHION_INDEX.is_file():
            raise ConfigError("dataset", "the Fashion-MNIST subset is missing from assets/data: run "
                              "python -m scripts.build_fashion_subset")
        raw = FASHION_NPZ.read_bytes()
        if hashlib.sha256(raw).hexdigest() != json.loads(FASHION_INDEX.read_text())["sha256"]:
            raise ConfigError("dataset", f"{FASHION_NPZ.name} does not match its recorded SHA-256: rebuild it")
        import io
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_val", "y_val")}
        for a in arrays.values():
            a.flags.writeable = False
        _FASHION = arrays
    return _FASHION


def load_fashion(seed: int = 0, n: int | None = None) -> Dataset:
    """The shipped Fashion-MNIST subset as (N, 1, 28, 28) in [0, 1]: its own split (training images from the
    original training set, validation images from its test set). ``n`` keeps a seeded ``n`` images, 80 / 20."""
    a = _fashion_arrays()
    xs = [torch.from_numpy(a[k].astype(np.float32) / 255.0).unsqueeze(1) for k in ("x_train", "x_val")]
    ys = [torch.from_numpy(a[k].astype(np.int64)) for k in ("y_train", "y_val")]
    if n is not None:
        g = torch.Generator().manual_seed(seed)
        n_val = min(len(ys[1]), max(1, int(round(n * VAL_FRACTION))))
        for i, k in enumerate((min(len(ys[0]), n - n_val), n_val)):
            keep = torch.randperm(len(ys[i]), generator=g)[:k]
            xs[i], ys[i] = xs[i][keep], ys[i][keep]
    return Dataset(xs[0].contiguous(), ys[0], xs[1].contiguous(), ys[1], FASHION_CLASSES)


def load_dataset(name: str, seed: int = 0, n: int | None = None) -> Dataset:
    """``name`` in ``DATASETS``; ``n`` limits the number of images (before the split)."""
    if name not in DATASETS:
        raise ConfigError("dataset", f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if n is not None and n < 10:
        raise ConfigError("n", f"needs at least 10 images, got {n}")
    return {"digits": load_digits, "shapes": load_shapes, "fashion": load_fashion}[name](seed, n)


def samples_per_class(ds: Dataset, k: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``k`` training images of each class, class by class: images (M, C, H, W) and labels (M,)."""
    idx = [torch.nonzero(ds.y_train == c).flatten()[:k] for c in range(ds.num_classes)]
    idx = torch.cat(idx)
    return ds.x_train[idx], ds.y_train[idx]
