"""The Explorer's overview as the page draws it — a cached plain spec plus the selection, built without plotly's
validation — is exactly the validated figure (so an invalid property would fail here), for every shipped model;
the probabilities are printed level (never turned on their side) and inside only a long bar; the conv detail's
rows are labelled with their channel and carry their subtotal."""
import json

import pytest
import torch
import torch.nn as nn

from cnnviz.explorer import neuron_detail, overview
from cnnviz.figures import network as figs
from cnnviz.inside.shipped import list_models, load_model, validation_set


@pytest.mark.parametrize("key", list(list_models()))
def test_cached_spec_plus_selection_is_the_validated_figure(key):
    model, info = load_model(key)
    ov = overview(model, validation_set(info.dataset)[0][:1])
    for selected in ((len(ov.columns) - 2, 3),):
        validated = figs.overview_figure(ov, info.classes, selected)  # plotly validates every property here
        fast = figs.with_selection(figs.overview_spec(ov, info.classes), figs.selection_traces(ov, selected))
        assert json.loads(fast.to_json()) == json.loads(validated.to_json())
    bars = next(t for t in validated.data if t.type == "bar")
    assert bars.textangle == 0
    assert list(bars.textposition) == ["inside" if p >= 0.55 else "outside" for p in ov.probabilities]


def test_conv_detail_rows_are_labelled_with_their_subtotals():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1))
    x = torch.rand(1, 3, 5, 5)
    d = neuron_detail(model, x, "0", 1, (2, 2))
    fig = figs.conv_detail_figure(d, patch_range=(0.0, 1.0))
    assert list(fig.layout.yaxis.ticktext) == ["channel 0", "channel 1", "channel 2"]
    labels = [a.text for a in fig.layout.annotations if "from channel" in a.text]
    per = [float((x[0, c, 1:4, 1:4] * model[0].weight[1, c].detach()).sum()) for c in range(3)]
    assert labels == [f"  from channel {c}: <b>{v:.4f}</b>" for c, v in enumerate(per)]
    assert fig.data[0].zmin == 0.0 and fig.data[0].zmax == 1.0  # the picture's greys: 0 black, 1 white
    assert fig.data[0].colorscale[0][1] in ("rgb(0, 0, 0)", "rgb(0,0,0)")  # low is black
