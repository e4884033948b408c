"""(2+1)-D convolution for video: a 1×k×k spatial conv then a t×1×1 temporal conv, in place of one t×k×k conv.
The middle width M is chosen as in R(2+1)D so the parameter count matches the full 3-D conv."""
from __future__ import annotations

import torch.nn as nn


def mid_channels(c_in: int, c_out: int, t: int, k: int) -> int:
    """M = ⌊t·k²·C_in·C_out / (k²·C_in + t·C_out)⌋ (Tran et al., 2018)."""
    return max(1, (t * k * k * c_in * c_out) // (k * k * c_in + t * c_out))


class Conv2Plus1D(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int = 3, t: int = 3):
        super().__init__()
        mid = mid_channels(c_in, c_out, t, k)
        self.spatial = nn.Conv3d(c_in, mid, (1, k, k), padding=(0, k // 2, k // 2), bias=False)
        self.bn = nn.BatchNorm3d(mid)
        self.relu = nn.ReLU()
        self.temporal = nn.Conv3d(mid, c_out, (t, 1, 1), padding=(t // 2, 0, 0), bias=False)

    def forward(self, x):  # (N, C_in, T, H, W) -> (N, C_out, T, H, W)
        return self.temporal(self.relu(self.bn(self.spatial(x))))
