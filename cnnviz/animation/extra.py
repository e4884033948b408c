"""More step-by-step traces: transposed convolution as scatter, multi-channel sums, and the pitfalls demos.

``conv_transpose2d_steps`` gives one step per *input* cell: that cell stamps ``x[i, j] · weight`` into the output
(the inverse view of convolution). After the last step the output equals ``F.conv_transpose2d``. How many stamps
hit each output cell (:func:`overlap_counts`) is what makes checkerboard artifacts when kernel % stride ≠ 0.

Validation is :func:`cnnviz.geometry.arithmetic.conv_geometry` (``transposed=True``), which rejects what PyTorch
rejects.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.animation.conv2d import Trace, _check_size, _grid, conv2d_steps, real_array
from cnnviz.geometry.arithmetic import conv_geometry
from cnnviz.errors import ConfigError
from cnnviz.checks import Number, OneOf, Seq, checked
from cnnviz.limits import ANIMATION_MAX_SIDE, MAX_INT

SEED = Number(0, 2**32 - 1, integer=True)  # numpy's default_rng takes any int ≥ 0; a page's seeds are small
SIDES = Seq(Number(1, ANIMATION_MAX_SIDE, integer=True), min_len=2, max_len=2)  # (rows, columns) this module allocates
KERNEL_SIZE = OneOf(Number(1, ANIMATION_MAX_SIDE, integer=True), SIDES)  # k, or (k_h, k_w)


@dataclass(frozen=True)
class StampStep:
    """One input cell of a transposed convolution and where its stamp lands."""

    inp: tuple[int, int]                    # (row, col) of the input cell
    value: float                            # x[row, col]
    targets: tuple[tuple[int, int], ...]    # output (row, col) per kernel tap, kernel row-major (may be cropped)
    contributions: tuple[float, ...]        # x[row, col] · weight per tap
    inside: tuple[bool, ...]                # whether each target lies inside the output (padding crops the rest)


class StampTrace(tuple):
    """A tuple of :class:`StampStep` plus the output after every step and the overlap counts."""

    x: np.ndarray
    weight: np.ndarray
    bias: float
    out_shape: tuple[int, int]
    output: np.ndarray          # (out_h, out_w): the final output (bias included)
    counts: np.ndarray          # (out_h, out_w) int: how many stamps (input cell × tap) land on each output cell
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    output_padding: tuple[int, int]

    def __new__(cls, steps, **attrs):
        obj = super().__new__(cls, steps)
        for k, v in attrs.items():
            setattr(obj, k, v)
        return obj

    def partial(self, k: int) -> np.ndarray:
        """The output after the first ``k`` stamps (bias included), as it fills in."""
        out = np.full(self.out_shape, self.bias)
        for s in self[:k]:
            for (r, c), v, ok in zip(s.targets, s.contributions, s.inside):
                if ok:
                    out[r, c] += v
        return out


def conv_transpose2d_steps(x, weight, stride=1, padding=0, output_padding=0, dilation=1, bias=0.0) -> StampTrace:
    """One step per input cell of ``F.conv_transpose2d(x[None, None], weight[None, None], ...)``, row-major.

    Input cell (i, j) stamps tap (a, e) at output (i·s − p + a·d, j·s − p + e·d); stamps outside the output are
    what the padding crops away.
    """
    x, w = _grid("x", x), _grid("weight", weight)
    try:
        bias = float(bias)
    except (TypeError, ValueError):
        raise ConfigError("bias", f"must be a number, got {bias!r}") from None
    g = conv_geometry((1, *x.shape), 1, w.shape, stride, padding, dilation, transposed=True,
                      output_padding=output_padding)
    (oh, ow), (kh, kw) = g.spatial_out, g.kernel
    (sh, sw), (dh, dw), (ph, pw) = g.stride, g.dilation, g.pad_lo
    _check_size(x.size, kh * kw)
    if oh * ow > 4096:
        raise ConfigError("steps", f"a {oh}×{ow} output is more than 4,096 cells; use a smaller input or stride")
    taps = [(a * dh, e * dw) for a in range(kh) for e in range(kw)]
    flat_w = w.reshape(-1)
    output, counts, steps = np.full((oh, ow), bias), np.zeros((oh, ow), dtype=int), []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            targets = tuple((i * sh - ph + a, j * sw - pw + e) for a, e in taps)
            inside = tuple(0 <= r < oh and 0 <= c < ow for r, c in targets)
            contrib = tuple((x[i, j] * flat_w).tolist())
            for (r, c), v, ok in zip(targets, contrib, inside):
                if ok:
                    output[r, c] += v
                    counts[r, c] += 1
            steps.append(StampStep((i, j), float(x[i, j]), targets, contrib, inside))
    return StampTrace(steps, x=x, weight=w, bias=bias, out_shape=(oh, ow), output=output, counts=counts,
                      stride=g.stride, padding=g.pad_lo, dilation=g.dilation, output_padding=g.output_padding)


@checked(in_shape=SIDES, kernel_size=KERNEL_SIZE)
def overlap_counts(in_shape, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> np.ndarray:
    """(out_h, out_w) int: how many kernel stamps land on each output cell of a transposed convolution.

    Uneven counts in the interior (e.g. 1, 2, 4 for k=3, s=2) are the checkerboard; k divisible by s gives an
    even interior (4 everywhere for k=4, s=2).
    """
    if not isinstance(in_shape, (tuple, list)) or len(in_shape) != 2:
        raise ConfigError("input size", f"must be (rows, columns), got {in_shape!r}")
    k = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
    if any(not isinstance(v, int) or v < 1 for v in (*in_shape, *k)):
        raise ConfigError("kernel_size", f"sizes must be whole numbers ≥ 1, got input {in_shape}, kernel {k}")
    return conv_transpose2d_steps(np.ones(in_shape), np.ones(k), stride, padding, output_padding, dilation).counts


# --------------------------------------------------------------------------- pitfalls
@checked(in_shape=SIDES, kernel_size=KERNEL_SIZE)
def untouched_inputs(in_shape, kernel_size, stride=1, padding=0, dilation=1) -> tuple[tuple[int, int], ...]:
    """Input cells (row, col), row-major, that no window of the convolution ever reads: a stride that does not
    fit the input silently drops the last rows / columns."""
    if not isinstance(in_shape, (tuple, list)) or len(in_shape) != 2:
        raise ConfigError("input size", f"must be (rows, columns), got {in_shape!r}")
    k = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
    t = conv2d_steps(np.zeros(in_shape), np.zeros(k), 0.0, stride, padding, dilation)
    touched = {cell for s in t for cell in s.window}
    return tuple((r, c) for r in range(in_shape[0]) for c in range(in_shape[1]) if (r, c) not in touched)


def same_padding_split(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """(left, right) padding that ``padding='same'`` adds on one axis: unequal when d·(k−1) is odd — PyTorch
    puts the extra cell on the right / bottom."""
    g = conv_geometry((1, 1), 1, kernel_size, 1, "same", dilation)
    return g.pad_lo[0], g.pad_hi[0]


@checked(kernel_size=Number(1, MAX_INT, integer=True), stride=Number(1, MAX_INT, integer=True))
def even_overlap_kernel(kernel_size: int, stride: int) -> int:
    """The smallest kernel size ≥ ``kernel_size`` that is a multiple of ``stride``: its transposed convolution
    stamps every interior output cell equally often (no checkerboard)."""
    return -(-kernel_size // stride) * stride


# --------------------------------------------------------------------------- multi-channel input
@dataclass(frozen=True)
class ChannelStep:
    """One output cell of a C-channel convolution: each channel's partial sum, then their total."""

    out: tuple[int, int]
    window: tuple[tuple[int, int], ...]     # the same input coordinates in every channel
    partials: tuple[float, ...]             # per channel: Σ input × weight over the window
    value: float                            # Σ partials + bias


class ChannelTrace(tuple):
    x: np.ndarray               # (C, H, W)
    weight: np.ndarray          # (C, kh, kw)
    bias: float
    channels: tuple[Trace, ...]  # one single-channel trace per input channel (bias 0)
    out_shape: tuple[int, int]
    output: np.ndarray

    def __new__(cls, steps, **attrs):
        obj = super().__new__(cls, steps)
        for k, v in attrs.items():
            setattr(obj, k, v)
        return obj


def volumes(x, weight, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``weight`` as 3-D float arrays, or ConfigError saying ``what`` they must be."""
    x, w = real_array("x", x, what), real_array("x", weight, what)  # one field: the pair (the message says which)
    if x.ndim != 3 or w.ndim != 3:
        raise ConfigError("x", f"needs {what}, got shapes {x.shape} and {w.shape}")
    return x, w


def multichannel_conv2d_steps(x, weight, bias=0.0, stride=1, padding=0, dilation=1,
                              padding_mode="zeros") -> ChannelTrace:
    """``F.conv2d(x[None], weight[None], ...)`` for x (C, H, W) and weight (C, kh, kw): one output channel, one
    step per output cell, with each input channel's partial sum."""
    x, w = volumes(x, weight, "x (C, H, W) and weight (C, kh, kw)")
    if x.shape[0] != w.shape[0]:
        raise ConfigError("weight", f"has {w.shape[0]} channel(s) but the input has {x.shape[0]}")
    if not 1 <= x.shape[0] <= 8:
        raise ConfigError("channels", f"must be between 1 and 8, got {x.shape[0]}")
    try:
        bias = float(bias)
    except (TypeError, ValueError):
        raise ConfigError("bias", f"must be a number, got {bias!r}") from None
    per = tuple(conv2d_steps(xc, wc, 0.0, stride, padding, dilation, padding_mode) for xc, wc in zip(x, w))
    steps = [ChannelStep(s0.out, s0.window, tuple(t[k].value for t in per), float(sum(t[k].value for t in per) + bias))
             for k, s0 in enumerate(per[0])]
    output = sum(t.output for t in per) + bias
    return ChannelTrace(steps, x=x, weight=w, bias=bias, channels=per, out_shape=per[0].out_shape, output=output)


# --------------------------------------------------------------------------- the page's extra tabs
EXTRA_DEFAULTS = dict(tn=4, tk=3, ts=2, tp=0, top=0, tstep=1, mc=3, mstep=1, un=8, uk=3, us=2, up=0, sk=4, sd=1)
EXTRA_BOUNDS = dict(tn=(1, 6), tk=(1, 5), ts=(1, 4), tp=(0, 3), top=(0, 3), tstep=(1, 36), mc=(1, 4), mstep=(1, 9),
                    un=(3, 16), uk=(1, 7), us=(1, 4), up=(0, 3), sk=(1, 7), sd=(1, 3))


def center_crop(x: np.ndarray, n: int) -> np.ndarray:
    """The central n×n (or smaller, if x is) part of x: a digit's corners are all zeros."""
    r0, c0 = max(0, (x.shape[0] - n) // 2), max(0, (x.shape[1] - n) // 2)
    return x[r0:r0 + n, c0:c0 + n]


@checked(channels=Number(1, 8, integer=True), seed=SEED)
def channel_demo(channels: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(C, 5, 5) seeded integer input 0–9 and a (C, 3, 3) kernel of −1, 0, 1: the multi-channel tab's numbers."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 10, (channels, 5, 5)).astype(float), rng.integers(-1, 2, (channels, 3, 3)).astype(float)
