"""A class group's data: each distinct data set loaded and moved to the device once (:class:`GroupData`, keyed
by the data's content, so equal sets that reached the worker as separate copies count once), and one step's
batches of all members at once (:func:`group_batch`): each member's indices and random augmentation drawn from
its own generator in the solo loop's order (:func:`cnnviz.training.steps.augment`: flip, crop, noise), the
arithmetic done once for the whole ``(M, B, C, H, W)`` stack."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from cnnviz.training.recipe import TrainConfig


def fingerprint(data) -> str:
    """A digest of an in-memory data set's tensors (shapes, dtypes and bytes) and class names."""
    h = hashlib.blake2b(digest_size=16)
    for t in (data.x_train, data.y_train, data.x_val, data.y_val):
        t = t.detach().cpu().contiguous()
        h.update(f"{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    h.update(repr(getattr(data, "classes", ())).encode())
    return h.hexdigest()


class GroupData:
    """The group's data sets, loaded once per distinct set and moved to the device once."""

    def __init__(self):
        self.sets, self.on_device, self._prints = {}, {}, {}

    def key(self, cfg: TrainConfig) -> tuple:
        if cfg.data is None:
            return ("named", cfg.dataset, cfg.seed, cfg.n)
        ident = id(cfg.data)
        if ident not in self._prints:  # the object is kept alive in ``sets`` or by its config meanwhile
            self._prints[ident] = (fingerprint(cfg.data), cfg.data)
        return ("memory", self._prints[ident][0])

    def get(self, cfg: TrainConfig):
        from cnnviz.training.loop import get_data
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


def group_batch(runs: list, orders: list, i: int, b: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Step ``i``'s images ``(M, B, C, H, W)`` (augmented) and labels ``(M, B)`` of every member."""
    idx = [o[i * b:(i + 1) * b] for o in orders]
    if all(r.x_tr is runs[0].x_tr for r in runs):  # one data set: one gather
        rows = torch.stack(idx)
        x, y = runs[0].x_tr[rows], runs[0].y_tr[rows]
    else:
        x = torch.stack([r.x_tr[j] for r, j in zip(runs, idx)])
        y = torch.stack([r.y_tr[j] for r, j in zip(runs, idx)])
    return augment_group(x, [r.cfg for r in runs], [r.g for r in runs]), y


def augment_group(x: torch.Tensor, cfgs: list, gens: list) -> torch.Tensor:
    """:func:`cnnviz.training.steps.augment` of each member's batch ``x[k]`` with its config and generator: the
    same random draws from each generator in the same order, applied to the whole stack."""
    m, b, c, h, w = x.shape
    dev = x.device
    flips, crops, noises = {}, {}, {}
    for k, (cfg, g) in enumerate(zip(cfgs, gens)):
        if cfg.augment_flip:
            flips[k] = torch.rand(b, device=dev, generator=g) < 0.5
        if cfg.augment_crop:
            crops[k] = (torch.randint(0, 2 * cfg.augment_crop + 1, (b, 1), device=dev, generator=g),
                        torch.randint(0, 2 * cfg.augment_crop + 1, (b, 1), device=dev, generator=g))
        if cfg.augment_noise:
            noises[k] = torch.randn((b, c, h, w), device=dev, generator=g)
    if flips:
        mask = torch.zeros(m, b, dtype=torch.bool, device=dev)
        mask[list(flips)] = torch.stack(list(flips.values()))
        x = torch.where(mask.view(m, b, 1, 1, 1), x.flip(4), x)
    for pad in sorted({cfgs[k].augment_crop for k in crops}):
        rows = [k for k in crops if cfgs[k].augment_crop == pad]
        r = torch.tensor(rows, device=dev)
        xp = F.pad(x.index_select(0, r), (pad, pad, pad, pad))  # (R, B, C, H+2p, W+2p)
        oy = torch.stack([crops[k][0] for k in rows])  # (R, B, 1)
        ox = torch.stack([crops[k][1] for k in rows])
        ri = torch.arange(len(rows), device=dev).view(-1, 1, 1, 1, 1)
        bi = torch.arange(b, device=dev).view(1, b, 1, 1, 1)
        ci = torch.arange(c, device=dev).view(1, 1, c, 1, 1)
        ys = (oy + torch.arange(h, device=dev)).view(len(rows), b, 1, h, 1)
        xs = (ox + torch.arange(w, device=dev)).view(len(rows), b, 1, 1, w)
        x = x.index_copy(0, r, xp[ri, bi, ci, ys, xs])
    if noises:
        sigma = torch.zeros(m, device=dev, dtype=x.dtype)
        sigma[list(noises)] = torch.tensor([cfgs[k].augment_noise for k in noises], device=dev, dtype=x.dtype)
        noise = torch.zeros_like(x)
        noise[list(noises)] = torch.stack(list(noises.values()))
        x = x + sigma.view(m, 1, 1, 1, 1) * noise
    return x
