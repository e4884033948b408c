"""Presets build and run; the exported code rebuilds the same network; JSON round-trips."""
import json

import pytest
import torch

from cnnviz import ConfigError
from cnnviz.architecture import summarize
from cnnviz.architecture.codegen import (EXAMPLE, EXAMPLE_SHAPE, build_stack, conv, pool, rechain, shapes, stack_from_json,
                            stack_to_json, to_code)
from cnnviz.architecture.presets import PRESETS, build_preset
from cnnviz.geometry.specs import spec_from_dict

torch.set_num_threads(1)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds_and_runs(name):
    model, in_shape = build_preset(name)
    y = model.eval()(torch.randn(2, *in_shape))
    assert y.shape[0] == 2 and torch.isfinite(y).all()
    s = summarize(model, in_shape)
    assert s.out_shape == tuple(y.shape[1:]) and s.rows
    assert len(list(model.named_modules(remove_duplicate=False))) == len(list(model.named_modules()))


def test_lenet5_has_its_famous_parameter_count():
    model, _ = build_preset("LeNet-5")
    assert sum(p.numel() for p in model.parameters()) == 61_706


def test_unknown_preset():
    with pytest.raises(ConfigError, match="preset"):
        build_preset("AlexNet")


def _exec(src, name="Net"):
    ns = {}
    exec(compile(src, "<exported>", "exec"), ns)
    return ns[name]()


STACKS = [
    (EXAMPLE, EXAMPLE_SHAPE),
    ([conv(1, 4, 5, dims=1, stride=2), {"type": "norm", "kind": "group", "groups": 2}, {"type": "act", "kind": "gelu"},
      pool(3, dims=1, kind="avg"), {"type": "linear", "out_features": 3, "bias": False}], (1, 40)),
    ([conv(2, 4, 3, dims=3, padding=1), {"type": "residual", "layers": [
        conv(4, 4, 3, dims=3, padding=1, groups=2), {"type": "act", "kind": "silu"},
        {"type": "residual", "layers": [conv(4, 4, 1, dims=3), {"type": "norm", "kind": "batch"}]}]},
      conv(4, 2, 2, dims=3, stride=2, transposed=True)], (2, 3, 4, 4)),
]


@pytest.mark.parametrize("layers,in_shape", STACKS)
def test_exported_code_rebuilds_the_same_network(layers, in_shape):
    torch.manual_seed(0)
    ref = build_stack(layers, in_shape).eval()
    net = _exec(to_code(layers, in_shape)).eval()
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in ref.parameters())
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):  # same order, same shapes
        a.data.copy_(b.data)
    x = torch.randn(2, *in_shape)
    y = net(x)
    assert tuple(y.shape[1:]) == shapes(layers, in_shape)[-1]
    assert torch.allclose(y, ref(x), atol=1e-6)


def test_json_round_trip_uses_the_spec_format():
    text = stack_to_json(EXAMPLE, EXAMPLE_SHAPE)
    data = json.loads(text)
    assert data["in_shape"] == [3, 32, 32]
    assert spec_from_dict(data["layers"][0]).to_dict() == spec_from_dict(EXAMPLE[0]).to_dict()
    layers, in_shape = stack_from_json(text)
    assert in_shape == EXAMPLE_SHAPE and stack_to_json(layers, in_shape) == text
    assert to_code(layers, in_shape) == to_code(EXAMPLE, EXAMPLE_SHAPE)


@pytest.mark.parametrize("text,field", [
    ("{not json", "JSON"),
    ('{"layers": []}', "JSON"),
    ('{"in_shape": [3, 8], "layers": [{"type": "dense"}]}', "layer 1 type"),
    ('{"in_shape": [3, 8, 8], "layers": [{"type": "conv", "dims": 2, "in_channels": 3, "out_channels": 4, '
     '"kernel_size": 9}]}', "layer 1"),
])
def test_bad_json_names_the_field(text, field):
    with pytest.raises(ConfigError) as e:
        stack_from_json(text)
    assert e.value.field.startswith(field)


def test_errors_repeat_the_conv_pages_messages_with_the_layer_number():
    bad = [conv(3, 8, 3), conv(4, 8, 3)]
    with pytest.raises(ConfigError, match="layer 2 in_channels: the layer expects 4 channels, input has 8"):
        shapes(bad, (3, 8, 8))
    assert shapes(rechain(bad, (3, 8, 8)), (3, 8, 8))[-1] == (8, 4, 4)
    with pytest.raises(ConfigError, match="groups"):
        shapes([conv(3, 8, 3, groups=2)], (3, 8, 8))
    with pytest.raises(ConfigError, match="layer 1 layers: the group's output"):
        shapes([{"type": "residual", "layers": [conv(3, 4, 3)]}], (3, 8, 8))
