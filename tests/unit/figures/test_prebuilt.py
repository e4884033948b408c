"""A Prebuilt figure skips plotly's validation; these tests prove there was nothing to fix: validating its spec
changes no property, and Streamlit's serialisation path gives the same JSON as for the validated figure."""
import base64
import json

import numpy as np
import plotly.io as pio
import pytest
from plotly.tools import return_figure_from_figure_or_data

from cnnviz.animation.conv2d import conv2d_steps, kernel_preset, pool2d_steps
from cnnviz.animation.nd import conv1d_steps, signal_input
from cnnviz.figures.animation import animation_figure
from cnnviz.figures.prebuilt import Prebuilt

rng = np.random.default_rng(0)


def plain(v):
    """JSON with plotly's typed arrays ({"dtype", "bdata"}, what validation makes of numpy arrays) as lists."""
    if isinstance(v, dict) and "bdata" in v and "dtype" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        shape = [int(n) for n in str(v.get("shape", len(a))).split(",")]  # plotly writes "6, 6"
        return a.reshape(shape).tolist()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return [plain(x) for x in v] if isinstance(v, list) else v
X = rng.integers(0, 10, (6, 6)).astype(float)


@pytest.mark.parametrize("steps, step", [
    (conv2d_steps(X, kernel_preset("sobel x"), 0.5, 1, 1, 1, "reflect"), 3),
    (pool2d_steps(X, 2), 0),
    (conv1d_steps(signal_input("random", 12), np.ones(3), padding="same"), 5),
])
def test_validating_the_spec_changes_nothing(steps, step):
    fig = animation_figure(steps, step)
    assert isinstance(fig, Prebuilt)
    mine = plain(json.loads(pio.to_json(fig.to_dict(), validate=False)))
    checked = plain(json.loads(pio.to_json(fig.figure(), validate=True)))  # every frame's every property validated
    assert mine == checked
    assert len(mine["frames"]) == len(steps) and mine["layout"]["sliders"][0]["active"] == step


def test_streamlit_reads_the_spec_and_callers_cannot_change_it():
    fig = animation_figure(pool2d_steps(X, 3), 1)
    d = return_figure_from_figure_or_data(fig, validate_figure=True)  # what st.plotly_chart does first
    assert pio.to_json(d) == pio.to_json(fig.to_dict()) and len(d["frames"]) == 4
    d["layout"]["title"]["text"] = "changed"
    assert fig.to_dict()["layout"]["title"]["text"] != "changed"
