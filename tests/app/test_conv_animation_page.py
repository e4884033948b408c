"""Convolution Animation page in AppTest: shapes and the shown value equal PyTorch; bad input names the field."""
import re
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from tests.support import apptest
from cnnviz.animation import kernel_preset, sample_input
from tests.support.rendered import shown


open_page = partial(apptest.open_page, "conv_animation")
def metrics(at):
    return [(m.label, m.value) for m in at.metric if m.label in ("Output", "Steps")]


def shown_values(at):
    """The readout of every animation (its title, which the frames rewrite), as 'Step k: out[..] = v'."""
    out = []
    for f in apptest.figures(at):
        if f.get("frames"):
            t = re.sub(r"<[^>]+>", "", f["layout"]["title"]["text"]).replace("−", "-")
            m = re.match(r"Step (\d+) of \d+: (out\[[^\]]+\]) = (\S+)", t)
            out.append(f"Step {m[1]}: {m[2]} = {m[3]}")
    return out


def test_every_frame_rewrites_the_readout():
    at = open_page({"stride": "2"})
    fig = next(f for f in apptest.figures(at) if f.get("frames"))
    x = torch.tensor(sample_input("digit"))[None, None]
    ref = F.conv2d(x, torch.tensor(kernel_preset("sobel x"))[None, None], stride=2, padding=1)[0, 0]  # 4×4
    titles = [re.sub(r"<[^>]+>", "", fr["layout"]["title"]["text"]).replace("−", "-") for fr in fig["frames"]]
    assert len(titles) == 16
    assert titles[5].startswith(f"Step 6 of 16: out[1,1] = {ref[1, 1].item():.4g}")
    assert titles[15].startswith(f"Step 16 of 16: out[3,3] = {ref[3, 3].item():.4g}")


def test_default_step_and_stride_match_torch():
    at = open_page()
    assert metrics(at)[:2] == [("Output", "8×8"), ("Steps", "64")]
    x = torch.tensor(sample_input("digit"))[None, None]
    w = torch.tensor(kernel_preset("sobel x"))[None, None]
    ref = F.conv2d(x, w, padding=1)[0, 0]
    assert shown_values(at)[0] == f"Step 1: out[0,0] = {ref[0, 0].item():.4g}"
    at.number_input(key="anim_stride").set_value(2).run()
    at.number_input(key="anim_step").set_value(6).run()  # 4×4 output: step 6 is out[1,1]
    ref = F.conv2d(x, w, stride=2, padding=1)[0, 0]
    assert metrics(at)[:2] == [("Output", "4×4"), ("Steps", "16")]
    assert shown_values(at)[0] == f"Step 6: out[1,1] = {ref[1, 1].item():.4g}"
    assert at.query_params["stride"] == ["2"] or at.query_params["stride"] == "2"
    fig = at.get("plotly_chart")[0].proto.spec
    assert '"frames"' in fig and '"Play"' in fig


def test_reflect_padding_from_link_and_bad_same_padding():
    at = open_page({"mode": "reflect", "padding": "2"})
    x = torch.tensor(sample_input("digit"))[None, None]
    w = torch.tensor(kernel_preset("sobel x"))[None, None]
    ref = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), w)[0, 0]
    assert metrics(at)[:2] == [("Output", "10×10"), ("Steps", "100")]
    assert shown_values(at)[0] == f"Step 1: out[0,0] = {ref[0, 0].item():.4g}"
    at.selectbox(key="anim_pad").set_value("same").run()
    at.number_input(key="anim_stride").set_value(2).run()
    assert any("padding" in shown(e.value) and "same" in shown(e.value) for e in at.error)


def test_pooling_tab_ceil_and_global():
    at = open_page({"pk": "3", "ceil": "1", "tab": "Pooling"})
    x = torch.tensor(sample_input("digit"))[None, None]
    ref = F.max_pool2d(x, 3, 2, ceil_mode=True)[0, 0]
    assert metrics(at) == [("Output", "×".join(map(str, ref.shape))), ("Steps", str(ref.numel()))]
    assert shown_values(at)[0] == f"Step 1: out[0,0] = {ref[0, 0].item():.4g}"
    at.toggle(key="anim_glob").set_value(True).run()
    assert metrics(at) == [("Output", "1×1"), ("Steps", "1")]
    assert shown_values(at)[0] == f"Step 1: out[0,0] = {np.max(sample_input('digit')):.4g}"
    at.radio(key="anim_pkind").set_value("avg").run()
    assert shown_values(at)[0] == f"Step 1: out[0,0] = {np.mean(sample_input('digit')):.4g}"


def test_typed_input_and_its_errors():
    at = open_page({"source": "typed"})
    assert metrics(at)[:2] == [("Output", "4×4"), ("Steps", "16")]  # 4×4 typed, k3, p1
    at.text_area(key="anim_text").set_value("1 2 3; 4 5").run()
    assert any("typed input" in shown(e.value) and "same number" in shown(e.value) for e in at.error)
    assert not at.exception


def test_1d_tab_equals_conv1d():
    from cnnviz.animation.nd import kernel_1d, signal_input
    at = open_page({"sig": "random", "slen": "12", "k1": "gaussian", "k1n": "5", "s1": "2", "p1": "2",
                    "m1": "reflect", "step1": "4", "tab": "1-D"})
    x = torch.tensor(signal_input("random", 12, seed=0))[None, None]
    w = torch.tensor(kernel_1d("gaussian", 5))[None, None]
    ref = F.conv1d(F.pad(x, (2, 2), mode="reflect"), w, stride=2)[0, 0]
    assert metrics(at) == [("Output", str(len(ref))), ("Steps", str(len(ref)))]
    assert f"Step 4: out[3] = {ref[3].item():.4g}" in shown_values(at)
    at.selectbox(key="anim_pad1").set_value("same").run()  # stride 2: PyTorch refuses 'same'
    assert any("padding" in shown(e.value) and "same" in shown(e.value) for e in at.error)


def test_3d_tab_equals_conv3d():
    from cnnviz.animation.nd import volume_demo
    at = open_page({"vd": "5", "vkd": "3", "vs": "2", "vp": "1", "vz": "2", "vstep": "4", "tab": "3-D"})
    x, w = (torch.tensor(a)[None, None] for a in volume_demo(5, 3, seed=0))
    ref = F.conv3d(x, w, stride=2, padding=1)[0, 0]  # (3, 2, 2)
    titles = next(t for t in ([a["text"] for a in f["layout"].get("annotations", [])] for f in apptest.figures(at))
                  if t and t[0].startswith("slice"))
    assert [t.split(":")[0] for t in titles[:3]] == ["slice 1", "slice 2", "slice 3"]
    assert titles[3].endswith(f"= {ref[1].flatten()[3].item():g}")  # plane 2, step 4 = out[1, 1, 1]
    assert any("reads input depths 1, 2, 3 " in c.value for c in at.caption)


def test_a_link_opens_its_tab_and_an_unknown_tab_is_ignored_with_a_notice():
    at = open_page({"tab": "Pooling"})
    assert at.session_state["anim_tab"] == "Pooling" and [m.label for m in at.metric] == ["Output", "Steps"]
    at = open_page({"tab": "Nope"})
    assert at.session_state["anim_tab"] == "Convolution"
    assert any("Ignored the link's value tab='Nope'" in shown(i.value) for i in at.info)  # as text
