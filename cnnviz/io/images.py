"""Images in and out: an uploaded file -> a model-ready tensor (type, size and decompression-bomb checks,
centre crop, resize with torch ops) and tensors -> PNG."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.errors import ConfigError

MAX_BYTES = 5 * 1024 * 1024          # upload size limit
MAX_PIXELS = 25_000_000              # width × height before decoding (a 5000×5000 photo)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
EXTENSIONS = ("png", "jpg", "jpeg", "bmp", "gif", "webp")


def decode(data: bytes) -> torch.Tensor:
    """File bytes -> (3, H, W) float32 in [0, 1]. The header is checked before any pixel is decoded."""
    if not data:
        raise ConfigError("image", "the file is empty")
    if len(data) > MAX_BYTES:
        raise ConfigError("image", f"the file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_BYTES // 2**20} MiB")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ConfigError("image", f"declares more than {MAX_PIXELS:,} pixels (a decompression bomb?)") from None
        except Exception:  # noqa: BLE001 - PIL raises UnidentifiedImageError, SyntaxError, ...
            raise ConfigError("image", f"is not an image file of a known type ({', '.join(FORMATS)})") from None
        if img.format not in FORMATS:
            raise ConfigError("image", f"is {img.format}; accepted: {', '.join(FORMATS)}")
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise ConfigError("image", f"is {w}×{h} = {w * h:,} pixels; the limit is {MAX_PIXELS:,} "
                              "(refused before decoding: it could be a decompression bomb)")
        try:
            rgb = img.convert("RGB")  # decodes; also flattens palettes, alpha and greyscale
        except Exception as e:  # noqa: BLE001 - truncated or corrupt data
            raise ConfigError("image", f"could not be decoded ({type(e).__name__})") from None
    t = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8).view(h, w, 3)
    return t.permute(2, 0, 1).float() / 255.0  # (3, H, W)


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


def load_image(data: bytes, channels: int, size: int, invert: bool = False) -> torch.Tensor:
    """Uploaded bytes -> (1, channels, size, size) float32 in [0, 1]."""
    return to_model_input(decode(data), channels, size, invert)


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
