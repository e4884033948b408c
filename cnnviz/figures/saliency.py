"""Figures for the Saliency page: each method's map laid over the image, side by side, and the sanity-check
curves. Pure: maps in, ``go.Figure`` out (the overlay only blends colours for display)."""
from __future__ import annotations

import base64
import math

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
import plotly.io as pio
import torch

from cnnviz.figures.prebuilt import Prebuilt
from cnnviz.figures.subplots import axes

FONT = dict(size=16)
TEMPLATE = go.layout.Template(pio.templates[pio.templates.default]).to_plotly_json()  # what go.Figure adds
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


def _typed(z: np.ndarray) -> dict:
    """A uint8 array as plotly.js's typed-array spec, as plotly's validation writes it (base64 bytes + shape)."""
    return dict(dtype="u1", bdata=base64.b64encode(np.ascontiguousarray(z, dtype=np.uint8).tobytes()).decode(),
                shape=", ".join(map(str, z.shape)))


def grid_layout(titles, cols: int, h_spacing: float = 0.02, v_spacing: float = 0.04, title_size: int = 16) -> dict:
    """Layout entries for ``len(titles)`` subplots in rows of ``cols``, filled from the top left: the axes
    (hidden), domains and title annotations ``make_subplots(rows, cols, subplot_titles=titles, horizontal_spacing,
    vertical_spacing)`` makes, by its own arithmetic, so that the figure is built in one call (make_subplots and
    the ``update_*`` calls after it cost the server 70-100 ms a rerun; checked against make_subplots in the
    tests). Panel ``i`` (0-based) is drawn on ``axes(i)``."""
    rows = math.ceil(len(titles) / cols)
    w = (1.0 - h_spacing * (cols - 1)) / cols
    h = (1.0 - v_spacing * (rows - 1)) / rows
    clamp = lambda v: min(1.0, max(0.0, v))  # noqa: E731 - make_subplots rounds 1e-17 below 0 or above 1
    layout, annotations = {}, []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        y0 = h * (rows - 1 - r) + (rows - 1 - r) * v_spacing  # sum(heights[:k]) + k * spacing, k rows below
        xd = [c * w + c * h_spacing, c * w + c * h_spacing + w]
        yd = [clamp(y0), clamp(y0 + h)]
        x, y = axes(i)
        layout["xaxis" + x[1:]] = dict(anchor=y, domain=xd, visible=False)
        layout["yaxis" + y[1:]] = dict(anchor=x, domain=yd, visible=False)
        if i < len(titles):
            annotations.append(dict(font=dict(size=title_size), showarrow=False, text=titles[i], x=sum(xd) / 2.0,
                                    xanchor="center", xref="paper", y=yd[1], yanchor="bottom", yref="paper"))
    layout["annotations"] = annotations
    return layout


def saliency_grid(image: torch.Tensor, maps: dict[str, torch.Tensor], alpha: float = 0.7, cols: int | None = None,
                  title: str = "") -> Prebuilt:
    """The image, then one panel per method: |attribution| (channel sum) as inferno over a grey image,
    each scaled to its own maximum (bright = most important). ``cols``: panels per row (default up to 5).
    A ``Prebuilt`` figure: plain, already valid properties (an image trace per panel), no validation pass."""
    panels = ["Input", *maps]
    cols = cols or min(5, len(panels))
    rows = math.ceil(len(panels) / cols)
    rgb = image.detach().cpu().clamp(0, 1)
    rgb = (rgb.expand(3, -1, -1) if rgb.shape[0] == 1 else rgb).permute(1, 2, 0).numpy() * 255  # (H, W, 3)
    data = []
    for i, name in enumerate(panels):
        z = rgb.astype(np.uint8) if name == "Input" else overlay(image, maps[name], alpha)  # (H, W, 3) uint8
        x, y = axes(i)
        data.append(dict(type="image", z=_typed(z), hoverinfo="skip", xaxis=x, yaxis=y))
    layout = grid_layout(panels, cols, 0.02, 0.08 / max(rows, 1), title_size=17)
    layout.update(title=dict(text=title), height=40 + (1160 // max(cols, 4)) * rows,
                  margin=dict(l=10, r=10, t=60, b=10), font=FONT, template=TEMPLATE)
    return Prebuilt(dict(data=data, layout=layout))


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
