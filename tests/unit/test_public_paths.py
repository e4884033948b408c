"""The contract paths named in earlier issues stay importable after the move into topic packages, and each old
name is the very object the new room defines (an alias, not a copy that could drift)."""
import importlib

import pytest

CONTRACT = [  # (old path, name, new home)
    ("cnnviz.arithmetic", "conv_output_shape", "cnnviz.geometry.arithmetic"),
    ("cnnviz.animation", "conv2d_steps", "cnnviz.animation.conv2d"),
    ("cnnviz.architecture", "summarize", "cnnviz.architecture.summary"),
    ("cnnviz.saliency", "attribute", "cnnviz.inside.saliency"),
    ("cnnviz.compress", "fake_quantize", "cnnviz.compression.quantize"),
    ("cnnviz.distill", "distillation_loss", "cnnviz.compression.distill"),
    ("cnnviz.metrics", "topk_accuracy", "cnnviz.metrics.classification"),
    ("cnnviz.metrics", "box_iou", "cnnviz.metrics.detection"),
    ("cnnviz.specs", "ConvSpec", "cnnviz.geometry.specs"),
    ("cnnviz.shipped", "load_model", "cnnviz.inside.shipped"),
    ("cnnviz.train", "TrainConfig", "cnnviz.training"),
    ("cnnviz.train.runner", "JobLimiter", "cnnviz.training.runner"),
    ("cnnviz.explorer", "neuron_detail", "cnnviz.explorer.neuron"),
]


@pytest.mark.parametrize("old,name,new", CONTRACT, ids=[f"{o}.{n}" for o, n, _ in CONTRACT])
def test_old_path_is_the_new_object(old, name, new):
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)
