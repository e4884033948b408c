"""The whole network for one image: input → every layer as a column of feature maps → class probabilities,
with readable names ("conv 1", "block 2 · shortcut conv"), the module path, shapes, one colour range per layer
and the edges between columns (residual connections included)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.inside.names import Namer, block_of as block_of_path

from .recording import Node, Recording, record

HIDDEN = (nn.BatchNorm2d, nn.Identity, nn.Dropout, nn.Dropout2d, nn.Flatten)  # shown only with every=True


@dataclass(frozen=True)
class Column:
    name: str                  # readable: "conv 1", "block 2 · shortcut conv"
    path: str                  # module path ("layer2.shortcut.0"), "" for the input and additions in forward
    kind: str                  # "input", "add" or the module's class name
    shape: tuple[int, ...]     # (C, H, W), or (F,) for a vector
    maps: torch.Tensor         # (C, H, W); a vector (F,) as (F, 1, 1)
    lo: float                  # the colour range, shared by every channel of the column
    hi: float
    inputs: tuple[int, ...]    # the columns it reads
    groups: int                # 1: every output reads every input channel; = C: channel to channel
    node: str = ""             # the recording's name of the layer: the module path, or "add@<n>" for an addition

    @property
    def layer(self) -> str:
        return self.path


@dataclass(frozen=True)
class Overview:
    columns: list[Column]
    logits: list[float]
    probabilities: list[float]

    def find(self, path: str) -> int:
        return next(k for k, c in enumerate(self.columns) if c.path == path)

    def clamp(self, c: int, channel: int, i: int, j: int) -> tuple[int, int, int]:
        """The nearest cell that exists in column ``c`` (a link or a widget may point past its edge)."""
        ch, h, w = self.columns[c].maps.shape
        return min(max(channel, 0), ch - 1), min(max(i, 0), h - 1), min(max(j, 0), w - 1)

    def most_active(self, c: int, channel: int) -> tuple[int, int]:
        """The position of the largest value of column ``c``'s map ``channel`` (the first in reading order):
        where a clicked channel's neuron view starts."""
        m = self.columns[c].maps[min(max(channel, 0), self.columns[c].maps.shape[0] - 1)]
        a = int(torch.argmax(m.flatten()))
        return a // m.shape[1], a % m.shape[1]

    def cell_inputs(self, c: int, channel: int, i: int, j: int) -> list[tuple[str, float]]:
        """For a channel-to-channel column (activation, batch norm, addition): the same cell in each column it
        reads, then its own value — e.g. [("block 1 · conv 2", -0.3), ("relu 1", 1.2), ("block 1 · add", 0.9)]."""
        col = self.columns[c]
        cells = [(self.columns[s].name, float(self.columns[s].maps[channel, i, j])) for s in col.inputs
                 if self.columns[s].maps.shape == col.maps.shape]
        return cells + [(col.name, float(col.maps[channel, i, j]))]


def _kind(node: Node) -> str:
    return "add" if node.module is None else type(node.module).__name__


def _groups(node: Node, channels: int) -> int:
    m = node.module
    if isinstance(m, nn.Conv2d):
        return m.groups
    return 1 if isinstance(m, nn.Linear) else channels


def _names(model: nn.Module, rec: Recording, kept: list[int], block_of: dict[int, str | None]) -> list[str]:
    namer = Namer()
    return [namer.name(rec.nodes[k].name, _kind(rec.nodes[k]), block_of[k]) for k in kept]


def overview(model: nn.Module, x: torch.Tensor, every: bool = False) -> Overview:
    """Record one forward pass of ``x`` (1, C, H, W) and lay it out as columns. Batch norm, identity, dropout
    and flatten are folded into the column before them unless ``every``; an identity shortcut then shows as a
    residual edge from the block's input straight to its addition."""
    rec = record(model, x)
    column_of = {-1: 0}
    kept: list[int] = []
    for k, node in enumerate(rec.nodes):
        out = node.output
        hidden = isinstance(node.module, HIDDEN) and not (every and out.dim() == 4)
        if hidden or out.dim() not in (2, 4):
            column_of[k] = column_of.get(node.inputs[0], 0)
            continue
        kept.append(k)
        column_of[k] = len(kept)
    block_of = {}
    for k in kept:  # an addition in forward code belongs to the block of what it adds
        node = rec.nodes[k]
        block_of[k] = (block_of_path(model, node.name) if node.module is not None
                       else block_of.get(node.inputs[0], block_of_path(model, rec.nodes[node.inputs[0]].name)))
    names = _names(model, rec, kept, block_of)
    img = rec.x[0].cpu()
    columns = [Column("input", "", "input", tuple(img.shape), img, float(img.min()), float(img.max()), (), 1)]
    for k, name in zip(kept, names):
        node = rec.nodes[k]
        maps = node.output[0].cpu().float()
        maps = maps.view(-1, 1, 1) if maps.dim() == 1 else maps  # (C, H, W)
        inputs = tuple(dict.fromkeys(column_of.get(i, 0) for i in node.inputs))
        columns.append(Column(name, node.name if node.module is not None else "", _kind(node),
                              tuple(node.output.shape[1:]), maps, float(maps.min()), float(maps.max()), inputs,
                              _groups(node, maps.shape[0]), node.name))
    logits = rec.logits[0].float().cpu()
    return Overview(columns, logits.tolist(), torch.softmax(logits, 0).tolist())
