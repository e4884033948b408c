"""Model compression: uniform quantization, magnitude pruning, and the honest bookkeeping behind an
accuracy-vs-size curve (bytes on disk, accuracy on the validation set). Distillation: :mod:`cnnviz.distill`.

Everything works on a *copy* of the model; the model you pass in is never changed."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn.utils import prune

from .errors import ConfigError

PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


# --------------------------------------------------------------------------- quantization
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


# --------------------------------------------------------------------------- pruning
def prunable_layers(model: nn.Module, structured: bool = False) -> list[tuple[str, nn.Module]]:
    """Conv and linear layers. Structured (channel) pruning touches conv layers only: pruning an output
    row of the classifier would delete a class."""
    kinds = PRUNABLE[:3] if structured else PRUNABLE
    return [(n, m) for n, m in model.named_modules() if isinstance(m, kinds)]


def _check_tau(tau) -> None:
    if not isinstance(tau, (int, float)) or not math.isfinite(tau) or tau < 0:
        raise ConfigError("tau", f"must be a finite number ≥ 0, got {tau!r}")


def channel_scores(weight: torch.Tensor) -> torch.Tensor:
    """Mean |w| of each output channel (L1 norm / fan-in): the score structured pruning compares to τ."""
    return weight.detach().abs().reshape(weight.shape[0], -1).mean(dim=1)  # (C_out,)


def prune_model(model: nn.Module, tau: float, structured: bool = False) -> nn.Module:
    """A copy of ``model`` with, via ``torch.nn.utils.prune``: unstructured, every conv/linear weight with
    |w| < τ zeroed; structured, every conv output channel whose mean |w| < τ zeroed (weights and bias).
    The masks are made permanent (``prune.remove``) so the copy is a plain model."""
    _check_tau(tau)
    out = copy.deepcopy(model)
    for _, m in prunable_layers(out, structured):
        if structured:
            keep = channel_scores(m.weight) >= tau  # (C_out,)
            mask = keep.view(-1, *[1] * (m.weight.dim() - 1)).expand_as(m.weight).to(m.weight.dtype)
            prune.custom_from_mask(m, "weight", mask)
            if m.bias is not None:
                prune.custom_from_mask(m, "bias", keep.to(m.bias.dtype))
                prune.remove(m, "bias")
        else:
            prune.custom_from_mask(m, "weight", (m.weight.detach().abs() >= tau).to(m.weight.dtype))
        prune.remove(m, "weight")
    return out


def prune_scores(model: nn.Module, structured: bool = False) -> torch.Tensor:
    """What τ is compared to, over all layers: |w| of every weight, or the mean |w| of every conv channel."""
    layers = prunable_layers(model, structured)
    if not layers:
        raise ConfigError("model", "has no conv or linear layer to prune")
    return torch.cat([channel_scores(m.weight) if structured else m.weight.detach().abs().flatten()
                      for _, m in layers])


def tau_for_sparsity(model: nn.Module, sparsity: float, structured: bool = False) -> float:
    """The smallest τ that prunes at least ``sparsity`` of the scores (weights, or channels) over all layers."""
    if not 0 <= sparsity < 1:
        raise ConfigError("sparsity", f"must be in [0, 1), got {sparsity}")
    scores = prune_scores(model, structured).sort().values
    k = math.ceil(sparsity * len(scores))
    return 0.0 if k == 0 else float(torch.nextafter(scores[k - 1], torch.tensor(math.inf)))


@dataclass(frozen=True)
class LayerSparsity:
    name: str
    zeros: int
    total: int

    @property
    def fraction(self) -> float:
        return self.zeros / self.total


def sparsity_per_layer(model: nn.Module) -> list[LayerSparsity]:
    """Zeroed weights per conv/linear layer (weights only, biases not counted)."""
    return [LayerSparsity(n, int((m.weight == 0).sum()), m.weight.numel()) for n, m in prunable_layers(model)]


def tensor_bytes(numel: int, nonzero: int, bits: int) -> int:
    """Bytes to store a tensor of ``bits``-bit values: dense, or (when smaller) only the nonzeros plus a
    one-bit-per-entry mask saying where they go."""
    dense = math.ceil(numel * bits / 8)
    return min(dense, math.ceil(nonzero * bits / 8) + math.ceil(numel / 8))


def model_size_bytes(model: nn.Module, bits: int = 32, symmetric: bool = True, per_channel: bool = False) -> int:
    """Storage of every parameter: conv/linear weights at ``bits`` bits (plus a float32 scale, and an int32
    zero point when asymmetric, per tensor or per output channel), sparse when that is smaller; biases and
    other parameters at 32 bits."""
    if bits != 32:
        _check_bits(bits)
    weights = {id(m.weight): m for _, m in prunable_layers(model)}
    total = 0
    for p in model.parameters():
        b = bits if id(p) in weights else 32
        total += tensor_bytes(p.numel(), int((p != 0).sum()), b)
        if b < 32:
            total += (p.shape[0] if per_channel else 1) * (4 if symmetric else 8)
    return total


def quantize_model(model: nn.Module, bits: int, symmetric: bool = True, per_channel: bool = False) -> nn.Module:
    """A copy whose conv/linear weights are fake-quantized (per output channel when ``per_channel``)."""
    out = copy.deepcopy(model)
    with torch.no_grad():
        for _, m in prunable_layers(out):
            m.weight.copy_(fake_quantize(m.weight, bits, symmetric, per_channel, axis=0))
    return out


# --------------------------------------------------------------------------- evaluation and the trade-off curve
@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])  # (N, classes)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(model, x).argmax(1) == y).float().mean())


@dataclass(frozen=True)
class TradeoffPoint:
    family: str   # "uncompressed", "quantization", "pruning", ...
    label: str
    size_bytes: int
    accuracy: float
    sparsity: float


def _sparsity(model) -> float:
    rows = sparsity_per_layer(model)
    return sum(r.zeros for r in rows) / sum(r.total for r in rows)


def tradeoff_curves(model: nn.Module, x_val: torch.Tensor, y_val: torch.Tensor, bits_list=(2, 3, 4, 5, 6, 8),
                    sparsities=(0.3, 0.5, 0.7, 0.8, 0.9, 0.95), symmetric: bool = True,
                    per_channel: bool = False, structured: bool = False) -> list[TradeoffPoint]:
    """One point per setting, each from a real evaluation on (x_val, y_val): the uncompressed model, every
    bit width, every pruning level (τ chosen to reach that sparsity), and pruning followed by 8-bit weights."""
    kind = "structured" if structured else "unstructured"
    pts = [TradeoffPoint("uncompressed", "float32", model_size_bytes(model), accuracy(model, x_val, y_val),
                         _sparsity(model))]
    for b in bits_list:
        q = quantize_model(model, b, symmetric, per_channel)
        pts.append(TradeoffPoint("quantization", f"{b}-bit", model_size_bytes(q, b, symmetric, per_channel),
                                 accuracy(q, x_val, y_val), _sparsity(q)))
    for s in sparsities:
        tau = tau_for_sparsity(model, s, structured)
        p = prune_model(model, tau, structured)
        pts.append(TradeoffPoint(f"pruning ({kind})", f"τ={tau:.3g}", model_size_bytes(p),
                                 accuracy(p, x_val, y_val), _sparsity(p)))
        q = quantize_model(p, 8, symmetric, per_channel)
        pts.append(TradeoffPoint(f"pruning ({kind}) + 8-bit", f"τ={tau:.3g}",
                                 model_size_bytes(q, 8, symmetric, per_channel), accuracy(q, x_val, y_val),
                                 _sparsity(q)))
    return pts
