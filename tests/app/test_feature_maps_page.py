"""Feature Maps page in AppTest: runs, shows a prediction that matches the engine, widgets change results."""
import json
from functools import partial

import torch

from tests.support import apptest
from cnnviz.inside.shipped import input_image, load_model
from tests.support.rendered import shown


open_page = partial(apptest.open_page, "feature_maps")
metric = apptest.metric


def test_default_model_sample_and_grids():
    at = open_page()
    model, info = load_model("digits_TinyVGG")
    x, _ = input_image(info, "sample", at.session_state["feat_sample"])
    assert metric(at, "Prediction") == info.classes[int(model(x).argmax())]
    titles = [json.dumps(f["layout"], ensure_ascii=False) for f in apptest.figures(at)]
    # readable names first, the module path second: "ReLU 1 · 8×8×8 <sup>features.1</sup>"
    assert sum("ReLU 1 · " in t and "<sup>features.1</sup>" in t for t in titles) == 1
    assert sum('"max pool ' in t for t in titles) == 2
    assert not at.error


def test_validation_image_of_shapes_and_bad_index():
    at = open_page()
    at.selectbox(key="feat_model").set_value("shapes_TinyVGG").run()
    at.radio(key="feat_src").set_value("validation").run()
    at.number_input(key="feat_idx").set_value(3).run()
    model, info = load_model("shapes_TinyVGG")
    x, y = input_image(info, "validation", index=3)
    assert metric(at, "Prediction") == info.classes[int(model(x).argmax())]
    assert any(info.classes[y] in c.value for c in at.caption)
    at.number_input(key="feat_idx").set_value(1999).run()  # only 600 validation shapes
    assert not at.exception
    assert any("index" in shown(e.value) and "0..599" in shown(e.value) for e in at.error)
    assert at.query_params["model"] in ("shapes_TinyVGG", ["shapes_TinyVGG"])
