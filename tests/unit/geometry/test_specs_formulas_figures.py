"""Specs, formulas, the geometry figure and the PyTorch badge: values, not just that code ran."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.torch_oracle import torch_conv

from cnnviz import ConfigError
from cnnviz.geometry.arithmetic import conv_geometry, pool_geometry, receptive_field_table
from cnnviz.figures.conv_grid import IDX, conv_axes, geometry_figure, pool_axes
from cnnviz.geometry.formulas import (conv_flops_formula, conv_output_formulas, conv_params_formula, pool_output_formulas,
                             receptive_field_formula)
from cnnviz.geometry.specs import ConvSpec, PoolSpec, spec_from_dict
from cnnviz.geometry.verify import check_with_pytorch


@settings(max_examples=60, deadline=None, derandomize=True)
@given(dims=st.integers(1, 3), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
       g=st.sampled_from([1, 2]), tr=st.booleans())
def test_spec_build_code_and_dict_agree_with_torch(dims, k, s, p, d, g, tr):
    spec = ConvSpec(dims, 4, 6, k, s, p, d, g, True, "zeros", tr, 0)
    in_shape = (4,) + (6,) * dims
    ref = torch_conv(in_shape, 6, k, s, p, d, g, tr, 0)
    if isinstance(ref, Exception):
        with pytest.raises(ConfigError):
            spec.output_shape(in_shape)
        return
    assert spec.output_shape(in_shape) == ref[0]
    assert spec.flops(in_shape) == ref[1]
    assert spec.params() == ref[2] == sum(q.numel() for q in spec.build().parameters())
    rebuilt = eval(spec.to_code(), {"nn": nn})  # the exported code is the same layer
    assert repr(rebuilt) == repr(spec.build())
    assert spec_from_dict(spec.to_dict()) == spec


def test_pool_spec_code_and_build():
    spec = PoolSpec(2, 3, 2, 1, 2, True, "max")
    assert spec.to_code() == "nn.MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"
    assert tuple(spec.build()(torch.zeros(1, 2, 9, 9)).shape[1:]) == spec.output_shape((2, 9, 9)) == (2, 4, 4)
    with pytest.raises(ConfigError, match="dilation"):
        PoolSpec(2, 3, kind="avg", dilation=2).build()


def test_spec_from_dict_rejects_unknown():
    with pytest.raises(ConfigError, match="type"):
        spec_from_dict({"type": "lstm"})
    with pytest.raises(ConfigError, match="unknown field"):
        spec_from_dict({"type": "conv", "dims": 2, "in_channels": 1, "out_channels": 1, "evil": 1})


def test_formulas_carry_the_engine_values_and_the_users_numbers():
    g = conv_geometry((3, 7, 9), 8, (3, 5), stride=2, padding=1, dilation=(1, 2), groups=1)
    outs = conv_output_formulas(g)
    assert [f.value for f in outs] == list(g.spatial_out) == [4, 2]
    assert r"\frac{9 + 2\cdot1 - 2\cdot(5-1) - 1}{2}" in outs[1].substituted
    params = conv_params_formula(g, bias=True)
    assert params.value == 8 * 3 * 15 + 8 == sum(p.numel() for p in nn.Conv2d(3, 8, (3, 5)).parameters())
    assert conv_flops_formula(g).value == 2 * 4 * 2 * 15 * 8 * 3
    assert outs[0].latex.endswith(r"&= 4 \end{aligned}")
    pg = pool_geometry((1, 5), 2, 2, ceil_mode=True)
    f = pool_output_formulas(pg)[0]
    assert f.value == 3 and r"\lceil" in f.general
    dropped = pool_output_formulas(pool_geometry((1, 5), 2, 2, padding=1, ceil_mode=True))[0]
    assert dropped.value == 3 and "padding" in dropped.substituted  # ceil gives 4; PyTorch drops the last
    assert nn.MaxPool1d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5)).shape[-1] == 3
    rf = receptive_field_formula(receptive_field_table([{"kernel_size": 3, "stride": 2}, {"kernel_size": 3}]))
    assert rf.value == 7 and rf.substituted == r"1 + 1\cdot(3-1)\cdot1 + 1\cdot(3-1)\cdot2"


def test_thousands_in_latex():
    g = conv_geometry((64, 56, 56), 64, 3, padding=1)
    assert "{,}" in conv_flops_formula(g).latex


def _grid(fig, i):
    return np.asarray(fig.data[i].z)


def test_geometry_figure_draws_padding_taps_and_output():
    g = conv_geometry((1, 5, 5), 1, 3, stride=2, padding=1, dilation=2)  # out 2x2
    fig = geometry_figure(conv_axes(g), "t", step=(1, 1))
    grid_in, grid_out = _grid(fig, 0), _grid(fig, 1)
    assert grid_in.shape == (7, 7) and grid_out.shape == g.spatial_out == (2, 2)
    taps = (grid_in == IDX["kernel tap on input"]) | (grid_in == IDX["kernel tap on padding"])
    rows, cols = np.nonzero(taps)
    assert taps.sum() == 9 and set(rows) == {2, 4, 6} and set(cols) == {2, 4, 6}  # window of output (1,1)
    assert (grid_in[0] == IDX["padding"]).all()
    assert grid_out[1, 1] == IDX["output cell this window writes"] and (grid_out == IDX["output"]).sum() == 3


def test_geometry_figure_layout_is_make_subplots_two_columns():
    """Built in one constructor call: the layout make_subplots(1, 2, column_widths, horizontal_spacing=0.08) gives,
    by hand: a 9×9 input, k 3, s 2, p 1 pads to 11 columns and writes 5, so 0.92·11/16 = 0.6325 for the input."""
    g = conv_geometry((1, 9, 9), 1, 3, stride=2, padding=1)
    lay = geometry_figure(conv_axes(g), "t").layout
    assert lay.xaxis.domain == pytest.approx((0, 0.6325)) and lay.xaxis2.domain == pytest.approx((0.7125, 1.0))
    assert (lay.xaxis.anchor, lay.yaxis.anchor, lay.xaxis2.anchor, lay.yaxis2.anchor) == ("y", "x", "y2", "x2")
    assert lay.xaxis.scaleanchor == "y" and lay.xaxis2.scaleanchor == "y2"  # square cells
    assert lay.yaxis.autorange == lay.yaxis2.autorange == "reversed"  # row 0 on top
    assert [(a.text, round(a.x, 6), a.y, a.yanchor) for a in lay.annotations] == [
        ("Input 9×9 with padding → 11×11", 0.31625, 1.0, "bottom"), ("Output 5×5", 0.85625, 1.0, "bottom")]
    fig = geometry_figure(conv_axes(g), "t")
    assert [(t.xaxis, t.yaxis) for t in fig.data[:2]] == [("x", "y"), ("x2", "y2")]


def test_transposed_is_drawn_as_direct_conv_with_inserted_zeros():
    g = conv_geometry((1, 3, 3), 1, 3, stride=2, transposed=True)  # out 7x7
    fig = geometry_figure(conv_axes(g), "t")
    grid_in = _grid(fig, 0)
    # 3 inputs + 2 inserted zeros + 2·(k−1) padding = 9; a stride-1 3x3 conv over it gives 7
    assert grid_in.shape == (9, 9) and _grid(fig, 1).shape == (7, 7)
    # input at rows/cols 2, 4, 6; zeros at 3, 5: 2·5 + 5·2 − 4 cells that are a zero on some axis
    assert (grid_in == IDX["inserted zero (stride of the transposed conv)"]).sum() == 16
    assert (grid_in == IDX["input"]).sum() + (grid_in == IDX["kernel tap on input"]).sum() == 9


def test_pool_figure_and_large_grids_are_summarised():
    pg = pool_geometry((1, 6, 6), 2)
    assert _grid(geometry_figure(pool_axes(pg), "p"), 1).shape == (3, 3)
    big = conv_geometry((1, 300, 300), 1, 3)
    fig = geometry_figure(conv_axes(big), "big")
    assert "Too large" in fig.layout.annotations[0].text


def test_badge_agrees_and_guards_size():
    spec = ConvSpec(2, 3, 8, 3, padding=1)
    ok = check_with_pytorch(spec, (3, 7, 7), spec.output_shape((3, 7, 7)), spec.flops((3, 7, 7)))
    assert ok.ran and ok.agrees and ok.torch_shape == (8, 7, 7)
    wrong = check_with_pytorch(spec, (3, 7, 7), (8, 6, 6), spec.flops((3, 7, 7)))
    assert wrong.ran and not wrong.agrees
    huge = check_with_pytorch(spec, (3, 2048, 2048), (8, 2048, 2048))
    assert not huge.ran and "too large" in huge.message
