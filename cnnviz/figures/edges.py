"""Figures for two edge effects: the gridding coverage map of a dilated stack (Conv Arithmetic's receptive
field tab) and the four padding modes side by side (Convolution Animation's Padding modes tab).
Pure functions: engine results in, ``go.Figure`` out; nothing is computed here but the layout."""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.animation.padding_modes import ModeOutput
from cnnviz.geometry.gridding import Coverage

HOLE = "#d62728"  # a cell no path reaches


def coverage_figure(covs: dict[str, Coverage]) -> go.Figure:
    """One 2-D path-count heat map per stack, side by side (title → Coverage); unreached cells marked ✕.
    The map is the square stack's receptive field, the output cell's window centred in it."""
    names = list(covs)
    fig = make_subplots(1, len(names), subplot_titles=[
        f"{n}: {c.unreached2d} of {c.receptive_field ** 2} cells unreached" for n, c in covs.items()],
        horizontal_spacing=0.08)
    top = max((max(c.counts) ** 2 for c in covs.values()), default=1)
    for i, c in enumerate(covs.values(), 1):
        z = c.map2d()
        small = c.receptive_field <= 25
        fig.add_trace(go.Heatmap(
            z=z, zmin=0, zmax=top, colorscale=[[0, HOLE], [1e-9, "#f7fbff"], [1, "#08306b"]], showscale=False,
            text=[["✕" if v == 0 else (str(v) if small else "") for v in row] for row in z],
            texttemplate="%{text}" if small else None,
            hovertemplate="row %{y}, column %{x}: %{z} paths<extra></extra>"), 1, i)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{i if i > 1 else ''}", showticklabels=small,
                         row=1, col=i)
        fig.update_xaxes(showticklabels=small, row=1, col=i)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def padding_modes_figure(results: list[ModeOutput]) -> go.Figure:
    """The four outputs as heat maps on one colour scale, border ring outlined, border − interior in the title."""
    def title(r: ModeOutput) -> str:
        d = r.difference
        return f"{r.mode}: border − interior {d:+.2f}" if math.isfinite(d) else f"{r.mode}: no interior"
    fig = make_subplots(1, len(results), subplot_titles=[title(r) for r in results], horizontal_spacing=0.04)
    lo = min(float(r.out.min()) for r in results)
    hi = max(float(r.out.max()) for r in results)
    for i, r in enumerate(results, 1):
        fig.add_trace(go.Heatmap(z=r.out, zmin=lo, zmax=hi, colorscale=[[0, "black"], [1, "white"]],  # low = dark
                                 showscale=i == len(results),
                                 hovertemplate="out[%{y},%{x}] = %{z:.3g}<extra></extra>"), 1, i)
        ys, xs = (~r.border).nonzero()  # the interior is a rectangle: outline it (the ring is outside)
        if len(ys):
            fig.add_shape(type="rect", x0=xs.min() - 0.5, x1=xs.max() + 0.5, y0=ys.min() - 0.5, y1=ys.max() + 0.5,
                          line=dict(color=HOLE, width=2, dash="dot"), row=1, col=i)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{i if i > 1 else ''}", row=1, col=i)
        fig.update_xaxes(constrain="domain", row=1, col=i)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=50, b=10))
    return fig
