"""The Explorer's overview with long class names and hidden channels (Fashion-MNIST's TinyVGG, width 16): the
feature-map columns end left of the room the class names need, and the "16×28×28 +8" shape labels alternate
between two heights so neighbours never share a line; the digits model (width 8) keeps its layout."""
import pytest

from cnnviz.explorer import overview
from cnnviz.figures.network import overview_spec
from cnnviz.inside.shipped import input_image, load_model


def spec_for(key: str, sample: str) -> tuple[dict, dict]:
    """The overview spec and its shape-label trace (traces: lines, arcs, one heatmap per column, column names,
    shape labels, clickable markers, probability bars)."""
    model, info = load_model(key)
    x, _ = input_image(info, "sample", sample)
    spec = overview_spec(overview(model, x.to(next(model.parameters()).device)), info.classes)
    shapes = spec["data"][-3]
    assert shapes["mode"] == "text" and shapes["textposition"] == "bottom center"
    return spec, shapes


def test_long_class_names_get_room_and_shape_labels_alternate():
    spec, shapes = spec_for("fashion_TinyVGG", "fashion_Bag_0")
    longest = len("T-shirt/top")
    assert spec["layout"]["xaxis"]["domain"][1] == pytest.approx(0.88 - (8 * longest + 10) / 1150)
    assert spec["layout"]["xaxis2"]["domain"] == [0.88, 1]
    assert shapes["text"][1] == "16×28×28 +8"
    y = shapes["y"]  # columns 1 (conv 1) and 3 (conv 2) half a unit below columns 2 (ReLU 1)
    assert y[1] - y[2] == pytest.approx(0.5) and y[3] - y[2] == pytest.approx(0.5)


def test_digits_layout_is_unchanged():
    spec, shapes = spec_for("digits_TinyVGG", "digits_3_0")
    assert spec["layout"]["xaxis"]["domain"] == [0, 0.85]
    assert shapes["y"][1] == pytest.approx(shapes["y"][2]) and shapes["text"][1] == "8×8×8"
    assert shapes["text"][-1] == "10 +2"  # short labels: one line, as before
