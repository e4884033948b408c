"""The Training Lab's "One step" figures: the terms of one weight's gradient (input under the kernel entry ×
upstream gradient, one small map per sample, their sums beneath) and the loss over the steps taken. Pure functions:
engine results in, ``go.Figure`` out, each built in one ``go.Figure(dict(...))`` call."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.io.text import plot_text

FONT = dict(size=15)
ROWS = (("x", "input under w", "Greys"), ("g", "∂L/∂z (upstream)", "RdBu"), ("t", "x · ∂L/∂z (terms)", "RdBu"))


def _strip(maps: np.ndarray) -> np.ndarray:
    """(N, h, w) -> (h, N·(w + 1) − 1): the maps side by side, one NaN column between them."""
    n, h, w = maps.shape
    out = np.full((h, n * (w + 1) - 1), np.nan)
    for k in range(n):
        out[:, k * (w + 1):k * (w + 1) + w] = maps[k]
    return out


def terms_figure(patch, upstream, terms, per_sample, total: float, labels=None) -> go.Figure:
    """Three rows of N small maps (N samples): the input value under the kernel entry at each output position, the
    upstream gradient ∂L/∂z there, and their product; each sample's Σ under its product map, the total in the
    title. Arrays (N, h, w); ``per_sample`` (N,)."""
    patch, upstream, terms = (np.asarray(a, dtype=np.float64) for a in (patch, upstream, terms))
    n, h, w = terms.shape
    data, layout, gap = [], {}, 0.06
    size = (1 - 2 * gap) / 3
    for r, (name, title, scale) in enumerate(ROWS):
        z = _strip({"x": patch, "g": upstream, "t": terms}[name])
        lim = float(np.nanmax(np.abs(z))) or 1.0
        lo, hi = (-lim, lim) if scale == "RdBu" else (float(np.nanmin(z)), float(np.nanmax(z)))
        ax = "" if r == 0 else str(r + 1)
        top = 1 - r * (size + gap)
        data.append(dict(type="heatmap", z=z, colorscale=scale, xaxis=f"x{ax}", yaxis=f"y{ax}",
                         zmin=lo, zmax=hi, showscale=False,
                         hovertemplate=f"{title}: %{{z:.4g}}<extra></extra>"))
        layout[f"xaxis{ax}"] = dict(domain=[0, 1], anchor=f"y{ax}", showticklabels=r == 2, showgrid=False,
                                    zeroline=False, tickvals=[k * (w + 1) + (w - 1) / 2 for k in range(n)],
                                    ticktext=[f"{s:+.3g}" for s in per_sample], tickfont=dict(size=12))
        layout[f"yaxis{ax}"] = dict(domain=[top - size, top], anchor=f"x{ax}", autorange="reversed",
                                    showticklabels=False, showgrid=False, zeroline=False, scaleanchor=f"x{ax}",
                                    title=dict(text=plot_text(title), font=dict(size=12)))
    names = [] if labels is None else [dict(x=k * (w + 1) + (w - 1) / 2, y=1.0, xref="x", yref="paper",
                                            yanchor="bottom", showarrow=False, text=f"label {plot_text(str(c))}",
                                            font=dict(size=12)) for k, c in enumerate(labels)]
    layout.update(height=120 + 3 * max(60, 14 * h), margin=dict(l=40, r=10, t=60, b=40), font=FONT,
                  annotations=names, title=dict(text=plot_text(f"∂L/∂w = Σ terms = {total:.6g}  (Σ per sample "
                                                               "under each map)"), font=dict(size=15)))
    return go.Figure(dict(data=data, layout=layout))


def loss_steps_figure(losses, first: int = 0) -> go.Figure:
    """The batch loss at each step taken so far (the first of ``losses`` is step ``first``)."""
    steps = list(range(first, first + len(losses)))
    return go.Figure(dict(data=[dict(type="scatter", x=steps, y=[float(v) for v in losses], mode="lines+markers",
                                     line=dict(color="#0072b2"), hovertemplate="step %{x}: loss %{y:.4f}"
                                     "<extra></extra>")],
                          layout=dict(height=220, margin=dict(l=50, r=10, t=40, b=40), font=FONT,
                                      title=dict(text="Batch loss per step", font=dict(size=15)),
                                      xaxis=dict(title="step", dtick=1 if len(steps) <= 20 else None),
                                      yaxis=dict(title="loss", rangemode="tozero"))))


def batch_figure(images, labels, preds, classes) -> go.Figure:
    """The batch, side by side (N, H, W), each with its label and the model's prediction above it (vermilion when
    wrong)."""
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    notes = [dict(x=k * (w + 1) + (w - 1) / 2, y=-0.5, yanchor="bottom", showarrow=False,
                  text=plot_text(f"{classes[t]} → {classes[p]}"),
                  font=dict(size=13, color="#0072b2" if int(t) == int(p) else "#d55e00"))
             for k, (t, p) in enumerate(zip(labels, preds))]
    return go.Figure(dict(data=[dict(type="heatmap", z=_strip(images), colorscale="Greys", showscale=False,
                                     hoverinfo="skip")],
                          layout=dict(height=190, margin=dict(l=10, r=10, t=50, b=10), font=FONT, annotations=notes,
                                      title=dict(text="The batch: label → prediction (vermilion = wrong)",
                                                 font=dict(size=15)),
                                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed",
                                                                            scaleanchor="x"))))
