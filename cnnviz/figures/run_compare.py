"""The Training Lab's run comparison: the validation accuracy and loss of several runs on one chart (their training
curves on request), one colour per run, the legend naming what differs (``cnnviz.training.compare.legend_labels``).
A pure function of run summaries (``cnnviz.training.runs.Run``)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.io.text import plot_text

# Okabe-Ito (colour-blind safe), then the same colours dashed: 12 runs stay apart
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000", "#999999")
FONT = dict(size=16)


def style(i: int) -> tuple[str, str]:
    return COLOURS[i % len(COLOURS)], "solid" if i < len(COLOURS) else "dash"


def compare_figure(runs, labels, train: bool = False, stacked: bool = False) -> go.Figure:
    """Validation accuracy (left) and loss (right; ``stacked``: one under the other) per epoch, one line per run
    named by ``labels``; ``train``: each run's training curve per report too, dotted, in its colour."""
    rows, cols = (2, 1) if stacked else (1, 2)
    fig = make_subplots(rows, cols, subplot_titles=("Validation accuracy", "Validation loss"),
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    acc_at, loss_at = dict(row=1, col=1), (dict(row=2, col=1) if stacked else dict(row=1, col=2))
    for i, (run, label) in enumerate(zip(runs, labels)):
        colour, dash = style(i)
        name = plot_text(label)
        for y, at, first in ((run.val_acc, acc_at, True), (run.val_loss, loss_at, False)):
            fig.add_scatter(x=list(run.epoch), y=list(y), name=name, legendgroup=f"r{i}", showlegend=first,
                            mode="lines+markers", line=dict(color=colour, width=3, dash=dash), marker=dict(size=7),
                            hovertemplate=f"{name}<br>epoch %{{x}}: %{{y:.3f}}<extra></extra>", **at)
        if train:
            for y, at in ((run.steps_acc, acc_at), (run.steps_loss, loss_at)):
                fig.add_scatter(x=list(run.steps_x), y=list(y), name=f"{name} · training", legendgroup=f"r{i}",
                                showlegend=False, mode="lines", opacity=0.6,
                                line=dict(color=colour, width=1.5, dash="dot"), hoverinfo="skip", **at)
    last = max([e for r in runs for e in r.epoch] + [1])
    fig.update_xaxes(title_text="epoch", tick0=0, dtick=max(1, -(-last // 10)))  # whole epochs only
    fig.update_yaxes(tickformat=".0%", **acc_at)
    fig.update_yaxes(rangemode="tozero", **loss_at)
    fig.update_layout(height=760 if stacked else 440, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      legend=dict(orientation="h", yanchor="top", y=-0.2 if not stacked else -0.1, x=0,
                                  font=dict(size=18)), hovermode="closest")
    fig.update_annotations(font=dict(size=20))  # the subplot titles
    if not runs:
        fig.add_annotation(text="No runs to show yet: train one", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5, font=dict(size=18))
    return fig
