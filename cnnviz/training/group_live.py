"""The class group's live snapshots (:mod:`cnnviz.training.live`): every member due for one (its own
:class:`~cnnviz.training.live.Watcher`'s clock and count) gets it from one grouped convolution of the members'
first layers over their fixed validation images, instead of one eval-mode forward pass per member. Where the
first conv layer is not the network's first layer (a network built in the Architecture Lab) each member's
watcher takes its own snapshot, as a solo run does."""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.training.live import (IMAGE, MAX_IN_CHANNELS, MAX_KERNEL_SIDE, MAX_KERNELS, MAX_MAPS, MAX_SIDE,
                                  LiveSnapshot, Watcher, first_conv)

_FIRST = {TinyVGG: "features.0", SmallResNet: "stem.0"}  # the first conv layer reads the input image directly


def snapshots(members: list, leaves: dict, epoch_of, end_of_epoch: bool, skip=()) -> None:
    """Send each due member (``.watch``, ``.run``, ``.job.emit``) but those in ``skip`` its snapshot;
    ``epoch_of(member)`` is its fractional epoch; ``leaves`` the group's stacked parameters (rows in ``members``
    order)."""
    members_ok = [m for m in members if m not in skip]
    for m in members_ok:
        if m.watch is None:
            m.watch = Watcher(m.run.x_va)
    model = members[0].run.model
    found = first_conv(model)
    if found is None or _FIRST.get(type(model)) != found[0]:
        for m in members_ok:
            m.watch.maybe(m.run.model, m.run.step, epoch_of(m), m.job.emit, end_of_epoch)
        return
    now = time.perf_counter()
    due = [k for k, m in enumerate(members) if m not in skip and m.watch.sent < m.watch.limit and len(m.watch.x) and (
        end_of_epoch or now - m.watch.at >= m.watch.every_s)]
    if not due:
        return
    name, conv = found
    rows = torch.tensor(due, device=leaves[f"{name}.weight"].device)
    with torch.no_grad():
        w = leaves[f"{name}.weight"].detach().index_select(0, rows)  # (D, O, C, k, k)
        bias = leaves.get(f"{name}.bias")
        bias = None if bias is None else bias.detach().index_select(0, rows).reshape(-1)
        x = torch.cat([members[k].watch.x for k in due], 1).to(w.device, w.dtype)  # (1, D·C, H, W)
        out = F.conv2d(x, w.reshape(-1, *w.shape[2:]), bias, conv.stride, conv.padding, conv.dilation,
                       conv.groups * len(due))
        out = out.view(len(due), -1, *out.shape[2:]).float()  # (D, O, H', W')
        maps = out[:, :MAX_MAPS]
        if max(maps.shape[-2:]) > MAX_SIDE:
            maps = F.adaptive_avg_pool2d(maps, (min(MAX_SIDE, maps.shape[-2]), min(MAX_SIDE, maps.shape[-1])))
        kernels = (w[:, :MAX_KERNELS, :MAX_IN_CHANNELS].float().cpu().numpy()
                   if max(w.shape[-2:]) <= MAX_KERNEL_SIDE else None)
        maps = maps.cpu().numpy()
    shape = tuple(out.shape[1:])
    for j, k in enumerate(due):
        m = members[k]
        ker = kernels[j].copy() if kernels is not None else _no_kernels()
        m.job.emit(LiveSnapshot(int(m.run.step), float(epoch_of(m)), name, ker, maps[j].copy(), IMAGE, shape))
        m.watch.sent, m.watch.at = m.watch.sent + 1, now


def _no_kernels():
    import numpy as np
    return np.zeros((0, 0, 0, 0), np.float32)

