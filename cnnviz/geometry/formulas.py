"""Formulas as LaTeX with the user's numbers substituted, next to the value the engine computed.

The value is never re-derived here from the LaTeX: it comes from the same geometry the tests compare
with PyTorch, so what a student reads and what PyTorch does cannot drift apart."""
from __future__ import annotations

import math
from dataclasses import dataclass

from cnnviz.geometry.arithmetic import AXIS_NAMES, ConvGeometry, PoolGeometry, RFRow, conv_macs
from cnnviz.geometry.padding import macs_from_flops, tf_same_padding


@dataclass(frozen=True)
class Formula:
    label: str
    general: str      # LaTeX with symbols
    substituted: str  # LaTeX with the user's numbers
    value: int

    @property
    def latex(self) -> str:
        """Three aligned lines: symbols, the user's numbers, the result (fits a narrow column)."""
        value = f"{self.value:,}".replace(",", "{,}")  # thousands separators KaTeX keeps tight
        lhs, rhs = self.general.split(" = ", 1) if " = " in self.general else (self.label_tex, self.general)
        return rf"\begin{{aligned}} {lhs} &= {rhs} \\ &= {self.substituted} \\ &= {value} \end{{aligned}}"

    @property
    def label_tex(self) -> str:
        return rf"\text{{{self.label}}}"


def conv_output_formulas(g: ConvGeometry) -> list[Formula]:
    out = []
    for ax, name in enumerate(AXIS_NAMES[g.dims]):
        i, k, s, d = g.spatial_in[ax], g.kernel[ax], g.stride[ax], g.dilation[ax]
        lo, hi, o = g.pad_lo[ax], g.pad_hi[ax], g.spatial_out[ax]
        if g.transposed:
            op = g.output_padding[ax]
            general = rf"{name}_{{out}} = (i-1)\,s - 2p + d\,(k-1) + p_{{out}} + 1"
            sub = rf"({i}-1)\cdot{s} - 2\cdot{lo} + {d}\cdot({k}-1) + {op} + 1"
        else:
            pad = rf"2\cdot{lo}" if lo == hi else f"({lo}+{hi})"
            general = rf"{name}_{{out}} = \left\lfloor \frac{{i + 2p - d\,(k-1) - 1}}{{s}} \right\rfloor + 1"
            sub = rf"\left\lfloor \frac{{{i} + {pad} - {d}\cdot({k}-1) - 1}}{{{s}}} \right\rfloor + 1"
        out.append(Formula(f"Output {name}", general, sub, o))
    return out


def conv_params_formula(g: ConvGeometry, bias: bool) -> Formula:
    k = r"\cdot".join(map(str, g.kernel))
    b = "+ C_{out}" if bias else ""
    cin, cout = (g.in_channels, g.out_channels)
    value = cout * (cin // g.groups) * math.prod(g.kernel) + (cout if bias else 0)
    sub = rf"{cout}\cdot\frac{{{cin}}}{{{g.groups}}}\cdot{k}" + (f" + {cout}" if bias else "")
    return Formula("Parameters", rf"C_{{out}}\cdot\frac{{C_{{in}}}}{{g}}\cdot\prod k {b}", sub, value)


def conv_flops_formula(g: ConvGeometry) -> Formula:
    k = r"\cdot".join(map(str, g.kernel))
    if g.transposed:  # counted over input positions, as FlopCounterMode does
        pos = r"\cdot".join(map(str, g.spatial_in))
        general = r"2\cdot\prod \mathrm{in}\cdot\prod k\cdot C_{in}\cdot\frac{C_{out}}{g}"
        sub = rf"2\cdot{pos}\cdot{k}\cdot{g.in_channels}\cdot\frac{{{g.out_channels}}}{{{g.groups}}}"
    else:
        pos = r"\cdot".join(map(str, g.spatial_out))
        general = r"2\cdot\prod \mathrm{out}\cdot\prod k\cdot C_{out}\cdot\frac{C_{in}}{g}"
        sub = rf"2\cdot{pos}\cdot{k}\cdot{g.out_channels}\cdot\frac{{{g.in_channels}}}{{{g.groups}}}"
    return Formula("FLOPs", general, sub, 2 * conv_macs(g))


def conv_macs_formula(g: ConvGeometry) -> Formula:
    """The FLOPs formula without its factor 2: one multiply-accumulate per kernel tap and output value."""
    flops = conv_flops_formula(g)
    general = flops.general.removeprefix(r"2\cdot")
    sub = flops.substituted.removeprefix(r"2\cdot")
    return Formula("MACs", rf"\mathrm{{MACs}} = \tfrac{{\mathrm{{FLOPs}}}}{{2}} = {general}", sub,
                   macs_from_flops(flops.value))


def tf_same_formulas(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> list[Formula]:
    """TF/Keras ``padding="same"`` on one axis: the output size, the total padding and its split."""
    before, after, out = tf_same_padding(size, kernel_size, stride, dilation)
    L, k, s, d, total = size, kernel_size, stride, dilation, before + after
    return [Formula("Output size (TF same)", r"L_{out} = \left\lceil \frac{L}{s} \right\rceil",
                    rf"\left\lceil \frac{{{L}}}{{{s}}} \right\rceil", out),
            Formula("Total padding", r"p = \max\big((L_{out}-1)\,s + d\,(k-1) + 1 - L,\; 0\big)",
                    rf"\max\big(({out}-1)\cdot{s} + {d}\cdot({k}-1) + 1 - {L},\; 0\big)", total),
            Formula("Padding before", r"p_{before} = \left\lfloor \frac{p}{2} \right\rfloor",
                    rf"\left\lfloor \frac{{{total}}}{{2}} \right\rfloor", before),
            Formula("Padding after", r"p_{after} = p - p_{before}", rf"{total} - {before}", after)]


def pool_output_formulas(g: PoolGeometry) -> list[Formula]:
    out = []
    bracket = (r"\left\lceil", r"\right\rceil") if g.ceil_mode else (r"\left\lfloor", r"\right\rfloor")
    for ax, name in enumerate(AXIS_NAMES[len(g.spatial_in)]):
        i, k, s, p, d = g.spatial_in[ax], g.kernel[ax], g.stride[ax], g.padding[ax], g.dilation[ax]
        general = rf"{name}_{{out}} = {bracket[0]} \frac{{i + 2p - d\,(k-1) - 1}}{{s}} {bracket[1]} + 1"
        sub = rf"{bracket[0]} \frac{{{i} + 2\cdot{p} - {d}\cdot({k}-1) - 1}}{{{s}}} {bracket[1]} + 1"
        if g.ceil_dropped[ax]:
            sub += r" - 1\;(\text{last window would start in the padding})"
        out.append(Formula(f"Output {name}", general, sub, g.spatial_out[ax]))
    return out


def receptive_field_formula(rows: list[RFRow]) -> Formula:
    general = r"r = 1 + \sum_{l} d_l\,(k_l - 1)\prod_{m<l} s_m"
    terms, jump = [], 1
    for row in rows:
        terms.append(rf"{row.dilation}\cdot({row.kernel_size}-1)\cdot{jump}")
        jump *= row.stride
    sub = "1 + " + " + ".join(terms) if terms else "1"
    return Formula("Receptive field", general, sub, rows[-1].receptive_field if rows else 1)
