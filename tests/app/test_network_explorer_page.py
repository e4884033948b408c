"""Network Explorer in AppTest: the overview and the prediction match the engine, a neuron's arithmetic is the
engine's, links select a neuron, bad links fall back with a plain-text notice, any model and input works."""
import io
from functools import partial

import torch

from tests.support import apptest
from cnnviz.explorer import neuron_detail, overview
from cnnviz.inside.shipped import input_image, load_model
from tests.support.rendered import shown as rendered

open_page = partial(apptest.open_page, "network_explorer")
metric = apptest.metric


def titles(at):
    return [str((f["layout"].get("title") or {}).get("text", "")) for f in apptest.figures(at)]


def test_default_overview_prediction_and_conv_arithmetic():
    at = open_page()
    model, info = load_model("digits_TinyVGG")
    x, _ = input_image(info, "sample", at.session_state["net_sample"])
    ov = overview(model, x)
    assert metric(at, "Prediction") == info.classes[max(range(10), key=ov.probabilities.__getitem__)]
    assert "Input → every layer → class probabilities" in titles(at)
    where = ov.most_active(1, 0)  # no position in the link: the first channel's most active neuron, not [0, 0]
    assert (at.session_state["net_i"], at.session_state["net_j"]) == where
    assert float(ov.columns[1].maps[0][where]) == float(ov.columns[1].maps[0].max())
    d = neuron_detail(model, x, "features.0", 0, where)
    assert any(f"pre-activation **{d.pre_activation:.4f}**" in m.value for m in at.markdown)
    assert any(t.startswith("Σ products") for t in titles(at))
    assert not at.error and not at.text


def test_link_selects_a_neuron_of_a_residual_model():
    at = open_page({"model": "shapes_SmallResNet", "layer": "block 2 · shortcut conv", "ch": "3", "i": "2",
                    "j": "5"})
    assert at.selectbox(key="net_layer").value == "block 2 · shortcut conv"
    assert any("`layer2.shortcut.0`" in m.value and "[3, 2, 5]" in m.value for m in at.markdown)
    fig = apptest.figures(at)[0]
    assert any(t.get("name") == "residual connection" for t in fig["data"])
    at.selectbox(key="net_layer").set_value("block 3 · add").run()
    added = [m.value.replace("\\", "") for m in at.markdown if "Residual addition" in m.value]  # its operands
    assert added and "(layer3.bn2)" in added[0] and "(layer3.shortcut.1)" in added[0]
    assert at.query_params["layer"] in ("block 3 · add", ["block 3 · add"])


def test_bad_link_values_fall_back_with_plain_text_notices():
    at = open_page({"model": "nope", "layer": "**bold**", "ch": "x", "src": "draw"})
    notices = [rendered(i.value) for i in at.info]  # escaped markdown, read as a student sees it
    assert any("model='nope'" in n for n in notices) and any("'**bold**'" in n for n in notices)
    assert not any("**bold**" in i.value for i in at.info)  # the markdown source has it escaped: not bold
    assert at.selectbox(key="net_model").value == "digits_TinyVGG" and at.selectbox(key="net_layer").value == "conv 1"
    assert not at.error


def test_pooling_softmax_and_position_clamped():
    at = open_page({"layer": "max pool 2", "ch": "7", "i": "99"})
    assert at.number_input(key="net_i").value == 1  # 2×2 map: clamped to the last row
    assert any("max pooling window" in t for t in titles(at))
    at.selectbox(key="net_layer").set_value("linear 1").run()
    table = [f for f in apptest.figures(at) if f["data"] and f["data"][0]["type"] == "table"]
    assert table and table[0]["data"][0]["header"]["values"][1] == "logit z"


def test_drawing_before_training_and_the_trained_model_of_this_session():
    at = open_page({"src": "draw"})
    model, info = load_model("digits_TinyVGG")
    p = torch.softmax(model(torch.zeros(1, 1, 8, 8)), 1)[0]
    assert metric(at, "Prediction") == info.classes[int(p.argmax())]  # nothing drawn yet: a black image
    at.toggle(key="net_before").set_value(True).run()
    assert at.query_params["before"] in ("1", ["1"]) and not at.exception
    buf = io.BytesIO()
    torch.save(load_model("shapes_TinyVGG")[0].state_dict(), buf)
    at = apptest.AppTest.from_file(str(apptest.ROOT / "pages/network_explorer.py"), default_timeout=120)
    at.session_state["explorer_model_bytes"] = buf.getvalue()
    at.session_state["net_model"] = "session"
    at.run()
    assert not at.exception and at.selectbox(key="net_model").value == "session"
    assert metric(at, "Prediction") in ("circle", "square", "triangle")


def test_the_drawing_model_and_what_it_sees():
    """The model for drawings is in the Explorer's box (nowhere else: models.json is untouched); with nothing drawn
    the input is black and the prediction is the drawing model's on zeros; the input it sees is shown as a picture;
    a digits model on a drawing points to the drawing model."""
    from cnnviz.explorer.drawing import DRAWN, drawing_model
    from cnnviz.inside.shipped import list_models
    assert DRAWN not in list_models()
    at = open_page({"model": DRAWN, "src": "draw"})
    assert at.selectbox(key="net_model").value == DRAWN and not at.error
    model, info = drawing_model()
    p = torch.softmax(model(torch.zeros(1, 1, 28, 28)), 1)[0]
    assert metric(at, "Prediction") == info.classes[int(p.argmax())]
    assert len(at.get("image")) == 1
    assert not any("read best by" in c.value for c in at.caption)
    at = open_page({"src": "draw"})
    assert any("read best by" in c.value for c in at.caption)
