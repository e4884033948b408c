"""The class group's loop: per step every member's batch (:func:`.group_data.group_batch`), one grouped forward
(:class:`.group_forward.GroupedForward`) and backward for all members, and one vectorised clip / optimizer / EMA
step on the stacked state (:class:`.group_state.GroupState`); per epoch one grouped evaluation of every member
(its EMA weights where it has an EMA), then each member's own end of epoch (checkpoint, events, early stopping,
:func:`cnnviz.training.epoch.end_epoch`). A member that stops, fails, stops early or has run its epochs leaves;
the state is then rebuilt from the members that remain (their modules and exported optimizer states)."""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from cnnviz.device import describe
from cnnviz.jobs.events import STAGES, Finished
from cnnviz.training.epoch import Window, end_epoch, report
from cnnviz.training.group_data import group_batch
from cnnviz.training.group_forward import GroupedForward
from cnnviz.training.group_live import snapshots
from cnnviz.training.group_parts import Parts, part_count
from cnnviz.training.group_state import GroupState
from cnnviz.training.loop import REPORT_EVERY_S, Run, set_lr
from cnnviz.training.steps import epoch_order
from cnnviz.training.validation import EVAL_BATCH, N_PREDICTIONS

STEP_OVER_FORWARD = 3.0  # a training step ≈ this many forward passes (backward ≈ 2×): the first point's pace


@dataclass(eq=False)
class Member:
    job: object  # the GroupJob: cfg, emit, stop, keep
    run: Run
    epoch: int = 0
    order: torch.Tensor | None = None
    win: Window = field(default_factory=Window)
    watch: object = None  # its live.Watcher: the first-layer snapshots, as a solo run sends them

    @property
    def cfg(self):
        return self.run.cfg


def group_loss(out: torch.Tensor, y: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
    """Per-member cross-entropy with per-member label smoothing: out (M, B, K), y (M, B), smoothing (M,) → (M,);
    ``nn.CrossEntropyLoss(label_smoothing=ε)``'s ``(1 − ε)·NLL + ε·mean over classes of −log p``."""
    logp = torch.log_softmax(out.float(), -1)
    nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(1)
    return (1 - smoothing) * nll + smoothing * (-logp.mean(-1)).mean(1)


@torch.no_grad()
def evaluate_group(fwd: GroupedForward, state: GroupState, runs: list, num_classes: int,
                   rows: slice = slice(None)) -> list[tuple]:
    """:func:`cnnviz.training.validation.evaluate` of every member at once (its EMA weights where on, the
    model's BatchNorm statistics): one (loss, accuracy, confusion, first predictions) per member (of ``rows``)."""
    params = {name: v[rows] for name, v in state.eval_leaves().items()}
    buffers = {name: v[rows] for name, v in state.buffers.items()}
    runs = runs[rows]
    m, k = len(runs), num_classes
    same = all(r.x_va is runs[0].x_va for r in runs)
    n = len(runs[0].y_va)
    y = runs[0].y_va.expand(m, n) if same else torch.stack([r.y_va for r in runs])
    loss, preds = torch.zeros(m, device=y.device), []
    for i in range(0, n, EVAL_BATCH):
        x = (runs[0].x_va[i:i + EVAL_BATCH].expand(m, *runs[0].x_va[i:i + EVAL_BATCH].shape) if same else
             torch.stack([r.x_va[i:i + EVAL_BATCH] for r in runs]))
        out = fwd(params, buffers, x, training=False).float()  # (M, b, K)
        yb = y[:, i:i + EVAL_BATCH]
        loss += F.cross_entropy(out.reshape(-1, k), yb.reshape(-1), reduction="none").view(m, -1).sum(1)
        preds.append(out.argmax(-1))
    pred = torch.cat(preds, 1)  # (M, N)
    cells = (torch.arange(m, device=y.device).view(-1, 1) * k * k + y * k + pred).reshape(-1)
    confusion = torch.bincount(cells, minlength=m * k * k).view(m, k, k).cpu().tolist()
    acc = (pred == y).float().mean(1).tolist()
    losses, firsts = (loss / n).tolist(), pred[:, :N_PREDICTIONS].cpu().tolist()
    return [(losses[j], acc[j], confusion[j], firsts[j]) for j in range(m)]


def first_point(active: list[Member], out: torch.Tensor, y: torch.Tensor, losses: torch.Tensor, i: int,
                t_start: float, ran_on: str) -> bool:
    """The first curve point as soon as the run's first forward pass has its loss and accuracy (the numbers the
    point after the whole step would report), before the backward pass and the update (two thirds of a step):
    a class group's students see it sooner. Its time figures are scaled to a whole step (STEP_OVER_FORWARD).
    False (nothing sent) when a loss is not finite: the step's own report says so."""
    with torch.no_grad():
        host = torch.stack([losses.detach().float() * y.shape[1], (out.argmax(-1) == y).sum(1).float()], 1).tolist()
    if not all(math.isfinite(loss) for loss, _ in host):
        return False
    now = time.perf_counter()
    whole = t_start + (now - t_start) * STEP_OVER_FORWARD
    for k, m in enumerate(active):
        m.run.step += 1  # the point of step 1, as the solo run labels it
        try:
            report(m.run, m.win, m.epoch, i, host[k][0], int(round(host[k][1])), (i + 1) * y.shape[1],
                   m.run.opt.param_groups[0]["lr"], whole, whole - t_start, 1, ran_on, m.job.emit)
        finally:
            m.run.step -= 1
        m.win.at = now
    return True


def train_members(members: list[Member], dev: torch.device, amp_used: str) -> None:
    """Train ``members`` to their ends; on a CPU with several threads the step runs in parts (:mod:`.group_parts`)."""
    with Parts(members[0].run.model, part_count(dev, len(members), amp_used)) as parts:
        _train(members, dev, amp_used, parts)


def _train(members: list[Member], dev: torch.device, amp_used: str, parts: Parts) -> None:
    fwd = GroupedForward(members[0].run.model)
    amp = (torch.autocast("cuda", dtype=torch.float16 if amp_used == "fp16" else torch.bfloat16)
           if amp_used != "off" else contextlib.nullcontext())
    ran_on = (describe(dev) + (f", AMP {amp_used}" if amp_used != "off" else "")
              + (f", with {len(members) - 1} classmate{'s' if len(members) > 2 else ''}" if len(members) > 1 else ""))
    per_epoch, b, num_classes = members[0].run.per_epoch, members[0].cfg.batch_size, members[0].run.data.num_classes
    cuda = dev.type == "cuda"
    sample_every = 10 if cuda else 1  # as the solo loop: on CUDA a stage is timed (a synchronize) every 10th step
    active = [m for m in members if m.epoch < m.cfg.epochs]
    for m in members:
        if m not in active:  # a checkpoint that already ran all its epochs
            m.job.emit(Finished(m.run.step, m.cfg.epochs, "done", m.run.best_acc))
    t_start, steps_done = time.perf_counter(), 0
    timings = dict.fromkeys(STAGES, 0.0)
    state, smoothing, sums = None, None, None

    def restack():  # the stacked state of the members still training
        nonlocal state, smoothing, sums
        old = state
        if old is not None:
            old.export()
        state = GroupState([m.run for m in active], dev, amp_used == "fp16", old.scaler_state() if old else None)
        smoothing = torch.tensor([m.cfg.label_smoothing for m in active], device=dev)
        new_sums = torch.zeros(len(active), 2, device=dev)
        if old is not None and sums is not None:  # the epoch's sums so far, for the members that remain
            keep = [old.runs.index(m.run) for m in active]
            new_sums.copy_(sums[keep])
        sums = new_sums

    def leave(gone: list[Member]) -> None:
        for m in gone:
            active.remove(m)
        if gone and active:
            restack()

    if active:
        restack()
    while active:
        for i in range(per_epoch):
            if i == 0:
                timings = dict.fromkeys(STAGES, 0.0)
                sums.zero_()
                for m in active:
                    m.run.model.train()
                    m.order = epoch_order(m.run.y_tr, m.cfg.balanced, m.run.g)
                    m.win = Window(at=time.perf_counter(), step=m.run.step)
            timed = steps_done % sample_every == 0
            if timed and cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            x, y = group_batch([m.run for m in active], [m.order for m in active], i, b)
            lrs = [set_lr(m.run) for m in active]
            t1 = time.perf_counter()
            if parts.n > 1:  # out and losses detached: each part keeps its own graph for its backward
                out, losses = parts.forward(state, x, y, smoothing, group_loss)
            else:
                with amp:
                    out = fwd(state.leaves, state.buffers, x)  # (M, B, K)
                losses = group_loss(out, y, smoothing)  # (M,)
            early = steps_done == 0 and i < per_epoch - 1 and first_point(active, out, y, losses, i, t_start, ran_on)
            if timed and cuda:
                torch.cuda.synchronize()
            t2 = time.perf_counter()
            if parts.n > 1:
                parts.backward(state)
            else:
                state.backward(losses)
            if timed and cuda:
                torch.cuda.synchronize()
            t3 = time.perf_counter()
            state.step(lrs)
            for m in active:
                m.run.step += 1
            with torch.no_grad():
                correct = (out.argmax(-1) == y).sum(1).float()
                sums += torch.stack([losses.detach().float() * y.shape[1], correct], 1)
            if timed and cuda:
                torch.cuda.synchronize()
            t4 = time.perf_counter()
            if timed:  # the group's time in each stage, which every member waited for
                for stage, dt in (("data", t1 - t0), ("forward", t2 - t1), ("backward", t3 - t2),
                                  ("optimizer", t4 - t3)):
                    timings[stage] += dt * sample_every
            steps_done += 1
            seen = (i + 1) * b if i < per_epoch - 1 else len(members[0].run.y_tr)
            stopped = [m for m in active if m.job.stop.is_set()]
            for m in stopped:
                m.job.emit(Finished(m.run.step, m.epoch, "stopped", m.run.best_acc))
            leave(stopped)
            due = steps_done == 1 or t4 - active[0].win.at >= REPORT_EVERY_S or i == per_epoch - 1 if active else False
            if due and not (early and steps_done == 1):  # step 1's point went out after its forward pass
                host = sums.tolist()  # the one host-device sync
                now = time.perf_counter()
                failed = []
                for k, m in enumerate(active):
                    loss_sum, correct_sum = host[k]
                    if not report(m.run, m.win, m.epoch, i, loss_sum, int(round(correct_sum)), seen,
                                  m.run.opt.param_groups[0]["lr"], now, now - t_start, steps_done, ran_on, m.job.emit):
                        failed.append(m)
                snapshots(active, state.leaves, lambda m: m.epoch + (i + 1) / per_epoch, i == per_epoch - 1,
                          failed)
                leave(failed)
            if not active:
                return
        host = sums.tolist()
        t0 = time.perf_counter()
        state.export()  # each member's optimizer state in torch.optim form, for its checkpoint
        results = (parts.evaluate(state, num_classes, evaluate_group) if parts.n > 1 else
                   evaluate_group(fwd, state, state.runs, num_classes))
        timings["evaluate"] = time.perf_counter() - t0
        gone = []
        for k, m in enumerate(active):
            loss_sum, correct_sum = host[k]
            seen = len(m.run.y_tr)
            ended = end_epoch(m.run, m.epoch, loss_sum / seen, correct_sum / seen, dict(timings), m.job.emit,
                              m.job.keep, results[k])
            m.epoch += 1
            if ended:
                gone.append(m)
            elif m.job.stop.is_set():
                m.job.emit(Finished(m.run.step, m.epoch, "stopped", m.run.best_acc))
                gone.append(m)
            elif m.epoch >= m.cfg.epochs:
                m.job.emit(Finished(m.run.step, m.cfg.epochs, "done", m.run.best_acc))
                gone.append(m)
        leave(gone)

