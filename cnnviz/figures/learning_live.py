"""Figures of a run while and after it trains: its live curves (:func:`live_curves_figure`, rebuilt at every poll
that brought a report, so built in one go and thinned), the first layer's kernels and the feature maps of one fixed
image as mosaics (one heatmap each: a few hundred cells, cheap to rebuild at every report), the per-epoch figures
of the live panel (:func:`epoch_figures`), and the confusion matrix with clickable cells (a transparent square
marker per cell carries ``customdata = [true, predicted]``).

A class group's pages rebuild these at nearly every poll, ten jobs at a time, in the one server process: so the live
ones are :class:`~cnnviz.figures.prebuilt.Prebuilt` specs, plain dicts filled into a skeleton that plotly validated
once (:func:`_skeleton`: the same builder's figure for a tiny input), with the arrays already in plotly's base64
form. Same JSON as the validated figures (tests/app/test_live_panel_cost.py), no validation pass per build."""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import convert_to_base64

from cnnviz.figures import training
from cnnviz.figures.prebuilt import Prebuilt
from cnnviz.jobs.events import STAGES
from cnnviz.io.text import plot_text

FONT = dict(size=16)
CURVE_POINTS = 200  # at most this many points per live training curve (a third of the panel's width shows no more)


def thin(n: int, most: int = CURVE_POINTS) -> np.ndarray:
    """Indices of at most ``most`` of ``n`` points, evenly spaced, the first and the latest always among them."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max(2, most)).round().astype(np.int64))


@lru_cache(maxsize=None)
def _skeleton(kind: str) -> dict:
    """A validated figure of the builder ``kind`` for a tiny input, as plotly's own dict (template included): its
    layout and the validated form of each trace's fixed properties (colour scales as lists ...), taken once, so the
    fast builders look the same. Read-only: :class:`Prebuilt` hands out copies."""
    one = SimpleNamespace(epoch=1.0, timings={})
    return dict(curves=lambda: training.curves_figure(SimpleNamespace(progress=[], evals=[])),
                confusion=lambda: training.confusion_figure([[0]], ["a"]),
                timings=lambda: training.timings_figure([one]),
                heatmap=lambda: _heatmap_figure(np.zeros((1, 1)), "", "", 100, True))[kind]().to_dict()


def _prebuilt(data: list, layout: dict) -> Prebuilt:
    convert_to_base64(data)  # numpy arrays as plotly's typed arrays, what a validated figure's to_dict gives (the
    return Prebuilt(dict(data=data, layout=layout))  # layout is the skeleton's: converted already, template and all


def live_curves_figure(history, most: int = CURVE_POINTS) -> go.Figure:
    """The figure of :func:`cnnviz.figures.training.curves_figure` (loss, accuracy and learning rate against
    epochs; train per report, validation per epoch), built as one dict of numpy arrays (plotly validates it once,
    not at every trace and update: about 10× cheaper), the per-report curves thinned to at most ``most`` points
    (:func:`thin`: evenly spaced, the latest always shown). Every per-epoch validation point is kept."""
    p, e = history.progress, history.evals
    keep = thin(len(p), most)
    px = np.array([p[i].epoch for i in keep], np.float64)
    ex = np.array([v.epoch for v in e], np.float64)

    def train(y, **kw):
        return dict(type="scatter", x=px, y=np.array([getattr(p[i], y) for i in keep], np.float64), **kw)

    def val(y, **kw):
        return dict(type="scatter", x=ex, y=np.array([getattr(v, y) for v in e], np.float64), name="validation",
                    mode="lines+markers", line=dict(color=training.ORANGE, width=3), **kw)
    data = [train("train_loss", name="train", line=dict(color=training.BLUE), xaxis="x", yaxis="y"),
            val("val_loss", xaxis="x", yaxis="y"),
            train("train_acc", name="train", line=dict(color=training.BLUE), showlegend=False, xaxis="x2",
                  yaxis="y2"),
            val("val_acc", showlegend=False, xaxis="x2", yaxis="y2"),
            train("lr", name="learning rate", line=dict(color=training.GREEN), showlegend=False, xaxis="x3",
                  yaxis="y3")]
    return _prebuilt(data, _skeleton("curves")["layout"])


def epoch_figures(evals: list, ds) -> tuple[Prebuilt, Prebuilt, Prebuilt]:
    """The live panel's per-epoch figures of ``evals`` on data set ``ds`` (its classes, validation images): the
    last epoch's confusion matrix, where the time goes per epoch, the last epoch's predictions; the figures of
    :func:`cnnviz.figures.training.confusion_figure`, ``timings_figure`` and ``prediction_grid``, prebuilt."""
    last = evals[-1]
    z, names = np.asarray(last.confusion), [plot_text(c) for c in ds.classes]
    sk = _skeleton("confusion")
    confusion = _prebuilt([dict(sk["data"][0], z=z, x=names, y=names, text=z)], sk["layout"])
    sk, x = _skeleton("timings"), [e.epoch for e in evals]
    bars = {t["name"]: t for t in sk["data"]}
    timings = _prebuilt([dict(bars[stage], x=x, y=[e.timings.get(stage, 0.0) for e in evals]) for stage in STAGES],
                        sk["layout"])
    spec = training.prediction_spec(ds.x_val.numpy(), ds.y_val.numpy(), last.predictions, ds.classes)
    layout = dict(spec["layout"], template=sk["layout"]["template"])
    return confusion, timings, _prebuilt([dict(spec["data"][0])], layout)


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """``tiles`` (n, h, w) laid out ``cols`` to a row with ``gap`` NaN pixels between them."""
    n, h, w = tiles.shape
    rows = max(1, -(-n // max(cols, 1)))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tiles[i]
    return out


def kernel_mosaic(kernels: np.ndarray, cols: int = 8) -> np.ndarray:
    """Kernels (K, C, k, k) as one picture: each kernel a column of its C input channels (one NaN row between
    them), ``cols`` kernels to a row, two NaN pixels between kernels."""
    k_out, c_in, kh, kw = kernels.shape
    strips = np.full((k_out, c_in * (kh + 1) - 1, kw), np.nan, np.float32)
    for c in range(c_in):
        strips[:, c * (kh + 1):c * (kh + 1) + kh] = kernels[:, c]
    return mosaic(strips, max(1, min(cols, k_out)), gap=2 if c_in > 1 else 1)


def _heatmap_figure(z: np.ndarray, title: str, hover: str, height: int, symmetric: bool) -> go.Figure:
    """The kernels' and maps' heatmap as plotly validates it (the prebuilt one fills its skeleton)."""
    peak = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    trace = dict(type="heatmap", z=np.round(z, 5), colorscale="RdBu_r" if symmetric else "Viridis",
                 hovertemplate=hover + "<extra></extra>", colorbar=dict(thickness=12, len=0.9), hoverongaps=False)
    if symmetric:
        trace.update(zmin=-peak or -1.0, zmax=peak or 1.0)
    return go.Figure(dict(data=[trace], layout=dict(
        title=dict(text=title), height=height, margin=dict(l=10, r=10, t=50, b=10), font=FONT,
        xaxis=dict(visible=False, scaleanchor="y", constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed", constrain="domain"), plot_bgcolor="white")))


def _heatmap(z: np.ndarray, title: str, hover: str, height: int, prebuilt: bool) -> go.Figure:
    """:func:`_heatmap_figure` (symmetric: red positive, blue negative, one scale), or the same prebuilt."""
    if not prebuilt:
        return _heatmap_figure(z, title, hover, height, True)
    sk, peak = _skeleton("heatmap"), float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    trace = dict(sk["data"][0], z=np.round(z, 5), hovertemplate=hover + "<extra></extra>", zmin=-peak or -1.0,
                 zmax=peak or 1.0)
    return _prebuilt([trace], dict(sk["layout"], title=dict(text=title), height=height))


def kernels_figure(snap, prebuilt: bool = False) -> go.Figure:
    """The first layer's kernels at one report (red positive, blue negative, one scale for all); ``prebuilt``: the
    same as a :class:`Prebuilt` (the live panel's, rebuilt at every report)."""
    k_out, c_in = snap.kernels.shape[:2]
    rows = -(-k_out // 8)
    return _heatmap(kernel_mosaic(snap.kernels), f"{plot_text(snap.layer)}: {k_out} kernels, step {snap.step:,}",
                    "weight %{z:.4f}", 120 + 60 * rows * c_in, prebuilt)


def maps_figure(snap, cols: int = 8, prebuilt: bool = False) -> go.Figure:
    """That layer's output for the fixed validation image, one tile per channel (averaged down when large: the
    caption says so); ``prebuilt`` as for :func:`kernels_figure`."""
    m = snap.maps
    rows = -(-len(m) // cols)
    return _heatmap(mosaic(m, max(1, min(cols, len(m)))), f"Its maps of validation image #{snap.image}",
                    "value %{z:.3f}", 120 + 75 * rows, prebuilt)


def clickable_confusion(confusion, classes) -> go.Figure:
    """The confusion matrix (rows true, columns predicted); a click on a cell selects ``[true, predicted]``."""
    z = np.asarray(confusion)
    k = len(z)
    names = [plot_text(c) for c in classes]
    ii, jj = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    right = np.where(ii == jj, z, 0)
    wrong = np.where(ii != jj, z, 0)
    side = max(12, min(48, 360 // max(k, 1)))
    data = [dict(type="heatmap", z=(wrong > 0) * 1.0 + (right > 0) * 2.0, x=list(range(k)), y=list(range(k)),
                 colorscale=[[0, "#ffffff"], [0.5, "#f4b183"], [1, "#9dc3e6"]], zmin=0, zmax=2, showscale=False,
                 hoverinfo="skip"),
            dict(type="scatter", x=jj.ravel().tolist(), y=ii.ravel().tolist(), mode="markers+text",
                 text=[str(v) for v in z.ravel()],
                 customdata=np.stack([ii.ravel(), jj.ravel()], 1).tolist(),
                 marker=dict(size=side, symbol="square", color="rgba(0,0,0,0)"), showlegend=False,
                 textfont=dict(size=14, color="#222"),
                 hovertext=[f"true {names[i]}, predicted {names[j]}: {z[i, j]} image(s); click to open them"
                            for i, j in zip(ii.ravel(), jj.ravel())],
                 hovertemplate="%{hovertext}<extra></extra>",
                 selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1),
                                                                         textfont=dict(color="#222")))]
    axis = dict(tickmode="array", tickvals=list(range(k)), ticktext=names, showgrid=False, zeroline=False)
    return go.Figure(dict(data=data, layout=dict(
        title=dict(text="Confusion matrix (blue right, orange wrong): click a cell"), height=420, font=FONT,
        margin=dict(l=10, r=10, t=50, b=10), clickmode="event+select", dragmode=False,
        xaxis=dict(axis, title=dict(text="predicted"), range=[-0.5, k - 0.5]),
        yaxis=dict(axis, title=dict(text="true"), range=[k - 0.5, -0.5]))))


def saliency_tile(image: np.ndarray, saliency: np.ndarray, side: int = 112) -> np.ndarray:
    """One validation image (C, H, W) in [0, 1] and its map (H, W) as a picture: the image left, the map right
    (yellow-red where it is largest, over the image greyed), each enlarged to about ``side`` pixels, uint8 RGB."""
    img = np.clip(image, 0, 1)
    rgb = np.repeat(img[:1], 3, 0) if img.shape[0] == 1 else img[:3]
    rgb = np.transpose(rgb, (1, 2, 0))  # (H, W, 3)
    m = np.nan_to_num(np.asarray(saliency, np.float32))
    m = m / m.max() if m.max() > 0 else np.zeros_like(m)
    grey = rgb.mean(2, keepdims=True) * 0.5
    heat = np.stack([np.ones_like(m), m, np.zeros_like(m)], 2)  # red → yellow
    over = grey * (1 - m[..., None]) + heat * m[..., None]
    s = max(1, side // max(rgb.shape[:2]))
    gap = np.ones((rgb.shape[0], max(1, 4 // s + 1), 3), np.float32)
    both = np.concatenate([rgb, gap, over], 1)
    return np.kron(np.round(255 * both).astype(np.uint8), np.ones((s, s, 1), np.uint8))


def with_cell(fig: go.Figure, cell: tuple[int, int]) -> go.Figure:
    """A copy of :func:`clickable_confusion`'s figure with ``cell`` = (true, predicted) framed: the cell shown below."""
    t, p = cell
    out = go.Figure(fig)
    out.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5, line=dict(color="#222", width=3))
    return out
