"""An RGB input's channels on the model pages (issue 33, item 5): Feature Maps with the shapes TinyVGG on a colour
photograph shows the picture and three grey maps R, G, B whose values are the engine's input tensor; a digits model
shows one grey channel; Saliency shows the channels above its maps for a colour input only."""
import base64

import numpy as np

from cnnviz.inside.shipped import input_image, load_model
from cnnviz.io.photos import photo_bytes
from tests.support import apptest


def _array(z):
    if isinstance(z, dict):
        shape = tuple(int(v) for v in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z, dtype=np.float32)


def channels_figure(at) -> dict | None:
    """The input-channels figure: the one whose heatmaps are named R, G, B or grey."""
    return next((f for f in apptest.figures(at) if [t.get("name") for t in f["data"] if t["type"] == "heatmap"]
                 in (["R", "G", "B"], ["grey"])), None)


def test_feature_maps_shows_a_colour_photographs_three_channels():
    at = apptest.open_page("feature_maps", {"model": "shapes_TinyVGG", "src": "photo", "photo": "coffee"})
    assert not at.error
    x, _ = input_image(load_model("shapes_TinyVGG")[1], "upload", data=photo_bytes("coffee"))  # (1, 3, 32, 32)
    fig = channels_figure(at)
    image, *maps = fig["data"]
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["colour", "R", "G", "B"]
    assert np.array_equal(_array(image["z"]), np.round(x[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    for k, m in enumerate(maps):
        assert np.array_equal(_array(m["z"]), x[0, k].numpy())
        assert m["zmin"] == 0 and m["zmax"] == 1
    assert not np.array_equal(_array(maps[0]["z"]), _array(maps[2]["z"]))  # colour, not three copies of grey


def test_feature_maps_digits_model_shows_one_grey_channel_and_saliency_none():
    at = apptest.open_page("feature_maps")  # the digits TinyVGG on a shipped sample
    info = load_model("digits_TinyVGG")[1]
    x, _ = input_image(info, "sample", at.selectbox(key="feat_sample").value)
    fig = channels_figure(at)
    assert [t["name"] for t in fig["data"]] == ["grey"] and np.array_equal(_array(fig["data"][0]["z"]), x[0, 0].numpy())
    assert channels_figure(apptest.open_page("saliency")) is None  # a grey input: the grid's input says it all


def test_saliency_shows_a_colour_inputs_channels_above_the_maps():
    at = apptest.open_page("saliency", {"model": "shapes_TinyVGG", "src": "photo", "photo": "astronaut"})
    assert not at.error
    figs = apptest.figures(at)
    x, _ = input_image(load_model("shapes_TinyVGG")[1], "upload", data=photo_bytes("astronaut"))
    fig = channels_figure(at)
    assert figs.index(fig) == 0 and [np.array_equal(_array(m["z"]), x[0, k].numpy())
                                     for k, m in enumerate(fig["data"][1:])] == [True] * 3
