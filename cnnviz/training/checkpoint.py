"""Checkpoints: the model's spec as JSON next to its ``state_dict``, written with ``torch.save`` and read
back only with ``torch.load(weights_only=True)`` — a file holding a pickle gadget (code that runs on load) is
refused before anything in it runs."""
from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from cnnviz.errors import ConfigError
from cnnviz.architecture.models import MODELS, build_model

FORMAT = "cnnviz-checkpoint/1"
SPEC_KEYS = {"in_channels", "num_classes", "size", "width"}


def model_spec(model_name: str, in_channels: int, num_classes: int, size: int, width: int, classes) -> dict:
    return dict(model=model_name, kwargs=dict(in_channels=in_channels, num_classes=num_classes, size=size,
                                              width=width), classes=list(classes))


def build_from_spec(spec: dict) -> torch.nn.Module:
    if not isinstance(spec, dict) or spec.get("model") not in MODELS:
        raise ConfigError("checkpoint", f"unknown model in the spec: {spec.get('model') if isinstance(spec, dict) else spec!r}")
    kwargs = spec.get("kwargs", {})
    if not isinstance(kwargs, dict) or set(kwargs) - SPEC_KEYS or not all(isinstance(v, int) for v in kwargs.values()):
        raise ConfigError("checkpoint", f"the model arguments must be integers among {sorted(SPEC_KEYS)}")
    return build_model(spec["model"], **kwargs)


def save_checkpoint(spec: dict, model: torch.nn.Module, *, step: int, epoch: int, config: dict | None = None,
                    optimizer: dict | None = None, ema: dict | None = None, rng: torch.Tensor | None = None,
                    extra: dict | None = None) -> bytes:
    """Serialise to bytes (the page offers them as a download; write them to a file to keep them)."""
    payload = dict(format=FORMAT, spec=json.dumps(spec), config=json.dumps(config or {}),
                   state_dict={k: v.detach().cpu() for k, v in model.state_dict().items()},
                   step=int(step), epoch=int(epoch), extra=json.dumps(extra or {}))
    if optimizer is not None:
        payload["optimizer"] = _to_cpu(optimizer)
    if ema is not None:
        payload["ema"] = {k: v.detach().cpu() for k, v in ema.items()}
    if rng is not None:
        payload["rng"] = rng.cpu()
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def read_checkpoint(path_or_bytes) -> dict:
    """The raw payload, loaded with ``weights_only=True``; ConfigError for anything else."""
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, (bytes, bytearray)) else Path(path_or_bytes)
    try:
        payload = torch.load(src, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError for gadgets, RuntimeError / EOFError for garbage
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "weights_only" in str(e) or "Unsupported global" in str(e) or "GLOBAL" in str(e):
            raise ConfigError("checkpoint", "refused: the file contains Python objects other than tensors and "
                              f"plain data (a pickle that could run code) — {first[:160]}") from None
        raise ConfigError("checkpoint", f"not a readable PyTorch checkpoint ({first[:160]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ConfigError("checkpoint", f"not a cnnviz checkpoint (expected format {FORMAT!r})")
    return payload


def load_checkpoint(path_or_bytes) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model from a checkpoint (path or bytes): ``(model in eval mode on CPU, meta)`` where meta has
    ``spec``, ``classes``, ``step``, ``epoch``, ``config`` and ``extra`` (e.g. the validation accuracy). If the
    checkpoint has EMA weights, those are the model's weights (they are what was evaluated)."""
    payload = read_checkpoint(path_or_bytes)
    try:
        spec, config, extra = (json.loads(payload[k]) for k in ("spec", "config", "extra"))
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError("checkpoint", f"the spec is not valid JSON ({e})") from None
    model = build_from_spec(spec)
    try:
        model.load_state_dict(payload.get("ema") or payload["state_dict"])
    except (KeyError, RuntimeError) as e:
        raise ConfigError("checkpoint", f"the weights do not fit the model {spec['model']} "
                          f"({str(e).splitlines()[0][:160]})") from None
    meta = dict(spec=spec, classes=tuple(spec.get("classes", ())), step=int(payload["step"]),
                epoch=int(payload["epoch"]), config=config, extra=extra)
    return model.eval(), meta
