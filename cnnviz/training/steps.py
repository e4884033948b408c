"""The pieces of a modern recipe, applied step by step on whole batches that already live on the training
device: learning-rate schedules with warm-up, an EMA of the weights, batch augmentation, class-balanced
sampling, and the mixed-precision mode a device allows. They read a config's fields, never build one."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from cnnviz.training.recipe import TrainConfig


# --------------------------------------------------------------------------- learning-rate schedules
def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Learning rate at ``step`` of ``total``: linear warm-up to ``cfg.lr``, then one-cycle (linear down to
    lr/100 ... the triangular schedule of the speed runs) or cosine (half cosine to 0), or constant."""
    if cfg.schedule == "constant":
        return cfg.lr
    warm = int(cfg.warmup * total)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)  # 0 → 1 after the warm-up
    t = min(t, 1.0)
    if cfg.schedule == "onecycle":
        return cfg.lr * (1 - t * 0.99)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * t))


# --------------------------------------------------------------------------- EMA of weights
class EMA:
    """An exponential moving average of a model's parameters (buffers are copied at evaluation time).
    The decay ramps up as (1 + t) / (10 + t) so the early, poor weights are forgotten quickly."""

    def __init__(self, model: torch.nn.Module, decay: float):
        import copy
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.src = [p for p in model.parameters()]
        self.dst = [p for p in self.model.parameters()]
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.dst, self.src, 1 - d)

    @torch.no_grad()
    def sync_buffers(self, model: torch.nn.Module) -> None:
        for b_dst, b_src in zip(self.model.buffers(), model.buffers()):
            b_dst.copy_(b_src)


# --------------------------------------------------------------------------- batch augmentation
def augment(x: torch.Tensor, cfg: TrainConfig, g: torch.Generator) -> torch.Tensor:
    """Flip / random crop with zero padding / noise on a whole batch ``(B, C, H, W)`` on its device."""
    b, _, h, w = x.shape
    if cfg.augment_flip:
        flip = torch.rand(b, device=x.device, generator=g) < 0.5
        x = torch.where(flip.view(b, 1, 1, 1), x.flip(3), x)
    if cfg.augment_crop:
        x = random_crop(x, cfg.augment_crop, g)
    if cfg.augment_noise:
        x = x + cfg.augment_noise * torch.randn(x.shape, device=x.device, generator=g)
    return x


def random_crop(x: torch.Tensor, pad: int, g: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``pad`` and cut a random ``H × W`` window per image: a shift of up to ±pad pixels."""
    b, c, h, w = x.shape
    xp = torch.nn.functional.pad(x, (pad, pad, pad, pad))            # (B, C, H+2p, W+2p)
    oy = torch.randint(0, 2 * pad + 1, (b, 1), device=x.device, generator=g)
    ox = torch.randint(0, 2 * pad + 1, (b, 1), device=x.device, generator=g)
    rows = (oy + torch.arange(h, device=x.device)).view(b, 1, h, 1)  # (B, 1, H, 1)
    cols = (ox + torch.arange(w, device=x.device)).view(b, 1, 1, w)  # (B, 1, 1, W)
    bi = torch.arange(b, device=x.device).view(b, 1, 1, 1)
    ci = torch.arange(c, device=x.device).view(1, c, 1, 1)
    return xp[bi, ci, rows, cols]                                    # (B, C, H, W)


def epoch_order(y: torch.Tensor, balanced: bool, g: torch.Generator) -> torch.Tensor:
    """Indices for one epoch: a permutation, or (balanced) a draw with replacement where every class is
    equally likely, so a rare class turns up as often as a common one."""
    n = len(y)
    if not balanced:
        return torch.randperm(n, device=y.device, generator=g)
    counts = torch.bincount(y).float()
    weights = 1.0 / counts[y]
    return torch.multinomial(weights, n, replacement=True, generator=g)


AMP_MODES = ("off", "fp16", "bf16")


def amp_mode(cfg_amp: str, device: torch.device) -> tuple[str, str]:
    """(the mode used, why) for a config's ``amp`` on ``device``: off on the CPU; bf16 only where the GPU
    supports it (else fp16)."""
    device = torch.device(device)
    if cfg_amp == "off":
        return "off", "mixed precision is off"
    if device.type != "cuda":
        return "off", "mixed precision is a CUDA feature; on the CPU training runs in float32"
    if cfg_amp == "bf16" and not torch.cuda.is_bf16_supported():
        return "fp16", "this GPU has no bfloat16 support; float16 with loss scaling instead"
    return cfg_amp, {"fp16": "float16 autocast with a GradScaler", "bf16": "bfloat16 autocast, no scaler"}[cfg_amp]
