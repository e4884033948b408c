"""The Network Explorer's figures for one neuron: its arithmetic (patch × kernel with per-channel subtotals, the
pooling window, the softmax table), its receptive field and gradient map, and the patches that excite it most.
Pure: engine results in, ``go.Figure`` out (re-exported by :mod:`cnnviz.figures.network`)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from cnnviz.explorer import NeuronDetail, PoolDetail, SoftmaxDetail, TopPatch
from cnnviz.figures.subplots import axes, image_row, row_layout
from cnnviz.io.text import plot_text
from .animation import fmt
from .features import FONT, MAPS, WEIGHTS, _rgb, tile
from .network_overview import GREY_SCALE

PICK = "#cc0000"  # the receptive field's and the max pool winner's outline


def conv_detail_figure(d: NeuronDetail, max_channels: int = 8, patch_range: tuple[float, float] | None = None
                       ) -> go.Figure:
    """The tapped input patch (grey, white = high, as the image is drawn), the kernel slice and their element-wise
    products, one labelled row per input channel with its subtotal on the right ("from channel 2: 0.8300"); the
    subtotals add up to the title's Σ. Every number printed. ``patch_range``: the patch's grey range (the model
    input's (0, 1) for a first layer, so the patch has the picture's greys). One constructor call (``row_layout``),
    not make_subplots."""
    n = min(len(d.channels), max_channels)
    kh, kw = d.patch.shape[1:]
    data = []
    for i, (t, scale, signed) in enumerate(((d.patch, GREY_SCALE, False), (d.weight, WEIGHTS, True),
                                            (d.products, WEIGHTS, True))):
        z, _ = tile(t[:n], 1)
        hi = float(t[:n].abs().max()) or 1.0
        lo = -hi if signed else min(0.0, float(t[:n].min()))
        if not signed and patch_range is not None:
            lo, hi = min(lo, patch_range[0]), max(float(t[:n].max()), patch_range[1])
        x, y = axes(i)
        data.append(dict(type="heatmap", z=z, colorscale=scale, zmin=lo, zmax=hi, showscale=False,
                         text=[[fmt(v) for v in r] for r in z], texttemplate="%{text}", textfont=dict(size=13),
                         hoverongaps=False, hovertemplate="%{z:.4f}<extra></extra>", xaxis=x, yaxis=y))
    more = f" (first {n} of {len(d.channels)} input channels)" if n < len(d.channels) else ""
    centres = [r * (kh + 1) + (kh - 1) / 2 for r in range(n)]
    layout = row_layout([f"input patch (channels {d.channels[0]}–{d.channels[n - 1]})", f"kernel [{d.channel}, :{n}]",
                         "patch × kernel"], spacing=0.05, title_size=13, xaxis=dict(visible=False),
                        yaxis=dict(autorange="reversed", visible=False))
    layout["yaxis"].update(visible=True, showgrid=False, zeroline=False, showline=False, ticks="",
                           tickvals=centres, ticktext=[f"channel {c}" for c in d.channels[:n]])
    subs = d.subtotals
    for ax in ("xaxis", "xaxis2", "xaxis3"):  # the labels right of the products must not widen its axis
        layout[ax]["range"] = [-0.5, kw - 0.5]
    layout["annotations"] += [dict(x=layout["xaxis3"]["domain"][1], y=yc, xref="paper", yref="y3", xanchor="left",
                                   showarrow=False,
                                   text=f"  from channel {c}: <b>{subs[r]:.4f}</b>", font=dict(size=13))
                              for r, (c, yc) in enumerate(zip(d.channels[:n], centres))]
    total = d.pre_activation - d.bias
    what = f" = Σ of the {len(d.channels)} subtotals" if len(d.channels) > 1 else ""
    layout.update(height=int(90 + min(1400, 34 * n * (kh + 1))), margin=dict(l=10, r=190, t=70, b=10), font=FONT,
                  title=dict(text=f"Σ products = {total:.4f}{what}{more}", font=dict(size=15)))
    return go.Figure(dict(data=data, layout=layout))


def _box_trace(box, colour=PICK):
    t, l, b, r = box
    return go.Scatter(x=[l - .5, r + .5, r + .5, l - .5, l - .5], y=[t - .5, t - .5, b + .5, b + .5, t - .5],
                      mode="lines", line=dict(color=colour, width=3), hoverinfo="skip", showlegend=False)


def receptive_field_figure(x: torch.Tensor, box: tuple[int, int, int, int], grad: torch.Tensor | None = None,
                           height: int = 300) -> go.Figure:
    """The input (C, H, W) with the receptive field outlined, and next to it the neuron's gradient map (one
    constructor call, ``row_layout``, not make_subplots)."""
    t, l, b, r = box
    cols = 2 if grad is not None else 1
    data = [dict(type="image", z=_rgb(x), hovertemplate="row %{y}, col %{x}<extra></extra>", xaxis="x", yaxis="y"),
            _box_trace(box).to_plotly_json() | dict(xaxis="x", yaxis="y")]
    if grad is not None:
        data += [dict(type="heatmap", z=grad.numpy(), colorscale=MAPS, showscale=False,
                      hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>", xaxis="x2", yaxis="y2"),
                 _box_trace(box, "#ffffff").to_plotly_json() | dict(xaxis="x2", yaxis="y2")]
    layout = row_layout([f"receptive field rows {t}–{b}, cols {l}–{r}", "|∂ neuron / ∂ input|"][:cols],
                        spacing=0.06, title_size=13, xaxis=dict(visible=False),
                        yaxis=dict(visible=False, constrain="domain"))
    layout["yaxis"]["scaleanchor"] = "x"
    if grad is not None:
        layout["yaxis2"].update(autorange="reversed", scaleanchor="x2")
    layout.update(height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT)
    return go.Figure(dict(data=data, layout=layout))


def pool_detail_figure(p: PoolDetail, height: int = 300) -> go.Figure:
    """The pooling window with its numbers; the max pool's winner outlined."""
    z = p.window.numpy()
    finite = z[np.isfinite(z)]
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=np.where(np.isfinite(z), z, np.nan), x=p.cols, y=p.rows, colorscale=MAPS,
                             text=[[fmt(float(v)) for v in r] for r in z], texttemplate="%{text}", showscale=False,
                             zmin=float(finite.min()) if finite.size else 0, textfont=dict(size=14)))
    if p.winner is not None:
        fig.add_trace(_box_trace((p.winner[0], p.winner[1], p.winner[0], p.winner[1])))
    how = (f"max = {p.value:.4f} at row {p.winner[0]}, col {p.winner[1]}" if p.kind == "max" else
           f"sum / {p.divisor} = {p.value:.4f}")
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", title="input row")
    fig.update_xaxes(title="input col", constrain="domain")
    fig.update_layout(title=f"{p.kind} pooling window of output ({p.index[0]}, {p.index[1]}): {how}",
                      height=height, margin=dict(l=10, r=10, t=50, b=10), font=FONT)
    return fig


def softmax_figure(s: SoftmaxDetail, classes: tuple[str, ...]) -> go.Figure:
    """Logits → logits − max → exp → ÷ sum, one row per class."""
    cells = [[plot_text(c) for c in classes], [f"{v:.3f}" for v in s.logits], [f"{v:.3f}" for v in s.shifted],
             [f"{v:.4f}" for v in s.exps], [f"{v:.1%}" for v in s.probabilities]]
    fig = go.Figure(go.Table(header=dict(values=["class", "logit z", "z − max z", "exp(z − max z)",
                                                 f"÷ {s.total:.4f} = probability"], font=dict(size=14)),
                             cells=dict(values=cells, font=dict(size=14), height=28)))
    fig.update_layout(height=90 + 28 * len(classes), margin=dict(l=10, r=10, t=10, b=10))
    return fig


def top_patches_figure(patches: list[TopPatch], classes_of: list[str] | None = None) -> go.Figure:
    """The receptive-field patches that excite a channel most, strongest first."""
    titles = [f"#{p.image}: {p.value:.2f}" + (f" ({plot_text(classes_of[i])})" if classes_of else "")
              for i, p in enumerate(patches)]
    return image_row([_rgb(p.patch) for p in patches], titles, 200, title_size=12, spacing=0.02, font=FONT)
