"""Block comparison: for the same C_in, C_out, k and H×W (stride 1, 'same' padding, bias-free convs), the
parameters and FLOPs of each block measured with PyTorch next to the closed-form count and ratio."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError
from cnnviz.limits import MAX_INT, MAX_STACK_ACTIVATIONS, MAX_STACK_FLOPS, MAX_STACK_PARAMS
from cnnviz.architecture.blocks.bottleneck import Bottleneck
from cnnviz.architecture.blocks.convnext import ConvNeXtBlock
from cnnviz.architecture.blocks.depthwise_separable import DepthwiseSeparableConv
from cnnviz.architecture.blocks.squeeze_excite import ConvSE


@dataclass(frozen=True)
class BlockRow:
    name: str
    params: int             # measured: sum of p.numel()
    flops: int              # measured: FlopCounterMode, batch 1
    formula_params: int     # closed form
    formula_flops: int
    ratio_formula: str      # params / standard's, as a formula
    ratio_closed: float     # that formula's value
    note: str

    std_params: int = 1     # the standard conv's, measured
    std_flops: int = 1

    @property
    def ratio_measured(self) -> float:
        return self.params / self.std_params

    @property
    def flops_ratio(self) -> float:
        return self.flops / self.std_flops


def measure(module: nn.Module, in_shape) -> tuple[int, int]:
    """(parameters, FLOPs with batch 1) measured by PyTorch."""
    x = torch.zeros(1, *in_shape)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        module.eval()(x)
    return sum(p.numel() for p in module.parameters()), fc.get_total_flops()


def _check_budget(specs, c_in: int, c_out: int, hw: int) -> None:
    """Refuse, by the closed forms and before any block is built, a comparison past the budgets a shared server
    allows one stack (cnnviz.limits): all six blocks' weights, their FLOPs together, and the values the heaviest
    block's forward pass makes (ConvNeXt: the input, then C_out channels four times and 4·C_out twice)."""
    params, flops = sum(s[2] for s in specs), sum(s[3] for s in specs)
    values = (c_in + 12 * c_out) * hw
    for value, limit, what in ((params, MAX_STACK_PARAMS, "parameters (all six blocks)"),
                               (values, MAX_STACK_ACTIVATIONS, "activation values (the ConvNeXt block's outputs)"),
                               (flops, MAX_STACK_FLOPS, "FLOPs (one forward pass of each block)")):
        if value > limit:
            raise ConfigError("blocks", f"{value:,} {what} is above the limit of {limit:,} for building and running "
                                        "them here; use fewer channels, a smaller kernel or a smaller size")


def compare_blocks(c_in: int = 32, c_out: int = 64, k: int = 3, size: int = 16, groups: int = 4,
                   reduction: int = 4) -> list[BlockRow]:
    for f, v in (("C_in", c_in), ("C_out", c_out), ("kernel", k), ("size", size), ("groups", groups),
                 ("reduction", reduction)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_INT:
            raise ConfigError(f, f"must be a whole number from 1 to {MAX_INT:,}, got {safe_repr(v)}")
    if k % 2 == 0:
        raise ConfigError("kernel", f"must be odd so that padding k//2 keeps the size, got {k}")
    if c_in % groups or c_out % groups:
        raise ConfigError("groups", f"C_in={c_in} and C_out={c_out} must both be divisible by groups={groups}")
    if c_out < 4 or c_out < reduction:
        raise ConfigError("C_out", f"must be ≥ 4 and ≥ reduction={reduction} (bottleneck and SE shrink it), got {c_out}")
    hw, pad = size * size, k // 2
    std = k * k * c_in * c_out
    m, h, c = c_out // 4, c_out // reduction, c_out
    proj = 0 if c_in == c_out else c_in * c_out
    specs = [
        ("standard", lambda: nn.Conv2d(c_in, c_out, k, padding=pad, bias=False), std, 2 * hw * std,
         "1", 1.0, "k²·C_in·C_out weights"),
        ("depthwise-separable", lambda: DepthwiseSeparableConv(c_in, c_out, k),
         k * k * c_in + c_in * c_out, 2 * hw * (k * k * c_in + c_in * c_out),
         "1/C_out + 1/k²", 1 / c_out + 1 / k ** 2, "k×k per channel, then 1×1"),
        (f"grouped (g={groups})", lambda: nn.Conv2d(c_in, c_out, k, padding=pad, groups=groups, bias=False),
         std // groups, 2 * hw * std // groups, "1/g", 1 / groups, "each filter sees C_in/g channels"),
        ("bottleneck", lambda: Bottleneck(c_in, c_out, k, norm=False),
         c_in * m + k * k * m * m + m * c_out + proj, 2 * hw * (c_in * m + k * k * m * m + m * c_out + proj),
         "(C_in·m + k²·m² + m·C_out" + (" + C_in·C_out" if proj else "") + ")/(k²·C_in·C_out), m = C_out/4",
         (c_in * m + k * k * m * m + m * c_out + proj) / std, "1×1 down to C_out/4, k×k, 1×1 up"),
        (f"conv + SE (r={reduction})", lambda: ConvSE(c_in, c_out, k, reduction),
         std + 2 * c_out * h + h + c_out, 2 * hw * std + 4 * c_out * h,
         "1 + (2·C_out·h + h + C_out)/(k²·C_in·C_out), h = C_out/r", 1 + (2 * c_out * h + h + c_out) / std,
         "+ a tiny MLP on the pooled map"),
        ("ConvNeXt (7×7 dw)", lambda: ConvNeXtBlock(c_in, c_out),
         proj + 8 * c * c + 58 * c, 2 * hw * (proj + 49 * c + 8 * c * c),
         ("(C_in·C + " if proj else "(") + "8·C² + 58·C)/(k²·C_in·C_out), C = C_out", (proj + 8 * c * c + 58 * c) / std,
         "7×7 depthwise, LN, 1×1 ×4, GELU, 1×1"),
    ]
    _check_budget(specs, c_in, c_out, hw)
    in_shape = (c_in, size, size)
    rows, base = [], None
    for name, make, fp, ff, text, ratio, note in specs:
        params, flops = measure(make(), in_shape)
        base = base or (params, flops)
        rows.append(BlockRow(name, params, flops, fp, ff, text, ratio, note, base[0], base[1]))
    return rows
