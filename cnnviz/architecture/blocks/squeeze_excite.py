"""Squeeze-and-Excitation: global average pool, a bottleneck MLP (C -> C/r -> C), sigmoid gates per channel."""
from __future__ import annotations

import torch.nn as nn


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)  # a linear layer on the pooled (N, C, 1, 1) vector
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):  # (N, C, H, W) -> (N, C, H, W)
        w = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))  # (N, C, 1, 1) in (0, 1)
        return x * w


class ConvSE(nn.Module):
    """A k×k conv (no bias) followed by SE gating of its output."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, reduction: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
        self.se = SqueezeExcite(c_out, reduction)

    def forward(self, x):
        return self.se(self.conv(x))
