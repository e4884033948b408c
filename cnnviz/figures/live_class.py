"""The live class dashboard's figures: the class's runs (validation accuracy against parameters or seconds, the
best run a star; two runs' curves overlaid) and the class's drawings (a grid of the model's 28×28 views with what
the student said and what the model read; "our handwriting vs the model" as a confusion matrix). Pure: the
engine's views in (cnnviz.classroom.live.work), ``go.Figure`` out. Nicknames are text (``plot_text``)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.io.text import plot_text

RUN_COLOURS = ("#4c78a8", "#e45756")
GRID_COLUMNS, GRID_MAX = 12, 36  # drawings in one row, drawings shown (the newest)


def _layout(fig: go.Figure, height: int, title: str) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), font=dict(size=14),
                      title=title or None)
    return fig


def runs_scatter(runs, x: str = "params", height: int = 320) -> go.Figure:
    """One point per run: final validation accuracy (%) against its parameters or seconds; hover names
    the student and the recipe; the best run (``runs[0]``: the engine sorts best first) is a star."""
    seconds = x == "seconds"
    xs = [r.seconds if seconds else r.params for r in runs]
    fig = go.Figure(go.Scatter(
        x=xs, y=[100 * r.val_acc for r in runs], mode="markers",
        marker=dict(size=[18 if i == 0 else 10 for i in range(len(runs))], color=RUN_COLOURS[0],
                    symbol=["star" if i == 0 else "circle" for i in range(len(runs))],
                    line=dict(color="black", width=1)),
        text=[f"{plot_text(r.nickname)}<br>{plot_text(r.recipe)}<br>{r.params:,} parameters · {r.seconds:.0f} s"
              for r in runs],
        hovertemplate="%{text}<br>validation accuracy %{y:.1f}%<extra></extra>"))
    fig.update_xaxes(title="seconds of training" if seconds else "parameters", tickformat="~s", rangemode="tozero")
    fig.update_yaxes(title="validation accuracy (%)", range=[0, 101])
    return _layout(fig, height, "")


def curves_overlay(a, b=None, height: int = 320) -> go.Figure:
    """The validation accuracy after each epoch of one or two runs, on one axis."""
    fig = go.Figure()
    for run, colour in zip((a, b), RUN_COLOURS):
        if run is not None:
            fig.add_trace(go.Scatter(x=list(range(1, len(run.curve) + 1)), y=[100 * v for v in run.curve],
                                     mode="lines+markers", line=dict(color=colour, width=3),
                                     name=plot_text(f"{run.nickname}: {run.val_acc:.1%}")))
    fig.update_xaxes(title="epoch", dtick=1 if max(len(a.curve), len(b.curve) if b else 0) <= 12 else None)
    fig.update_yaxes(title="validation accuracy (%)", range=[0, 101])
    fig.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return _layout(fig, height, "")


def drawings_grid(drawings, height: int | None = None) -> go.Figure:
    """The newest ``GRID_MAX`` drawings, ``GRID_COLUMNS`` to a row, each the model's 28×28 view (ink white on
    black), titled "said → read" (read in red when it differs from what the student said), hover the nickname."""
    shown = drawings[:GRID_MAX]
    side, gap = (shown[0].pixels.shape[0] if shown else 28), 13
    cols = min(GRID_COLUMNS, max(1, len(shown)))
    rows = max(1, -(-len(shown) // cols))
    mosaic = np.full((rows * (side + gap), cols * (side + 4)), np.nan)
    fig = go.Figure()
    for i, d in enumerate(shown):
        r, c = divmod(i, cols)
        y0, x0 = r * (side + gap) + gap, c * (side + 4)
        mosaic[y0:y0 + side, x0:x0 + side] = d.pixels
        wrong = d.label is not None and d.label != d.predicted
        said = "?" if d.label is None else str(d.label)
        fig.add_annotation(x=x0 + side / 2, y=y0 - 1, yanchor="bottom", showarrow=False, font=dict(size=13),
                           text=f"{said} → <b><span style='color:{'#d62728' if wrong else '#1f3a5f'}'>"
                                f"{d.predicted}</span></b>")
    names = np.full(mosaic.shape, "", dtype=object)
    for i, d in enumerate(shown):
        r, c = divmod(i, cols)
        names[r * (side + gap) + gap:r * (side + gap) + gap + side, c * (side + 4):c * (side + 4) + side] = \
            plot_text(d.nickname)
    fig.add_trace(go.Heatmap(z=mosaic, colorscale="gray", zmin=0, zmax=255, showscale=False, customdata=names,
                             hovertemplate="%{customdata}<extra></extra>", hoverongaps=False))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(plot_bgcolor="white")
    return _layout(fig, height or 60 + 70 * rows, "")


def handwriting_confusion(confusion, height: int = 360) -> go.Figure:
    """Our handwriting vs the model: rows the digit the students said, columns what the model read, the count in
    each cell (the diagonal is agreement)."""
    z = np.asarray(confusion, dtype=int)
    fig = go.Figure(go.Heatmap(z=z.tolist(), x=[str(i) for i in range(10)], y=[str(i) for i in range(10)],
                               colorscale="Blues", showscale=False, text=[[str(v) if v else "" for v in row]
                                                                          for row in z.tolist()],
                               texttemplate="%{text}", textfont=dict(size=14),
                               hovertemplate="said %{y}, model read %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title="the model read", side="bottom", dtick=1, range=[-0.5, 9.5], constrain="domain")
    fig.update_yaxes(title="the student said", range=[9.5, -0.5], dtick=1, scaleanchor="x", constrain="domain")
    return _layout(fig, height, "")
