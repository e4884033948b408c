"""Convolution and pooling arithmetic for 1-D/2-D/3-D layers, exactly as PyTorch computes it.

Every function validates its arguments the way ``torch.nn.ConvNd`` / ``nn.MaxPoolNd`` do and raises
``ConfigError`` (naming the field and the rule) exactly where PyTorch would raise. The geometry helpers
(`conv_geometry`, `pool_geometry`) are what the formulas, figures and specs read, so there is one
source of truth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError
from cnnviz.geometry.whole import whole_number as _int
from cnnviz.geometry.padding import macs_from_flops, tf_same_padding  # noqa: F401 - re-exported here
from cnnviz.limits import MAX_INT, MAX_RF_LAYERS  # noqa: F401 - re-exported: the limits live in cnnviz.limits

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("same", "valid")
AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


# --------------------------------------------------------------------------- argument checking


def as_bool(field: str, value) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(field, f"must be True or False, got {safe_repr(value)}")
    return value


def per_axis(field: str, value, n: int, minimum: int) -> tuple[int, ...]:
    """An int (same on every axis) or a sequence with one int per spatial axis."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ConfigError(field, f"needs {n} value(s), one per spatial axis, got {len(value)}: {tuple(value)}")
        return tuple(_int(f"{field}[{i}]", v, minimum) for i, v in enumerate(value))
    return (_int(field, value, minimum),) * n


def parse_in_shape(in_shape) -> tuple[int, tuple[int, ...]]:
    """(C, *spatial) with 1–3 spatial axes -> (C, spatial)."""
    if not isinstance(in_shape, (list, tuple)) or not 2 <= len(in_shape) <= 4:
        raise ConfigError("in_shape", f"must be (channels, *spatial) with 1–3 spatial axes, got {safe_repr(in_shape)}")
    channels = _int("in_channels", in_shape[0], 1)
    spatial = tuple(_int(f"input size[{i}]", v, 1) for i, v in enumerate(in_shape[1:]))
    return channels, spatial


# --------------------------------------------------------------------------- convolution
@dataclass(frozen=True)
class ConvGeometry:
    """Everything about one conv layer on one input, per spatial axis, after validation."""

    in_channels: int
    out_channels: int
    spatial_in: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad_lo: tuple[int, ...]
    pad_hi: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    transposed: bool
    output_padding: tuple[int, ...]
    padding_mode: str
    spatial_out: tuple[int, ...]

    @property
    def dims(self) -> int:
        return len(self.spatial_in)

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def out_shape(self) -> tuple[int, ...]:
        return (self.out_channels, *self.spatial_out)


def _resolve_padding(padding, kernel, dilation, stride, n, transposed):
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ConfigError("padding", f"must be a number, 'same' or 'valid', got {safe_repr(padding)}")
        if transposed:
            raise ConfigError("padding", f"'{padding}' is not supported for transposed convolution; give numbers")
        if padding == "valid":
            return (0,) * n, (0,) * n
        if any(s != 1 for s in stride):
            raise ConfigError("padding", f"'same' is not supported for strided convolutions (stride={stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        lo = tuple(t // 2 for t in totals)  # PyTorch puts the odd extra cell on the right
        return lo, tuple(t - l for t, l in zip(totals, lo))
    pad = per_axis("padding", padding, n, 0)
    return pad, pad


def conv_geometry(in_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                  transposed=False, output_padding=0, padding_mode="zeros") -> ConvGeometry:
    c_in, spatial = parse_in_shape(in_shape)
    n = len(spatial)
    c_out = _int("out_channels", out_channels, 1)
    groups = _int("groups", groups, 1)
    transposed = as_bool("transposed", transposed)
    kernel = per_axis("kernel_size", kernel_size, n, 1)
    stride = per_axis("stride", stride, n, 1)
    dilation = per_axis("dilation", dilation, n, 1)
    if c_in % groups:
        raise ConfigError("groups", f"in_channels={c_in} must be divisible by groups={groups}")
    if c_out % groups:
        raise ConfigError("groups", f"out_channels={c_out} must be divisible by groups={groups}")
    if padding_mode not in PADDING_MODES:
        raise ConfigError("padding_mode", f"must be one of {', '.join(PADDING_MODES)}, got {safe_repr(padding_mode)}")
    lo, hi = _resolve_padding(padding, kernel, dilation, stride, n, bool(transposed))
    out_pad = per_axis("output_padding", output_padding, n, 0)

    if transposed:
        if padding_mode != "zeros":
            raise ConfigError("padding_mode", f"transposed convolution supports only 'zeros', got '{padding_mode}'")
        for ax, (op, s, d) in enumerate(zip(out_pad, stride, dilation)):
            if op >= s and op >= d:
                raise ConfigError("output_padding", f"{op} on axis {ax} must be smaller than either stride ({s}) "
                                                    f"or dilation ({d})")
        out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1
                    for i, s, p, d, k, op in zip(spatial, stride, lo, dilation, kernel, out_pad))
        for ax, o in enumerate(out):
            if o < 1:
                raise ConfigError("padding", f"output size on axis {ax} would be {o} < 1: (i−1)·s − 2p + d·(k−1) "
                                             f"+ output_padding + 1; reduce padding")
    else:
        if any(out_pad):
            raise ConfigError("output_padding", "only applies to transposed convolution")
        _check_padding_mode(padding_mode, spatial, lo, hi)
        out = []
        for ax, (i, s, a, b, d, k) in enumerate(zip(spatial, stride, lo, hi, dilation, kernel)):
            eff = d * (k - 1) + 1
            if i + a + b < eff:
                raise ConfigError("kernel_size", f"effective kernel d·(k−1)+1 = {eff} on axis {ax} is larger than "
                                                 f"the padded input {i}+{a}+{b} = {i + a + b}")
            out.append((i + a + b - eff) // s + 1)
        out = tuple(out)
    return ConvGeometry(c_in, c_out, spatial, kernel, stride, lo, hi, dilation, groups, bool(transposed),
                        out_pad, padding_mode, out)


def _check_padding_mode(mode, spatial, lo, hi):
    for ax, (i, a, b) in enumerate(zip(spatial, lo, hi)):
        p = max(a, b)
        if mode == "reflect" and p >= i:
            raise ConfigError("padding", f"reflect padding {p} on axis {ax} must be smaller than the input size {i}")
        if mode == "circular" and p > i:
            raise ConfigError("padding", f"circular padding {p} on axis {ax} must be at most the input size {i} "
                                         f"(it would wrap around more than once)")


def conv_output_shape(in_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                      transposed=False, output_padding=0, padding_mode="zeros") -> tuple:
    """(C_out, *spatial_out) of ``nn.ConvNd`` / ``nn.ConvTransposeNd`` on an input of shape ``in_shape``."""
    return conv_geometry(in_shape, out_channels, kernel_size, stride, padding, dilation, groups, transposed,
                         output_padding, padding_mode).out_shape


def conv_param_count(in_shape, out_channels, kernel_size, groups=1, bias=True, transposed=False) -> int:
    """Weights C_out·(C_in/g)·∏k (same count for transposed) plus C_out biases."""
    c_in, spatial = parse_in_shape(in_shape)
    c_out = _int("out_channels", out_channels, 1)
    groups = _int("groups", groups, 1)
    bias, transposed = as_bool("bias", bias), as_bool("transposed", transposed)
    kernel = per_axis("kernel_size", kernel_size, len(spatial), 1)
    if c_in % groups or c_out % groups:
        raise ConfigError("groups", f"in_channels={c_in} and out_channels={c_out} must both be divisible by "
                                    f"groups={groups}")
    return c_out * (c_in // groups) * math.prod(kernel) + (c_out if bias else 0)


def conv_flops(in_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
               transposed=False, output_padding=0, padding_mode="zeros") -> int:
    """FLOPs of one forward pass with batch 1, counted as ``FlopCounterMode`` does (2 per multiply-add,
    bias not counted; a transposed conv is counted over its *input* positions)."""
    g = conv_geometry(in_shape, out_channels, kernel_size, stride, padding, dilation, groups, transposed,
                      output_padding, padding_mode)
    return 2 * conv_macs(g)


def conv_macs(g: ConvGeometry) -> int:
    positions = math.prod(g.spatial_in if g.transposed else g.spatial_out)
    if g.transposed:  # weight (C_in, C_out/g, *k): every input value is stamped into C_out/g channels
        return positions * math.prod(g.kernel) * g.in_channels * (g.out_channels // g.groups)
    return positions * math.prod(g.kernel) * g.out_channels * (g.in_channels // g.groups)


# --------------------------------------------------------------------------- pooling
POOL_KINDS = ("max", "avg")


@dataclass(frozen=True)
class PoolGeometry:
    channels: int
    spatial_in: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    kind: str
    spatial_out: tuple[int, ...]
    ceil_dropped: tuple[bool, ...]  # ceil_mode's last window would start in the right padding: dropped

    @property
    def out_shape(self) -> tuple[int, ...]:
        return (self.channels, *self.spatial_out)


def pool_geometry(in_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                  kind="max") -> PoolGeometry:
    if kind not in POOL_KINDS:
        raise ConfigError("kind", f"must be 'max' or 'avg', got {safe_repr(kind)}")
    channels, spatial = parse_in_shape(in_shape)
    n = len(spatial)
    ceil_mode = as_bool("ceil_mode", ceil_mode)
    kernel = per_axis("kernel_size", kernel_size, n, 1)
    stride = kernel if stride is None else per_axis("stride", stride, n, 1)
    pad = per_axis("padding", padding, n, 0)
    dilation = per_axis("dilation", dilation, n, 1)
    if kind == "avg" and any(d != 1 for d in dilation):
        raise ConfigError("dilation", "average pooling has no dilation in PyTorch")
    out, dropped = [], []
    for ax, (i, k, s, p, d) in enumerate(zip(spatial, kernel, stride, pad, dilation)):
        if kind == "avg" and n == 3 and i < k:  # avg_pool3d alone checks the unpadded input
            raise ConfigError("kernel_size", f"3-D average pooling needs the input ({i} on axis {ax}) to be at least "
                                             f"the kernel size {k}, padding aside")
        if 2 * p > k:
            raise ConfigError("padding", f"{p} on axis {ax} must be at most half the kernel size {k}")
        eff = d * (k - 1) + 1
        span = i + 2 * p - eff
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        drop = bool(ceil_mode) and (o - 1) * s >= i + p  # PyTorch: the last window must start inside input+left pad
        if drop:
            o -= 1
        if o < 1:
            raise ConfigError("kernel_size", f"output size on axis {ax} would be {o} < 1: the window "
                                             f"d·(k−1)+1 = {eff} does not fit in the padded input {i}+2·{p}")
        out.append(o)
        dropped.append(drop)
    return PoolGeometry(channels, spatial, kernel, stride, pad, dilation, bool(ceil_mode), kind, tuple(out),
                        tuple(dropped))


def pool_output_shape(in_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                      kind="max") -> tuple:
    """(C, *spatial_out) of ``nn.MaxPoolNd`` (or ``nn.AvgPoolNd`` with ``kind='avg'``)."""
    return pool_geometry(in_shape, kernel_size, stride, padding, dilation, ceil_mode, kind).out_shape


# The receptive field of a stack lives in cnnviz.geometry.receptive_field; its names are re-exported here.
from cnnviz.geometry.receptive_field import RFRow, parse_rf_stack, receptive_field, receptive_field_table  # noqa: E402,F401
