"""Figures for the transposed-convolution, multi-channel and pitfalls tabs: pure functions, traces in, figures out.

Numbered heatmaps (one panel per grid) with the cells of the current step outlined, sized for a projector.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.animation.extra import ChannelTrace, StampTrace
from cnnviz.figures.animation import COLOURS, DIVERGING, INPUT_SCALE, fmt, out_range

CELL = 44                    # pixels per grid cell: the figure gets an explicit size so cells stay square
GAP_PX = 70                  # pixels between panels
FONT = dict(size=16, color=COLOURS["text"])
COUNTS = [[0, "#fff5f0"], [1, "#f768a1"]]  # light enough for black numbers on the darkest cell


def _panels(titles, widths):
    """1 × n subplots whose widths are proportional to the grids' column counts, with a fixed gap in pixels."""
    total = sum(widths) * CELL + GAP_PX * (len(widths) - 1)
    fig = make_subplots(1, len(widths), subplot_titles=titles, column_widths=list(widths),
                        horizontal_spacing=GAP_PX / total if len(widths) > 1 else 0.0)
    fig.update_layout(width=total + 20)
    return fig


def _grid(fig, z, col, scale, text=None, zmid=None, showscale=False, signed=None):
    """``signed``: the whole output (every step) whose ±max|value| fixes a diverging scale centred on 0, with its
    colour bar; the numbers' colour is then left to plotly (dark on light cells, white on saturated ones)."""
    z = np.asarray(z, dtype=float)
    text = [[fmt(v) for v in row] for row in z] if text is None else text
    kw, font = (dict(zmid=zmid) if zmid is not None else {}), FONT
    if signed is not None:
        m = out_range(signed)
        scale, showscale, font = DIVERGING, True, dict(size=FONT["size"])
        # the bar in the gap right of its own panel (a panel may follow: the stamp counts of the transposed view)
        right = fig.layout[f"xaxis{col if col > 1 else ''}"].domain[1]
        kw = dict(zmin=-m, zmax=m, zmid=0, colorbar=dict(title=dict(text="output", font=dict(size=14)), x=right,
                                                         xanchor="left", xpad=6, thickness=12, tickfont=dict(size=12)))
    fig.add_trace(go.Heatmap(z=z, text=text, texttemplate="%{text}", textfont=font, colorscale=scale,
                             showscale=showscale, xgap=2, ygap=2, hoverinfo="skip", **kw), 1, col)
    fig.update_xaxes(visible=False, range=[-0.6, z.shape[1] - 0.4], scaleanchor=f"y{col if col > 1 else ''}",
                     row=1, col=col)
    fig.update_yaxes(visible=False, autorange="reversed", row=1, col=col)


def _outline(fig, cells, col, colour, width=4):
    xs, ys = [], []
    for r, c in cells:
        xs += [c - 0.5, c + 0.5, c + 0.5, c - 0.5, c - 0.5, None]
        ys += [r - 0.5, r - 0.5, r + 0.5, r + 0.5, r - 0.5, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=width), hoverinfo="skip",
                             showlegend=False), 1, col)


def _finish(fig, rows):
    fig.update_layout(height=int(rows * CELL + 60), margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white",
                      font=dict(size=16, color=COLOURS["text"]), showlegend=False)
    fig.update_annotations(font=dict(size=18))
    return fig


def transposed_figure(t: StampTrace, k: int) -> go.Figure:
    """Step ``k`` (0-based) of the scatter: input (cell k outlined) | its stamp x·w | output after k+1 stamps
    (the stamped cells outlined) | how many stamps hit each output cell."""
    s = t[k]
    stamp = (s.value * t.weight).round(4)
    titles = (f"in({s.inp[0]},{s.inp[1]}) = {fmt(s.value)}", f"{fmt(s.value)} × kernel",
              f"Output after {k + 1} of {len(t)}",
              "Stamps per cell")
    fig = _panels(titles, [max(3, t.x.shape[1]), max(3, t.weight.shape[1]), t.out_shape[1], t.out_shape[1]])
    _grid(fig, t.x, 1, INPUT_SCALE)
    _outline(fig, [s.inp], 1, COLOURS["window"])
    _grid(fig, stamp, 2, [[0, COLOURS["kernel_bg"]], [1, COLOURS["kernel_bg"]]])
    every = np.stack([t.partial(j) for j in range(1, len(t) + 1)])  # range over every step: colours keep meaning
    _grid(fig, t.partial(k + 1), 3, None, signed=every)
    _outline(fig, [rc for rc, ok in zip(s.targets, s.inside) if ok], 3, COLOURS["out"])
    _grid(fig, t.counts, 4, COUNTS, text=[[str(v) for v in row] for row in t.counts])
    _outline(fig, [rc for rc, ok in zip(s.targets, s.inside) if ok], 4, COLOURS["window"], 2)
    return _finish(fig, max(t.x.shape[0], t.weight.shape[0], t.out_shape[0]))


def counts_figure(counts: dict[str, np.ndarray]) -> go.Figure:
    """Side-by-side overlap-count heatmaps, e.g. {"k=3, s=2": ..., "k=4, s=2": ...}."""
    fig = _panels(list(counts), [c.shape[1] for c in counts.values()])
    for i, c in enumerate(counts.values(), 1):
        _grid(fig, c, i, COUNTS, text=[[str(v) for v in row] for row in c])
    return _finish(fig, max(c.shape[0] for c in counts.values()))


def untouched_figure(shape, cells, k: int, p: int = 0) -> go.Figure:
    """The input with the cells no window reads (red ✕) and the first k×k window, padding p (outlined)."""
    window0 = [(r - p, c - p) for r in range(k) for c in range(k)]
    z = np.zeros(shape)
    for r, c in cells:
        z[r, c] = 1
    text = [["✕" if z[r, c] else "" for c in range(shape[1])] for r in range(shape[0])]
    fig = _panels([f"{len(cells)} of {z.size} cells never read (✕)"], [max(shape[1], 7)])
    _grid(fig, z, 1, [[0, "#deebf7"], [1, "#fb6a4a"]], text=text)
    _outline(fig, [rc for rc in window0 if 0 <= rc[0] < shape[0] and 0 <= rc[1] < shape[1]], 1, COLOURS["window"])
    return _finish(fig, shape[0])


def padding_figure(shape, lo: int, hi: int) -> go.Figure:
    """The input (blue) inside its 'same' padding ring (grey): lo cells before, hi after on each axis."""
    H, W = shape
    z = np.zeros((H + lo + hi, W + lo + hi))
    z[lo:lo + H, lo:lo + W] = 1
    text = [["0" if v == 0 else "x" for v in row] for row in z]
    fig = _panels([f"pad {lo} before, {hi} after"], [max(z.shape[1], 6)])
    _grid(fig, z, 1, [[0, COLOURS["pad"]], [1, "#9ecae1"]], text=text)
    return _finish(fig, z.shape[0])


def channels_figure(t: ChannelTrace, k: int, names: list[str] | None = None) -> go.Figure:
    """Step ``k``: each channel with the window outlined and its partial sum, then the output cell they make.
    ``names``: what to call the channels (default "channel c"; the 3-D view's are depth slices)."""
    s = t[k]
    C = len(t.channels)
    names = names or [f"channel {c}" for c in range(C)]
    titles = [f"{name}: Σ = {fmt(p)}" for name, p in zip(names, s.partials)]
    titles.append(f"Output: {' + '.join(fmt(p) for p in s.partials)}" + (f" + {fmt(t.bias)}" if t.bias else "")
                  + f" = {fmt(s.value)}")
    fig = _panels(titles, [*(ch.padded.shape[1] for ch in t.channels), max(t.out_shape[1], 6)])
    for c, ch in enumerate(t.channels, 1):
        (ph, pw) = ch.pad_lo
        blank = not ch.padded.any()  # a slice of zeros (the 3-D view's depth padding): grey, as padding is drawn
        _grid(fig, ch.padded, c, [[0, "#e3e3e3"], [1, "#e3e3e3"]] if blank else INPUT_SCALE)
        _outline(fig, [(r + ph, q + pw) for r, q in s.window], c, COLOURS["window"], 3)
    out = np.full(t.out_shape, np.nan)
    for st_ in t[:k + 1]:
        out[st_.out] = st_.value
    _grid(fig, out, C + 1, None, signed=np.array([st_.value for st_ in t]))
    _outline(fig, [s.out], C + 1, COLOURS["out"])
    return _finish(fig, max(t.channels[0].padded.shape[0], t.out_shape[0]))
