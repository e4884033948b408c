"""Sizes that would take too much memory or time are refused before any tensor is allocated, with a message
that says the limit: a deep stack on a large input, a 512³ volume, a huge linear layer, an animation of a
million steps, a training job whose batch would not fit."""
import json
import threading

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz import ConfigError
from cnnviz.architecture import codegen as cg
from cnnviz.animation import MAX_STEPS, conv2d_steps, pool2d_steps
from cnnviz.architecture import summarize
from cnnviz.training.budget import training_bytes
from cnnviz.training.loop import run_training
from cnnviz.training.recipe import TrainConfig


def deep_stack(n=40, width=64, dims=2):
    return [cg.conv(3, width, 3, dims=dims, padding=1)] + [cg.conv(width, width, 3, dims=dims, padding=1)
                                                          for _ in range(n - 1)]


@pytest.fixture
def no_real_tensors(monkeypatch):
    """Fails the test if a layer gets real (non-meta) weights or any module runs forward."""
    made = []
    for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear):
        original = cls.reset_parameters

        def spy(self, original=original):
            made.append(self.weight.device.type)
            original(self)
        monkeypatch.setattr(cls, "reset_parameters", spy)
    monkeypatch.setattr(nn.Module, "__call__", lambda *a, **k: pytest.fail("a module ran forward"))
    yield made
    assert set(made) <= {"meta"}, made


@pytest.mark.parametrize("layers,in_shape,what", [
    (deep_stack(40), (3, 1024, 1024), "activation values"),       # 40 × 64 × 1024² outputs: 10 GB
    (deep_stack(1, 8, dims=3), (3, 512, 512, 512), "activation values"),
    ([cg.conv(64, 64, 3, padding=1), {"type": "linear", "out_features": 1000}], (64, 256, 256), "parameters"),
    (deep_stack(4, 512), (3, 48, 48), "FLOPs"),
], ids=["40-layers-1024²", "512³-volume", "huge-linear", "4-wide-layers"])
def test_too_large_stacks_are_refused_before_building(layers, in_shape, what, no_real_tensors):
    cg.shapes(layers, in_shape)  # the shapes themselves are fine: arithmetic answers them
    with pytest.raises(ConfigError, match=f"{what}.* is above the limit of") as e:
        cg.build_stack(layers, in_shape)
    assert e.value.field == "stack"


def test_stack_cost_equals_what_pytorch_counts():
    layers = [*cg.EXAMPLE[:-1], {"type": "norm", "kind": "group", "groups": 4}, {"type": "linear", "out_features": 5,
                                                                                   "bias": False}]
    params, acts, flops = cg.check_budget(layers, cg.EXAMPLE_SHAPE)
    model = cg.build_stack(layers, cg.EXAMPLE_SHAPE)
    assert params == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *cg.EXAMPLE_SHAPE))
    assert flops == counter.get_total_flops()
    assert acts * 4 == summarize(model, cg.EXAMPLE_SHAPE).activation_bytes


def test_import_of_a_too_large_stack_is_refused_with_the_limit():
    text = json.dumps({"in_shape": [3, 1024, 1024], "layers": deep_stack(40)})
    layers, in_shape = cg.stack_from_json(text)  # valid JSON and valid shapes...
    with pytest.raises(ConfigError, match="limit"):
        cg.build_stack(layers, in_shape)  # ...but never built


def test_a_million_step_animation_is_refused():
    x = np.zeros((1002, 1002))  # 1000 × 1000 = 10⁶ output cells with a 3 × 3 kernel
    with pytest.raises(ConfigError, match=f"1,000,000 output cells is more than the {MAX_STEPS:,}") as e:
        conv2d_steps(x, np.ones((3, 3)))
    assert e.value.field == "steps"
    with pytest.raises(ConfigError, match="more than the"):
        pool2d_steps(np.zeros((2000, 2000)), 2)


def test_training_bytes_by_hand():
    """Conv(1→2, 3×3, pad 1) + ReLU on 1×4×4: outputs 2·4·4 floats = 128 B each, weights (18 + 2)·4 = 80 B.
    Training a batch of 8: 2·8·(128 + 128) = 4096; evaluating 16: 2·16·128 = 4096; optimizer 4·80 = 320."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU())
    assert training_bytes(model, (1, 4, 4), batch_size=8, eval_batch=16) == 4096 + 320
    assert training_bytes(model, (1, 4, 4), batch_size=8, eval_batch=64) == 2 * 64 * 128 + 320


def test_a_training_job_that_would_not_fit_is_refused_before_the_first_batch():
    cfg = TrainConfig(dataset="shapes", model="SmallResNet", width=256, batch_size=4096, epochs=1)
    events = []
    with pytest.raises(ConfigError, match=r"GiB .*; the limit per training job is") as e:
        run_training(cfg, events.append, threading.Event(), device=torch.device("cpu"))
    assert e.value.field == "batch_size" and events == []  # no step was taken
