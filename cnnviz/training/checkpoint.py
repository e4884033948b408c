"""Checkpoints: the model's spec as JSON next to its ``state_dict``, written with ``torch.save`` and read
back only with ``torch.load(weights_only=True)`` — a file holding a pickle gadget (code that runs on load) is
refused before anything in it runs, and an archive that would inflate past the budgets is refused before it
is loaded (:func:`cnnviz.io.uploads.load_weights`).

Then every field is validated before any module is built or anything is shown (:func:`validate_payload`, in
:mod:`cnnviz.training.checkpoint_checks`):
the spec's model, widths, input size and class names within :mod:`cnnviz.io.budgets`; the weights' names,
shapes and dtypes equal to what the spec builds (computed on the ``meta`` device: nothing is allocated), so
the number of classes is the output layer's size and the input size is what the first Linear layer reads;
step and epoch non-negative integers within the configured epochs; the optimizer, EMA and RNG states of the
right shapes; the JSON fields flat and finite. Each refusal is a ConfigError naming the field, e.g.
``checkpoint.spec.kwargs.width``."""
from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from cnnviz.errors import ConfigError
from cnnviz.training.built_model import build_network
from cnnviz.io.uploads import load_weights
from cnnviz.training.checkpoint_checks import (FORMAT, OPTIONAL, REQUIRED, RNG_MAX_BYTES, SPEC_FIELDS,  # noqa: F401
                                               SPEC_KEYS, check_kwargs, check_spec, check_state_dict,
                                               expected_state, validate_payload)


def model_spec(model_name: str, in_channels: int, num_classes: int, size: int, width: int, classes) -> dict:
    return dict(model=model_name, kwargs=dict(in_channels=in_channels, num_classes=num_classes, size=size,
                                              width=width), classes=list(classes))


def build_from_spec(spec: dict) -> torch.nn.Module:
    """A model from a spec, after :func:`check_spec` (so its size is bounded by the budgets)."""
    spec = check_spec(spec)
    return build_network(spec["model"], spec["kwargs"], spec.get("stack"))


def save_checkpoint(spec: dict, model: torch.nn.Module, *, step: int, epoch: int, config: dict | None = None,
                    optimizer: dict | None = None, ema: dict | None = None, rng: torch.Tensor | None = None,
                    extra: dict | None = None) -> bytes:
    """Serialise to bytes (the page offers them as a download; write them to a file to keep them)."""
    payload = dict(format=FORMAT, spec=json.dumps(spec), config=json.dumps(config or {}),
                   state_dict={k: _own(v) for k, v in model.state_dict().items()},
                   step=int(step), epoch=int(epoch), extra=json.dumps(extra or {}))
    if optimizer is not None:
        payload["optimizer"] = _to_cpu(optimizer)
    if ema is not None:
        payload["ema"] = {k: _own(v) for k, v in ema.items()}
    if rng is not None:
        payload["rng"] = rng.cpu()
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def _own(t: torch.Tensor) -> torch.Tensor:
    """``t`` on the CPU holding only its own numbers: ``torch.save`` writes a view's whole storage (a class
    group's member weights are views of the group's stacked tensor), so a view of a larger storage is copied."""
    t = t.detach().cpu()
    if t.untyped_storage().nbytes() > t.numel() * t.element_size():
        t = t.clone()
    return t


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return _own(obj)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def read_checkpoint(path_or_bytes) -> dict:
    """The raw payload, size-checked, loaded with ``weights_only=True`` and validated (:func:`validate_payload`);
    ConfigError for anything else."""
    return _read(path_or_bytes)[0]


def _read(path_or_bytes) -> tuple[dict, dict]:
    data = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else Path(path_or_bytes).read_bytes()
    payload = load_weights(bytes(data), "checkpoint")
    return payload, validate_payload(payload)


def load_checkpoint(path_or_bytes) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model from a checkpoint (path or bytes): ``(model in eval mode on CPU, meta)`` where meta has
    ``spec``, ``classes``, ``step``, ``epoch``, ``config`` and ``extra`` (e.g. the validation accuracy). If the
    checkpoint has EMA weights, those are the model's weights (they are what was evaluated). Every field is
    validated against the weights before the model is built."""
    payload, v = _read(path_or_bytes)
    spec = v["spec"]
    model = build_network(spec["model"], spec["kwargs"], spec.get("stack"))
    try:
        model.load_state_dict(payload.get("ema") or payload["state_dict"])
    except (KeyError, RuntimeError) as e:  # validated above: kept as a last guard
        raise ConfigError("checkpoint", f"the weights do not fit the model {spec['model']} "
                          f"({str(e).splitlines()[0][:160]})") from None
    meta = dict(spec=spec, classes=tuple(spec["classes"]), step=v["step"], epoch=v["epoch"], config=v["config"],
                extra=v["extra"])
    return model.eval(), meta


def check_resume(data: bytes, model_name: str | None = None, epochs: int | None = None) -> dict:
    """A checkpoint to resume from, validated; with ``epochs`` (the run's), one that already ran more epochs
    than requested is refused — resuming never runs more epochs than the run asks for."""
    if not isinstance(data, (bytes, bytearray)):
        raise ConfigError("resume", f"must be checkpoint bytes, got {type(data).__name__}")
    v = _read(bytes(data))[1]
    if model_name is not None and v["spec"]["model"] != model_name:
        raise ConfigError("resume", f"the checkpoint is a {v['spec']['model']}, this run a {model_name}")
    if epochs is not None and v["epoch"] > epochs:
        raise ConfigError("epochs", f"the checkpoint has already run {v['epoch']} epochs; set epochs to at least "
                          f"{v['epoch']} to resume it (this run asks for {epochs})")
    return v
