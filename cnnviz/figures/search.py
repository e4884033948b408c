"""The architecture search's figure: validation accuracy against FLOPs (log axis) of every trained candidate, the
Pareto front as a step line, the rejected candidates at their FLOPs, the budget, and the compound-scaling family.
Pure: the search's trials in (cnnviz.architecture.search.search_summary), ``go.Figure`` out. With ``macs`` every
count (x, hover, budget) is in multiply-accumulates, MACs = FLOPs / 2 (cnnviz.geometry.padding.macs_from_flops)."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from cnnviz.geometry.padding import macs_from_flops

BLUE, ORANGE, GREEN, GREY, BLACK = "#0072b2", "#e69f00", "#009e73", "#999999", "#000000"  # Okabe–Ito
FONT = dict(size=16)


def search_figure(summary: dict, budget_flops: int, macs: bool = False) -> go.Figure:
    """``summary``: searched, rejected and family trials and the searched ones' Pareto front (indices, by FLOPs).
    ``macs``: count MACs (FLOPs / 2) on the x axis, in the hover and the budget line."""
    searched, rejected, family = summary["searched"], summary["rejected"], summary["family"]
    count, unit = (macs_from_flops, "MACs") if macs else (int, "FLOPs")

    def x(trials) -> list[int]:
        return [count(t.flops) for t in trials]

    def custom(trials) -> list[list[str]]:
        return [[t.genes.label(), f"{count(t.flops):,}", f"{t.params:,}"] for t in trials]

    hover = f"%{{customdata[0]}}<br>%{{customdata[1]}} {unit} · %{{customdata[2]}} parameters<br>"
    accs = [100 * t.accuracy for t in (*searched, *family)]
    low = max(0.0, 5 * math.floor(min(accs, default=50.0) / 5) - 10)  # the rejected ones' row, under every point
    fig = go.Figure()
    if rejected:
        fig.add_scatter(x=x(rejected), y=[low + 2] * len(rejected), mode="markers",
                        name="over the budget (not trained)", customdata=custom(rejected),
                        marker=dict(symbol="x", size=11, color=GREY),
                        hovertemplate=hover + "rejected: over the budget<extra></extra>")
    if searched:
        fig.add_scatter(x=x(searched), y=[100 * t.accuracy for t in searched], mode="markers",
                        name="searched", customdata=custom(searched), marker=dict(size=12, color=BLUE),
                        hovertemplate=hover + "accuracy %{y:.1f} %<extra>trial</extra>")
        front = [searched[i] for i in summary["front"]]
        fig.add_scatter(x=x(front), y=[100 * t.accuracy for t in front], mode="lines",
                        line=dict(color=GREEN, width=3, shape="hv"), name="Pareto front", hoverinfo="skip")
    if family:
        fig.add_scatter(x=x(family), y=[100 * t.accuracy for t in family], mode="lines+markers+text",
                        name="compound scaling (φ = 0, 1, 2)", customdata=custom(family),
                        text=[f"φ={t.phi}" for t in family], textposition="top center",
                        line=dict(color=ORANGE, width=3, dash="dash"), marker=dict(size=11, symbol="diamond"),
                        hovertemplate=hover + "accuracy %{y:.1f} %<extra>%{text}</extra>")
    # The budget as a trace (a shape's or an annotation's x on a log axis is easy to get wrong): a dashed line.
    budget = count(budget_flops)
    fig.add_scatter(x=[budget, budget], y=[low, 100], mode="lines", name=f"budget {budget:,} {unit}",
                    line=dict(color=BLACK, width=2, dash="dot"), hoverinfo="skip")
    fig.update_xaxes(type="log", title=f"{unit} of one forward pass (log scale)")
    fig.update_yaxes(title="validation accuracy (%)", range=[low, 101])
    fig.update_layout(font=FONT, height=460, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.14), hoverlabel=dict(font=dict(size=15)))
    return fig
