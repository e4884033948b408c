"""A whole class trains at once: compatible trainings (:func:`group_key`) run as one computation per step.

Each member is a solo run (:class:`cnnviz.training.loop.Run`: its own seeded model, loss, EMA, generator,
checkpoints and events). The group keeps the members' weights, optimizer states and EMAs stacked as the source of
truth (:mod:`.group_state`; each member's own module's parameters are views of its row), runs one grouped forward
and backward for all members per step (:mod:`.group_forward`: grouped convolutions in channels-last memory for
the preset models' layers, ``torch.func.vmap`` for anything else), one vectorised clip / AdamW or SGD / EMA step
with per-member hyper-parameters, and one grouped evaluation per epoch (:mod:`.group_train`). The data order and
augmentation draw from the member's own generator in the solo order (:mod:`.group_data`), so a member's numbers
are those of the same config trained alone, up to floating-point rounding of the batched arithmetic. A member
that stops, fails, stops early or has run its epochs leaves the group; the others go on with one member less.

What must match to share the computation is :func:`group_key`: model and width (and a built network's stack),
the data's shapes, batch size, optimizer kind and the mixed-precision mode used. :func:`plan_groups` partitions
configs by key and splits a key's members into groups that fit the memory limit (:mod:`.budget`);
:func:`train_group` refuses a group that does not fit, before anything is allocated."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import torch

from cnnviz.architecture.models import build_model
from cnnviz.device import pick_device
from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Failed
from cnnviz.training.budget import MAX_GROUP_SIZE, check_group_memory, group_limit, group_member_bytes, group_need
from cnnviz.training.built_model import BUILT, build_network, built_spec, parse_stack
from cnnviz.training.group_data import GroupData
from cnnviz.training.group_train import Member, train_members
from cnnviz.training.loop import EVAL_BATCH, prepare
from cnnviz.training.steps import amp_mode

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
    return (cfg.model, cfg.width, cfg.stack if cfg.model == BUILT else "", _data_key(cfg), cfg.batch_size,
            cfg.optimizer, amp_used)


def _estimate(cfg: TrainConfig, data) -> tuple[int, int]:
    """(bytes of one member, bytes of its data set) for a config, from a model on the CPU (a few KB to MB)."""
    if cfg.model == BUILT:
        layers, in_shape = parse_stack(cfg.stack)
        spec = built_spec(layers, in_shape, data.classes)
        model = build_network(spec["model"], spec["kwargs"], spec["stack"])
    else:
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
    groups, data = [], GroupData()
    for members in by_key.values():
        member, data_bytes = _estimate(configs[members[0]], data.get(configs[members[0]]))
        chunk: list[int] = []
        for i in members:
            trial = chunk + [i]
            need = group_need(member, len(trial), data_bytes * len({data.key(configs[j]) for j in trial}))
            if chunk and (len(trial) > MAX_GROUP_SIZE or need > group_limit(len(trial))):
                groups.append(chunk)
                trial = [i]
            chunk = trial
        groups.append(chunk)
    return groups


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
    data = GroupData()  # the first member's data set: every member's has the same shapes (the key)
    member_bytes, data_bytes = _estimate(jobs[0].cfg, data.get(jobs[0].cfg))
    check_group_memory(member_bytes, len(jobs), data_bytes * len({data.key(j.cfg) for j in jobs}))

    amp_used = amp_mode(jobs[0].cfg.amp, dev)[0]
    members: list[Member] = []
    for job in jobs:  # the group's memory was checked as a whole, above
        try:
            run = prepare(job.cfg, dev, data.get(job.cfg), data.tensors(job.cfg, dev), check_memory=False)
        except ConfigError as err:
            job.emit(Failed(0, str(err), None))
            continue
        members.append(Member(job, run, run.start_epoch))
    if members:
        train_members(members, dev, amp_used)


