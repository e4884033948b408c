"""Gridding coverage (path counts of a dilated stack) and the four padding modes: checked against PyTorch's
own gradients and modules, and against hand-counted numbers."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz import ConfigError
from cnnviz.animation.padding_modes import border_mask, padding_mode_outputs
from cnnviz.geometry import receptive_field
from cnnviz.geometry.gridding import coverage, unreached_formula, with_rates
from cnnviz.limits import MAX_COVERAGE_CELLS, MAX_RF_LAYERS


def torch_path_counts(layers, dims=1) -> np.ndarray:
    """d out[centre] / d x for a stack of all-ones, bias-free nn.Conv1d/2d on an input one receptive field wide:
    the output is one cell, and its gradient counts the paths from each input cell."""
    conv = nn.Conv1d if dims == 1 else nn.Conv2d
    mods = [conv(1, 1, l["kernel_size"], stride=l.get("stride", 1), dilation=l.get("dilation", 1), bias=False)
            for l in layers]
    for m in mods:
        nn.init.ones_(m.weight)
    r = receptive_field(layers)
    x = torch.zeros(1, 1, *([r] * dims), dtype=torch.float64, requires_grad=True)  # (1, 1, r[, r])
    y = nn.Sequential(*mods).double()(x)
    assert y.shape[2:] == (1,) * dims  # exactly one output cell
    y.sum().backward()
    return x.grad[0, 0].numpy()


def test_rates_2_2_2_leave_a_checkerboard_and_1_2_3_fill_it():
    same = coverage([dict(kernel_size=3, dilation=2)] * 3)
    assert same.counts == (1, 0, 3, 0, 6, 0, 7, 0, 6, 0, 3, 0, 1)  # trinomial coefficients on the even cells
    assert (same.receptive_field, same.unreached, same.unreached2d) == (13, 6, 13 * 13 - 7 * 7)
    hybrid = coverage(with_rates([dict(kernel_size=3, stride=1, dilation=2)] * 3, "1,2,3"))
    assert hybrid.counts == (1, 1, 2, 2, 3, 3, 3, 3, 3, 2, 2, 1, 1) and hybrid.unreached2d == 0
    assert unreached_formula(same).value == 6
    np.testing.assert_array_equal(torch_path_counts(same.layers), same.counts)
    np.testing.assert_array_equal(torch_path_counts(same.layers, dims=2), same.map2d())
    np.testing.assert_array_equal(torch_path_counts(hybrid.layers, dims=2), hybrid.map2d())


layer = st.fixed_dictionaries(dict(kernel_size=st.integers(1, 4), stride=st.integers(1, 3),
                                   dilation=st.integers(1, 4)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(layer, min_size=1, max_size=4))
def test_path_counts_equal_pytorch_gradients(layers):
    cov = coverage(layers)
    assert cov.receptive_field == receptive_field(layers)
    grad = torch_path_counts(layers)
    np.testing.assert_array_equal(grad, cov.counts)
    assert cov.unreached == int((grad == 0).sum())
    assert cov.counts[0] >= 1 and cov.counts[-1] >= 1  # the two ends of the receptive field are always read


def test_limits_and_bad_rates():
    with pytest.raises(ConfigError, match="limit of 256"):
        coverage([dict(kernel_size=MAX_COVERAGE_CELLS + 1)])
    with pytest.raises(ConfigError, match="limit of 64"):
        coverage([dict(kernel_size=1)] * (MAX_RF_LAYERS + 1))
    layers = [dict(kernel_size=3, stride=1, dilation=1)] * 3
    with pytest.raises(ConfigError, match="one rate per layer"):
        with_rates(layers, "1,2")
    for bad in ("1,x,3", "1,0,3", "1,-2,3", "1,2,99999"):
        with pytest.raises(ConfigError, match="rates"):
            with_rates(layers, bad)
    assert [l["dilation"] for l in with_rates(layers, " 1, 2 ,3")] == [1, 2, 3]
    assert coverage([]).counts == (1,)


@pytest.mark.parametrize("pad, stride, dilation, shape", [(1, 1, 1, (6, 7)), (2, 1, 1, (5, 5)), (1, 2, 1, (7, 6)),
                                                           (2, 1, 2, (6, 6))])
def test_padding_modes_equal_nn_conv2d_padding_mode(pad, stride, dilation, shape):
    rng = np.random.default_rng(0)
    x, w = rng.integers(0, 10, shape).astype(float), rng.standard_normal((3, 3))
    results = padding_mode_outputs(x, w, pad, stride, dilation)
    assert [r.mode for r in results] == ["zeros", "reflect", "replicate", "circular"]
    for r in results:
        conv = nn.Conv2d(1, 1, 3, stride=stride, padding=pad, dilation=dilation, bias=False, padding_mode=r.mode)
        conv.weight.data = torch.from_numpy(w)[None, None]
        want = conv.double()(torch.from_numpy(x)[None, None])[0, 0].detach().numpy()
        np.testing.assert_allclose(r.out, want, rtol=0, atol=1e-12)
        assert r.border_mean == pytest.approx(want[r.border].mean())
        assert r.interior_mean == pytest.approx(want[~r.border].mean())
    inner = [r.out[~r.border] for r in results]  # the interior never reads padding: the same in all four
    for other in inner[1:]:
        np.testing.assert_array_equal(other, inner[0])


def test_zero_padding_darkens_a_constant_image_by_hand():
    """A 4×4 image of 9s, 3×3 mean kernel, pad 1: a corner window holds 4 image cells (mean 4), an edge one 6
    (mean 6), the inside 9. Ring of 12 cells: 4 corners + 8 edges -> (4·4 + 8·6) / 12 = 16/3; Δ = 16/3 − 9."""
    res = {r.mode: r for r in padding_mode_outputs(np.full((4, 4), 9.0), np.full((3, 3), 1 / 9), 1)}
    assert res["zeros"].out[0, 0] == pytest.approx(4.0) and res["zeros"].out[0, 1] == pytest.approx(6.0)
    assert res["zeros"].border_mean == pytest.approx(16 / 3) and res["zeros"].interior_mean == pytest.approx(9)
    assert res["zeros"].difference == pytest.approx(16 / 3 - 9)
    for mode in ("reflect", "replicate", "circular"):  # the image continues: no edge effect at all
        assert res[mode].difference == pytest.approx(0)
    assert border_mask((4, 4), (3, 3), 1).sum() == 12


def test_padding_modes_refuse_what_pytorch_refuses():
    with pytest.raises(ConfigError):  # reflect needs pad < size
        padding_mode_outputs(np.ones((2, 2)), np.ones((5, 5)), 2)
    with pytest.raises(RuntimeError):  # ... and PyTorch agrees
        F.pad(torch.ones(1, 1, 2, 2), (2, 2, 2, 2), mode="reflect")
    with pytest.raises(ConfigError, match="finite"):
        padding_mode_outputs(np.array([[np.nan, 1.0], [1.0, 1.0]]), np.ones((1, 1)), 1)
