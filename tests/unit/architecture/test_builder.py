"""The stack builder: new layers equal the nn modules they describe, edits are pure, and the link token
round-trips while hostile tokens are refused with a ConfigError naming the stack."""
import base64
import zlib

import pytest
import torch
import torch.nn as nn

from cnnviz import ConfigError
from cnnviz.architecture import builder as bld
from cnnviz.architecture import codegen as cg


@pytest.mark.parametrize("in_shape", [(3, 17), (3, 17, 12), (2, 9, 9, 9)])
@pytest.mark.parametrize("kernel,stride", [(1, 1), (3, 1), (5, 2), (4, 3)])
def test_new_conv_and_pool_are_the_torch_layers(in_shape, kernel, stride):
    x = torch.zeros(1, *in_shape)
    dims = len(in_shape) - 1
    conv = bld.new_layer("conv", in_shape, width=6, kernel=kernel, stride=stride)
    ref = getattr(nn, f"Conv{dims}d")(in_shape[0], 6, kernel, stride=stride, padding=kernel // 2)
    assert cg.shapes([conv], in_shape) == [tuple(ref(x).shape[1:])]
    if min(in_shape[1:]) >= kernel:
        pool = bld.new_layer("pool", in_shape, kernel=kernel, stride=stride)
        ref = getattr(nn, f"MaxPool{dims}d")(kernel, stride=stride)
        assert cg.shapes([pool], in_shape) == [tuple(ref(x).shape[1:])]
    if stride == 1 and kernel % 2:
        assert cg.shapes([conv], in_shape)[0][1:] == in_shape[1:]  # k // 2 padding keeps the size


def test_other_layers_and_bad_kinds():
    shape = (4, 8, 8)
    assert cg.shapes([bld.new_layer("norm", shape, norm="group")], shape) == [shape]
    assert bld.new_layer("act", shape, act="gelu") == {"type": "act", "kind": "gelu"}
    assert cg.shapes([bld.new_layer("linear", shape, width=7)], shape) == [(7,)]
    for kind, kw, field in [("dense", {}, "new layer"), ("act", dict(act="swish"), "activation")]:
        with pytest.raises(ConfigError) as e:
            bld.new_layer(kind, shape, **kw)
        assert e.value.field == field


def test_edits_are_pure_and_check_positions():
    layers = [{"type": "act", "kind": k} for k in ("relu", "gelu", "tanh")]
    before = [dict(x) for x in layers]
    new = {"type": "act", "kind": "silu"}
    assert [x["kind"] for x in bld.insert(layers, 3, new)] == ["relu", "gelu", "tanh", "silu"]
    assert [x["kind"] for x in bld.replace(layers, 1, new)] == ["relu", "silu", "tanh"]
    assert [x["kind"] for x in bld.move(layers, 0, 1)] == ["gelu", "relu", "tanh"]
    assert bld.move(layers, 2, 1) == layers  # the last layer cannot move down
    assert [x["kind"] for x in bld.remove(layers, 2)] == ["relu", "gelu"]
    wrapped = bld.wrap(layers, 0, 1)
    assert len(wrapped) == 2 and [x["kind"] for x in wrapped[0]["layers"]] == ["relu", "gelu"]
    assert layers == before  # nothing edited in place
    for call in (lambda: bld.replace(layers, 3, new), lambda: bld.remove(layers, -1),
                 lambda: bld.insert(layers, 5, new), lambda: bld.wrap(layers, 2, 1)):
        with pytest.raises(ConfigError):
            call()


def test_reshape_input_rechains_and_matches_torch():
    layers, in_shape = bld.reshape_input(cg.EXAMPLE, cg.EXAMPLE_SHAPE, 1, 28)
    assert in_shape == (1, 28, 28) and layers[0]["in_channels"] == 1
    model = cg.build_stack(layers, in_shape)
    assert tuple(model(torch.zeros(2, *in_shape)).shape) == (2, *cg.shapes(layers, in_shape)[-1])
    assert bld.reshape_input(layers, (3, 32, 16), 1, 32)[1] == (1, 32, 16)  # only the channels change
    assert bld.reshape_input(layers, (3, 32, 16), 3, 20)[1] == (3, 20, 20)


def test_link_token_round_trips_and_is_short():
    layers, in_shape = bld.reshape_input(cg.EXAMPLE, cg.EXAMPLE_SHAPE, 1, 28)
    token = bld.encode_stack(layers, in_shape)
    assert len(token) < 600 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    back, shape = bld.decode_stack(token)
    assert shape == in_shape and cg.to_code(back, shape) == cg.to_code(layers, in_shape)
    assert bld.encode_stack(back, shape) == token


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    "", "not base64 at all!", b64(b"plain bytes, not deflate"),
    b64(zlib.compress(b"\xff\xfe not utf-8")), b64(zlib.compress(b'{"in_shape": [3, 8, 8]}')),
    b64(zlib.compress(b" " * 10_000_000)),                                           # a deflate bomb: 10 MB
    b64(zlib.compress(b'{"in_shape": [3, 8, 8], "layers": []}')[:-6]),               # cut off
    "A" * 5000,
    b64(zlib.compress(b'{"in_shape": [3, 8, 8], "layers": [{"type": "conv", "dims": 2, "in_channels": 5, '
                      b'"out_channels": 2, "kernel_size": 3}]}')),                   # a valid token, a bad stack
])
def test_hostile_tokens_are_refused(token):
    with pytest.raises(ConfigError) as e:
        bld.decode_stack(token)
    assert e.value.field in ("stack", "JSON", "layer 1 in_channels")


def _params(layers, in_shape):
    return sum(p.numel() for p in cg.build_stack(layers, in_shape).parameters())


def test_the_default_apply_gives_a_valid_network():
    """"add" a 16-filter conv at the default position used to append it after the linear head."""
    layers, shape = list(cg.EXAMPLE), cg.EXAMPLE_SHAPE
    at = bld.default_position(layers)
    assert at == 9  # before the Linear → 10, the 9th layer
    out = bld.apply("add", layers, shape, at - 1, at - 1, bld.new_layer("conv", shape, 16, 3, 1))
    model = cg.build_stack(out, shape)
    assert tuple(model(torch.zeros(1, *shape)).shape) == (1, 10)
    assert out[8]["in_channels"] == 16 and out[8]["out_channels"] == 16
    assert _params(out, shape) == 12_258 + 16 * 16 * 9 + 16  # the head still sees 16 × 8 × 8


def test_a_layer_added_before_a_residual_keeps_it_valid():
    shape = cg.EXAMPLE_SHAPE
    out = bld.apply("add", cg.EXAMPLE, shape, 3, 3, bld.new_layer("conv", shape, 16, 3, 1))  # before the residual
    res = out[4]
    assert res["type"] == "residual" and (res["layers"][0]["in_channels"], res["layers"][0]["out_channels"]) == (16, 16)
    x = torch.zeros(1, *shape)
    assert tuple(cg.build_stack(out, shape)(x).shape) == (1, 10)


def test_actions_that_cannot_give_a_network_are_refused_with_the_reason():
    shape, layers = cg.EXAMPLE_SHAPE, cg.EXAMPLE
    conv = bld.new_layer("conv", shape, 16, 3, 1)
    with pytest.raises(ConfigError, match="needs a feature map.*layer 9 outputs a flat vector of 10 values.*#9"):
        bld.apply("add", layers, shape, 9, 9, conv)  # after the head
    with pytest.raises(ConfigError, match="must equal its input"):  # a stride-2 conv inside the residual
        bld.apply("residual", bld.insert(layers, 4, bld.new_layer("conv", shape, 8, 3, 2)), shape, 3, 4, conv)
    with pytest.raises(ConfigError, match="at least one layer"):
        bld.apply("remove", [conv], shape, 0, 0, conv)
    with pytest.raises(ConfigError, match="stack.*above the limit"):
        bld.apply("add", layers, (3, 2048, 2048), 1, 1, bld.new_layer("conv", shape, 512, 3, 1))
    assert layers == cg.EXAMPLE  # nothing edited in place
