"""Watch the network learn: at a training run's reports, its first conv layer's kernels and that layer's feature
maps of one fixed validation image, as a small event in the run's stream (:class:`LiveSnapshot`).

Bounded in size and in count, so a long run's stream stays small: at most ``MAX_KERNELS`` kernels (of at most
``MAX_IN_CHANNELS`` input channels), ``MAX_MAPS`` maps averaged down to at most ``MAX_SIDE``² pixels, float32; one
snapshot per ``EVERY_S`` seconds, and one at each epoch's end, ``MAX_SNAPSHOTS`` per job at most. Taking one costs a forward pass of one image in eval mode (BatchNorm's running statistics,
no dropout), and nothing changes in the run: the model's mode comes back, the weights and random generators are
untouched."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_KERNELS = 32      # first-layer kernels sent (the first ones by output channel)
MAX_IN_CHANNELS = 3   # input channels of each kernel sent (grey or RGB)
MAX_KERNEL_SIDE = 11  # a larger first kernel is not sent (the snapshot says so by sending none)
MAX_MAPS = 16         # feature maps of the fixed image sent
MAX_SIDE = 16         # each map average-pooled to at most this many pixels a side
EVERY_S = 1.0         # at most one snapshot per second of training
MAX_SNAPSHOTS = 120   # per job: after this many the run sends no more (the last one stays on the page)
IMAGE = 0             # the fixed validation image: the first one


@dataclass(frozen=True)
class LiveSnapshot:
    """The first conv layer at one report: ``kernels`` (K, C, k, k) and ``maps`` (M, h, w) of validation image
    ``image`` (float32 arrays), with the layer's module name and its full output shape."""
    step: int
    epoch: float
    layer: str
    kernels: np.ndarray
    maps: np.ndarray
    image: int = IMAGE
    out_shape: tuple = ()


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d] | None:
    """The model's first ``Conv2d`` in module order (the input layer of every cnnviz model), or None."""
    return next(((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), None)


@torch.no_grad()
def snapshot(model: nn.Module, x: torch.Tensor, step: int, epoch: float, image: int = IMAGE) -> LiveSnapshot | None:
    """The first conv layer's kernels and its output for ``x`` (1, C, H, W), bounded as the module says; None
    for a model without a 2-D conv."""
    found = first_conv(model)
    if found is None:
        return None
    name, conv = found
    w = conv.weight.detach()  # (out, in/groups, k, k)
    kernels = (w[:MAX_KERNELS, :MAX_IN_CHANNELS].float().cpu().numpy().copy()
               if max(w.shape[-2:]) <= MAX_KERNEL_SIDE else np.zeros((0, 0, 0, 0), np.float32))
    seen = {}
    hook = conv.register_forward_hook(lambda m, i, o: seen.setdefault("out", o.detach()))
    was = model.training
    try:
        model.eval()
        model(x.to(w.device, w.dtype))
    finally:
        hook.remove()
        model.train(was)
    out = seen["out"][0].float()  # (C_out, H, W)
    maps = out[:MAX_MAPS]
    if max(maps.shape[-2:]) > MAX_SIDE:
        maps = F.adaptive_avg_pool2d(maps[None], (min(MAX_SIDE, maps.shape[-2]), min(MAX_SIDE, maps.shape[-1])))[0]
    return LiveSnapshot(int(step), float(epoch), name, kernels, maps.cpu().numpy().copy(), image, tuple(out.shape))


class Watcher:
    """One run's snapshots: when to send the next (``EVERY_S``, ``MAX_SNAPSHOTS``) and the fixed image."""

    def __init__(self, x_val: torch.Tensor, every_s: float = EVERY_S, limit: int = MAX_SNAPSHOTS):
        self.x = x_val[IMAGE:IMAGE + 1]  # (1, C, H, W)
        self.every_s, self.limit, self.sent, self.at = every_s, limit, 0, -float("inf")

    def maybe(self, model: nn.Module, step: int, epoch: float, emit, end_of_epoch: bool = False) -> bool:
        """Send a snapshot now if it is time (or the epoch ends) and the count allows; whether one was sent."""
        now = time.perf_counter()
        if self.sent >= self.limit or not len(self.x) or (now - self.at < self.every_s and not end_of_epoch):
            return False
        snap = snapshot(model, self.x, step, epoch)
        if snap is None:
            self.sent = self.limit  # no conv layer: nothing to watch
            return False
        emit(snap)
        self.sent, self.at = self.sent + 1, now
        return True


def latest(events) -> LiveSnapshot | None:
    """The last snapshot among a run's events."""
    return next((e for e in reversed(list(events)) if isinstance(e, LiveSnapshot)), None)
