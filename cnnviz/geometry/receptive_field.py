"""The receptive field of a stack of layers: r_l = r_{l-1} + d_l·(k_l − 1)·j_{l-1}, j_l = j_{l-1}·s_l, and the
stack as links carry it ("k-s-d;k-s-d"). Bounded by MAX_RF_LAYERS before any work."""
from __future__ import annotations

from dataclasses import dataclass

from cnnviz.errors import ConfigError
from cnnviz.geometry.whole import whole_number as _int
from cnnviz.io.text import shown
from cnnviz.limits import MAX_RF_LAYERS


@dataclass(frozen=True)
class RFRow:
    """Receptive field after a layer, and the jump (input positions between neighbouring outputs)."""

    kernel_size: int
    stride: int
    dilation: int
    receptive_field: int
    jump: int


def receptive_field_table(layers) -> list[RFRow]:
    """r_l = r_{l-1} + d_l·(k_l − 1)·j_{l-1},  j_l = j_{l-1}·s_l,  r_0 = j_0 = 1."""
    if not isinstance(layers, (list, tuple)):
        raise ConfigError("layers", f"must be a list of layers, got {type(layers).__name__}")
    if len(layers) > MAX_RF_LAYERS:
        raise ConfigError("layers", f"{len(layers)} layers is above the limit of {MAX_RF_LAYERS} for one stack")
    rows, r, j = [], 1, 1
    for idx, layer in enumerate(layers):
        if not isinstance(layer, dict) or "kernel_size" not in layer:
            raise ConfigError(f"layers[{idx}]", "must be a dict with kernel_size (and optional stride, dilation)")
        k = _int(f"layers[{idx}].kernel_size", layer["kernel_size"], 1)
        s = _int(f"layers[{idx}].stride", layer.get("stride", 1), 1)
        d = _int(f"layers[{idx}].dilation", layer.get("dilation", 1), 1)
        r += d * (k - 1) * j
        j *= s
        rows.append(RFRow(k, s, d, r, j))
    return rows


def parse_rf_stack(text: str) -> list[tuple[int, int, int]]:
    """A receptive-field stack as links carry it, "k-s-d;k-s-d;...", into (kernel, stride, dilation) rows,
    checked as ``receptive_field_table`` checks them; ConfigError("stack", ...) quoting the bad row."""
    rows = []
    for i, row in enumerate(r for r in str(text).split(";") if r):
        parts = row.split("-")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in parts):
            raise ConfigError("stack", f"row {i + 1} must be kernel-stride-dilation, e.g. 3-1-1, got {shown(row)}")
        rows.append(tuple(int(p) for p in parts))
    receptive_field_table([dict(kernel_size=k, stride=s, dilation=d) for k, s, d in rows])
    return rows


def receptive_field(layers) -> int:
    """Number of input positions (along one axis) that influence one output position of the stack."""
    table = receptive_field_table(layers)
    return table[-1].receptive_field if table else 1
