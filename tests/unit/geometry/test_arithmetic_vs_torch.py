"""The arithmetic contract equals PyTorch on random configurations, rejections included."""
import pytest
import torch.nn as nn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.torch_oracle import torch_conv, torch_pool

from cnnviz import ConfigError
from cnnviz.geometry.arithmetic import (conv_flops, conv_output_shape, conv_param_count, pool_output_shape,
                               receptive_field)

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def axis_arg(n, lo, hi):
    """An int, or a tuple with one int per axis: both forms PyTorch accepts."""
    return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * n))


@st.composite
def conv_configs(draw):
    n = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3, 4]))
    c_in = groups * draw(st.integers(1, 2)) if draw(st.booleans()) else draw(st.integers(1, 6))
    c_out = groups * draw(st.integers(1, 2)) if draw(st.booleans()) else draw(st.integers(1, 6))
    size = 9 if n == 3 else 14
    in_shape = (c_in, *draw(st.tuples(*[st.integers(1, size)] * n)))
    transposed = draw(st.booleans())
    padding = draw(st.one_of(axis_arg(n, 0, 4), st.sampled_from(["same", "valid"])))
    return dict(in_shape=in_shape, out_channels=c_out, kernel_size=draw(axis_arg(n, 1, 5)),
                stride=draw(axis_arg(n, 1, 3)), padding=padding, dilation=draw(axis_arg(n, 1, 3)),
                groups=groups, transposed=transposed,
                output_padding=draw(axis_arg(n, 0, 2)) if transposed else draw(st.sampled_from([0, 0, 0, 1])),
                padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])))


@SETTINGS
@given(conv_configs())
def test_conv_matches_torch(cfg):
    ref = torch_conv(**cfg)
    if isinstance(ref, Exception):
        with pytest.raises(ConfigError):
            conv_output_shape(**cfg)
        with pytest.raises(ConfigError):
            conv_flops(**cfg)
        return
    shape, flops, params = ref
    assert conv_output_shape(**cfg) == shape
    assert conv_flops(**cfg) == flops
    assert conv_param_count(cfg["in_shape"], cfg["out_channels"], cfg["kernel_size"], cfg["groups"],
                            True, cfg["transposed"]) == params


@st.composite
def pool_configs(draw):
    n = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "max", "avg"]))
    size = 9 if n == 3 else 14
    return dict(in_shape=(draw(st.integers(1, 3)), *draw(st.tuples(*[st.integers(1, size)] * n))),
                kernel_size=draw(axis_arg(n, 1, 5)), stride=draw(st.one_of(st.none(), axis_arg(n, 1, 4))),
                padding=draw(axis_arg(n, 0, 3)),
                dilation=draw(axis_arg(n, 1, 3)) if kind == "max" else draw(st.sampled_from([1, 1, 1, 2])),
                ceil_mode=draw(st.booleans()), kind=kind)


@SETTINGS
@given(pool_configs())
def test_pool_matches_torch(cfg):
    ref = torch_pool(**cfg)
    if isinstance(ref, Exception):
        with pytest.raises(ConfigError):
            pool_output_shape(**cfg)
    else:
        assert pool_output_shape(**cfg) == ref


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("transposed", [True, False])
def test_param_count_bias(bias, transposed):
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    m = cls(6, 4, (3, 5), groups=2, bias=bias)
    assert conv_param_count((6, 9, 9), 4, (3, 5), 2, bias, transposed) == sum(p.numel() for p in m.parameters())


def test_receptive_field_by_hand():
    # three 3x3 convs = one 7x7; a stride-2 layer doubles what follows (Araujo et al. 2019)
    assert receptive_field([{"kernel_size": 3, "stride": 1, "dilation": 1}] * 3) == 7
    assert receptive_field([{"kernel_size": 3, "stride": 2}, {"kernel_size": 3, "stride": 1}]) == 7
    assert receptive_field([{"kernel_size": 3, "dilation": 2}, {"kernel_size": 3, "dilation": 4}]) == 13
    assert receptive_field([]) == 1


@pytest.mark.parametrize("layers, impulse_size", [([(3, 1, 1)] * 3, 15), ([(3, 2, 1), (5, 1, 2)], 31),
                                                  ([(2, 2, 1), (2, 2, 1), (3, 1, 3)], 40)])
def test_receptive_field_by_gradient(layers, impulse_size):
    """The receptive field is the span of input positions with a non-zero gradient for one output position
    (a dilated layer over a strided one can leave holes inside the span: the span is what is conventional)."""
    import torch
    torch.manual_seed(0)
    net = nn.Sequential(*[nn.Conv1d(1, 1, k, s, dilation=d) for k, s, d in layers])
    for p in net.parameters():
        p.data.uniform_(0.5, 1.5)  # positive weights: no accidental cancellation
    x = torch.zeros(1, 1, impulse_size, requires_grad=True)
    net(x)[0, 0, 0].backward()
    touched = (x.grad[0, 0] != 0).nonzero().flatten()
    span = int(touched.max() - touched.min() + 1)
    assert receptive_field([{"kernel_size": k, "stride": s, "dilation": d} for k, s, d in layers]) == span


@pytest.mark.parametrize("call, field", [
    (lambda: conv_output_shape((3, 8, 8), 4, 3, groups=2), "groups"),
    (lambda: conv_output_shape((4, 8, 8), 4, 3, stride=2, padding="same"), "padding"),
    (lambda: conv_output_shape((4, 8, 8), 4, 3, padding="same", transposed=True), "padding"),
    (lambda: conv_output_shape((4, 8, 8), 4, 3, stride=2, transposed=True, output_padding=2), "output_padding"),
    (lambda: conv_output_shape((4, 4, 4), 4, 7), "kernel_size"),
    (lambda: conv_output_shape((4, 4, 4), 4, (3, 3, 3)), "kernel_size"),
    (lambda: conv_output_shape((4, 4, 4), 4, 3, padding=4, padding_mode="reflect"), "padding"),
    (lambda: conv_output_shape((4, 4, 4), 4, 3, stride=0), "stride"),
    (lambda: conv_output_shape((4, 4, 4), 4, 3, dilation=-1), "dilation"),
    (lambda: conv_output_shape((4, 4, 4), 4, 2.5), "kernel_size"),
    (lambda: pool_output_shape((1, 8, 8), 3, padding=2), "padding"),
    (lambda: pool_output_shape((1, 4, 4), 5), "kernel_size"),
    (lambda: receptive_field([{"kernel_size": 0}]), "layers[0].kernel_size"),
])
def test_rejections_name_the_field(call, field):
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.field == field
    assert str(info.value).startswith(field)
