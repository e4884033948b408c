"""The animations' output grids light up in a diverging colour scale centred on 0 (issue 33, item 2)."""
import numpy as np
import torch
import torch.nn.functional as F
from plotly.colors import sample_colorscale, unlabel_rgb

from cnnviz.animation import (channel_demo, conv2d_steps, conv_transpose2d_steps, kernel_preset,
                              multichannel_conv2d_steps, sample_input)
from cnnviz.figures.animation import animation_figure, fmt
from cnnviz.figures.animation_extra import channels_figure, transposed_figure


def _rgb(scale, z, zmin, zmax):
    return unlabel_rgb(sample_colorscale(scale, [(z - zmin) / (zmax - zmin)])[0])


def _digit_edges():
    x = sample_input("digit", digit=0)
    w = kernel_preset("sobel x")  # vertical edges
    want = F.conv2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], padding=1)[0, 0].numpy()
    return conv2d_steps(x, w, padding=1), want


def test_digit_edges_output_diverging_centred_on_zero_with_colour_bar():
    t, want = _digit_edges()
    spec = animation_figure(t, step=len(t) - 1).to_dict()
    heat = next(d for d in spec["data"] if d.get("name") == "output values")
    m = np.abs(want).max()
    assert heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"] and np.isclose(heat["zmax"], m)
    assert heat["showscale"] and heat["colorbar"]["title"]["text"] == "output"
    z = np.array(heat["z"], dtype=float)  # the last step: every cell written
    np.testing.assert_allclose(z, want, atol=1e-2)
    pos, neg = want.max(), want.min()
    assert pos > 0 > neg  # a digit's strokes have left and right edges
    red_p, _, blue_p = _rgb(heat["colorscale"], pos, heat["zmin"], heat["zmax"])
    red_n, _, blue_n = _rgb(heat["colorscale"], neg, heat["zmin"], heat["zmax"])
    assert red_p > blue_p and blue_n > red_n  # opposite sides: positive warm, negative cool
    assert _rgb(heat["colorscale"], 0.0, heat["zmin"], heat["zmax"])[0] > 240  # 0 is (near) white
    # the numbers shown are F.conv2d's, white on the most saturated cells, dark on the light ones
    text = next(d for d in spec["data"] if d.get("name") == "output numbers")
    assert text["text"] == [fmt(v) for v in want.reshape(-1)]
    colours = np.array(text["textfont"]["color"]).reshape(want.shape)
    assert colours[np.unravel_index(np.abs(want).argmax(), want.shape)] == "white"
    assert colours[np.unravel_index(np.abs(want).argmin(), want.shape)] != "white"


def test_frames_colour_only_the_cells_written_so_far_on_a_fixed_range():
    t, want = _digit_edges()
    spec = animation_figure(t).to_dict()
    heat_i = next(i for i, d in enumerate(spec["data"]) if d.get("name") == "output values")
    flat = want.reshape(-1)
    for k in (0, 9, len(t) - 1):
        frame = spec["frames"][k]
        z = frame["data"][frame["traces"].index(heat_i)]["z"]
        cells = [v for row in z for v in row]
        assert len(cells) == k + 1 and frame["data"][frame["traces"].index(heat_i)]["type"] == "heatmap"
        np.testing.assert_allclose(cells, flat[:k + 1], atol=1e-2)
    assert all("zmax" not in f["data"][f["traces"].index(heat_i)] for f in spec["frames"])


def test_random_and_typed_inputs_get_the_same_scale():
    for x in (sample_input("random", size=(5, 6), seed=3), sample_input("typed", text="1 -2 3\n-4 5 -6\n7 -8 9")):
        w = kernel_preset("sobel y")
        want = F.conv2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], padding=1)[0, 0].numpy()
        heat = next(d for d in animation_figure(conv2d_steps(x, w, padding=1)).to_dict()["data"]
                    if d.get("name") == "output values")
        assert heat["zmid"] == 0 and np.isclose(heat["zmax"], np.abs(want).max()) and heat["zmin"] == -heat["zmax"]


def test_channels_and_transposed_outputs_are_diverging_too():
    x, w = channel_demo(2, seed=1)
    t = multichannel_conv2d_steps(x, w, padding=1)
    want = F.conv2d(torch.tensor(x)[None], torch.tensor(w)[None], padding=1)[0, 0].numpy()
    out = channels_figure(t, 3).data[-2]  # the output heatmap, then its outline
    assert out.zmid == 0 and out.zmin == -out.zmax and np.isclose(out.zmax, np.abs(want).max()) and out.showscale
    shown = np.array(out.z, dtype=float).reshape(-1)
    np.testing.assert_allclose(shown[:4], want.reshape(-1)[:4])
    assert np.isnan(shown[4:]).all()  # cells not yet written stay blank

    tt = conv_transpose2d_steps(np.array([[1.0, -2], [3, 1]]), np.array([[1.0, -1], [2, 0]]), stride=2)
    heat = [d for d in transposed_figure(tt, 1).data if d.type == "heatmap"][2]  # input, stamp, output, counts
    assert heat.zmid == 0 and heat.zmin == -heat.zmax and heat.showscale and heat.colorbar.title.text == "output"
