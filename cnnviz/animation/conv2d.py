"""Step-by-step traces of a sliding window over a 2-D grid: convolution and pooling, exactly as PyTorch computes.

``conv2d_steps`` and ``pool2d_steps`` return a :class:`Trace` (a tuple of :class:`Step`, one per output element in
row-major output order) that also carries the padded grid the window slides over, so a figure can draw the padding
ring with the values PyTorch really uses (reflected / replicated / wrapped, not zeros).

Coordinates are **unpadded input coordinates**: a tap on the padding ring has a row or column < 0 or ≥ H / W.
Validation is delegated to :func:`cnnviz.geometry.arithmetic.conv_geometry` / :func:`pool_geometry`, which reject
exactly what PyTorch rejects; on top of that an animation larger than ``MAX_STEPS`` steps is refused before anything
is allocated.
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz.geometry.arithmetic import conv_geometry, pool_geometry
from cnnviz.errors import ConfigError
from cnnviz.checks import Number, Seq, Text, checked
from cnnviz.limits import MAX_STEPS, MAX_TAPS  # re-exported: the limits live in cnnviz.limits

NP_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@dataclass(frozen=True)
class Step:
    """One output element: where it is, which input cells the kernel touches, and what it computes."""

    out: tuple[int, int]                    # (row, col) of the output
    window: tuple[tuple[int, int], ...]     # input (row, col) per kernel tap, kernel row-major, unpadded coords
    value: float                            # the output value PyTorch gives
    argmax: tuple[int, int] | None = None   # max pooling: input (row, col) of the max (as return_indices)
    inputs: tuple[float, ...] = ()          # value under each tap (padding value; nan = outside what is pooled)
    products: tuple[float, ...] = ()        # convolution: input × weight per tap (sum + bias = value)
    divisor: int | None = None              # average pooling: what the sum is divided by


class Trace(tuple):
    """A tuple of :class:`Step` plus what a figure needs to draw them."""

    kind: str                     # "conv", "max" or "avg"
    x: np.ndarray                 # (H, W) the unpadded input
    padded: np.ndarray            # (H + lo + hi, W + lo + hi): the grid the window slides over
    pad_lo: tuple[int, int]
    pad_hi: tuple[int, int]
    out_shape: tuple[int, int]
    output: np.ndarray            # (out_h, out_w) all values
    weight: np.ndarray | None     # (kh, kw) convolution only
    bias: float
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding_mode: str

    def __new__(cls, steps, **attrs):
        obj = super().__new__(cls, steps)
        for k, v in attrs.items():
            setattr(obj, k, v)
        return obj


def real_array(field: str, value, what: str = "numbers") -> np.ndarray:
    """Numbers (a list, a numpy array or a tensor of any real dtype: bool, integer, 8-bit to 64-bit float) as a
    float64 array; complex values are refused (casting would drop the imaginary part without a word)."""
    if hasattr(value, "detach"):  # a torch.Tensor: numpy has no bfloat16 or float8, so convert in torch
        if value.is_complex():
            raise ConfigError(field, f"{what} must be real, got a {str(value.dtype).replace('torch.', '')} tensor")
        value = value.detach().cpu().double().numpy()
    try:
        arr = np.asarray(value)
        if np.iscomplexobj(arr):
            raise ConfigError(field, f"{what} must be real, got complex values")
        return arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        raise ConfigError(field, f"{what} must be numbers ({str(e)[:80]})") from None


def _grid(field: str, value) -> np.ndarray:
    arr = real_array(field, value, "a 2-D grid of numbers")
    if arr.ndim != 2:
        raise ConfigError(field, f"must be 2-D (rows, columns), got shape {arr.shape}")
    return arr


def _check_size(n_steps: int, taps: int) -> None:
    if n_steps > MAX_STEPS:
        raise ConfigError("steps", f"{n_steps:,} output cells is more than the {MAX_STEPS:,} an animation can show; "
                                   "use a smaller input or a larger stride")
    if n_steps * taps > MAX_TAPS:
        raise ConfigError("steps", f"{n_steps:,} steps × {taps} kernel taps is more than {MAX_TAPS:,}; "
                                   "use a smaller kernel or input")


def padded_grid(x: np.ndarray, pad_lo, pad_hi, padding_mode: str) -> np.ndarray:
    """The input with its padding ring, as ``F.pad(x, (lo_w, hi_w, lo_h, hi_h), mode)`` makes it."""
    widths = ((pad_lo[0], pad_hi[0]), (pad_lo[1], pad_hi[1]))
    return np.pad(x, widths, mode=NP_PAD_MODE[padding_mode])


def conv2d_steps(x, weight, bias=0.0, stride=1, padding=0, dilation=1, padding_mode="zeros") -> Trace:
    """One step per output element of ``nn.Conv2d(1, 1, weight.shape, ...)`` on ``x`` (H, W)."""
    x, w = _grid("x", x), _grid("weight", weight)
    try:
        bias = float(bias)
    except (TypeError, ValueError):
        raise ConfigError("bias", f"must be a number, got {bias!r}") from None
    g = conv_geometry((1, *x.shape), 1, w.shape, stride, padding, dilation, padding_mode=padding_mode)
    (oh, ow), (kh, kw) = g.spatial_out, g.kernel
    _check_size(oh * ow, kh * kw)
    (sh, sw), (dh, dw), (ph, pw) = g.stride, g.dilation, g.pad_lo
    padded = padded_grid(x, g.pad_lo, g.pad_hi, padding_mode)  # (H + ph + ph', W + pw + pw')
    taps = [(a * dh, e * dw) for a in range(kh) for e in range(kw)]
    flat_w = w.reshape(-1)
    steps, output = [], np.empty((oh, ow))
    for r in range(oh):
        for c in range(ow):
            window = tuple((r * sh - ph + a, c * sw - pw + e) for a, e in taps)
            inputs = np.array([padded[i + ph, j + pw] for i, j in window])
            products = inputs * flat_w
            value = float(products.sum() + bias)
            output[r, c] = value
            steps.append(Step((r, c), window, value, None, tuple(inputs.tolist()), tuple(products.tolist())))
    return Trace(steps, kind="conv", x=x, padded=padded, pad_lo=g.pad_lo, pad_hi=g.pad_hi, out_shape=(oh, ow),
                 output=output, weight=w, bias=bias, kernel=g.kernel, stride=g.stride, dilation=g.dilation,
                 padding_mode=padding_mode)


def pool2d_steps(x, kernel_size, stride=None, padding=0, kind="max", ceil_mode=False) -> Trace:
    """One step per output element of ``F.max_pool2d`` / ``F.avg_pool2d`` (count_include_pad=True) on ``x``.

    The window is the whole kernel footprint; taps on the padding or past it (ceil_mode's partial window) have
    ``inputs`` = nan. Max pooling ignores them (PyTorch pads with −∞); average pooling divides the sum of the
    input taps by the taps inside input + padding (``count_include_pad=True``), so the overhang is not counted.
    """
    x = _grid("x", x)
    g = pool_geometry((1, *x.shape), kernel_size, stride, padding, 1, ceil_mode, kind)
    (oh, ow), (kh, kw), (sh, sw), (ph, pw) = g.spatial_out, g.kernel, g.stride, g.padding
    _check_size(oh * ow, kh * kw)
    H, W = x.shape
    taps = [(a, e) for a in range(kh) for e in range(kw)]
    steps, output = [], np.empty((oh, ow))
    for r in range(oh):
        for c in range(ow):
            window = tuple((r * sh - ph + a, c * sw - pw + e) for a, e in taps)
            inside = [0 <= i < H and 0 <= j < W for i, j in window]
            inputs = tuple(float(x[i, j]) if ok else float("nan") for (i, j), ok in zip(window, inside))
            if kind == "max":  # PyTorch's loop: starts at the first input cell with −∞, takes a strictly
                best, best_val = window[inside.index(True)], -np.inf  # larger value; a NaN always wins
                for (i, j), ok, v in zip(window, inside, inputs):
                    if ok and (v > best_val or np.isnan(v)):
                        best, best_val = (i, j), v
                value, divisor = best_val, None
                step = Step((r, c), window, float(value), best, inputs)
            else:
                h0, w0 = r * sh - ph, c * sw - pw
                divisor = (min(h0 + kh, H + ph) - h0) * (min(w0 + kw, W + pw) - w0)
                total = sum(v for v, ok in zip(inputs, inside) if ok)
                value = total / divisor
                step = Step((r, c), window, float(value), None, inputs, (), divisor)
            output[r, c] = step.value
            steps.append(step)
    padded = np.pad(x, ((ph, ph), (pw, pw)), constant_values=np.nan)
    return Trace(steps, kind=kind, x=x, padded=padded, pad_lo=(ph, pw), pad_hi=(ph, pw), out_shape=(oh, ow),
                 output=output, weight=None, bias=0.0, kernel=g.kernel, stride=g.stride, dilation=(1, 1),
                 padding_mode="zeros" if kind == "avg" else "-inf")


# --------------------------------------------------------------------------- inputs and kernels for the page
KERNEL_PRESETS = ("sobel x", "sobel y", "sharpen", "blur", "identity", "random")
INPUT_SOURCES = ("digit", "random", "typed")
# the page's defaults (and the figure bench/animation_size.py measures)
DEFAULTS = dict(source="digit", digit=0, seed=0, h=6, w=6, text="1 2 3 0; 4 5 6 1; 7 8 9 2; 0 1 2 3",
                kernel="sobel x", ksize=3, bias=0.0, stride=1, pad="numbers", padding=1, dilation=1, mode="zeros",
                speed="normal", step=1, pkind="max", pk=2, ps=2, pp=0, ceil=False, glob=False, pstep=1)


@checked(name=Text(40), size=Number(integer=True), seed=Number(0, 2**32 - 1, integer=True))
def kernel_preset(name: str, size: int = 3, seed: int = 0) -> np.ndarray:
    """(k, k) kernel. Sobel and sharpen are 3×3 by definition; identity, blur and random take ``size``."""
    if name not in KERNEL_PRESETS:
        raise ConfigError("kernel", f"must be one of {', '.join(KERNEL_PRESETS)}, got {name!r}")
    if name == "sobel x":
        return np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    if name == "sobel y":
        return np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])
    if name == "sharpen":
        return np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    size = int(size)
    if not 1 <= size <= 7:
        raise ConfigError("kernel size", f"must be between 1 and 7, got {size}")
    if name == "blur":
        return np.full((size, size), round(1 / size**2, 3))
    if name == "identity":
        k = np.zeros((size, size))
        k[(size - 1) // 2, (size - 1) // 2] = 1
        return k
    return np.round(np.random.default_rng(seed).standard_normal((size, size)), 1)


@functools.lru_cache(maxsize=1)
def _digit_images() -> np.ndarray:
    """(1797, 8, 8) scikit-learn's digits (the file ships inside the package: no download). Read directly with
    numpy, as ``load_digits`` does, without importing sklearn.datasets (a slow import). Read-only."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("digit", "scikit-learn is not installed: choose random or typed input")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    images = np.loadtxt(path, delimiter=",")[:, :-1].reshape(-1, 8, 8)
    images.flags.writeable = False
    return images


@checked(source=Text(40), size=Seq(Number(integer=True), min_len=2, max_len=2),
         seed=Number(0, 2**32 - 1, integer=True), digit=Number(integer=True), text=Text())
def sample_input(source: str, size: tuple[int, int] = (8, 8), seed: int = 0, digit: int = 0,
                 text: str = "") -> np.ndarray:
    """(H, W) input: a handwritten digit from scikit-learn (8×8, values 0–16), seeded random integers 0–9, or
    rows of numbers typed as text ("1 2 3; 4 5 6" or one row per line)."""
    if source == "digit":
        images = _digit_images()
        if not 0 <= int(digit) < len(images):
            raise ConfigError("digit", f"must be between 0 and {len(images) - 1}, got {digit}")
        return images[int(digit)].astype(np.float64)  # a copy
    if source == "random":
        h, w = size
        if not (1 <= h <= 16 and 1 <= w <= 16):
            raise ConfigError("input size", f"must be between 1 and 16 per side, got {h}×{w}")
        return np.random.default_rng(seed).integers(0, 10, size=(h, w)).astype(np.float64)
    if source == "typed":
        rows = [r.replace(",", " ").split() for r in text.replace(";", "\n").splitlines() if r.strip()]
        if not rows:
            raise ConfigError("typed input", "type at least one row of numbers, e.g. 1 2 3; 4 5 6")
        if len({len(r) for r in rows}) != 1:
            raise ConfigError("typed input", f"every row needs the same number of values, got {[len(r) for r in rows]}")
        try:
            grid = np.array([[float(v) for v in r] for r in rows])
        except ValueError as e:
            raise ConfigError("typed input", f"only numbers, separated by spaces or commas ({e})") from None
        if max(grid.shape) > 16:
            raise ConfigError("typed input", f"at most 16 rows and 16 columns, got {grid.shape[0]}×{grid.shape[1]}")
        return grid
    raise ConfigError("input", f"must be one of {', '.join(INPUT_SOURCES)}, got {source!r}")
