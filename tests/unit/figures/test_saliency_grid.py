"""The Saliency grid is built as one plain spec (no make_subplots, no validation pass): its JSON is the one the
make_subplots figure it replaced gives, panel for panel, and validating it changes nothing."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch
from plotly.subplots import make_subplots

from cnnviz.figures.saliency import FONT, overlay, saliency_grid


def reference(image, maps, alpha, cols=None, title=""):
    """The builder as it was: make_subplots, add_trace per panel, update_* calls."""
    panels = ["Input", *maps]
    cols = cols or min(5, len(panels))
    rows = -(-len(panels) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=panels, horizontal_spacing=0.02,
                        vertical_spacing=0.08 / rows)
    rgb = image.clamp(0, 1)
    rgb = (rgb.expand(3, -1, -1) if rgb.shape[0] == 1 else rgb).permute(1, 2, 0).numpy() * 255
    for i, name in enumerate(panels):
        z = rgb.astype(np.uint8) if name == "Input" else overlay(image, maps[name], alpha)
        fig.add_trace(go.Image(z=z, hoverinfo="skip"), row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, height=40 + (1160 // max(cols, 4)) * rows, margin=dict(l=10, r=10, t=60, b=10),
                      font=FONT)
    fig.update_annotations(font_size=17)
    return fig


@pytest.mark.parametrize("channels, n_maps, cols, title", [(3, 9, None, ""), (1, 9, 3, "True class: 7"),
                                                            (3, 3, None, "t"), (1, 1, 2, "")])
def test_grid_json_is_the_make_subplots_figure(channels, n_maps, cols, title):
    g = torch.Generator().manual_seed(channels * 10 + n_maps)
    image = torch.rand(channels, 8, 6, generator=g)
    maps = {f"method {i}": torch.randn(8, 6, generator=g) for i in range(n_maps)}
    ours = saliency_grid(image, maps, 0.6, cols=cols, title=title)
    sent = json.loads(pio.to_json(ours.to_dict(), validate=False))  # what st.plotly_chart sends
    assert sent == json.loads(pio.to_json(reference(image, maps, 0.6, cols, title)))
    assert sent == json.loads(pio.to_json(ours.figure()))  # validation changes nothing
    assert len(sent["data"]) == n_maps + 1 and sent["layout"]["annotations"][0]["text"] == "Input"
