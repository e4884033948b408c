"""The input-channels figure: a hand-made 3×4×4 input comes back as its picture (value × 255, rounded) and as three
heatmaps R, G, B whose values are the tensor's channels, on one shared colour range; a 1-channel input is one
"grey" map; a wrong shape is refused by name."""
import base64

import numpy as np
import pytest
import torch

from cnnviz.errors import ConfigError
from cnnviz.figures.input_channels import input_channels_figure


def _array(z):
    if isinstance(z, dict):
        shape = tuple(int(v) for v in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z)


def _titles(fig: dict) -> list[str]:
    return [a["text"] for a in fig["layout"]["annotations"]]


def test_rgb_input_picture_and_channels_round_trip():
    x = torch.arange(48, dtype=torch.float32).reshape(3, 4, 4) / 47  # every value distinct, 0 … 1
    x[1, 0, 0] = 0.5
    fig = input_channels_figure(x).to_dict()
    image, *maps = fig["data"]
    assert image["type"] == "image" and _titles(fig) == ["colour", "R", "G", "B"]
    rgb = _array(image["z"])
    assert rgb.shape == (4, 4, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb, np.round(x.permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    assert rgb[0, 0, 1] == 128 and rgb[3, 3, 2] == 255 and rgb[0, 0, 0] == 0
    assert [m["name"] for m in maps] == ["R", "G", "B"]
    for k, m in enumerate(maps):
        assert m["type"] == "heatmap" and np.array_equal(_array(m["z"]), x[k].numpy())
        assert (m["zmin"], m["zmax"]) == (0.0, 1.0)  # one shared range
    assert [m["showscale"] for m in maps] == [False, False, True]  # one colour bar
    assert [m["yaxis"] for m in maps] == ["y2", "y3", "y4"]


def test_grey_input_is_one_map_and_the_range_widens():
    x = torch.tensor([[[0.0, 0.25], [1.5, -0.5]]])
    fig = input_channels_figure(x).to_dict()
    assert len(fig["data"]) == 1 and _titles(fig) == ["grey"]
    m = fig["data"][0]
    assert np.array_equal(_array(m["z"]), x[0].numpy()) and (m["zmin"], m["zmax"]) == (-0.5, 1.5)
    assert fig["layout"]["xaxis"]["domain"][1] < 0.3  # a quarter of the width, not stretched
    assert 0 < m["colorbar"]["x"] - fig["layout"]["xaxis"]["domain"][1] < 0.05  # its colour bar beside it


@pytest.mark.parametrize("bad", [torch.zeros(4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(0, 4, 4)])
def test_wrong_shape_is_refused_by_name(bad):
    with pytest.raises(ConfigError) as e:
        input_channels_figure(bad)
    assert e.value.field == "x"


def test_explorer_overview_names_an_rgb_inputs_channels():
    from cnnviz.explorer import overview
    from cnnviz.figures.network import overview_spec
    from cnnviz.inside.shipped import load_model
    for key, labels in (("shapes_TinyVGG", ["R", "G", "B"]), ("digits_TinyVGG", None)):
        model, info = load_model(key)
        c, size = info.kwargs["in_channels"], info.kwargs["size"]
        spec = overview_spec(overview(model, torch.rand(1, c, size, size, generator=torch.Generator().manual_seed(0)),
                                      False), info.classes)
        named = [t["text"] for t in spec["data"] if t.get("mode") == "text" and t["text"][:1] == ["R"]]
        assert named == ([labels] if labels else [])
        hover = spec["data"][-2]["text"]  # the thumbnails' hover: channel k (R) on the input column only
        assert [h.split("<br>")[1] for h in hover[:c]] == (["input · channel 0 (R)", "input · channel 1 (G)",
                                                            "input · channel 2 (B)"] if labels else
                                                           ["input · channel 0"])
        assert "(R)" not in hover[c]
