"""ConvNeXt block: 7×7 depthwise conv, LayerNorm, 1×1 expand ×4 (as Linear on channels-last), GELU, 1×1 back,
layer scale, residual add. With C_in ≠ C_out a 1×1 projection (no bias) comes first."""
from __future__ import annotations

import torch
import torch.nn as nn


class LayerScale(nn.Module):
    def __init__(self, channels: int, init: float = 1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x):  # (..., C)
        return x * self.gamma


class ConvNeXtBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int | None = None, k: int = 7, expansion: int = 4):
        super().__init__()
        c = c_out or c_in
        self.proj = nn.Identity() if c == c_in else nn.Conv2d(c_in, c, 1, bias=False)
        self.dwconv = nn.Conv2d(c, c, k, padding=k // 2, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.pwconv1 = nn.Linear(c, expansion * c)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(expansion * c, c)
        self.scale = LayerScale(c)

    def forward(self, x):  # (N, C_in, H, W) -> (N, C, H, W)
        x = self.proj(x)
        y = self.dwconv(x).permute(0, 2, 3, 1)  # (N, H, W, C): channels last for LayerNorm and Linear
        y = self.scale(self.pwconv2(self.act(self.pwconv1(self.norm(y)))))
        return x + y.permute(0, 3, 1, 2)
