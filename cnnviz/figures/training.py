"""Training Lab figures: image grids, live curves, confusion matrix, where the time goes, gradient norms.
Pure functions: engine results in, ``go.Figure`` out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.jobs.events import STAGES
from cnnviz.io.text import plot_text

BLUE, ORANGE, GREEN, VERMILION, GREY = "#0072b2", "#e69f00", "#009e73", "#d55e00", "#999999"
STAGE_COLOURS = dict(zip(STAGES, ["#56b4e9", "#cc79a7", "#0072b2", "#e69f00", "#009e73", "#f0e442", "#d55e00",
                                  "#999999"]))
FONT = dict(size=16)


def _montage(images: np.ndarray, rows: int, cols: int, gap: int = 1) -> np.ndarray:
    """(M, C, H, W) floats in [0, 1] -> one (rows·(H+gap), cols·(W+gap), 3) uint8 picture, white gaps."""
    m, c, h, w = images.shape
    out = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap, 3), 255, np.uint8)
    rgb = np.repeat(images, 3, axis=1) if c == 1 else images[:, :3]
    for k in range(min(m, rows * cols)):
        r, q = divmod(k, cols)
        out[gap + r * (h + gap):gap + r * (h + gap) + h, gap + q * (w + gap):gap + q * (w + gap) + w] = \
            (np.clip(rgb[k], 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8)
    return out


def sample_grid(images, labels, classes, per_class: int) -> go.Figure:
    """One row per class (label on the left): the images ``samples_per_class`` returned."""
    images, labels = np.asarray(images), np.asarray(labels)
    k = len(classes)
    grid = np.zeros((k * per_class, *images.shape[1:]), np.float32) + 1.0
    for c in range(k):
        sel = images[labels == c][:per_class]
        grid[c * per_class:c * per_class + len(sel)] = sel
    h = images.shape[-1] + 1
    fig = go.Figure(go.Image(z=_montage(grid, k, per_class), hoverinfo="skip"))
    fig.update_yaxes(tickvals=[1 + c * h + h / 2 for c in range(k)], ticktext=[plot_text(c) for c in classes], showgrid=False)
    fig.update_xaxes(visible=False)
    fig.update_layout(height=min(90 * k + 40, 520), margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      title="Training images, one row per class")
    return fig


def prediction_grid(images, labels, preds, classes, cols: int = 8) -> go.Figure:
    """Validation images with the predicted class under each (in a white band of its own, so a label never sits
    nearer the next row's image); wrong ones in vermilion, with the truth."""
    return go.Figure(prediction_spec(images, labels, preds, classes, cols))


def prediction_spec(images, labels, preds, classes, cols: int = 8) -> dict:
    """:func:`prediction_grid`'s figure as a plain dict, before plotly validates it (the live panel skips that)."""
    images = np.asarray(images)[:len(preds)]
    rows = -(-len(preds) // cols)
    ih, iw = images.shape[-2], images.shape[-1]
    band = max(3, -(-ih * 2 // 5))  # the label's band under each image, in image pixels
    h, w = ih + 1 + band, iw + 1
    pic = np.full((rows * h + 1, cols * w + 1, 3), 255, np.uint8)
    rgb = np.repeat(images, 3, axis=1) if images.shape[1] == 1 else images[:, :3]
    labels_ = []  # one list, one layout: add_annotation per image re-validated every label so far (quadratic)
    for k, (t, p) in enumerate(zip(labels, preds)):
        r, q = divmod(k, cols)
        pic[1 + r * h:1 + r * h + ih, 1 + q * w:1 + q * w + iw] = \
            (np.clip(rgb[k], 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8)
        ok = int(t) == int(p)
        labels_.append(dict(x=1 + q * w + iw / 2, y=r * h + ih + 1.2, text=plot_text(
            classes[p] if ok else f"{classes[p]} (is {classes[t]})"), showarrow=False, yanchor="top",
            font=dict(size=13, color=BLUE if ok else VERMILION)))
    return dict(data=[dict(type="image", z=pic, hoverinfo="skip")],
                layout=dict(xaxis=dict(visible=False), yaxis=dict(visible=False), annotations=labels_,
                            height=rows * 130 + 50, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                            title=dict(text="Validation images: predicted class (vermilion = wrong)")))


def curves_figure(history) -> go.Figure:
    """Loss, accuracy and learning rate against epochs; train per report, validation per epoch."""
    fig = make_subplots(1, 3, subplot_titles=("Loss", "Accuracy", "Learning rate"), horizontal_spacing=0.07)
    p, e = history.progress, history.evals
    px = [q.epoch for q in p]
    ex = [v.epoch for v in e]
    fig.add_scatter(x=px, y=[q.train_loss for q in p], name="train", line=dict(color=BLUE), row=1, col=1)
    fig.add_scatter(x=ex, y=[v.val_loss for v in e], name="validation", mode="lines+markers",
                    line=dict(color=ORANGE, width=3), row=1, col=1)
    fig.add_scatter(x=px, y=[q.train_acc for q in p], name="train", line=dict(color=BLUE), showlegend=False,
                    row=1, col=2)
    fig.add_scatter(x=ex, y=[v.val_acc for v in e], name="validation", mode="lines+markers",
                    line=dict(color=ORANGE, width=3), showlegend=False, row=1, col=2)
    fig.add_scatter(x=px, y=[q.lr for q in p], name="learning rate", line=dict(color=GREEN), showlegend=False,
                    row=1, col=3)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      legend=dict(orientation="h", yanchor="top", y=-0.3))  # under the axes' "epoch"
    return fig


def confusion_figure(confusion, classes) -> go.Figure:
    z, names = np.asarray(confusion), [plot_text(c) for c in classes]
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, colorscale="Blues", text=z,
                               texttemplate="%{text}", showscale=False, textfont=dict(size=14)))
    fig.update_xaxes(title_text="predicted", type="category")
    fig.update_yaxes(title_text="true", autorange="reversed", type="category")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      title="Confusion matrix (validation)")
    return fig


def timings_figure(evals) -> go.Figure:
    """Where the time goes: one stacked bar per epoch, one colour per stage of the loop."""
    fig = go.Figure()
    for stage in STAGES:
        fig.add_bar(x=[e.epoch for e in evals], y=[e.timings.get(stage, 0.0) for e in evals], name=stage,
                    marker_color=STAGE_COLOURS[stage])
    fig.update_layout(barmode="stack", height=340, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      title="Where the time goes", xaxis_title="epoch", yaxis_title="seconds per epoch")
    return fig


def gradient_norm_figure(norms: dict[str, list[float]]) -> go.Figure:
    """Gradient norm per layer (log scale), one line per network: vanishing gradients as a slope."""
    fig = go.Figure()
    for (name, values), colour in zip(norms.items(), (VERMILION, BLUE, GREEN)):
        fig.add_scatter(x=list(range(1, len(values) + 1)), y=values, name=name, mode="lines+markers",
                        line=dict(color=colour, width=3))
    fig.update_yaxes(type="log", title_text="gradient norm of the layer's weights")
    fig.update_xaxes(title_text="layer (1 = nearest the input)")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      title="Gradient norm per layer", legend=dict(orientation="h", y=-0.25))
    return fig


def loss_pair_figure(losses: dict[str, list[float]]) -> go.Figure:
    fig = go.Figure()
    for (name, values), colour in zip(losses.items(), (VERMILION, BLUE, GREEN)):
        fig.add_scatter(y=values, name=name, line=dict(color=colour, width=3))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), font=FONT, title="Training loss",
                      xaxis_title="step", yaxis_title="loss", legend=dict(orientation="h", y=-0.25))
    return fig
