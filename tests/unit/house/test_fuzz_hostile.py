"""The classes of hostile input issue 29 found escaping the engine (tests/support/fuzz_hostile.py): wrong JSON kinds
in every field of a stack, non-numeric sizes in every spec field, every torch dtype as every tensor argument, float64
extremes in boxes, degenerate models and empty data in the compression curves and the inside room, block
comparisons past the budgets. Each call gives a correct value (checked against PyTorch, or exact rational
arithmetic) or a ConfigError naming the field. CI runs a seeded sample of the large classes; bench/fuzz.py runs
every case (30,500; 1,099 escaped before the fixes, 0 after)."""
import copy
import json
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cnnviz.animation import channel_demo, kernel_1d, sample_input, untouched_inputs, volume_demo
from cnnviz.errors import ConfigError
from tests.support import fuzz_hostile as fh
from tests.support.fuzz_hostile_cases import IN_SHAPE, base_stack, exact_iou
from tests.support.record_ops import RecordOps

SAMPLE = {"stack": 500, "spec": 80, "dtype": 250, "box": None, "model": None, "blocks": 40}  # ~10 s of one core


@pytest.mark.parametrize("cls", fh.CLASSES)
def test_hostile_inputs_give_a_correct_value_or_a_config_error_naming_the_field(cls):
    n, escapes = fh.run(fh.sample(fh.cases({cls}), SAMPLE[cls], seed=29))
    assert n >= min(SAMPLE[cls] or 100, 100)
    assert not escapes, "\n".join(map(str, escapes[:20]))


def test_the_corpus_covers_every_field_and_every_dtype():
    stack = list(fh.cases({"stack"}))
    fields = {c.label.split("=")[0].split(" ")[-1] for c in stack}
    assert {"kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode", "dims", "in_channels",
            "out_features", "kind", "layers", "type", "ceil_mode", "in_shape"} <= fields
    dtypes = {c.label.rsplit(":", 1)[-1] for c in fh.cases({"dtype"})}
    assert {"bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
            "complex64", "complex128"} <= dtypes
    assert any(d.startswith("float8") for d in dtypes) == hasattr(torch, "float8_e4m3fn")


def test_the_oracles_catch_a_wrong_value(monkeypatch):
    """An engine that returns a wrong IoU, or raises something else than ConfigError, is reported."""
    from cnnviz import metrics
    from cnnviz.metrics import detection
    monkeypatch.setattr(detection, "box_iou", lambda a, b: 0.5)
    monkeypatch.setattr(metrics, "box_iou", lambda a, b: 0.5)
    _, escapes = fh.run(c for c in fh.cases({"box"}) if c.entry == "box_iou")
    assert any("wrong result" in str(e) for e in escapes)
    _, escapes = fh.run([fh.Hostile("box", "x", "y", lambda: 1 / 0)])
    assert "ZeroDivisionError" in str(escapes[0])


# ------------------------------------------------------------------ random JSON in random stack fields (hypothesis)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=6)


@settings(max_examples=80, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_json_in_any_field_of_a_stack_is_a_config_error_or_a_stack_pytorch_builds(data):
    from cnnviz.architecture import builder as B
    from cnnviz.architecture import codegen as C
    layers = base_stack()
    i = data.draw(st.integers(0, len(layers) - 1))
    field = data.draw(st.sampled_from(sorted(layers[i]) + ["name", "extra"]))
    layers[i][field] = data.draw(JSON)
    text = json.dumps({"in_shape": list(IN_SHAPE), "layers": layers})
    try:
        got, in_shape = C.stack_from_json(text)
    except ConfigError as e:
        assert field in f"{e.field} {e}" or f"layer {i + 1}" in e.field
        return
    shapes = C.shapes(got, in_shape)
    with torch.no_grad():
        y = C.build_stack(got, in_shape)(torch.zeros(1, *in_shape))
    assert tuple(y.shape[1:]) == shapes[-1]
    assert isinstance(B.describe(layers[i]), str)


# ------------------------------------------------------------------ the escapes of issue 29, one by one
@pytest.mark.parametrize("field, value", [("kind", ["relu"]), ("kind", {"a": 1}), ("out_features", 10**5000),
                                          ("layers", 3), ("kernel_size", "3"), ("extra", b"x")],
                         ids=["kind-list", "kind-dict", "out_features-huge", "layers-int", "kernel-str", "extra-bytes"])
def test_a_wrong_json_kind_in_a_stack_field_is_refused_naming_it(field, value):
    from cnnviz.architecture import codegen as C
    i = {"kind": 2, "out_features": 6, "layers": 3, "kernel_size": 0, "extra": 2}[field]
    layers = copy.deepcopy(base_stack())
    layers[i][field] = value
    with pytest.raises(ConfigError) as e:
        C.to_code(layers, IN_SHAPE)
    assert field in f"{e.value.field} {e.value}"


@pytest.mark.parametrize("field, value", [("kernel_size", "2"), ("stride", [2]), ("padding", None),
                                          ("dilation", 1.0), ("kernel_size", math.nan), ("padding", True)])
def test_a_pool_spec_size_that_is_not_a_number_is_refused_when_made(field, value):
    from cnnviz.geometry.specs import PoolSpec
    with pytest.raises(ConfigError) as e:
        PoolSpec(2, **{field: value})
    assert e.value.field.startswith(field)


@pytest.mark.parametrize("call", [lambda: kernel_1d("gaussian", [3]), lambda: sample_input("random", 8),
                                  lambda: volume_demo((3,), 2), lambda: channel_demo(2.0)],
                         ids=["kernel_1d-list", "sample_input-int-size", "volume_demo-tuple", "channel_demo-float"])
def test_an_animation_size_that_is_not_a_number_is_refused(call):
    with pytest.raises(ConfigError):
        call()  # was TypeError / ValueError


def test_an_animation_grid_past_its_side_limit_is_refused_before_allocating():
    with RecordOps() as rec, pytest.raises(ConfigError) as e:
        untouched_inputs((10**6, 10**6), 3)  # np.zeros of 8 TB
    assert rec.ops == [] and e.value.field.startswith("in_shape")


@pytest.mark.parametrize("a, b", [((0.0, 0.0, 1e308, 1e308), (0.0, 0.0, 1e308, 1e308)),
                                  ((0.0, 0.0, 1e308, 1e308), (0.0, 0.0, 5e307, 5e307)),
                                  ((0.0, 0.0, 5e-324, 5e-324), (0.0, 0.0, 5e-324, 5e-324)),
                                  ((0.0, 0.0, 1e-300, 1e-300), (0.0, 0.0, 5e-301, 1e-300)),
                                  ((-0.0, -0.0, 1.0, 1.0), (0.5, 0.5, 1.5, 1.5))])
def test_box_iou_is_exact_from_subnormal_to_1e308(a, b):
    from cnnviz.metrics import box_iou
    assert box_iou(a, b) == pytest.approx(exact_iou(a, b), rel=1e-12)  # was 0.0 (inf / inf, 0 / 0) for the first four


@pytest.mark.parametrize("box", [(-1e308, -1e308, 1e308, 1e308), (0.0, 0.0, 1e308, 1e308)])
def test_a_box_float64_cannot_measure_is_refused(box):
    from cnnviz.metrics import box_area
    with pytest.raises(ConfigError, match="float64"):
        box_area(box)  # was inf (or an OverflowError for whoever used it)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.uint8, torch.int32, torch.bool])
def test_conv_traces_take_every_real_dtype_and_equal_pytorch(dtype):
    from cnnviz.animation import conv2d_steps, padding_mode_outputs
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 4, (5, 5), generator=g).to(dtype)
    w = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    ref = F.conv2d(x.double()[None, None], w.double()[None, None], padding=1)[0, 0].numpy()
    np.testing.assert_allclose(conv2d_steps(x, w, padding=1).output, ref)
    np.testing.assert_allclose(padding_mode_outputs(x, w, 1)[0].out, ref)  # was TypeError for bfloat16


def test_complex_inputs_are_refused_not_silently_made_real():
    from cnnviz.animation import pool2d_steps
    with pytest.raises(ConfigError, match="real"):
        pool2d_steps(torch.ones(4, 4, dtype=torch.complex64) * 1j, 2)  # was a trace of the real parts (zeros)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_soft_dice_of_half_probabilities_is_summed_in_float32(dtype):
    from cnnviz.metrics import dice_loss
    g = torch.Generator().manual_seed(1)
    p, t = torch.rand(2, 16, 16, generator=g).to(dtype), (torch.rand(2, 16, 16, generator=g) > 0.5).float()
    p64 = p.double()
    want = (1 - (2 * (p64 * t).sum((1, 2)) + 1) / (p64.sum((1, 2)) + t.sum((1, 2)) + 1)).mean()
    assert float(dice_loss(p, t)) == pytest.approx(float(want), abs=1e-6)  # a half sum was 3e-3 off


@pytest.mark.parametrize("model", [nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), nn.Identity(), nn.ReLU()])
def test_compression_of_a_model_with_nothing_to_compress_is_refused_naming_the_model(model):
    from cnnviz.compression import overall_sparsity, sparsity_per_layer, tradeoff_curves
    assert overall_sparsity(sparsity_per_layer(model)) == 0.0  # was ZeroDivisionError
    with pytest.raises(ConfigError) as e:
        tradeoff_curves(model, torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]), (4,), (0.5,))
    assert e.value.field == "model"


@pytest.mark.parametrize("x, y, field", [(torch.rand(0, 3, 8, 8), torch.zeros(0, dtype=torch.long), "x_val"),
                                         (torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2]), "y_val"),
                                         (torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 9]), "y_val"),
                                         (torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 3]), "x_val")])
def test_empty_or_mismatched_validation_data_is_refused_naming_it(x, y, field):
    from cnnviz.compression import tradeoff_curves
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(144, 5))
    with pytest.raises(ConfigError) as e:
        tradeoff_curves(net, x, y, (4,), (0.5,))  # was ValueError (torch.cat of nothing), RuntimeError
    assert e.value.field == field


def test_accuracy_of_a_half_precision_model_equals_pytorch():
    from cnnviz.compression import accuracy
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(144, 5)).to(torch.bfloat16).eval()
    x, y = torch.rand(8, 3, 8, 8), torch.arange(8) % 5
    with torch.no_grad():
        want = float((net(x.to(torch.bfloat16)).argmax(1) == y).float().mean())
    assert accuracy(net, x, y.to(torch.uint8)) == want  # was RuntimeError (input float, weights bfloat16)


@pytest.mark.parametrize("kw", [dict(size=4096), dict(c_in=2048, c_out=2048), dict(k=511), dict(size=2**62)])
def test_a_block_comparison_past_the_budgets_is_refused_before_anything_is_allocated(kw):
    from cnnviz.architecture.blocks.compare import compare_blocks
    with RecordOps() as rec, pytest.raises(ConfigError) as e:
        compare_blocks(**kw)
    assert rec.ops == []  # refused by the closed forms: no tensor was made (it was GBs, or minutes of CPU)
    assert e.value.field in ("blocks", "size")
