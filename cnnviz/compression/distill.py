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
from cnnviz.architecture.models import TinyVGG
from cnnviz.jobs.events import Finished
from cnnviz.io.data import load_dataset
from cnnviz.inside.shipped import list_models, load_model


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
    return alpha * F.cross_entropy(student_logits, targets) + (1 - alpha) * soft_loss(student_logits, teacher_logits,
                                                                                      temperature, reverse)


def soft_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float,
              reverse: bool = False) -> torch.Tensor:
    """T² · KL(softmax(teacher/T) ‖ softmax(student/T)), a batch mean: the teacher's soft labels alone, no
    ground truth needed (so it also teaches on unlabelled images). ``reverse=True``: KL(student ‖ teacher)."""
    T = temperature
    log_s = F.log_softmax(student_logits / T, dim=1)           # (N, C)
    log_t = F.log_softmax(teacher_logits.detach() / T, dim=1)  # (N, C)
    p, log_p, log_q = (log_s.exp(), log_s, log_t) if reverse else (log_t.exp(), log_t, log_s)
    return T * T * (p * (log_p - log_q)).sum(dim=1).mean()     # T² · KL(p ‖ q), batch mean


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
                 reverse: bool = False, run: str = "model", stop: threading.Event | None = None,
                 steps: int | None = None, x_unlabelled: torch.Tensor | None = None):
    """Train ``model`` in place with Adam, yielding a FitEvent after every epoch: plain cross-entropy without
    a teacher, else the distillation loss against the frozen teacher's logits. Seeded batches.

    ``steps``: an epoch is that many batches drawn at random (with replacement) from (x, y) instead of one pass
    over it, so a few labelled images get as many updates as a full data set. ``x_unlabelled`` (needs a teacher
    and ``steps``): every step also takes a batch of these images with the teacher's soft labels only,
    (1 − α) · T² · KL — the teacher labels images nobody labelled."""
    if epochs < 1:
        raise ConfigError("epochs", f"must be ≥ 1, got {epochs}")
    if x_unlabelled is not None and (teacher is None or steps is None):
        raise ConfigError("x_unlabelled", "needs a teacher (its soft labels) and steps")
    g = torch.Generator().manual_seed(seed)  # on the CPU: the same batches on every device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    dev = model_device(model)
    x, y, x_val, y_val = (t.to(dev) for t in (x, y, x_val, y_val))
    t_logits = predict(teacher, x).to(dev) if teacher is not None else None  # (N, C)
    if x_unlabelled is not None:
        x_u = x_unlabelled.to(dev)
        u_logits = predict(teacher, x_u).to(dev)  # (U, C): the teacher's view of the unlabelled images
    for epoch in range(1, epochs + 1):
        model.train()
        total, seen = 0.0, 0
        batches = ([torch.randint(len(y), (batch_size,), generator=g) for _ in range(steps)] if steps else
                   torch.randperm(len(y), generator=g).split(batch_size))
        for idx in batches:
            if stop is not None and stop.is_set():
                return
            idx = idx.to(dev)
            out = model(x[idx])  # (B, C)
            loss = (F.cross_entropy(out, y[idx]) if t_logits is None else
                    distillation_loss(out, t_logits[idx], y[idx], alpha, temperature, reverse))
            if x_unlabelled is not None:
                u = torch.randint(len(x_u), (batch_size,), generator=g).to(dev)
                loss = loss + (1 - alpha) * soft_loss(model(x_u[u]), u_logits[u], temperature, reverse)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, seen = total + loss.item() * len(idx), seen + len(idx)
        logits = predict(model, x_val)  # (N_val, C)
        yield FitEvent(run, epoch, total / seen, float((logits.argmax(1) == y_val).float().mean()),
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
    labels_per_class: int | None = None  # only this many labelled digits per class (seeded pick); None: all
    unlabelled: bool = False      # the teacher's soft labels on the other training digits, their labels unused

    def __post_init__(self):
        checks = dict(student_width=(1, 64), epochs=(1, 200), labels_per_class=(1, 100))
        for name, (lo, hi) in checks.items():
            v = getattr(self, name)
            if v is None and name == "labels_per_class":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError(name, f"must be a whole number from {lo} to {hi}, got {v!r}")
        check_mix(self.alpha, self.temperature)  # refused at Start, not in the child's first batch
        if self.unlabelled and self.labels_per_class is None:
            raise ConfigError("unlabelled", "needs labels_per_class: with every label used, no digit is unlabelled")
        if not self.lr > 0:
            raise ConfigError("lr", f"must be > 0, got {self.lr}")

    # the job kind (cnnviz.jobs.kind): seconds to a minute on tiny models, always on the server's own runner
    cluster = False
    title = "distillation"

    def run(self, emit, stop, keep=None, device=None) -> None:
        run_distill(self, emit, stop, keep, device)


def run_distill(cfg: DistillConfig, emit, stop: threading.Event, keep=None, device=None) -> None:
    """The two students, one epoch each in turn; ``emit`` gets every FitEvent, then ``Finished``
    ("done" or "stopped"; ``best_val_acc`` is the distilled student's best). ``keep`` and ``device`` are the
    runner's: no checkpoints; the teacher and both students run on ``device`` (default ``pick_device()``)."""
    dev = torch.device(device) if device is not None else pick_device()
    ds, teacher, _ = digits_model(cfg.teacher, cfg.teacher_fallback_width)
    teacher = teacher.to(dev)
    n = cfg.n_train or len(ds.y_train)
    x, y = ds.x_train[:n], ds.y_train[:n]
    common = dict(epochs=cfg.epochs, lr=cfg.lr, seed=cfg.seed, stop=stop)
    extra = {}
    if cfg.labels_per_class is not None:  # few labels: an epoch is as many batches as a pass over all n digits
        keep = labelled_subset(y, cfg.labels_per_class, cfg.seed)
        rest = torch.ones(len(y), dtype=torch.bool)
        rest[keep] = False
        x, y = x[keep], y[keep]
        common["steps"] = -(-n // 64)
        if cfg.unlabelled:
            extra["x_unlabelled"] = ds.x_train[:n][rest]
    data = (x, y, ds.x_val, ds.y_val)
    torch.manual_seed(cfg.seed)
    distilled = TinyVGG(1, 10, ds.size, width=cfg.student_width).to(dev)
    alone = copy.deepcopy(distilled)  # same initial weights: the only difference is the teacher
    runs = (train_epochs(distilled, *data, teacher=teacher, alpha=cfg.alpha, temperature=cfg.temperature,
                         reverse=cfg.reverse, run="distilled", **common, **extra),
            train_epochs(alone, *data, run="labels only", **common))
    epoch, best = 0, 0.0
    for pair in zip(*runs):  # the two runs advance together, one epoch at a time
        for ev in pair:
            emit(ev)
        epoch, best = pair[0].epoch, max(best, pair[0].val_accuracy)
    emit(Finished(epoch, epoch, "stopped" if stop.is_set() else "done", best))


def labelled_subset(y: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` examples of every class (all of a class that has fewer), a seeded random pick."""
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in torch.unique(y).tolist():
        idx = (y == c).nonzero().flatten()                   # (n_c,)
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(picks).sort().values


def reference_model(ds, width: int = 10, epochs: int = 6, seed: int = 0) -> nn.Module:
    """The model the pages compress: a TinyVGG trained (seeded, a few seconds on a CPU) on ``ds``."""
    torch.manual_seed(seed)
    model = TinyVGG(ds.in_channels, ds.num_classes, ds.size, width=width).to(pick_device())
    return fit(model, ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=epochs, seed=seed).eval()


def digits_model(key: str = "digits_TinyVGG", fallback_width: int = 10):
    """(digits Dataset, model in eval mode, title): the shipped trained model when its weights are in
    assets/models, else a TinyVGG trained here (seeded, a few seconds)."""
    ds = load_dataset("digits")
    if key in list_models():
        model, info = load_model(key)
        return ds, model, info.title
    model = reference_model(ds, width=fallback_width)
    return ds, model, f"TinyVGG trained here ({accuracy(model, ds.x_val, ds.y_val):.1%} val. accuracy)"


def distill_latex(alpha: float, temperature: float, labels_per_class: int | None = None,
                  unlabelled: bool = False) -> str:
    """The distilled student's loss with the current α and T (LaTeX, two short lines): labelled images get the
    Hinton mix, unlabelled ones (when used) the teacher's term K alone."""
    check_mix(alpha, temperature)
    a, b, T = f"{alpha:g}", f"{1 - alpha:g}", f"{temperature:g}"
    k = rf"K = {T}^2\,\mathrm{{KL}}\big(\sigma(z_t/{T})\,\|\,\sigma(z_s/{T})\big)"
    lab = rf"{a}\cdot\mathrm{{CE}}(z_s, y) + {b}\,K"
    if unlabelled:
        loss = (rf"L = \underbrace{{{lab}}}_{{\text{{{labels_per_class * 10} labelled}}}} + "
                rf"\underbrace{{{b}\,K}}_{{\text{{unlabelled: teacher only}}}}")
    else:
        where = "" if labels_per_class is None else rf"\quad\text{{on {labels_per_class * 10} labelled digits}}"
        loss = rf"L = {lab}{where}"
    return rf"\begin{{gathered}}{loss}\\ {k}\end{{gathered}}"
