"""The one device policy: CUDA when present, else CPU; the CNNVIZ_DEVICE environment variable overrides.

Every path that runs a model either picks a device here (``pick_device``) or follows the model it was given
(``model_device`` / ``to_model_device``). Tensors come back to the CPU only for plotting."""
import os
import threading

import torch
from torch import nn

from cnnviz.errors import ConfigError

KNOWN = ("cpu", "cuda")


def pick_device() -> torch.device:
    """cuda when available, else cpu; CNNVIZ_DEVICE ("cpu", "cuda", "cuda:1") overrides. An unknown or
    unavailable value raises ConfigError naming CNNVIZ_DEVICE."""
    wanted = os.environ.get("CNNVIZ_DEVICE", "").strip()
    if wanted:
        try:
            dev = torch.device(wanted)
        except (RuntimeError, ValueError) as e:
            raise ConfigError("CNNVIZ_DEVICE", f"{wanted!r} is not a device name; use one of {', '.join(KNOWN)} "
                              f"({e})") from e
        if dev.type not in KNOWN:
            raise ConfigError("CNNVIZ_DEVICE", f"{wanted!r} is not supported; use one of {', '.join(KNOWN)}")
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise ConfigError("CNNVIZ_DEVICE", f"asks for {wanted!r} but CUDA is not available on this machine")
            if dev.index is not None and dev.index >= torch.cuda.device_count():
                raise ConfigError("CNNVIZ_DEVICE", f"asks for {wanted!r} but this machine has "
                                  f"{torch.cuda.device_count()} CUDA device(s)")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); cpu when it has neither."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def to_model_device(x: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """``x`` on the model's device (a no-op when it is already there)."""
    return x.to(model_device(model))


def describe(device) -> str:
    """"CPU" or "CUDA (NVIDIA H100 …)" for captions."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return f"CUDA ({torch.cuda.get_device_name(device)})"
        except Exception:  # noqa: BLE001 - a name is only decoration
            return "CUDA"
    return device.type.upper()


def this_thread(hook):
    """A module hook (forward or pre-forward) that runs ``hook`` only for passes made by the thread that wraps it.
    The app's models are shared by every session: while one session's hook is on a module, another session's
    forward pass through it must neither be recorded nor overwrite what this one saw."""
    me = threading.get_ident()
    return lambda *args: hook(*args) if threading.get_ident() == me else None
