"""A training job's memory, estimated before the first batch and refused above a limit, so one student's
batch of 4096 wide images cannot take the memory the whole class shares."""
from __future__ import annotations

import os

import torch.nn as nn

from cnnviz.architecture.summary import summarize
from cnnviz.errors import ConfigError
from cnnviz.limits import MAX_GROUP_BYTES as _GROUP_BYTES, MAX_GROUP_SIZE, MiB

MAX_JOB_BYTES = int(os.environ.get("CNNVIZ_MAX_JOB_MB", "1536")) * 2 ** 20  # per job; the limiter caps the jobs
MAX_GROUP_BYTES = int(os.environ.get("CNNVIZ_MAX_GROUP_MB", str(_GROUP_BYTES // MiB))) * MiB  # per class group
OPTIMIZER_COPIES = 4  # weights, gradients and AdamW's two moments (SGD with momentum needs three)


def training_bytes(model: nn.Module, in_shape: tuple, batch_size: int, eval_batch: int) -> int:
    """An upper estimate of a job's tensors: every layer output is kept for the backward pass and gets a
    gradient of its size (2 × all layer outputs per image × batch); the evaluation pass (no gradients) holds
    about two layer outputs at a time, the largest bounding both; the optimizer keeps ``OPTIMIZER_COPIES``
    copies of the weights."""
    rows = summarize(model, in_shape).rows  # one batch-1 forward pass: a few MB at most
    train = 2 * batch_size * sum(r.activation_bytes for r in rows)
    evaluation = 2 * eval_batch * max((r.activation_bytes for r in rows), default=0)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return max(train, evaluation) + OPTIMIZER_COPIES * weights


def check_training_memory(model: nn.Module, in_shape: tuple, batch_size: int, eval_batch: int,
                          limit: int = MAX_JOB_BYTES) -> int:
    need = training_bytes(model, in_shape, batch_size, eval_batch)
    if need > limit:
        raise ConfigError("batch_size", f"this run needs about {need / 2 ** 30:.1f} GiB (batch {batch_size} × "
                          f"{need // max(1, 2 * batch_size) / 2 ** 20:.1f} MiB per image); the limit per training "
                          f"job is {limit / 2 ** 30:.1f} GiB: lower the batch size or the width")
    return need


def group_member_bytes(model: nn.Module, in_shape: tuple, batch_size: int, eval_batch: int) -> int:
    """One member of a class group: its solo estimate plus the stacked copy of its weights and that copy's
    gradient, which the group's one forward / backward pass reads and writes."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return training_bytes(model, in_shape, batch_size, eval_batch) + 2 * weights


def group_limit(size: int) -> int:
    """What a group of ``size`` members may use: the per-job limit times its size, at most ``MAX_GROUP_BYTES``."""
    return min(size * MAX_JOB_BYTES, MAX_GROUP_BYTES)


def group_need(member_bytes: int, size: int, data_bytes: int = 0) -> int:
    """A group's estimate: ``size`` members of ``member_bytes`` each, plus the data sets they hold."""
    return size * member_bytes + data_bytes


def check_group_memory(member_bytes: int, size: int, data_bytes: int = 0) -> int:
    """ConfigError("group") unless ``size`` members of ``member_bytes`` each (plus the data sets they hold,
    ``data_bytes``) fit :func:`group_limit`; checked before anything of the group is allocated."""
    if size > MAX_GROUP_SIZE:
        raise ConfigError("group", f"a class group trains at most {MAX_GROUP_SIZE} runs together, got {size}")
    if member_bytes > MAX_JOB_BYTES:
        raise ConfigError("batch_size", f"one run needs about {member_bytes / 2 ** 30:.1f} GiB; the limit per "
                          f"training job is {MAX_JOB_BYTES / 2 ** 30:.1f} GiB: lower the batch size or the width")
    need, limit = group_need(member_bytes, size, data_bytes), group_limit(size)
    if need > limit:
        raise ConfigError("group", f"{size} runs together need about {need / 2 ** 30:.1f} GiB, above the group "
                          f"limit of {limit / 2 ** 30:.1f} GiB: train them in smaller groups")
    return need
