"""Which input cells one output cell of a spatial layer reads: the window of a Conv2d, MaxPool2d, AvgPool2d or
adaptive pooling layer, in the layer's *unpadded* input coordinates (negative or ≥ size: a padding cell)."""
from __future__ import annotations

import math

import torch.nn as nn

SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def geometry(m: nn.Module) -> tuple[tuple[int, int], ...]:
    """(kernel, stride, padding before the first row/column, dilation) of a conv or pooling module, per axis.
    A conv's padding is what PyTorch really applies (``padding='same'`` puts the odd cell at the end)."""
    if isinstance(m, nn.Conv2d):
        r = m._reversed_padding_repeated_twice  # [left, right, top, bottom]
        return _pair(m.kernel_size), _pair(m.stride), (int(r[2]), int(r[0])), _pair(m.dilation)
    if isinstance(m, nn.MaxPool2d):
        k = _pair(m.kernel_size)
        return k, _pair(m.stride if m.stride is not None else k), _pair(m.padding), _pair(m.dilation)
    if isinstance(m, nn.AvgPool2d):
        k = _pair(m.kernel_size)
        return k, _pair(m.stride if m.stride is not None else k), _pair(m.padding), (1, 1)
    raise TypeError(type(m).__name__)


def axis_window(m: nn.Module, axis: int, i: int, size_in: int, size_out: int) -> list[int]:
    """The input indices (one axis) that output index ``i`` reads, padding cells included, in order."""
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):  # PyTorch's adaptive split of the axis
        lo, hi = (i * size_in) // size_out, math.ceil((i + 1) * size_in / size_out)
        return list(range(lo, hi))
    (k, s, p, d) = (g[axis] for g in geometry(m))
    return [i * s - p + d * t for t in range(k)]


def window(m: nn.Module, i: int, j: int, in_hw: tuple[int, int], out_hw: tuple[int, int]
           ) -> tuple[list[int], list[int]]:
    """Rows and columns (input coordinates, padding included) that output cell (i, j) reads."""
    return (axis_window(m, 0, i, in_hw[0], out_hw[0]), axis_window(m, 1, j, in_hw[1], out_hw[1]))
