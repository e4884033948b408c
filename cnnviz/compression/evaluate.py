"""The honest bookkeeping behind an accuracy-vs-size curve: bytes on disk (dense or sparse, at any bit
width) and accuracy on the validation set, one real evaluation per point."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.device import to_model_device
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


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits (N, classes) on the model's device: ``x`` goes there batch by batch."""
    model.eval()
    return torch.cat([model(to_model_device(x[i:i + batch_size], model))
                      for i in range(0, len(x), batch_size)])  # (N, classes)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(model, x).argmax(1) == to_model_device(y, model)).float().mean())


@dataclass(frozen=True)
class TradeoffPoint:
    family: str   # "uncompressed", "quantization", "pruning", ...
    label: str
    size_bytes: int
    accuracy: float
    sparsity: float


def _sparsity(model) -> float:
    return overall_sparsity(sparsity_per_layer(model))


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
