"""The receptive field of one conv (or pooling) output: the box of model-input pixels that can influence it.

Two methods, which agree on sequential chains (tested):

* :func:`receptive_field` — the general one, used by the page: *structural dependency* by autograd on a
  float64 copy of the model in which every weight is positive (1 / fan-in), every bias 0, batch norm the
  identity, other normalisations and activations the identity, and max pooling replaced by a sum over the
  same window (gradient to every cell, not only the winner). With an input of ones nothing cancels, so an
  input pixel gets a non-zero gradient exactly when some path of windows (convolutions, poolings, residual
  branches — their union) connects it to the output. The box is that set's bounding box. A circular-padded
  conv wraps around the border, so its box can span the whole image.
* :func:`receptive_field_chain` — geometric: walks back through the spatial layers recorded before ``layer``
  (conv / pooling windows with stride, padding and dilation). Exact for a plain chain; a model with branches
  needs the structural method.
"""
from __future__ import annotations

import copy
import threading
import weakref

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.errors import ConfigError
from .recording import record
from .windows import SPATIAL, axis_window

NORMS = (nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.LocalResponseNorm)
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
               nn.Hardtanh, nn.Mish, nn.PReLU, nn.Softplus, nn.Dropout, nn.Dropout2d)
Box = tuple[int, int, int, int]


class WindowSum(nn.Module):
    """Max pooling's window structure with a gradient to every cell: the sum over the same windows
    (kernel, stride, padding, dilation, ceil_mode and output size as ``nn.MaxPool2d``)."""

    def __init__(self, pool: nn.MaxPool2d):
        super().__init__()
        self.pool = pool

    def forward(self, x):  # (N, C, H, W) -> the max pool's output shape
        p = self.pool
        n, c = x.shape[:2]
        ho, wo = F.max_pool2d(x.detach(), p.kernel_size, p.stride, p.padding, p.dilation, p.ceil_mode).shape[-2:]
        k, s = nn.modules.utils._pair(p.kernel_size), nn.modules.utils._pair(p.stride or p.kernel_size)
        pad, d = nn.modules.utils._pair(p.padding), nn.modules.utils._pair(p.dilation)
        extra = [max(0, (o - 1) * s[a] + d[a] * (k[a] - 1) + 1 - (x.shape[2 + a] + 2 * pad[a])) for a, o in
                 enumerate((ho, wo))]  # ceil_mode's last window may run past the padding
        xp = F.pad(x, (pad[1], pad[1] + extra[1], pad[0], pad[0] + extra[0]))
        cols = F.unfold(xp, k, dilation=d, stride=s)  # (N, C·kh·kw, L)
        h_all = (xp.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
        w_all = (xp.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
        out = cols.view(n, c, k[0] * k[1], h_all, w_all).sum(2)
        return out[:, :, :ho, :wo]


def structural_copy(model: nn.Module) -> nn.Module:
    """A float64 copy with the model's wiring and windows but no cancellation anywhere (see the module doc)."""
    m = copy.deepcopy(model).double().eval()
    for p in m.parameters():
        p.requires_grad_(False)
    for name, mod in list(m.named_modules()):
        replacement = None
        if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.ConvTranspose2d)):
            mod.weight.fill_(1.0 / max(1, mod.weight[0].numel()))
            if mod.bias is not None:
                mod.bias.zero_()
        elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
            replacement = nn.Identity()
        elif isinstance(mod, NORMS + ACTIVATIONS):
            replacement = nn.Identity()
        elif isinstance(mod, nn.MaxPool2d):
            replacement = WindowSum(mod)
        elif isinstance(mod, nn.AdaptiveMaxPool2d):
            replacement = nn.AdaptiveAvgPool2d(mod.output_size)
        if replacement is not None and name:
            parent, _, attr = name.rpartition(".")
            setattr(m.get_submodule(parent) if parent else m, attr, replacement)
    return m


_COPIES: "weakref.WeakKeyDictionary[nn.Module, tuple[nn.Module, threading.Lock]]" = weakref.WeakKeyDictionary()
_COPIES_LOCK = threading.Lock()


def _structural(model: nn.Module) -> tuple[nn.Module, threading.Lock]:
    """The model's structural copy, made once per model object (it depends on the wiring and the windows only,
    never on the weights) and kept as long as the model lives; its lock serialises the hooked passes."""
    with _COPIES_LOCK:
        hit = _COPIES.get(model)
        if hit is None:
            hit = _COPIES[model] = (structural_copy(model).cpu(), threading.Lock())
        return hit


def _box(grad: torch.Tensor) -> Box:
    mask = grad.abs().sum(dim=(0, 1)) > 0  # (H, W)
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    if len(rows) == 0:
        raise ConfigError("layer", "this output does not depend on any input pixel")
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


def _spatial(model: nn.Module, layer: str) -> nn.Module:
    """The module named ``layer``: a conv or pooling layer, or any other layer whose output is a feature map."""
    mod = dict(model.named_modules()).get(layer)
    if mod is None or mod is model:
        names = [n for n, m in model.named_modules() if isinstance(m, SPATIAL)]
        raise ConfigError("layer", f"{layer!r} is not a layer of this model; e.g. {', '.join(names[:6]) or '(none)'}")
    return mod


def receptive_field(model: nn.Module, x: torch.Tensor, layer: str, index: tuple[int, int]) -> Box:
    """(top, left, bottom, right), inclusive, in ``x``'s pixels: the input pixels output ``index`` of ``layer``
    (a conv or pooling module, or any layer whose output is a feature map) depends on, by structural dependency
    (see the module doc). The model is not touched (the work is done on a copy, made once per model
    object)."""
    _spatial(model, layer)
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[0] != 1:
        raise ConfigError("x", "must be one image as a (1, C, H, W) tensor")
    m, lock = _structural(model)
    target = m.get_submodule(layer)
    seen = {}
    ones = torch.ones(x.shape, dtype=torch.float64, requires_grad=True)  # (1, C, H, W)
    with lock:  # one hooked pass at a time on the shared copy
        handle = target.register_forward_hook(lambda _m, _a, out: seen.__setitem__("out", out))
        try:
            with torch.enable_grad():
                m(ones)
        finally:
            handle.remove()
    out = seen.get("out")
    if not isinstance(out, torch.Tensor) or out.dim() != 4:
        raise ConfigError("layer", f"{layer!r} does not output a feature map (N, C, H, W)")
    i, j = index
    if not (0 <= i < out.shape[-2] and 0 <= j < out.shape[-1]):
        raise ConfigError("index", f"must be a position (i, j) with i in 0..{out.shape[-2] - 1} and j in "
                          f"0..{out.shape[-1] - 1}, got {index!r}")
    (grad,) = torch.autograd.grad(out[0, :, i, j].sum(), ones)
    return _box(grad)


def receptive_field_chain(model: nn.Module, x: torch.Tensor, layer: str, index: tuple[int, int]) -> Box:
    """The same box by geometry: walk back from ``layer`` through every conv / pooling layer recorded before
    it, each time widening the row and column range by that layer's window. Valid for sequential chains."""
    _spatial(model, layer)
    rec = record(model, x)
    k = rec.index(layer)
    (r0, c0), (r1, c1) = index, index
    for node in reversed(rec.nodes[:k + 1]):
        if not isinstance(node.module, SPATIAL):
            continue
        (h, w), (ho, wo) = node.input.shape[-2:], node.output.shape[-2:]
        rows = axis_window(node.module, 0, r0, h, ho) + axis_window(node.module, 0, r1, h, ho)
        cols = axis_window(node.module, 1, c0, w, wo) + axis_window(node.module, 1, c1, w, wo)
        r0, r1 = max(0, min(rows)), min(h - 1, max(rows))
        c0, c1 = max(0, min(cols)), min(w - 1, max(cols))
    return r0, c0, r1, c1
