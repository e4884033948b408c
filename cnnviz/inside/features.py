"""What a trained model computes inside: every layer's activations (forward hooks, always removed), the first
layer's kernels, per-channel statistics, the prediction, and how far each layer is from shift-equivariance."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.device import this_thread, to_model_device
from cnnviz.checks import Module, Number, Optional, Seq, Tensor, Text, checked, run_model
from cnnviz.errors import ConfigError
from cnnviz.inside.saliency import eval_mode


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if n and not list(m.children())]


@checked(model=Module(), x=Tensor(dims=(2, 5)), layers=Optional(Seq(Text(200))))
def capture(model: nn.Module, x: torch.Tensor, layers: list[str] | None = None
            ) -> tuple[torch.Tensor, "OrderedDict[str, torch.Tensor]"]:
    """Run ``x`` (N, C, H, W) through ``model`` in eval mode without gradients; return the logits and the
    outputs of ``layers`` (default: every leaf module whose output is a feature map (N, C', H', W')), in
    execution order. The hooks are removed afterwards, also when the forward pass raises."""
    known = dict(leaf_modules(model))
    names = list(known) if layers is None else list(layers)
    for n in names:
        if n not in known:
            raise ConfigError("layers", f"{n!r} is not a layer of this model")
    acts: OrderedDict[str, torch.Tensor] = OrderedDict()

    def hook(name):
        def fn(_module, _inputs, output):
            if isinstance(output, torch.Tensor) and (layers is not None or output.dim() == 4):
                acts[name] = output.detach().cpu()
        return fn

    handles = [known[n].register_forward_hook(this_thread(hook(n))) for n in names]
    try:
        with torch.no_grad(), eval_mode(model):
            logits = run_model(model, to_model_device(x, model))
    finally:
        for h in handles:
            h.remove()
    return logits.detach().cpu(), acts


@checked(model=Module(), name=Text(200))
def layer_kind(model: nn.Module, name: str) -> str:
    modules = dict(model.named_modules())
    if name not in modules:
        raise ConfigError("layer", f"{name[:60]!r} is not a layer of this model")
    return type(modules[name]).__name__


@checked(model=Module())
def first_conv_kernels(model: nn.Module) -> torch.Tensor:
    """The first Conv2d's weights (C_out, C_in, k, k), on the CPU."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.weight.detach().cpu().clone()
    raise ConfigError("model", "has no Conv2d layer")


@checked(logits=Tensor(dims=(1, 2)))
def probabilities(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits.float(), dim=-1)


@dataclass(frozen=True)
class ChannelStats:
    mean: list[float]
    std: list[float]
    max: list[float]
    zero_fraction: list[float]  # share of exactly-zero values ("dead" after ReLU)


@checked(act=Tensor(dims=(3, 4)))
def channel_stats(act: torch.Tensor) -> ChannelStats:
    """Statistics of one image's feature map (1, C, H, W) or (C, H, W), per channel."""
    a = act[0] if act.dim() == 4 else act
    flat = a.reshape(a.shape[0], -1).float()  # (C, H·W)
    return ChannelStats(flat.mean(1).tolist(), flat.std(1, unbiased=False).tolist(), flat.amax(1).tolist(),
                        (flat == 0).float().mean(1).tolist())


# --------------------------------------------------------------------------- equivariance
@checked(x=Tensor(dims=(2, 5), kind="real", finite=False), dy=Number(integer=True), dx=Number(integer=True))
def shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Translate the last two axes by (dy, dx) pixels, filling with zeros (nothing wraps around)."""
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = x[..., ys, xs]
    return out


@dataclass(frozen=True)
class EquivarianceRow:
    layer: str
    kind: str
    stride: int              # input pixels per feature-map pixel (total downsampling so far)
    exact_shift: bool        # the input shift is a whole number of this layer's pixels
    distance: float          # ||f(shift x) − shift(f(x))|| / ||f(x)|| in the central region


@checked(model=Module(), x=Tensor(dims=4), dy=Number(integer=True), dx=Number(integer=True),
         border=Number(0, 0.49))
def equivariance(model: nn.Module, x: torch.Tensor, dy: int, dx: int, border: float = 0.25
                 ) -> list[EquivarianceRow]:
    """Per layer, how far the feature map of the shifted image is from the shifted feature map. Compared in the
    centre only (``border`` of each side left out) where zero padding and the shifted-in zeros do not reach.
    A layer whose total stride s does not divide the shift is compared with the shift rounded to its grid."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ConfigError("x", f"must be (1, C, H, W), got {tuple(x.shape)}")
    h = x.shape[-1]
    if max(abs(dy), abs(dx)) > h // 4:
        raise ConfigError("shift", f"must be at most a quarter of the image ({h // 4} px), got ({dy}, {dx})")
    _, a = capture(model, x)
    _, b = capture(model, shift(x, dy, dx))
    rows = []
    for name, fa in a.items():
        fb = b[name]
        s = max(1, round(h / fa.shape[-1]))
        expected = shift(fa, round(dy / s), round(dx / s))
        m = int(fa.shape[-1] * border)
        ca = expected[..., m:fa.shape[-2] - m, m:fa.shape[-1] - m]
        cb = fb[..., m:fb.shape[-2] - m, m:fb.shape[-1] - m]
        ref = float(fa[..., m:fa.shape[-2] - m, m:fa.shape[-1] - m].norm()) or 1.0
        rows.append(EquivarianceRow(name, layer_kind(model, name), s, dy % s == 0 and dx % s == 0,
                                    float((cb - ca).norm()) / ref))
    return rows


@checked(model=Module(), x=Tensor(dims=4))
def rotation_change(model: nn.Module, x: torch.Tensor) -> list[tuple[int, int, float]]:
    """(degrees, predicted class, its probability) for the image rotated by 0, 90, 180 and 270 degrees."""
    out = []
    for k in range(4):
        logits, _ = capture(model, torch.rot90(x, k, dims=(-2, -1)), layers=[])
        p = probabilities(logits)[0]
        out.append((90 * k, int(p.argmax()), float(p.max())))
    return out
