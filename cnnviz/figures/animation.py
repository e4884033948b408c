"""The sliding-window animation: input (with its real padding ring) | window values × kernel | output.

Pure: a :class:`cnnviz.animation.Trace` in, ``go.Figure`` out. The grids and their numbers are sent once; each
plotly frame updates only the highlight traces (window outline, the per-tap terms, the equation, the output
cell and the output values written so far), so the JSON stays small. Play / Pause / Step back / Step / speed
buttons and a step slider live inside the figure and run in the browser (cnnviz/figures/animation_controls.py).
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from cnnviz.animation.conv2d import Trace
from cnnviz.figures.animation_controls import SPEED_MS, STEP, STEP_BACK, controls, frame_menus, goto, slider
from cnnviz.figures.prebuilt import Prebuilt

__all__ = ["CELL_PX", "COLOURS", "DIVERGING", "INPUT_SCALE", "SPEED_MS", "STEP", "STEP_BACK", "animation_figure", "fmt",
           "goto", "out_range", "out_text_colours", "output_heatmap", "readout"]  # the controls' names re-exported

CELL_PX = 46                 # pixel height of one grid cell: numbers readable on a projector
FILL_LIMIT = 400             # above this many steps the output is shown filled from the start (JSON size)
GAP = 1.5                    # grid units between the three panels
COLOURS = dict(window="#e69f00", out="#d55e00", argmax="#cc0000", pad="#e3e3e3", pad_text="#555555",
               out_bg="#e5f5e0", kernel_bg="#fdf0d5", text="#111111")
INPUT_SCALE = [[0, "#ffffff"], [1, "#8c8c8c"]]  # grey: blue means negative only on the output
# the output's diverging scale (RdBu reversed): negative blue, 0 white, positive red; centred on 0 with a symmetric
# range ±max|output| over the whole output, so a colour means the same value at every step
DIVERGING = [[0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1, "#b2182b"]]
DARK_FROM = 0.6              # |value| / max|output| from which a cell is dark enough for white numbers
TITLE_PX, BUTTONS_PX, SLIDER_PX = 44, 46, 50  # the bands above the grids: readout, Play buttons, step slider


def fmt(v: float) -> str:
    """Short number for a cell: 3 → '3', 0.1111 → '0.11', −∞ for max pooling's padding."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if math.isinf(v):
        return "−∞" if v < 0 else "∞"
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s.replace("-", "−")


def out_range(out: np.ndarray) -> float:
    """The symmetric colour range's half-width: max |finite output| (1 when all zero or none finite)."""
    a = np.abs(np.asarray(out, dtype=float))
    a = a[np.isfinite(a)]
    m = float(a.max()) if a.size else 0.0
    return m if m > 0 else 1.0


def out_text_colours(out: np.ndarray, m: float) -> list[str]:
    """Per cell (row-major): white numbers on saturated cells, dark ones on light cells."""
    return ["white" if math.isfinite(v) and abs(v) >= DARK_FROM * m else COLOURS["text"]
            for v in np.asarray(out, dtype=float).reshape(-1)]


def output_heatmap(z, m: float, bar_y: float = 1.0, **kw) -> dict:
    """The output's coloured cells: diverging scale centred on 0, range ±m, with its colour bar ("output"):
    horizontal, top right at ``bar_y`` (paper units; beside the Play buttons), so it takes no width from the grids."""
    bar = dict(title=dict(text="output", side="right"), orientation="h", thickness=14, len=0.32, x=1,
               xanchor="right", y=bar_y, yanchor="top", ypad=0, ticks="outside", tickfont=dict(size=13))
    return dict(z=z, zmin=-m, zmax=m, zmid=0, colorscale=DIVERGING, showscale=True, colorbar=bar,
                xgap=2, ygap=2, hoverinfo="skip", name="output values", **kw)


def _square(x: float, y: float, half: float = 0.5) -> list:
    return [x - half, x + half, x + half, x - half, x - half, None], [y - half, y - half, y + half, y + half,
                                                                      y - half, None]


def _nan_to_none(a: np.ndarray, digits: int = 4) -> list:
    return [[None if math.isnan(v) else round(float(v), digits) for v in row] for row in a]


def _colour_digits(m: float) -> int:
    """Decimals that keep 3 significant digits of ±m: enough for a colour, short in every frame's JSON."""
    return max(0, 2 - math.floor(math.log10(m)))


def _outline(cells, half=0.47):
    xs, ys = [], []
    for x, y in cells:
        a, b = _square(x, y, half)
        a, b = [None if v is None else round(v, 2) for v in a], [None if v is None else round(v, 2) for v in b]
        xs += a
        ys += b
    return xs, ys


class _Layout:
    """Where every cell goes in one shared coordinate system (y grows downward). Side by side (input | window ×
    kernel | output), or stacked when the input is one row (1-D): a long row then gets the full width."""

    def __init__(self, t: Trace):
        H, W = t.x.shape
        rows = [i for s in t for i, _ in s.window]
        cols = [j for s in t for _, j in s.window]
        self.r0, self.c0 = min(-t.pad_lo[0], *rows), min(-t.pad_lo[1], *cols)
        self.r1, self.c1 = max(H + t.pad_hi[0], *(r + 1 for r in rows)), max(W + t.pad_hi[1], *(c + 1 for c in cols))
        kh, kw = t.kernel
        self.zoom = 2 if max(kh, kw) <= 4 else 1            # the terms panel is drawn bigger: it carries the math
        self.stacked = H == 1
        if self.stacked:                                    # panels one under the other, titles in the gaps
            self.kx, self.ky = 0.0, (self.r1 - self.r0) + GAP + 0.5
            self.ox, self.oy = 0.0, self.ky + kh * self.zoom + 1 + GAP
            self.width = max(self.c1 - self.c0, kw * self.zoom + 8, t.out_shape[1])
            self.height = self.oy + t.out_shape[0]
        else:
            self.kx, self.ky = (self.c1 - self.c0) + GAP, 0.0  # left edge of the terms panel
            self.ox, self.oy = self.kx + kw * self.zoom + GAP, 0.0  # left edge of the output panel
            self.width = self.ox + t.out_shape[1]
            self.height = max(self.r1 - self.r0, kh * self.zoom + 1, t.out_shape[0])

    def inp(self, i, j):
        return j - self.c0, i - self.r0

    def term(self, a, e):
        return self.kx + (e + 0.5) * self.zoom - 0.5, self.ky + (a + 0.5) * self.zoom - 0.5

    def out(self, r, c):
        return self.ox + c, self.oy + r


def _cell(t: Trace, r: int, c: int) -> str:
    return f"out[{c}]" if getattr(t, "one_d", False) else f"out[{r},{c}]"


def _terms(t: Trace, s) -> tuple[list[str], str]:
    """Text per kernel tap and the equation line for one step."""
    r, c = s.out
    if t.kind == "conv":
        w = t.weight.reshape(-1)
        text = [f"{fmt(v)}×{fmt(k)}<br><b>{fmt(p)}</b>" for v, k, p in zip(s.inputs, w, s.products)]
        eq = f"{_cell(t, r, c)} = Σ products {fmt(sum(s.products))} + bias {fmt(t.bias)} = <b>{fmt(s.value)}</b>"
        return text, eq
    H, W = t.x.shape
    text = []
    for (i, j), v in zip(s.window, s.inputs):
        inside_pad = -t.pad_lo[0] <= i < H + t.pad_hi[0] and -t.pad_lo[1] <= j < W + t.pad_hi[1]
        pad_txt = ("−∞" if t.kind == "max" else "0") if inside_pad else "—"
        text.append(f"<b>{fmt(v)}</b>" if (i, j) == s.argmax else fmt(v) if not math.isnan(v) else pad_txt)
    if t.kind == "max":
        eq = f"{_cell(t, r, c)} = max of the window = <b>{fmt(s.value)}</b> (input {s.argmax[0]},{s.argmax[1]})"
    else:
        past = len(s.window) - s.divisor
        eq = (f"{_cell(t, r, c)} = sum {fmt(s.value * s.divisor)} / {s.divisor} cells (padding counted) "
              f"= <b>{fmt(s.value)}</b>" + (f"<br>ceil_mode: {past} cell(s) past the edge, not counted" if past else ""))
    return text, eq


def readout(t: Trace, k: int, shape: str) -> str:
    """The line above the grids for step k (0-based): which cell this step writes and its value, to 4 digits."""
    s = t[k]
    return (f"<b>Step {k + 1} of {len(t)}</b>: {_cell(t, *s.out)} = <b>{s.value:.4g}</b>".replace("-", "−")
            + f"   (output {shape})")


def _dynamic(t: Trace, L: _Layout, k: int, fill: bool) -> list[dict]:
    """The frame-varying traces for step k, as plain dicts (the same dicts go into the base figure)."""
    s = t[k]
    wx, wy = _outline([L.inp(i, j) for i, j in s.window])
    text, eq = _terms(t, s)
    ox, oy = _outline([L.out(*s.out)], 0.5)
    dyn = [dict(x=wx, y=wy), dict(text=text), dict(text=[eq]), dict(x=ox, y=oy)]
    if t.kind == "max":
        mx, my = L.inp(*s.argmax)
        a = s.window.index(s.argmax)
        tx, ty = L.term(*divmod(a, t.kernel[1]))
        dyn.append(dict(x=[mx, tx], y=[my, ty]))
    if fill:
        dyn.append(dict(text=[fmt(v) if n <= k else "" for n, v in enumerate(t.output.reshape(-1))]))
        # the output cells written so far, coloured: rows written so far, the last one cut after the current cell
        # (plotly draws missing cells as gaps: the pale background shows; a short z keeps the frames small)
        oh, ow = t.out_shape
        r, c = divmod(k, ow)
        z = _nan_to_none(t.output.reshape(oh, ow)[:r + 1], _colour_digits(out_range(t.output)))
        z[r] = z[r][:c + 1]
        dyn.append(dict(z=z))
    return dyn


def animation_figure(t: Trace, step: int = 0, speed_ms: int = 700, title: str = "") -> Prebuilt:
    """Figure for a trace, showing ``step`` (0-based) first; Play runs the frames from there. A ``Prebuilt``:
    ``.figure()`` is the same as a ``go.Figure``."""
    L, n = _Layout(t), len(t)
    step = max(0, min(int(step), n - 1))
    fill = n <= FILL_LIMIT
    H, W = t.x.shape
    (kh, kw), (oh, ow) = t.kernel, t.out_shape
    fig = go.Figure()

    # --- static: input values with the padding ring, the kernel grid, the output grid (sent once)
    ii, jj = np.meshgrid(np.arange(L.r0, L.r1), np.arange(L.c0, L.c1), indexing="ij")
    inside = (ii >= 0) & (ii < H) & (jj >= 0) & (jj < W)
    pr, pc = ii + t.pad_lo[0], jj + t.pad_lo[1]
    on_pad = ~inside & (pr >= 0) & (pr < t.padded.shape[0]) & (pc >= 0) & (pc < t.padded.shape[1])
    z = np.where(inside, t.padded[np.clip(pr, 0, t.padded.shape[0] - 1), np.clip(pc, 0, t.padded.shape[1] - 1)],
                 np.nan)
    fig.add_trace(go.Heatmap(x=np.arange(L.c1 - L.c0), y=np.arange(L.r1 - L.r0), z=_nan_to_none(z), colorscale=INPUT_SCALE,
                             showscale=False, xgap=2, ygap=2, hoverinfo="skip", name="input"))
    fig.add_trace(go.Heatmap(x=np.arange(L.c1 - L.c0), y=np.arange(L.r1 - L.r0), z=_nan_to_none(np.where(on_pad, 1.0, np.nan)),
                             colorscale=[[0, COLOURS["pad"]], [1, COLOURS["pad"]]], showscale=False, xgap=2, ygap=2,
                             hoverinfo="skip", name="padding"))
    pad_val = {"conv": None, "max": "−∞", "avg": "0"}[t.kind]
    txt, px, py, pad_txt, qx, qy = [], [], [], [], [], []
    for i, j in zip(ii.ravel(), jj.ravel()):
        x, y = L.inp(i, j)
        if 0 <= i < H and 0 <= j < W:
            txt.append(fmt(t.x[i, j])), px.append(x), py.append(y)
        elif on_pad[i - L.r0, j - L.c0]:
            pad_txt.append(pad_val or fmt(t.padded[i + t.pad_lo[0], j + t.pad_lo[1]])), qx.append(x), qy.append(y)
    font = dict(size=17, color=COLOURS["text"])
    fig.add_trace(go.Scatter(x=px, y=py, text=txt, mode="text", textfont=font, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=qx, y=qy, text=pad_txt, mode="text", hoverinfo="skip", showlegend=False,
                             textfont=dict(size=16, color=COLOURS["pad_text"])))
    kxs, kys = zip(*[L.term(a, e) for a in range(kh) for e in range(kw)])
    fig.add_trace(go.Heatmap(z=[[0] * kw] * kh, x0=L.kx + L.zoom / 2 - 0.5, dx=L.zoom, y0=L.ky + L.zoom / 2 - 0.5,
                             dy=L.zoom, colorscale=[[0, COLOURS["kernel_bg"]], [1, COLOURS["kernel_bg"]]],
                             showscale=False, xgap=3, ygap=3, hoverinfo="skip"))
    oxs, oys = zip(*[L.out(r, c) for r in range(oh) for c in range(ow)])
    fig.add_trace(go.Heatmap(z=[[0] * ow] * oh, x0=L.ox, dx=1, y0=L.oy, dy=1, showscale=False, xgap=2, ygap=2,
                             colorscale=[[0, COLOURS["out_bg"]], [1, COLOURS["out_bg"]]], hoverinfo="skip"))

    # --- dynamic: the traces frames update (their indices are the last ones)
    dyn = _dynamic(t, L, step, fill)
    first = len(fig.data)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLOURS["window"], width=5), hoverinfo="skip",
                             showlegend=False, name="window", **dyn[0]))
    fig.add_trace(go.Scatter(x=list(kxs), y=list(kys), mode="text", textfont=dict(size=16 if L.zoom > 1 else 12),
                             hoverinfo="skip", showlegend=False, **dyn[1]))
    fig.add_trace(go.Scatter(x=[L.kx - 0.5], y=[L.ky + kh * L.zoom + 0.1], mode="text", textposition="bottom right",
                             textfont=dict(size=18), hoverinfo="skip", showlegend=False, **dyn[2]))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLOURS["out"], width=6), hoverinfo="skip",
                             showlegend=False, name="output cell", **dyn[3]))
    extra = 4
    if t.kind == "max":
        fig.add_trace(go.Scatter(mode="markers", marker=dict(symbol="circle-open", size=CELL_PX - 10, line_width=4,
                                                             color=COLOURS["argmax"]), hoverinfo="skip",
                                 showlegend=False, **dyn[extra]))
        extra += 1
    m = out_range(t.output)
    out_text = dict(text=[fmt(v) for v in t.output.reshape(-1)]) if not fill else dyn[extra]
    fig.add_trace(go.Scatter(x=list(oxs), y=list(oys), mode="text", hoverinfo="skip", showlegend=False,
                             name="output numbers", textfont=dict(size=font["size"], color=out_text_colours(t.output, m)), **out_text))
    # coloured output cells: a heatmap is drawn under every scatter whatever its place in data (plotly's layers)
    out_z = dyn[extra + 1] if fill else dict(z=_nan_to_none(t.output.reshape(oh, ow)))
    bar_y = 1 + (BUTTONS_PX + SLIDER_PX) / int((L.height + 2) * CELL_PX)  # the Play buttons' band
    fig.add_trace(go.Heatmap(output_heatmap(x0=L.ox, dx=1, y0=L.oy, dy=1, m=m, bar_y=bar_y, **out_z)))
    heat = len(fig.data) - 1
    traces = list(range(first, first + len(dyn)))

    shape_txt = str(ow) if getattr(t, "one_d", False) else f"{oh}×{ow}"
    head = dict(x=0, xref="paper", xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=8),
                font=dict(size=20, color=COLOURS["text"]))
    frames = [dict(name=str(k), data=[dict(d, type="heatmap" if i == heat else "scatter")
                                      for i, d in zip(traces, _dynamic(t, L, k, fill))], traces=traces,
                   layout=dict(title=dict(head, text=readout(t, k, shape_txt)), updatemenus=frame_menus(k, n)))
              for k in range(n)]
    mode = {"conv": t.padding_mode, "max": "−∞", "avg": "zero"}[t.kind]
    size = (lambda h, w: str(w)) if getattr(t, "one_d", False) else (lambda h, w: f"{h}×{w}")
    names = [f"input {size(H, W)}" + (f" + {mode} padding" if any(t.pad_lo + t.pad_hi) else ""),
             {"conv": "window × kernel", "max": "window (max circled)", "avg": "window (averaged)"}[t.kind],
             f"output {size(oh, ow)}"]
    if L.stacked:  # titles left-aligned above each panel
        spots = [(-0.5, -0.6, "left"), (L.kx - 0.5, L.ky - 0.6, "left"), (L.ox - 0.5, L.oy - 0.6, "left")]
    else:          # titles centred above each panel
        spots = [((L.kx - GAP) / 2 - 0.5, -0.6, "center"), (L.kx + kw * L.zoom / 2 - 0.5, -0.6, "center"),
                 (L.ox + ow / 2 - 0.5, -0.6, "center")]
    for (x, y, align), label in zip(spots, names):
        fig.add_annotation(x=x, y=y, text=f"<b>{label}</b>", showarrow=False, yanchor="bottom", xanchor=align,
                           font=dict(size=17))
    # top to bottom: the readout (the title, which every frame rewrites), the buttons (Play ... Faster), the step
    # slider, then the grids (the y domain shrinks toward the top when the width limits the cell size)
    plot_h = int((L.height + 2) * CELL_PX)
    top = TITLE_PX + BUTTONS_PX + SLIDER_PX
    fig.update_xaxes(visible=False, range=[-0.6, L.width - 0.4], constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", scaleratio=1,
                     range=[L.height + 0.6, -1.4], constrain="domain", constraintoward="top")
    fig.update_layout(
        title=dict(head, text=(f"{title} · " if title else "") + readout(t, step, shape_txt)), plot_bgcolor="white",
        height=plot_h + top + 10, margin=dict(l=10, r=10, t=top, b=10),
        font=dict(size=16, color=COLOURS["text"]), showlegend=False, uirevision="animation",
        updatemenus=controls(step, n, speed_ms, 1 + (BUTTONS_PX + SLIDER_PX) / plot_h),
        sliders=[slider(step, n, 1 + SLIDER_PX / plot_h)])
    # frames are plain dicts of already-valid properties: no per-frame validation (cnnviz/figures/prebuilt.py)
    return Prebuilt(dict(data=[tr.to_plotly_json() for tr in fig.data], layout=fig.layout.to_plotly_json(),
                         frames=frames))
