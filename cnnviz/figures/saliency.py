"""Figures for the Saliency page: each method's map laid over the image, side by side, and the sanity-check
curves. Pure: maps in, ``go.Figure`` out (the overlay only blends colours for display)."""
from __future__ import annotations

import math

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

FONT = dict(size=16)
_ANCHORS = np.array([pc.hex_to_rgb(h) for h in pc.sequential.Inferno], dtype=np.float64)  # (10, 3)


def _colour(m: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) inferno colours."""
    pos = np.linspace(0, 1, len(_ANCHORS))
    return np.stack([np.interp(m, pos, _ANCHORS[:, k]) for k in range(3)], axis=-1)


def overlay(image: torch.Tensor, saliency: torch.Tensor, alpha: float) -> np.ndarray:
    """Grey version of ``image`` (C, H, W) blended with the map (H, W) scaled to its own maximum."""
    grey = image.detach().cpu().mean(0).numpy()[..., None] * 255.0          # (H, W, 1)
    m = saliency.detach().cpu().abs().numpy()
    m = m / m.max() if m.max() > 0 else m
    return ((1 - alpha) * grey + alpha * _colour(m)).clip(0, 255).astype(np.uint8)


def saliency_grid(image: torch.Tensor, maps: dict[str, torch.Tensor], alpha: float = 0.7, cols: int | None = None,
                  title: str = "") -> go.Figure:
    """The image, then one panel per method: |attribution| (channel sum) as inferno over a grey image,
    each scaled to its own maximum (bright = most important). ``cols``: panels per row (default up to 5)."""
    panels = ["Input", *maps]
    cols = cols or min(5, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=panels, horizontal_spacing=0.02,
                        vertical_spacing=0.08 / max(rows, 1))
    rgb = image.detach().cpu().clamp(0, 1)
    rgb = (rgb.expand(3, -1, -1) if rgb.shape[0] == 1 else rgb).permute(1, 2, 0).numpy() * 255
    for i, name in enumerate(panels):
        z = rgb.astype(np.uint8) if name == "Input" else overlay(image, maps[name], alpha)
        fig.add_trace(go.Image(z=z, hoverinfo="skip"), row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, height=40 + (1160 // max(cols, 4)) * rows, margin=dict(l=10, r=10, t=60, b=10), font=FONT)
    fig.update_annotations(font_size=17)
    return fig


def sanity_figure(rows, height: int = 420) -> go.Figure:
    """Rank correlation with the trained model's map as layers are randomised from the output inwards."""
    layers = list(dict.fromkeys(r.randomised_to for r in rows))
    fig = go.Figure()
    for method in dict.fromkeys(r.method for r in rows):
        ys = [next(r.rank_correlation for r in rows if r.method == method and r.randomised_to == lay)
              for lay in layers]
        fig.add_trace(go.Scatter(x=["trained", *layers], y=[1.0, *ys], mode="lines+markers", name=method,
                                 line=dict(width=3), marker=dict(size=9)))
    fig.add_hline(y=0, line_dash="dot", line_color="#888")
    fig.update_layout(title="Sanity check: randomise weights from the output inwards", height=height,
                      xaxis_title="randomised down to layer", yaxis_title="rank correlation with trained map",
                      yaxis_range=[-0.3, 1.05], margin=dict(l=10, r=10, t=50, b=10), font=FONT,
                      legend=dict(orientation="h", y=-0.35))
    return fig
