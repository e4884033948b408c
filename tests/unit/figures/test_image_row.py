"""``image_row``: the one row of titled pictures the attack (before / ×k / after), the feature visualisations and
the Explorer's top patches share; the same figure the make_subplots code they each had made, and each picture the
tensor's values × 255, rounded."""
import json

import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
import torch
from plotly.subplots import make_subplots

from cnnviz.explorer import TopPatch
from cnnviz.figures.adversarial import attack_figure
from cnnviz.figures.feature_vis import feature_vis_figure
from cnnviz.figures.network import top_patches_figure


def dump(fig):
    return json.dumps(fig.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)


def made_the_old_way(zs, titles, spacing, hover, title_size, top):
    """What each of the three figures built before: make_subplots, an Image per column, axes hidden."""
    fig = make_subplots(1, max(1, len(zs)), subplot_titles=titles or [""], horizontal_spacing=spacing)
    for i, z in enumerate(zs):
        fig.add_trace(go.Image(z=z, **hover), 1, i + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=fig.layout.height, margin=dict(l=10, r=10, t=top, b=10), font=dict(size=16))
    fig.update_annotations(font_size=title_size)
    return fig


def test_the_feature_visualisation_row_is_the_make_subplots_figure_with_pixels_by_hand():
    images = torch.tensor([[[[0.0, 0.5], [1.0, 0.2]]], [[[0.3, 0.7], [0.9, 1.0]]]]).expand(2, 3, 2, 2)
    fig = feature_vis_figure(images, [0.5, 1.25], height=240)
    z0 = np.array([[[0, 0, 0], [128, 128, 128]], [[255, 255, 255], [51, 51, 51]]])  # 0.5 × 255 = 127.5 → 128
    assert np.array_equal(fig.data[0].z, z0)
    ref = made_the_old_way([fig.data[0].z, fig.data[1].z], ["mean activation 0.50", "mean activation 1.25"], 0.03,
                           dict(hovertemplate="row %{y}, col %{x}<extra></extra>"), 13, 40)
    ref.update_layout(height=240)
    assert dump(fig) == dump(ref)


def test_the_attack_row_shows_the_perturbation_magnified_around_grey():
    x = torch.full((1, 2, 2), 0.5)
    adv = x + torch.tensor([[[0.1, -0.1], [0.0, 0.05]]])
    fig = attack_figure(x, adv, eps=0.1, height=300)  # magnified × 5: ±0.1 → ±0.5 around 0.5
    assert [round(float(v)) for v in fig.data[1].z[..., 0].ravel()] == [255, 0, 128, 191]  # 0.75 × 255 = 191.25
    ref = made_the_old_way([d.z for d in fig.data], ["Before", "Perturbation × 5 (grey = unchanged)", "After"], 0.03,
                           dict(hoverinfo="skip"), 17, 50)
    ref.update_layout(height=300)
    assert dump(fig) == dump(ref)


@pytest.mark.parametrize("n", [0, 2])
def test_top_patches_row_with_and_without_patches(n):
    g = torch.Generator().manual_seed(0)
    patches = [TopPatch(3 + i, (0, i), 1.5 - i, (0, i, 2, i + 2), torch.rand(1, 3, 3, generator=g)) for i in range(n)]
    fig = top_patches_figure(patches, ["cat", "dog"][:n] or None)
    titles = ["#3: 1.50 (cat)", "#4: 0.50 (dog)"][:n]
    ref = made_the_old_way([d.z for d in fig.data], titles, 0.02, dict(hoverinfo="skip"), 12, 40)
    ref.update_layout(height=200)
    assert dump(fig) == dump(ref) and len(fig.data) == n
    assert fig.layout.xaxis.visible is False  # no patches: one empty panel, its axes hidden all the same
