"""Vanishing gradients: a deep plain stack of sigmoid convolutions against the same depth with BatchNorm
and residual connections. Per layer, the norm of the gradient of the loss with respect to its weights."""
from __future__ import annotations

import torch
import torch.nn as nn

from cnnviz.device import pick_device
from cnnviz.errors import ConfigError


class DeepStack(nn.Module):
    """``depth`` 3×3 convolutions of ``width`` channels, then global pooling and a linear classifier.
    plain: conv → sigmoid (no normalisation, no shortcut). resnet: x + relu(bn(conv(x)))."""

    def __init__(self, depth: int, in_channels: int, num_classes: int, width: int = 8, kind: str = "plain"):
        super().__init__()
        if kind not in ("plain", "resnet"):
            raise ConfigError("kind", f"choose plain or resnet, got {kind!r}")
        if not 2 <= depth <= 64:
            raise ConfigError("depth", f"must be 2–64 layers, got {depth}")
        self.kind = kind
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1, bias=kind == "plain")
                                   for _ in range(depth - 1))
        self.norms = nn.ModuleList((nn.BatchNorm2d(width) if kind == "resnet" else nn.Identity())
                                   for _ in range(depth - 1))
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):  # (N, C, H, W) -> (N, classes)
        x = torch.sigmoid(self.stem(x)) if self.kind == "plain" else torch.relu(self.stem(x))
        for conv, norm in zip(self.convs, self.norms):
            x = torch.sigmoid(conv(x)) if self.kind == "plain" else x + torch.relu(norm(conv(x)))
        return self.head(x.mean(dim=(2, 3)))

    def conv_weights(self) -> list[torch.Tensor]:
        return [self.stem.weight, *(c.weight for c in self.convs)]


def layer_grad_norms(model: DeepStack) -> list[float]:
    """‖∂loss/∂W‖ per conv layer, input side first (after a backward pass)."""
    return [float(w.grad.norm()) if w.grad is not None else 0.0 for w in model.conv_weights()]


def compare(x: torch.Tensor, y: torch.Tensor, num_classes: int, depth: int = 20, steps: int = 30,
            batch: int = 64, lr: float = 1e-2, seed: int = 0, device=None) -> dict:
    """Train both stacks side by side with Adam on the same batches, on ``device`` (default ``pick_device()``).
    Returns, per kind, the gradient norm per layer at the first step and the loss per step (Python floats)."""
    dev = torch.device(device) if device is not None else pick_device()
    x, y = x.to(dev), y.to(dev)
    out = {}
    for kind in ("plain", "resnet"):
        torch.manual_seed(seed)
        model = DeepStack(depth, x.shape[1], num_classes, kind=kind).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(seed)
        losses, first = [], None
        for _ in range(steps):
            idx = torch.randint(0, len(y), (batch,), generator=g).to(dev)  # CPU generator: same batches anywhere
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if first is None:
                first = layer_grad_norms(model)
            opt.step()
            losses.append(loss.detach())  # on the device: one sync per run, not per step
        out[kind] = dict(grad_norms=first, losses=torch.stack(losses).cpu().tolist())
    return out
