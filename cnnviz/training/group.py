"""A whole class trains at once: compatible trainings (:func:`group_key`) run as one computation per step.

Each member is a solo run (:class:`cnnviz.training.loop.Run`: its own seeded model, ``torch.optim`` optimizer,
loss, EMA, generator, checkpoints and events). Per step the group stacks the members' weights and BatchNorm
buffers (``torch.stack`` inside the autograd graph, so each member's gradient lands on its own weights) and runs
one ``torch.func.vmap``-ed ``functional_call`` forward and one backward for all of them; everything after the
gradient (clipping, the optimizer step, EMA, evaluation, checkpoints, early stopping, Stop) is the member's own,
done with the solo loop's pieces. The data order and augmentation draw from the member's own generator in the
solo order, so a member's numbers are those of the same config trained alone, up to floating-point rounding of
the batched convolutions. A member that stops, fails, stops early or has run its epochs leaves the group; the
others go on with one member less.

What must match to share the computation is :func:`group_key`: model and width, the data's shapes, batch size,
optimizer kind and the mixed-precision mode used. :func:`plan_groups` partitions configs by key and splits a
key's members into groups that fit the memory limit (:mod:`.budget`); :func:`train_group` refuses a group that
does not fit, before anything is allocated."""
from __future__ import annotations

import contextlib
import copy
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import torch
from torch.func import functional_call, vmap

from cnnviz.architecture.models import build_model
from cnnviz.device import describe, pick_device
from cnnviz.errors import ConfigError
from cnnviz.jobs.events import STAGES, Failed, Finished
from cnnviz.training.budget import MAX_GROUP_SIZE, check_group_memory, group_limit, group_member_bytes, group_need
from cnnviz.training.live import Watcher
from cnnviz.training.loop import EVAL_BATCH, REPORT_EVERY_S, Run, Window, end_epoch, get_data, prepare, report, set_lr
from cnnviz.training.steps import amp_mode, augment, epoch_order

if TYPE_CHECKING:
    from cnnviz.training.recipe import TrainConfig


@dataclass(frozen=True)
class GroupJob:
    """One member as a runner hands it over: the config and the job's own ``emit``, ``stop`` and ``keep``
    (the same three a solo ``TrainConfig.run`` gets)."""

    cfg: TrainConfig
    emit: Callable
    stop: threading.Event = field(default_factory=threading.Event)
    keep: Callable[[bytes], None] = lambda blob: None


def _data_key(cfg: TrainConfig) -> tuple:
    if cfg.data is not None:  # an in-memory set: its shapes (what the computation depends on)
        d = cfg.data
        return ("shapes", tuple(d.x_train.shape[1:]), d.num_classes, len(d.y_train), len(d.y_val))
    return ("named", cfg.dataset, cfg.n)  # an offline set: its name and size fix its shapes, whatever the seed


def group_key(cfg: TrainConfig, device: torch.device | str | None = None) -> tuple:
    """What fixes the shapes and precision of a training's computation; configs with equal keys can train as one
    group. Everything else (seed, learning rate and schedule, weight decay, momentum, label smoothing, the
    augmentations, EMA, clipping, early stopping, class balance, epochs, resume) stays per member."""
    amp_used = amp_mode(cfg.amp, torch.device(device) if device is not None else pick_device())[0]
    return (cfg.model, cfg.width, _data_key(cfg), cfg.batch_size, cfg.optimizer, amp_used)


def _estimate(cfg: TrainConfig, data) -> tuple[int, int]:
    """(bytes of one member, bytes of its data set) for a config, from a model on the CPU (a few KB to MB)."""
    model = build_model(cfg.model, data.in_channels, data.num_classes, data.size, width=cfg.width)
    member = group_member_bytes(model, tuple(data.x_train.shape[1:]), cfg.batch_size, min(EVAL_BATCH, len(data.y_val)))
    data_bytes = sum(t.numel() * t.element_size() for t in (data.x_train, data.y_train, data.x_val, data.y_val))
    return member, data_bytes


def plan_groups(configs: Sequence[TrainConfig], device=None) -> list[list[int]]:
    """Indices of ``configs`` in groups: equal :func:`group_key`, in arrival order, each group as large as the
    memory limit (:func:`cnnviz.training.budget.check_group_memory`) allows; a key's members beyond it form the
    next group. A member too large even alone is left in a group of one (its run refuses it, as a solo run would)."""
    by_key: dict[tuple, list[int]] = {}
    for i, cfg in enumerate(configs):
        by_key.setdefault(group_key(cfg, device), []).append(i)
    groups = []
    for members in by_key.values():
        member, data_bytes = _estimate(configs[members[0]], get_data(configs[members[0]]))
        chunk: list[int] = []
        for i in members:
            trial = chunk + [i]
            need = group_need(member, len(trial), data_bytes * len({_Data.key(configs[j]) for j in trial}))
            if chunk and (len(trial) > MAX_GROUP_SIZE or need > group_limit(len(trial))):
                groups.append(chunk)
                trial = [i]
            chunk = trial
        groups.append(chunk)
    return groups


class _Data:
    """The group's data sets, loaded once per distinct set (the page hands every student the same one) and moved
    to the device once, when the first member that uses it starts."""

    def __init__(self):
        self.sets, self.on_device = {}, {}

    @staticmethod
    def key(cfg: TrainConfig):
        return ("memory", id(cfg.data)) if cfg.data is not None else ("named", cfg.dataset, cfg.seed, cfg.n)

    def get(self, cfg: TrainConfig):
        k = self.key(cfg)
        if k not in self.sets:
            self.sets[k] = get_data(cfg)
        return self.sets[k]

    def tensors(self, cfg: TrainConfig, dev: torch.device) -> tuple:
        k = self.key(cfg)
        if k not in self.on_device:
            d = self.get(cfg)
            self.on_device[k] = tuple(t.to(dev) for t in (d.x_train, d.y_train, d.x_val, d.y_val))
        return self.on_device[k]


@dataclass(eq=False)
class _Member:
    job: GroupJob
    run: Run
    epoch: int = 0
    order: torch.Tensor | None = None
    win: Window = field(default_factory=Window)
    scaler: object = None
    lr: float = 0.0
    watch: Watcher | None = None  # the live first-layer snapshots, as a solo run sends them

    @property
    def cfg(self) -> TrainConfig:
        return self.run.cfg


def _loss(out: torch.Tensor, y: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
    """Per-member cross-entropy with per-member label smoothing: out (M, B, K), y (M, B), smoothing (M,) → (M,);
    ``nn.CrossEntropyLoss(label_smoothing=ε)``'s ``(1 − ε)·NLL + ε·mean over classes of −log p``."""
    logp = torch.log_softmax(out.float(), -1)
    nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(1)
    return (1 - smoothing) * nll + smoothing * (-logp.mean(-1)).mean(1)


def train_group(jobs: Sequence[GroupJob], device: torch.device | None = None) -> None:
    """Train the members of one group (equal :func:`group_key`) together, each reporting through its own
    ``emit`` exactly the events a solo run reports. Refuses (ConfigError) mixed keys and a group over the memory
    limit before allocating; a member whose own config fails to start (a bad checkpoint) gets a Failed event and
    the others train on."""
    dev = device or pick_device()
    if not jobs:
        return
    keys = {group_key(j.cfg, dev) for j in jobs}
    if len(keys) > 1:
        raise ConfigError("group", f"these runs cannot train as one group: {len(keys)} different models, data "
                          "shapes, batch sizes, optimizers or precisions")
    data = _Data()  # the first member's data set: every member's has the same shapes (the key)
    member_bytes, data_bytes = _estimate(jobs[0].cfg, data.get(jobs[0].cfg))
    check_group_memory(member_bytes, len(jobs), data_bytes * len({data.key(j.cfg) for j in jobs}))

    amp_used = amp_mode(jobs[0].cfg.amp, dev)[0]
    members: list[_Member] = []
    for job in jobs:  # the group's memory was checked as a whole, above
        try:
            run = prepare(job.cfg, dev, data.get(job.cfg), data.tensors(job.cfg, dev), check_memory=False)
        except ConfigError as err:
            job.emit(Failed(0, str(err), None))
            continue
        members.append(_Member(job, run, run.start_epoch,
                               scaler=torch.amp.GradScaler("cuda") if amp_used == "fp16" else None))
    if members:
        _train(members, dev, amp_used)


def _train(members: list[_Member], dev: torch.device, amp_used: str) -> None:
    skeleton = copy.deepcopy(members[0].run.model)  # the structure functional_call runs; weights come stacked
    names = [n for n, _ in skeleton.named_parameters()]
    buffer_names = [n for n, _ in skeleton.named_buffers()]
    amp = (torch.autocast("cuda", dtype=torch.float16 if amp_used == "fp16" else torch.bfloat16)
           if amp_used != "off" else contextlib.nullcontext())

    def forward(params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(skeleton, (params, buffers), (x,))

    batched = vmap(forward)
    ran_on = (describe(dev) + (f", AMP {amp_used}" if amp_used != "off" else "")
              + (f", with {len(members) - 1} classmates" if len(members) > 1 else ""))
    per_epoch, b = members[0].run.per_epoch, members[0].cfg.batch_size
    cuda = dev.type == "cuda"
    sample_every = 10 if cuda else 1  # as the solo loop: on CUDA a stage is timed (a synchronize) every 10th step
    sums = torch.zeros(len(members), 2, device=dev)  # per member: the epoch's summed loss and correct count
    slot = {id(m): k for k, m in enumerate(members)}
    active = [m for m in members if m.epoch < m.cfg.epochs]
    for m in members:
        if m not in active:  # a checkpoint that already ran all its epochs
            m.job.emit(Finished(m.run.step, m.cfg.epochs, "done", m.run.best_acc))
    t_start, steps_done = time.perf_counter(), 0
    timings = dict.fromkeys(STAGES, 0.0)
    per_member: tuple = ()  # (len(active), label smoothing (M,), rows of ``sums`` (M,)): redone when one leaves
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
            if not per_member or per_member[0] != len(active):
                per_member = (len(active), torch.tensor([m.cfg.label_smoothing for m in active], device=dev),
                              torch.tensor([slot[id(m)] for m in active], device=dev))
            xs, ys = [], []
            for m in active:  # the solo order of draws from each member's generator: order, then augmentation
                idx = m.order[i * b:(i + 1) * b]
                xb, yb = m.run.x_tr[idx], m.run.y_tr[idx]
                if m.cfg.augment_flip or m.cfg.augment_crop or m.cfg.augment_noise:
                    xb = augment(xb, m.cfg, m.run.g)
                xs.append(xb)
                ys.append(yb)
                m.lr = set_lr(m.run)
            x, y = torch.stack(xs), torch.stack(ys)  # (M, B, C, H, W), (M, B)
            t1 = time.perf_counter()
            params = {n: torch.stack(ps) for n, ps in zip(names, zip(*(m.run.params for m in active)))}
            buffers = {n: torch.stack(bs) for n, bs in zip(buffer_names, zip(*(list(m.run.model.buffers())
                                                                                  for m in active)))}
            with amp:
                out = batched(params, buffers, x)  # (M, B, K)
            losses = _loss(out, y, per_member[1])  # (M,)
            if timed and cuda:
                torch.cuda.synchronize()
            t2 = time.perf_counter()
            for m in active:
                m.run.opt.zero_grad(set_to_none=True)
            if amp_used == "fp16":
                torch.stack([m.scaler.scale(loss) for m, loss in zip(active, losses)]).sum().backward()
            else:
                losses.sum().backward()
            with torch.no_grad():  # BatchNorm's running statistics, updated in the stacked copy, back to each member
                for k, m in enumerate(active if buffers else ()):
                    torch._foreach_copy_(list(m.run.model.buffers()), [buf[k] for buf in buffers.values()])
            if timed and cuda:
                torch.cuda.synchronize()
            t3 = time.perf_counter()
            for m in active:
                run = m.run
                if m.scaler is not None:
                    m.scaler.unscale_(run.opt)  # clipping sees the true gradients
                if m.cfg.grad_clip:
                    torch.nn.utils.clip_grad_norm_(run.params, m.cfg.grad_clip)
                if m.scaler is not None:
                    m.scaler.step(run.opt)
                    m.scaler.update()
                else:
                    run.opt.step()
                if run.ema is not None:
                    run.ema.update()
                run.step += 1
            with torch.no_grad():
                correct = (out.argmax(-1) == y).sum(1).float()
                sums.index_add_(0, per_member[2], torch.stack([losses.detach().float() * y.shape[1], correct], 1))
            if timed and cuda:
                torch.cuda.synchronize()
            t4 = time.perf_counter()
            if timed:  # the group's time in each stage, which every member waited for
                for stage, dt in (("data", t1 - t0), ("forward", t2 - t1), ("backward", t3 - t2),
                                  ("optimizer", t4 - t3)):
                    timings[stage] += dt * sample_every
            steps_done += 1
            seen = (i + 1) * b if i < per_epoch - 1 else len(members[0].run.y_tr)
            for m in [m for m in active if m.job.stop.is_set()]:
                m.job.emit(Finished(m.run.step, m.epoch, "stopped", m.run.best_acc))
                active.remove(m)
            if active and (steps_done == 1 or t4 - active[0].win.at >= REPORT_EVERY_S or i == per_epoch - 1):
                host = sums.tolist()  # the one host-device sync
                now = time.perf_counter()
                for m in list(active):
                    loss_sum, correct_sum = host[slot[id(m)]]
                    if not report(m.run, m.win, m.epoch, i, loss_sum, int(round(correct_sum)), seen, m.lr, now,
                                  now - t_start, steps_done, ran_on, m.job.emit):
                        active.remove(m)
                    else:
                        if m.watch is None:
                            m.watch = Watcher(m.run.x_va)
                        m.watch.maybe(m.run.model, m.run.step, m.epoch + (i + 1) / per_epoch, m.job.emit,
                                      i == per_epoch - 1)
            if not active:
                return
        host = sums.tolist()
        for m in list(active):
            loss_sum, correct_sum = host[slot[id(m)]]
            seen = len(m.run.y_tr)
            ended = end_epoch(m.run, m.epoch, loss_sum / seen, correct_sum / seen, dict(timings), m.job.emit,
                              m.job.keep)
            m.epoch += 1
            if ended:
                active.remove(m)
            elif m.job.stop.is_set():
                m.job.emit(Finished(m.run.step, m.epoch, "stopped", m.run.best_acc))
                active.remove(m)
            elif m.epoch >= m.cfg.epochs:
                m.job.emit(Finished(m.run.step, m.cfg.epochs, "done", m.run.best_acc))
                active.remove(m)
