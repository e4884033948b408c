"""The Network Explorer's overview: the whole network as columns of feature-map thumbnails, faint lines between
connected channels, residual connections as arcs, the column labels (names above, shapes below, staggered when
they would collide) and the class probabilities; the selected neuron outlined with its in-edges bold.
Pure: an :class:`cnnviz.explorer.Overview` in, a plotly dict or ``go.Figure`` out (re-exported by
:mod:`cnnviz.figures.network`)."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.colors import get_colorscale

from cnnviz.explorer import Overview
from cnnviz.io.text import plot_text
from .features import FONT, MAPS

T, GX, GY = 1.0, 1.5, 0.3          # thumbnail side, gap between columns, gap between thumbnails (axis units)
FAINT, BOLD, ARC = "rgba(110,110,110,0.22)", "#d55e00", "#e69f00"
GREY = "gray"  # every grey picture of the Explorer: black = low, white = high (as an image is drawn)
GREY_SCALE, MAPS_SCALE = get_colorscale(GREY), get_colorscale(MAPS)  # spelled out: plotly.js knows no "gray"


def _thumb(m: torch.Tensor) -> torch.Tensor:
    """(H, W) -> between 8 and 16 rows for the overview: small maps repeated by a whole factor, large ones
    average-pooled (each cell stays one square)."""
    h, w = m.shape
    if max(h, w) > 16:
        return F.adaptive_avg_pool2d(m[None, None], (min(h, 16), min(w, 16)))[0, 0]
    f = max(1, math.ceil(8 / max(h, w)))
    return m.repeat_interleave(f, 0).repeat_interleave(f, 1)


class _Grid:
    """Where each column's thumbnails sit (y grows downward). A column is one heatmap: its thumbnails stacked
    with whole rows of NaN between them, so the gap is a little different from column to column."""

    def __init__(self, ov: Overview, max_channels: int):
        self.shown = [min(c.maps.shape[0], max_channels) for c in ov.columns]
        self.px = [_thumb(c.maps[0]).shape[0] for c in ov.columns]
        self.gap = [max(1, round(GY * p)) / p for p in self.px]
        self.rows = max(self.shown)

    def x(self, c: int) -> float:
        return c * (T + GX)

    def y(self, c: int, k: int) -> float:
        return (self.rows * (T + GY) - self.shown[c] * (T + self.gap[c])) / 2 + k * (T + self.gap[c])

    def mosaic(self, maps: torch.Tensor, c: int) -> np.ndarray:
        """The column's shown channels (C, H, W) as one (rows, cols) array with NaN gap rows."""
        tiles = [_thumb(maps[k]) for k in range(self.shown[c])]
        h, w = tiles[0].shape
        gap = round(self.gap[c] * h)
        z = np.full((len(tiles) * (h + gap) - gap, w), np.nan)
        for k, t in enumerate(tiles):
            z[k * (h + gap):k * (h + gap) + h] = t.numpy()
        return np.round(z, 3)


def _linked(a: int, b: int, cs: int, cd: int, groups: int) -> bool:
    """Does output channel b (of cd) read input channel a (of cs)? groups=1: all; groups=cd: one to one."""
    return groups == 1 or (a * groups) // max(cs, 1) == (b * groups) // max(cd, 1)


def _xy(xs: list, ys: list) -> dict:
    """Coordinates with None breaks as float arrays (NaN breaks the line as None does; arrays validate fast)."""
    return dict(x=np.round(np.array(xs, dtype=float), 3), y=np.round(np.array(ys, dtype=float), 3))


def _arc(x0: float, x1: float, top: float, rise: float) -> tuple[list, list]:
    t = np.linspace(0, 1, 24)
    return list(x0 + (x1 - x0) * t) + [None], list(top - rise * 4 * t * (1 - t)) + [None]


def _edges(ov: Overview, g: _Grid, c: int, src: int, only: int | None = None) -> tuple[list, list, bool]:
    """Line segments from column ``src`` into column ``c`` (only into channel ``only`` when given), and
    whether they are an arc (a connection that skips columns: residual)."""
    col, s = ov.columns[c], ov.columns[src]
    if src != c - 1:  # an arc above the column labels
        rise = 0.6 + 0.35 * (c - src)
        return (*_arc(g.x(src) + T / 2, g.x(c) + T / 2, min(g.y(src, 0), g.y(c, 0)) - 2.2, rise), True)
    xs, ys = [], []
    for b in range(g.shown[c]) if only is None else [only]:
        for a in range(g.shown[src]):
            if _linked(a, b, s.maps.shape[0], col.maps.shape[0], col.groups):
                xs += [g.x(src) + T, g.x(c), None]
                ys += [g.y(src, a) + T / 2, g.y(c, b) + T / 2, None]
    return xs, ys, False


def _rgb_name(col, k: int) -> str:
    """" (R)", " (G)", " (B)" after an RGB input's channel k; nothing for any other column."""
    return f" ({'RGB'[k]})" if col.kind == "input" and col.maps.shape[0] == 3 else ""


def overview_spec(ov: Overview, classes: tuple[str, ...], max_channels: int = 8, width: int = 1150) -> dict:
    """The overview without a selection as a plain plotly dict (``data``, ``layout``): columns of feature-map
    thumbnails (one colour range per column), faint lines between connected channels, residual connections as
    arcs, and the class probabilities on the right. Invisible markers on the thumbnails make them clickable
    (customdata = [column, channel]). Plain dicts: the page caches this once per image and adds
    :func:`selection_traces` per click (validating 40 traces per click cost 150 ms)."""
    g = _Grid(ov, max_channels)
    traces = []
    faint, arcs = ([], []), ([], [])
    for c, col in enumerate(ov.columns):
        for src in col.inputs:
            xs, ys, arc = _edges(ov, g, c, src)
            (arcs if arc else faint)[0].extend(xs)
            (arcs if arc else faint)[1].extend(ys)
    traces.append(dict(type="scatter", **_xy(*faint), mode="lines", line=dict(color=FAINT, width=0.7),
                       hoverinfo="skip", showlegend=False))
    traces.append(dict(type="scatter", **_xy(*arcs), mode="lines", line=dict(color=ARC, width=2.5),
                       hoverinfo="skip", name="residual connection", showlegend=bool(arcs[0])))
    mx, my, data, text, notes = [], [], [], [], []
    sizes = ["×".join(map(str, col.shape)) + (f" +{col.maps.shape[0] - k}" if col.maps.shape[0] > k else "")
             for col, k in zip(ov.columns, g.shown)]  # "16×28×28 +8": wider than a column, so staggered below
    stagger = max(map(len, sizes)) > 9
    for c, col in enumerate(ov.columns):
        z = g.mosaic(col.maps, c)
        traces.append(dict(type="heatmap", z=z, x0=g.x(c) + T / z.shape[1] / 2, dx=T / z.shape[1],
                           y0=g.y(c, 0) + T / g.px[c] / 2, dy=T / g.px[c], zmin=col.lo,
                           zmax=col.hi if col.hi > col.lo else col.lo + 1,
                           colorscale=GREY_SCALE if col.kind == "input" else MAPS_SCALE, showscale=False,
                           hoverinfo="skip"))
        for k in range(g.shown[c]):
            mx.append(g.x(c) + T / 2)
            my.append(g.y(c, k) + T / 2)
            data.append([c, k])
            text.append(f"{col.name}<br>{col.path or col.kind} · channel {k}{_rgb_name(col, k)}<br>"
                        f"{'×'.join(map(str, col.shape))}, range {col.lo:.2f}…{col.hi:.2f}")
        lift = 0.7 * (c % 2) if len(ov.columns) > 14 else 0  # many columns: labels staggered, never overlapping
        drop = 0.5 * (c % 2) if stagger else 0  # long shape labels: every other one a line lower
        notes.append((g.x(c) + T / 2, g.y(c, 0) - 0.1 - lift, col.name.replace(" · ", "<br>"),
                      g.y(c, g.shown[c] - 1) + T + 0.1 + lift + drop, sizes[c]))
    if ov.columns[0].maps.shape[0] == 3:  # an RGB input: its three thumbnails named (issue 33)
        traces.append(dict(type="scatter", x=[g.x(0) - 0.08] * 3, y=[g.y(0, k) + T / 2 for k in range(3)],
                           text=["R", "G", "B"], mode="text", textposition="middle left", hoverinfo="skip",
                           textfont=dict(size=13), showlegend=False))
    x, top, names, bottom, shapes = zip(*notes)  # labels as text traces: 40 annotations validate slowly
    traces.append(dict(type="scatter", x=list(x), y=list(top), text=list(names), mode="text",
                       textposition="top center", hoverinfo="skip", textfont=dict(size=11), showlegend=False))
    traces.append(dict(type="scatter", x=list(x), y=list(bottom), text=list(shapes), mode="text",
                       textposition="bottom center", hoverinfo="skip", textfont=dict(size=10, color="#555"),
                       showlegend=False))
    traces.append(dict(type="scatter", x=np.round(mx, 3), y=np.round(my, 3), mode="markers", customdata=data,
                       text=text, name="", marker=dict(size=22, color="rgba(0,0,0,0)", symbol="square"),
                       showlegend=False, hovertemplate="%{text}<extra></extra>"))
    top = int(np.argmax(ov.probabilities))
    # the percentages level and outside a short bar (inside a long one): "auto" turned a narrow bar's "28%" on
    # its side
    traces.append(dict(type="bar", x=ov.probabilities, y=[plot_text(n) for n in classes], orientation="h",
                       showlegend=False, marker_color=["#e69f00" if i == top else "#9ecae1"
                                                       for i in range(len(classes))],
                       text=[f"{p:.0%}" for p in ov.probabilities], textangle=0, cliponaxis=False,
                       textposition=["inside" if p >= 0.55 else "outside" for p in ov.probabilities],
                       insidetextanchor="middle", constraintext="none",  # presenter fonts: never dropped
                       hovertemplate="%{y}: %{x:.1%}<extra></extra>", xaxis="x2", yaxis="y2"))
    n = len(ov.columns)
    # the class names stand left of the bars: long ones ("T-shirt/top") get room there, not over the last column
    right = min(0.85, 0.88 - (8 * max((len(c) for c in classes), default=1) + 10) / width)
    unit = right * width / (g.x(n - 1) + T + 1.2)  # pixels per axis unit
    arc_room = 3.2 + 0.35 * max((c - s for c, col in enumerate(ov.columns) for s in col.inputs), default=1)
    height = int(min(900, max(360, unit * (g.rows * (T + GY) + arc_room + 1.8) + 60)))
    return dict(data=traces, layout=dict(
        xaxis=dict(domain=[0, right], visible=False, range=[-0.6, g.x(n - 1) + T + 0.6]),
        yaxis=dict(visible=False, autorange="reversed"),
        xaxis2=dict(domain=[0.88, 1], range=[0, 1], tickformat=".0%", anchor="y2"),
        yaxis2=dict(autorange="reversed", type="category", anchor="x2"),
        height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT, plot_bgcolor="white",
        title=dict(text="Input → every layer → class probabilities", font=dict(size=15)),
        legend=dict(orientation="h", y=-0.02, x=0), clickmode="event+select", dragmode=False))


def selection_traces(ov: Overview, selected: tuple[int, int] | None, max_channels: int = 8) -> list[dict]:
    """The selected neuron's thumbnail outlined and its in-edges bold (plain dicts), or nothing."""
    g = _Grid(ov, max_channels)
    if selected is None or not (selected[0] < len(ov.columns) and selected[1] < g.shown[selected[0]]):
        return []
    c, k = selected
    bx, by = [], []
    for src in ov.columns[c].inputs:
        xs, ys, _ = _edges(ov, g, c, src, only=k)
        bx += xs
        by += ys
    x0, y0 = g.x(c) - 0.08, g.y(c, k) - 0.08
    bx += [x0, x0 + T + 0.16, x0 + T + 0.16, x0, x0, None]
    by += [y0, y0, y0 + T + 0.16, y0 + T + 0.16, y0, None]
    return [dict(type="scatter", **_xy(bx, by), mode="lines", line=dict(color=BOLD, width=3), hoverinfo="skip",
                 name="selected neuron and its inputs")]


def with_selection(spec: dict, extra: list[dict]) -> go.Figure:
    """``spec`` (a cached :func:`overview_spec`) plus ``extra`` traces, the clickable markers and the bars kept
    last (on top), as a figure built without plotly's per-property validation (the spec was validated when
    :func:`overview_figure` built it in the tests; validating it again per click is most of a click's cost)."""
    data = spec["data"]
    return go.Figure(dict(data=[*data[:-2], *extra, *data[-2:]], layout=spec["layout"]), _validate=False)


def overview_figure(ov: Overview, classes: tuple[str, ...], selected: tuple[int, int] | None = None,
                    max_channels: int = 8, px: int = 12, width: int = 1150) -> go.Figure:
    """:func:`overview_spec` with the selected neuron (:func:`selection_traces`), as a validated figure."""
    spec = overview_spec(ov, classes, max_channels, width)
    data = spec["data"]
    return go.Figure(dict(data=[*data[:-2], *selection_traces(ov, selected, max_channels), *data[-2:]],
                          layout=spec["layout"]))
