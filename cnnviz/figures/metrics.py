"""Figures of the Metrics & Losses page: boxes and their overlap, two masks, loss curves, the
precision–recall curve, AP per class, top-k accuracy. Pure: engine results in, ``go.Figure`` out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

A_COLOUR, B_COLOUR, BOTH_COLOUR = "#0072b2", "#e69f00", "#009e73"  # Okabe–Ito: colour-blind safe
FONT = dict(size=16)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: go.Figure, title: str, height: int = 420, **kw) -> go.Figure:
    kw = dict(plot_bgcolor="white", legend=dict(orientation="h", y=-0.15)) | kw
    fig.update_layout(title=title, height=height, font=FONT, margin=dict(l=10, r=10, t=60, b=10), **kw)
    fig.update_xaxes(gridcolor="#eeeeee", zeroline=False)
    fig.update_yaxes(gridcolor="#eeeeee", zeroline=False)
    return fig


def boxes_figure(a, b, inter, extent: float = 100.0) -> go.Figure:
    """Box A (predicted) and box B (ground truth) as outlined rectangles, their intersection filled."""
    fig = go.Figure()
    if inter is not None:
        fig.add_shape(type="rect", x0=inter[0], y0=inter[1], x1=inter[2], y1=inter[3], line=dict(width=0),
                      fillcolor=BOTH_COLOUR, opacity=0.7, layer="below")
    for box, colour, name, corner, pos in ((a, A_COLOUR, "A", (0, 1), "bottom right"),
                                           (b, B_COLOUR, "B", (2, 3), "top left")):
        fig.add_shape(type="rect", x0=box[0], y0=box[1], x1=box[2], y1=box[3], line=dict(color=colour, width=4),
                      fillcolor=_rgba(colour, 0.18), layer="below")
        fig.add_trace(go.Scatter(x=[box[corner[0]]], y=[box[corner[1]]], mode="text", text=[f"<b>{name}</b>"],
                                 textposition=pos, textfont=dict(size=26, color=colour), showlegend=False,
                                 hoverinfo="skip"))
    for colour, name in ((A_COLOUR, "A (prediction)"), (B_COLOUR, "B (ground truth)"), (BOTH_COLOUR, "A ∩ B")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", marker=dict(size=16, color=colour,
                                                                                  symbol="square"), name=name))
    fig.update_xaxes(range=[0, extent], constrain="domain")
    fig.update_yaxes(range=[extent, 0], scaleanchor="x", scaleratio=1)  # image coordinates: y grows downwards
    fig.update_xaxes(fixedrange=True)  # the sliders move the boxes: a drag must not zoom the chart instead
    fig.update_yaxes(fixedrange=True)
    return _layout(fig, "Two boxes (x1, y1, x2, y2)", height=520, dragmode=False)


def masks_figure(a: np.ndarray, b: np.ndarray) -> go.Figure:
    """One picture of two masks: A only, B only, both, neither."""
    cat = a.astype(int) + 2 * b.astype(int)  # 0 none, 1 A, 2 B, 3 both
    colours = ["#ffffff", A_COLOUR, B_COLOUR, BOTH_COLOUR]
    scale = [[v, colours[i]] for i in range(4) for v in (i / 4, (i + 1) / 4)]
    names = np.array(["neither", "A only", "B only", "A and B"])[cat]
    fig = go.Figure(go.Heatmap(z=cat, zmin=-0.5, zmax=3.5, colorscale=scale, showscale=False, text=names,
                               hovertemplate="row %{y}, col %{x}: %{text}<extra></extra>", xgap=1, ygap=1))
    for colour, name in zip(colours[1:], ("A only", "B only", "A and B")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker=dict(size=16, color=colour, symbol="square")))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False, visible=False)
    fig.update_xaxes(showgrid=False, visible=False)
    return _layout(fig, "Two masks", height=460, plot_bgcolor="#dddddd")


def dice_iou_figure(iou_grid, dice_grid, iou: float, dice: float) -> go.Figure:
    fig = go.Figure([go.Scatter(x=iou_grid, y=dice_grid, name="Dice = 2·IoU / (1 + IoU)", line=dict(width=3)),
                     go.Scatter(x=[0, 1], y=[0, 1], name="Dice = IoU", line=dict(dash="dot", color="grey")),
                     go.Scatter(x=[iou], y=[dice], name="these masks", mode="markers",
                                marker=dict(size=16, color=BOTH_COLOUR))])
    fig.update_xaxes(title="IoU", range=[0, 1])
    fig.update_yaxes(title="Dice", range=[0, 1.02])
    return _layout(fig, "Dice is never below IoU", height=460)


FOCAL_LEGEND = dict(orientation="v", x=0.98, xanchor="right", y=0.98, yanchor="top", bgcolor="rgba(255,255,255,0.85)")


def focal_figure(p_grid, ce, fl, p: float, ce_p: float, fl_p: float, gamma: float) -> go.Figure:
    fig = go.Figure([go.Scatter(x=p_grid, y=ce, name="cross-entropy  −log p", line=dict(width=3, color=A_COLOUR)),
                     go.Scatter(x=p_grid, y=fl, name=f"focal  −(1 − p)^{gamma:g} log p",
                                line=dict(width=3, color=B_COLOUR)),
                     go.Scatter(x=[p, p], y=[ce_p, fl_p], mode="markers", showlegend=False,
                                marker=dict(size=16, color=[A_COLOUR, B_COLOUR], line=dict(color="white", width=2)),
                                hovertemplate="p = %{x:.2f}: loss %{y:.4f}<extra></extra>")])
    fig.add_vline(x=p, line=dict(dash="dot", color="grey"))
    fig.update_xaxes(title="p: the probability the model gives the true class", range=[0, 1])
    fig.update_yaxes(title="loss", range=[0, 5])
    # the legend in the plot's empty top-right corner (both losses are under 0.7 right of p = 0.5): below the plot
    # it sat on the x-axis title
    return _layout(fig, "Loss of one example", height=460, legend=FOCAL_LEGEND)


def pr_figure(curve, precision_at: float, recall_at: float, title: str) -> go.Figure:
    r = np.concatenate([[0.0], curve.recall])
    env = np.concatenate([[curve.envelope[0] if len(curve.envelope) else 0.0], curve.envelope])
    fig = go.Figure([
        go.Scatter(x=r, y=env, name=f"interpolated (area = AP = {curve.ap:.3f})", line=dict(shape="vh", width=0),
                   fill="tozeroy", fillcolor="rgba(0,158,115,0.25)"),
        go.Scatter(x=curve.recall, y=curve.precision, name="precision after each detection", mode="lines+markers",
                   line=dict(color=A_COLOUR, width=2), marker=dict(size=9)),
        go.Scatter(x=[recall_at], y=[precision_at], name="at the score threshold", mode="markers",
                   marker=dict(size=20, color=B_COLOUR, symbol="star"))])
    fig.update_xaxes(title="recall", range=[0, 1.02])
    fig.update_yaxes(title="precision", range=[0, 1.05])
    return _layout(fig, title, height=460)


def ap_bars(aps: dict, m_ap: float) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(aps), y=list(aps.values()), marker_color=A_COLOUR,
                           text=[f"{v:.3f}" for v in aps.values()], textposition="outside"))
    fig.add_hline(y=m_ap, line=dict(dash="dash", color=B_COLOUR, width=3))
    fig.update_yaxes(title="AP", range=[0, 1.15])
    return _layout(fig, f"AP per class; mAP = their mean = {m_ap:.3f} (dashed)", height=460)


def topk_figure(ks, accs, highlight=(1, 5)) -> go.Figure:
    colours = [B_COLOUR if k in highlight else A_COLOUR for k in ks]
    fig = go.Figure(go.Bar(x=[f"top-{k}" for k in ks], y=accs, marker_color=colours,
                           text=[f"{a:.1%}" for a in accs], textposition="outside"))
    fig.update_yaxes(title="validation accuracy", range=[0, 1.12], tickformat=".0%")
    return _layout(fig, "Is the true class among the model's k best guesses?", height=440)


def soft_mask_figure(probs: np.ndarray, target: np.ndarray) -> go.Figure:
    """The predicted probabilities as a heatmap, the target mask's outline on top."""
    fig = go.Figure([go.Heatmap(z=probs, zmin=0, zmax=1, colorscale="Blues", colorbar=dict(title="p"),
                                hovertemplate="row %{y}, col %{x}: p = %{z:.3f}<extra></extra>"),
                     go.Contour(z=target, contours=dict(start=0.5, end=0.5, coloring="lines"), showscale=False,
                                line=dict(color=B_COLOUR, width=4), hoverinfo="skip", name="target mask",
                                showlegend=True)])
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False, visible=False)
    fig.update_xaxes(showgrid=False, visible=False)
    return _layout(fig, "Predicted probability p; the target's outline", height=460)



def loss_share_figure(rows: dict[str, dict], groups) -> go.Figure:
    """Share of the total loss per group of examples, one bar group per loss (e.g. CE vs focal):
    ``rows`` maps a loss's name to ``loss_shares``' {group: (examples, share)}."""
    colours = dict(zip(groups, (_rgba(A_COLOUR, 0.45), A_COLOUR, _rgba(B_COLOUR, 0.45), B_COLOUR)))
    fig = go.Figure([go.Bar(name=f"{g} ({next(iter(rows.values()))[g][0]})", x=list(rows),
                            y=[r[g][1] for r in rows.values()], marker_color=colours[g],
                            text=[f"{r[g][1]:.0%}" for r in rows.values()], textposition="inside")
                     for g in groups])
    fig.update_yaxes(title="share of the total loss", range=[0, 1], tickformat=".0%")
    return _layout(fig, "Which examples the loss is made of", height=440, barmode="stack")


def topk_probs_figure(probs, classes, top: list[int], true: int) -> go.Figure:
    """One image's class probabilities; the top-k bars in colour, the true class outlined."""
    colours = [B_COLOUR if i in top else "#cccccc" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=[str(c) for c in classes], y=probs, marker_color=colours,
                           marker_line=dict(color=[A_COLOUR if i == true else "rgba(0,0,0,0)"
                                                   for i in range(len(probs))], width=4),
                           text=[f"{p:.0%}" if i in top else "" for i, p in enumerate(probs)], textposition="outside"))
    fig.update_xaxes(title="class (true class outlined)", type="category")
    fig.update_yaxes(title="softmax probability", range=[0, 1.15], tickformat=".0%")
    return _layout(fig, f"The model's top-{len(top)} for this image", height=400)
