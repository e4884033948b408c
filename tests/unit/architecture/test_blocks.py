"""Blocks: each usable alone, counts measured by PyTorch equal the closed forms, behaviour checked by hand."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from cnnviz import ConfigError
from cnnviz.architecture.blocks import (Bottleneck, ChannelShuffle, Conv2Plus1D, ConvNeXtBlock, DepthwiseSeparableConv,
                           DilatedResidualDenseBlock, DynamicConv, ShuffleUnit, SqueezeExcite, channel_shuffle,
                           mid_channels)
from cnnviz.architecture.blocks.compare import compare_blocks
from cnnviz.architecture.blocks.scaling import ALPHA, BETA, GAMMA, ScalableCNN, compound_scaling, flops_of, scaled_config

torch.set_num_threads(1)


@pytest.mark.parametrize("c_in,c_out,k,size,groups,r", [(32, 64, 3, 16, 4, 4), (16, 16, 5, 8, 2, 8), (8, 24, 3, 5, 8, 4)])
def test_block_comparison_measured_equals_closed_form(c_in, c_out, k, size, groups, r):
    rows = compare_blocks(c_in, c_out, k, size, groups, r)
    assert [x.name.split(" ")[0] for x in rows] == ["standard", "depthwise-separable", "grouped", "bottleneck",
                                                   "conv", "ConvNeXt"]
    for x in rows:
        assert (x.params, x.flops) == (x.formula_params, x.formula_flops), x.name
        assert x.ratio_measured == pytest.approx(x.ratio_closed, rel=1e-12), x.name
    std, dws, grouped = rows[:3]
    assert std.params == k * k * c_in * c_out and std.flops == 2 * size * size * k * k * c_in * c_out
    assert dws.ratio_measured == pytest.approx(1 / c_out + 1 / k ** 2)
    assert grouped.ratio_measured == pytest.approx(1 / groups) == grouped.flops_ratio


def test_block_comparison_rejects_bad_groups():
    with pytest.raises(ConfigError, match="groups"):
        compare_blocks(6, 8, 3, 8, groups=4)
    with pytest.raises(ConfigError, match="kernel"):
        compare_blocks(8, 8, 4, 8, groups=2)


def test_channel_shuffle_by_hand():
    x = torch.arange(6.0).reshape(1, 6, 1, 1)  # groups of 3: [0 1 2][3 4 5]
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert ChannelShuffle(3)(x).flatten().tolist() == [0, 2, 4, 1, 3, 5]


def test_depthwise_separable_equals_two_convs():
    torch.manual_seed(0)
    m = DepthwiseSeparableConv(3, 5, 3)
    x = torch.randn(2, 3, 6, 6)
    ref = F.conv2d(F.conv2d(x, m.depthwise.weight, padding=1, groups=3), m.pointwise.weight)
    assert torch.allclose(m(x), ref, atol=1e-6)


def test_squeeze_excite_gates_by_hand():
    se = SqueezeExcite(4, 2)
    for p in se.parameters():
        nn.init.zeros_(p)  # every gate sigmoid(0) = 0.5
    x = torch.randn(1, 4, 3, 3)
    assert torch.allclose(se(x), 0.5 * x)


def test_dynamic_conv_is_a_per_example_conv_with_mixed_kernel():
    torch.manual_seed(0)
    m = DynamicConv(3, 4, 3, experts=2)
    x = torch.randn(2, 3, 5, 5)
    y = m(x)
    for i in range(2):
        r = m.router(x[i:i + 1])[0]  # (K,)
        w = (r[:, None, None, None, None] * m.kernels.weight).sum(0)
        assert torch.allclose(y[i:i + 1], F.conv2d(x[i:i + 1], w, r @ m.kernels.bias, padding=1), atol=1e-5)
    assert sum(p.numel() for p in m.kernels.parameters()) == 2 * (4 * 3 * 9 + 4)


def test_r2plus1d_matches_full_3d_parameter_budget():
    c_in, c_out, k, t = 8, 16, 3, 3
    m = Conv2Plus1D(c_in, c_out, k, t)
    full = t * k * k * c_in * c_out
    mid = mid_channels(c_in, c_out, t, k)
    assert m.spatial.weight.numel() + m.temporal.weight.numel() == k * k * c_in * mid + t * mid * c_out
    assert 0.9 * full <= k * k * c_in * mid + t * mid * c_out <= full
    assert m(torch.zeros(1, c_in, 4, 6, 6)).shape == (1, c_out, 4, 6, 6)


@pytest.mark.parametrize("block,in_shape,out_shape", [
    (lambda: ShuffleUnit(16, 2), (16, 6, 6), (16, 6, 6)),
    (lambda: ConvNeXtBlock(8, 12), (8, 6, 6), (12, 6, 6)),
    (lambda: Bottleneck(8, 16), (8, 5, 5), (16, 5, 5)),
    (lambda: DilatedResidualDenseBlock(8, 4, 3), (8, 9, 9), (8, 9, 9)),
])
def test_blocks_run_alone_with_own_activation_instances(block, in_shape, out_shape):
    m = block()
    assert m(torch.randn(2, *in_shape)).shape == (2, *out_shape)
    acts = [x for x in m.modules() if isinstance(x, (nn.ReLU, nn.GELU))]
    assert acts and len({id(a) for a in acts}) == len(acts)
    assert len(list(m.named_modules(remove_duplicate=False))) == len(list(m.named_modules()))  # nothing reused


def test_convnext_starts_as_identity_thanks_to_tiny_layer_scale():
    m = ConvNeXtBlock(8)
    x = torch.randn(1, 8, 5, 5)
    assert torch.allclose(m(x), x, atol=1e-4)


def test_scalable_cnn_flops_by_hand():
    d, widths, res = scaled_config(0)
    flops, c, hw = 0, 3, res
    for stage, w in enumerate(widths):
        for i in range(d):
            hw = hw // 2 if i == 0 and stage else hw
            flops += 2 * hw * hw * 9 * c * w
            c = w
    flops += 2 * c * 10
    assert flops_of(ScalableCNN(d, widths), (3, res, res)) == flops


def test_compound_scaling_rows():
    rows = compound_scaling(2)
    assert [r.phi for r in rows] == [0, 1, 2] and rows[0].ratio == 1.0
    assert rows[1].predicted == pytest.approx(ALPHA * BETA ** 2 * GAMMA ** 2) == pytest.approx(1.92, abs=0.01)
    assert (rows[1].depth, rows[1].widths, rows[1].resolution) == (5, (18, 35, 70), 37)
    assert rows[2].flops == flops_of(ScalableCNN(rows[2].depth, rows[2].widths), (3, 42, 42))
    assert 1.5 < rows[1].ratio < 2.6 and rows[2].ratio > rows[1].ratio
    with pytest.raises(ConfigError, match="phi"):
        compound_scaling(9)
