"""Magnitude pruning (unstructured, or whole output channels) and the sparsity bookkeeping behind it.
Everything works on a *copy* of the model; the model you pass in is never changed."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn.utils import prune

from cnnviz.checks import Flag, Module, Number, Tensor, checked
from cnnviz.errors import ConfigError

PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def prunable_layers(model: nn.Module, structured: bool = False) -> list[tuple[str, nn.Module]]:
    """Conv and linear layers. Structured (channel) pruning touches conv layers only: pruning an output
    row of the classifier would delete a class."""
    kinds = PRUNABLE[:3] if structured else PRUNABLE
    return [(n, m) for n, m in model.named_modules() if isinstance(m, kinds)]


def _check_tau(tau) -> None:
    if not isinstance(tau, (int, float)) or not math.isfinite(tau) or tau < 0:
        raise ConfigError("tau", f"must be a finite number ≥ 0, got {tau!r}")


@checked(weight=Tensor(dims=(2, 5)))
def channel_scores(weight: torch.Tensor) -> torch.Tensor:
    """Mean |w| of each output channel (L1 norm / fan-in): the score structured pruning compares to τ."""
    return weight.detach().abs().reshape(weight.shape[0], -1).mean(dim=1)  # (C_out,)


@checked(model=Module(), tau=Number(0), structured=Flag())
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
            keep = m.weight.detach().float().abs() >= tau  # compared in float32, as prune_scores ranks them
            prune.custom_from_mask(m, "weight", keep.to(m.weight.dtype))
        prune.remove(m, "weight")
    return out


@checked(model=Module(), structured=Flag())
def prune_scores(model: nn.Module, structured: bool = False) -> torch.Tensor:
    """What τ is compared to, over all layers: |w| of every weight, or the mean |w| of every conv channel."""
    layers = prunable_layers(model, structured)
    if not layers:
        raise ConfigError("model", "has no conv or linear layer to prune")
    return torch.cat([channel_scores(m.weight) if structured else m.weight.detach().float().abs().flatten()
                      for _, m in layers])


@checked(model=Module(), sparsity=Number(0, 1), structured=Flag())
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


def overall_sparsity(rows: list[LayerSparsity]) -> float:
    """The zeroed fraction of all conv/linear weights together (``rows`` from :func:`sparsity_per_layer`)."""
    total = sum(r.total for r in rows)
    return sum(r.zeros for r in rows) / total if total else 0.0  # no conv/linear weights: nothing is zeroed
