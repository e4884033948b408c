"""Knowledge distillation (Hinton et al. 2015) — the loss, a seeded training loop, a background job the
Compression page follows — and the small reference models the pages compress."""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .compress import accuracy, predict
from .errors import ConfigError


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor,
                      alpha: float, temperature: float, reverse: bool = False) -> torch.Tensor:
    """alpha · CE(student, targets) + (1 − alpha) · T² · KL(softmax(teacher/T) ‖ softmax(student/T)),
    both batch means (Hinton et al. 2015). ``reverse=True`` uses KL(student ‖ teacher) instead."""
    if student_logits.dim() != 2 or student_logits.shape != teacher_logits.shape:
        raise ConfigError("teacher_logits", f"must have the student's shape (N, classes) "
                          f"{tuple(student_logits.shape)}, got {tuple(teacher_logits.shape)}")
    if targets.shape != student_logits.shape[:1]:
        raise ConfigError("targets", f"must have shape ({student_logits.shape[0]},), got {tuple(targets.shape)}")
    if not 0 <= alpha <= 1:
        raise ConfigError("alpha", f"must be in [0, 1], got {alpha}")
    if not temperature > 0:
        raise ConfigError("temperature", f"must be > 0, got {temperature}")
    T = temperature
    log_s = F.log_softmax(student_logits / T, dim=1)           # (N, C)
    log_t = F.log_softmax(teacher_logits.detach() / T, dim=1)  # (N, C)
    p, log_p, log_q = (log_s.exp(), log_s, log_t) if reverse else (log_t.exp(), log_t, log_s)
    kl = (p * (log_p - log_q)).sum(dim=1).mean()               # KL(p ‖ q), batch mean
    return alpha * F.cross_entropy(student_logits, targets) + (1 - alpha) * T * T * kl


@dataclass(frozen=True)
class FitEvent:
    run: str
    epoch: int
    train_loss: float    # the run's own training loss (cross-entropy, or the distillation loss)
    val_accuracy: float
    val_loss: float      # cross-entropy on the validation set: comparable between runs


def train_epochs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_val: torch.Tensor, y_val: torch.Tensor,
                 epochs: int = 5, lr: float = 0.01, batch_size: int = 64, seed: int = 0,
                 teacher: nn.Module | None = None, alpha: float = 1.0, temperature: float = 4.0,
                 reverse: bool = False, run: str = "model", stop: threading.Event | None = None):
    """Train ``model`` in place with Adam, yielding a FitEvent after every epoch: plain cross-entropy without
    a teacher, else the distillation loss against the frozen teacher's logits. Seeded batches."""
    if epochs < 1:
        raise ConfigError("epochs", f"must be ≥ 1, got {epochs}")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t_logits = predict(teacher, x) if teacher is not None else None  # (N, C)
    for epoch in range(1, epochs + 1):
        model.train()
        perm, total = torch.randperm(len(y), generator=g), 0.0
        for i in range(0, len(y), batch_size):
            if stop is not None and stop.is_set():
                return
            idx = perm[i:i + batch_size]
            out = model(x[idx])  # (B, C)
            loss = (F.cross_entropy(out, y[idx]) if t_logits is None else
                    distillation_loss(out, t_logits[idx], y[idx], alpha, temperature, reverse))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        logits = predict(model, x_val)  # (N_val, C)
        yield FitEvent(run, epoch, total / len(y), float((logits.argmax(1) == y_val).float().mean()),
                       F.cross_entropy(logits, y_val).item())


def fit(model: nn.Module, *args, **kwargs) -> nn.Module:
    """``train_epochs`` run to the end; returns the trained model."""
    for _ in train_epochs(model, *args, **kwargs):
        pass
    return model


@dataclass
class DistillJob:
    """Distils a student from ``teacher`` in a background thread, next to an identical student (same seed,
    same initial weights) trained on the labels alone. ``poll(since)`` returns the new FitEvents."""

    teacher: nn.Module
    make_student: object  # () -> nn.Module
    data: tuple           # (x_train, y_train, x_val, y_val)
    epochs: int = 10
    alpha: float = 0.3
    temperature: float = 4.0
    reverse: bool = False
    lr: float = 0.01
    seed: int = 0
    events: list = field(default_factory=list)
    error: str | None = None

    def __post_init__(self):
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            torch.manual_seed(self.seed)
            distilled = self.make_student()
            alone = copy.deepcopy(distilled)  # same initial weights: the only difference is the teacher
            common = dict(epochs=self.epochs, lr=self.lr, seed=self.seed, stop=self._stop)
            runs = (train_epochs(distilled, *self.data, teacher=self.teacher, alpha=self.alpha,
                                 temperature=self.temperature, reverse=self.reverse, run="distilled", **common),
                    train_epochs(alone, *self.data, run="labels only", **common))
            for pair in zip(*runs):  # the two runs advance together, one epoch at a time
                for ev in pair:
                    with self._lock:
                        self.events.append(ev)
        except Exception as e:  # noqa: BLE001 - shown to the user, never a silent dead thread
            self.error = f"{type(e).__name__}: {e}"

    def start(self) -> "DistillJob":
        self._thread.start()
        return self

    def poll(self, since: int = 0) -> list[FitEvent]:
        with self._lock:
            return list(self.events[since:])

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def reference_model(ds, width: int = 10, epochs: int = 6, seed: int = 0) -> nn.Module:
    """The model the pages compress: a TinyVGG trained (seeded, a few seconds on a CPU) on ``ds``."""
    from .models import TinyVGG
    torch.manual_seed(seed)
    model = TinyVGG(ds.in_channels, ds.num_classes, ds.size, width=width)
    return fit(model, ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=epochs, seed=seed).eval()


def digits_model(key: str = "digits_TinyVGG", fallback_width: int = 10):
    """(digits Dataset, model in eval mode, title): the shipped trained model when its weights are in
    assets/models, else a TinyVGG trained here (seeded, a few seconds)."""
    from .data import load_dataset
    from .shipped import list_models, load_model
    ds = load_dataset("digits")
    if key in list_models():
        model, info = load_model(key)
        return ds, model, info.title
    model = reference_model(ds, width=fallback_width)
    return ds, model, f"TinyVGG trained here ({accuracy(model, ds.x_val, ds.y_val):.1%} val. accuracy)"
