"""1-D and 3-D convolution traces equal F.conv1d / F.conv3d, value for value, in every mode the tabs offer."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import ConfigError
from cnnviz.animation.nd import (KERNELS_1D, SIGNALS, conv1d_steps, conv3d_plane_steps, kernel_1d, signal_input,
                                 volume_demo)


@settings(max_examples=120, deadline=None)
@given(length=st.integers(1, 20), k=st.integers(1, 6), stride=st.integers(1, 3), dilation=st.integers(1, 3),
       padding=st.one_of(st.integers(0, 4), st.sampled_from(["same", "valid"])),
       mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]), seed=st.integers(0, 99))
def test_conv1d_steps_equal_torch(length, k, stride, dilation, padding, mode, seed):
    rng = np.random.default_rng(seed)
    x, w, bias = rng.integers(0, 10, length).astype(float), rng.integers(-2, 3, k).astype(float), 0.5
    try:
        conv = torch.nn.Conv1d(1, 1, k, stride=stride, padding=padding, dilation=dilation, padding_mode=mode,
                               dtype=torch.float64)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor(w)[None, None])
            conv.bias.fill_(bias)
            ref = conv(torch.tensor(x)[None, None])[0, 0].numpy()
    except (RuntimeError, ValueError, NotImplementedError):
        with pytest.raises(ConfigError):  # what PyTorch rejects, the engine rejects
            conv1d_steps(x, w, bias, stride, padding, dilation, mode)
        return
    t = conv1d_steps(x, w, bias, stride, padding, dilation, mode)
    assert t.out_shape == (1, len(ref)) and [s.out for s in t] == [(0, i) for i in range(len(ref))]
    np.testing.assert_allclose([s.value for s in t], ref, atol=1e-9)
    for s in t:  # each step's products add up to its value
        assert sum(s.products) + bias == pytest.approx(s.value)


@pytest.mark.parametrize("kd,stride,padding", [(1, 1, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1), (2, 2, 0)])
@pytest.mark.parametrize("depth", [1, 3, 6])
def test_conv3d_planes_equal_torch(depth, kd, stride, padding):
    x, w = volume_demo(depth, kd, seed=depth + kd)
    xt, wt = torch.tensor(x)[None, None], torch.tensor(w)[None, None]
    if depth + 2 * padding < kd:
        with pytest.raises(ConfigError):
            conv3d_plane_steps(x, w, 0, stride=stride, padding=padding)
        return
    ref = F.conv3d(xt, wt, bias=torch.tensor([1.0], dtype=torch.float64), stride=stride, padding=padding)[0, 0]
    for z in range(ref.shape[0]):
        t, depths, planes = conv3d_plane_steps(x, w, z, bias=1.0, stride=stride, padding=padding)
        assert planes == ref.shape[0] and depths == [z * stride - padding + j for j in range(kd)]
        np.testing.assert_allclose(t.output, ref[z].numpy(), atol=1e-9)
        assert all(sum(s.partials) + 1.0 == pytest.approx(s.value) for s in t)
    past = conv3d_plane_steps(x, w, ref.shape[0] + 3, bias=1.0, stride=stride, padding=padding)  # the last
    np.testing.assert_allclose(past[0].output, ref[-1].numpy(), atol=1e-9)
    with pytest.raises(ConfigError) as e:
        conv3d_plane_steps(x, w, -1, stride=stride, padding=padding)
    assert e.value.field == "plane"


def test_inputs_kernels_and_bad_values():
    for kind in SIGNALS[:-1]:
        assert signal_input(kind, 12, seed=3).shape == (12,)
    np.testing.assert_array_equal(signal_input("typed", text="1, 2 3"), [1, 2, 3])
    np.testing.assert_array_equal(signal_input("step", 4), [0, 0, 5, 5])
    assert kernel_1d("gaussian", 3).tolist() == [0.25, 0.5, 0.25] and kernel_1d("difference").tolist() == [-1, 0, 1]
    assert all(kernel_1d(k, 5).shape == (5,) for k in KERNELS_1D)
    for call, field in [(lambda: signal_input("typed", text="1 x"), "typed input"),
                        (lambda: signal_input("sine + noise", 99), "length"), (lambda: kernel_1d("blur"), "kernel"),
                        (lambda: conv1d_steps([1, 2, 3], [1, 1], stride=(1, 2)), "stride"),
                        (lambda: conv1d_steps([1, 2, 3], [1, None, "x"]), "weight"),
                        (lambda: conv3d_plane_steps(np.ones((2, 4, 4)), [[["a"]]], 0), "x"),
                        (lambda: conv3d_plane_steps(np.ones((2, 4, 4)), np.ones((1, 3, 3)), 0, padding="same"),
                         "padding")]:
        with pytest.raises(ConfigError) as e:
            call()
        assert e.value.field == field
