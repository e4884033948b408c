"""Feature visualisation by optimisation (Olah et al., Distill 2017; Lucid / Lucent): the input that excites one
channel of one layer most, found by gradient ascent from seeded noise on the channel's mean activation.

Each regulariser that makes the result readable is a switch, so a class can see why it is needed:
- ``jitter``: the image is rolled by a few random pixels every step, so the optimum cannot rely on one exact pixel
  grid (without it: high-frequency checkerboards the network reacts to but nobody would call a picture);
- ``robust``: a small random scale and rotation every step (``F.affine_grid`` / ``F.grid_sample``), so the pattern
  must survive the small changes real objects go through;
- ``fourier``: the image is optimised as its 2-D Fourier spectrum scaled by 1/f (``torch.fft``), so every frequency
  learns at the same rate and low frequencies are not drowned by pixel noise (a decorrelated parameterisation);
- ``blur``: a 3×3 Gaussian blur of the image every few steps, a blunt penalty on high frequencies.
``images`` > 1 makes several images per channel, with a diversity penalty (their pairwise cosine similarity of
Gram vectors of the layer's output) so they show different ways to excite it.

The cost is bounded by arithmetic before any work: steps × images × FLOPs of one forward and backward pass."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.device import this_thread
from cnnviz.errors import ConfigError
from cnnviz.inside.saliency import eval_mode
from cnnviz.limits import FEATURE_VIS_MAX_FLOPS, FEATURE_VIS_MAX_IMAGES, FEATURE_VIS_MAX_PIXELS, FEATURE_VIS_MAX_STEPS

REGULARISERS = ("jitter", "robust", "fourier", "blur")
JITTER_PX = 2          # largest roll per step, in pixels (1 on inputs under 16 px: 8×8 digits)
SCALE_RANGE = 0.1      # random zoom in 1 ± this
ROTATE_DEG = 10.0      # random rotation in ± this many degrees
BLUR_EVERY = 4         # steps between two blurs


@dataclass(frozen=True)
class FeatureVis:
    images: torch.Tensor      # (k, C, H, W) in [0, 1], on the CPU
    activation: list[float]   # the channel's mean activation for each image (untransformed), float
    steps_done: int           # < the steps asked for when stopped
    stopped: bool
    flops: int                # the arithmetic that was allowed: steps × images × 3 × one forward pass


def _layer(model: nn.Module, layer: str) -> nn.Module:
    modules = dict(model.named_modules())
    if not layer or layer not in modules:
        raise ConfigError("layer", f"{layer[:60]!r} is not a layer of this model")
    return modules[layer]


def _leaf_flops(m: nn.Module, out: torch.Tensor) -> int:
    """One leaf's FLOPs for its output ``out``: a multiply and an add per weight tap for Conv2d and Linear, one
    operation per output value for anything else (activations, pooling, batch norm)."""
    if isinstance(m, nn.Conv2d):
        return 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, nn.Linear):
        return 2 * out.numel() * m.in_features
    return out.numel()


_this_thread = this_thread  # the shared models' hooks count this thread's passes only (cnnviz.device)


def forward_flops(model: nn.Module, shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass of one image of ``shape`` (C, H, W), summed over the leaf modules (forward hooks
    on a pass of zeros, this thread's only, removed afterwards)."""
    device = next(model.parameters()).device
    total = [0]

    @_this_thread
    def count(m, _inputs, out):
        if isinstance(out, torch.Tensor):
            total[0] += _leaf_flops(m, out)

    hooks = [m.register_forward_hook(count) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad(), eval_mode(model):
            model(torch.zeros(1, *shape, device=device))
    finally:
        for h in hooks:
            h.remove()
    return total[0]


def check_cost(model: nn.Module, shape: tuple[int, ...], steps: int, images: int) -> int:
    """The FLOPs a visualisation would cost (steps × images × 3 forward passes: forward plus backward), refused with
    a ConfigError naming the field beyond the caps in :mod:`cnnviz.limits`."""
    if not isinstance(steps, int) or not 1 <= steps <= FEATURE_VIS_MAX_STEPS:
        raise ConfigError("steps", f"must be an integer in 1..{FEATURE_VIS_MAX_STEPS}, got {steps!r}")
    if not isinstance(images, int) or not 1 <= images <= FEATURE_VIS_MAX_IMAGES:
        raise ConfigError("images", f"must be an integer in 1..{FEATURE_VIS_MAX_IMAGES}, got {images!r}")
    if len(shape) != 3 or shape[1] * shape[2] > FEATURE_VIS_MAX_PIXELS:
        raise ConfigError("size", f"the input {'×'.join(map(str, shape))} has more than {FEATURE_VIS_MAX_PIXELS} "
                          "pixels")
    flops = 3 * steps * images * forward_flops(model, shape)
    if flops > FEATURE_VIS_MAX_FLOPS:
        raise ConfigError("steps", f"{steps} steps × {images} image(s) × 3 passes of this model cost {flops:,} FLOPs, "
                          f"more than the {FEATURE_VIS_MAX_FLOPS:,} one visualisation may use; fewer steps or images")
    return flops


def _spectrum_scale(h: int, w: int) -> torch.Tensor:
    """1/f for the rfft2 grid (h, w // 2 + 1), the constant term set to 1: every frequency starts equally loud."""
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    f = torch.sqrt(fx * fx + fy * fy)
    return 1.0 / torch.maximum(f, torch.full_like(f, 1.0 / max(h, w)))


def _blur(x: torch.Tensor) -> torch.Tensor:
    """A 3×3 Gaussian blur (weights [1, 2, 1]² / 16) of every channel, edges replicated."""
    k = torch.tensor([1.0, 2.0, 1.0], device=x.device)
    k = (k[:, None] * k[None, :] / 16).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=x.shape[1])


def _affine(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Each image zoomed by 1 ± SCALE_RANGE and rotated by ± ROTATE_DEG (random), borders reflected."""
    n = x.shape[0]
    s = 1 + (torch.rand(n, generator=g) * 2 - 1) * SCALE_RANGE
    a = (torch.rand(n, generator=g) * 2 - 1) * math.radians(ROTATE_DEG)
    theta = torch.stack([torch.stack([torch.cos(a) / s, -torch.sin(a) / s, torch.zeros(n)], 1),
                         torch.stack([torch.sin(a) / s, torch.cos(a) / s, torch.zeros(n)], 1)], 1).to(x)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)


def _gram_similarity(out: torch.Tensor) -> torch.Tensor:
    """Mean pairwise cosine similarity of the images' Gram vectors of ``out`` (k, C, h, w); 0 for one image."""
    k = out.shape[0]
    if k < 2:
        return out.new_zeros(())
    flat = out.flatten(2)
    gram = F.normalize((flat @ flat.transpose(1, 2)).flatten(1), dim=1)
    sim = gram @ gram.T
    return (sim.sum() - sim.diagonal().sum()) / (k * (k - 1))


def visualise_channel(model: nn.Module, layer: str, channel: int, shape: tuple[int, int, int], *, steps: int = 64,
                      jitter: bool = True, robust: bool = True, fourier: bool = True, blur: bool = False,
                      images: int = 1, diversity: float = 1.0, lr: float = 0.05, seed: int = 0,
                      progress=None, stop=None) -> FeatureVis:
    """Gradient ascent on the input (``images`` images of ``shape`` (C, H, W), seeded noise, values kept in [0, 1] by
    a sigmoid) on the mean of ``channel`` of ``layer``'s output. ``progress(step, total)`` is called after each step;
    ``stop()`` (a callable, or a ``threading.Event``) truthy ends the ascent early. The model is run in eval mode,
    its weights untouched and its training flags and hooks as before."""
    mod = _layer(model, layer)
    shape = tuple(int(v) for v in shape)
    flops = check_cost(model, shape, steps, images)
    if not isinstance(channel, int) or channel < 0:
        raise ConfigError("channel", f"must be a channel index ≥ 0, got {channel!r}")
    if not (isinstance(diversity, (int, float)) and 0 <= diversity <= 100 and isinstance(lr, (int, float))
            and 0 < lr <= 1):
        raise ConfigError("diversity" if not 0 <= diversity <= 100 else "lr", "out of range (diversity 0..100, "
                          "lr in (0, 1])")
    stop_fn = stop.is_set if hasattr(stop, "is_set") else stop
    device = next(model.parameters()).device
    c, h, w = shape
    g = torch.Generator().manual_seed(int(seed))
    if fourier:
        scale = _spectrum_scale(h, w).to(device)
        param = (torch.randn(images, c, h, w // 2 + 1, 2, generator=g) * 0.01).to(device)
    else:
        param = (torch.randn(images, c, h, w, generator=g) * 0.01).to(device)
    param.requires_grad_(True)
    opt = torch.optim.Adam([param], lr=lr)

    def render() -> torch.Tensor:
        if fourier:
            spec = torch.view_as_complex(param) * scale
            # rfft2's orthonormal inverse: pixel values of about the size of the spectrum's entries
            pix = torch.fft.irfft2(spec, s=(h, w), norm="ortho") * 4
        else:
            pix = param
        return torch.sigmoid(pix)

    out_box: list[torch.Tensor] = []
    handle = mod.register_forward_hook(_this_thread(lambda _m, _i, o: out_box.append(o)))
    done, stopped = 0, False
    requires = [p.requires_grad for p in model.parameters()]
    try:
        with eval_mode(model):
            for p in model.parameters():
                p.requires_grad_(False)
            for step in range(steps):
                if stop_fn is not None and stop_fn():
                    stopped = True
                    break
                x = render()
                if jitter:
                    j = JITTER_PX if min(h, w) >= 16 else 1
                    dy, dx = (int(v) for v in torch.randint(-j, j + 1, (2,), generator=g))
                    x = torch.roll(x, (dy, dx), dims=(2, 3))
                if robust:
                    x = _affine(x, g)
                out_box.clear()
                model(x)
                out = _channel_output(out_box, channel)
                loss = -out[:, channel].mean() + diversity * _gram_similarity(out)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if blur and (step + 1) % BLUR_EVERY == 0:
                    _blur_param(param, fourier, render, h, w, scale if fourier else None)
                done = step + 1
                if progress is not None:
                    progress(done, steps)
            with torch.no_grad():
                final = render().detach()
                out_box.clear()
                model(final)
                act = out_box[-1][:, channel].flatten(1).mean(1).float().cpu().tolist()
    finally:
        handle.remove()
        for p, r in zip(model.parameters(), requires):
            p.requires_grad_(r)
    return FeatureVis(final.cpu(), act, done, stopped, flops)


def _channel_output(box: list, channel: int) -> torch.Tensor:
    if not box or not isinstance(box[-1], torch.Tensor) or box[-1].dim() != 4:
        raise ConfigError("layer", "its output is not a feature map (N, C, H, W)")
    out = box[-1]
    if channel >= out.shape[1]:
        raise ConfigError("channel", f"must be in 0..{out.shape[1] - 1}, got {channel}")
    return out


@torch.no_grad()
def _blur_param(param, fourier, render, h, w, scale) -> None:
    """Replace the parameters by those of the blurred image (pixels: blur the logits; Fourier: the blurred image's
    spectrum, divided by the 1/f scale)."""
    if not fourier:
        param.copy_(_blur(param))
        return
    pix = torch.fft.irfft2(torch.view_as_complex(param) * scale, s=(h, w), norm="ortho")
    spec = torch.fft.rfft2(_blur(pix), norm="ortho") / scale
    param.copy_(torch.view_as_real(spec))


def channel_means(model: nn.Module, layer: str, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """The mean activation of every channel of ``layer`` for each image: (N, C), on the CPU, in eval mode (the hook
    counts this thread's passes only)."""
    mod = _layer(model, layer)
    device = next(model.parameters()).device
    box: list[torch.Tensor] = []
    handle = mod.register_forward_hook(_this_thread(lambda _m, _i, o: box.append(o.flatten(2).mean(2).cpu())))
    try:
        with torch.no_grad(), eval_mode(model):
            for s in range(0, len(images), batch):
                model(images[s:s + batch].to(device))
    finally:
        handle.remove()
    return torch.cat(box)
