"""The public names are the contract: each room's face (its ``__init__``) offers them in ``__all__``, as the very
object the module that defines it holds (a re-export, not a copy that could drift). Module paths may move."""
import importlib

import pytest

CONTRACT = [  # (room, name, defining module)
    ("cnnviz.geometry", "conv_output_shape", "cnnviz.geometry.arithmetic"),
    ("cnnviz.geometry", "tf_same_padding", "cnnviz.geometry.padding"),
    ("cnnviz.geometry", "ConvSpec", "cnnviz.geometry.specs"),
    ("cnnviz.animation", "conv2d_steps", "cnnviz.animation.conv2d"),
    ("cnnviz.architecture", "summarize", "cnnviz.architecture.summary"),
    ("cnnviz.architecture", "SearchConfig", "cnnviz.architecture.search"),
    ("cnnviz.inside", "attribute", "cnnviz.inside.saliency"),
    ("cnnviz.inside", "load_model", "cnnviz.inside.shipped"),
    ("cnnviz.compression", "fake_quantize", "cnnviz.compression.quantize"),
    ("cnnviz.compression", "distillation_loss", "cnnviz.compression.distill"),
    ("cnnviz.compression", "DistillConfig", "cnnviz.compression.distill"),
    ("cnnviz.metrics", "topk_accuracy", "cnnviz.metrics.classification"),
    ("cnnviz.metrics", "box_iou", "cnnviz.metrics.detection"),
    ("cnnviz.metrics", "dice_loss", "cnnviz.metrics.segmentation"),
    ("cnnviz.training", "TrainConfig", "cnnviz.training.recipe"),
    ("cnnviz.training", "load_checkpoint", "cnnviz.training.checkpoint"),
    ("cnnviz.jobs", "ThreadRunner", "cnnviz.jobs.runner"),
    ("cnnviz.jobs", "JobLimiter", "cnnviz.jobs.limiter"),
    ("cnnviz.jobs", "get_runner", "cnnviz.jobs.factory"),
    ("cnnviz.jobs", "Finished", "cnnviz.jobs.events"),
    ("cnnviz.explorer", "neuron_detail", "cnnviz.explorer.neuron"),
]


@pytest.mark.parametrize("room,name,home", CONTRACT, ids=[f"{r}.{n}" for r, n, _ in CONTRACT])
def test_room_offers_the_defining_object(room, name, home):
    face = importlib.import_module(room)
    assert name in face.__all__
    assert getattr(face, name) is getattr(importlib.import_module(home), name)


@pytest.mark.parametrize("old", ["cnnviz.arithmetic", "cnnviz.train", "cnnviz.blocks", "cnnviz.compress",
                                 "cnnviz.cluster", "cnnviz.jobids", "cnnviz.training.runner"])
def test_no_compat_paths_are_left(old):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(old)


def test_every_room_lists_only_names_it_has():
    for room in ("geometry", "animation", "architecture", "inside", "explorer", "compression", "metrics",
                 "training", "jobs", "io", "classroom", "figures"):
        face = importlib.import_module(f"cnnviz.{room}")
        assert face.__doc__ and getattr(face, "__all__", None), room
        assert [n for n in face.__all__ if not hasattr(face, n)] == [], room
