"""Knowledge distillation (Hinton et al. 2015) — the loss, a seeded training loop, a job for the training runner
(so it trains in a child process behind the same limiter as the Training Lab) — and the small reference models
the pages compress."""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.compression.evaluate import accuracy, predict
from cnnviz.device import model_device, pick_device
from cnnviz.errors import ConfigError


def check_mix(alpha: float, temperature: float) -> None:
    """The distillation loss's two knobs: the labels' weight α in [0, 1] and a positive temperature."""
    if not 0 <= alpha <= 1:
        raise ConfigError("alpha", f"must be in [0, 1], got {alpha}")
    if not temperature > 0:
        raise ConfigError("temperature", f"must be > 0, got {temperature}")


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor,
                      alpha: float, temperature: float, reverse: bool = False) -> torch.Tensor:
    """alpha · CE(student, targets) + (1 − alpha) · T² · KL(softmax(teacher/T) ‖ softmax(student/T)),
    both batch means (Hinton et al. 2015). ``reverse=True`` uses KL(student ‖ teacher) instead."""
    if student_logits.dim() != 2 or student_logits.shape != teacher_logits.shape:
        raise ConfigError("teacher_logits", f"must have the student's shape (N, classes) "
                          f"{tuple(student_logits.shape)}, got {tuple(teacher_logits.shape)}")
    if targets.shape != student_logits.shape[:1]:
        raise ConfigError("targets", f"must have shape ({student_logits.shape[0]},), got {tuple(targets.shape)}")
    check_mix(alpha, temperature)
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
    g = torch.Generator().manual_seed(seed)  # on the CPU: the same batches on every device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    dev = model_device(model)
    x, y, x_val, y_val = (t.to(dev) for t in (x, y, x_val, y_val))
    t_logits = predict(teacher, x).to(dev) if teacher is not None else None  # (N, C)
    for epoch in range(1, epochs + 1):
        model.train()
        perm, total = torch.randperm(len(y), generator=g), 0.0
        for i in range(0, len(y), batch_size):
            if stop is not None and stop.is_set():
                return
            idx = perm[i:i + batch_size].to(dev)
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


@dataclass(frozen=True)
class DistillConfig:
    """A distillation job for the training runner: a TinyVGG student of ``student_width`` learns from the
    teacher (a shipped digits model) next to an identical student (same seed, same initial weights) trained on
    the labels alone. Picklable, so it runs in the runner's child process like a training."""

    teacher: str = "digits_SmallResNet"
    student_width: int = 4
    epochs: int = 8
    alpha: float = 0.3
    temperature: float = 4.0
    reverse: bool = False
    lr: float = 0.01
    seed: int = 0
    n_train: int | None = None    # only the first n training digits (quick tests)
    teacher_fallback_width: int = 16

    def __post_init__(self):
        checks = dict(student_width=(1, 64), epochs=(1, 200))
        for name, (lo, hi) in checks.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError(name, f"must be a whole number from {lo} to {hi}, got {v!r}")
        check_mix(self.alpha, self.temperature)  # refused at Start, not in the child's first batch
        if not self.lr > 0:
            raise ConfigError("lr", f"must be > 0, got {self.lr}")


def run_distill(cfg: DistillConfig, emit, stop: threading.Event, keep=None, device=None) -> None:
    """The two students, one epoch each in turn; ``emit`` gets every FitEvent, then ``Finished``
    ("done" or "stopped"; ``best_val_acc`` is the distilled student's best). ``keep`` and ``device`` are the
    runner's: no checkpoints; the teacher and both students run on ``device`` (default ``pick_device()``)."""
    from cnnviz.architecture.models import TinyVGG
    from cnnviz.training.events import Finished
    dev = torch.device(device) if device is not None else pick_device()
    ds, teacher, _ = digits_model(cfg.teacher, cfg.teacher_fallback_width)
    teacher = teacher.to(dev)
    n = cfg.n_train or len(ds.y_train)
    data = (ds.x_train[:n], ds.y_train[:n], ds.x_val, ds.y_val)
    torch.manual_seed(cfg.seed)
    distilled = TinyVGG(1, 10, ds.size, width=cfg.student_width).to(dev)
    alone = copy.deepcopy(distilled)  # same initial weights: the only difference is the teacher
    common = dict(epochs=cfg.epochs, lr=cfg.lr, seed=cfg.seed, stop=stop)
    runs = (train_epochs(distilled, *data, teacher=teacher, alpha=cfg.alpha, temperature=cfg.temperature,
                         reverse=cfg.reverse, run="distilled", **common),
            train_epochs(alone, *data, run="labels only", **common))
    epoch, best = 0, 0.0
    for pair in zip(*runs):  # the two runs advance together, one epoch at a time
        for ev in pair:
            emit(ev)
        epoch, best = pair[0].epoch, max(best, pair[0].val_accuracy)
    emit(Finished(epoch, epoch, "stopped" if stop.is_set() else "done", best))


def reference_model(ds, width: int = 10, epochs: int = 6, seed: int = 0) -> nn.Module:
    """The model the pages compress: a TinyVGG trained (seeded, a few seconds on a CPU) on ``ds``."""
    from cnnviz.architecture.models import TinyVGG
    torch.manual_seed(seed)
    model = TinyVGG(ds.in_channels, ds.num_classes, ds.size, width=width).to(pick_device())
    return fit(model, ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=epochs, seed=seed).eval()


def digits_model(key: str = "digits_TinyVGG", fallback_width: int = 10):
    """(digits Dataset, model in eval mode, title): the shipped trained model when its weights are in
    assets/models, else a TinyVGG trained here (seeded, a few seconds)."""
    from cnnviz.io.data import load_dataset
    from cnnviz.inside.shipped import list_models, load_model
    ds = load_dataset("digits")
    if key in list_models():
        model, info = load_model(key)
        return ds, model, info.title
    model = reference_model(ds, width=fallback_width)
    return ds, model, f"TinyVGG trained here ({accuracy(model, ds.x_val, ds.y_val):.1%} val. accuracy)"
