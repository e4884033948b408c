"""The training loop: pytorch/examples' mnist loop with the data as tensors on the device, plus the recipe's
switches, per-stage timings, NaN/inf detection, evaluation, checkpoints and early stopping.

``run_training`` is what a runner calls in its worker; it reports through ``emit`` and stops at the next
step once ``stop`` is set. Per step it adds only a few clock reads and two on-device accumulations to the
plain loop; the host waits for the device only when it reports (about three times a second)."""
from __future__ import annotations

import contextlib
import math
import threading
import time
from typing import TYPE_CHECKING, Callable

import torch
import torch.nn as nn

from cnnviz.io.data import Dataset, load_dataset
from cnnviz.device import describe, pick_device
from cnnviz.errors import ConfigError
from cnnviz.architecture.models import build_model
from cnnviz.training.budget import check_training_memory
from cnnviz.training.checkpoint import model_spec, read_checkpoint, save_checkpoint
from cnnviz.jobs.events import STAGES, Checkpoint, Evaluation, Failed, Finished, Progress
from cnnviz.training.steps import EMA, amp_mode, augment, epoch_order, lr_at

if TYPE_CHECKING:  # the config's module imports this one (TrainConfig.run)
    from cnnviz.training.recipe import TrainConfig

INIT_LOCK = threading.Lock()  # model initialisation uses the global RNG: one job at a time
REPORT_EVERY_S = 0.3
N_PREDICTIONS = 32
EVAL_BATCH = 1024


def get_data(cfg: TrainConfig) -> Dataset:
    return cfg.data if cfg.data is not None else load_dataset(cfg.dataset, cfg.seed, cfg.n)


def build(cfg: TrainConfig, data: Dataset, device: torch.device):
    """Model, optimizer, loss and spec for a config (seeded initialisation)."""
    spec = model_spec(cfg.model, data.in_channels, data.num_classes, data.size, cfg.width, data.classes)
    with INIT_LOCK:
        torch.manual_seed(cfg.seed)
        model = build_model(cfg.model, data.in_channels, data.num_classes, data.size, width=cfg.width).to(device)
    if cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0,
                              weight_decay=cfg.weight_decay)
    return model, opt, nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing), spec


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int, batch: int = EVAL_BATCH):
    """Validation loss (plain cross-entropy), accuracy, confusion matrix [true][pred] and predictions."""
    was_training = model.training
    model.eval()
    loss, preds = torch.zeros((), device=x.device), []
    for i in range(0, len(y), batch):
        out = model(x[i:i + batch]).float()
        loss += nn.functional.cross_entropy(out, y[i:i + batch], reduction="sum")
        preds.append(out.argmax(1))
    model.train(was_training)
    pred = torch.cat(preds)
    confusion = torch.bincount(y * num_classes + pred, minlength=num_classes ** 2).view(num_classes, num_classes)
    return (loss.item() / len(y), (pred == y).float().mean().item(), confusion.cpu().tolist(),
            pred[:N_PREDICTIONS].cpu().tolist())


def run_training(cfg: TrainConfig, emit: Callable, stop: threading.Event,
                 on_checkpoint: Callable[[bytes], None] = lambda b: None, device: torch.device | None = None):
    dev = device or pick_device()
    data = get_data(cfg)
    x_tr, y_tr = data.x_train.to(dev), data.y_train.to(dev)  # (N, C, H, W), (N,): the whole set on the device
    x_va, y_va = data.x_val.to(dev), data.y_val.to(dev)
    model, opt, criterion, spec = build(cfg, data, dev)
    check_training_memory(model, tuple(x_tr.shape[1:]), cfg.batch_size, min(EVAL_BATCH, len(y_va)))
    ema = EMA(model, cfg.ema_decay) if cfg.ema else None
    g = torch.Generator(device=dev).manual_seed(cfg.seed)
    n, b = len(y_tr), cfg.batch_size
    per_epoch = math.ceil(n / b)
    total = cfg.epochs * per_epoch
    step, start_epoch, ckpt_step, best_loss, bad_epochs, best_acc = 0, 0, None, math.inf, 0, 0.0

    if cfg.resume is not None:
        payload = read_checkpoint(cfg.resume)  # validated: spec, weights, step, epoch, optimizer, EMA, RNG
        import json
        saved = json.loads(payload["spec"])
        if int(payload["epoch"]) > cfg.epochs:  # resuming never runs more epochs than asked for
            raise ConfigError("epochs", f"the checkpoint has already run {payload['epoch']} epochs; set epochs to "
                              f"at least {payload['epoch']} to resume it")
        if int(payload["step"]) > int(payload["epoch"]) * per_epoch:
            raise ConfigError("checkpoint.step", f"step {payload['step']} is more than {payload['epoch']} epochs "
                              f"of {per_epoch} steps can have run")
        if saved["model"] != spec["model"] or saved["kwargs"] != spec["kwargs"]:
            raise ConfigError("resume", f"the checkpoint is a {saved['model']} {saved['kwargs']}, "
                              f"this run a {spec['model']} {spec['kwargs']}")
        model.load_state_dict(payload["state_dict"])
        if "optimizer" in payload and type(opt).__name__.lower() == json.loads(payload["config"]).get("optimizer"):
            opt.load_state_dict(payload["optimizer"])
        extra = json.loads(payload["extra"])
        if ema is not None and "ema" in payload:
            ema.model.load_state_dict(payload["ema"])
            ema.updates = extra.get("ema_updates", 0)
        if "rng" in payload:
            g.set_state(payload["rng"].to(g.get_state().device))
        step, start_epoch, ckpt_step = int(payload["step"]), int(payload["epoch"]), int(payload["step"])
        best_loss, bad_epochs = extra.get("best_val_loss", math.inf), extra.get("bad_epochs", 0)
        best_acc = extra.get("best_val_acc", 0.0)

    amp_used, _ = amp_mode(cfg.amp, dev)  # decided here, where the job runs
    amp = (torch.autocast("cuda", dtype=torch.float16 if amp_used == "fp16" else torch.bfloat16)
           if amp_used != "off" else contextlib.nullcontext())
    scaler = torch.amp.GradScaler("cuda") if amp_used == "fp16" else None
    ran_on = f"{describe(dev)}" + (f", AMP {amp_used}" if amp_used != "off" else "")
    cuda = dev.type == "cuda"
    sample_every = 10 if cuda else 1  # on CUDA a stage is timed only with a synchronize: every 10th step
    params = list(model.parameters())
    t_start, steps_done = time.perf_counter(), 0

    def fail(message: str):
        emit(Failed(step, message, ckpt_step))

    for epoch in range(start_epoch, cfg.epochs):
        timings = dict.fromkeys(STAGES, 0.0)
        model.train()
        order = epoch_order(y_tr, cfg.balanced, g)
        ep_loss, ep_correct = torch.zeros((), device=dev), torch.zeros((), device=dev, dtype=torch.long)
        win_loss, win_correct, win_seen, ep_seen = 0.0, 0, 0, 0
        last_report, last_step = time.perf_counter(), step
        for i in range(per_epoch):
            timed = step % sample_every == 0
            if timed and cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            idx = order[i * b:(i + 1) * b]
            xb, yb = x_tr[idx], y_tr[idx]  # (B, C, H, W), (B,)
            t1 = time.perf_counter()
            if cfg.augment_flip or cfg.augment_crop or cfg.augment_noise:
                xb = augment(xb, cfg, g)
            t2 = time.perf_counter()
            lr = lr_at(step, total, cfg)
            for group in opt.param_groups:
                group["lr"] = lr
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
            step += 1
            steps_done += 1
            ep_seen += len(yb)
            if stop.is_set():
                break
            # The job's first step reports at once (the page shows life within a step of Start), then every
            # REPORT_EVERY_S and at the end of each epoch.
            if steps_done == 1 or t6 - last_report >= REPORT_EVERY_S or i == per_epoch - 1:
                seen_loss, seen_correct = ep_loss.item(), int(ep_correct.item())  # the one host-device sync
                if not math.isfinite(seen_loss):
                    return fail(f"the training loss became {seen_loss} at step {step} (learning rate {lr:.3g}); "
                                "lower the learning rate or turn on gradient clipping")
                now = time.perf_counter()
                k = ep_seen - win_seen
                emit(Progress(step, epoch + (i + 1) / per_epoch, (seen_loss - win_loss) / k,
                              (seen_correct - win_correct) / k, lr,
                              (step - last_step) * b / max(now - last_report, 1e-9),
                              (total - step) * (now - t_start) / steps_done, ran_on))
                win_loss, win_correct, win_seen, last_report, last_step = seen_loss, seen_correct, ep_seen, now, step
        if stop.is_set():
            emit(Finished(step, epoch, "stopped", best_acc))
            return

        t0 = time.perf_counter()
        if ema is not None:
            ema.sync_buffers(model)
        val_loss, val_acc, confusion, preds = evaluate(ema.model if ema else model, x_va, y_va, data.num_classes)
        timings["evaluate"] = time.perf_counter() - t0
        if not math.isfinite(val_loss):
            return fail(f"the validation loss became {val_loss} after epoch {epoch + 1}; lower the learning rate "
                        "or turn on gradient clipping")
        best_acc = max(best_acc, val_acc)
        if val_loss < best_loss - 1e-4:
            best_loss, bad_epochs = val_loss, 0
        else:
            bad_epochs += 1

        t0 = time.perf_counter()
        blob = save_checkpoint(spec, model, step=step, epoch=epoch + 1, config=cfg.to_dict(),
                               optimizer=opt.state_dict(), ema=ema.model.state_dict() if ema else None,
                               rng=g.get_state(),
                               extra=dict(val_acc=val_acc, best_val_acc=best_acc, best_val_loss=best_loss,
                                          bad_epochs=bad_epochs, ema_updates=ema.updates if ema else 0))
        on_checkpoint(blob)
        ckpt_step = step
        timings["checkpoint"] = time.perf_counter() - t0
        emit(Evaluation(step, epoch + 1, ep_loss.item() / ep_seen, ep_correct.item() / ep_seen, val_loss, val_acc,
                        confusion, preds, timings))
        emit(Checkpoint(step, epoch + 1, len(blob), val_acc))
        if cfg.patience and bad_epochs >= cfg.patience:
            emit(Finished(step, epoch + 1, "early stopping", best_acc))
            return
        if stop.is_set():
            emit(Finished(step, epoch + 1, "stopped", best_acc))
            return
    emit(Finished(step, cfg.epochs, "done", best_acc))
