"""Animation steps equal PyTorch: values, windows (via F.pad), argmax (return_indices), and rejections."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz import ConfigError
from cnnviz.animation import MAX_STEPS, conv2d_steps, pool2d_steps

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def axis_arg(lo, hi):
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


def grid(draw, h, w, integers):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if integers:  # many ties: checks PyTorch's tie-breaking for the argmax
        return rng.integers(-3, 4, size=(h, w)).astype(np.float64)
    return rng.standard_normal((h, w))


@st.composite
def conv_configs(draw):
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return dict(x=grid(draw, h, w, False), weight=grid(draw, kh, kw, False), bias=draw(st.floats(-2, 2)),
                stride=draw(axis_arg(1, 3)), dilation=draw(axis_arg(1, 3)),
                padding=draw(st.one_of(axis_arg(0, 3), st.sampled_from(["same", "valid"]))),
                padding_mode=draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])))


def torch_conv(cfg):
    """nn.Conv2d (which pads with F.pad(mode) for non-zero modes) in float64, or the exception it raises."""
    x, w = torch.tensor(cfg["x"])[None, None], torch.tensor(cfg["weight"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = nn.Conv2d(1, 1, tuple(w.shape), stride=cfg["stride"], padding=cfg["padding"],
                          dilation=cfg["dilation"], padding_mode=cfg["padding_mode"], dtype=torch.float64)
            with torch.no_grad():
                m.weight.copy_(w[None, None])
                m.bias.fill_(cfg["bias"])
                return m(x)[0, 0], m
        except Exception as e:  # noqa: BLE001 - any rejection counts
            return e, None


@SETTINGS
@given(conv_configs())
def test_conv_steps_match_torch(cfg):
    ref, m = torch_conv(cfg)
    if isinstance(ref, Exception):
        with pytest.raises(ConfigError):
            conv2d_steps(**cfg)
        return
    steps = conv2d_steps(**cfg)
    oh, ow = ref.shape
    assert [s.out for s in steps] == [(r, c) for r in range(oh) for c in range(ow)]
    np.testing.assert_allclose([s.value for s in steps], ref.reshape(-1).numpy(), rtol=1e-10, atol=1e-10)
    # windows: the formula, and F.pad's padded tensor read at those coordinates reproduces the value
    lo = m._reversed_padding_repeated_twice  # (w_lo, w_hi, h_lo, h_hi): what F.pad gets, 'same' included
    (kh, kw), (sh, sw), (dh, dw) = cfg["weight"].shape, m.stride, m.dilation
    padded = F.pad(torch.tensor(cfg["x"])[None, None], lo, mode=TORCH_MODE[cfg["padding_mode"]])[0, 0].numpy()
    ph, pw = lo[2], lo[0]
    flat_w = cfg["weight"].reshape(-1)
    for s in steps:
        r, c = s.out
        assert s.window == tuple((r * sh - ph + a * dh, c * sw - pw + e * dw) for a in range(kh) for e in range(kw))
        taps = np.array([padded[i + ph, j + pw] for i, j in s.window])
        assert s.inputs == tuple(taps.tolist())
        assert abs((taps * flat_w).sum() + cfg["bias"] - s.value) < 1e-10
        assert s.argmax is None


@st.composite
def pool_configs(draw):
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    return dict(x=grid(draw, h, w, draw(st.booleans())), kernel_size=draw(axis_arg(1, 4)),
                stride=draw(st.one_of(st.none(), axis_arg(1, 3))), padding=draw(axis_arg(0, 2)),
                kind=draw(st.sampled_from(["max", "avg"])), ceil_mode=draw(st.booleans()))


def torch_pool(cfg):
    x = torch.tensor(cfg["x"])[None, None]
    args = (cfg["kernel_size"], cfg["stride"], cfg["padding"])
    try:
        if cfg["kind"] == "max":
            return F.max_pool2d(x, *args, ceil_mode=cfg["ceil_mode"], return_indices=True)
        return F.avg_pool2d(x, *args, ceil_mode=cfg["ceil_mode"], count_include_pad=True), None
    except Exception as e:  # noqa: BLE001
        return e, None


@SETTINGS
@given(pool_configs())
def test_pool_steps_match_torch(cfg):
    ref, idx = torch_pool(cfg)
    if isinstance(ref, Exception):
        with pytest.raises(ConfigError):
            pool2d_steps(**cfg)
        return
    steps = pool2d_steps(**cfg)
    ref = ref[0, 0]
    oh, ow = ref.shape
    assert [s.out for s in steps] == [(r, c) for r in range(oh) for c in range(ow)]
    np.testing.assert_allclose([s.value for s in steps], ref.reshape(-1).numpy(), rtol=1e-12, atol=1e-12)
    k = cfg["kernel_size"]
    kh, kw = (k, k) if isinstance(k, int) else k
    s_ = cfg["stride"] if cfg["stride"] is not None else k
    sh, sw = (s_, s_) if isinstance(s_, int) else s_
    ph, pw = (cfg["padding"],) * 2 if isinstance(cfg["padding"], int) else cfg["padding"]
    W = cfg["x"].shape[1]
    for s, flat in zip(steps, idx[0, 0].reshape(-1).tolist() if idx is not None else [None] * len(steps)):
        r, c = s.out
        assert s.window == tuple((r * sh - ph + a, c * sw - pw + e) for a in range(kh) for e in range(kw))
        assert s.argmax == (None if flat is None else divmod(flat, W))


def test_hand_computed_conv_with_reflect_padding():
    x = np.arange(9.0).reshape(3, 3)  # 0 1 2 / 3 4 5 / 6 7 8
    steps = conv2d_steps(x, np.ones((3, 3)), bias=1.0, padding=1, padding_mode="reflect")
    first = steps[0]
    assert first.out == (0, 0)
    assert first.window[:3] == ((-1, -1), (-1, 0), (-1, 1))
    assert first.inputs == (4, 3, 4, 1, 0, 1, 4, 3, 4)  # the ring mirrors without repeating the edge
    assert first.value == 24 + 1
    assert steps.padded.shape == (5, 5) and steps.padded[0, 0] == 4


def test_circular_and_replicate_rings_show_real_values():
    x = np.arange(4.0).reshape(2, 2)
    assert conv2d_steps(x, np.ones((1, 1)), padding=1, padding_mode="circular").padded[0].tolist() == [3, 2, 3, 2]
    assert conv2d_steps(x, np.ones((1, 1)), padding=1, padding_mode="replicate").padded[0].tolist() == [0, 0, 1, 1]


def test_avg_pool_ceil_mode_partial_window_divisor():
    x = np.arange(25.0).reshape(5, 5)
    steps = pool2d_steps(x, 2, kind="avg", ceil_mode=True)
    last = steps[-1]  # window rows 4..5, cols 4..5: only (4, 4) is inside, and the overhang is not counted
    assert last.out == (2, 2) and last.divisor == 1 and last.value == 24
    assert np.isnan(last.inputs[1])


def test_max_pool_argmax_first_of_ties():
    steps = pool2d_steps(np.array([[1.0, 5.0], [5.0, 0.0]]), 2)
    assert steps[0].argmax == (0, 1) and steps[0].value == 5


def test_limits_and_bad_input_are_config_errors():
    with pytest.raises(ConfigError, match="steps"):
        conv2d_steps(np.zeros((70, 70)), np.ones((1, 1)))
    assert 70 * 70 > MAX_STEPS
    with pytest.raises(ConfigError, match="x"):
        conv2d_steps(np.zeros(5), np.ones((1, 1)))
    with pytest.raises(ConfigError, match="weight"):
        conv2d_steps(np.zeros((3, 3)), [["a"]])
    with pytest.raises(ConfigError, match="padding"):
        conv2d_steps(np.zeros((3, 3)), np.ones((3, 3)), stride=2, padding="same")
    with pytest.raises(ConfigError, match="kind"):
        pool2d_steps(np.zeros((3, 3)), 2, kind="median")


def test_digit_input_equals_sklearn_and_presets():
    from sklearn.datasets import load_digits
    from cnnviz.animation import kernel_preset, sample_input
    assert np.array_equal(sample_input("digit", digit=7), load_digits().images[7])
    assert kernel_preset("sobel y").tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert kernel_preset("identity", 4)[1, 1] == 1 and kernel_preset("identity", 4).sum() == 1
    assert sample_input("typed", text="1, 2\n3 4").tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ConfigError, match="typed input"):
        sample_input("typed", text="1 x")


def test_figure_frames_update_only_the_highlight_traces():
    from cnnviz.figures.animation import animation_figure
    steps = conv2d_steps(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), stride=2)  # 2×2 output: 4 steps
    fig = animation_figure(steps, step=1).figure()  # a Prebuilt: the validated figure for its attributes
    assert len(fig.frames) == 4 and fig.layout.sliders[0].active == 1
    n_static = len(fig.data) - len(fig.frames[0].data)
    assert all(list(f.traces) == list(range(n_static, len(fig.data))) for f in fig.frames)
    cell = next(i for i, d in enumerate(fig.data) if d.name == "output cell")
    xs = [min(v for v in f.data[f.traces.index(cell)].x if v is not None) for f in fig.frames]
    assert xs[1] - xs[0] == 1 and xs[2] == xs[0]  # moves right, then back to the next row
    assert [b.label for b in fig.layout.updatemenus[0].buttons][:2] == ["Play", "Pause"]
