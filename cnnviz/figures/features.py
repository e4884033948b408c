"""Figures for the Feature Maps page: the input image, activation grids, kernels, class probabilities and the
equivariance bars. Pure: tensors / engine results in, ``go.Figure`` out."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from cnnviz.io.text import plot_text

FONT = dict(size=16)
MAPS = "Viridis"        # activations: dark = 0 / low, yellow = high (colour-blind safe)
WEIGHTS = "RdBu"        # kernels: red negative, blue positive, white zero


def _rgb(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [0, 1] -> (H, W, 3) uint8."""
    a = x.detach().cpu().float().clamp(0, 1)
    a = a.expand(3, -1, -1) if a.shape[0] == 1 else a[:3]
    return (a.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def image_figure(x: torch.Tensor, title: str = "Input", height: int = 300) -> go.Figure:
    """One image (C, H, W) in [0, 1], drawn pixel by pixel."""
    fig = go.Figure(go.Image(z=_rgb(x), hovertemplate="row %{y}, col %{x}<extra></extra>"))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def tile(act: torch.Tensor, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(C, H, W) -> one (rows·(H+1)−1, cols·(W+1)−1) mosaic with NaN gutters, and the channel of every cell."""
    c, h, w = act.shape
    rows = math.ceil(c / cols)
    z = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    ch = np.full(z.shape, -1)
    for i in range(c):
        r, q = divmod(i, cols)
        z[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = act[i].numpy()
        ch[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = i
    return z, ch


def activation_grid(act: torch.Tensor, title: str, cols: int = 8, max_channels: int = 32,
                    height_per_row: int = 140) -> go.Figure:
    """A layer's feature maps (C, H, W) as a grid of heatmaps on one shared colour scale (one mosaic trace,
    so even a 32-channel layer draws at once)."""
    act = act[:max_channels]
    c, h, w = act.shape
    cols = min(cols, c)
    rows = math.ceil(c / cols)
    z, ch = tile(act, cols)
    # one constructor call, validated once: update_layout/update_xaxes walk plotly's slow property-path machinery,
    # and the Feature Maps page draws one grid per layer on every rerun (same JSON; timings: docs/measurements.md)
    return go.Figure(dict(
        data=[dict(type="heatmap", z=z, customdata=ch, colorscale=MAPS, hoverongaps=False,
                   colorbar=dict(thickness=12, len=0.9),
                   hovertemplate="channel %{customdata}<br>%{z:.3f}<extra></extra>")],
        layout=dict(yaxis=dict(autorange="reversed", visible=False, scaleanchor="x", constrain="domain"),
                    xaxis=dict(visible=False, constrain="domain"), title=dict(text=title),
                    height=50 + rows * height_per_row, margin=dict(l=10, r=10, t=50, b=5), font=FONT,
                    plot_bgcolor="white", annotations=tile_labels(c, cols, h, w, "ch"))))


def channel_figure(act: torch.Tensor, title: str, height: int = 420) -> go.Figure:
    """One feature map (H, W), large, every value printed when it is small enough to read."""
    h, w = act.shape
    text = [[f"{v:.2f}" for v in row] for row in act.tolist()] if h * w <= 256 else None
    fig = go.Figure(go.Heatmap(z=act.numpy(), colorscale=MAPS, text=text, texttemplate="%{text}" if text else None,
                               hovertemplate="row %{y}, col %{x}<br>%{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT)
    return fig


def tile_labels(n: int, cols: int, h: int, w: int, prefix: str) -> list[dict]:
    """A label above each tile of ``tile``'s mosaic, as one list: handed to update_layout once (add_annotation
    in a loop re-validates every annotation so far: quadratic in the channels)."""
    return [dict(x=q * (w + 1) + (w - 1) / 2, y=r * (h + 1) - 0.5, text=f"{prefix} {i}", showarrow=False,
                 yanchor="bottom", font=dict(size=12)) for i, (r, q) in enumerate(divmod(i, cols) for i in range(n))]


def kernels_figure(w: torch.Tensor, title: str = "First-layer kernels", cols: int = 8) -> go.Figure:
    """Conv weights (C_out, C_in, k, k): RGB images when C_in is 3 (each kernel rescaled to [0, 1]),
    else the first input channel as a diverging heatmap on one symmetric scale (red < 0 < blue)."""
    n, _, kh, kw = w.shape
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    m = float(w.abs().max()) or 1.0
    if w.shape[1] == 3:  # one RGB mosaic with white gutters (a subplot per kernel builds slowly)
        lo = w.amin(dim=(1, 2, 3), keepdim=True)
        span = (w.amax(dim=(1, 2, 3), keepdim=True) - lo).clamp_min(1e-12)
        k = ((w - lo) / span).detach().cpu().permute(0, 2, 3, 1).numpy()
        z = np.full((rows * (kh + 1) - 1, cols * (kw + 1) - 1, 3), 255, dtype=np.uint8)
        for i in range(n):
            r, q = divmod(i, cols)
            z[r * (kh + 1):r * (kh + 1) + kh, q * (kw + 1):q * (kw + 1) + kw] = (k[i] * 255).round().astype(np.uint8)
        fig = go.Figure(go.Image(z=z, hoverinfo="skip"))
    else:
        z, ch = tile(w[:, 0].detach().cpu(), cols)
        fig = go.Figure(go.Heatmap(z=z, customdata=ch, colorscale=WEIGHTS, zmin=-m, zmax=m, hoverongaps=False,
                                   colorbar=dict(thickness=12),
                                   hovertemplate="kernel %{customdata}<br>%{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_layout(title=title, height=80 + 130 * rows, margin=dict(l=10, r=10, t=70, b=10), font=FONT,
                      plot_bgcolor="white", annotations=tile_labels(n, cols, kh, kw, "k"))
    return fig


def probabilities_figure(probs: list[float], classes: tuple[str, ...], true_class: int | None = None,
                         height: int = 320) -> go.Figure:
    """Horizontal bars, one per class; the predicted class in orange, the true one (if known) outlined."""
    top = int(np.argmax(probs))
    colours = ["#e69f00" if i == top else "#9ecae1" for i in range(len(probs))]
    lines = [3 if i == true_class else 0 for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=probs, y=[plot_text(c) for c in classes], orientation="h", marker=dict(color=colours,
                    line=dict(width=lines, color="#000")), text=[f"{p:.1%}" for p in probs], textposition="auto"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(title="Class probabilities (softmax)", height=height, margin=dict(l=10, r=10, t=40, b=10),
                      font=FONT)
    return fig


def equivariance_figure(rows, height: int = 380) -> go.Figure:
    """Per layer: relative distance from exact shift-equivariance (0 = the maps just move with the input)."""
    colours = ["#009e73" if r.exact_shift else "#d55e00" for r in rows]
    fig = go.Figure(go.Bar(x=[f"{r.layer}<br>{r.kind} (/{r.stride})" for r in rows], y=[r.distance for r in rows],
                           marker_color=colours, text=[f"{r.distance:.2f}" for r in rows], textposition="outside",
                           hovertemplate="%{x}<br>distance %{y:.4f}<extra></extra>"))
    fig.update_layout(title="‖f(shifted x) − shifted f(x)‖ / ‖f(x)‖ per layer (centre region)", height=height,
                      margin=dict(l=10, r=10, t=50, b=10), font=FONT, yaxis_title="relative distance")
    return fig
