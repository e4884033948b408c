"""Uniform quantization of conv/linear weights (fake-quantized: stored as floats, rounded to ``bits``-bit
levels). Everything works on a *copy* of the model; the model you pass in is never changed."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.compression.prune import prunable_layers
from cnnviz.checks import Flag, Module, Number, Tensor, checked
from cnnviz.errors import ConfigError


@dataclass(frozen=True)
class QuantParams:
    """scale and zero point (one per tensor, or one per slice along ``axis``) and the integer range."""

    scale: torch.Tensor       # (1,) or (n_slices,) float
    zero_point: torch.Tensor  # same shape, integer-valued float
    qmin: int
    qmax: int
    axis: int | None

    def levels(self, index: int = 0) -> torch.Tensor:
        """The values a weight can take after quantization (for slice ``index``): the quantization grid."""
        q = torch.arange(self.qmin, self.qmax + 1, dtype=self.scale.dtype)
        return (q - self.zero_point[index]) * self.scale[index]

    @property
    def step(self) -> torch.Tensor:
        return self.scale


def _check_bits(bits) -> None:
    if not isinstance(bits, int) or not 2 <= bits <= 16:
        raise ConfigError("bits", f"must be an integer from 2 to 16, got {bits!r}")


@checked(w=Tensor(), bits=Number(2, 16, integer=True), symmetric=Flag(), per_channel=Flag(), axis=Number(integer=True))
def quant_params(w: torch.Tensor, bits: int, symmetric: bool = True, per_channel: bool = False,
                 axis: int = 0) -> QuantParams:
    """Symmetric: scale = max|w| / (2^(bits−1) − 1), zero point 0, integers in ±(2^(bits−1) − 1).
    Asymmetric: scale = (max − min) / (2^bits − 1) over a range stretched to contain 0 (so a pruned zero
    stays exactly zero), zero point = round(−min / scale), integers in [0, 2^bits − 1]."""
    _check_bits(bits)
    if not torch.is_floating_point(w) or w.numel() == 0:
        raise ConfigError("w", "must be a non-empty floating-point tensor")
    if per_channel:
        if not -w.dim() <= axis < w.dim():
            raise ConfigError("axis", f"must index a dimension of a {w.dim()}-D tensor, got {axis}")
        flat = w.detach().movedim(axis, 0).reshape(w.shape[axis], -1)  # (slices, rest)
    else:
        flat = w.detach().reshape(1, -1)                                # (1, numel)
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = flat.abs().amax(dim=1) / qmax
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero slice stays zero
        return QuantParams(scale, torch.zeros_like(scale), -qmax, qmax, axis if per_channel else None)
    lo = flat.amin(dim=1).clamp(max=0)
    hi = flat.amax(dim=1).clamp(min=0)
    qmax = 2 ** bits - 1
    scale = (hi - lo) / qmax
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero_point = torch.round(-lo / scale).clamp(0, qmax)
    return QuantParams(scale, zero_point, 0, qmax, axis if per_channel else None)


@checked(w=Tensor(), bits=Number(2, 16, integer=True), symmetric=Flag(), per_channel=Flag(), axis=Number(integer=True))
def fake_quantize(w: torch.Tensor, bits: int, symmetric: bool = True, per_channel: bool = False,
                  axis: int = 0) -> torch.Tensor:
    """Uniform quantize-dequantize: same shape and dtype; at most 2^bits distinct values (per slice);
    each value moves by at most half a step (scale / 2)."""
    p = quant_params(w, bits, symmetric, per_channel, axis)
    shape = [1] * w.dim()
    if per_channel:
        shape[axis] = -1
    scale, zp = p.scale.view(shape), p.zero_point.view(shape)  # broadcast along axis
    q = torch.clamp(torch.round(w.detach() / scale) + zp, p.qmin, p.qmax)
    return ((q - zp) * scale).to(w.dtype)


@checked(model=Module(), bits=Number(2, 16, integer=True), symmetric=Flag(), per_channel=Flag())
def quantize_model(model: nn.Module, bits: int, symmetric: bool = True, per_channel: bool = False) -> nn.Module:
    """A copy whose conv/linear weights are fake-quantized (per output channel when ``per_channel``)."""
    out = copy.deepcopy(model)
    with torch.no_grad():
        for _, m in prunable_layers(out):
            m.weight.copy_(fake_quantize(m.weight, bits, symmetric, per_channel, axis=0).to(m.weight.dtype))
    return out
