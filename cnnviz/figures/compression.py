"""Figures of the Compression page: weight histogram with the quantization grid, sparsity per layer, the
accuracy-vs-size curves and live distillation curves. Pure: engine results in, ``go.Figure`` out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.figures.metrics import A_COLOUR, B_COLOUR, BOTH_COLOUR, _layout

FAMILY_STYLE = {"uncompressed": ("#000000", "star"), "quantization": (A_COLOUR, "circle"),
                "pruning": (B_COLOUR, "diamond"), "pruning+8": (BOTH_COLOUR, "square")}
MAX_GRID_LINES = 70


def _style(family: str):
    if family.startswith("pruning"):
        return FAMILY_STYLE["pruning+8" if family.endswith("8-bit") else "pruning"]
    return FAMILY_STYLE.get(family, ("#555555", "circle"))


def quant_histogram(w, wq, levels, title: str) -> go.Figure:
    """Top: the original weights' histogram with the quantization grid (one line per level). Bottom: how
    many weights landed on each level after quantize-dequantize."""
    w, wq, levels = (np.asarray(v, dtype=float).ravel() for v in (w, wq, levels))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12, row_heights=[0.55, 0.45],
                        subplot_titles=("before: float32 weights and the grid", "after: weights per level"))
    fig.add_trace(go.Histogram(x=w, nbinsx=80, marker_color=A_COLOUR, name="float32 weights"), 1, 1)
    values, counts = np.unique(wq, return_counts=True)
    fig.add_trace(go.Bar(x=values, y=counts, marker_color=B_COLOUR, name="quantized weights",
                         width=max(float(np.min(np.diff(levels))) * 0.6, 1e-4) if len(levels) > 1 else None), 2, 1)
    if len(levels) <= MAX_GRID_LINES:  # one assignment: add_vline per line re-validates every shape so far
        line = dict(color="#777777", width=1, dash="dot")  # (per line: quadratic in the levels)
        fig.update_layout(shapes=[dict(type="line", x0=float(v), x1=float(v), y0=0, y1=1, xref=x, yref=f"{y} domain",
                                       line=line) for v in levels for x, y in (("x", "y"), ("x2", "y2"))])
    fig.update_xaxes(title="weight value", row=2, col=1)
    fig.update_yaxes(title="count")
    grid_note = f"{len(levels)} levels" + ("" if len(levels) <= MAX_GRID_LINES else " (too many to draw)")
    return _layout(fig, f"{title} — {grid_note}", height=560)


def magnitude_histogram(abs_w, tau: float, title: str) -> go.Figure:
    abs_w = np.asarray(abs_w, dtype=float).ravel()
    fig = go.Figure(go.Histogram(x=abs_w, nbinsx=80, marker_color=A_COLOUR, name="|w|"))
    fig.add_vrect(x0=0, x1=tau, fillcolor=B_COLOUR, opacity=0.25, line_width=0, annotation_text="zeroed",
                  annotation_position="top left", annotation_font=dict(size=16))
    fig.add_vline(x=tau, line=dict(color=B_COLOUR, width=3), annotation_text=f"τ = {tau:g}",
                  annotation_position="top right", annotation_yshift=-24, annotation_font=dict(size=16))
    fig.update_xaxes(title=title)
    fig.update_yaxes(title="count")
    return _layout(fig, "Magnitudes and the threshold τ", height=440, showlegend=False)


def sparsity_figure(rows, titles: dict[str, str] | None = None) -> go.Figure:
    """rows: LayerSparsity records; titles: module path -> the readable name shown on the axis (the path is in
    the hover)."""
    titles = titles or {}
    fig = go.Figure(go.Bar(x=[titles.get(r.name, r.name) for r in rows], y=[r.fraction for r in rows],
                           marker_color=B_COLOUR, customdata=[r.name for r in rows],
                           hovertemplate="%{x} (%{customdata})<br>%{y:.1%} zeroed<extra></extra>",
                           text=[f"{r.fraction:.0%} of {r.total:,}" for r in rows], textposition="outside"))
    fig.update_yaxes(title="fraction of weights zeroed", range=[0, 1.15], tickformat=".0%")
    fig.update_xaxes(title="layer")
    return _layout(fig, "Sparsity per layer", height=440)


def tradeoff_figure(points) -> go.Figure:
    """Accuracy vs size, one marker per setting (TradeoffPoints), the uncompressed model as reference."""
    fig = go.Figure()
    ref = next(p for p in points if p.family == "uncompressed")
    fig.add_hline(y=ref.accuracy, line=dict(dash="dash", color="#000000"),
                  annotation_text=f"uncompressed: {ref.accuracy:.1%}, {ref.size_bytes:,} bytes",
                  annotation_position="bottom left", annotation_font=dict(size=15))
    for family in dict.fromkeys(p.family for p in points):
        pts = sorted((p for p in points if p.family == family), key=lambda p: p.size_bytes)
        colour, symbol = _style(family)
        fig.add_trace(go.Scatter(
            x=[p.size_bytes for p in pts], y=[p.accuracy for p in pts], name=family,
            mode="markers" if family == "uncompressed" else "lines+markers+text",
            text=[f"{p.sparsity:.0%}" if family.startswith("pruning") else p.label for p in pts]
            if not family.endswith("8-bit") else None,
            textposition="top center", textfont=dict(size=13),
            marker=dict(size=20 if family == "uncompressed" else 12, color=colour, symbol=symbol),
            line=dict(color=colour, width=2),
            customdata=[[p.label, p.sparsity] for p in pts],
            hovertemplate="%{customdata[0]}: %{x:,} bytes, accuracy %{y:.1%}, sparsity %{customdata[1]:.0%}"
                          "<extra>" + family + "</extra>"))
    lo, hi = min(p.size_bytes for p in points), max(p.size_bytes for p in points)
    ticks = [m * 10 ** e for e in range(0, 10) for m in (1, 2, 5) if lo / 2 <= m * 10 ** e <= hi * 2]
    fig.update_xaxes(title="model size (bytes, log scale); labels: bits, or % of weights pruned", type="log",
                     tickvals=ticks, ticktext=[f"{t:,}" for t in ticks])
    fig.update_yaxes(title="validation accuracy", range=[0, 1.05], tickformat=".0%")
    return _layout(fig, "Accuracy vs model size: one point per setting, evaluated on the validation set",
                   height=560)


def distill_figure(events, teacher_accuracy: float | None = None) -> go.Figure:
    """Validation accuracy and cross-entropy per epoch of each run (FitEvents)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("validation accuracy", "validation cross-entropy"))
    for run, colour in (("distilled", BOTH_COLOUR), ("labels only", A_COLOUR)):
        evs = [e for e in events if e.run == run]
        x = [e.epoch for e in evs]
        fig.add_trace(go.Scatter(x=x, y=[e.val_accuracy for e in evs], name=f"student, {run}", mode="lines+markers",
                                 line=dict(color=colour, width=3), marker=dict(size=9)), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=[e.val_loss for e in evs], showlegend=False, mode="lines+markers",
                                 line=dict(color=colour, width=3), marker=dict(size=9)), 1, 2)
    if teacher_accuracy is not None:
        fig.add_hline(y=teacher_accuracy, line=dict(dash="dash", color="#000000"), row=1, col=1,
                      annotation_text=f"teacher {teacher_accuracy:.1%}", annotation_font=dict(size=15))
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    return _layout(fig, "Student trained with the teacher's soft targets vs on the labels alone", height=460)
