"""The Training Lab's run comparison: the validation accuracy and loss of several runs on one chart (their training
curves on request), one colour per run, the legend naming what differs (``cnnviz.training.compare.legend_labels``).
A pure function of run summaries (``cnnviz.training.runs.Run``)."""
from __future__ import annotations

import plotly.graph_objects as go

from cnnviz.io.text import plot_text

# Okabe-Ito (colour-blind safe), then the same colours dashed: 12 runs stay apart
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000", "#999999")
FONT = dict(size=16)


def style(i: int) -> tuple[str, str]:
    return COLOURS[i % len(COLOURS)], "solid" if i < len(COLOURS) else "dash"


def compare_figure(runs, labels, train: bool = False, stacked: bool = False) -> go.Figure:
    """Validation accuracy (left) and loss (right; ``stacked``: one under the other) per epoch, one line per run
    named by ``labels``; ``train``: each run's training curve per report too, dotted, in its colour. Built as one
    dict (48 ``add_scatter`` calls on a subplot grid cost ~80 ms of a page's rerun; this, a few)."""
    acc, loss = dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2")
    data = []
    for i, (run, label) in enumerate(zip(runs, labels)):
        colour, dash = style(i)
        name = plot_text(label)
        for y, at, first in ((run.val_acc, acc, True), (run.val_loss, loss, False)):
            data.append(dict(type="scatter", x=list(run.epoch), y=list(y), name=name, legendgroup=f"r{i}",
                             showlegend=first, mode="lines+markers", line=dict(color=colour, width=3, dash=dash),
                             marker=dict(size=7), hovertemplate=f"{name}<br>epoch %{{x}}: %{{y:.3f}}<extra></extra>",
                             **at))
        if train:
            for y, at in ((run.steps_acc, acc), (run.steps_loss, loss)):
                data.append(dict(type="scatter", x=list(run.steps_x), y=list(y), name=f"{name} · training",
                                 legendgroup=f"r{i}", showlegend=False, mode="lines", opacity=0.6,
                                 line=dict(color=colour, width=1.5, dash="dot"), hoverinfo="skip", **at))
    last = max([e for r in runs for e in r.epoch] + [1])
    ticks = dict(title=dict(text="epoch"), tick0=0, dtick=max(1, -(-last // 10)))  # whole epochs only
    if stacked:
        axes = dict(xaxis=dict(domain=[0, 1], anchor="y", **ticks), xaxis2=dict(domain=[0, 1], anchor="y2", **ticks),
                    yaxis=dict(domain=[0.57, 1], anchor="x", tickformat=".0%"),
                    yaxis2=dict(domain=[0, 0.43], anchor="x2", rangemode="tozero"))
        titles = [(0.5, 1.0), (0.5, 0.43)]
    else:
        axes = dict(xaxis=dict(domain=[0, 0.46], anchor="y", **ticks),
                    xaxis2=dict(domain=[0.54, 1], anchor="y2", **ticks),
                    yaxis=dict(domain=[0, 1], anchor="x", tickformat=".0%"),
                    yaxis2=dict(domain=[0, 1], anchor="x2", rangemode="tozero"))
        titles = [(0.23, 1.0), (0.77, 1.0)]
    notes = [dict(text=t, x=x, y=y, xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                  font=dict(size=20)) for t, (x, y) in zip(("Validation accuracy", "Validation loss"), titles)]
    if not runs:
        notes.append(dict(text="No runs to show yet: train one", showarrow=False, xref="paper", yref="paper",
                          x=0.5, y=0.5, font=dict(size=18)))
    return go.Figure(dict(data=data, layout=dict(
        **axes, annotations=notes, height=760 if stacked else 440, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
        legend=dict(orientation="h", yanchor="top", y=-0.2 if not stacked else -0.1, x=0, font=dict(size=18)),
        hovermode="closest")))
