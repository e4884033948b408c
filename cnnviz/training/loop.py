"""The training loop: pytorch/examples' mnist loop with the data as tensors on the device, plus the recipe's
switches, per-stage timings, NaN/inf detection, evaluation, checkpoints and early stopping.

``run_training`` is what a runner calls in its worker; it reports through ``emit`` and stops at the next
step once ``stop`` is set. Per step it adds only a few clock reads and two on-device accumulations to the
plain loop; the host waits for the device only when it reports (about three times a second).

What a run carries from step to step is a :class:`Run` (built by :func:`prepare`, which also resumes), and the
end of an epoch (evaluate, checkpoint, early stopping) and a curve point are
:func:`cnnviz.training.epoch.end_epoch` and :func:`cnnviz.training.epoch.report` (imported here): the solo loop
below and a class group (:mod:`cnnviz.training.group`) share them."""
from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch
import torch.nn as nn

from cnnviz.io.data import Dataset, load_dataset
from cnnviz.device import describe, pick_device
from cnnviz.errors import ConfigError
from cnnviz.training.budget import check_training_memory
from cnnviz.training.built_model import BUILT, build_network, built_spec, check_fits, parse_stack
from cnnviz.training.epoch import Window, end_epoch, report  # noqa: F401 (the group reads them here)
from cnnviz.training.live import Watcher
from cnnviz.training.validation import EVAL_BATCH, N_PREDICTIONS, evaluate  # noqa: F401 (group reads them here)
from cnnviz.training.checkpoint import model_spec, read_checkpoint
from cnnviz.jobs.events import STAGES, Finished
from cnnviz.training.steps import EMA, amp_mode, augment, epoch_order, lr_at

if TYPE_CHECKING:  # the config's module imports this one (TrainConfig.run)
    from cnnviz.training.recipe import TrainConfig

INIT_LOCK = threading.Lock()  # model initialisation uses the global RNG: one job at a time
REPORT_EVERY_S = 0.3


def get_data(cfg: TrainConfig) -> Dataset:
    return cfg.data if cfg.data is not None else load_dataset(cfg.dataset, cfg.seed, cfg.n)


def build(cfg: TrainConfig, data: Dataset, device: torch.device):
    """Model, optimizer, loss and spec for a config (seeded initialisation)."""
    if cfg.model == BUILT:  # the Architecture Lab's network: checked against this data set before anything is built
        layers, in_shape = parse_stack(cfg.stack)
        check_fits(layers, in_shape, data, f"the {cfg.dataset}")
        spec = built_spec(layers, in_shape, data.classes)
    else:
        spec = model_spec(cfg.model, data.in_channels, data.num_classes, data.size, cfg.width, data.classes)
    with INIT_LOCK:
        torch.manual_seed(cfg.seed)
        model = build_network(spec["model"], spec["kwargs"], spec.get("stack")).to(device)
    if cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0,
                              weight_decay=cfg.weight_decay)
    return model, opt, nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing), spec


@dataclass(eq=False)
class Run:
    """One training between steps: its config, data on the device, model, optimizer, loss, EMA, generator and
    counters. The solo loop carries one; a class group carries one per member."""

    cfg: TrainConfig
    data: Dataset
    spec: dict
    model: nn.Module
    opt: torch.optim.Optimizer
    criterion: nn.Module
    ema: EMA | None
    g: torch.Generator
    x_tr: torch.Tensor  # (N, C, H, W) on the device, and (N,) labels
    y_tr: torch.Tensor
    x_va: torch.Tensor
    y_va: torch.Tensor
    per_epoch: int
    total: int
    step: int = 0
    start_epoch: int = 0
    ckpt_step: int | None = None
    best_loss: float = math.inf
    bad_epochs: int = 0
    best_acc: float = 0.0

    @property
    def params(self) -> list:
        return list(self.model.parameters())


def prepare(cfg: TrainConfig, dev: torch.device, data: Dataset | None = None, tensors: tuple | None = None,
            check_memory: bool = True) -> Run:
    """A run ready for its first step: data on ``dev`` (``tensors`` = (x_tr, y_tr, x_va, y_va) already there, so
    a group shares them), the seeded model, optimizer, EMA and generator, and a checkpoint's state when resuming."""
    data = data if data is not None else get_data(cfg)
    x_tr, y_tr, x_va, y_va = tensors if tensors is not None else tuple(
        t.to(dev) for t in (data.x_train, data.y_train, data.x_val, data.y_val))
    model, opt, criterion, spec = build(cfg, data, dev)
    if check_memory:
        check_training_memory(model, tuple(x_tr.shape[1:]), cfg.batch_size, min(EVAL_BATCH, len(y_va)))
    ema = EMA(model, cfg.ema_decay) if cfg.ema else None
    g = torch.Generator(device=dev).manual_seed(cfg.seed)
    per_epoch = math.ceil(len(y_tr) / cfg.batch_size)
    run = Run(cfg, data, spec, model, opt, criterion, ema, g, x_tr, y_tr, x_va, y_va, per_epoch,
              cfg.epochs * per_epoch)
    if cfg.resume is not None:
        restore(run)
    return run


def restore(run: Run) -> None:
    """Continue ``run`` from its config's checkpoint (validated: spec, weights, step, epoch, optimizer, EMA, RNG)."""
    import json
    cfg = run.cfg
    payload = read_checkpoint(cfg.resume)
    saved = json.loads(payload["spec"])
    if int(payload["epoch"]) > cfg.epochs:  # resuming never runs more epochs than asked for
        raise ConfigError("epochs", f"the checkpoint has already run {payload['epoch']} epochs; set epochs to "
                          f"at least {payload['epoch']} to resume it")
    if int(payload["step"]) > int(payload["epoch"]) * run.per_epoch:
        raise ConfigError("checkpoint.step", f"step {payload['step']} is more than {payload['epoch']} epochs "
                          f"of {run.per_epoch} steps can have run")
    if (saved["model"], saved["kwargs"], saved.get("stack")) != (run.spec["model"], run.spec["kwargs"],
                                                                 run.spec.get("stack")):
        raise ConfigError("resume", f"the checkpoint is a {saved['model']} {saved['kwargs']}, "
                          f"this run a {run.spec['model']} {run.spec['kwargs']}")
    run.model.load_state_dict(payload["state_dict"])
    if "optimizer" in payload and type(run.opt).__name__.lower() == json.loads(payload["config"]).get("optimizer"):
        run.opt.load_state_dict(payload["optimizer"])
    extra = json.loads(payload["extra"])
    if run.ema is not None and "ema" in payload:
        run.ema.model.load_state_dict(payload["ema"])
        run.ema.updates = extra.get("ema_updates", 0)
    if "rng" in payload:
        run.g.set_state(payload["rng"].to(run.g.get_state().device))
    run.step, run.start_epoch, run.ckpt_step = int(payload["step"]), int(payload["epoch"]), int(payload["step"])
    run.best_loss, run.bad_epochs = extra.get("best_val_loss", math.inf), extra.get("bad_epochs", 0)
    run.best_acc = extra.get("best_val_acc", 0.0)


def set_lr(run: Run) -> float:
    """The schedule's learning rate for the run's next step, set on its optimizer."""
    lr = lr_at(run.step, run.total, run.cfg)
    for group in run.opt.param_groups:
        group["lr"] = lr
    return lr


def run_training(cfg: TrainConfig, emit: Callable, stop: threading.Event,
                 on_checkpoint: Callable[[bytes], None] = lambda b: None, device: torch.device | None = None):
    dev = device or pick_device()
    run = prepare(cfg, dev)
    model, opt, criterion, ema, g = run.model, run.opt, run.criterion, run.ema, run.g
    x_tr, y_tr = run.x_tr, run.y_tr
    b, per_epoch = cfg.batch_size, run.per_epoch

    amp_used, _ = amp_mode(cfg.amp, dev)  # decided here, where the job runs
    amp = (torch.autocast("cuda", dtype=torch.float16 if amp_used == "fp16" else torch.bfloat16)
           if amp_used != "off" else contextlib.nullcontext())
    scaler = torch.amp.GradScaler("cuda") if amp_used == "fp16" else None
    ran_on = f"{describe(dev)}" + (f", AMP {amp_used}" if amp_used != "off" else "")
    cuda = dev.type == "cuda"
    sample_every = 10 if cuda else 1  # on CUDA a stage is timed only with a synchronize: every 10th step
    params = run.params
    t_start, steps_done = time.perf_counter(), 0
    watch = Watcher(run.x_va)  # the first layer's kernels and maps of one validation image, at reports

    for epoch in range(run.start_epoch, cfg.epochs):
        timings = dict.fromkeys(STAGES, 0.0)
        model.train()
        order = epoch_order(y_tr, cfg.balanced, g)
        ep_loss, ep_correct = torch.zeros((), device=dev), torch.zeros((), device=dev, dtype=torch.long)
        ep_seen = 0
        win = Window(at=time.perf_counter(), step=run.step)
        for i in range(per_epoch):
            timed = run.step % sample_every == 0
            if timed and cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            idx = order[i * b:(i + 1) * b]
            xb, yb = x_tr[idx], y_tr[idx]  # (B, C, H, W), (B,)
            t1 = time.perf_counter()
            if cfg.augment_flip or cfg.augment_crop or cfg.augment_noise:
                xb = augment(xb, cfg, g)
            t2 = time.perf_counter()
            lr = set_lr(run)
            t3 = time.perf_counter()
            with amp:
                out = model(xb)
                loss = criterion(out, yb)
            if timed and cuda:
                torch.cuda.synchronize()
            t4 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(opt)  # clipping sees the true gradients
            else:
                loss.backward()
            if timed and cuda:
                torch.cuda.synchronize()
            t5 = time.perf_counter()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            if ema is not None:
                ema.update()
            ep_loss += loss.detach() * len(yb)
            ep_correct += (out.argmax(1) == yb).sum()
            if timed and cuda:
                torch.cuda.synchronize()
            t6 = time.perf_counter()
            if timed:
                for stage, dt in (("data", t1 - t0), ("augment", t2 - t1), ("schedule", t3 - t2),
                                  ("forward", t4 - t3), ("backward", t5 - t4), ("optimizer", t6 - t5)):
                    timings[stage] += dt * sample_every
            run.step += 1
            steps_done += 1
            ep_seen += len(yb)
            if stop.is_set():
                break
            # The job's first step reports at once (the page shows life within a step of Start), then every
            # REPORT_EVERY_S and at the end of each epoch.
            if steps_done == 1 or t6 - win.at >= REPORT_EVERY_S or i == per_epoch - 1:
                seen_loss, seen_correct = ep_loss.item(), int(ep_correct.item())  # the one host-device sync
                now = time.perf_counter()
                if not report(run, win, epoch, i, seen_loss, seen_correct, ep_seen, lr, now, now - t_start,
                              steps_done, ran_on, emit):
                    return
                watch.maybe(model, run.step, epoch + (i + 1) / per_epoch, emit, i == per_epoch - 1)
        if stop.is_set():
            emit(Finished(run.step, epoch, "stopped", run.best_acc))
            return
        if end_epoch(run, epoch, ep_loss.item() / ep_seen, ep_correct.item() / ep_seen, timings, emit,
                     on_checkpoint):
            return
        if stop.is_set():
            emit(Finished(run.step, epoch + 1, "stopped", run.best_acc))
            return
    emit(Finished(run.step, cfg.epochs, "done", run.best_acc))
