"""Pick the device: CUDA when present, else CPU; the CNNVIZ_DEVICE environment variable overrides."""
import os

import torch

from cnnviz.errors import ConfigError


def pick_device() -> torch.device:
    wanted = os.environ.get("CNNVIZ_DEVICE", "").strip()
    if wanted:
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("CNNVIZ_DEVICE", f"asks for {wanted!r} but CUDA is not available on this machine")
        try:
            return torch.device(wanted)
        except RuntimeError as e:
            raise ConfigError("CNNVIZ_DEVICE", f"{wanted!r} is not a device name ({e})") from e
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
