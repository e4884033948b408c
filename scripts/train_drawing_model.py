"""Trains the Network Explorer's model for drawn digits: ``assets/models/drawn_digits.pt`` (a TinyVGG state_dict on
28×28 inputs, read with weights_only=True) and its metadata ``assets/models/drawn_digits.json``.

    python -m scripts.train_drawing_model          # seeded, one thread; about 4 minutes on a busy 2-core box

The images: digits this script renders as pen strokes (several templates per digit — a 1 as one stroke or with a
flag and a base of any size, 7s with and without a crossbar, open and closed 4s, 9s with straight and curved tails ...), each
control point jittered, then slanted, rotated, stretched, drawn with a pen from 1 px to a fifth of the digit's
height at any size and place on canvases of 64..320 px; plus scikit-learn's 1,797 8×8 digits upscaled. Every image
goes through :func:`cnnviz.explorer.drawing.preprocess_batch`, the Explorer's own preprocessing. The model is kept
apart from ``models.json`` (the other pages' model pickers): it reads drawings, not those pages' data sets."""
from __future__ import annotations

import json
import math
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

from cnnviz.architecture.models import build_model
from cnnviz.explorer.drawing import BOX, META_FILE, MODEL_FILE, SIDE, check_drawing, preprocess_batch
from cnnviz.inside.shipped import accuracy, train

SEED, PER_DIGIT, EPOCHS, WIDTH = 0, 1500, 6, 12


def arc(cx, cy, rx, ry, a0, a1, n=14):
    """Points on an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down: y grows downwards)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


# Each digit: style variants; a variant is a list of strokes; a stroke a list of (x, y) in a 0.6 × 1 box.
TEMPLATES = {
    0: [[arc(0.3, 0.5, 0.28, 0.5, -90, 270, 24)], [arc(0.3, 0.5, 0.22, 0.5, -60, 290, 24)]],
    1: [],  # made by one(): flags and bases of any size
    2: [[arc(0.3, 0.27, 0.27, 0.26, -170, 20) + [(0.02, 0.98), (0.6, 0.98)]],
        [arc(0.3, 0.25, 0.26, 0.24, -160, 0) + arc(0.0, 0.25, 0.56, 0.73, 0, 90, 8)[1:] + [(0.6, 0.95)]]],
    3: [[arc(0.3, 0.25, 0.25, 0.24, -160, 90) + arc(0.3, 0.74, 0.28, 0.25, -90, 160)[1:]],
        [[(0.05, 0.0), (0.55, 0.0), (0.22, 0.42)] + arc(0.3, 0.7, 0.29, 0.28, -80, 160)]],
    4: [[[(0.45, 1.0), (0.45, 0.0), (0.02, 0.68), (0.62, 0.68)]],
        [[(0.1, 0.0), (0.05, 0.62), (0.6, 0.62)], [(0.45, 0.25), (0.45, 1.0)]],
        [[(0.12, 0.0), (0.05, 0.62), (0.6, 0.62)], [(0.45, 0.0), (0.45, 1.0)]]],
    5: [[[(0.58, 0.0), (0.1, 0.0)], [(0.1, 0.0), (0.07, 0.45)] + arc(0.3, 0.7, 0.28, 0.29, -125, 150)[1:]],
        [[(0.1, 0.02), (0.07, 0.45)] + arc(0.3, 0.7, 0.28, 0.29, -125, 150)[1:], [(0.1, 0.02), (0.58, 0.0)]]],
    6: [[[(0.52, 0.0), (0.25, 0.22), (0.05, 0.62)] + arc(0.3, 0.7, 0.26, 0.29, 180, 535, 20)],
        [arc(0.9, 0.7, 0.85, 0.7, -100, -180, 8) + arc(0.3, 0.72, 0.25, 0.27, 180, 520, 20)],
        [arc(0.35, 0.5, 0.27, 0.48, -50, -180, 8) + arc(0.3, 0.73, 0.24, 0.25, 180, 530, 20)[1:]]],
    7: [[[(0.02, 0.0), (0.6, 0.0), (0.2, 1.0)]], [[(0.02, 0.0), (0.6, 0.0), (0.2, 1.0)], [(0.15, 0.5), (0.52, 0.5)]],
        [[(0.02, 0.16), (0.02, 0.0), (0.6, 0.0), (0.3, 0.55), (0.25, 1.0)]]],
    8: [[arc(0.3, 0.25, 0.22, 0.25, 0, 360, 20), arc(0.3, 0.74, 0.28, 0.26, -90, 270, 20)],
        [arc(0.3, 0.24, 0.24, 0.24, -10, -190, 10) + arc(0.3, 0.74, 0.28, 0.26, -90, 270, 20)[1:]
         + arc(0.3, 0.24, 0.24, 0.24, 170, 350, 10)[1:]]],
    9: [[arc(0.3, 0.28, 0.27, 0.27, 10, 370, 20), [(0.57, 0.3), (0.52, 1.0)]],
        [arc(0.3, 0.28, 0.27, 0.27, 10, 370, 20), [(0.57, 0.3), (0.55, 0.75), (0.3, 1.0)]],
        [arc(0.3, 0.28, 0.27, 0.27, 0, 365, 20) + [(0.57, 1.0)]]],
}


def one(rng: np.random.Generator) -> list:
    """A 1: one stroke, or with a flag of any length and angle (flat as in print, steep as by hand), with or without
    a base as wide as a third to three quarters of its height."""
    strokes = [[(0.3, 0.0), (0.3, 1.0)]]
    if rng.random() < 0.7:
        length, angle = rng.uniform(0.12, 0.4), math.radians(rng.uniform(5, 65))
        strokes = [[(0.3 - length * math.cos(angle), length * math.sin(angle)), (0.3, 0.0), (0.3, 1.0)]]
    if rng.random() < 0.4:
        half = rng.uniform(0.15, 0.38)
        strokes.append([(0.3 - half, 1.0), (0.3 + half, 1.0)])
    return strokes


def render(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One random drawing of ``digit``: a template variant, jittered, slanted, rotated, scaled, placed and drawn."""
    strokes = one(rng) if digit == 1 else TEMPLATES[digit][rng.integers(len(TEMPLATES[digit]))]
    shear, turn = rng.normal(0, 0.2), math.radians(rng.normal(0, 8))
    sx = rng.uniform(0.7, 1.35)
    c, s = math.cos(turn), math.sin(turn)
    lines = []
    for stroke in strokes:
        p = np.array(stroke) + rng.normal(0, 0.025, (len(stroke), 2)) + rng.normal(0, 0.02, 2)
        x, y = (p[:, 0] - 0.3) * sx + shear * (0.5 - p[:, 1]), p[:, 1] - 0.5
        lines.append(np.stack([c * x - s * y, s * x + c * y], 1))
    pts = np.concatenate(lines)
    side = int(rng.integers(64, 321))
    height = rng.uniform(0.25, 0.8) * side / max(np.ptp(pts[:, 1]), np.ptp(pts[:, 0]))
    width = max(1, int(height * rng.uniform(0.01, 0.2)))
    lo, hi = pts.min(0) * height - width, pts.max(0) * height + width
    off = np.array([rng.uniform(-lo[k], max(-lo[k], side - hi[k])) for k in (0, 1)])
    img = Image.new("L", (side, side))
    d = ImageDraw.Draw(img)
    for line in lines:
        q = [tuple(v) for v in (line * height + off)]
        d.line(q, fill=255, width=width, joint="curve")
        for e in (q[0], q[-1]):
            d.ellipse([e[0] - width / 2, e[1] - width / 2, e[0] + width / 2, e[1] + width / 2], fill=255)
    return np.array(img)


def rendered(n_per_digit: int, seed: int) -> tuple[list[np.ndarray], list[int]]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_per_digit):
        for digit in range(10):
            images.append(render(digit, rng))
            labels.append(digit)
    return images, labels


def sklearn_digits() -> tuple[list[np.ndarray], list[int]]:
    """scikit-learn's 8×8 digits upscaled (bilinear) to 64×64 grey pictures."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.nn.functional.interpolate(torch.tensor(d.images, dtype=torch.float32)[:, None] / 16, size=(64, 64),
                                        mode="bilinear", align_corners=False)
    return [np.round(255 * im[0].numpy()).astype(np.uint8) for im in x], [int(t) for t in d.target]


def inputs(images: list[np.ndarray], batch: int = 512) -> torch.Tensor:
    return torch.cat([preprocess_batch([check_drawing(im) for im in images[i:i + batch]])
                      for i in range(0, len(images), batch)])


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # one thread: faster than two on a shared 2-core box, and the same weights each run
    t0 = time.time()
    images, labels = rendered(PER_DIGIT, SEED)
    sk_images, sk_labels = sklearn_digits()
    x, y = inputs(images + sk_images), torch.tensor(labels + sk_labels)
    print(f"{len(y)} images preprocessed in {time.time() - t0:.0f} s")
    val_x, val_y = inputs(rendered(100, SEED + 1)[0]), torch.tensor(rendered(100, SEED + 1)[1])
    kwargs = dict(in_channels=1, num_classes=10, size=SIDE, width=WIDTH)
    model = train(build_model("TinyVGG", **kwargs), x, y, epochs=EPOCHS, lr=3e-3, batch=128, seed=SEED)
    acc = accuracy(model, val_x, val_y)
    print(f"validation accuracy (1,000 fresh renderings) {acc:.3f}; {time.time() - t0:.0f} s in all")
    torch.save(model.state_dict(), MODEL_FILE)
    META_FILE.write_text(json.dumps(dict(
        model="TinyVGG", kwargs=kwargs, dataset="drawn digits", classes=[str(i) for i in range(10)],
        val_accuracy=round(acc, 6), epochs=EPOCHS, seed=SEED, file=MODEL_FILE.name, box=BOX,
        train_images=dict(rendered=len(images), sklearn_digits=len(sk_images)),
        note="made by python -m scripts.train_drawing_model; validation on 1,000 fresh renderings; "
             "inputs from cnnviz.explorer.drawing.preprocess"), indent=1) + "\n")


if __name__ == "__main__":
    main()
