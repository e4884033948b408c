"""Network Explorer in AppTest, the neuron view: a thumbnail click selects that channel's most active neuron and
says so; a conv reading several channels shows one labelled subtotal per input channel, adding up to the sum; batch
norm, the residual addition and the linear layer show their arithmetic with PyTorch's value (the engine's numbers,
recomputed here from the model's parameters and a forward hook)."""
import math
import re
from functools import partial

import pytest
import torch

from tests.support import apptest
from cnnviz.explorer import neuron_detail, overview
from cnnviz.inside.shipped import input_image, load_model

open_page = partial(apptest.open_page, "network_explorer")
NUMBER = r"(-?\d+\.\d+)"


def click(at, column: int, channel: int):
    """What the overview chart sends when a thumbnail is clicked: its customdata [column, channel]."""
    at.session_state["net_click"] = {"selection": {"points": [{"customdata": [column, channel]}], "point_indices": [0],
                                                   "box": [], "lasso": []}}
    return at.run()


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown).replace("\\", "")  # escaped markdown, read as text


def hook(model, x, path):
    seen = {}
    h = model.get_submodule(path).register_forward_hook(lambda m, a, out: seen.__setitem__("out", out.detach()))
    with torch.no_grad():
        model.eval()(x)
    h.remove()
    return seen["out"]


def test_a_thumbnail_click_selects_the_most_active_neuron_and_conv_subtotals_add_up():
    at = open_page({"model": "digits_TinyVGG"})
    model, info = load_model("digits_TinyVGG")
    x, _ = input_image(info, "sample", at.session_state["net_sample"])
    ov = overview(model, x)
    c = next(k for k, col in enumerate(ov.columns) if col.path == "features.2")  # conv 2: 8 input channels
    click(at, c, 3)
    assert at.session_state["net_layer"] == ov.columns[c].name and at.session_state["net_ch"] == 3
    m = hook(model, x, "features.2")[0, 3]
    i, j = at.session_state["net_i"], at.session_state["net_j"]
    assert float(m[i, j]) == float(m.max())  # the argmax, not [0, 0]
    assert any(f"most active neuron of channel 3, at ({i}, {j})" in t.value for t in at.caption)
    text = markdown(at)
    d = neuron_detail(model, x, "features.2", 3, (i, j))
    subs = [float(v) for v in re.findall(r"from channel \d+: " + NUMBER, text)]
    assert len(subs) == 8 == len(d.channels)
    per = [float((d.patch[k] * model.features[2].weight[3, k].detach()).sum()) for k in range(8)]
    assert subs == pytest.approx(per, abs=1e-4)
    total = float(re.search(r"= Σ products \*\*" + NUMBER, text)[1])
    assert math.fsum(subs) == pytest.approx(total, abs=5e-4)
    fig = next(f for f in apptest.figures(at) if "Σ products" in str(f["layout"].get("title")))
    labels = [a["text"] for a in fig["layout"]["annotations"] if "from channel" in a["text"]]
    assert len(labels) == 8 and fig["layout"]["yaxis"]["ticktext"][0] == "channel 0"


def test_batchnorm_addition_and_linear_show_their_arithmetic_beside_pytorch():
    at = open_page({"model": "digits_SmallResNet", "every": "1", "layer": "block 1 · batch norm 2", "ch": "2",
                    "i": "3", "j": "4"})
    model, info = load_model("digits_SmallResNet")
    x, _ = input_image(info, "sample", at.session_state["net_sample"])
    bn = model.layer1.bn2
    bn_w, bn_b = bn.weight.detach(), bn.bias.detach()
    inp = hook(model, x, "layer1.conv2")[0, 2, 3, 4]
    want = float((inp - bn.running_mean[2]) / torch.sqrt(bn.running_var[2] + bn.eps) * bn_w[2] + bn_b[2])
    text = markdown(at)
    assert "(x − μ) / √(σ² + ε) · γ + β" in text and f"{float(bn.running_mean[2]):.4f}" in text
    got = re.search(r"= \*\*" + NUMBER + r"\*\* \(PyTorch's value: \*\*" + NUMBER, text)
    assert float(got[1]) == pytest.approx(want, abs=1e-4) and float(got[2]) == pytest.approx(want, abs=1e-4)
    at.selectbox(key="net_layer").set_value("block 1 · add").run()
    text = markdown(at)
    branch, short = float(hook(model, x, "layer1.bn2")[0, 2, 3, 4]), float(hook(model, x, "layer1.shortcut")[0, 2, 3, 4])
    worked = " + ".join(f"(−{-v:.4f})" if v < 0 else f"{v:.4f}" for v in (branch, short))  # negatives bracketed
    assert f"{worked} = **{branch + short:.4f}**" in text
    at.selectbox(key="net_layer").set_value("linear 1").run()
    text = markdown(at)
    logits = hook(model, x, "fc")[0]
    unit = at.session_state["net_ch"]
    assert f"PyTorch's value: **{float(logits[unit]):.4f}**" in text and "the other 24 products" in text
