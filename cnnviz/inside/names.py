"""Readable layer names for students: ``conv 1``, ``block 2 · conv 1``, ``block 2 · shortcut conv`` instead of
module paths such as ``layer3.shortcut.0`` (the path stays available as the second part of a label).

A layer's block is the innermost non-container module above it (a residual block, an SE block ...); inside a
block, counting restarts, and a layer on a branch (shortcut, downsample ...) is named as such."""
from __future__ import annotations

import torch.nn as nn

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
BRANCH_WORDS = ("shortcut", "downsample", "skip", "proj")
KINDS = {"Conv2d": "conv", "MaxPool2d": "max pool", "AvgPool2d": "avg pool", "BatchNorm2d": "batch norm",
         "Linear": "linear", "Identity": "", "AdaptiveAvgPool2d": "global pool", "AdaptiveMaxPool2d": "global max pool",
         "add": "add", "Flatten": "flatten", "Dropout": "dropout", "ReLU": "ReLU",
         # the Architecture Lab's presets: 1-D and 3-D layers, norms and activations of the modern blocks
         "Conv1d": "conv", "Conv3d": "conv", "ConvTranspose2d": "transposed conv", "MaxPool1d": "max pool",
         "MaxPool3d": "max pool", "AvgPool1d": "avg pool", "AvgPool3d": "avg pool", "AdaptiveAvgPool1d": "global pool",
         "AdaptiveAvgPool3d": "global pool", "BatchNorm1d": "batch norm", "BatchNorm3d": "batch norm",
         "LayerNorm": "layer norm", "GroupNorm": "group norm", "GELU": "GELU", "SiLU": "SiLU", "Tanh": "tanh",
         "Sigmoid": "sigmoid", "Softmax": "softmax", "LeakyReLU": "leaky ReLU", "ReLU6": "ReLU6"}


def block_of(model: nn.Module, path: str) -> str | None:
    """The innermost non-container module above ``path`` (a residual block, an SE block ...), or None."""
    parts, best = path.split("."), None
    for n in range(1, len(parts)):
        prefix = ".".join(parts[:n])
        if not isinstance(model.get_submodule(prefix), CONTAINERS):
            best = prefix
    return best


class Namer:
    """Numbers layers in the order they are named: per block, per kind, per branch."""

    def __init__(self):
        self.blocks: dict[str, int] = {}
        self.counts: dict[tuple, int] = {}

    def name(self, path: str, kind: str, block: str | None) -> str:
        label = KINDS.get(kind, kind.lower())
        branch = block is not None and any(w in path[len(block):] for w in BRANCH_WORDS)
        scope = self.blocks.setdefault(block, len(self.blocks) + 1) if block else None
        key = (block, label, branch)
        self.counts[key] = n = self.counts.get(key, 0) + 1
        if kind == "add" or branch:
            text = (f"shortcut {label}".strip() if branch else "add") + (f" {n}" if n > 1 else "")
        else:
            text = f"{label} {n}"
        return f"block {scope} · {text}" if scope else text


def layer_titles(model: nn.Module) -> dict[str, str]:
    """Every leaf module's path -> its readable name, in the model's order."""
    namer = Namer()
    return {path: namer.name(path, type(m).__name__, block_of(model, path))
            for path, m in model.named_modules() if path and not list(m.children())}
