"""The training recipe: a validated config dataclass (a job kind: it knows how to run itself), the speed-run
preset, and the page's on/off switches. The pieces it switches on are in :mod:`.steps`; the loop in :mod:`.loop`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from cnnviz.architecture.models import MODELS
from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Failed, Finished
from cnnviz.training.built_model import BUILT, check_config
from cnnviz.training.checkpoint import check_resume
from cnnviz.training.loop import run_training
from cnnviz.training.steps import AMP_MODES

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("onecycle", "cosine", "constant")
LABEL_SMOOTHING = 0.1  # the recipe's smoothing: the "Label smoothing" switch turns exactly this on

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
    label_smoothing: float = LABEL_SMOOTHING
    augment_flip: bool = False
    augment_crop: int = 0         # padding in pixels before the random crop; 0 = off
    augment_noise: float = 0.0    # standard deviation of added noise; 0 = off
    ema: bool = False
    ema_decay: float = 0.99
    grad_clip: float = 0.0        # max gradient norm; 0 = off
    patience: int = 0             # early stopping after this many epochs without a better val loss; 0 = off
    balanced: bool = False
    amp: str = "off"              # "off", "fp16" (GradScaler) or "bf16"; the old True/False mean "fp16"/"off"
    stack: str = ""               # model "Built": the Architecture Lab's stack as JSON (cnnviz.training.built_model)
    data: object = field(default=None, repr=False, compare=False)
    resume: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        amp = {True: "fp16", False: "off", None: "off"}.get(self.amp, self.amp) if isinstance(
            self.amp, (bool, type(None))) else self.amp
        if amp not in AMP_MODES:
            raise ConfigError("amp", f"must be one of {', '.join(AMP_MODES)} (or True/False), got {self.amp!r}")
        object.__setattr__(self, "amp", amp)
        checks = [
            ("model", self.model in MODELS or self.model == BUILT,
             f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}"),
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
        check_config(self.model, self.stack)  # a built network's stack: valid and within the budgets
        if self.resume is not None:  # checked here, where the page builds the config: errors show at once
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

    # the job kind (cnnviz.jobs.kind)
    title = "training"

    def run(self, emit, stop, keep, device=None) -> None:
        run_training(self, emit, stop, keep, device)

    def resumed(self, checkpoint: bytes) -> "TrainConfig":
        return replace(self, resume=checkpoint)

    def group_key(self, device=None) -> tuple:
        """A class group's key (:func:`cnnviz.training.group.group_key`): trainings with equal keys train together."""
        from cnnviz.training.group import group_key
        return group_key(self, device)

    def run_together(self, members, device=None) -> None:
        """Train ``members`` (:class:`cnnviz.jobs.kind.Member`, configs of one key) as the groups that fit the
        memory limit (:func:`~cnnviz.training.group.plan_groups`), one after the other; a group refused (memory)
        reaches each of its members as ``Failed`` with the reason, and the next group still trains."""
        from cnnviz.training.group import GroupJob, plan_groups, train_group
        jobs = [GroupJob(m.config, m.emit, m.stop, m.keep) for m in members]
        for planned in plan_groups([m.config for m in members], device):
            group = [jobs[i] for i in planned if not jobs[i].stop.is_set()]
            for i in planned:
                if jobs[i].stop.is_set():  # stopped while an earlier planned group trained: never started
                    jobs[i].emit(Finished(0, 0, "stopped", 0.0))
            try:
                train_group(group, device)
            except ConfigError as err:  # refused before anything was allocated (memory, mixed keys)
                why = "not enough memory for this class group, " if "GiB" in str(err) else ""
                for job in group:
                    job.emit(Failed(0, f"refused before training ({why}checked before anything is allocated): {err}",
                                    None))

SPEED_RUN = dict(model="SmallResNet", optimizer="sgd", lr=0.2, momentum=0.9, weight_decay=5e-4, batch_size=256,
                 schedule="onecycle", warmup=0.2, label_smoothing=0.2, ema=True, ema_decay=0.99, augment_flip=True,
                 augment_crop=2, augment_noise=0.0)
"""The recipe of the CIFAR-10 speed records (Keller Jordan's airbench, David Page's DAWNBench ResNet): a
small ResNet, SGD with Nesterov-like momentum and a triangular one-cycle schedule, label smoothing, EMA of the
weights, flips and small translations, and all the data kept on the device as tensors."""

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
                       augment_noise=0.05 * on["noise"], label_smoothing=LABEL_SMOOTHING * on["ls"], ema=on["ema"],
                       grad_clip=2.0 * on["clip"], patience=3 * on["early"], balanced=on["balanced"],
                       amp=amp_kind if on["amp"] and cuda else "off", **kw)
