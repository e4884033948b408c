"""Soft Dice loss for segmentation, and the sharpen/shift toy the Metrics & Losses page draws.

The hard Dice coefficient (``detection.dice``) counts pixels of thresholded masks: it has no useful gradient.
The soft Dice loss puts the predicted probabilities p in place of the predicted mask, so every pixel's p
moves the loss smoothly: 1 − (2·Σ p·g + smooth) / (Σ p + Σ g + smooth)."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.checks import Number
from cnnviz.errors import ConfigError
from cnnviz.metrics.detection import mask_iou


def _check(probs, target, smooth) -> tuple[torch.Tensor, float]:
    """Validate; returns target as probs' dtype, and smooth."""
    if not isinstance(probs, torch.Tensor):
        raise ConfigError("probs", f"must be a torch.Tensor of probabilities, got {type(probs).__name__}")
    if not isinstance(target, torch.Tensor):
        raise ConfigError("target", f"must be a torch.Tensor of 0s and 1s, got {type(target).__name__}")
    if not probs.is_floating_point():
        raise ConfigError("probs", f"must be a floating-point tensor (probabilities in [0, 1]), got {probs.dtype}")
    if probs.dim() < 2:
        raise ConfigError("probs", f"must be (N, ...) with the batch first and at least one more axis, got shape "
                                   f"{tuple(probs.shape)}")
    if target.shape != probs.shape:
        raise ConfigError("target", f"must have the shape of probs {tuple(probs.shape)}, got {tuple(target.shape)}")
    if probs.numel() == 0:
        raise ConfigError("probs", f"is empty (shape {tuple(probs.shape)})")
    if probs.dtype.itemsize < 4:  # float16, bfloat16, 8-bit floats: summed in float32 (a half sum drifts by 1e-3)
        probs = probs.float()
    if target.is_complex():
        raise ConfigError("target", "must be real 0s and 1s, got a complex tensor")
    p = probs.detach()
    if not bool(((p >= 0) & (p <= 1)).all()):  # NaN fails both comparisons
        raise ConfigError("probs", "must be probabilities in [0, 1] (no NaN): apply a sigmoid to logits first")
    t = target.detach()
    if not bool(((t == 0) | (t == 1)).all()):
        raise ConfigError("target", "must hold only 0 and 1 (the true mask)")
    return target.detach().to(probs.dtype), Number(0, 1e6).check("smooth", smooth)


def dice_loss(probs: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """Soft Dice loss: the mean over the batch (dim 0) of 1 − (2·Σ p·g + smooth) / (Σ p + Σ g + smooth), the
    sums over every other dimension. ``probs`` in [0, 1] (float), ``target`` in {0, 1}, the same shape.
    Differentiable in ``probs``; ``smooth`` keeps an empty target with an empty prediction at loss 0."""
    g, smooth = _check(probs, target, smooth)
    probs = probs.to(g.dtype)
    dims = tuple(range(1, probs.dim()))
    inter = (probs * g).sum(dims)                            # (N,)
    denom = probs.sum(dims) + g.sum(dims) + smooth           # (N,)
    if bool((denom.detach() == 0).any()):
        raise ConfigError("smooth", "must be > 0 when a sample has an empty target and an all-zero prediction")
    return (1 - (2 * inter + smooth) / denom).mean()


@dataclass(frozen=True)
class SoftDiceView:
    """One predicted probability mask against a target, with the numbers the page shows."""

    probs: np.ndarray        # (H, W) predicted probabilities
    target: np.ndarray       # (H, W) 0/1
    smooth: float
    intersection: float      # Σ p·g
    sum_p: float             # Σ p
    sum_g: float             # Σ g
    dice_loss: float
    bce: float               # mean binary cross-entropy over the pixels
    iou: float               # IoU of the thresholded mask p ≥ 0.5 with the target
    empty_dice_loss: float   # the same losses for "background everywhere" (p = 0.05 on every pixel)
    empty_bce: float

    @property
    def latex(self) -> str:
        return (r"\mathcal{L}_{Dice} = 1 - \frac{2\sum p\,g + s}{\sum p + \sum g + s}"
                rf" = 1 - \frac{{2\cdot{self.intersection:.2f} + {self.smooth:g}}}"
                rf"{{{self.sum_p:.2f} + {self.sum_g:g} + {self.smooth:g}}} = {self.dice_loss:.3f}")


def soft_dice_view(shift: float = 0.0, temperature: float = 1.0, small: bool = False, size: int = 32,
                   smooth: float = 1.0) -> SoftDiceView:
    """A disk target (radius 8, or 2 for ``small``) at the centre of a (size, size) grid, and a prediction
    p = sigmoid((r − distance to the centre shifted right by ``shift``) / temperature): a low temperature
    sharpens it towards a hard mask, a high one blurs it towards 0.5."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not 8 <= size <= 256:
        raise ConfigError("size", f"must be a whole number from 8 to 256, got {size!r}")
    if not isinstance(temperature, numbers.Real) or not temperature > 0 or not math.isfinite(temperature):
        raise ConfigError("temperature", f"must be a number > 0, got {temperature!r}")
    if not isinstance(shift, numbers.Real) or not math.isfinite(shift):
        raise ConfigError("shift", f"must be a finite number, got {shift!r}")
    r, c = (2.0 if small else 8.0), size / 2
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    target = ((xx - c) ** 2 + (yy - c) ** 2 <= r * r).astype(np.float64)
    dist = np.sqrt((xx - c - shift) ** 2 + (yy - c) ** 2)
    p = torch.sigmoid(torch.from_numpy((r - dist) / temperature))[None]   # (1, H, W)
    g = torch.from_numpy(target)[None]                                        # (1, H, W)
    empty = torch.full_like(p, 0.05)
    return SoftDiceView(p[0].numpy(), target, float(smooth), float((p * g).sum()), float(p.sum()),
                        float(g.sum()), float(dice_loss(p, g, smooth)), float(F.binary_cross_entropy(p, g)),
                        mask_iou(p[0].numpy() >= 0.5, target), float(dice_loss(empty, g, smooth)),
                        float(F.binary_cross_entropy(empty, g)))
