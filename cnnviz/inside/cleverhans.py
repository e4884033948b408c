"""The Clever-Hans demo: generated shapes where a small coloured patch in the top-left corner gives the class
away. A model trained on it reaches high accuracy by looking at the patch; saliency shows where it looks, and
swapping the patches shows the accuracy was never about the shape."""
from __future__ import annotations

import torch

from cnnviz.io.data import SHAPE_CLASSES, Dataset, make_shapes, split

PATCH = 5  # pixels; top-left corner
PATCH_COLOURS = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # one per class


def add_patch(x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Paint the class's colour in a PATCH×PATCH square at the top-left of each image (N, 3, H, W)."""
    x = x.clone()
    x[:, :, :PATCH, :PATCH] = PATCH_COLOURS[labels].view(-1, 3, 1, 1)
    return x


def patch_mask(h: int, w: int) -> torch.Tensor:
    """(H, W) bool: where the give-away patch is."""
    m = torch.zeros(h, w, dtype=torch.bool)
    m[:PATCH, :PATCH] = True
    return m


def load_cleverhans(seed: int = 0, n: int = 1500) -> Dataset:
    """Shapes with the give-away patch matching the true class (train and validation alike)."""
    x, y = make_shapes(n, seed + 7)
    return split(add_patch(x, y), y, SHAPE_CLASSES, seed)


def swapped(ds: Dataset, shift: int = 1) -> torch.Tensor:
    """The validation images with each patch repainted in the *next* class's colour: a model that reads the
    patch now predicts the wrong class."""
    wrong = (ds.y_val + shift) % len(SHAPE_CLASSES)
    return add_patch(ds.x_val, wrong)


def patch_share(saliency_map: torch.Tensor) -> float:
    """Fraction of a non-negative (H, W) saliency map's mass that lies on the patch."""
    m = saliency_map.abs()
    return float(m[patch_mask(*m.shape)].sum() / m.sum().clamp_min(1e-12))
