"""The honest bookkeeping behind an accuracy-vs-size curve: bytes on disk (dense or sparse, at any bit
width) and accuracy on the validation set, one real evaluation per point."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.checks import Flag, Module, Number, Seq, Tensor, checked, run_model
from cnnviz.device import model_device
from cnnviz.errors import ConfigError
from cnnviz.compression.prune import (overall_sparsity, prunable_layers, prune_model, sparsity_per_layer,
                                      tau_for_sparsity)
from cnnviz.compression.quantize import _check_bits, quantize_model


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


IMAGES = Tensor(dims=(2, 5), what="a batch of inputs (N, C, ...) with at least one sample")
LABELS = Tensor(dims=1, kind="int", what="one class index per sample (N,)")


def _model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype the model computes in: its first floating-point parameter's (float32 when it has none)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


@checked(model=Module(), x=IMAGES, batch_size=Number(1, 1 << 20, integer=True))
@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024, field: str = "x") -> torch.Tensor:
    """Logits (N, classes) on the model's device: ``x`` goes there batch by batch, in the model's dtype (a
    half-precision model gets half-precision inputs). ConfigError on ``field`` for an input the model cannot take."""
    model.eval()
    device, dtype = model_device(model), _model_dtype(model)
    out = [run_model(model, x[i:i + batch_size].to(device, dtype), field) for i in range(0, len(x), batch_size)]
    if not all(isinstance(o, torch.Tensor) for o in out):
        raise ConfigError("model", f"must return a tensor of class scores, got {type(out[0]).__name__}")
    try:
        return torch.cat(out)  # (N, classes)
    except RuntimeError as e:
        raise ConfigError("model", f"returns outputs of different shapes per batch: {str(e)[:120]}") from None


def _check_labels(logits: torch.Tensor, y: torch.Tensor, x_field: str, y_field: str) -> None:
    if logits.dim() != 2 or logits.shape[1] < 1:
        raise ConfigError("model", f"must output class scores (N, classes) with at least one class, got shape "
                                   f"{tuple(logits.shape)}")
    if len(y) != len(logits):
        raise ConfigError(y_field, f"needs one label per sample of {x_field} ({len(logits)}), got {len(y)}")
    if not 0 <= int(y.min()) <= int(y.max()) < logits.shape[1]:
        raise ConfigError(y_field, f"class indices must be in [0, {logits.shape[1] - 1}] (the model's "
                                   f"{logits.shape[1]} classes), got {int(y.min())} to {int(y.max())}")


@checked(model=Module(), x=IMAGES, y=LABELS)
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_field: str = "x", y_field: str = "y") -> float:
    """The fraction of samples whose largest logit is the label's class (at least one sample)."""
    logits = predict(model, x, field=x_field)
    _check_labels(logits, y, x_field, y_field)
    return float((logits.argmax(1) == y.to(logits.device)).float().mean())


@dataclass(frozen=True)
class TradeoffPoint:
    family: str   # "uncompressed", "quantization", "pruning", ...
    label: str
    size_bytes: int
    accuracy: float
    sparsity: float


def _sparsity(model) -> float:
    return overall_sparsity(sparsity_per_layer(model))


@checked(model=Module(), x_val=IMAGES, y_val=LABELS, bits_list=Seq(Number(2, 16, integer=True), max_len=16),
         sparsities=Seq(Number(0, 1), max_len=32), symmetric=Flag(), per_channel=Flag(), structured=Flag())
def tradeoff_curves(model: nn.Module, x_val: torch.Tensor, y_val: torch.Tensor, bits_list=(2, 3, 4, 5, 6, 8),
                    sparsities=(0.3, 0.5, 0.7, 0.8, 0.9, 0.95), symmetric: bool = True,
                    per_channel: bool = False, structured: bool = False) -> list[TradeoffPoint]:
    """One point per setting, each from a real evaluation on (x_val, y_val): the uncompressed model, every
    bit width, every pruning level (τ chosen to reach that sparsity), and pruning followed by 8-bit weights."""
    kind = "structured" if structured else "unstructured"
    if not prunable_layers(model, structured):
        raise ConfigError("model", "has no conv layer to prune channels of" if structured else
                          "has no conv or linear layer: there is nothing to quantize or prune")
    acc = lambda m: accuracy(m, x_val, y_val, "x_val", "y_val")  # noqa: E731
    pts = [TradeoffPoint("uncompressed", "float32", model_size_bytes(model), acc(model), _sparsity(model))]
    for b in bits_list:
        q = quantize_model(model, b, symmetric, per_channel)
        pts.append(TradeoffPoint("quantization", f"{b}-bit", model_size_bytes(q, b, symmetric, per_channel),
                                 acc(q), _sparsity(q)))
    for s in sparsities:
        tau = tau_for_sparsity(model, s, structured)
        p = prune_model(model, tau, structured)
        pts.append(TradeoffPoint(f"pruning ({kind})", f"τ={tau:.3g}", model_size_bytes(p),
                                 acc(p), _sparsity(p)))
        q = quantize_model(p, 8, symmetric, per_channel)
        pts.append(TradeoffPoint(f"pruning ({kind}) + 8-bit", f"τ={tau:.3g}",
                                 model_size_bytes(q, 8, symmetric, per_channel), acc(q),
                                 _sparsity(q)))
    return pts
