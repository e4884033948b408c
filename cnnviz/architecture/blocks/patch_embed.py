"""ViT-style patch embedding (a conv with kernel = stride = patch size) and attention pooling (one learned
query attends over all patch tokens)."""
from __future__ import annotations

import torch
import torch.nn as nn


class PatchEmbed(nn.Module):
    def __init__(self, c_in: int = 3, dim: int = 32, patch: int = 4):
        super().__init__()
        self.proj = nn.Conv2d(c_in, dim, patch, stride=patch)

    def forward(self, x):  # (N, C, H, W) -> (N, H/p·W/p, dim)
        return self.proj(x).flatten(2).transpose(1, 2)


class LearnedQuery(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, tokens):  # (N, T, dim) -> (N, 1, dim)
        return self.query.expand(tokens.shape[0], -1, -1)


class AttentionPool(nn.Module):
    """Single-query multi-head attention over tokens; softmax(q·kᵀ/√d)·v, then an output projection."""

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.query = LearnedQuery(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, tokens):  # (N, T, dim) -> (N, dim)
        n, t, d = tokens.shape
        h = self.heads
        q = self.q(self.query(tokens)).reshape(n, 1, h, d // h).transpose(1, 2)  # (N, h, 1, d/h)
        k, v = self.kv(tokens).reshape(n, t, 2, h, d // h).permute(2, 0, 3, 1, 4)  # (N, h, T, d/h) each
        att = (q @ k.transpose(-2, -1) * (d // h) ** -0.5).softmax(-1)  # (N, h, 1, T)
        return self.out((att @ v).transpose(1, 2).reshape(n, d))


class PatchViTPool(nn.Module):
    def __init__(self, c_in: int = 3, dim: int = 32, patch: int = 4, heads: int = 4, num_classes: int = 10,
                 size: int = 32):
        super().__init__()
        self.embed = PatchEmbed(c_in, dim, patch)
        self.pos = nn.Parameter(torch.zeros(1, (size // patch) ** 2, dim))
        self.norm = nn.LayerNorm(dim)
        self.pool = AttentionPool(dim, heads)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):  # (N, C, H, W) -> (N, classes)
        return self.head(self.pool(self.norm(self.embed(x) + self.pos)))
