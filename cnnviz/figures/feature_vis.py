"""Feature visualisation: the optimised image(s) for one channel, each titled with the channel's mean activation."""
from __future__ import annotations

import plotly.graph_objects as go
import torch

from cnnviz.figures.features import FONT, _rgb
from cnnviz.figures.subplots import image_row


def feature_vis_figure(images: torch.Tensor, activations: list[float], height: int = 240) -> go.Figure:
    """``images`` (k, C, H, W) in [0, 1] side by side, each titled "mean activation a"."""
    return image_row([_rgb(im) for im in images], [f"mean activation {a:.2f}" for a in activations], height,
                     hovertemplate="row %{y}, col %{x}<extra></extra>", font=FONT)
