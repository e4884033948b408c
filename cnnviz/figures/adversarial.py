"""Figures for adversarial examples: the image, the perturbation magnified, the adversarial image side by side; the
class probabilities before and after; the validation accuracy against ε. Pure: tensors and numbers in,
``go.Figure`` out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from cnnviz.figures.features import FONT, _rgb
from cnnviz.figures.subplots import image_row

BEFORE, AFTER = "#4c78a8", "#e45756"


def magnification(eps: float) -> float:
    """How much the perturbation panel enlarges δ: a change of ±ε fills the whole range around mid-grey."""
    return 0.5 / eps if eps > 0 else 1.0


def attack_figure(x: torch.Tensor, adv: torch.Tensor, eps: float, titles: tuple[str, str] = ("Before", "After"),
                  height: int = 330) -> go.Figure:
    """Three panels for one image (C, H, W) in [0, 1]: the input, δ = adv − x shown as mid-grey + δ · 0.5/ε
    (grey = unchanged, lighter = raised, darker = lowered), and the adversarial image."""
    k = magnification(eps)
    delta = (adv.detach().cpu().float() - x.detach().cpu().float())
    panels = [titles[0], f"Perturbation × {k:.0f} (grey = unchanged)", titles[1]]
    return image_row([_rgb(img) for img in (x, 0.5 + k * delta, adv)], panels, height, title_size=17, top=50,
                     font=FONT)


def probability_figure(classes, before: torch.Tensor, after: torch.Tensor, height: int = 320) -> go.Figure:
    """Each class's probability before and after the attack, side by side (labelled from 5 %)."""
    names = [str(c) for c in classes]
    fig = go.Figure()
    for label, p, colour in (("before", before, BEFORE), ("after", after, AFTER)):
        v = p.detach().cpu().float().tolist()
        fig.add_trace(go.Bar(x=names, y=v, name=label, marker_color=colour, text=[f"{q:.0%}" if q >= 0.05 else "" for q in v],
                             textposition="outside", cliponaxis=False))
    fig.update_layout(barmode="group", height=height, yaxis=dict(title="probability", range=[0, 1.12],
                      tickformat=".0%"), xaxis=dict(title="class", type="category"), font=FONT,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def accuracy_curve(levels, accuracies, current: float | None = None, title: str = "",
                   height: int = 340) -> go.Figure:
    """Validation accuracy under FGSM against ε (in grey levels of 255); a dotted line at the ε chosen."""
    fig = go.Figure(go.Scatter(x=list(levels), y=list(accuracies), mode="lines+markers", line=dict(width=3),
                               marker=dict(size=9), name="FGSM",
                               hovertemplate="ε = %{x}/255: %{y:.1%} correct<extra></extra>"))
    if current is not None:
        fig.add_vline(x=current, line_dash="dot", line_color="#888")
    fig.update_layout(title=title, height=height, xaxis_title="ε (grey levels of 255)",
                      yaxis=dict(title="validation accuracy", range=[0, 1.05], tickformat=".0%"),
                      margin=dict(l=10, r=10, t=50 if title else 20, b=10), font=FONT, showlegend=False)
    return fig
