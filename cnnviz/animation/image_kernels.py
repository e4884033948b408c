"""Image kernels on a photograph: the classic gallery (identity, blurs, sharpen, Sobel, Prewitt, Laplacian, emboss,
outline) or a kernel you type, applied to a whole grey picture with 'same' padding in one of the four padding modes,
and the window at any step of the scan (its values, the products with the kernel and their sum).

Computed as PyTorch computes a convolution layer (cross-correlation): ``F.pad`` with the mode's ring, then
``F.conv2d``; the tests compare every kernel and mode with ``F.conv2d`` on the photograph. ``sobel magnitude`` is
√(Gx² + Gy²) of the two Sobel outputs. May import: cnnviz.errors, cnnviz.limits, numpy, torch."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from cnnviz.errors import ConfigError

_S = np.array
GALLERY = {
    "identity": _S([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box blur": _S([[1, 1, 1], [1, 1, 1], [1, 1, 1]]) / 9,
    "gaussian blur": _S([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": _S([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sobel x": _S([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": _S([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "prewitt x": _S([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "prewitt y": _S([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "laplacian": _S([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": _S([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "outline": _S([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
}
GALLERY = {k: v.astype(np.float64) for k, v in GALLERY.items()}
MAGNITUDE = "sobel magnitude"  # √(Gx² + Gy²) of sobel x and sobel y
TYPED = "typed"
KERNEL_CHOICES = (*GALLERY, MAGNITUDE, TYPED)
PHOTO_PAD_MODES = ("zeros", "reflect", "replicate", "circular")  # nn.Conv2d's names; 'same' size always
F_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
TYPED_MAX_CHARS = 400   # a typed kernel's text: 7 rows of 7 numbers with room for signs and decimals
TYPED_MAX_SIDE = 7      # odd sides 1, 3, 5, 7
TYPED_MAX_ABS = 1e6     # a weight's magnitude: keeps every output finite in float32
TYPED_DEFAULT = "0 -1 0\n-1 5 -1\n0 -1 0"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/(\d+(\.\d*)?|\.\d+))?$")


def parse_kernel(text: str) -> np.ndarray:
    """A typed kernel: rows on lines (or separated by ';'), numbers by spaces or commas; ``1/9`` allowed. Square,
    odd side ≤ 7, finite numbers of magnitude ≤ 1e6. ConfigError naming ``typed kernel`` otherwise."""
    field = "typed kernel"
    if not isinstance(text, str):
        raise ConfigError(field, "must be text")
    if len(text) > TYPED_MAX_CHARS:
        raise ConfigError(field, f"is {len(text)} characters long; the limit is {TYPED_MAX_CHARS}")
    rows = [r.replace(",", " ").split() for r in re.split(r"[;\n]", text) if r.strip()]
    if not rows:
        raise ConfigError(field, "is empty: type rows of numbers, e.g. '0 -1 0; -1 5 -1; 0 -1 0'")
    n = len(rows)
    if n % 2 == 0 or n > TYPED_MAX_SIDE:
        raise ConfigError(field, f"has {n} rows; it must be square with an odd side of at most {TYPED_MAX_SIDE} "
                          "(1, 3, 5 or 7)")
    out = np.zeros((n, n))
    for i, row in enumerate(rows):
        if len(row) != n:
            raise ConfigError(field, f"row {i + 1} has {len(row)} numbers; a {n}×{n} kernel needs {n} in every row")
        for j, tok in enumerate(row):
            if not _NUMBER.match(tok):
                raise ConfigError(field, f"row {i + 1}, number {j + 1} is not a number: {tok[:12]!r}")
            num, _, den = tok.partition("/")
            if den and float(den) == 0:
                raise ConfigError(field, f"row {i + 1}, number {j + 1} divides by 0: {tok[:12]!r}")
            v = float(num) / float(den) if den else float(num)
            if not math.isfinite(v) or abs(v) > TYPED_MAX_ABS:
                raise ConfigError(field, f"row {i + 1}, number {j + 1} must be finite and at most {TYPED_MAX_ABS:g} "
                                  f"in size, got {tok[:12]!r}")
            out[i, j] = v
    return out


def kernel_for(name: str, text: str = TYPED_DEFAULT) -> np.ndarray:
    """The (k, k) weights of a gallery kernel, Sobel x for ``sobel magnitude``, or the typed ``text``."""
    if name == TYPED:
        return parse_kernel(text)
    if name == MAGNITUDE:
        return GALLERY["sobel x"].copy()
    if name not in GALLERY:
        raise ConfigError("kernel", f"must be one of {', '.join(KERNEL_CHOICES)}, got {str(name)[:30]!r}")
    return GALLERY[name].copy()


def _image(x) -> "torch.Tensor":
    import torch
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if t.ndim == 3 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 2 or min(t.shape) < 1:
        raise ConfigError("image", f"must be one grey (H, W) picture, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ConfigError("image", "has values that are not finite")
    return t


def pad_image(x, k: int, mode: str) -> "torch.Tensor":
    """(H, W) -> (H + 2p, W + 2p), p = k // 2, the ring filled as nn.Conv2d's ``padding_mode`` fills it."""
    import torch.nn.functional as F
    if mode not in PHOTO_PAD_MODES:
        raise ConfigError("padding mode", f"must be one of {', '.join(PHOTO_PAD_MODES)}, got {str(mode)[:20]!r}")
    t = _image(x)
    p = k // 2
    if mode == "reflect" and p >= min(t.shape):
        raise ConfigError("padding mode", f"reflect needs the picture larger than the pad {p} on each side")
    if p == 0:
        return t.clone()
    return F.pad(t[None, None], (p, p, p, p), mode=F_PAD[mode])[0, 0]


def convolve(x, weight, mode: str = "zeros") -> np.ndarray:
    """(H, W) picture ⋆ (k, k) kernel, 'same' size, padding ``mode``: float32 (H, W), exactly F.pad + F.conv2d."""
    import torch
    import torch.nn.functional as F
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] % 2 == 0:
        raise ConfigError("kernel", f"must be square with an odd side, got shape {w.shape}")
    padded = pad_image(x, w.shape[0], mode)
    wt = torch.as_tensor(w, dtype=torch.float32)[None, None]
    with torch.no_grad():
        return F.conv2d(padded[None, None], wt)[0, 0].numpy()


@dataclass(frozen=True)
class Window:
    step: int                  # 1-based, row-major over the output
    row: int                   # output cell (= the window's centre on the picture)
    col: int
    values: np.ndarray         # (k, k) what the window covers on the padded picture
    products: np.ndarray       # (k, k) values × kernel
    total: float               # Σ products = the output cell
    gx: float | None = None    # sobel magnitude only: both Sobel outputs at that cell
    gy: float | None = None


@dataclass(frozen=True)
class KernelResult:
    image: np.ndarray          # (H, W) float32 the grey picture
    padded: np.ndarray         # (H + 2p, W + 2p) with the padding ring
    kernel: np.ndarray         # (k, k) the kernel the window shows (Sobel x for the magnitude)
    out: np.ndarray            # (H, W) float32 what the figure shows (the magnitude for ``sobel magnitude``)
    mode: str
    name: str
    gx: np.ndarray | None = None
    gy: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return int(self.out.size)

    def cell(self, step: int) -> tuple[int, int]:
        if not 1 <= int(step) <= self.steps:
            raise ConfigError("step", f"must be in 1..{self.steps}, got {step}")
        return divmod(int(step) - 1, self.out.shape[1])

    def window(self, step: int) -> Window:
        """The window at ``step``: what it covers, the products with the kernel and their sum (float64 sums of
        float32 values: equal to the output cell to float32 precision)."""
        r, c = self.cell(step)
        k = self.kernel.shape[0]
        vals = self.padded[r:r + k, c:c + k].astype(np.float64)
        prods = vals * self.kernel
        if self.gx is not None:
            return Window(int(step), r, c, vals, prods, float(prods.sum()), float(self.gx[r, c]), float(self.gy[r, c]))
        return Window(int(step), r, c, vals, prods, float(prods.sum()))


def apply_kernel(x, name: str, mode: str = "zeros", text: str = TYPED_DEFAULT) -> KernelResult:
    """The picture ``x`` (H, W) in [0, 1] through kernel ``name`` (a gallery name, ``sobel magnitude`` or ``typed``
    with its ``text``), 'same' size, padding ``mode``."""
    img = _image(x)
    w = kernel_for(name, text)
    padded = pad_image(img, w.shape[0], mode).numpy()
    if name == MAGNITUDE:
        gx, gy = convolve(img, GALLERY["sobel x"], mode), convolve(img, GALLERY["sobel y"], mode)
        return KernelResult(img.numpy(), padded, w, gradient_magnitude(gx, gy), mode, name, gx, gy)
    return KernelResult(img.numpy(), padded, w, convolve(img, w, mode), mode, name)


def gradient_magnitude(gx, gy) -> np.ndarray:
    """√(Gx² + Gy²), elementwise, float32."""
    gx, gy = np.asarray(gx, dtype=np.float32), np.asarray(gy, dtype=np.float32)
    return np.sqrt(gx * gx + gy * gy)
