"""The geometry picture: input grid with its padding ring, one kernel footprint (with dilation gaps), and
the output grid with the cell that footprint writes. Pure: geometry in, ``go.Figure`` out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from cnnviz.figures.subplots import axes as subplot_axes, row_layout
from cnnviz.geometry.arithmetic import ConvGeometry, PoolGeometry
from cnnviz.geometry.padding import transposed_as_direct

MAX_CELLS = 96  # per axis; larger grids are summarised instead of drawn cell by cell

# category -> (label, colour); colour-blind safe (Okabe–Ito) and readable on a projector
CATEGORIES = [
    ("padding", "#d9d9d9"),
    ("input", "#9ecae1"),
    ("inserted zero (stride of the transposed conv)", "#ffffff"),
    ("kernel tap on padding", "#cc79a7"),
    ("kernel tap on input", "#e69f00"),
    ("output", "#a1d99b"),
    ("output cell this window writes", "#d55e00"),
]
IDX = {name: i for i, (name, _) in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class Axis:
    """One axis of the equivalent *direct* convolution drawn (a transposed conv is redrawn as one)."""

    size: int
    pad_lo: int
    pad_hi: int
    kernel: int
    dilation: int
    stride: int
    out: int
    insert: int = 0  # zeros inserted between input cells (s − 1 for a transposed conv)

    @property
    def grid(self) -> int:
        return self.pad_lo + self.size + (self.size - 1) * self.insert + self.pad_hi


def conv_axes(g: ConvGeometry) -> list[Axis]:
    axes = []
    for ax in range(g.dims):
        i, k, s, d = g.spatial_in[ax], g.kernel[ax], g.stride[ax], g.dilation[ax]
        if g.transposed:  # Dumoulin & Visin §4: stride-1 conv over the input with s−1 zeros between cells
            lo, hi, insert = transposed_as_direct(k, s, g.pad_lo[ax], d, g.output_padding[ax])
            axes.append(Axis(i, lo, hi, k, d, 1, g.spatial_out[ax], insert=insert))
        else:
            axes.append(Axis(i, g.pad_lo[ax], g.pad_hi[ax], k, d, s, g.spatial_out[ax]))
    return axes


def pool_axes(g: PoolGeometry) -> list[Axis]:
    return [Axis(i, p, p, k, d, s, o) for i, p, k, d, s, o in
            zip(g.spatial_in, g.padding, g.kernel, g.dilation, g.stride, g.spatial_out)]


def _input_categories(ax: Axis) -> np.ndarray:
    """1-D category per grid cell before the kernel is drawn."""
    cat = np.full(max(ax.grid, 1), IDX["padding"])
    for n in range(ax.size):
        pos = ax.pad_lo + n * (ax.insert + 1)
        if 0 <= pos < ax.grid:
            cat[pos] = IDX["input"]
        for z in range(1, ax.insert + 1):
            if n < ax.size - 1 and 0 <= pos + z < ax.grid:
                cat[pos + z] = IDX["inserted zero (stride of the transposed conv)"]
    return cat


def geometry_figure(axes: list[Axis], title: str, step: tuple[int, int] = (0, 0)) -> go.Figure:
    """Draw the last two axes (a 1-D layer as one row). ``step`` picks which output cell's window to show."""
    if len(axes) == 1:
        axes = [Axis(1, 0, 0, 1, 1, 1, 1), axes[0]]
    rows, cols = axes[-2], axes[-1]
    if max(rows.grid, cols.grid, rows.out, cols.out) > MAX_CELLS:
        fig = go.Figure()
        fig.add_annotation(text=f"Too large to draw cell by cell (more than {MAX_CELLS} cells per side)",
                           showarrow=False, font=dict(size=18))
        fig.update_layout(height=200, xaxis_visible=False, yaxis_visible=False, margin=dict(t=30, b=10))
        return fig
    r0, c0 = min(step[0], rows.out - 1), min(step[1], cols.out - 1)
    rc, cc = _input_categories(rows)[:, None], _input_categories(cols)[None, :]
    pad, zero = IDX["padding"], IDX["inserted zero (stride of the transposed conv)"]
    grid_in = np.where((rc == pad) | (cc == pad), pad, np.where((rc == zero) | (cc == zero), zero, IDX["input"]))
    for a in range(rows.kernel):
        for b in range(cols.kernel):
            r, c = r0 * rows.stride + a * rows.dilation, c0 * cols.stride + b * cols.dilation
            if 0 <= r < grid_in.shape[0] and 0 <= c < grid_in.shape[1]:
                on_input = grid_in[r, c] == IDX["input"]
                grid_in[r, c] = IDX["kernel tap on input" if on_input else "kernel tap on padding"]
    grid_out = np.full((rows.out, cols.out), IDX["output"])
    grid_out[r0, c0] = IDX["output cell this window writes"]

    # One constructor call (row_layout: make_subplots' layout, ~45 ms a rerun less; the same JSON): Conv
    # Arithmetic draws this figure on every rerun.
    n = len(CATEGORIES)
    colorscale = [[j / n, colour] for i, (_, colour) in enumerate(CATEGORIES) for j in (i, i + 1)]
    labels = np.array([name for name, _ in CATEGORIES])
    data = [dict(type="heatmap", z=grid, zmin=0, zmax=n, colorscale=colorscale, showscale=False, xgap=2, ygap=2,
                 text=labels[grid], hovertemplate="row %{y}, col %{x}: %{text}<extra></extra>",
                 xaxis=subplot_axes(i)[0], yaxis=subplot_axes(i)[1]) for i, grid in enumerate((grid_in, grid_out))]
    data += [dict(type="scatter", x=[None], y=[None], mode="markers", name=name,
                  marker=dict(size=14, symbol="square", color=colour, line=dict(color="#555", width=1)))
             for name, colour in CATEGORIES  # legend entries only for categories present
             if (grid_in == IDX[name]).any() or (grid_out == IDX[name]).any()]
    plain = dict(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    layout = row_layout([f"Input {rows.size}×{cols.size} with padding → {grid_in.shape[0]}×{grid_in.shape[1]}",
                         f"Output {rows.out}×{cols.out}"], widths=[grid_in.shape[1], max(cols.out, 1)],
                        xaxis=plain, yaxis=dict(autorange="reversed", **plain))
    layout["xaxis"]["scaleanchor"], layout["xaxis2"]["scaleanchor"] = "y", "y2"  # square cells
    layout.update(title=dict(text=title), height=430, margin=dict(l=10, r=10, t=70, b=10), plot_bgcolor="white",
                  legend=dict(orientation="h", y=-0.05, font=dict(size=14)), font=dict(size=15))
    fig = go.Figure(dict(data=data, layout=layout))
    return fig


def tf_same_figure(size: int, before: int, after: int, kernel_size: int, stride: int, dilation: int,
                   out: int) -> go.Figure:
    """TF ``padding="same"`` on one axis: the padded input (padding grey) and the span of each of the ``out``
    windows (orange), one row per window."""
    n = before + size + after
    colours = ["#d9d9d9" if i < before or i >= before + size else "#9ecae1" for i in range(n)]
    fig = go.Figure(go.Bar(x=list(range(n)), y=[1] * n, marker_color=colours, width=0.9, showlegend=False,
                           hovertemplate="padded position %{x}<extra></extra>"))
    eff = dilation * (kernel_size - 1) + 1
    for j in range(out):
        x0 = j * stride
        fig.add_shape(type="rect", x0=x0 - 0.45, x1=x0 + eff - 0.55, y0=1.15 + 0.25 * j, y1=1.3 + 0.25 * j,
                      line=dict(width=0), fillcolor="#e69f00", opacity=0.85)
    fig.update_yaxes(visible=False, range=[0, 1.5 + 0.25 * out])
    fig.update_xaxes(title="position in the padded input (grey: padding)", dtick=1 if n <= 40 else None)
    fig.update_layout(title=f"{before} before + {size} input + {after} after: {out} windows (orange), stride {stride}",
                      height=360, plot_bgcolor="white", margin=dict(l=10, r=10, t=60, b=10), font=dict(size=16))
    return fig
