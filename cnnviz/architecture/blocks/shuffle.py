"""ShuffleNet unit: grouped 1×1 conv, channel shuffle, 3×3 depthwise, grouped 1×1, residual add."""
from __future__ import annotations

import torch
import torch.nn as nn


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(N, g·c, ...) -> (N, c·g, ...): channel i of group a moves next to channel i of every other group."""
    n, c = x.shape[:2]
    return x.reshape(n, groups, c // groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)


class ChannelShuffle(nn.Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class ShuffleUnit(nn.Module):
    """Stride-1 ShuffleNet v1 unit (C in = C out; the bottleneck has C/4 channels, divisible by groups)."""

    def __init__(self, channels: int, groups: int = 2):
        super().__init__()
        mid = channels // 4
        self.gconv1 = nn.Conv2d(channels, mid, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.relu1 = nn.ReLU()
        self.shuffle = ChannelShuffle(groups)
        self.dwconv = nn.Conv2d(mid, mid, 3, padding=1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.gconv2 = nn.Conv2d(mid, channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)
        self.relu2 = nn.ReLU()

    def forward(self, x):  # (N, C, H, W) -> (N, C, H, W)
        y = self.shuffle(self.relu1(self.bn1(self.gconv1(x))))  # (N, C/4, H, W)
        y = self.bn3(self.gconv2(self.bn2(self.dwconv(y))))
        return self.relu2(x + y)
