"""TensorFlow/Keras ``padding="same"`` for one axis, and MACs from FLOPs.

PyTorch's ``padding='same'`` works only with stride 1; TF's works with any stride by choosing the output size
first (out = ⌈L/S⌉) and padding as little as that needs, the odd extra cell after. ``tf_same_padding`` gives
the explicit ``(before, after)`` that reproduces it with ``F.pad`` before a PyTorch convolution.

Kept apart from ``arithmetic`` (which re-exports it) so that module stays one topic under ~300 lines.
May import: cnnviz.errors only (``arithmetic`` imports this module)."""
from __future__ import annotations

import numbers

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError


def _whole(field: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(field, f"must be a whole number, got {safe_repr(value)}")
    if value < minimum:
        raise ConfigError(field, f"must be ≥ {minimum}, got {safe_repr(value)}")
    return int(value)


def tf_same_padding(size, kernel_size, stride=1, dilation=1) -> tuple[int, int, int]:
    """(before, after, out) of TF/Keras ``padding="same"`` along one axis of length ``size`` L:
    out = ⌈L/S⌉, total = max((out − 1)·S + d·(k − 1) + 1 − L, 0), before = ⌊total/2⌋, after = total − before.
    With stride 1 the split is PyTorch's ``padding='same'`` (the odd extra cell after, too)."""
    L = _whole("size", size, 1)
    k = _whole("kernel_size", kernel_size, 1)
    s = _whole("stride", stride, 1)
    d = _whole("dilation", dilation, 1)
    out = -(-L // s)  # ⌈L/S⌉ in integers
    total = max((out - 1) * s + d * (k - 1) + 1 - L, 0)
    before = total // 2
    return before, total - before, out


def macs_from_flops(flops) -> int:
    """Multiply-accumulates from FLOPs counted as ``FlopCounterMode`` does (2 FLOPs per multiply-add):
    MACs = FLOPs / 2. Under that convention pooling, activations and normalisation count 0 (other tools,
    e.g. fvcore or ptflops, count some of them), so this halving holds for the conv/linear FLOPs shown here."""
    return _whole("flops", flops, 0) // 2


def tf_same_length_in_pytorch(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> int:
    """The output length PyTorch itself computes for ``F.pad(x, (before, after))`` then ``F.conv1d`` with this
    stride and dilation: the check behind the page's badge (it must equal ⌈L/S⌉)."""
    import torch
    import torch.nn.functional as F
    before, after, _ = tf_same_padding(size, kernel_size, stride, dilation)
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel_size)  # (N, C, L), (C_out, C_in, k)
    return int(F.conv1d(F.pad(x, (before, after)), w, stride=stride, dilation=dilation).shape[-1])


def transposed_as_direct(kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                         output_padding: int = 0) -> tuple[int, int, int]:
    """(pad before, pad after, zeros inserted between input cells) of the stride-1 direct convolution that equals
    ``nn.ConvTranspose1d(kernel_size, stride, padding, output_padding, dilation=dilation)`` along one axis, with
    the kernel flipped (Dumoulin & Visin, "A guide to convolution arithmetic", §4): s − 1 zeros between input
    cells, d·(k − 1) − p cells before, and the output padding's extra cells after. Its output length
    (L − 1)·s + 1 + before + after − d·(k − 1) is PyTorch's (L − 1)·s − 2p + d·(k − 1) + output_padding + 1."""
    k, s = _whole("kernel_size", kernel_size, 1), _whole("stride", stride, 1)
    p, d = _whole("padding", padding, 0), _whole("dilation", dilation, 1)
    op = _whole("output_padding", output_padding, 0)
    before = d * (k - 1) - p
    return before, before + op, s - 1
