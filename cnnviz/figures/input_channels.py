"""A model's input, channel by channel: the picture in colour and each channel (R, G, B; "grey" for a 1-channel
model) as a grey map on one shared colour range, side by side. What Feature Maps, Saliency and the Network Explorer
show of an RGB input. Pure: a tensor in, a ``Prebuilt`` figure out (built in one call; no validation pass)."""
from __future__ import annotations

import numpy as np
import torch

from cnnviz.errors import ConfigError
from cnnviz.figures.prebuilt import Prebuilt
from cnnviz.figures.saliency import TEMPLATE, _typed, grid_layout
from cnnviz.figures.subplots import axes

FONT = dict(size=16)
GREY = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]  # black = 0, white = 1: as the picture draws a channel
RGB_NAMES = ("R", "G", "B")


def channel_names(c: int) -> tuple[str, ...]:
    """The titles of ``c`` input channels: R, G, B for 3; "grey" for 1; "channel k" otherwise."""
    return RGB_NAMES if c == 3 else ("grey",) if c == 1 else tuple(f"channel {k}" for k in range(c))


def picture(x: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (H, W, 3) uint8, as the pages draw a model's input (value × 255, rounded)."""
    return (x.detach().cpu().float().clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def input_channels_figure(x: torch.Tensor, title: str = "", panel_px: int = 190, min_cols: int = 4) -> Prebuilt:
    """The input ``x`` (C, H, W) (the models read values in [0, 1]): for C = 3 the colour picture, then every
    channel as a grey heatmap with its exact values (hover), all on one colour range (0…1, wider if a value lies
    outside) with one colour bar. ``min_cols``: panels per row at least (a 1-channel input is one panel, not one
    stretched across the page); ``panel_px``: the height of a panel."""
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[0] < 1:
        raise ConfigError("x", f"an input of shape (C, H, W), got {tuple(getattr(x, 'shape', ()))}")
    x = x.detach().cpu().float()
    c, h, w = x.shape
    names = channel_names(c)
    panels = (["colour", *names] if c == 3 else list(names))
    lo, hi = min(0.0, float(x.min())), max(1.0, float(x.max()))
    data = []
    if c == 3:
        data.append(dict(type="image", z=_typed(picture(x)), xaxis="x", yaxis="y",
                         hovertemplate="row %{y}, col %{x}<br>RGB %{z}<extra></extra>"))
    for k, name in enumerate(names):
        xa, ya = axes(len(data))
        last = k == c - 1
        data.append(dict(type="heatmap", z=x[k].numpy(), zmin=lo, zmax=hi, colorscale=GREY, showscale=last,
                         xaxis=xa, yaxis=ya, name=name,
                         colorbar=dict(thickness=14, len=0.8, y=1, yanchor="top", title=dict(text="value")) if last else None,
                         hovertemplate=f"{name} · row %{{y}}, col %{{x}}<br>%{{z:.3f}}<extra></extra>"))
        if not last:
            del data[-1]["colorbar"]
    cols = max(len(panels), min_cols)
    layout = grid_layout(panels, cols, h_spacing=0.03, title_size=18)
    for i in range(len(panels)):  # square pixels under the titles, row 0 on top
        xa, ya = axes(i)
        layout["yaxis" + ya[1:]].update(scaleanchor=xa, constrain="domain", constraintoward="top",
                                          autorange="reversed")
        layout["xaxis" + xa[1:]].update(constrain="domain")
    bar = next(t for t in data if t.get("showscale"))  # the colour bar beside the last map, not the figure's edge
    bar["colorbar"].update(x=layout["xaxis" + axes(len(panels) - 1)[0][1:]]["domain"][1] + 0.01, xanchor="left")
    shape = f"{c}×{h}×{w}"
    layout.update(title=dict(text=title or f"Input {shape}: " + (
        "the picture and its red, green and blue channels" if c == 3 else "one grey channel" if c == 1 else
        f"{c} channels")), height=panel_px + 80, margin=dict(l=10, r=10, t=80, b=10), font=FONT,
        template=TEMPLATE, plot_bgcolor="white")
    return Prebuilt(dict(data=data, layout=layout))
