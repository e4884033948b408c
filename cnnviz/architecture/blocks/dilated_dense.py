"""Dilated residual dense block: each 3×3 conv (dilation 1, 2, 4, ...) sees the concatenation of the input and
every earlier layer's output (DenseNet); a 1×1 conv fuses them back to C channels; a residual add."""
from __future__ import annotations

import torch
import torch.nn as nn


class DilatedResidualDenseBlock(nn.Module):
    def __init__(self, channels: int, growth: int = 8, layers: int = 3):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(channels + i * growth, growth, 3, padding=2 ** i, dilation=2 ** i)
                                   for i in range(layers))
        self.acts = nn.ModuleList(nn.ReLU() for _ in range(layers))
        self.fuse = nn.Conv2d(channels + layers * growth, channels, 1)

    def forward(self, x):  # (N, C, H, W) -> (N, C, H, W)
        feats = [x]
        for conv, act in zip(self.convs, self.acts):
            feats.append(act(conv(torch.cat(feats, 1))))  # (N, growth, H, W)
        return x + self.fuse(torch.cat(feats, 1))
