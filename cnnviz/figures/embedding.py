"""The embedding space's figure: the validation images' penultimate features projected to 2-D, one scatter trace
per class (so the legend toggles classes), misclassified points drawn as an x with a black outline. Pure: tensors
and names in, ``go.Figure`` out."""
from __future__ import annotations

import plotly.graph_objects as go
import torch

from cnnviz.io.text import plot_text

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#bab0ac")


def embedding_figure(coords: torch.Tensor, labels: torch.Tensor, preds: torch.Tensor, classes, ratio,
                     title: str = "", height: int = 560) -> go.Figure:
    """``coords`` (N, 2), ``labels`` and ``preds`` (N,) class indices, ``ratio`` the two axes' explained-variance
    ratios. Each trace is one true class; a wrong prediction is an x outlined in black."""
    xy = coords.detach().cpu().double()
    labels, preds = labels.detach().cpu().long(), preds.detach().cpu().long()
    names = [plot_text(str(c)) for c in classes]
    fig = go.Figure()
    for k, name in enumerate(names):
        idx = (labels == k).nonzero().flatten()
        if not len(idx):
            continue
        wrong = (preds[idx] != k).tolist()
        fig.add_trace(go.Scatter(
            x=xy[idx, 0].tolist(), y=xy[idx, 1].tolist(), mode="markers", name=name,
            marker=dict(color=PALETTE[k % len(PALETTE)], size=[11 if w else 7 for w in wrong],
                        symbol=["x" if w else "circle" for w in wrong],
                        line=dict(color=["black" if w else "rgba(0,0,0,0)" for w in wrong], width=1)),
            text=[f"image {int(i)}<br>true: {name}<br>predicted: {names[int(preds[i])]}"
                  + ("<br><b>misclassified</b>" if w else "") for i, w in zip(idx.tolist(), wrong)],
            hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=50 if title else 20, b=10), font=dict(size=15),
                      title=title or None, legend=dict(title="true class", itemsizing="constant"),
                      xaxis_title=f"PC 1 ({ratio[0]:.1%} of the variance)",
                      yaxis_title=f"PC 2 ({ratio[1]:.1%} of the variance)")
    return fig
