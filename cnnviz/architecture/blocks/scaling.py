"""EfficientNet's compound scaling (Tan & Le, 2019): depth × α^φ, width × β^φ, resolution × γ^φ with
α·β²·γ² ≈ 2, so FLOPs grow ≈ 2^φ. Measured on a small scalable CNN with FlopCounterMode (meta tensors: no
memory, no compute)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError

ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15  # the paper's grid-searched depth, width, resolution bases
BASE_DEPTH, BASE_WIDTHS, BASE_RES = 4, (16, 32, 64), 32


class ScalableCNN(nn.Module):
    """Three stages of `depth` 3×3 conv-BN-ReLU layers each (stride 2 at each stage start), pool, linear."""

    def __init__(self, depth: int = BASE_DEPTH, widths=BASE_WIDTHS, in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        layers, c = [], in_channels
        for stage, w in enumerate(widths):
            for i in range(depth):
                layers += [nn.Conv2d(c, w, 3, 2 if i == 0 and stage else 1, 1, bias=False), nn.BatchNorm2d(w),
                           nn.ReLU()]
                c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):  # (N, 3, R, R) -> (N, classes)
        return self.fc(self.pool(self.features(x)).flatten(1))


@dataclass(frozen=True)
class ScaledRow:
    phi: int
    depth: int
    widths: tuple
    resolution: int
    flops: int
    ratio: float        # measured FLOPs / φ = 0 FLOPs
    predicted: float    # (α·β²·γ²)^φ
    two_phi: float      # 2^φ


def scaled_config(phi: int) -> tuple[int, tuple, int]:
    """Depth, widths and resolution rounded to the nearest integer."""
    return (round(BASE_DEPTH * ALPHA ** phi), tuple(round(w * BETA ** phi) for w in BASE_WIDTHS),
            round(BASE_RES * GAMMA ** phi))


def flops_of(model: nn.Module, in_shape) -> int:
    with FlopCounterMode(display=False) as fc:
        model(torch.zeros(1, *in_shape, device=next(model.parameters()).device))
    return fc.get_total_flops()


def compound_scaling(max_phi: int = 4) -> list[ScaledRow]:
    if isinstance(max_phi, bool) or not isinstance(max_phi, int) or not 0 <= max_phi <= 8:
        raise ConfigError("phi", f"must be a whole number from 0 to 8, got {safe_repr(max_phi)}")
    rows, base = [], None
    for phi in range(max_phi + 1):
        d, w, r = scaled_config(phi)
        with torch.device("meta"):
            model = ScalableCNN(d, w)
        flops = flops_of(model, (3, r, r))
        base = base or flops
        rows.append(ScaledRow(phi, d, w, r, flops, flops / base, (ALPHA * BETA ** 2 * GAMMA ** 2) ** phi, 2.0 ** phi))
    return rows
