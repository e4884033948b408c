"""Images in and out: an uploaded file -> a model-ready tensor (type, size and decompression-bomb checks,
a correct conversion from every Pillow mode, centre crop, resize with torch ops) and tensors -> PNG.

How each Pillow mode becomes RGB in [0, 1] (:func:`to_rgb`; the tests check each against numpy):

- ``1``, ``L``, ``P``, ``RGB``: 8-bit samples / 255 (grey repeated on the three channels, palettes looked up).
- ``I;16`` (16-bit PNG/TIFF, also ``I;16B``/``I;16L``/``I;16N``): samples / 65535.
- ``I`` (32-bit integers): samples / 65535 when every sample lies in 0..65535 (16-bit data stored as 32 bits,
  what scanners write); otherwise scaled by the image's own range, min -> 0 and max -> 1.
- ``F`` (32-bit float): kept when every finite sample lies in [0, 1]; otherwise scaled by the range of the
  finite samples, min -> 0 and max -> 1. NaN becomes 0, +inf 1, -inf 0.
- ``CMYK``: R = (1 - C)(1 - K), and so on (Pillow's conversion); ``YCbCr``: the JPEG (JFIF, full-range) matrix.
- Alpha (``LA``, ``PA``, ``RGBA``, ``P`` with transparency): composited onto black, colour × alpha, so a
  fully transparent pixel is black whatever colour it stores (black is the digits' background).

Every decode is budgeted before it starts (:func:`check_decoded_size`): width × height × the bytes per pixel of
the mode the header declares (1 for ``L``/``P``/``1``, 2 for ``I;16``, 3 for ``RGB``, 4 for ``RGBA``/``I``/``F``
...) at most ``IMAGE_DECODED_BYTES`` (a 5000×5000 8-bit RGB photo), so a small compressed float TIFF of many
pixels is refused from its header. An uploaded image becomes a model input once (:func:`load_image` keeps the
result by the file's SHA-256 in a :class:`cnnviz.io.cache.BoundedCache`), not again on every widget change.
"""
from __future__ import annotations

import hashlib
import io
import threading
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageMode

from cnnviz.errors import ConfigError
from cnnviz.io import budgets
from cnnviz.io.cache import BoundedCache

MAX_BYTES = budgets.IMAGE_FILE_BYTES         # upload size limit
MAX_PIXELS = budgets.IMAGE_PIXELS            # width × height before decoding (a 5000×5000 photo)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
EXTENSIONS = ("png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff")
# Pillow's own bomb guard: a warning above MAX_IMAGE_PIXELS, an error above twice that. Never looser than ours.
Image.MAX_IMAGE_PIXELS = min(Image.MAX_IMAGE_PIXELS or MAX_PIXELS, max(MAX_PIXELS, budgets.ZIP_IMAGE_PIXELS))
SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")


def bands(img: Image.Image) -> int:
    """Samples per pixel the decoder produces (from the header; decodes nothing)."""
    return len(img.getbands())


def bytes_per_pixel(mode: str) -> int:
    """Bytes one pixel of ``mode`` takes decoded (as numpy reads it: bands × sample bytes; ``1`` is a byte)."""
    try:
        m = ImageMode.getmode(mode)
    except KeyError:
        return 4 * len(mode)  # a mode Pillow does not describe: assume the worst of its letters
    return len(m.bands) * int(m.typestr[-1])


def decoded_size(img: Image.Image) -> int:
    """Bytes the opened image decodes to (its header's width × height × :func:`bytes_per_pixel`)."""
    w, h = img.size
    return w * h * bytes_per_pixel(img.mode)


def check_decoded_size(img: Image.Image, field: str = "image", name: str = "") -> None:
    """ConfigError when the opened (not yet decoded) image would decode to more than ``IMAGE_DECODED_BYTES``."""
    need = decoded_size(img)
    if need > budgets.IMAGE_DECODED_BYTES:
        who = f"{name!r} " if name else ""
        w, h = img.size
        raise ConfigError(field, f"{who}is {w}×{h} pixels of mode {img.mode} ({bytes_per_pixel(img.mode)} bytes "
                          f"each): {need / budgets.MiB:,.0f} MiB decoded; the limit is "
                          f"{budgets.IMAGE_DECODED_BYTES / budgets.MiB:,.0f} MiB (refused before decoding). "
                          "Send a smaller image, or an 8-bit one")


def _alpha_over_black(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) float in [0, 1] -> (H, W, 3): colour × alpha."""
    return rgba[..., :3] * rgba[..., 3:4]


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("LA", "PA", "RGBA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)


def _grey(img: Image.Image) -> np.ndarray:
    """A 16-bit, 32-bit integer or float image -> (H, W) float32 in [0, 1] (the module's rules)."""
    mode = img.mode
    if mode in SIXTEEN_BIT:
        return np.asarray(img).astype(np.float32) / 65535.0  # numpy reads the byte order from the mode
    a = np.asarray(img).astype(np.float64)  # (H, W)
    if mode == "I" and (a.size == 0 or (a.min() >= 0 and a.max() <= 65535)):
        return (a / 65535.0).astype(np.float32)
    finite = np.isfinite(a)
    lo, hi = (float(a[finite].min()), float(a[finite].max())) if finite.any() else (0.0, 1.0)
    if mode == "F" and lo >= 0 and hi <= 1:
        grey = a.copy()
    else:
        grey = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    grey[np.isnan(a)] = 0.0
    grey[np.isposinf(a)] = 1.0
    grey[np.isneginf(a)] = 0.0
    return np.clip(grey, 0.0, 1.0).astype(np.float32)


def to_rgb(img: Image.Image) -> np.ndarray:
    """A Pillow image of any mode -> (H, W, 3) float32 in [0, 1] (the rules are in the module's docstring).
    This is where the pixels are decoded."""
    if img.mode in SIXTEEN_BIT or img.mode in ("I", "F"):
        return np.repeat(_grey(img)[..., None], 3, axis=2)
    if _has_alpha(img):
        return _alpha_over_black(np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0)
    # 1, L, P, RGB, CMYK, YCbCr, LAB, HSV, RGBX: Pillow's conversions to 8-bit RGB are exact here
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def to_rgb_resized(img: Image.Image, size: int) -> np.ndarray:
    """Any mode -> (size, size, 3) float32 in [0, 1], stretched (no crop) with bilinear filtering. 8-bit images
    are resized by Pillow before they become floats (alpha premultiplied, then composited onto black); 16-bit,
    integer and float images become one float grey channel first (their range rule needs every sample)."""
    if img.mode in SIXTEEN_BIT or img.mode in ("I", "F"):
        g = torch.from_numpy(_grey(img))[None, None]  # (1, 1, H, W)
        g = F.interpolate(g, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        return np.repeat(g[0, 0].clamp(0, 1).numpy()[..., None], 3, axis=2)
    img = img.convert("RGBA" if _has_alpha(img) else "RGB").resize((size, size), Image.Resampling.BILINEAR)
    return to_rgb(img)


def open_header(data, field: str = "image", name: str = "") -> Image.Image:
    """``Image.open`` of bytes or a seekable file: reads the header only. Pillow's bomb warning and error
    become ConfigError."""
    who = f"{name!r} " if name else ""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ConfigError(field, f"{who}declares more than {Image.MAX_IMAGE_PIXELS:,} pixels "
                              "(a decompression bomb?); refused before decoding") from None
        except Exception:  # noqa: BLE001 - PIL raises UnidentifiedImageError, SyntaxError, ...
            raise ConfigError(field, f"{who}is not a readable image: not an image file of a known type "
                              f"({', '.join(FORMATS)})") from None


def decode_pixels(img: Image.Image, field: str = "image", name: str = "", size: int | None = None) -> np.ndarray:
    """Decode an opened image: (H, W, 3) float32 in [0, 1], or (size, size, 3) with :func:`to_rgb_resized`;
    corrupt data and bombs become ConfigError."""
    who = f"{name!r} " if name else ""
    check_decoded_size(img, field, name)
    try:  # no warnings filter here (not thread-safe): the callers' pixel checks come first
        return to_rgb(img) if size is None else to_rgb_resized(img, size)
    except Image.DecompressionBombError:
        raise ConfigError(field, f"{who}declares more than {Image.MAX_IMAGE_PIXELS:,} pixels "
                          "(a decompression bomb?); refused") from None
    except MemoryError:
        raise ConfigError(field, f"{who}is too large to decode") from None
    except Exception as e:  # noqa: BLE001 - truncated or corrupt data
        raise ConfigError(field, f"{who}could not be decoded ({type(e).__name__})") from None


def decode(data: bytes) -> torch.Tensor:
    """File bytes -> (3, H, W) float32 in [0, 1]. The header is checked before any pixel is decoded."""
    if not data:
        raise ConfigError("image", "the file is empty")
    if len(data) > MAX_BYTES:
        raise ConfigError("image", f"the file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB")
    img = open_header(data)
    if img.format not in FORMATS:
        raise ConfigError("image", f"is {img.format}; accepted: {', '.join(FORMATS)}")
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ConfigError("image", f"is {w}×{h} = {w * h:,} pixels; the limit is {MAX_PIXELS:,} "
                          "(refused before decoding: it could be a decompression bomb)")
    rgb = decode_pixels(img)  # (H, W, 3)
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()  # (3, H, W)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """(C, H, W) -> (C, size, size): centre crop to a square, then area-average down or bilinear up."""
    c, h, w = x.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    sq = x[:, top:top + s, left:left + s].unsqueeze(0)  # (1, C, s, s)
    mode = "area" if s >= size else "bilinear"
    out = F.interpolate(sq, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))
    return out[0].clamp(0, 1)


def to_model_input(x: torch.Tensor, channels: int, size: int, invert: bool = False) -> torch.Tensor:
    """(3, H, W) in [0, 1] -> (1, channels, size, size): grey (ITU-R 601 luma) when ``channels`` is 1."""
    if channels == 1:
        x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0)  # (1, H, W)
    elif channels != 3:
        raise ConfigError("channels", f"images can feed models with 1 or 3 input channels, not {channels}")
    x = resize(x, size)
    return (1 - x if invert else x).unsqueeze(0)


_INPUTS = BoundedCache(budgets.IMAGE_CACHE_ENTRIES, budgets.IMAGE_CACHE_BYTES, budgets.IMAGE_CACHE_TTL_S)


_DECODING: dict = {}  # key -> the lock of the one thread decoding it (a rerun that overtakes a decode waits for it)
_DECODING_GUARD = threading.Lock()


def load_image(data: bytes, channels: int, size: int, invert: bool = False) -> torch.Tensor:
    """Uploaded bytes -> (1, channels, size, size) float32 in [0, 1]. Decoded once per file and shape: the result,
    or the ConfigError refusing the file, is kept by the bytes' SHA-256 (bounded in entries, bytes and age), and
    a call for a file another thread is decoding waits for that decode; each call returns a copy."""
    key = (hashlib.sha256(data).digest(), channels, size, bool(invert))
    x = _INPUTS.get(key)
    if x is None:
        with _DECODING_GUARD:
            lock = _DECODING.setdefault(key, threading.Lock())
        with lock:
            x = _INPUTS.get(key)
            if x is None:
                try:
                    x = to_model_input(decode(data), channels, size, invert)
                except ConfigError as e:
                    x = e
                _INPUTS.put(key, x, size=0 if isinstance(x, ConfigError) else None)
        with _DECODING_GUARD:
            _DECODING.pop(key, None)
    if isinstance(x, ConfigError):
        raise ConfigError(x.field, str(x).split(": ", 1)[-1])
    return x.clone()


def to_pil(x: torch.Tensor, scale: int = 1) -> Image.Image:
    """(C, H, W) in [0, 1] (C = 1 or 3) -> PIL image, optionally enlarged ``scale``× with nearest neighbour."""
    a = (x.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    img = Image.fromarray(a[0].numpy(), "L") if a.shape[0] == 1 else Image.fromarray(a.permute(1, 2, 0).numpy(), "RGB")
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST) if scale > 1 else img


def png_bytes(x: torch.Tensor, scale: int = 1) -> bytes:
    buf = io.BytesIO()
    to_pil(x, scale).save(buf, format="PNG")
    return buf.getvalue()


def save_png(x: torch.Tensor, path: Path | str, scale: int = 1) -> None:
    Path(path).write_bytes(png_bytes(x, scale))


def list_samples(directory: Path) -> dict[str, Path]:
    """Sample PNGs by name (file stem), sorted."""
    return {p.stem: p for p in sorted(Path(directory).glob("*.png"))}
