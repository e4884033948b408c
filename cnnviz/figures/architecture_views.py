"""Figures for the Architecture Lab's drawn blocks: channel shuffle, 3-D vs (2+1)-D costs, dynamic convolution's
kernel attention, the ViT patch grid. Pure: engine results in, ``go.Figure`` out."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.figures.architecture import BLUE, FONT, GREY, ORANGE, _human

# Okabe–Ito (colour-blind safe), one colour per group; more than 8 groups cycle
GROUP_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


def shuffle_figure(perm: list[int], groups: int) -> go.Figure:
    """Channels as cells coloured by their group, before (top) and after (bottom) the shuffle; a line follows
    each channel to its new place (``perm[j]`` = the input channel at output position j)."""
    c = len(perm)
    per = c // groups
    colour = lambda ch: GROUP_COLOURS[(ch // per) % len(GROUP_COLOURS)]  # noqa: E731
    fig = go.Figure()
    xs, ys = [], []
    for j, src in enumerate(perm):
        xs += [src, j, None]
        ys += [1, 0, None]
    fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=GREY, width=1), hoverinfo="skip", showlegend=False)
    for y, order, name in ((1, list(range(c)), "before"), (0, perm, "after")):
        fig.add_scatter(x=list(range(c)), y=[y] * c, mode="markers+text" if c <= 32 else "markers",
                        marker=dict(symbol="square", size=max(8, min(26, 700 // c)), color=[colour(ch) for ch in order],
                                    line=dict(color="white", width=1)),
                        text=[str(ch) for ch in order], textposition="middle center",
                        textfont=dict(color="white", size=11), showlegend=False, name=name,
                        hovertemplate="position %{x}: channel %{text}<extra>" + name + "</extra>")
    fig.update_yaxes(tickvals=[1, 0], ticktext=["before", "after"], range=[-0.4, 1.4], tickfont=dict(size=15))
    fig.update_xaxes(title="channel position", showgrid=False, zeroline=False)
    fig.update_layout(font=FONT, height=260, margin=dict(l=10, r=10, t=20, b=10), plot_bgcolor="white")
    return fig


def video_figure(costs, compute: list[int], unit: str = "FLOPs") -> go.Figure:
    """Parameters, compute (FLOPs or MACs, given) and activation memory of the 3-D and (2+1)-D convs."""
    fig = make_subplots(1, 3, subplot_titles=("Parameters", f"{unit} per clip", "Activation memory"),
                        horizontal_spacing=0.08)
    names = [c.name for c in costs]
    for col, values, fmt in ((1, [c.params for c in costs], _human), (2, compute, _human),
                             (3, [c.activation_bytes for c in costs], lambda b: _human(b) + "B")):
        fig.add_bar(x=names, y=values, marker_color=[BLUE, ORANGE], text=[fmt(v) for v in values],
                    textposition="outside", cliponaxis=False, showlegend=False, row=1, col=col)
        fig.update_yaxes(range=[0, max(values) * 1.25 or 1], showticklabels=False, row=1, col=col)
    fig.update_layout(font=FONT, height=340, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def attention_figure(names: list[str], rows: list[list[float]]) -> go.Figure:
    """Side-by-side bar charts: each input's weights over the K kernels (they sum to 1)."""
    fig = make_subplots(1, len(rows), subplot_titles=names, shared_yaxes=True, horizontal_spacing=0.06)
    for col, (row, colour) in enumerate(zip(rows, (BLUE, ORANGE)), start=1):
        fig.add_bar(x=[f"W{k + 1}" for k in range(len(row))], y=row, marker_color=colour, showlegend=False,
                    text=[f"{v:.2f}" for v in row], textposition="outside", cliponaxis=False, row=1, col=col)
    fig.update_yaxes(range=[0, 1.1], title_text="attention π_k(x)", row=1, col=1)
    fig.update_layout(font=FONT, height=330, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def patch_grid_figure(picture, image: int, patch: int) -> go.Figure:
    """The image (``picture``: rows of grey values at any resolution, stretched over image × image pixels) cut
    into patch × patch tiles: each tile is one token (numbered when there are few)."""
    res = len(picture)
    fig = go.Figure(go.Heatmap(z=picture, x0=image / res / 2, dx=image / res, y0=image / res / 2, dy=image / res,
                               colorscale="gray", showscale=False, hoverinfo="skip"))
    xs, ys = [], []
    for v in range(0, image + 1, patch):
        xs += [v, v, None, 0, image, None]
        ys += [0, image, None, v, v, None]
    fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=ORANGE, width=2 if image // patch <= 32 else 1),
                    hoverinfo="skip", showlegend=False)
    g = image // patch
    if g <= 8:
        cells = [(r, c) for r in range(g) for c in range(g)]
        fig.add_scatter(x=[(c + 0.5) * patch for _, c in cells], y=[(r + 0.5) * patch for r, _ in cells],
                        mode="text", text=[str(i + 1) for i in range(g * g)], textfont=dict(color=ORANGE, size=14),
                        showlegend=False, hovertemplate="token %{text}<extra></extra>")
    fig.update_xaxes(range=[0, image], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[image, 0], showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(font=FONT, height=420, margin=dict(l=10, r=10, t=10, b=10))
    return fig
