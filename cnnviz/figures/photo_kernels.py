"""Image kernels on a photograph: the picture and the kernel's output side by side (output in the animations'
diverging scale centred on 0, with its colour bar), the window at the chosen step outlined on both, and a zoom on that
window: what it covers, the kernel, the products and their sum.

Pure: a :class:`cnnviz.animation.KernelResult` in, figures out. The two 256×256 grids go as typed arrays (uint8
picture, float32 output), so a rerun sends and encodes about 0.4 MB, not 130,000 numbers as text."""
from __future__ import annotations

import numpy as np
from _plotly_utils.utils import to_typed_array_spec

from cnnviz.animation.image_kernels import KernelResult
from cnnviz.figures.animation import COLOURS, DIVERGING, fmt, out_range
from cnnviz.figures.prebuilt import Prebuilt

PICTURE_SCALE = [[0, "#000000"], [1, "#ffffff"]]  # a photograph in its own greys: 0 black, 1 white
GAP = 0.06  # paper width between the picture and the output
BAR_PX = 52  # the colour bar's band at the top (bar, ticks, room for presenter mode's larger tick labels)


ROBUST_Q = 99.5  # the percentile of |output| where the colours saturate


def robust_range(out: np.ndarray) -> float:
    """The symmetric colour range's half-width: the ``ROBUST_Q`` percentile of |finite output|, or max|output| when
    that is 0 (a sparse output), 1 when all zero."""
    a = np.abs(np.asarray(out, dtype=np.float64))
    a = a[np.isfinite(a)]
    q = float(np.percentile(a, ROBUST_Q)) if a.size else 0.0
    return q if q > 0 else out_range(out)


def _rect(x0, y0, x1, y1, colour: str, width: int, ref: str = "") -> dict:
    return dict(type="rect", xref=f"x{ref}", yref=f"y{ref}", x0=x0, y0=y0, x1=x1, y1=y1,
                line=dict(color=colour, width=width), fillcolor="rgba(0,0,0,0)")


def _axis(domain, anchor: str, **kw) -> dict:
    return dict(domain=domain, anchor=anchor, showgrid=False, zeroline=False, showticklabels=False, ticks="", **kw)


def photo_kernel_figure(res: KernelResult, step: int, title: str = "", out_title: str = "output",
                        height: int = 400, white: float = 1.0) -> Prebuilt:
    """Picture | output at readable size, square pixels; the window at ``step`` outlined on the picture (its k×k
    taps, padding ring included) and its output cell marked on the output. Output colours: ``DIVERGING`` with
    ``zmid=0`` and the symmetric range ±m, m the 99.5th percentile of |output| (``robust_range``: a few extreme
    pixels would otherwise leave every edge pale), so positive and negative responses show in two colours.
    ``white``: the picture's value drawn white (1 for [0, 1] pictures, 255 for 8-bit ones)."""
    H, W = res.out.shape
    k = res.kernel.shape[0]
    r, c = res.cell(step)
    p = k // 2
    m = robust_range(res.out)
    pic = np.clip(np.round(res.image * (255 / white)), 0, 255).astype(np.uint8)  # (H, W)
    half = (1 - GAP) / 2
    # horizontal, above the output's title: the pictures keep the whole width and the top of the figure, whatever
    # their aspect (a vertical bar beside a short picture would hang below it)
    bar = dict(title=dict(text=out_title, side="right"), orientation="h", thickness=12, len=half, lenmode="fraction",
               x=1.0, xanchor="right", xref="paper", y=1.0, yanchor="top", yref="container", ticks="outside",
               tickfont=dict(size=13))
    data = [
        dict(type="heatmap", z=to_typed_array_spec(pic), zmin=0, zmax=255, colorscale=PICTURE_SCALE, showscale=False,
             xaxis="x", yaxis="y", name="picture",
             hovertemplate="row %{y}, col %{x}: %{z}<extra>picture (0-255)</extra>"),
        dict(type="heatmap", z=to_typed_array_spec(res.out.astype(np.float32)), zmin=-m, zmax=m, zmid=0,
             colorscale=DIVERGING, showscale=True, colorbar=bar, xaxis="x2", yaxis="y2", name="output",
             hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra>output</extra>"),
    ]
    mark = max(2.5, p + 0.5)  # the output cell: a box a few pixels wide, so one pixel can be seen
    shapes = [_rect(c - p - 0.5, r - p - 0.5, c + p + 0.5, r + p + 0.5, COLOURS["window"], 3),
              _rect(c - mark, r - mark, c + mark, r + mark, COLOURS["window"], 3, "2")]
    ring = dict(symbol="circle-open", size=26, color=COLOURS["window"], line=dict(width=3))  # finds the box
    data += [dict(type="scatter", x=[c], y=[r], xaxis=ax, yaxis=ay, mode="markers", marker=ring, hoverinfo="skip",
                  showlegend=False) for ax, ay in (("x", "y"), ("x2", "y2"))]
    head = dict(size=18, color=COLOURS["text"])
    notes = [dict(text=f"picture {H}×{W}", x=0, xanchor="left", y=1.0, xref="x domain", yref="y domain",
                  yanchor="bottom", showarrow=False, font=head),
             dict(text=f"{out_title}, {res.mode} padding", x=0, xanchor="left", y=1.0, xref="x2 domain",
                  yref="y2 domain", yanchor="bottom", showarrow=False, font=head)]
    layout = dict(
        height=height, margin=dict(l=4, r=4, t=(60 if title else 30) + BAR_PX, b=4), plot_bgcolor="white",
        title=dict(text=title, x=0, xanchor="left", font=dict(size=18)) if title else None,
        # square pixels; the spare room goes below the pictures, not between them and the controls
        xaxis=_axis([0, half], "y", range=[-0.5, W - 0.5], constrain="domain", constraintoward="left"),
        yaxis=_axis([0, 1], "x", range=[H - 0.5, -0.5], scaleanchor="x", constrain="domain", constraintoward="top"),
        xaxis2=_axis([1 - half, 1], "y2", range=[-0.5, W - 0.5], constrain="domain", constraintoward="left"),
        yaxis2=_axis([0, 1], "x2", range=[H - 0.5, -0.5], scaleanchor="x2", constrain="domain",
                     constraintoward="top"),
        shapes=shapes, annotations=notes, showlegend=False)
    return Prebuilt(dict(data=data, layout={k: v for k, v in layout.items() if v is not None}))


def _grid(z, x0: float, colours, zmin, zmax, text, zmid=None) -> list[dict]:
    k = len(z)
    heat = dict(type="heatmap", z=[list(map(float, row)) for row in z], x0=x0, dx=1, y0=0, dy=1, colorscale=colours,
                zmin=zmin, zmax=zmax, showscale=False, xgap=2, ygap=2, hoverinfo="skip")
    if zmid is not None:
        heat["zmid"] = zmid
    xs = [x0 + j for i in range(k) for j in range(k)]
    ys = [i for i in range(k) for _ in range(k)]
    size = 13 if k <= 3 else 12 if k <= 5 else 10  # presenter mode lifts them to 16 px (wider cells there)
    words = dict(type="scatter", mode="text", x=xs, y=ys, text=text, hoverinfo="skip", showlegend=False,
                 textfont=dict(size=size, color=COLOURS["text"]))
    return [heat, words]


def _num(v) -> str:
    return f"{float(v):.5g}".replace("-", "−")


def window_figure(res: KernelResult, step: int, height: int = 250, white: float = 1.0) -> Prebuilt:
    """The zoom on the window at ``step``: what it covers (greys), × the kernel, = the products (diverging, centred
    on 0), and their sum, which is the output cell (for the Sobel magnitude: Gx from these products, Gy and
    √(Gx² + Gy²))."""
    w = res.window(step)
    k = res.kernel.shape[0]
    gap = 0.8
    pm = float(np.abs(w.products).max()) or 1.0
    km = float(np.abs(res.kernel).max()) or 1.0
    data = (_grid(w.values, 0, [[0, "#000000"], [1, "#ffffff"]], 0, white, [""] * (k * k))
            + _grid(res.kernel, k + gap, DIVERGING, -km, km, [fmt(v) for v in res.kernel.ravel()], 0)
            + _grid(w.products, 2 * (k + gap), DIVERGING, -pm, pm, [fmt(v) for v in w.products.ravel()], 0))
    # the window's values as text over its greys: white on dark pixels, dark on light ones
    data[1]["text"] = [fmt(v) for v in w.values.ravel()]
    data[1]["textfont"]["color"] = ["white" if v < white / 2 else COLOURS["text"] for v in w.values.ravel()]
    labels = [("window", 0), ("× kernel", k + gap), ("= products", 2 * (k + gap))]
    ann = [dict(text=t, x=x0 + (k - 1) / 2, y=-0.6, xref="x", yref="y", yanchor="bottom", showarrow=False,
                font=dict(size=15)) for t, x0 in labels]
    if w.gx is not None:
        total = f"Gx = Σ = {_num(w.total)}, Gy = {_num(w.gy)}<br>√(Gx² + Gy²) = {_num(res.out[w.row, w.col])}"
    else:
        total = f"Σ products = {_num(w.total)} = output[{w.row}, {w.col}]"
    span = 3 * k + 2 * gap
    frames = [dict(type="rect", xref="x", yref="y", x0=x0 + j - 0.5, x1=x0 + j + 0.5, y0=i - 0.5, y1=i + 0.5,
                   line=dict(color="#b0b0b0", width=1), layer="below")  # white cells keep their edges
              for _, x0 in labels for i in range(k) for j in range(k)]
    top = 84 if w.gx is not None else 64
    layout = dict(height=height + top - 64, margin=dict(l=4, r=4, t=top, b=4), plot_bgcolor="white", showlegend=False,
                  title=dict(text=f"step {w.step:,}: row {w.row}, column {w.col}<br>{total}", x=0, xanchor="left",
                             font=dict(size=16)),
                  xaxis=dict(range=[-0.6, span - 0.4], visible=False, fixedrange=True),
                  yaxis=dict(range=[k - 0.5, -0.9], visible=False, scaleanchor="x", fixedrange=True),
                  annotations=ann, shapes=frames)
    return Prebuilt(dict(data=data, layout=layout))
