"""The gridding artifact of dilated stacks: which input cells inside one output cell's receptive field are
ever read, and by how many paths.

A stack of convolutions with the same dilation rate (e.g. kernel 3, rates 2, 2, 2) only ever reads every
other input cell: the receptive field grows, but it is a checkerboard with holes. Hybrid rates (1, 2, 3) fill
it. ``coverage`` counts, for one output cell, the paths from each input cell through the stack to it: the
gradient of that output with respect to the input when every weight is 1 (the tests check exactly that with
``nn.Conv1d``/``nn.Conv2d``). A count of 0 is a cell the output never sees.

One axis; a square stack in 2-D is the outer product of the axis's counts.
May import: cnnviz.errors, cnnviz.limits, cnnviz.geometry.arithmetic (and formulas for the Formula)."""
from __future__ import annotations

from dataclasses import dataclass

from cnnviz.errors import ConfigError
from cnnviz.checks import Dict, Seq, Text, checked
from cnnviz.geometry.arithmetic import receptive_field_table
from cnnviz.geometry.formulas import Formula
from cnnviz.limits import MAX_COVERAGE_CELLS, MAX_RF_LAYERS


@dataclass(frozen=True)
class Coverage:
    """Path counts over one output cell's receptive field along one axis (first input cell first)."""

    counts: tuple[int, ...]   # paths from each input cell to the output cell; 0 = never reached
    layers: tuple             # the (kernel_size, stride, dilation) dicts, first layer first

    @property
    def receptive_field(self) -> int:
        return len(self.counts)

    @property
    def unreached(self) -> int:
        """Cells of the receptive field (one axis) that no path reaches."""
        return sum(c == 0 for c in self.counts)

    def map2d(self) -> list[list[int]]:
        """The square stack's 2-D path counts: rows × columns = outer product of the axis counts."""
        return [[a * b for b in self.counts] for a in self.counts]

    @property
    def unreached2d(self) -> int:
        """Cells of the 2-D receptive field no path reaches: r² − (reached on one axis)²."""
        return self.receptive_field ** 2 - (self.receptive_field - self.unreached) ** 2


def coverage(layers) -> Coverage:
    """Path counts from each input cell of one output cell's receptive field, computed exactly (whole numbers)
    from the last layer back: an output cell i of a layer (kernel k, stride s, dilation d) reads the input
    cells i·s + t·d, t = 0 … k−1, so each input cell gets the sum of the counts of the cells that read it.
    Checked as ``receptive_field_table`` checks a stack (at most MAX_RF_LAYERS layers), and the receptive
    field must stay within MAX_COVERAGE_CELLS cells (ConfigError("layers", ...) otherwise)."""
    rows = receptive_field_table(layers)
    r = rows[-1].receptive_field if rows else 1
    if r > MAX_COVERAGE_CELLS:
        raise ConfigError("layers", f"the receptive field of {r} cells is above the limit of {MAX_COVERAGE_CELLS} "
                                    "for the coverage map: use fewer or smaller layers")
    counts = [1]  # the one output cell
    for row in reversed(rows):
        k, s, d = row.kernel_size, row.stride, row.dilation
        new = [0] * ((len(counts) - 1) * s + d * (k - 1) + 1)
        for i, c in enumerate(counts):
            if c:
                for t in range(k):
                    new[i * s + t * d] += c
        counts = new
    return Coverage(tuple(counts), tuple(dict(kernel_size=r_.kernel_size, stride=r_.stride, dilation=r_.dilation)
                                         for r_ in rows))


@checked(layers=Seq(Dict(), max_len=MAX_RF_LAYERS), rates=Text(1000))
def with_rates(layers, rates: str) -> list[dict]:
    """The same kernels and strides with other dilation rates, typed as "1,2,3" (one per layer, first first)."""
    parts = [p.strip() for p in str(rates).split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and len(p) <= 4 and int(p) >= 1 for p in parts):
        raise ConfigError("rates", "must be whole numbers ≥ 1 separated by commas, e.g. 1,2,3")
    if len(parts) != len(layers):
        raise ConfigError("rates", f"give one rate per layer: the stack has {len(layers)} layers, "
                                   f"got {len(parts)} rates")
    return [dict(layer, dilation=int(p)) for layer, p in zip(layers, parts)]


def unreached_formula(cov: Coverage) -> Formula:
    """Unreached cells on one axis: cells of the receptive field that are not x = Σ_l t_l·d_l·j_{l−1}."""
    general = (r"\text{unreached} = r - \#\{\textstyle\sum_l t_l\,d_l\,j_{l-1} : 0 \le t_l < k_l\}")
    jumps, j = [], 1
    for layer in cov.layers:
        jumps.append(rf"\{{0..{layer['kernel_size'] - 1}\}}\cdot{layer['dilation'] * j}")
        j *= layer["stride"]
    reached = cov.receptive_field - cov.unreached
    sub = rf"{cov.receptive_field} - \#\big({' + '.join(jumps) or '0'}\big) = {cov.receptive_field} - {reached}"
    return Formula("Unreached cells", general, sub, cov.unreached)
