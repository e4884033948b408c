"""The embedding space's figure: the validation images' penultimate features projected to 2-D, one scatter trace
per class (so the legend toggles classes), misclassified points drawn as an x with a black outline, each point's
image index in its ``customdata`` (what a click hands back: the page shows that image and opens it in the Network
Explorer), the selected point ringed. Pure: tensors and names in, ``go.Figure`` out."""
from __future__ import annotations

import plotly.graph_objects as go
import torch

from cnnviz.io.text import plot_text

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#bab0ac")


def axis_titles(ratio, method: str = "PCA") -> tuple[str, str]:
    """PCA's axes say the share of the variance they keep; t-SNE's axes have no meaning of their own."""
    if method == "PCA":
        return f"PC 1 ({ratio[0]:.1%} of the variance)", f"PC 2 ({ratio[1]:.1%} of the variance)"
    return f"{method} 1 (no units: only neighbours count)", f"{method} 2"


def embedding_figure(coords: torch.Tensor, labels: torch.Tensor, preds: torch.Tensor, classes, ratio,
                     title: str = "", height: int = 560, method: str = "PCA", selected: int | None = None,
                     legend: bool = True, ranges: tuple | None = None, mark_wrong: bool = True) -> go.Figure:
    """``coords`` (N, 2), ``labels`` and ``preds`` (N,) class indices, ``ratio`` the two axes' explained-variance
    ratios (PCA; ignored for t-SNE). Each trace is one true class; a wrong prediction is an x outlined in black.
    ``selected``: an image index to ring; ``ranges``: fixed ((x0, x1), (y0, y1)) axis ranges; ``mark_wrong``
    False draws every point as a dot (an untrained model is wrong nine times in ten: the marks would hide the
    classes), the hover still says true → predicted."""
    xy = torch.as_tensor(coords).detach().cpu().double()
    labels, preds = labels.detach().cpu().long(), preds.detach().cpu().long()
    names = [plot_text(str(c)) for c in classes]
    data = []
    for k, name in enumerate(names):
        idx = (labels == k).nonzero().flatten()
        if not len(idx):
            continue
        wrong = (preds[idx] != k).tolist()
        marked = wrong if mark_wrong else [False] * len(wrong)
        data.append(go.Scatter(
            x=xy[idx, 0].tolist(), y=xy[idx, 1].tolist(), mode="markers", name=name, customdata=idx.tolist(),
            marker=dict(color=PALETTE[k % len(PALETTE)], size=[11 if w else 7 for w in marked],
                        symbol=["x" if w else "circle" for w in marked],
                        line=dict(color=["black" if w else "rgba(0,0,0,0)" for w in marked], width=1)),
            text=[f"image #{i}<br>true: {name} → predicted: {names[int(preds[i])]}"
                  + ("<br><b>misclassified</b>" if w else "") for i, w in zip(idx.tolist(), wrong)],
            hovertemplate="%{text}<br><i>click: show it</i><extra></extra>"))
    if selected is not None and 0 <= selected < len(labels):
        data.append(go.Scatter(x=[float(xy[selected, 0])], y=[float(xy[selected, 1])], mode="markers",
                               name="selected", showlegend=False, hoverinfo="skip", customdata=[selected],
                               marker=dict(size=22, color="rgba(0,0,0,0)", line=dict(color="black", width=3))))
    xt, yt = axis_titles(ratio, method)
    layout = dict(height=height, margin=dict(l=10, r=10, t=50 if title else 20, b=10), font=dict(size=15),
                  title=dict(text=title) if title else None, showlegend=legend,
                  legend=dict(title=dict(text="true class"), itemsizing="constant"),
                  xaxis=dict(title=dict(text=xt), **(dict(range=list(ranges[0])) if ranges else {})),
                  yaxis=dict(title=dict(text=yt), **(dict(range=list(ranges[1])) if ranges else {})),
                  clickmode="event+select", dragmode="pan")
    return go.Figure(dict(data=data, layout=layout))
