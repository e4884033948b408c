"""Feature visualisation: the optimised image(s) for one channel, each titled with the channel's mean activation."""
from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from cnnviz.figures.features import FONT, _rgb


def feature_vis_figure(images: torch.Tensor, activations: list[float], height: int = 240) -> go.Figure:
    """``images`` (k, C, H, W) in [0, 1] side by side, each titled "mean activation a"."""
    k = len(images)
    fig = make_subplots(1, k, subplot_titles=[f"mean activation {a:.2f}" for a in activations],
                        horizontal_spacing=0.03)
    for i in range(k):
        fig.add_trace(go.Image(z=_rgb(images[i]), hovertemplate="row %{y}, col %{x}<extra></extra>"), 1, i + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT)
    fig.update_annotations(font_size=13)
    return fig
