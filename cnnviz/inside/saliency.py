"""Saliency maps: seven captum methods and two class-activation maps written here (Grad-CAM++, Score-CAM) behind
one function, ``attribute(model, x, target, method)``.

Every method returns a tensor of the same shape as ``x`` (the CAMs are upsampled to the input size with
``LayerAttribution.interpolate`` and broadcast over channels). The model's mode, weights and hooks are the
same afterwards; attributions are computed in eval mode (BatchNorm uses its running statistics)."""
from __future__ import annotations

import copy
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn as nn
from captum.attr import (DeepLift, GuidedBackprop, IntegratedGradients, LayerAttribution, LayerGradCam,
                         NoiseTunnel, Occlusion, Saliency)

from cnnviz.device import model_device, this_thread
from cnnviz.checks import Choice, Flag, Module, Number, Optional, Tensor, Text, checked, run_model
from cnnviz.errors import ConfigError

METHODS = ("saliency", "integrated_gradients", "smoothgrad", "guided_backprop", "deeplift", "gradcam",
           "gradcampp", "scorecam", "occlusion")
LABELS = {"saliency": "Gradient |∂y/∂x|", "integrated_gradients": "Integrated Gradients",
          "smoothgrad": "SmoothGrad", "guided_backprop": "Guided Backprop", "deeplift": "DeepLift",
          "gradcam": "Grad-CAM", "gradcampp": "Grad-CAM++", "scorecam": "Score-CAM", "occlusion": "Occlusion"}
CAMS = ("gradcam", "gradcampp", "scorecam")  # read the ``layer`` option
BASELINES = ("black", "mean", "blur")
OCCLUSION_BATCH = 256  # occluded copies per forward pass (32×32 RGB: 3 MB): one pass instead of one per position


@contextmanager
def eval_mode(model: nn.Module):
    """Run in eval mode and give every module back the training flag it had."""
    training = [m for m in model.modules() if m.training]  # usually none: models are kept in eval mode
    for m in training:
        m.training = False
    try:
        yield model
    finally:
        for m in training:
            m.training = True


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's Conv2d layers, input to output (the CAM methods' choices)."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _layer(model: nn.Module, name: str | None) -> nn.Module:
    names = conv_layers(model)
    if not names:
        raise ConfigError("layer", "Grad-CAM, Grad-CAM++ and Score-CAM need a model with at least one Conv2d layer")
    if name is None:
        name = names[-1]
    if name not in names:
        raise ConfigError("layer", f"{name!r} is not a conv layer of this model; choose one of {', '.join(names)}")
    return dict(model.named_modules())[name]


def _activation_and_gradient(model: nn.Module, layer: nn.Module, x: torch.Tensor, target: int):
    """The layer's output A (1, K, h, w) and ∂y_target/∂A, y the target's logit; one forward hook, removed at
    once; only A's gradient is asked for (no parameter .grad)."""
    seen = []
    handle = layer.register_forward_hook(this_thread(lambda _m, _i, out: seen.append(out)))
    try:
        logits = model(x)
    finally:
        handle.remove()
    (g,) = torch.autograd.grad(logits[0, target], seen[0])
    return seen[0].detach(), g.detach()


def gradcam_plus_plus(model: nn.Module, layer: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhyay et al., 2018), in the closed form for an exponentiated logit that
    pytorch-grad-cam uses: with A the layer's output (1, K, h, w) and g = ∂y/∂A (y the target's logit),
    α = g² / (2g² + (Σ_ij A_ij) · g³)  (0 where the denominator is 0),
    w_k = Σ_ij α_kij · ReLU(g_kij),  map = ReLU(Σ_k w_k A_k)  -> (1, 1, h, w) at the layer's resolution."""
    a, g = _activation_and_gradient(model, layer, x, target)
    g2, g3 = g ** 2, g ** 3
    denom = 2 * g2 + a.sum(dim=(2, 3), keepdim=True) * g3
    alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)),
                        torch.zeros_like(denom))
    w = (alpha * torch.relu(g)).sum(dim=(2, 3), keepdim=True)            # (1, K, 1, 1)
    return torch.relu((w * a).sum(dim=1, keepdim=True))


def score_cam(model: nn.Module, layer: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """Score-CAM (Wang et al., 2020), without the baseline subtraction: each channel A_k of the layer's rectified
    output ReLU(out) (1, K, h, w) (the paper's maps are post-ReLU; a conv layer's raw output is often negative
    everywhere, and ReLU(Σ w_k A_k) of it a blank map) is upsampled bilinearly to the input size and min-max normalised to [0, 1] (a constant
    channel gives an all-zero mask); w_k = softmax(model(x ⊙ M_k))[target], the target's probability on the
    masked input; map = ReLU(Σ_k w_k A_k) -> (1, 1, h, w) at the layer's resolution. One batch of K passes."""
    seen = []
    handle = layer.register_forward_hook(this_thread(lambda _m, _i, out: seen.append(out.detach())))
    try:
        with torch.no_grad():
            model(x)
            a = torch.relu(seen[0])                                        # (1, K, h, w)
            masks = LayerAttribution.interpolate(a.transpose(0, 1), tuple(x.shape[-2:]), "bilinear")  # (K, 1, H, W)
            low = masks.amin(dim=(2, 3), keepdim=True)
            span = masks.amax(dim=(2, 3), keepdim=True) - low
            masks = torch.where(span > 0, (masks - low) / torch.where(span > 0, span, torch.ones_like(span)),
                                torch.zeros_like(masks))
            w = torch.softmax(model(x * masks), dim=1)[:, target]           # (K,)
    finally:
        handle.remove()
    return torch.relu((w.view(1, -1, 1, 1) * a).sum(dim=1, keepdim=True))


@checked(x=Tensor(dims=4), kind=Choice(BASELINES))
def make_baseline(x: torch.Tensor, kind: str = "black") -> torch.Tensor:
    """IG / DeepLift reference input: all zeros, the image's per-channel mean, or a heavy box blur."""
    if kind == "black":
        return torch.zeros_like(x)
    if kind == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x).clone()
    if kind == "blur":
        k = max(3, (min(x.shape[-2:]) // 4) | 1)  # odd window, a quarter of the image
        pad = nn.functional.pad(x, [k // 2] * 4, mode="replicate")
        return nn.functional.avg_pool2d(pad, k, stride=1)
    raise ConfigError("baseline", f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")


def _check(model: nn.Module, x: torch.Tensor, target: int) -> int:
    if x.dim() != 4 or x.shape[0] != 1:
        raise ConfigError("x", f"must be one image as a batch of one (1, C, H, W), got shape {tuple(x.shape)}")
    with torch.no_grad(), eval_mode(model):  # one forward pass: refuses an input the model cannot take
        out = run_model(model, x)
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        raise ConfigError("model", "must return logits of shape (1, classes)")
    n_classes = out.shape[-1]
    if not 0 <= int(target) < n_classes:
        raise ConfigError("target", f"must be a class index in 0..{n_classes - 1}, got {target}")
    return int(target)


@checked(model=Module(), x=Tensor(dims=4, what="one image as a batch of one (1, C, H, W)"), target=Number(integer=True), method=Choice(METHODS),
         n_steps=Number(integer=True), baseline=Choice(BASELINES), nt_samples=Number(integer=True), noise=Number(),
         layer=Optional(Text(200)), window=Number(integer=True), stride=Number(integer=True))
def attribute(model: nn.Module, x: torch.Tensor, target: int, method: str, *, n_steps: int = 32,
              baseline: str = "black", nt_samples: int = 16, noise: float = 0.15, layer: str | None = None,
              window: int = 4, stride: int = 2) -> torch.Tensor:
    """Attribution of class ``target``'s logit to each input value of ``x`` (1, C, H, W) -> (1, C, H, W).

    ``n_steps`` / ``baseline``: Integrated Gradients (baseline also for DeepLift); ``nt_samples`` / ``noise``
    (std as a fraction of the image's value range): SmoothGrad; ``layer``: the conv layer of Grad-CAM,
    Grad-CAM++ and Score-CAM (default the last); ``window`` / ``stride``: Occlusion's square patch, filled with zeros."""
    if method not in METHODS:
        raise ConfigError("method", f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    x = x.detach().to(device=model_device(model), dtype=torch.float32)  # captum runs on the model's device
    target = _check(model, x, target)
    h, w = x.shape[-2:]
    if method == "integrated_gradients" and not 2 <= n_steps <= 512:
        raise ConfigError("n_steps", f"must be in 2..512, got {n_steps}")
    if method == "smoothgrad" and not (1 <= nt_samples <= 256 and 0 <= noise <= 1):
        raise ConfigError("nt_samples", f"needs 1..256 samples and noise in [0, 1], got {nt_samples}, {noise}")
    if method == "occlusion" and not (1 <= window <= min(h, w) and 1 <= stride <= window):
        raise ConfigError("window", f"window must be in 1..{min(h, w)} and stride in 1..window, "
                          f"got window={window}, stride={stride}")
    x = x.clone().requires_grad_(True)  # captum warns otherwise
    with eval_mode(model), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # captum's notes about hooks on activations
        if method == "saliency":
            out = Saliency(model).attribute(x, target=target, abs=True)
        elif method == "integrated_gradients":
            out = IntegratedGradients(model).attribute(  # x without grad: captum builds its own path batch
                x.detach(), baselines=make_baseline(x.detach(), baseline),
                target=target, n_steps=n_steps, method="riemann_trapezoid")  # no per-call Legendre solve
        elif method == "smoothgrad":
            spread = float(x.max() - x.min()) or 1.0
            out = NoiseTunnel(Saliency(model)).attribute(x, nt_type="smoothgrad", nt_samples=nt_samples,
                                                         nt_samples_batch_size=nt_samples,
                                                         stdevs=noise * spread, target=target, abs=True)
        elif method == "guided_backprop":
            out = GuidedBackprop(model).attribute(x, target=target)
        elif method == "deeplift":
            out = DeepLift(model).attribute(x, baselines=make_baseline(x.detach(), baseline), target=target)
        elif method == "gradcam":
            cam = LayerGradCam(model, _layer(model, layer)).attribute(x, target=target, relu_attributions=True)
            out = LayerAttribution.interpolate(cam, (h, w), "bilinear").expand_as(x)  # (1, 1, h, w) -> x
        elif method in ("gradcampp", "scorecam"):
            cam = (gradcam_plus_plus if method == "gradcampp" else score_cam)(model, _layer(model, layer), x, target)
            out = LayerAttribution.interpolate(cam, (h, w), "bilinear").expand_as(x)
        else:
            out = Occlusion(model).attribute(x, sliding_window_shapes=(x.shape[1], window, window),
                                             strides=(x.shape[1], stride, stride), baselines=0, target=target,
                                             perturbations_per_eval=OCCLUSION_BATCH)  # 225 passes -> 1 on 32×32
    return out.detach().reshape(x.shape).cpu()


@checked(attr=Tensor(dims=4), signed=Flag())
def to_map(attr: torch.Tensor, signed: bool = False) -> torch.Tensor:
    """(1, C, H, W) attribution -> (H, W) map for display: channel sum (or sum of |.| when unsigned)."""
    a = attr[0]
    return a.sum(0) if signed else a.abs().sum(0)


# --------------------------------------------------------------------------- sanity check (Adebayo et al.)
def _ranks(v: torch.Tensor) -> torch.Tensor:
    order = torch.argsort(v, stable=True)
    r = torch.empty_like(v)
    r[order] = torch.arange(len(v), dtype=v.dtype)
    return r


@checked(a=Tensor(), b=Tensor())
def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman rank correlation of two maps (ties broken by position); 0 when one map is constant."""
    if a.numel() != b.numel():
        raise ConfigError("b", f"must have as many values as a ({a.numel()}), got {b.numel()}")
    ra, rb = _ranks(a.flatten().double()), _ranks(b.flatten().double())
    if float(a.flatten().std()) == 0 or float(b.flatten().std()) == 0:
        return 0.0
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))


@dataclass(frozen=True)
class SanityRow:
    randomised_to: str          # the deepest layer re-initialised so far (cascading from the output)
    method: str
    rank_correlation: float     # with the trained model's map; near 1 = the map ignores the weights


def parameter_layers(model: nn.Module) -> list[str]:
    """Leaf modules that own weights, output side first (the order of cascading randomisation)."""
    names = [n for n, m in model.named_modules()
             if n and not list(m.children()) and any(True for _ in m.parameters(recurse=False))]
    return names[::-1]


def sanity_check(model: nn.Module, x: torch.Tensor, target: int, methods=METHODS, seed: int = 0,
                 **options) -> list[SanityRow]:
    """Cascading randomisation: re-initialise layers from the output towards the input, one more each step,
    and compare each method's map with the trained model's (Spearman on |attribution| summed over channels).
    Works on a copy; the model itself is untouched."""
    ref = {m: to_map(attribute(model, x, target, m, **options)) for m in methods}
    rand = copy.deepcopy(model)
    modules = dict(rand.named_modules())
    torch.manual_seed(seed)
    rows = []
    for name in parameter_layers(rand):
        mod = modules[name]
        if hasattr(mod, "reset_parameters"):
            mod.reset_parameters()
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):  # random affine, not the identity init
            with torch.no_grad():
                mod.weight.normal_(1.0, 0.5)
                mod.bias.normal_(0.0, 0.5)
        for m in methods:
            rows.append(SanityRow(name, m, spearman(ref[m], to_map(attribute(rand, x, target, m, **options)))))
    return rows
