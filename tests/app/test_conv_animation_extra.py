"""Conv Animation's Transposed, Multi-channel and Pitfalls tabs in AppTest: the numbers they draw equal PyTorch."""
import base64
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from tests.support import apptest
from cnnviz.animation import sample_input
from cnnviz.animation.extra import center_crop, channel_demo
from tests.support.rendered import shown


open_page = partial(apptest.open_page, "conv_animation")
figures = apptest.figures


def array(z):
    """A heatmap's z: plotly sends numpy arrays as typed arrays ({dtype, bdata, shape})."""
    if isinstance(z, dict):
        shape = tuple(int(v) for v in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.array(z, dtype=float)


def titles(fig):
    return [a["text"] for a in fig["layout"].get("annotations", [])]


def heatmaps(fig):
    return [t for t in fig["data"] if t["type"] == "heatmap"]


def test_transposed_tab_output_equals_torch_and_shows_checkerboard():
    at = open_page({"tstep": "16", "tk": "3", "ts": "2", "tab": "Transposed"})
    fig = next(f for f in figures(at) if "Stamps per cell" in titles(f))
    assert "Output after 16 of 16" in titles(fig)
    x = torch.tensor(center_crop(sample_input("digit"), 4))[None, None]
    ref = F.conv_transpose2d(x, torch.ones(1, 1, 3, 3, dtype=torch.float64), stride=2)[0, 0].numpy()
    out, counts = heatmaps(fig)[2]["z"], heatmaps(fig)[3]["z"]
    np.testing.assert_allclose(array(out), ref)
    assert set(np.unique(array(counts)[1:-1, 1:-1])) == {1, 2, 4}


def test_transposed_bad_output_padding_is_an_error_not_a_traceback():
    at = open_page({"top": "2", "ts": "2", "tab": "Transposed"})
    assert any("output_padding" in shown(e.value) for e in at.error)


def test_multichannel_partials_add_up_to_conv2d():
    at = open_page({"mc": "3", "mstep": "5", "tab": "Multi-channel"})
    fig = next(f for f in figures(at) if any(t.startswith("channel 2") for t in titles(f)))
    x, w = channel_demo(3, 0)
    ref = F.conv2d(torch.tensor(x)[None], torch.tensor(w)[None])[0, 0].numpy()
    parts = [F.conv2d(torch.tensor(x[c])[None, None], torch.tensor(w[c])[None, None])[0, 0, 1, 1].item()
             for c in range(3)]
    assert titles(fig)[:3] == [f"channel {c}: Σ = {p:.0f}".replace("-", "−") for c, p in enumerate(parts)]
    assert titles(fig)[3].endswith(f"= {ref[1, 1]:.0f}".replace("-", "−"))  # step 5 of 3×3 is out[1,1]


def test_pitfalls_numbers_from_the_engine():
    at = open_page({"un": "8", "uk": "3", "us": "2", "sk": "4", "tab": "Pitfalls"})
    t = [titles(f)[0] for f in figures(at) if titles(f)]
    assert "15 of 64 cells never read (✕)" in t
    assert "pad 1 before, 2 after" in t
    at = open_page({"un": "7", "sk": "3", "tab": "Pitfalls"})
    t = [titles(f)[0] for f in figures(at) if titles(f)]
    assert "0 of 49 cells never read (✕)" in t and "pad 1 before, 1 after" in t
