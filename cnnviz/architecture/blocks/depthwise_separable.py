"""Depthwise-separable convolution (MobileNet): a k×k depthwise conv (groups = C_in) then a 1×1 pointwise conv.

Parameters (no bias): k²·C_in + C_in·C_out instead of k²·C_in·C_out, a ratio of 1/C_out + 1/k²."""
from __future__ import annotations

import torch.nn as nn


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1, norm: bool = False, act: bool = False):
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, k, stride, k // 2, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in) if norm else nn.Identity()
        self.act1 = nn.ReLU() if act else nn.Identity()
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out) if norm else nn.Identity()
        self.act2 = nn.ReLU() if act else nn.Identity()

    def forward(self, x):  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        x = self.act1(self.bn1(self.depthwise(x)))  # (N, C_in, H/s, W/s): one k×k filter per channel
        return self.act2(self.bn2(self.pointwise(x)))  # (N, C_out, H/s, W/s): mixes channels
