"""Only ConfigError escapes the engine, at every public entry point beyond the layer arithmetic (tests/support/fuzz_api.py:
metrics, compression, saliency, feature maps, builder, codegen, receptive field × a hostile corpus of wrong
types, NaN/±inf, huge numbers, empty/zero-size/half/int/bool/complex tensors, deep nesting)."""
import math

import pytest
import torch

from tests.support import fuzz_api
from cnnviz.compression import fake_quantize, quant_params
from cnnviz.errors import ConfigError
from cnnviz.metrics import box_iou, pr_curve, topk_accuracy
from cnnviz.architecture import describe, move


def test_every_entry_point_returns_a_value_or_config_error():
    n, failures = fuzz_api.run(seed=0, pairs=20)
    assert n > 5000
    assert not failures, "\n".join(map(str, failures[:30]))


def test_the_corpus_reaches_every_public_entry_point_listed():
    names = {e.name.split("(")[0] for e in fuzz_api.entries()}
    assert {"topk_accuracy", "focal_loss", "match_detections", "fake_quantize", "prune_model", "attribute",
            "capture", "decode_stack", "to_code", "stack_from_json", "receptive_field"} <= names


@pytest.mark.parametrize("call", [
    lambda: box_iou(None, (0, 0, 1, 1)),                      # was TypeError
    lambda: topk_accuracy(torch.zeros(2, 3), torch.tensor([0, 1]), True),   # bool as k
    lambda: topk_accuracy(torch.zeros(2, 3), torch.tensor([0.0, 1.0]), 1),  # float class indices
    lambda: pr_curve([0.5, math.nan], [True, False], 1),       # NaN score sorted anywhere
    lambda: describe([1, 2]),                                   # was AttributeError
    lambda: move([{"type": "act"}], 10**5000, 1),               # past int-to-str: was ValueError in the message
    lambda: fake_quantize(torch.tensor([1.0, math.inf]), 8),   # inf: no finite scale
])
def test_hostile_calls_are_refused_with_config_error(call):
    with pytest.raises(ConfigError):
        call()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights_quantize_within_half_a_step(dtype):
    """fp16/bf16 weights are quantized in float32: each value moves at most scale/2 from its (exact) value."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(8, 4, 3, 3, generator=g).to(dtype)
    for bits, symmetric in [(8, True), (4, False)]:
        q = fake_quantize(w, bits, symmetric=symmetric)
        scale = float(quant_params(w, bits, symmetric=symmetric).scale[0])
        assert q.dtype == torch.float32
        assert float((q - w.float()).abs().max()) <= scale / 2 * (1 + 1e-6)
        assert len(torch.unique(q)) <= 2 ** bits
