"""A network built in the Architecture Lab, trained like the presets: the stack checked against a data set (input
channels and size, number of classes, the parameter / activation / FLOP budgets of building it and of one training
epoch), the one visible fix that makes it fit (the input set to the data's, a classifier head), the checkpoint spec
that carries the stack next to its weights, and the module any spec builds.

A built model's spec is ``{"model": "Built", "kwargs": {in_channels, num_classes, size, width}, "classes": [...],
"stack": {"in_shape": [C, H, W], "layers": [...]}}``; the stack is validated as the builder's own JSON import is
(:func:`cnnviz.architecture.codegen.stack_from_json`, then its budget), and must take the kwargs' input and end
in ``num_classes`` outputs."""
from __future__ import annotations

import json

import torch.nn as nn

from cnnviz.architecture import builder as bld
from cnnviz.architecture import codegen as cg
from cnnviz.architecture.models import MODELS, build_model
from cnnviz.errors import ConfigError
from cnnviz.io.text import shown
from cnnviz.limits import MAX_STACK_JSON

BUILT = "Built"              # the model name of a network built in the Architecture Lab
MAX_TRAIN_EPOCH_FLOPS = 2 * 10 ** 12  # one training epoch: images × 3 × forward FLOPs (about a minute on a CPU)
TRAIN_FLOPS_PER_FORWARD = 3  # forward + backward ≈ 3 forward passes (the backward computes two products per one)


def _fmt(shape) -> str:
    return "×".join(map(str, shape))


def _dims(data) -> tuple[int, int, int]:
    """(channels, size, classes) of a data set (a :class:`cnnviz.io.data.Dataset` or any object with
    ``in_channels``, ``size`` and ``num_classes``)."""
    return int(data.in_channels), int(data.size), int(data.num_classes)


def check_fits(layers: list, in_shape: tuple, data, name: str = "the data") -> tuple[int, int, int]:
    """``(parameters, activations, FLOPs)`` of the stack when it can be trained on ``data`` (its images and
    classes; ``name`` says which in messages): a 2-D stack that takes the data's C×H×W, ends in one output per
    class, fits the builder's budget and one training epoch's FLOPs. ConfigError naming what does not fit."""
    c, size, k = _dims(data)
    in_shape = tuple(in_shape)
    if len(in_shape) != 3:
        raise ConfigError("input", f"the stack takes {len(in_shape) - 1}-D inputs ({_fmt(in_shape)}); {name} are "
                          f"2-D images ({c}×{size}×{size}): build a stack of 2-D layers")
    if in_shape != (c, size, size):
        raise ConfigError("input", f"the stack takes {_fmt(in_shape)} inputs; {name} are {c}×{size}×{size}: set "
                          f"Input channels to {c} and Input size to {size}")
    out = cg.shapes(layers, in_shape)[-1]  # ConfigError names the first layer that does not fit the size
    if len(out) != 1:
        raise ConfigError("classifier head", f"the stack ends with {out[0]} channels at {_fmt(out[1:])}; {name} "
                          f"have {k} classes: add a classifier head (a linear layer with {k} outputs) at the end")
    if out[0] != k:
        raise ConfigError("classifier head", f"the stack ends with {out[0]} outputs; {name} have {k} classes: "
                          f"set the last linear layer to {k} outputs")
    cost = cg.check_budget(layers, in_shape)
    n = len(data.y_train) if hasattr(data, "y_train") else 0
    epoch = TRAIN_FLOPS_PER_FORWARD * cost[2] * n
    if epoch > MAX_TRAIN_EPOCH_FLOPS:
        raise ConfigError("stack", f"one epoch on {name} ({n:,} images × 3 × {cost[2]:,} FLOPs per forward pass) "
                          f"is {epoch / 1e12:.1f} TFLOPs, above the limit of {MAX_TRAIN_EPOCH_FLOPS / 1e12:.1f} "
                          "TFLOPs per epoch here: use fewer channels or pool earlier")
    return cost


def fit_to(layers: list, in_shape: tuple, data) -> tuple[list, tuple, list[str]]:
    """The stack changed so it can fit ``data``: ``(layers, in_shape, what changed)``. Its input becomes the data's
    C×H×W (the builder's own Input channels / size edit, convs re-chained) and its end one output per class (the last
    linear layer's width set, or a linear head appended after a feature map); nothing else moves."""
    c, size, k = _dims(data)
    changes = []
    if len(in_shape) != 3:
        raise ConfigError("input", f"the stack takes {len(in_shape) - 1}-D inputs; only a 2-D stack can train on "
                          "images")
    if tuple(in_shape) != (c, size, size):
        changes.append(f"input {_fmt(in_shape)} → {c}×{size}×{size}")
        layers, in_shape = bld.reshape_input(layers, tuple(in_shape), c, size)
    out = cg.shapes(layers, in_shape)[-1]
    if len(out) != 1:
        changes.append(f"a classifier head: Linear → {k} after the {_fmt(out)} feature map")
        layers = [*layers, {"type": "linear", "out_features": k, "bias": True}]
    elif out[0] != k:
        if layers[-1].get("type") == "linear":
            changes.append(f"the last linear layer: {out[0]} → {k} outputs")
            layers = [*layers[:-1], {**layers[-1], "out_features": k}]
        else:
            changes.append(f"a classifier head: Linear {out[0]} → {k}")
            layers = [*layers, {"type": "linear", "out_features": k, "bias": True}]
    cg.shapes(layers, in_shape)
    return layers, tuple(in_shape), changes


# --------------------------------------------------------------------------- the stack as text (a TrainConfig field)
def stack_text(layers: list, in_shape: tuple) -> str:
    """The valid stack as compact JSON (what ``TrainConfig.stack`` holds)."""
    return json.dumps(json.loads(cg.stack_to_json(layers, in_shape)), separators=(",", ":"))


def parse_stack(text) -> tuple[list, tuple]:
    """``stack_text``'s inverse, validated as the builder's JSON import (shapes, then the budget)."""
    if not isinstance(text, str) or not text or len(text) > MAX_STACK_JSON:
        raise ConfigError("stack", f"must be the stack's JSON, 1 to {MAX_STACK_JSON:,} characters, got "
                          f"{shown(text) if not isinstance(text, str) else f'{len(text):,} characters'}")
    try:
        layers, in_shape = cg.stack_from_json(text)
        cg.check_budget(layers, in_shape)
    except ConfigError as e:
        raise ConfigError("stack", str(e)) from None
    return layers, in_shape


def check_config(model: str, stack: str) -> None:
    """A training config's model and stack: a preset name and no stack, or ``BUILT`` and a valid stack."""
    if model == BUILT:
        parse_stack(stack)
    elif stack:
        raise ConfigError("stack", f"a stack is trained as model {BUILT!r}, not {shown(model)}")


# --------------------------------------------------------------------------- checkpoint specs
def built_spec(layers: list, in_shape: tuple, classes) -> dict:
    """The checkpoint spec of a built network trained on images of ``in_shape`` with ``classes``."""
    convs = [x for x in layers if x.get("type") == "conv"]
    width = min(int(convs[0]["out_channels"]), 256) if convs else 1  # shown only: the stack says the widths
    return dict(model=BUILT, kwargs=dict(in_channels=int(in_shape[0]), num_classes=len(classes),
                                         size=int(in_shape[-1]), width=width),
                classes=list(classes), stack=json.loads(stack_text(layers, in_shape)))


def check_stack_spec(stack, kwargs: dict, field: str = "spec.stack") -> dict:
    """A spec's ``stack`` against its (already checked) ``kwargs``: ``{"in_shape", "layers"}`` normalised, or
    ConfigError("checkpoint.<field>", ...)."""
    try:
        text = json.dumps(stack, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as e:
        raise ConfigError(f"checkpoint.{field}", f"is not a JSON stack ({type(e).__name__})") from None
    try:
        layers, in_shape = parse_stack(text)
        check_fits(layers, in_shape, _Shape(kwargs["in_channels"], kwargs["size"], kwargs["num_classes"]),
                   "the spec's inputs")
    except ConfigError as e:
        raise ConfigError(f"checkpoint.{field}", str(e)) from None
    return dict(in_shape=list(in_shape), layers=layers)


class _Shape:
    """A data set as the fit check sees it, when only its sizes are known (a checkpoint's spec)."""

    def __init__(self, in_channels: int, size: int, num_classes: int):
        self.in_channels, self.size, self.num_classes = in_channels, size, num_classes


def build_network(model: str, kwargs: dict, stack: dict | None = None) -> nn.Module:
    """The module of a (validated) spec: a preset from ``cnnviz.architecture.models`` or a built stack."""
    if model == BUILT:
        if not isinstance(stack, dict):
            raise ConfigError("spec.stack", f"a {BUILT} model needs its stack")
        return cg.build_stack(stack["layers"], tuple(stack["in_shape"]))
    return build_model(model, **kwargs)


def known_model(model) -> bool:
    """Whether ``model`` names something a spec can build."""
    return isinstance(model, str) and (model in MODELS or model == BUILT)


def epoch_flops(layers: list, in_shape: tuple, n_images: int) -> int:
    """FLOPs of one training epoch over ``n_images``: 3 forward passes' worth per image."""
    return TRAIN_FLOPS_PER_FORWARD * cg.stack_cost(layers, in_shape)[2] * int(n_images)


__all__ = ["BUILT", "check_fits", "fit_to", "stack_text", "parse_stack", "check_config", "built_spec",
           "check_stack_spec", "build_network", "known_model", "epoch_flops"]
