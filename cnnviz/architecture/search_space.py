"""The Architecture Lab's tiny architecture-search space: a candidate network is four genes (stages, width, kernel,
block type), its module, its exact FLOPs (closed form; tests/unit/architecture/test_search.py checks it against
``FlopCounterMode``), random sampling and one-gene mutation, the Pareto front of (FLOPs, accuracy) points, and the
compound-scaling family (EfficientNet's α, β, γ from :mod:`cnnviz.architecture.blocks.scaling`) of a baseline.

A candidate: ``depth`` stages, stage s has ``width·2^s`` channels and is one block (k×k, 'same' padding) followed
by 2×2 max pooling; then global average pooling and a linear layer to the 10 digit classes."""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

import torch
import torch.nn as nn

from cnnviz.architecture.blocks.depthwise_separable import DepthwiseSeparableConv
from cnnviz.architecture.blocks.scaling import ALPHA, BETA, GAMMA
from cnnviz.errors import ConfigError

DEPTHS = (1, 2, 3)
WIDTHS = (4, 6, 8, 12, 16)
KERNELS = (3, 5)
BLOCKS = ("plain", "depthwise-separable", "residual")
SPACE = dict(depth=DEPTHS, width=WIDTHS, kernel=KERNELS, block=BLOCKS)  # what sampling and mutation draw from
IN_CHANNELS, NUM_CLASSES, IN_SIZE = 1, 10, 8  # digits: 8×8 grey images, 10 classes
FAMILY_PHIS = (0, 1, 2)


@dataclass(frozen=True)
class Genes:
    depth: int = 2          # stages, 1–3
    width: int = 8          # channels of the first stage, 4–16 (doubled at every stage)
    kernel: int = 3         # 3 or 5
    block: str = "plain"    # one of BLOCKS
    resolution: int = IN_SIZE  # input side: the digits' 8, more only for the compound-scaling family (upsampled)

    def __post_init__(self):
        for name, lo, hi in (("depth", 1, 3), ("width", 4, 16), ("resolution", 8, 16)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError(name, f"must be a whole number from {lo} to {hi}, got {v!r}")
        if self.kernel not in KERNELS:
            raise ConfigError("kernel", f"must be one of {KERNELS}, got {self.kernel!r}")
        if self.block not in BLOCKS:
            raise ConfigError("block", f"must be one of {', '.join(BLOCKS)}, got {self.block!r}")

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(self.width * 2 ** s for s in range(self.depth))

    def label(self) -> str:
        """'2 × plain 3×3, width 8' (and ', 11×11 input' when upsampled)."""
        k = f"{self.kernel}×{self.kernel}"
        res = f", {self.resolution}×{self.resolution} input" if self.resolution != IN_SIZE else ""
        return f"{self.depth} × {self.block} {k}, width {self.width}{res}"


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus a 1×1 projected shortcut (when the channels change), then ReLU."""

    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
        self.bn1, self.relu1 = nn.BatchNorm2d(c_out), nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, k, padding=k // 2, bias=False)
        self.bn2, self.relu2 = nn.BatchNorm2d(c_out), nn.ReLU()
        self.shortcut = (nn.Identity() if c_in == c_out else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x):  # (N, C_in, H, W) -> (N, C_out, H, W)
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


def make_block(kind: str, c_in: int, c_out: int, k: int) -> nn.Module:
    if kind == "plain":
        return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())
    if kind == "depthwise-separable":
        return DepthwiseSeparableConv(c_in, c_out, k, norm=True, act=True)
    return ResidualBlock(c_in, c_out, k)


class CandidateNet(nn.Module):
    """The network of one candidate (see the module's docstring). Input (N, 1, R, R) with R = genes.resolution."""

    def __init__(self, genes: Genes):
        super().__init__()
        layers, c = [], IN_CHANNELS
        for w in genes.widths:
            layers += [make_block(genes.block, c, w, genes.kernel), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, NUM_CLASSES)

    def forward(self, x):  # (N, 1, R, R) -> (N, 10)
        return self.fc(self.pool(self.features(x)).flatten(1))


def candidate_flops(g: Genes) -> int:
    """FLOPs of one forward pass of one image, counted as PyTorch's FlopCounterMode does: 2 per multiply-add of
    the convolutions and the linear layer (normalisation, activations, pooling, the residual add: not counted).
    A k×k conv from C_in to C_out on an H×W output: 2·C_out·(C_in/groups)·k²·H·W."""
    total, c, s, k2 = 0, IN_CHANNELS, g.resolution, g.kernel ** 2
    for w in g.widths:
        hw = s * s  # 'same' padding: the block keeps the side, the pooling halves it (floor)
        if g.block == "plain":
            total += 2 * w * c * k2 * hw
        elif g.block == "depthwise-separable":
            total += 2 * c * k2 * hw + 2 * w * c * hw                  # depthwise (groups = C_in) + pointwise 1×1
        else:
            total += 2 * w * c * k2 * hw + 2 * w * w * k2 * hw + (2 * w * c * hw if c != w else 0)  # + 1×1 shortcut
        c, s = w, s // 2
    return total + 2 * c * NUM_CLASSES


def candidate_params(g: Genes) -> int:
    """Parameters of the candidate's module (built on the meta device: no memory, no initialisation)."""
    with torch.device("meta"):
        return sum(p.numel() for p in CandidateNet(g).parameters())


def sample(rng: random.Random) -> Genes:
    """A uniformly random candidate of the space (at the digits' resolution)."""
    return Genes(rng.choice(DEPTHS), rng.choice(WIDTHS), rng.choice(KERNELS), rng.choice(BLOCKS))


def mutate(g: Genes, rng: random.Random) -> Genes:
    """``g`` with one gene (chosen at random) changed to another value of the space."""
    gene = rng.choice(list(SPACE))
    return replace(g, **{gene: rng.choice([v for v in SPACE[gene] if v != getattr(g, gene)])})


def pareto_front(points) -> list[int]:
    """Indices of the non-dominated (flops, accuracy) points, by increasing FLOPs: no other point has
    lower-or-equal FLOPs and higher-or-equal accuracy with one of the two strictly better. Equal points are all
    kept."""
    pts = [(float(f), float(a)) for f, a in points]
    front = [i for i, (f, a) in enumerate(pts)
             if not any(f2 <= f and a2 >= a and (f2 < f or a2 > a) for f2, a2 in pts)]
    return sorted(front, key=lambda i: (pts[i][0], -pts[i][1], i))


BASELINE = Genes(depth=2, width=8, kernel=3, block="plain")


def family_genes(base: Genes = BASELINE, phis=FAMILY_PHIS) -> list[tuple[int, Genes]]:
    """EfficientNet's compound scaling of ``base``: stages × α^φ, width × β^φ, input side × γ^φ, each rounded
    (α, β, γ = 1.2, 1.1, 1.15, grid-searched for EfficientNet-B0 and borrowed here), so one line through the space:
    (2 stages, width 8, 8×8), (2, 9, 9×9), (3, 10, 11×11)."""
    return [(phi, replace(base, depth=min(3, round(base.depth * ALPHA ** phi)),
                          width=round(base.width * BETA ** phi),
                          resolution=round(base.resolution * GAMMA ** phi))) for phi in phis]
