"""A mouse drawing made to look like the digits a model learnt from (MNIST's recipe), and the model that reads it.

:func:`preprocess` takes the drawing pad's grey picture (bright strokes on black, any size) through the steps the
training images took too (``scripts/train_drawing_model.py`` calls the same function):

1. **strokes** — pixels at least ``STROKE_FRACTION`` of the brightest one (and ≥ ``STROKE_MIN``) are ink;
2. **bounding box, aspect-preserving scale** — the ink's box is scaled so that its longer side fills the box
   (a max pool when shrinking, so a thin stroke on a big canvas survives; a 1 stays a thin upright bar);
3. **stroke width** — the ink is thinned to a one-pixel skeleton (Zhang–Suen), the skeleton's box scaled the same
   way, and redrawn with a pen of a fixed width relative to the box: 3-px and 40-px strokes give the same input;
4. **intensity range** — anti-aliased to [0, 1] (ink 1, background 0) by averaging 2×2 blocks;
5. **centre of mass** — the box is placed in the ``size``×``size`` input so that the ink's centre of mass sits at
   the centre (within half a pixel).

:func:`recognise_drawing` runs the Network Explorer's model for drawings (``assets/models/drawn_digits.pt``, a
TinyVGG on 28×28 trained on rendered strokes and upscaled scikit-learn digits) and returns the 10 probabilities."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.device import pick_device, to_model_device
from cnnviz.errors import ConfigError

MODEL_DIR = Path(__file__).resolve().parents[2] / "assets" / "models"
MODEL_FILE, META_FILE = MODEL_DIR / "drawn_digits.pt", MODEL_DIR / "drawn_digits.json"
DRAWN = "drawn_digits"           # the drawing model's key in the Network Explorer's model box
SIDE, BOX = 28, 20               # MNIST: the digit's box (20×20) centred by mass in the input (28×28)
PEN = 0.12                       # the redrawn stroke's width as a fraction of the box (MNIST: about 2.5 px of 20)
MIN_SIDE, MAX_SIDE = 64, 1024    # a drawing's height and width (pixels)
STROKE_MIN, STROKE_FRACTION = 16, 0.35  # ink: at least this grey level and this fraction of the brightest pixel
PAD_SIDE = 140                   # the drawing pad (280 px) sends 140×140 intensities (2×2 block means)


def check_drawing(image, field: str = "image") -> np.ndarray:
    """``image`` as it must come: a 2-D ``numpy.uint8`` array, each side in 64..1024, with some ink."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ConfigError(field, f"must be a numpy uint8 array, got {getattr(image, 'dtype', type(image).__name__)}")
    if image.ndim != 2:
        raise ConfigError(field, f"must be 2-D (height, width: grey), got {image.ndim} dimensions {image.shape}")
    if not all(MIN_SIDE <= s <= MAX_SIDE for s in image.shape):
        raise ConfigError(field, f"each side must be in {MIN_SIDE}..{MAX_SIDE} pixels, got {image.shape[0]}×"
                          f"{image.shape[1]}")
    if int(image.max()) < STROKE_MIN:
        raise ConfigError(field, "is empty: draw a digit (bright strokes on black) first")
    return image


def ink(image: np.ndarray) -> np.ndarray:
    """Step 1: the ink mask (bool, same shape)."""
    return image >= max(STROKE_MIN, STROKE_FRACTION * float(image.max()))


def fit(mask: np.ndarray, side: int) -> torch.Tensor:
    """Step 2: the ink's bounding box scaled, aspect kept, so that its longer side is ``side`` pixels, centred in a
    ``side``×``side`` float image of 0/1. Shrinking takes each cell's maximum: no stroke is lost."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    crop = torch.from_numpy(np.ascontiguousarray(mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])).float()
    h, w = crop.shape
    th, tw = (side, max(1, round(side * w / h))) if h >= w else (max(1, round(side * h / w)), side)
    small = F.adaptive_max_pool2d(crop[None, None], (th, tw))[0, 0]
    out = torch.zeros(side, side)
    top, left = (side - th) // 2, (side - tw) // 2
    out[top:top + th, left:left + tw] = small
    return out


_AROUND = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))  # P2..P9: north ... north-west


def _thinning_tables() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Zhang–Suen's two sub-steps as look-up tables over the 256 neighbourhoods (bit k: neighbour P(k+2)), and the
    3×3 kernel that computes a pixel's neighbourhood number."""
    weights = torch.zeros(1, 1, 3, 3)
    for k, (dy, dx) in enumerate(_AROUND):
        weights[0, 0, 1 + dy, 1 + dx] = 2 ** k
    tables = []
    for step in (0, 1):
        table = torch.zeros(256, dtype=torch.bool)
        for code in range(256):
            p = [(code >> k) & 1 for k in range(8)]
            b, a = sum(p), sum((1 - p[k]) * p[(k + 1) % 8] for k in range(8))
            keep_corner = (p[0] * p[2] * p[4] == 0 and p[2] * p[4] * p[6] == 0) if step == 0 else \
                (p[0] * p[2] * p[6] == 0 and p[0] * p[4] * p[6] == 0)
            table[code] = 2 <= b <= 6 and a == 1 and keep_corner
        tables.append(table)
    return tables[0], tables[1], weights


_TABLES = _thinning_tables()


def skeleton(m: torch.Tensor) -> torch.Tensor:
    """Step 3a: Zhang–Suen thinning of a batch of 0/1 images (N, H, W) whose border rows and columns are 0."""
    m = m.clone()
    *tables, weights = _TABLES
    for _ in range(max(m.shape[1:])):
        removed = False
        for table in tables:
            code = F.conv2d(m[:, None], weights, padding=1)[:, 0].round().long()
            drop = (m > 0) & table[code]
            if bool(drop.any()):
                m[drop], removed = 0.0, True
        if not removed:
            break
    return m


def _pen(radius: int) -> torch.Tensor:
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    return ((r[:, None] ** 2 + r[None, :] ** 2) <= radius ** 2 + 0.5).float()[None, None]


def centre_by_mass(boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Step 5: each (box, box) image of a batch (N, b, b) pasted into (N, 1, size, size) with its centre of mass at
    the centre ((size - 1) / 2) to the nearest pixel, the box kept inside."""
    n, b = boxes.shape[0], boxes.shape[-1]
    grid = torch.arange(b, dtype=torch.float32)
    total = boxes.sum((1, 2)).clamp_min(1e-8)
    cy, cx = (boxes.sum(2) * grid).sum(1) / total, (boxes.sum(1) * grid).sum(1) / total
    out = torch.zeros(n, 1, size, size)
    for k in range(n):
        top = int(min(max(round((size - 1) / 2 - float(cy[k])), 0), size - b))
        left = int(min(max(round((size - 1) / 2 - float(cx[k])), 0), size - b))
        out[k, 0, top:top + b, left:left + b] = boxes[k]
    return out


def preprocess_batch(images, size: int = SIDE, box: int = BOX, pen: float = PEN) -> torch.Tensor:
    """Checked drawings (each a 2-D uint8 array) -> model inputs (N, 1, size, size) in [0, 1]: ink, box,
    skeleton redrawn with a pen ``pen``·box wide, 2×2 anti-aliasing, centre of mass (see the module's steps)."""
    work = 2 * box                                   # drawn at twice the box, then averaged 2×2
    radius = max(1, round(pen * work / 2))
    inner = work - 2 * radius                        # the skeleton's box: the pen's half width around it
    thin = skeleton(F.pad(torch.stack([fit(ink(im), inner) for im in images]), (1, 1, 1, 1)))
    thin = torch.stack([fit(t.numpy() > 0, inner) for t in thin])  # the skeleton (not the ink) fills the box
    redrawn = (F.conv2d(F.pad(thin, (radius,) * 4)[:, None], _pen(radius), padding=radius) > 0).float()
    return centre_by_mass(F.avg_pool2d(redrawn, 2)[:, 0], size)


def preprocess(image, size: int = SIDE, box: int = BOX, pen: float = PEN) -> torch.Tensor:
    """One drawing (see :func:`check_drawing`) -> the model's input (1, 1, size, size)."""
    return preprocess_batch([check_drawing(image)], size, box, pen)


@functools.lru_cache(maxsize=1)
def drawing_model():
    """(model in eval mode on ``pick_device()``, ModelInfo) of ``assets/models/drawn_digits.pt``."""
    from cnnviz.inside.shipped import _info
    if not MODEL_FILE.exists() or not META_FILE.exists():
        raise ConfigError("model", "the drawing model is missing: run python -m scripts.train_drawing_model")
    info = _info(DRAWN, json.loads(META_FILE.read_text()))
    model = info.build()
    model.load_state_dict(torch.load(MODEL_FILE, map_location="cpu", weights_only=True))
    return model.eval().to(pick_device()), info


def recognise_drawing(image) -> torch.Tensor:
    """The drawing pad's picture (2-D uint8, 64..1024 a side, bright strokes on black) -> the 10 probabilities of
    the digits 0..9 (a CPU tensor summing to 1), by the Network Explorer's model for drawings, after
    :func:`preprocess`. An empty drawing, another dtype, shape or size raises ConfigError."""
    x = preprocess(image)
    model, _ = drawing_model()
    with torch.no_grad():
        return torch.softmax(model(to_model_device(x, model)).float(), 1)[0].cpu()


def pad_image(values, side: int = PAD_SIDE) -> np.ndarray:
    """The drawing pad's ``side``·``side`` intensities in [0, 1] (row by row) as a grey uint8 picture."""
    if not isinstance(values, (list, tuple)) or len(values) != side * side:
        raise ConfigError("drawing", f"must be {side}×{side} = {side * side} intensities, got "
                          f"{len(values) if isinstance(values, (list, tuple)) else type(values).__name__}")
    try:
        a = np.asarray(values, dtype=np.float64).reshape(side, side)
    except (TypeError, ValueError) as e:
        raise ConfigError("drawing", "holds something that is not a number") from e
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise ConfigError("drawing", "intensities must be numbers in [0, 1]")
    return np.round(255 * a).astype(np.uint8)
