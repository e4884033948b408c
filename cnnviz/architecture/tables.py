"""The Architecture Lab's tables as a reader sees them: a readable layer name first ("block 2 · shortcut conv") and
the module path second, headers in words with their units, numbers kept as numbers (a table sorts them as numbers)
and, per column, the format the page hands to ``st.column_config.NumberColumn(format=...)``: printf style with a
thousands separator, ``"%,d"`` shows 884736 as ``884,736``.

The engine's own records (``Summary.table()``, ``BlockRow``, ``ScaledRow``) keep their keys; this is only the view.
``titles`` (module path -> readable name) comes from ``cnnviz.inside.names.layer_titles(model)``; the caller passes it
in, so this room does not import that one."""
from __future__ import annotations

from cnnviz.geometry.padding import macs_from_flops

INT, KIB, RATIO = "%,d", "%,.1f", "%.4f"  # 884,736 · 1,024.0 · 0.1267


def compute_name(macs: bool) -> str:
    """The compute column's header: MACs (= FLOPs / 2) when the page's switch is on."""
    return "MACs" if macs else "FLOPs"


def _compute(flops: int, macs: bool) -> int:
    return macs_from_flops(flops) if macs else int(flops)


def _shape(shape) -> str:
    return "×".join(map(str, shape))


def layer_rows(summary, titles: dict[str, str] | None = None, macs: bool = False) -> list[dict]:
    """One row per leaf-module call of a ``Summary``: Layer (readable), Module (path), Kind, Input shape, Output
    shape, Parameters, FLOPs or MACs, Receptive field, Activations (KiB)."""
    titles = titles or {}
    unit = compute_name(macs)
    return [{"Layer": titles.get(r.name, r.name), "Module": r.name, "Kind": r.kind, "Input shape": _shape(r.in_shape),
             "Output shape": _shape(r.out_shape), "Parameters": r.params, unit: _compute(r.flops, macs),
             "Receptive field": r.rf_text(), "Activations (KiB)": round(r.activation_bytes / 1024, 1)}
            for r in summary.rows]


def layer_formats(macs: bool = False) -> dict[str, str]:
    return {"Parameters": INT, compute_name(macs): INT, "Activations (KiB)": KIB}


def block_rows(rows, macs: bool = False) -> list[dict]:
    """The block comparison (``compare_blocks``): measured counts next to the closed form, ratios to the standard
    conv."""
    unit = compute_name(macs)
    return [{"Block": r.name, "Parameters": r.params, "Parameters (closed form)": r.formula_params,
             "Parameter ratio": round(r.ratio_measured, 4), "Ratio formula": r.ratio_formula,
             "Ratio (closed form)": round(r.ratio_closed, 4), unit: _compute(r.flops, macs),
             f"{unit} ratio": round(r.flops_ratio, 4), "How": r.note}
            for r in rows]


def block_formats(macs: bool = False) -> dict[str, str]:
    unit = compute_name(macs)
    return {"Parameters": INT, "Parameters (closed form)": INT, "Parameter ratio": RATIO, "Ratio (closed form)": RATIO,
            unit: INT, f"{unit} ratio": RATIO}


def scaling_rows(rows, macs: bool = False) -> list[dict]:
    """EfficientNet compound scaling (``compound_scaling``), one row per φ."""
    unit = compute_name(macs)
    return [{"φ": r.phi, "Depth per stage": r.depth, "Channels per stage": ", ".join(map(str, r.widths)),
             "Resolution (px)": r.resolution, unit: _compute(r.flops, macs), "Growth (measured)": round(r.ratio, 2),
             "Growth (α·β²·γ²)^φ": round(r.predicted, 2), "2^φ": r.two_phi}
            for r in rows]


def scaling_formats(macs: bool = False) -> dict[str, str]:
    return {compute_name(macs): INT, "Growth (measured)": "%.2f", "Growth (α·β²·γ²)^φ": "%.2f", "2^φ": "%d"}
