"""Architecture Lab, Blocks drawn tab and the MACs switch in AppTest: every control moves its figure, the numbers
equal PyTorch's (nn.Conv3d, Conv2Plus1D, nn.Conv2d(c, d, p, stride=p), FlopCounterMode), bad sizes name the field."""
from functools import partial

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from tests.support import apptest
from cnnviz.architecture.blocks import Conv2Plus1D, channel_shuffle
from cnnviz.ui import fmt_int
from tests.support.rendered import shown

open_page = partial(apptest.open_page, "architecture_lab")
metric = apptest.metric
DRAWN = {"tab": "Blocks drawn"}  # lazy tabs: only the open tab's elements are in the tree


open_tab = partial(apptest.open_tab, prefix="arch")


def _trace(at, name):
    return next(t for f in apptest.figures(at) for t in f["data"] if t.get("name") == name)


def _titled(at, text):
    return next(f for f in apptest.figures(at)
                if any(text in a.get("text", "") for a in f["layout"].get("annotations", [])))


def _flops(model, x):
    with FlopCounterMode(display=False) as fc:
        model(x)
    return fc.get_total_flops()


def test_channel_shuffle_is_drawn_as_the_real_shuffle():
    at = open_page({"shc": "6", "shg": "3", **DRAWN})
    assert _trace(at, "after")["text"] == ["0", "2", "4", "1", "3", "5"]
    at.number_input(key="arch_shc").set_value(8)
    at.number_input(key="arch_shg").set_value(2).run()
    real = channel_shuffle(torch.arange(8).view(1, 8, 1, 1), 2).flatten().tolist()  # [0, 4, 1, 5, 2, 6, 3, 7]
    assert _trace(at, "after")["text"] == [str(c) for c in real] and _trace(at, "before")["text"][:2] == ["0", "1"]
    assert at.query_params["shc"] == "8"
    at.number_input(key="arch_shg").set_value(3).run()
    assert not at.exception
    assert any("**groups**" in shown(e.value) and "must divide channels=8" in shown(e.value) for e in at.error)


def test_video_costs_equal_conv3d_and_the_2plus1d_block_and_switch_to_macs():
    at = open_page({"vt": "4", "vh": "8", "vw": "6", "vci": "3", "vco": "8", **DRAWN})
    fig = _titled(at, "per clip")
    params, flops, memory = ([b["y"] for b in fig["data"][i:i + 1]][0] for i in range(3))
    x = torch.zeros(1, 3, 4, 8, 6)
    conv3 = nn.Conv3d(3, 8, 3, padding=1, bias=False)
    block = Conv2Plus1D(3, 8, 3, 3).eval()
    assert params == [sum(p.numel() for p in m.parameters()) for m in (conv3, block)]
    assert flops == [_flops(conv3, x), _flops(block, x)]
    assert memory[0] == conv3(x).numel() * 4
    at.toggle(key="arch_macs").set_value(True).run()
    fig = _titled(at, "MACs per clip")
    assert fig["data"][1]["y"] == [f // 2 for f in flops]
    assert at.query_params["macs"] == "1" or at.query_params["macs"] == "true"
    at.number_input(key="arch_vk").set_value(4).run()
    assert any("**kernel k**" in shown(e.value) and "odd" in shown(e.value) for e in at.error)


def test_dynamic_conv_attention_sums_to_one_and_differs_between_images():
    at = open_page(DRAWN)
    fig = _titled(at, "A: red stripes")
    a, b = (t["y"] for t in fig["data"])
    assert len(a) == len(b) == 4 and abs(sum(a) - 1) < 1e-6 and abs(sum(b) - 1) < 1e-6
    assert max(abs(u - v) for u, v in zip(a, b)) > 0.05
    at.selectbox(key="arch_dimg2").set_value("red stripes")
    at.number_input(key="arch_dk").set_value(6).run()
    a, b = (t["y"] for t in _titled(at, "A: red stripes")["data"])
    assert len(a) == 6 and a == b  # the same input, the same mix
    assert at.query_params["dk"] == "6"


def test_patch_embedding_is_a_strided_conv_and_bad_sizes_name_the_field():
    at = open_page(DRAWN)
    assert metric(at, "Tokens") == "196"  # (224 / 16)²
    assert metric(at, "Embed params") == fmt_int(768 * 3 * 16 * 16 + 768)
    at.number_input(key="arch_pimg").set_value(32)
    at.number_input(key="arch_pp").set_value(4)
    at.number_input(key="arch_pd").set_value(16).run()
    conv = nn.Conv2d(3, 16, 4, stride=4)
    out = conv(torch.zeros(1, 3, 32, 32))  # (1, 16, 8, 8)
    assert metric(at, "Tokens") == str(out.flatten(2).shape[2]) == "64"
    assert metric(at, "Embed params") == fmt_int(sum(p.numel() for p in conv.parameters()))
    assert len(_trace_text(at)) == 64  # the 8 × 8 grid is numbered
    at.number_input(key="arch_pp").set_value(5).run()
    assert not at.exception
    assert any("**patch size**" in shown(e.value) and "must divide image size 32" in shown(e.value)
               for e in at.error)


def _trace_text(at):
    return next(t for f in apptest.figures(at) for t in f["data"] if t.get("mode") == "text")["text"]


def test_the_macs_switch_halves_every_flops_figure():
    at = open_page({"preset": "LeNet-5"})  # the Presets tab: the layer report
    flops = metric(at, "FLOPs")
    block_flops = open_tab(at, "Block comparison").dataframe[0].value["FLOPs"].tolist()
    at.toggle(key="arch_macs").set_value(True).run()  # the switch is above the tabs
    assert not at.exception
    assert at.dataframe[0].value["MACs"].tolist() == [f // 2 for f in block_flops]
    assert _titled(at, "MACs, batch 1")
    from cnnviz.architecture.presets import build_preset
    from cnnviz.architecture.summary import summarize
    s = summarize(*build_preset("LeNet-5"))
    open_tab(at, "Presets")
    assert flops == fmt_int(s.total_flops) and metric(at, "MACs") == fmt_int(s.total_flops // 2)
    assert _titled(at, "Where the MACs go")
    for label in ("Blocks drawn", "Builder + export", "Principles in numbers", "Search (NAS)"):  # every other tab
        open_tab(at, label)
        assert not at.exception
        assert not [m.label for m in at.metric if "FLOPs" in m.label], label
        assert not [c for d in at.dataframe for c in d.value.columns if "FLOPs" in str(c)], label
        assert not [a["text"] for f in apptest.figures(at) for a in f["layout"].get("annotations", [])
                    if "FLOPs" in a.get("text", "")], label
