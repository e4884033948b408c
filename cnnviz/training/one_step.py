"""One weight's gradient in numbers: for a kernel entry w = weight[o, c, ky, kx] of a ``Conv2d``, the chain rule
says ∂L/∂w = Σ_n Σ_i Σ_j x̃[n, g·C_in/G + c, i·s_y + ky·d_y, j·s_x + kx·d_x] · ∂L/∂z[n, o, i, j], where x̃ is the
layer's input padded as PyTorch pads it (zeros, reflect, replicate, circular), s the stride, d the dilation and g the
group of output channel o. :func:`weight_gradient_terms` returns every term of that sum beside autograd's value, so a
page can show the sum and check it.

The model is left as it was: its mode, weights, buffers (a BatchNorm in training mode gets its running statistics
back), ``requires_grad`` flags and ``.grad`` fields; the hooks are removed. The gradients come from
``torch.autograd.grad``, never ``backward()``."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.checks import Flag, Module, Number, Seq, Tensor, Text, checked, run_model
from cnnviz.errors import ConfigError

_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


@dataclass(frozen=True)
class WeightGradient:
    """The terms of ∂L/∂w for one kernel entry (tensors on the model's device, detached).

    ``terms[n, i, j] = patch[n, i, j] * upstream[n, i, j]``: ``patch`` the (padded) input value under the entry at
    output position (i, j) of sample n, ``upstream`` = ∂L/∂(conv output)[n, out_channel, i, j]; ``grad`` = Σ terms;
    ``autograd`` = autograd's ∂L/∂weight[index]; ``weight`` the entry's value; ``loss`` the mean cross-entropy;
    ``logits`` (N, classes); ``in_channel_abs`` the input channel the entry reads (groups resolved)."""
    layer: str
    index: tuple[int, int, int, int]
    terms: torch.Tensor        # (N, H_out, W_out)
    patch: torch.Tensor        # (N, H_out, W_out)
    upstream: torch.Tensor     # (N, H_out, W_out)
    grad: torch.Tensor         # () = terms.sum()
    autograd: torch.Tensor     # () = ∂L/∂weight[index]
    weight: float
    loss: float
    logits: torch.Tensor       # (N, classes)
    in_channel_abs: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]   # (left, right, top, bottom) as F.pad takes it
    padding_mode: str
    param_grads: tuple | None = None     # all_grads=True: ∂L/∂p for every model.parameters() p (None if frozen)

    @property
    def per_sample(self) -> torch.Tensor:
        """Σ over positions, one number per sample: (N,)."""
        return self.terms.sum(dim=(1, 2))

    @property
    def tolerance(self) -> float:
        """How far ``grad`` may be from ``autograd`` by rounding alone: the summands' size times a few ulps."""
        eps = torch.finfo(self.terms.dtype).eps
        return float(self.terms.abs().sum()) * eps * 64 + eps * abs(float(self.autograd)) * 64 + 1e-30

    @property
    def matches(self) -> bool:
        """Σ terms equals autograd's value within rounding."""
        return abs(float(self.grad) - float(self.autograd)) <= self.tolerance

    def latex(self) -> tuple[str, str]:
        """The sum as a formula with this layer's stride, dilation and channel, then with the numbers: one Σ per
        sample, their total, and autograd's value."""
        o, c, ky, kx = self.index
        n, h, w = self.terms.shape
        (sy, sx), (dy, dx) = self.stride, self.dilation
        row = f"{sy}i + {ky * dy}" if sy != 1 else f"i + {ky * dy}"
        col = f"{sx}j + {kx * dx}" if sx != 1 else f"j + {kx * dx}"
        formula = (rf"\frac{{\partial L}}{{\partial w_{{{o},{c},{ky},{kx}}}}} = \sum_{{n=1}}^{{{n}}}"
                   rf"\sum_{{i=0}}^{{{h - 1}}}\sum_{{j=0}}^{{{w - 1}}} \tilde x_{{n,\,{self.in_channel_abs},\,{row},"
                   rf"\,{col}}}\cdot\frac{{\partial L}}{{\partial z_{{n,{o},i,j}}}}")
        sums = [f"({num(float(v), 4)})" for v in self.per_sample]
        lines = [" + ".join(sums[k:k + 4]) for k in range(0, len(sums), 4)]  # four samples a line: it fits a page
        numbers = (r"\begin{aligned} &= " + r" \\ &\quad + ".join(lines) + rf" \\ &= {num(float(self.grad))}"
                   rf"\qquad \text{{autograd: }} {{{num(float(self.autograd))}}} \end{{aligned}}")
        return formula, numbers


def num(x: float, digits: int = 6) -> str:
    """A number for LaTeX: ``digits`` significant digits, powers of ten written as ×10^k."""
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        return rf"{mant}\times10^{{{int(exp)}}}"
    return s


def conv_padding(conv: nn.Conv2d) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) as ``F.pad`` takes it: the numbers, or 'same' (the odd extra on the right/bottom, as
    PyTorch pads it), or 'valid' (none)."""
    if isinstance(conv.padding, str):
        if conv.padding == "valid":
            return (0, 0, 0, 0)
        total = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]  # 'same': stride is 1
        (th, tw) = total
        return (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    ph, pw = conv.padding
    return (pw, pw, ph, ph)


def conv_layer_names(model: nn.Module) -> list[str]:
    """The module names of every ``nn.Conv2d`` in ``model``, in order."""
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _conv(model: nn.Module, layer: str) -> nn.Conv2d:
    modules = dict(model.named_modules())
    if layer not in modules:
        shown = ", ".join(conv_layer_names(model)[:12]) or "(none)"
        raise ConfigError("layer", f"no module named {layer[:60]!r} in the model; its Conv2d layers: {shown}")
    conv = modules[layer]
    if not isinstance(conv, nn.Conv2d):
        raise ConfigError("layer", f"{layer!r} is a {type(conv).__name__}, not a Conv2d")
    return conv


def _index(conv: nn.Conv2d, index) -> tuple[int, int, int, int]:
    shape = tuple(conv.weight.shape)  # (C_out, C_in / groups, kH, kW)
    if len(index) != 4:
        raise ConfigError("index", f"must be (out_channel, in_channel, ky, kx), got {len(index)} numbers")
    for value, size, name in zip(index, shape, ("out_channel", "in_channel", "ky", "kx")):
        if not 0 <= value < size:
            raise ConfigError("index", f"{name}={value} is outside 0..{size - 1} (weight shape {shape})")
    return tuple(index)


def _labels(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if y.dim() != 1 or len(y) != len(x):
        raise ConfigError("y", f"must hold one label per image: {len(x)} images, got shape {tuple(y.shape)}")
    return y.long()


@checked(model=Module(), x=Tensor(dims=4, what="a batch of images (N, C, H, W)"),
         y=Tensor(dims=1, kind="int", what="the labels (N,)"), layer=Text(200),
         index=Seq(Number(-(1 << 62), 1 << 62, integer=True), max_len=8),  # a huge int: no 4,300-digit message
         all_grads=Flag())
def weight_gradient_terms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, layer: str, index, *,
                          all_grads: bool = False) -> WeightGradient:
    """∂L/∂weight[index] of the Conv2d ``layer`` as its Σ over samples and output positions of input × upstream
    gradient, with L = F.cross_entropy(model(x), y) (mean over the batch); see :class:`WeightGradient`.
    ``all_grads``: also every trainable parameter's gradient from the same pass (``param_grads``), so a caller can
    take the optimiser step without a second forward and backward."""
    conv = _conv(model, layer)
    o, c, ky, kx = _index(conv, index)
    y = _labels(y, x)
    weight = conv.weight
    x, y = x.to(weight.device, weight.dtype), y.to(weight.device)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def keep(module, inputs, output):  # the conv's input and output; downstream gets a copy (an in-place ReLU
        seen.append((inputs[0], output))  # after it must not change the tensor we differentiate against)
        return output.clone()

    training = any(m.training for m in model.modules())  # a BatchNorm in training mode updates its statistics
    buffers = [(b, b.clone()) for b in model.buffers()] if training else []
    flag = weight.requires_grad
    handle = conv.register_forward_hook(keep)
    try:
        with torch.inference_mode(False), torch.enable_grad():
            weight.requires_grad_(True)
            logits = run_model(model, x)  # an input the model cannot take: ConfigError on x
            if len(seen) != 1:
                raise ConfigError("layer", f"{layer!r} ran {len(seen)} times in one forward pass; pick a layer "
                                  "that runs once")
            if logits.dim() != 2 or len(logits) != len(x):
                raise ConfigError("model", f"must return (N, classes) logits, got shape {tuple(logits.shape)}")
            if not bool(((y >= 0) & (y < logits.shape[1])).all()):
                raise ConfigError("y", f"labels must be in 0..{logits.shape[1] - 1}")
            loss = F.cross_entropy(logits, y)
            inp, out = seen[0]
            params = list(model.parameters())
            others = [p for p in params if all_grads and p.requires_grad and p is not weight]
            g_out, g_w, *g_rest = torch.autograd.grad(loss, [out, weight, *others], allow_unused=True)
            g_out = torch.zeros_like(out) if g_out is None else g_out  # (N, C_out, H_out, W_out); 0: the loss
            g_w = torch.zeros_like(weight) if g_w is None else g_w      # does not depend on this layer
            found = {id(p): torch.zeros_like(p) if g is None else g for p, g in zip(others, g_rest)}
            found[id(weight)] = g_w if flag else None  # a frozen weight stays frozen for the optimiser too
            param_grads = tuple(found.get(id(p)) for p in params) if all_grads else None
    finally:
        handle.remove()
        weight.requires_grad_(flag)
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
    pad = conv_padding(conv)
    mode = _PAD_MODE.get(conv.padding_mode, "constant")
    xp = F.pad(inp.detach(), pad, mode=mode) if any(pad) else inp.detach()  # (N, C_in, H + pads, W + pads)
    groups_out = conv.out_channels // conv.groups
    cin = (o // groups_out) * (conv.in_channels // conv.groups) + c
    (sy, sx), (dy, dx) = conv.stride, conv.dilation
    h, w = g_out.shape[-2:]
    patch = xp[:, cin, ky * dy: ky * dy + sy * (h - 1) + 1: sy, kx * dx: kx * dx + sx * (w - 1) + 1: sx]  # (N, h, w)
    upstream = g_out[:, o].detach()  # (N, h, w)
    terms = patch * upstream
    return WeightGradient(layer, (o, c, ky, kx), terms, patch, upstream, terms.sum(), g_w[o, c, ky, kx].detach(),
                          float(weight.detach()[o, c, ky, kx]), float(loss.detach()), logits.detach(), cin,
                          (sy, sx), (dy, dx), pad, conv.padding_mode, param_grads)
