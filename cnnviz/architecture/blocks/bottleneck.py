"""ResNet bottleneck: 1×1 reduce to C_out/4, k×k, 1×1 expand to C_out, plus a (projected) shortcut."""
from __future__ import annotations

import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int = 3, reduction: int = 4, norm: bool = True):
        super().__init__()
        mid = max(1, c_out // reduction)
        bn = (lambda c: nn.BatchNorm2d(c)) if norm else (lambda c: nn.Identity())
        self.conv1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = bn(mid)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(mid, mid, k, padding=k // 2, bias=False)
        self.bn2 = bn(mid)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = bn(c_out)
        self.shortcut = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1, bias=False)
        self.relu3 = nn.ReLU()

    def forward(self, x):  # (N, C_in, H, W) -> (N, C_out, H, W)
        y = self.relu1(self.bn1(self.conv1(x)))  # (N, C_out/4, H, W)
        y = self.relu2(self.bn2(self.conv2(y)))
        return self.relu3(self.bn3(self.conv3(y)) + self.shortcut(x))
