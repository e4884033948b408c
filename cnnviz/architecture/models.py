"""Small preset networks used across pages (training, feature maps, saliency, compression).

Each activation is its own ``nn.ReLU()`` instance (never reused, never inplace): captum's GuidedBackprop
and DeepLift hook activation modules and give wrong maps otherwise."""
from __future__ import annotations

import torch
import torch.nn as nn

from cnnviz.errors import ConfigError


def _check(in_channels: int, num_classes: int, size: int, min_size: int) -> None:
    if in_channels < 1:
        raise ConfigError("in_channels", f"must be ≥ 1, got {in_channels}")
    if num_classes < 2:
        raise ConfigError("num_classes", f"must be ≥ 2, got {num_classes}")
    if size < min_size:
        raise ConfigError("size", f"must be ≥ {min_size} for this model, got {size}")


class TinyVGG(nn.Module):
    """CNN Explainer's model: two blocks of (conv3×3 → ReLU → conv3×3 → ReLU → maxpool 2), then linear."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, size: int = 32, width: int = 10):
        super().__init__()
        _check(in_channels, num_classes, size, 4)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(width * (size // 4) ** 2, num_classes))

    def forward(self, x):  # (N, C, H, W) -> (N, classes)
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """ResNet basic block: conv-BN-ReLU-conv-BN plus a (projected) shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))
        self.relu2 = nn.ReLU()

    def forward(self, x):  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(y + self.shortcut(x))


class SmallResNet(nn.Module):
    """A 3-stage ResNet for small images (8×8 to 64×64): stem, three basic blocks, global pool, linear."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, size: int = 32, width: int = 16):
        super().__init__()
        _check(in_channels, num_classes, size, 4)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU())
        self.layer1 = BasicBlock(width, width)
        self.layer2 = BasicBlock(width, 2 * width, stride=2)
        self.layer3 = BasicBlock(2 * width, 4 * width, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, num_classes)

    def forward(self, x):  # (N, C, H, W) -> (N, classes)
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


MODELS = {"TinyVGG": TinyVGG, "SmallResNet": SmallResNet}


def build_model(name: str, in_channels: int, num_classes: int, size: int, **kwargs) -> nn.Module:
    if name not in MODELS:
        raise ConfigError("model", f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name](in_channels, num_classes, size, **kwargs)
