"""1-D and 3-D convolution, step by step, on the 2-D machinery of :mod:`cnnviz.animation`.

* **1-D** (``F.conv1d``): a sequence is a grid of one row and the kernel a 1×k row; stride, padding and dilation
  act along the row only. Every padding mode and 'same'/'valid' work as in 1-D PyTorch.
* **3-D** (``F.conv3d``): output depth plane z is the sum, over the kernel's depth taps j, of the 2-D window sums
  of input slice ``z·s − p + j·d`` with kernel slice j — a multi-channel 2-D convolution whose "channels" are
  the depth slices the kernel covers (zero slices where it hangs over the depth padding)."""
from __future__ import annotations

import numpy as np

from cnnviz.animation.conv2d import Trace, conv2d_steps, real_array
from cnnviz.animation.extra import ChannelTrace, multichannel_conv2d_steps, volumes
from cnnviz.geometry.arithmetic import PADDING_STRINGS, conv_geometry
from cnnviz.errors import ConfigError
from cnnviz.animation.extra import SEED
from cnnviz.checks import Number, Text, checked
from cnnviz.limits import MAX_INT
from cnnviz.limits import MAX_LENGTH  # re-exported: the limits live in cnnviz.limits

SIGNALS = ("sine + noise", "step", "random", "typed")
KERNELS_1D = ("difference", "moving average", "gaussian", "random")


@checked(kind=Text(40), length=Number(integer=True), seed=SEED, text=Text())
def signal_input(kind: str, length: int = 16, seed: int = 0, text: str = "") -> np.ndarray:
    """A 1-D input: a noisy sine (values rounded to 0.1), a step, seeded integers 0–9, or typed numbers."""
    if kind == "typed":
        try:
            x = np.array([float(v) for v in text.replace(",", " ").split()])
        except ValueError as e:
            raise ConfigError("typed input", f"only numbers, separated by spaces or commas ({e})") from None
        if not 1 <= len(x) <= MAX_LENGTH:
            raise ConfigError("typed input", f"type 1 to {MAX_LENGTH} numbers, got {len(x)}")
        return x
    if not 1 <= int(length) <= MAX_LENGTH:
        raise ConfigError("length", f"must be between 1 and {MAX_LENGTH}, got {length}")
    rng, t = np.random.default_rng(seed), np.arange(int(length))
    if kind == "sine + noise":
        return np.round(5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t)), 1)
    if kind == "step":
        return (t >= len(t) // 2).astype(np.float64) * 5
    if kind == "random":
        return rng.integers(0, 10, len(t)).astype(np.float64)
    raise ConfigError("signal", f"must be one of {', '.join(SIGNALS)}, got {kind!r}")


@checked(name=Text(40), size=Number(integer=True), seed=SEED)
def kernel_1d(name: str, size: int = 3, seed: int = 0) -> np.ndarray:
    """(k,) kernel: a central difference (edges), a moving average (smoothing), a binomial 'gaussian', random."""
    size = int(size)
    if not 1 <= size <= 9:
        raise ConfigError("kernel size", f"must be between 1 and 9, got {size}")
    if name == "difference":
        return np.array([-1.0, 0.0, 1.0]) if size == 3 else np.round(np.linspace(-1, 1, size), 2)
    if name == "moving average":
        return np.full(size, round(1 / size, 3))
    if name == "gaussian":
        row = np.array([1.0])
        for _ in range(size - 1):
            row = np.convolve(row, [1.0, 1.0])  # binomial coefficients: a discrete gaussian
        return np.round(row / row.sum(), 3)
    if name == "random":
        return np.round(np.random.default_rng(seed).standard_normal(size), 1)
    raise ConfigError("kernel", f"must be one of {', '.join(KERNELS_1D)}, got {name!r}")


def conv1d_steps(x, weight, bias=0.0, stride=1, padding=0, dilation=1, padding_mode="zeros") -> Trace:
    """One step per output element of ``nn.Conv1d(1, 1, k, ...)`` on ``x`` (L,); steps' ``out`` are (0, i)."""
    x = np.atleast_1d(real_array("x", x, "the sequence"))
    w = np.atleast_1d(real_array("weight", weight, "the kernel"))
    if x.ndim != 1 or w.ndim != 1:
        raise ConfigError("x", f"1-D needs a sequence and a 1-D kernel, got shapes {x.shape} and {w.shape}")
    for name, v in (("stride", stride), ("dilation", dilation)):
        if isinstance(v, (tuple, list)) or isinstance(v, bool):
            raise ConfigError(name, f"must be one whole number for 1-D, got {v!r}")
    pad = padding if isinstance(padding, str) else (0, padding)
    trace = conv2d_steps(x[None], w[None], bias, (1, stride), pad, (1, dilation), padding_mode)
    trace.one_d = True  # figures and labels say out[i] and "length", not rows × columns
    return trace


@checked(depth=Number(integer=True), kernel_depth=Number(integer=True), seed=SEED)
def volume_demo(depth: int, kernel_depth: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(D, 4, 4) seeded integers 0–9 and a (kd, 3, 3) kernel of −1, 0, 1: the 3-D tab's numbers."""
    if not 1 <= int(depth) <= 6 or not 1 <= int(kernel_depth) <= 3:
        raise ConfigError("depth", f"volume depth 1–6 and kernel depth 1–3, got {depth} and {kernel_depth}")
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 10, (int(depth), 4, 4)).astype(float),
            rng.integers(-1, 2, (int(kernel_depth), 3, 3)).astype(float))


@checked(plane=Number(-MAX_INT, MAX_INT, integer=True))
def conv3d_plane_steps(x, weight, plane: int, bias=0.0, stride=1, padding=0) -> tuple[ChannelTrace, list[int], int]:
    """Output depth plane ``plane`` (0-based; clamped to the last one) of ``F.conv3d(x[None, None],
    weight[None, None], stride=stride, padding=padding)`` (zero padding, the same stride and padding on every
    axis): the trace over the input slices the kernel covers there, those slices' depth indices (−1 or D and
    beyond: padding), and how many output planes there are."""
    x, w = volumes(x, weight, "x (D, H, W) and weight (kd, kh, kw)")
    if isinstance(padding, (str, bool)) or isinstance(stride, bool):
        raise ConfigError("padding", f"the 3-D view takes one number of zero padding per side, got {padding!r}")
    g = conv_geometry((1, *x.shape), 1, w.shape, stride, padding)  # PyTorch's rules, every axis
    n_planes = g.spatial_out[0]
    if plane < 0:
        raise ConfigError("plane", f"must be between 1 and {n_planes}, got {plane + 1}")
    plane = min(plane, n_planes - 1)
    s, p = g.stride[0], g.pad_lo[0]
    depths = [plane * s - p + j for j in range(w.shape[0])]
    slices = np.stack([x[z] if 0 <= z < x.shape[0] else np.zeros(x.shape[1:]) for z in depths])
    return multichannel_conv2d_steps(slices, w, bias, g.stride[1:], g.pad_lo[1:]), depths, n_planes


# --------------------------------------------------------------------------- the page's 1-D and 3-D tabs
ND_DEFAULTS = dict(sig="sine + noise", slen=16, stext="0 1 3 6 3 1 0 0 5 5", k1="difference", k1n=3, s1=1,
                   pad1="numbers", p1=1, d1=1, m1="zeros", step1=1, vd=4, vkd=3, vs=1, vp=1, vz=1, vstep=1)
ND_BOUNDS = dict(slen=(1, MAX_LENGTH), k1n=(1, 9), s1=(1, 4), p1=(0, 4), d1=(1, 4), step1=(1, MAX_LENGTH * 9),
                 vd=(1, 6), vkd=(1, 3), vs=(1, 2), vp=(0, 1), vz=(1, 8), vstep=(1, 36))
ND_OPTIONS = dict(sig=SIGNALS, k1=KERNELS_1D, pad1=("numbers", *PADDING_STRINGS))
