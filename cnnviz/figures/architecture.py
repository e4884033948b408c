"""Architecture Lab figures: where parameters and FLOPs go, block comparison, receptive field growth,
weight sharing and compound scaling. Pure: engine results in, ``go.Figure`` out."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

BLUE, ORANGE, GREEN, GREY = "#0072b2", "#e69f00", "#009e73", "#999999"  # Okabe–Ito, colour-blind safe
FONT = dict(size=16)


def _human(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,.0f}"


def share_figure(params: list[tuple[str, int]], flops: list[tuple[str, int]], unit: str = "FLOPs") -> go.Figure:
    """Two horizontal bar charts: the layers holding the most parameters, and those doing the most FLOPs (or
    MACs: ``unit`` names what ``flops`` holds)."""
    fig = make_subplots(1, 2, subplot_titles=("Where the parameters are", f"Where the {unit} go"),
                        horizontal_spacing=0.25)
    for col, (items, colour) in enumerate(((params, BLUE), (flops, ORANGE)), start=1):
        total = sum(v for _, v in items) or 1
        labels, values = [k for k, _ in items][::-1], [v for _, v in items][::-1]
        fig.add_bar(x=values, y=labels, orientation="h", marker_color=colour, showlegend=False, col=col, row=1,
                    text=[f"{_human(v)} ({100 * v / total:.0f}%)" for v in values], textposition="auto",
                    cliponaxis=False)
    fig.update_yaxes(tickfont=dict(size=14))
    n = max(len(params), len(flops), 1)
    fig.update_layout(height=max(320, 34 * n + 120), font=FONT, margin=dict(l=10, r=30, t=50, b=10))
    return fig


def block_figure(rows, compute: list[int] | None = None, unit: str = "FLOPs") -> go.Figure:
    """Parameters and FLOPs (or ``compute`` in ``unit``, e.g. MACs) of each block; the label shows the measured
    ratio and the closed-form ratio."""
    compute = [r.flops for r in rows] if compute is None else compute
    fig = make_subplots(1, 2, subplot_titles=("Parameters (bar: measured; × standard: measured | formula)",
                                              f"{unit}, batch 1 (× standard)"), horizontal_spacing=0.22,
                        shared_yaxes=True)
    names = [r.name for r in rows][::-1]
    fig.add_bar(x=[r.params for r in rows][::-1], y=names, orientation="h", marker_color=BLUE, showlegend=False,
                text=[f"{_human(r.params)}  ·  {r.ratio_measured:.3f}× | {r.ratio_closed:.3f}×" for r in rows][::-1],
                textposition="outside", cliponaxis=False, row=1, col=1)
    fig.add_bar(x=compute[::-1], y=names, orientation="h", marker_color=ORANGE, showlegend=False,
                text=[f"{_human(v)}  ·  {r.flops_ratio:.3f}×" for v, r in zip(compute, rows)][::-1],
                textposition="outside",
                cliponaxis=False, row=1, col=2)
    top_p, top_f = max(r.params for r in rows), max(compute)
    fig.update_xaxes(range=[0, top_p * 1.9], row=1, col=1)
    fig.update_xaxes(range=[0, top_f * 1.6], row=1, col=2)
    fig.update_yaxes(tickfont=dict(size=17))
    fig.update_layout(height=80 * len(rows) + 120, font=FONT, margin=dict(l=10, r=30, t=60, b=10),
                      uniformtext_minsize=14)
    return fig


def rf_figure(points: list[tuple[str, int]]) -> go.Figure:
    """Receptive field (cells along the first axis) after each layer, in forward order."""
    fig = go.Figure(go.Scatter(x=list(range(1, len(points) + 1)), y=[v for _, v in points], mode="lines+markers",
                               text=[k for k, _ in points], hovertemplate="%{text}: %{y} cells<extra></extra>",
                               line=dict(color=GREEN, width=3), marker=dict(size=9)))
    fig.update_layout(title="Receptive field grows layer by layer", xaxis_title="layer (forward order)",
                      yaxis_title="receptive field (input cells)", font=FONT, height=380,
                      margin=dict(l=10, r=10, t=60, b=10))
    return fig


def weight_sharing_figure(ws) -> go.Figure:
    labels = ["convolution (shared kernel)", "locally connected (no sharing)", "fully connected"]
    values = [ws.conv, ws.local, ws.dense]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=[BLUE, GREY, ORANGE],
                           text=[f"{v:,}" for v in values], textposition="outside", cliponaxis=False))
    fig.update_xaxes(type="log", title="parameters (log scale)", range=[0, len(str(max(values))) + 1])
    fig.update_layout(font=FONT, height=300, margin=dict(l=10, r=40, t=30, b=10), yaxis=dict(autorange="reversed"))
    return fig


def scaling_figure(rows) -> go.Figure:
    phis = [r.phi for r in rows]
    fig = go.Figure()
    fig.add_scatter(x=phis, y=[r.ratio for r in rows], name="measured FLOPs ÷ base", mode="lines+markers",
                    line=dict(color=BLUE, width=3), marker=dict(size=10))
    fig.add_scatter(x=phis, y=[r.predicted for r in rows], name="(α·β²·γ²)^φ", mode="lines",
                    line=dict(color=ORANGE, width=3, dash="dash"))
    fig.add_scatter(x=phis, y=[r.two_phi for r in rows], name="2^φ", mode="lines",
                    line=dict(color=GREY, width=2, dash="dot"))
    fig.update_yaxes(type="log", title="FLOPs relative to φ = 0")
    fig.update_xaxes(title="φ (compound coefficient)", dtick=1)
    fig.update_layout(font=FONT, height=380, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.12))
    return fig
