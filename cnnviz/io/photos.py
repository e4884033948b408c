"""The photographs shipped in ``assets/photos/`` (scikit-image's CC0 and public-domain samples, at most 256 px on the
long side; ``scripts/build_photos.py`` rebuilds them, ``assets/photos/LICENSE.md`` credits each): their manifest,
their file bytes (what the model pages feed down the upload path) and their pixels as a tensor, grey or colour.

Offline: nothing is downloaded. A name that is not in the manifest is a ConfigError naming ``photo``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from cnnviz.errors import ConfigError

PHOTOS_DIR = Path(__file__).resolve().parents[2] / "assets" / "photos"
CHANNELS = ("grey", "red", "green", "blue", "rgb")  # what load_photo can return
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as cnnviz.io.images.to_model_input makes grey


@dataclass(frozen=True)
class Photo:
    name: str
    title: str
    file: str
    size: tuple[int, int]  # (width, height), as Pillow gives it
    mode: str  # "L" or "RGB"
    sha256: str
    shows: str = ""
    author: str = ""
    licence: str = ""

    @property
    def path(self) -> Path:
        return PHOTOS_DIR / self.file


@lru_cache(maxsize=1)
def list_photos() -> dict[str, Photo]:
    """The shipped photographs by name, in the manifest's order."""
    rows = json.loads((PHOTOS_DIR / "photos.json").read_text())
    return {r["name"]: Photo(r["name"], r["title"], r["file"], tuple(r["size"]), r["mode"], r["sha256"],
                             r.get("shows", ""), r.get("author", ""), r.get("licence", "")) for r in rows}


def photo_names() -> tuple[str, ...]:
    return tuple(list_photos())


def photo_title(name: str) -> str:
    """What a photo select box shows: the title, or the name itself when unknown."""
    p = list_photos().get(name)
    return p.title if p else str(name)


def photo_info(name: str) -> Photo:
    photos = list_photos()
    if not isinstance(name, str) or name not in photos:
        shown = repr(name)[:40]
        raise ConfigError("photo", f"no photograph {shown}; choose one of {', '.join(photos)}")
    return photos[name]


@lru_cache(maxsize=16)
def photo_bytes(name: str) -> bytes:
    """The PNG file of photograph ``name`` (what an upload of it would send)."""
    return photo_info(name).path.read_bytes()


@lru_cache(maxsize=64)
def _pixels(name: str, channel: str) -> torch.Tensor:
    import io
    with Image.open(io.BytesIO(photo_bytes(name))) as img:
        a = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
    if channel == "rgb":
        out = a.transpose(2, 0, 1)  # (3, H, W)
    elif channel == "grey":
        out = (LUMA[0] * a[..., 0] + LUMA[1] * a[..., 1] + LUMA[2] * a[..., 2])[None]  # (1, H, W)
    else:
        out = a[..., ("red", "green", "blue").index(channel)][None]
    t = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
    t.requires_grad_(False)
    return t


def load_photo(name: str, channel: str = "grey") -> torch.Tensor:
    """Photograph ``name`` as float32 in [0, 1]: (1, H, W) for ``grey`` (ITU-R 601 luma) or one of ``red``,
    ``green``, ``blue``; (3, H, W) for ``rgb``. A grey photograph's three channels are equal. Returns a copy."""
    photo_info(name)
    if channel not in CHANNELS:
        raise ConfigError("channel", f"must be one of {', '.join(CHANNELS)}, got {str(channel)[:20]!r}")
    return _pixels(name, channel).clone()


LONG_SIDE = 256  # the kernel tab's pictures: a photograph's size; an upload or a camera picture is shrunk to it


def picture_from_bytes(data: bytes, channel: str = "grey", long_side: int = LONG_SIDE) -> torch.Tensor:
    """An uploaded file or a camera picture -> like :func:`load_photo`, the long side shrunk to at most
    ``long_side`` (aspect kept, area averaging). Checked as every upload is (:func:`cnnviz.io.images.decode`:
    type, bytes, pixels before decoding)."""
    import torch.nn.functional as F
    from cnnviz.io.images import decode
    if channel not in CHANNELS:
        raise ConfigError("channel", f"must be one of {', '.join(CHANNELS)}, got {str(channel)[:20]!r}")
    x = decode(data)  # (3, H, W) in [0, 1]
    h, w = x.shape[1:]
    scale = long_side / max(h, w)
    if scale < 1:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(x[None], size=size, mode="area")[0].clamp(0, 1)
    if channel == "rgb":
        return x.contiguous()
    if channel == "grey":
        return (LUMA[0] * x[0] + LUMA[1] * x[1] + LUMA[2] * x[2])[None].contiguous()
    return x[("red", "green", "blue").index(channel)][None].contiguous()
