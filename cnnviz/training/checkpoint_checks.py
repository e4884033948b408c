"""Checkpoint validation: every field of a loaded payload checked before any module is built or anything is
shown (see :mod:`cnnviz.training.checkpoint`). Weights are compared with what the spec builds on the ``meta``
device, so nothing is allocated; each refusal is a ConfigError naming the field (``checkpoint.spec.kwargs.width``)."""
from __future__ import annotations

import json
import math

import torch

from cnnviz.errors import ConfigError
from cnnviz.architecture.models import MODELS
from cnnviz.io import budgets
from cnnviz.training.built_model import BUILT, build_network, check_stack_spec, known_model

FORMAT = "cnnviz-checkpoint/1"
SPEC_KEYS = {"in_channels", "num_classes", "size", "width"}
SPEC_FIELDS = {"model", "kwargs", "classes"}
REQUIRED = ("format", "spec", "config", "state_dict", "step", "epoch", "extra")
OPTIONAL = ("optimizer", "ema", "rng")
RNG_MAX_BYTES = 8192  # a CPU generator's state is 5056 bytes, a CUDA one's 16



def _bad(field: str, message: str):
    raise ConfigError(f"checkpoint.{field}", message)


def _show(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(v, field: str, lo: int, hi: int) -> int:
    if type(v) is not int:  # bool, float (NaN, inf), str, None, containers: all refused
        _bad(field, f"must be an integer, got {type(v).__name__} {_show(v)}")
    if not lo <= v <= hi:
        _bad(field, f"must be in {lo}..{hi:,}, got {_show(v)}")
    return v


def check_kwargs(kwargs, field: str = "spec.kwargs") -> dict:
    """The model's arguments: exactly ``SPEC_KEYS``, integers within the budgets."""
    if not isinstance(kwargs, dict):
        _bad(field, f"must be a mapping of {sorted(SPEC_KEYS)}, got {type(kwargs).__name__}")
    for key in kwargs:
        if key not in SPEC_KEYS:
            _bad(f"{field}.{str(key)[:40]}", f"unknown model argument; expected {sorted(SPEC_KEYS)}")
    for key in sorted(SPEC_KEYS):
        if key not in kwargs:
            _bad(f"{field}.{key}", "is missing")
    c = kwargs["in_channels"]
    if type(c) is not int or c not in budgets.SPEC_IN_CHANNELS:
        _bad(f"{field}.in_channels", f"must be 1 (grey) or 3 (RGB), got {_show(c)}")
    _int(kwargs["num_classes"], f"{field}.num_classes", 2, budgets.SPEC_MAX_CLASSES)
    _int(kwargs["size"], f"{field}.size", budgets.SPEC_MIN_SIZE, budgets.SPEC_MAX_SIZE)
    _int(kwargs["width"], f"{field}.width", 1, budgets.SPEC_MAX_WIDTH)
    return dict(kwargs)


def check_spec(spec, field: str = "spec") -> dict:
    """A spec dict (model, kwargs, classes), validated on its own (the weights come next)."""
    if not isinstance(spec, dict):
        _bad(field, f"must be a mapping with {sorted(SPEC_FIELDS)}, got {type(spec).__name__}")
    if not known_model(spec.get("model")):
        _bad(f"{field}.model", f"unknown model in the spec: {_show(spec.get('model'))}; "
             f"expected one of {', '.join(MODELS)}")
    for key in spec:
        if key not in SPEC_FIELDS and not (key == "stack" and spec["model"] == BUILT):  # a built network's layers
            _bad(f"{field}.{str(key)[:40]}", f"unknown field; expected {sorted(SPEC_FIELDS)}")
    kwargs = check_kwargs(spec.get("kwargs"), f"{field}.kwargs")
    classes = spec.get("classes")
    if not isinstance(classes, (list, tuple)):
        _bad(f"{field}.classes", f"must be a list of class names, got {type(classes).__name__}")
    if len(classes) != kwargs["num_classes"]:
        _bad(f"{field}.classes", f"has {len(classes):,} names for num_classes={kwargs['num_classes']}")
    for n, name in enumerate(classes):
        if not isinstance(name, str) or not 1 <= len(name) <= budgets.SPEC_MAX_CLASS_NAME:
            _bad(f"{field}.classes", f"name {n} must be text of 1..{budgets.SPEC_MAX_CLASS_NAME} characters, "
                 f"got {_show(name)}")
    if spec["model"] == BUILT:  # a network built in the Architecture Lab: its stack, checked against the kwargs
        return dict(model=BUILT, kwargs=kwargs, classes=list(classes),
                    stack=check_stack_spec(spec.get("stack"), kwargs, f"{field}.stack"))
    return dict(model=spec["model"], kwargs=kwargs, classes=list(classes))


def expected_state(model_name: str, kwargs: dict, stack: dict | None = None) -> dict[str, tuple[torch.Size, torch.dtype]]:
    """Name -> (shape, dtype) of the ``state_dict`` the spec builds, on the meta device (allocates nothing)."""
    with torch.device("meta"):
        model = build_network(model_name, kwargs, stack)
    return {k: (v.shape, v.dtype) for k, v in model.state_dict().items()}


def _infer(state: dict) -> dict:
    """What the weights themselves say: in_channels and width from the first conv, num_classes (and the
    first Linear's inputs) from the output layer."""
    first = state.get("features.0.weight", state.get("stem.0.weight"))
    last = state.get("classifier.1.weight", state.get("fc.weight"))
    out = {}
    if isinstance(first, torch.Tensor) and first.dim() == 4:
        out.update(width=first.shape[0], in_channels=first.shape[1])
    if isinstance(last, torch.Tensor) and last.dim() == 2:
        out.update(num_classes=last.shape[0], in_features=last.shape[1])
    return out


def _check_tensor(t, field: str, shape, dtype) -> None:
    if not isinstance(t, torch.Tensor):
        _bad(field, f"must be a tensor, got {type(t).__name__}")
    if t.layout != torch.strided or t.device.type != "cpu" or t.is_quantized:
        _bad(field, f"must be a dense CPU tensor, got layout {t.layout} on {t.device.type}")
    if tuple(t.shape) != tuple(shape):
        _bad(field, f"the weights do not fit the spec: shape {tuple(t.shape)}, expected {tuple(shape)}")
    if t.dtype != dtype:
        _bad(field, f"must be {dtype}, got {t.dtype}")
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        _bad(field, "holds NaN or infinite values")
    if t.is_floating_point() and t.numel() and (peak := float(t.abs().max())) > budgets.CHECKPOINT_MAX_ABS:
        _bad(field, f"holds a value of magnitude {peak:.3g}, above {budgets.CHECKPOINT_MAX_ABS:.0e}: no trained "
             "layer has such weights, and the model's outputs would overflow")


def check_state_dict(state, model_name: str, kwargs: dict, field: str = "state_dict", stack: dict | None = None) -> None:
    """The weights against the spec: the same names, shapes and dtypes (the spec's fields are named when the
    weights disagree with one), finite values of a trained model's magnitude. Nothing is built."""
    if not isinstance(state, dict) or not state:
        _bad(field, f"must be a non-empty mapping of names to tensors, got {type(state).__name__}")
    expected = expected_state(model_name, kwargs, stack)
    seen = _infer(state)
    for key in ("in_channels", "width", "num_classes"):
        if key in seen and seen[key] != kwargs[key]:
            _bad(f"spec.kwargs.{key}", f"the weights do not fit the spec: {key}={kwargs[key]}, but the weights "
                 f"have {seen[key]}")
    linear_in = kwargs["width"] * (kwargs["size"] // 4) ** 2  # TinyVGG: two 2× pools, then Linear
    if model_name == "TinyVGG" and "in_features" in seen and seen.get("width") == kwargs["width"] \
            and seen["in_features"] != linear_in:
        _bad("spec.kwargs.size", f"the weights do not fit the spec: size={kwargs['size']} means "
             f"{kwargs['width'] * (kwargs['size'] // 4) ** 2:,} inputs to the first Linear layer, the weights "
             f"read {seen['in_features']:,} (trained on another input size)")
    extra = [k for k in state if k not in expected]
    missing = [k for k in expected if k not in state]
    if extra or missing:
        _bad(field, f"the weights do not fit the model {model_name}: "
             + (f"unexpected {', '.join(_show(k) for k in extra[:3])}" if extra else "")
             + ("; " if extra and missing else "")
             + (f"missing {', '.join(missing[:3])}" if missing else ""))
    for k, (shape, dtype) in expected.items():
        _check_tensor(state[k], f"{field}.{k}", shape, dtype)


def _json(payload: dict, key: str, allow_inf: bool = False) -> dict:
    """A JSON-text field -> a flat dict of scalars (no nesting, no NaN; ±inf only where allowed)."""
    text = payload.get(key)
    if not isinstance(text, str):
        _bad(key, f"must be JSON text, got {type(text).__name__}")
    if len(text) > budgets.CHECKPOINT_JSON_CHARS:
        _bad(key, f"is {len(text):,} characters; the limit is {budgets.CHECKPOINT_JSON_CHARS:,}")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:
        _bad(key, f"is not valid JSON ({str(e)[:80]})")
    if not isinstance(value, dict):
        _bad(key, f"must be a JSON object, got {type(value).__name__}")
    if key == "spec":
        return value
    for k, v in value.items():
        if len(k) > 64:
            _bad(key, f"has a key of {len(k)} characters")
        if not (v is None or isinstance(v, (bool, int, str)) or isinstance(v, float)):
            _bad(f"{key}.{k}", f"must be a number, text, true/false or null, got {type(v).__name__}")
        if isinstance(v, str) and len(v) > 200:
            _bad(f"{key}.{k}", f"is {len(v):,} characters; at most 200")
        if isinstance(v, float) and (math.isnan(v) or (math.isinf(v) and not allow_inf)):
            _bad(f"{key}.{k}", f"must be a finite number, got {v}")
    return value


def _check_optimizer(opt, params: list[tuple[str, torch.Size]]) -> None:
    if not isinstance(opt, dict) or set(opt) != {"state", "param_groups"}:
        _bad("optimizer", "must be an optimizer state_dict with 'state' and 'param_groups'")
    groups, state = opt["param_groups"], opt["state"]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups) or not groups:
        _bad("optimizer.param_groups", "must be a list of mappings")
    ids = []
    for g in groups:
        for k, v in g.items():
            if k == "params":
                if not isinstance(v, list) or not all(type(i) is int for i in v):
                    _bad("optimizer.param_groups.params", "must be a list of integers")
                ids += v
            elif not (v is None or isinstance(v, (bool, int, float, str))
                      or (isinstance(v, (tuple, list)) and len(v) <= 4 and all(isinstance(x, (int, float))
                                                                            for x in v))):
                _bad(f"optimizer.param_groups.{str(k)[:40]}", f"must be a number, got {type(v).__name__}")
    if sorted(ids) != list(range(len(params))):
        _bad("optimizer.param_groups.params", f"must number the model's {len(params)} parameters once each")
    if not isinstance(state, dict) or any(type(i) is not int or not 0 <= i < len(params) for i in state):
        _bad("optimizer.state", "must map parameter numbers to their state")
    for i, entry in state.items():
        if not isinstance(entry, dict):
            _bad(f"optimizer.state.{i}", "must be a mapping")
        for k, v in entry.items():
            if isinstance(v, torch.Tensor):
                if v.layout != torch.strided or v.device.type != "cpu" or (
                        v.dim() and tuple(v.shape) != tuple(params[i][1])) or (not v.dim() and v.numel() != 1):
                    _bad(f"optimizer.state.{i}.{str(k)[:40]}", f"shape {tuple(v.shape)} does not fit parameter "
                         f"{params[i][0]} {tuple(params[i][1])}")
            elif not (v is None or isinstance(v, (bool, int, float))):
                _bad(f"optimizer.state.{i}.{str(k)[:40]}", f"must be a tensor or a number, got {type(v).__name__}")


def validate_payload(payload) -> dict:
    """Everything in a checkpoint, checked before anything is built: ``dict(spec, config, extra, step, epoch)``
    (spec validated and fitted to the weights). ConfigError naming the field otherwise."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ConfigError("checkpoint", f"not a cnnviz checkpoint (expected format {FORMAT!r})")
    for key in payload:
        if key not in REQUIRED and key not in OPTIONAL:
            _bad(str(key)[:40], f"unknown field; a checkpoint has {', '.join(REQUIRED + OPTIONAL)}")
    for key in REQUIRED:
        if key not in payload:
            _bad(key, "is missing")
    spec = check_spec(_json(payload, "spec"))
    config, extra = _json(payload, "config"), _json(payload, "extra", allow_inf=True)
    epochs = budgets.MAX_EPOCHS
    if "epochs" in config:
        epochs = _int(config["epochs"], "config.epochs", 1, budgets.MAX_EPOCHS)
    step = _int(payload["step"], "step", 0, budgets.MAX_STEPS)
    epoch = _int(payload["epoch"], "epoch", 0, epochs)
    if "ema_updates" in extra:
        _int(extra["ema_updates"], "extra.ema_updates", 0, budgets.MAX_STEPS)
    if "bad_epochs" in extra:
        _int(extra["bad_epochs"], "extra.bad_epochs", 0, budgets.MAX_EPOCHS)
    stack = spec.get("stack")
    check_state_dict(payload["state_dict"], spec["model"], spec["kwargs"], stack=stack)
    if "ema" in payload:
        check_state_dict(payload["ema"], spec["model"], spec["kwargs"], "ema", stack)
    if "optimizer" in payload:
        with torch.device("meta"):
            params = [(n, p.shape) for n, p in build_network(spec["model"], spec["kwargs"], stack).named_parameters()]
        _check_optimizer(payload["optimizer"], params)
    if "rng" in payload:
        rng = payload["rng"]
        if not isinstance(rng, torch.Tensor) or rng.dtype != torch.uint8 or rng.dim() != 1 \
                or not 0 < rng.numel() <= RNG_MAX_BYTES or rng.layout != torch.strided:
            _bad("rng", f"must be a generator state: 1-D uint8, at most {RNG_MAX_BYTES} bytes")
    return dict(spec=spec, config=config, extra=extra, step=step, epoch=epoch)
