"""Preset networks for the Architecture Lab: classic CNNs and modern blocks, each with the input it expects.

``build_preset(name)`` -> (model, in_shape). Every activation is its own module instance (never reused)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn as nn

from cnnviz.architecture import blocks as B
from cnnviz.errors import ConfigError
from cnnviz.architecture.models import SmallResNet, TinyVGG


@dataclass(frozen=True)
class Preset:
    build: Callable[[], nn.Module]
    in_shape: tuple
    about: str


def lenet5() -> nn.Module:
    """LeCun et al. (1998): 61,706 parameters on a 1×32×32 image."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),      # (6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),     # (16, 5, 5)
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),      # (120,)
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def mobilenet_style(width: int = 16, num_classes: int = 10) -> nn.Module:
    w = width
    return nn.Sequential(
        nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),  # (w, 16, 16)
        B.DepthwiseSeparableConv(w, 2 * w, norm=True, act=True),
        B.DepthwiseSeparableConv(2 * w, 4 * w, stride=2, norm=True, act=True),  # (4w, 8, 8)
        B.DepthwiseSeparableConv(4 * w, 4 * w, norm=True, act=True),
        B.DepthwiseSeparableConv(4 * w, 8 * w, stride=2, norm=True, act=True),  # (8w, 4, 4)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8 * w, num_classes))


def conv1d_net(num_classes: int = 5) -> nn.Module:
    """A 1-D CNN for sequences (audio, sensor signals), 1×128 samples in."""
    return nn.Sequential(
        nn.Conv1d(1, 16, 7, padding=3), nn.ReLU(), nn.MaxPool1d(2),    # (16, 64)
        nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),   # (32, 32)
        nn.Conv1d(32, 64, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(64, num_classes))


PRESETS: dict[str, Preset] = {
    "LeNet-5": Preset(lenet5, (1, 32, 32), "LeCun 1998: conv 5×5, tanh, average pooling, three dense layers."),
    "TinyVGG": Preset(lambda: TinyVGG(3, 10, 64), (3, 64, 64),
                      "CNN Explainer's model: two VGG blocks of two 3×3 convs and a max pool."),
    "Small ResNet": Preset(lambda: SmallResNet(3, 10, 32), (3, 32, 32),
                           "Three residual basic blocks: y = ReLU(F(x) + shortcut(x))."),
    "MobileNet-style": Preset(mobilenet_style, (3, 32, 32),
                              "Depthwise-separable convs: a 3×3 per channel, then a 1×1 that mixes channels."),
    "ShuffleNet unit": Preset(lambda: B.ShuffleUnit(32, groups=4), (32, 16, 16),
                              "Grouped 1×1 convs are cheap; a channel shuffle lets groups talk to each other."),
    "SE block": Preset(lambda: B.ConvSE(16, 32), (16, 16, 16),
                       "Squeeze-and-Excitation: a tiny MLP on the pooled map gates every channel."),
    "ConvNeXt block": Preset(lambda: B.ConvNeXtBlock(32), (32, 16, 16),
                             "7×7 depthwise conv, LayerNorm, inverted 1×1 bottleneck ×4 with GELU, residual."),
    "Dilated residual dense block": Preset(lambda: B.DilatedResidualDenseBlock(16), (16, 16, 16),
                                           "Dense connections with dilation 1, 2, 4: a wide field, few weights."),
    "Dynamic conv (CondConv)": Preset(lambda: B.DynamicConv(16, 32, 3, 4), (16, 16, 16),
                                      "4 expert kernels mixed per example by a router: ×4 weights, ~same FLOPs."),
    "(2+1)-D video block": Preset(lambda: B.Conv2Plus1D(3, 16), (3, 8, 32, 32),
                                  "A 3-D conv factorised into a 1×3×3 spatial and a 3×1×1 temporal conv."),
    "1-D conv net": Preset(conv1d_net, (1, 128), "Conv1d over a sequence of 128 samples."),
    "ViT patch embedding + attention pooling": Preset(B.PatchViTPool, (3, 32, 32),
                                                      "A conv with kernel = stride = 4 cuts 64 patches; one "
                                                      "learned query attends over them."),
}


def build_preset(name: str) -> tuple[nn.Module, tuple]:
    if name not in PRESETS:
        raise ConfigError("preset", f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    p = PRESETS[name]
    return p.build(), p.in_shape
