"""Layer specs: one frozen dataclass describes a layer once; shapes, counts, the module and its code all
come from it. Specs are JSON-serialisable (`to_dict` / `spec_from_dict`): that is also the checkpoint format."""
from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, fields

import torch.nn as nn

from cnnviz.geometry import arithmetic as ar
from cnnviz.geometry.whole import whole_number as _whole
from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError


from cnnviz.limits import MAX_BUILD_PARAMS  # re-exported: the limits live in cnnviz.limits


def _check_dims(dims):
    if isinstance(dims, bool) or not isinstance(dims, int) or dims not in (1, 2, 3):
        raise ConfigError("dims", f"must be 1, 2 or 3, got {safe_repr(dims)}")


def _check_in_shape(in_shape):
    if not isinstance(in_shape, (list, tuple)) or not in_shape:
        raise ConfigError("in_shape", f"must be (channels, *spatial), got {safe_repr(in_shape)}")


def _sizes(spec, minimums: dict) -> None:
    """Every size field an int (or one int per spatial axis) of at least its minimum and at most MAX_INT, checked
    when the spec is made: a size that is not a number (a string, a list, None, a bool, a float, NaN) is refused
    naming its field, before any shape, code or module is made from it."""
    for f, lo in minimums.items():
        value = getattr(spec, f)
        if f == "padding" and isinstance(value, str):
            if value not in ar.PADDING_STRINGS:
                raise ConfigError("padding", f"must be a number, 'same' or 'valid', got {safe_repr(value)}")
            continue
        if f == "stride" and value is None and isinstance(spec, PoolSpec):
            continue
        ar.per_axis(f, value, spec.dims, lo)


def _tuple(v):
    return tuple(v) if isinstance(v, list) else v


def _short(v):
    """(3, 3) -> 3 for readable code; (3, 5) stays."""
    return v[0] if isinstance(v, tuple) and v and all(x == v[0] for x in v) else v


@dataclass(frozen=True)
class ConvSpec:
    """``nn.ConvNd`` / ``nn.ConvTransposeNd`` in one record. Per-axis fields take an int or a tuple."""

    dims: int
    in_channels: int
    out_channels: int
    kernel_size: int | tuple = 3
    stride: int | tuple = 1
    padding: int | tuple | str = 0
    dilation: int | tuple = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: int | tuple = 0

    def __post_init__(self):
        _check_dims(self.dims)
        ar.as_bool("bias", self.bias)
        ar.as_bool("transposed", self.transposed)
        _whole("in_channels", self.in_channels, 1)
        _whole("out_channels", self.out_channels, 1)
        _whole("groups", self.groups, 1)
        if not isinstance(self.padding_mode, str) or self.padding_mode not in ar.PADDING_MODES:
            raise ConfigError("padding_mode", f"must be one of {', '.join(ar.PADDING_MODES)}, "
                                              f"got {safe_repr(self.padding_mode)}")
        for f in ("kernel_size", "stride", "padding", "dilation", "output_padding"):
            object.__setattr__(self, f, _tuple(getattr(self, f)))
        _sizes(self, dict(kernel_size=1, stride=1, padding=0, dilation=1, output_padding=0))

    def geometry(self, spatial) -> ar.ConvGeometry:
        _check_in_shape(spatial)
        spatial = tuple(spatial)
        if len(spatial) != self.dims:
            raise ConfigError("input size", f"a {self.dims}-D conv needs {self.dims} spatial sizes, got {spatial}")
        return ar.conv_geometry((self.in_channels, *spatial), self.out_channels, self.kernel_size, self.stride,
                                self.padding, self.dilation, self.groups, self.transposed, self.output_padding,
                                self.padding_mode)

    def output_shape(self, in_shape) -> tuple:
        """``in_shape`` = (C, *spatial); C must equal in_channels."""
        _check_in_shape(in_shape)
        if in_shape[0] != self.in_channels:
            raise ConfigError("in_channels", f"the layer expects {self.in_channels} channels, input has {in_shape[0]}")
        return self.geometry(in_shape[1:]).out_shape

    def params(self) -> int:
        return ar.conv_param_count((self.in_channels,) + (1,) * self.dims, self.out_channels, self.kernel_size,
                                   self.groups, self.bias, self.transposed)

    def flops(self, in_shape) -> int:
        self.output_shape(in_shape)
        return 2 * ar.conv_macs(self.geometry(in_shape[1:]))

    def build(self) -> nn.Module:
        try:
            return self._build()
        except (ValueError, TypeError, RuntimeError) as e:  # a ConfigError passes through unchanged
            raise e if isinstance(e, ConfigError) else ConfigError("layer", str(e)) from e

    def _build(self) -> nn.Module:
        if self.params() > MAX_BUILD_PARAMS:
            raise ConfigError("layer", f"{self.params():,} parameters is above the limit of {MAX_BUILD_PARAMS:,} "
                                       f"for building one layer here")
        n = self.dims
        if self.transposed:
            cls = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[n - 1]
            return cls(self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
                       self.output_padding, self.groups, self.bias, self.dilation, self.padding_mode)
        cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[n - 1]
        return cls(self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
                   self.dilation, self.groups, self.bias, self.padding_mode)

    def to_code(self) -> str:
        name = f"nn.{'ConvTranspose' if self.transposed else 'Conv'}{self.dims}d"
        args = [str(self.in_channels), str(self.out_channels), f"kernel_size={_short(self.kernel_size)!r}"]
        defaults = {f.name: f.default for f in fields(self)}
        keys = ["stride", "padding", "dilation", "groups", "bias", "padding_mode"]
        keys += ["output_padding"] if self.transposed else []
        args += [f"{k}={_short(getattr(self, k))!r}" for k in keys if _short(getattr(self, k)) != defaults[k]]
        return f"{name}({', '.join(args)})"

    def to_dict(self) -> dict:
        return {"type": "conv", **asdict(self)}


@dataclass(frozen=True)
class PoolSpec:
    """``nn.MaxPoolNd`` / ``nn.AvgPoolNd`` (count_include_pad=True, as PyTorch's default)."""

    dims: int
    kernel_size: int | tuple = 2
    stride: int | tuple | None = None
    padding: int | tuple = 0
    dilation: int | tuple = 1
    ceil_mode: bool = False
    kind: str = "max"

    def __post_init__(self):
        _check_dims(self.dims)
        if not isinstance(self.kind, str) or self.kind not in ar.POOL_KINDS:
            raise ConfigError("kind", f"must be 'max' or 'avg', got {safe_repr(self.kind)}")
        ar.as_bool("ceil_mode", self.ceil_mode)
        for f in ("kernel_size", "stride", "padding", "dilation"):
            object.__setattr__(self, f, _tuple(getattr(self, f)))
        _sizes(self, dict(kernel_size=1, stride=1, padding=0, dilation=1))

    def geometry(self, in_shape) -> ar.PoolGeometry:
        _check_in_shape(in_shape)
        if len(in_shape) - 1 != self.dims:
            raise ConfigError("input size", f"a {self.dims}-D pool needs {self.dims} spatial sizes, got {in_shape[1:]}")
        return ar.pool_geometry(in_shape, self.kernel_size, self.stride, self.padding, self.dilation,
                                self.ceil_mode, self.kind)

    def output_shape(self, in_shape) -> tuple:
        return self.geometry(in_shape).out_shape

    def params(self) -> int:
        return 0

    def flops(self, in_shape) -> int:
        self.output_shape(in_shape)  # invalid input is an error here too
        return 0  # FlopCounterMode counts no pooling FLOPs

    def build(self) -> nn.Module:
        n = self.dims
        if self.kind == "max":
            cls = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[n - 1]
            return cls(self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode)
        if self.dilation not in (1, (1,) * n):
            raise ConfigError("dilation", "average pooling has no dilation in PyTorch")
        cls = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[n - 1]
        return cls(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def to_code(self) -> str:
        name = f"nn.{'Max' if self.kind == 'max' else 'Avg'}Pool{self.dims}d"
        args = [f"kernel_size={_short(self.kernel_size)!r}"]
        args += [f"stride={_short(self.stride)!r}"] if self.stride is not None else []
        args += [f"padding={_short(self.padding)!r}"] if _short(self.padding) != 0 else []
        if self.kind == "max" and _short(self.dilation) != 1:
            args.append(f"dilation={_short(self.dilation)!r}")
        args += ["ceil_mode=True"] if self.ceil_mode else []
        return f"{name}({', '.join(args)})"

    def to_dict(self) -> dict:
        return {"type": "pool", **asdict(self)}


SPEC_TYPES = {"conv": ConvSpec, "pool": PoolSpec}


def spec_from_dict(d: dict):
    if not isinstance(d, dict):
        raise ConfigError("layer", f"must be a dict with a 'type', got {type(d).__name__}")
    d = dict(d)
    kind = d.pop("type", None)
    if not isinstance(kind, str) or kind not in SPEC_TYPES:
        raise ConfigError("type", f"unknown layer type {safe_repr(kind)}; expected one of {sorted(SPEC_TYPES)}")
    cls = SPEC_TYPES[kind]
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError("layer", f"unknown field(s) {sorted(map(str, unknown))} for a {kind} layer")
    missing = {f.name for f in fields(cls) if f.default is MISSING} - set(d)
    if missing:
        raise ConfigError("layer", f"missing field(s) {sorted(missing)} for a {kind} layer")
    return cls(**d)


def numel(shape) -> int:
    return math.prod(shape)
