"""A run's curve point (:func:`report`) and the end of its epoch (:func:`end_epoch`: evaluate, checkpoint,
early stopping), shared by the solo loop (:mod:`cnnviz.training.loop`) and a class group
(:mod:`cnnviz.training.group`, which evaluates all its members in one pass and hands each its numbers)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from cnnviz.jobs.events import Checkpoint, Evaluation, Failed, Finished, Progress
from cnnviz.training.checkpoint import save_checkpoint
from cnnviz.training.validation import evaluate

if TYPE_CHECKING:
    from cnnviz.training.loop import Run


@dataclass
class Window:
    """The steps since a run's last curve point: a Progress reports their mean loss and accuracy."""

    loss: float = 0.0   # the epoch's summed loss and correct count at the last report
    correct: int = 0
    seen: int = 0
    at: float = 0.0     # perf_counter of the last report
    step: int = 0


def report(run: Run, win: Window, epoch: int, i: int, seen_loss: float, seen_correct: int, ep_seen: int,
           lr: float, now: float, elapsed: float, steps_done: int, ran_on: str, emit: Callable) -> bool:
    """Emit the curve point after step ``i`` of ``epoch`` (sums over the epoch so far); False (and a Failed
    event) when the loss is no longer finite."""
    if not math.isfinite(seen_loss):
        emit(Failed(run.step, f"the training loss became {seen_loss} at step {run.step} (learning rate {lr:.3g}); "
                    "lower the learning rate or turn on gradient clipping", run.ckpt_step))
        return False
    k = ep_seen - win.seen
    emit(Progress(run.step, epoch + (i + 1) / run.per_epoch, (seen_loss - win.loss) / k,
                  (seen_correct - win.correct) / k, lr,
                  (run.step - win.step) * run.cfg.batch_size / max(now - win.at, 1e-9),
                  (run.total - run.step) * elapsed / steps_done, ran_on))
    win.loss, win.correct, win.seen, win.at, win.step = seen_loss, seen_correct, ep_seen, now, run.step
    return True


def end_epoch(run: Run, epoch: int, train_loss: float, train_acc: float, timings: dict, emit: Callable,
              on_checkpoint: Callable[[bytes], None], evaluation: tuple | None = None) -> str | None:
    """After epoch ``epoch`` (0-based): evaluate (the EMA model when on), checkpoint, report; the reason the run
    ends here ("early stopping", or "failed" after a Failed event), else None. ``evaluation`` is
    :func:`cnnviz.training.validation.evaluate`'s result when the caller already has it (a class group)."""
    t0 = time.perf_counter()
    ema = run.ema
    if ema is not None:
        ema.sync_buffers(run.model)
    val_loss, val_acc, confusion, preds = evaluation or evaluate(ema.model if ema else run.model, run.x_va,
                                                                 run.y_va, run.data.num_classes)
    if evaluation is None:
        timings["evaluate"] = time.perf_counter() - t0
    if not math.isfinite(val_loss):
        emit(Failed(run.step, f"the validation loss became {val_loss} after epoch {epoch + 1}; lower the learning "
                    "rate or turn on gradient clipping", run.ckpt_step))
        return "failed"
    run.best_acc = max(run.best_acc, val_acc)
    if val_loss < run.best_loss - 1e-4:
        run.best_loss, run.bad_epochs = val_loss, 0
    else:
        run.bad_epochs += 1

    t0 = time.perf_counter()
    blob = save_checkpoint(run.spec, run.model, step=run.step, epoch=epoch + 1, config=run.cfg.to_dict() | {"stack": ""},
                           optimizer=run.opt.state_dict(), ema=ema.model.state_dict() if ema else None,
                           rng=run.g.get_state(),
                           extra=dict(val_acc=val_acc, best_val_acc=run.best_acc, best_val_loss=run.best_loss,
                                      bad_epochs=run.bad_epochs, ema_updates=ema.updates if ema else 0))
    on_checkpoint(blob)
    run.ckpt_step = run.step
    timings["checkpoint"] = time.perf_counter() - t0
    emit(Evaluation(run.step, epoch + 1, train_loss, train_acc, val_loss, val_acc, confusion, preds, timings))
    emit(Checkpoint(run.step, epoch + 1, len(blob), val_acc))
    if run.cfg.patience and run.bad_epochs >= run.cfg.patience:
        emit(Finished(run.step, epoch + 1, "early stopping", run.best_acc))
        return "early stopping"
    return None
