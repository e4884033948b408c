"""The training recipe: a validated config dataclass, and the small pieces of a modern recipe
(learning-rate schedules with warm-up, EMA of weights, on-device batch augmentation, class-balanced sampling).

Everything here works on whole batches of tensors that already live on the training device."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import torch

from cnnviz.errors import ConfigError
from cnnviz.architecture.models import MODELS

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("onecycle", "cosine", "constant")

# One sentence per switch, shown next to it on the page.
EXPLAIN = {
    "augment_flip": "Mirror each image left-right half the time, so the model cannot rely on which side a feature is.",
    "augment_crop": "Pad by a few pixels and cut a random window back out: the object moves a little every epoch.",
    "augment_noise": "Add a little Gaussian noise to each pixel, so tiny pixel differences stop mattering.",
    "label_smoothing": "Aim for 90 % on the right class instead of 100 %, so the model stays less over-confident.",
    "optimizer": "AdamW adapts each weight's step and decays weights separately; SGD with momentum is the classic.",
    "schedule": "Warm the learning rate up, then anneal it (one-cycle or cosine): big steps early, fine steps late.",
    "ema": "Evaluate an exponential moving average of the weights, a smoother model than the last step's.",
    "grad_clip": "Rescale the gradient when its norm is above a limit, so one bad batch cannot blow training up.",
    "early_stopping": "Stop when the validation loss has not improved for a few epochs: more epochs would only overfit.",
    "balanced": "Draw each class equally often in a batch, so a rare class in your own images is not ignored.",
    "amp": "Mixed precision (CUDA only): compute in float16 (with loss scaling) or bfloat16 on the GPU for speed, "
           "keep the weights in float32. Off on the CPU: autocast there gives no speed-up for these models.",
}


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``data`` (optional) is an in-memory :class:`cnnviz.io.data.Dataset`, e.g. the user's
    own images; otherwise ``dataset`` names an offline one. ``resume`` holds checkpoint bytes to continue."""

    dataset: str = "digits"
    seed: int = 0
    n: int | None = None
    model: str = "TinyVGG"
    width: int = 16
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-2
    optimizer: str = "adamw"
    weight_decay: float = 1e-4
    momentum: float = 0.9
    schedule: str = "onecycle"
    warmup: float = 0.2           # fraction of all steps spent warming up
    label_smoothing: float = 0.1
    augment_flip: bool = False
    augment_crop: int = 0         # padding in pixels before the random crop; 0 = off
    augment_noise: float = 0.0    # standard deviation of added noise; 0 = off
    ema: bool = False
    ema_decay: float = 0.99
    grad_clip: float = 0.0        # max gradient norm; 0 = off
    patience: int = 0             # early stopping after this many epochs without a better val loss; 0 = off
    balanced: bool = False
    amp: str = "off"              # "off", "fp16" (GradScaler) or "bf16"; the old True/False mean "fp16"/"off"
    data: object = field(default=None, repr=False, compare=False)
    resume: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        amp = {True: "fp16", False: "off", None: "off"}.get(self.amp, self.amp) if isinstance(
            self.amp, (bool, type(None))) else self.amp
        if amp not in AMP_MODES:
            raise ConfigError("amp", f"must be one of {', '.join(AMP_MODES)} (or True/False), got {self.amp!r}")
        object.__setattr__(self, "amp", amp)
        checks = [
            ("model", self.model in MODELS, f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}"),
            ("epochs", 1 <= self.epochs <= 500, f"must be 1–500, got {self.epochs}"),
            ("batch_size", 1 <= self.batch_size <= 4096, f"must be 1–4096, got {self.batch_size}"),
            ("width", 1 <= self.width <= 256, f"must be 1–256, got {self.width}"),
            ("lr", 0 < self.lr <= 1e12, f"must be positive, got {self.lr}"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"choose one of {', '.join(OPTIMIZERS)}"),
            ("schedule", self.schedule in SCHEDULES, f"choose one of {', '.join(SCHEDULES)}"),
            ("weight_decay", 0 <= self.weight_decay < 1, f"must be in [0, 1), got {self.weight_decay}"),
            ("momentum", 0 <= self.momentum < 1, f"must be in [0, 1), got {self.momentum}"),
            ("warmup", 0 <= self.warmup < 1, f"must be a fraction in [0, 1), got {self.warmup}"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, f"must be in [0, 1), got {self.label_smoothing}"),
            ("augment_crop", 0 <= self.augment_crop <= 8, f"must be 0–8 pixels, got {self.augment_crop}"),
            ("augment_noise", 0 <= self.augment_noise <= 1, f"must be 0–1, got {self.augment_noise}"),
            ("ema_decay", 0 < self.ema_decay < 1, f"must be in (0, 1), got {self.ema_decay}"),
            ("grad_clip", self.grad_clip >= 0, f"must be ≥ 0 (0 = off), got {self.grad_clip}"),
            ("patience", self.patience >= 0, f"must be ≥ 0 (0 = off), got {self.patience}"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ConfigError(name, message)
        if self.resume is not None:  # checked here, where the page builds the config: errors show at once
            from cnnviz.training.checkpoint import check_resume
            check_resume(self.resume, self.model, self.epochs)

    def to_dict(self) -> dict:
        """JSON-safe: everything but the in-memory data and the resume bytes."""
        d = asdict(replace(self, data=None, resume=None))
        d.pop("data"), d.pop("resume")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f for f in cls.__dataclass_fields__ if f not in ("data", "resume")}
        return cls(**{k: v for k, v in d.items() if k in known})


SPEED_RUN = dict(model="SmallResNet", optimizer="sgd", lr=0.2, momentum=0.9, weight_decay=5e-4, batch_size=256,
                 schedule="onecycle", warmup=0.2, label_smoothing=0.2, ema=True, ema_decay=0.99, augment_flip=True,
                 augment_crop=2, augment_noise=0.0)
"""The recipe of the CIFAR-10 speed records (Keller Jordan's airbench, David Page's DAWNBench ResNet): a
small ResNet, SGD with Nesterov-like momentum and a triangular one-cycle schedule, label smoothing, EMA of the
weights, flips and small translations, and all the data kept on the device as tensors."""


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


# --------------------------------------------------------------------------- the page's on/off switches
SWITCHES = (("flip", "Flip", "augment_flip"), ("crop", "Random crop", "augment_crop"),
            ("noise", "Noise", "augment_noise"), ("ls", "Label smoothing", "label_smoothing"),
            ("ema", "EMA of weights", "ema"), ("clip", "Gradient clipping", "grad_clip"),
            ("early", "Early stopping", "early_stopping"), ("balanced", "Class-balanced", "balanced"),
            ("amp", "Mixed precision", "amp"))


def from_switches(size: int, switches: dict, cuda: bool, amp_kind: str = "fp16", **kw) -> TrainConfig:
    """A config from on/off switches (names of ``SWITCHES``) with the values a class can start from:
    crop padding 1 px for 8×8 images and 2 px above, noise σ 0.05, smoothing 0.1, clipping at norm 2,
    patience 3 epochs; AdamW weight decay 1e-4, SGD the speed-run's 5e-4 (unless ``weight_decay`` is given);
    batch 64 (8×8) or 128; mixed precision of ``amp_kind`` ("fp16" or "bf16") when on and on CUDA."""
    on = {name: bool(switches.get(name)) for name, _, _ in SWITCHES}
    kw.setdefault("batch_size", 64 if size <= 8 else 128)
    kw.setdefault("weight_decay", SPEED_RUN["weight_decay"] if kw.get("optimizer") == "sgd" else 1e-4)
    return TrainConfig(augment_flip=on["flip"], augment_crop=(1 if size <= 8 else 2) * on["crop"],
                       augment_noise=0.05 * on["noise"], label_smoothing=0.1 * on["ls"], ema=on["ema"],
                       grad_clip=2.0 * on["clip"], patience=3 * on["early"], balanced=on["balanced"],
                       amp=amp_kind if on["amp"] and cuda else "off", **kw)
