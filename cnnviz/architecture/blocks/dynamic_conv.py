"""Dynamic convolution (CondConv): K expert kernels mixed per example by a routing MLP on the pooled input,
then one conv with the mixed kernel. Parameters grow ×K, FLOPs barely (the mix is per example, not per pixel)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class SoftmaxGate(nn.Module):
    """softmax(z / τ) over the K kernels (Dynamic Convolution, Chen et al. 2020): the weights sum to 1."""

    def __init__(self, temperature: float = 1.0):
        super().__init__()
        self.temperature = temperature

    def forward(self, z):  # (N, K) -> (N, K)
        return (z / self.temperature).softmax(-1)


class Router(nn.Module):
    """Pooled input -> one weight per kernel: independent sigmoids (CondConv) or a softmax (DY-Conv)."""

    def __init__(self, c_in: int, experts: int, gate: str = "sigmoid", temperature: float = 1.0):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, experts)
        self.gate = nn.Sigmoid() if gate == "sigmoid" else SoftmaxGate(temperature)

    def forward(self, x):  # (N, C_in, H, W) -> (N, K)
        return self.gate(self.fc(self.pool(x).flatten(1)))


class ExpertKernels(nn.Module):
    """K kernels of shape (C_out, C_in, k, k); forward mixes them with routing weights (N, K)."""

    def __init__(self, c_in: int, c_out: int, k: int, experts: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(experts, c_out, c_in, k, k) * (c_in * k * k) ** -0.5)
        self.bias = nn.Parameter(torch.zeros(experts, c_out))

    def forward(self, r):  # (N, K) -> (N, C_out, C_in, k, k), (N, C_out)
        return torch.einsum("nk,koihw->noihw", r, self.weight), r @ self.bias


class DynamicConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int = 3, experts: int = 4, gate: str = "sigmoid",
                 temperature: float = 1.0):
        super().__init__()
        self.k = k
        self.router = Router(c_in, experts, gate, temperature)
        self.kernels = ExpertKernels(c_in, c_out, k, experts)

    def forward(self, x):  # (N, C_in, H, W) -> (N, C_out, H, W)
        n = x.shape[0]
        w, b = self.kernels(self.router(x))  # one mixed kernel per example
        # all examples at once as one grouped conv: (1, N·C_in, H, W) * (N·C_out, C_in, k, k)
        y = F.conv2d(x.reshape(1, -1, *x.shape[2:]), w.reshape(-1, *w.shape[2:]), b.reshape(-1),
                     padding=self.k // 2, groups=n)
        return y.reshape(n, -1, *y.shape[2:])
