"""Padding-mode edge effects: one image, one kernel, the four padding modes side by side.

What the padding ring holds decides what the border of the output looks like: zeros pull a blur towards 0
there (a dark frame on a bright image), reflect / replicate continue the image, circular wraps the far edge
in. ``padding_mode_outputs`` computes each output with ``F.pad(mode=...)`` then ``F.conv2d`` (the tests check
it against ``nn.Conv2d(padding_mode=...)``) and the statistic that shows the effect: the mean of the border
ring (output cells whose window reads at least one padding cell) minus the mean of the interior.
May import: cnnviz.errors, cnnviz.geometry, torch, numpy."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.animation.conv2d import real_array
from cnnviz.errors import ConfigError
from cnnviz.animation.extra import SIDES
from cnnviz.checks import Number, checked
from cnnviz.limits import MAX_INT
from cnnviz.geometry.arithmetic import PADDING_MODES, conv_geometry

PAD_MODES_DEFAULTS = dict(emk="blur", emp=1)   # the Padding modes tab's kernel preset and pad (page state)
PAD_MODES_BOUNDS = dict(emp=(1, 3))
F_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


@dataclass(frozen=True)
class ModeOutput:
    mode: str                 # one of PADDING_MODES (nn.Conv2d's names)
    out: np.ndarray           # (H_out, W_out) the convolution's output
    border: np.ndarray        # (H_out, W_out) bool: True where the window reads a padding cell
    border_mean: float        # mean over the border ring (nan when there is none)
    interior_mean: float      # mean over the rest (nan when there is none)

    @property
    def difference(self) -> float:
        """Border mean − interior mean: negative when the border is darker."""
        return self.border_mean - self.interior_mean


@checked(in_hw=SIDES, kernel_hw=SIDES, padding=Number(0, MAX_INT, integer=True))
def border_mask(in_hw, kernel_hw, padding: int, stride: int = 1, dilation: int = 1) -> np.ndarray:
    """(H_out, W_out) bool: output cells whose window reads at least one padding cell (a tap i·s + t·d of the
    padded axis before p or past p + n − 1)."""
    out_hw = conv_geometry((1, *in_hw), 1, tuple(kernel_hw), stride, padding, dilation).spatial_out
    axes = [np.array([any(not padding <= i * stride + t * dilation < padding + n for t in range(k))
                      for i in range(n_out)], dtype=bool) for n, k, n_out in zip(in_hw, kernel_hw, out_hw)]
    return axes[0][:, None] | axes[1][None, :]


def padding_mode_outputs(x, weight, padding: int = 1, stride: int = 1, dilation: int = 1) -> list[ModeOutput]:
    """The output of the same conv for each padding mode (zeros, reflect, replicate, circular), with its border
    and interior means. ``x``: (H, W), ``weight``: (k_h, k_w). ConfigError for what PyTorch refuses (e.g.
    reflect padding as wide as the image)."""
    import torch
    import torch.nn.functional as F
    x, w = real_array("input", x, "the image"), real_array("input", weight, "the kernel")
    if x.ndim != 2 or w.ndim != 2:
        raise ConfigError("input", "the image and the kernel must be 2-D grids")
    if not np.isfinite(x).all() or not np.isfinite(w).all():
        raise ConfigError("input", "the image and the kernel must hold finite numbers")
    for mode in PADDING_MODES:  # the engine refuses first what PyTorch would refuse
        conv_geometry((1, *x.shape), 1, w.shape, stride, padding, dilation, padding_mode=mode)
    p = int(padding)
    mask = border_mask(x.shape, w.shape, p, stride, dilation)
    xt = torch.from_numpy(x)[None, None]  # (1, 1, H, W)
    wt = torch.from_numpy(w)[None, None]  # (1, 1, k_h, k_w)
    results = []
    for mode in PADDING_MODES:
        padded = F.pad(xt, (p, p, p, p), mode=F_PAD_MODE[mode]) if p else xt  # (1, 1, H + 2p, W + 2p)
        out = F.conv2d(padded, wt, stride=stride, dilation=dilation)[0, 0].numpy()  # (H_out, W_out)
        b = float(out[mask].mean()) if mask.any() else float("nan")
        i = float(out[~mask].mean()) if (~mask).any() else float("nan")
        results.append(ModeOutput(mode, out, mask, b, i))
    return results
