"""Transposed-conv scatter, multi-channel sums and pitfalls equal PyTorch (seeded, derandomized hypothesis)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz import ConfigError
from cnnviz.animation.extra import conv_transpose2d_steps, multichannel_conv2d_steps, overlap_counts, \
    same_padding_split, untouched_inputs

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def pair(lo, hi):
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


@st.composite
def tconv_configs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    h, w, kh, kw = (draw(st.integers(1, 5)) for _ in range(4))
    integers = draw(st.booleans())  # integer values: the sums are exact whatever the order
    if integers:
        def make(*shape):
            return rng.integers(-4, 5, size=shape).astype(np.float64)
    else:
        def make(*shape):
            return rng.standard_normal(shape)
    return dict(x=make(h, w), weight=make(kh, kw), stride=draw(pair(1, 3)), padding=draw(pair(0, 3)),
                output_padding=draw(pair(0, 2)), dilation=draw(pair(1, 3)), bias=float(draw(st.integers(-2, 2)))), \
        integers


def torch_tconv(x, weight, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F.conv_transpose2d(torch.tensor(x)[None, None], torch.tensor(weight)[None, None],
                                  torch.tensor([kw.pop("bias")], dtype=torch.float64), **kw)[0, 0].numpy()


@SETTINGS
@given(tconv_configs())
def test_transposed_scatter_equals_torch_or_both_reject(cfg):
    cfg, integers = cfg
    try:
        ref = torch_tconv(**dict(cfg))
    except RuntimeError:
        with pytest.raises(ConfigError):
            conv_transpose2d_steps(**cfg)
        return
    t = conv_transpose2d_steps(**cfg)
    assert t.out_shape == ref.shape and len(t) == cfg["x"].size
    if integers:
        np.testing.assert_array_equal(t.output, ref)
    else:
        np.testing.assert_allclose(t.output, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(t.partial(len(t)), t.output, rtol=0, atol=1e-12)
    # the counts are the transposed conv of ones by ones
    ones = torch_tconv(np.ones_like(cfg["x"]), np.ones_like(cfg["weight"]),
                       **{k: v for k, v in cfg.items() if k not in ("x", "weight", "bias")}, bias=0.0)
    np.testing.assert_array_equal(t.counts, ones)


def test_one_stamp_per_input_cell_hand_computed():
    t = conv_transpose2d_steps([[1.0, 2.0]], [[1.0, 10.0]], stride=1)
    assert t.out_shape == (1, 3)
    assert t[1].inp == (0, 1) and t[1].targets == ((0, 1), (0, 2)) and t[1].contributions == (2.0, 20.0)
    np.testing.assert_array_equal(t.partial(1), [[1.0, 10.0, 0.0]])
    np.testing.assert_array_equal(t.output, [[1.0, 12.0, 20.0]])


def test_checkerboard_counts_k3_s2_vs_k4_s2():
    c3 = overlap_counts((4, 4), 3, stride=2)
    assert c3.shape == (9, 9)
    np.testing.assert_array_equal(c3[0, :5], [1, 1, 2, 1, 2])        # 1-2 alternation along every row
    assert set(np.unique(c3[1:-1, 1:-1])) == {1, 2, 4}               # uneven interior: the checkerboard
    c4 = overlap_counts((4, 4), 4, stride=2)
    assert c4.shape == (10, 10)
    np.testing.assert_array_equal(c4[2:-2, 2:-2], np.full((6, 6), 4))  # even interior: no checkerboard
    np.testing.assert_array_equal(c4[0, :4], [1, 1, 2, 2])


def test_transposed_rejections():
    with pytest.raises(ConfigError, match="output_padding"):
        conv_transpose2d_steps(np.ones((2, 2)), np.ones((2, 2)), stride=1, output_padding=1)
    with pytest.raises(ConfigError, match="padding"):
        conv_transpose2d_steps(np.ones((1, 1)), np.ones((1, 1)), padding=1)
    with pytest.raises(ConfigError):
        conv_transpose2d_steps(np.ones((2, 2)), np.ones((2, 2)), padding="same")


def test_untouched_inputs_by_stride():
    cells = untouched_inputs((8, 8), 3, stride=2)
    assert cells == tuple((r, c) for r in range(8) for c in range(8) if r == 7 or c == 7)
    assert len(cells) == 15
    assert untouched_inputs((7, 7), 3, stride=2) == ()
    assert untouched_inputs((8, 8), 3, stride=2, padding=1) == ()
    # PyTorch agrees: the gradient of the output sum is exactly zero on those cells and nowhere else
    x = torch.ones(1, 1, 9, 6, dtype=torch.float64, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 2, 3, dtype=torch.float64), stride=(3, 2)).sum().backward()
    zero = {tuple(rc) for rc in (x.grad[0, 0] == 0).nonzero().tolist()}
    assert set(untouched_inputs((9, 6), (2, 3), stride=(3, 2))) == zero and zero


@pytest.mark.parametrize("k,d,expected", [(3, 1, (1, 1)), (4, 1, (1, 2)), (2, 1, (0, 1)), (4, 2, (3, 3)),
                                          (1, 1, (0, 0))])
def test_same_padding_split_matches_torch(k, d, expected):
    assert same_padding_split(k, d) == expected
    rng = np.random.default_rng(k * 10 + d)
    x, w = torch.tensor(rng.standard_normal((1, 1, 7, 7))), torch.tensor(rng.standard_normal((1, 1, k, k)))
    lo, hi = expected
    ref = F.conv2d(x, w, padding="same", dilation=d)
    mine = F.conv2d(F.pad(x, (lo, hi, lo, hi)), w, dilation=d)
    torch.testing.assert_close(ref, mine, rtol=0, atol=1e-12)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3), pair(1, 2), pair(0, 2),
       st.integers(0, 2**31 - 1))
def test_multichannel_partials_add_up_to_conv2d(c, h, w, k, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x, wt = rng.standard_normal((c, h, w)), rng.standard_normal((c, k, k))
    try:
        ref = F.conv2d(torch.tensor(x)[None], torch.tensor(wt)[None], torch.tensor([0.5], dtype=torch.float64),
                       stride=stride, padding=padding)[0, 0].numpy()
    except RuntimeError:
        with pytest.raises(ConfigError):
            multichannel_conv2d_steps(x, wt, 0.5, stride, padding)
        return
    t = multichannel_conv2d_steps(x, wt, 0.5, stride, padding)
    assert t.out_shape == ref.shape and len(t) == ref.size
    np.testing.assert_allclose(t.output, ref, rtol=0, atol=1e-12)
    for s in t:
        assert len(s.partials) == c
        assert s.value == pytest.approx(sum(s.partials) + 0.5, abs=1e-12)
        assert s.value == pytest.approx(ref[s.out], abs=1e-12)
        for ch in range(c):  # each partial is that channel alone through F.conv2d
            single = F.conv2d(torch.tensor(x[ch])[None, None], torch.tensor(wt[ch])[None, None], stride=stride,
                              padding=padding)[0, 0].numpy()
            assert s.partials[ch] == pytest.approx(single[s.out], abs=1e-12)


def test_multichannel_rejects_mismatch():
    with pytest.raises(ConfigError, match="weight"):
        multichannel_conv2d_steps(np.ones((2, 3, 3)), np.ones((3, 2, 2)))
    with pytest.raises(ConfigError):
        multichannel_conv2d_steps(np.ones((3, 3)), np.ones((3, 2, 2)))
