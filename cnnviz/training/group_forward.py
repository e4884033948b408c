"""One forward pass of M models of the same structure on M batches: the class group's computation.

For the layer types of the preset models (Conv2d, BatchNorm2d in training or eval mode, ReLU, MaxPool2d,
AdaptiveAvgPool2d, Flatten, Linear, Sequential, TinyVGG, SmallResNet and its BasicBlock) the pass is explicit:
the members' images side by side as channels, ``(B, M·C, H, W)`` in channels-last memory (oneDNN's grouped
convolution is about twice as fast there as in NCHW on these small images), each convolution one grouped
``F.conv2d(groups=M)`` over the members' stacked kernels, each BatchNorm one ``F.batch_norm`` over the members'
channels (a channel's statistics are its own member's: the running statistics are updated in place in the
stacked buffers, as a member's own module would), and each Linear one ``baddbmm``. Anything else (a network
built in the Architecture Lab with other layers) runs through ``torch.func.vmap`` of ``functional_call``.

When every member sees the same images (the grouped evaluation's validation set, an expanded tensor), a first
convolution with ``groups=1`` is one ordinary convolution with the members' kernels stacked as output channels.
(A 3×3 convolution as nine batched matrix products over shifted views was tried and removed: once the input is
truly channels-last, :func:`grouped_input`, oneDNN's grouped convolution is 3× faster on one thread.)

Parameters and buffers are dicts of name → stacked tensor ``(M, ...)``; images ``(M, B, C, H, W)``; the
result ``(M, B, classes)``."""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, vmap

from cnnviz.architecture.models import BasicBlock, SmallResNet, TinyVGG

_LEAVES = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear,
           nn.Identity)
_CONTAINERS = (nn.Sequential, TinyVGG, SmallResNet, BasicBlock)


def explicit(model: nn.Module) -> bool:
    """Whether :class:`GroupedForward` has an explicit grouped pass for every module of ``model``."""
    return all(type(m) in _CONTAINERS or type(m) in _LEAVES for m in model.modules()) and (
        type(model) in _CONTAINERS) and not any(
        isinstance(m, nn.Conv2d) and (m.padding_mode != "zeros" or isinstance(m.padding, str))
        for m in model.modules()) and not any(
        isinstance(m, nn.BatchNorm2d) and (m.momentum is None or not m.track_running_stats or not m.affine)
        for m in model.modules()) and not any(
        isinstance(m, nn.Flatten) and (m.start_dim != 1 or m.end_dim != -1) for m in model.modules())


_STEMS = {TinyVGG: lambda mod: mod.features, SmallResNet: lambda mod: mod.stem}  # where the first conv is


def grouped_input(x: torch.Tensor) -> torch.Tensor:
    """Images ``(M, B, C, H, W)`` → ``(B, M·C, H, W)`` in channels-last memory (``(B, H, W, M·C)``), one copy.
    With one channel per member (digits) the permuted reshape is a mere view in member-major order, on which
    oneDNN's convolutions, hence every layer after them, would run in NCHW: about twice as slow, max pooling
    far more (``bench/group_step.py``); ``contiguous`` makes the layout channels-last in every case."""
    b = x.shape[1]
    h = x.permute(1, 3, 4, 0, 2).reshape(b, *x.shape[3:], x.shape[0] * x.shape[2]).permute(0, 3, 1, 2)
    return h.contiguous(memory_format=torch.channels_last)


def _pool_first(layers: list) -> list:
    """``ReLU, MaxPool2d`` as ``MaxPool2d, ReLU``: the same values and gradients (ReLU is monotone, and a window
    whose maximum is not positive passes no gradient either way), the ReLU on a quarter of the values."""
    out = list(layers)
    for i in range(len(out) - 1):
        if type(out[i]) is nn.ReLU and type(out[i + 1]) is nn.MaxPool2d:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


class GroupedForward:
    """``(params, buffers, x) → logits`` for M stacked members of ``model``'s structure; ``training`` picks
    BatchNorm's mode (batch statistics and running-statistics updates, or the running statistics)."""

    def __init__(self, model: nn.Module):
        self.skeleton = copy.deepcopy(model)
        self.names = {m: n for n, m in self.skeleton.named_modules()}
        self.is_explicit = explicit(self.skeleton)
        if not self.is_explicit:
            def one(params, buffers, x):
                return functional_call(self.skeleton, (params, buffers), (x,))
            self._vmapped = vmap(one)

    def __call__(self, params: dict, buffers: dict, x: torch.Tensor, training: bool = True) -> torch.Tensor:
        if not self.is_explicit:
            self.skeleton.train(training)
            return self._vmapped(params, buffers, x)
        m = x.shape[0]
        self.p, self.bufs, self.m, self.training = params, buffers, m, training
        try:
            if x.stride(0) == 0 and type(self.skeleton) in _STEMS and _STEMS[type(self.skeleton)](
                    self.skeleton)[0].groups == 1:  # the same images for every member
                return self._run_shared(x[0])
            return self._run(self.skeleton, grouped_input(x))
        finally:
            self.p = self.bufs = None

    def _run_shared(self, x: torch.Tensor) -> torch.Tensor:
        """The pass when every member sees the same images ``x (B, C, H, W)``: the first convolution is one
        ordinary convolution with the members' kernels as output channels, then the grouped pass."""
        top = self.skeleton
        stem = _STEMS[type(top)](top)
        conv = stem[0]
        w, bias = self._get(conv, "weight", self.p), self._get(conv, "bias", self.p)
        h = F.conv2d(x.contiguous(memory_format=torch.channels_last), w.reshape(-1, *w.shape[2:]),
                     None if bias is None else bias.reshape(-1), conv.stride, conv.padding, conv.dilation)
        h = h.contiguous(memory_format=torch.channels_last)
        for mod in _pool_first(list(stem)[1:]):
            h = self._run(mod, h)
        if type(top) is TinyVGG:
            return self._run(top.classifier, h)
        h = self._run(top.layer3, self._run(top.layer2, self._run(top.layer1, h)))
        return self._run(top.fc, self._flatten(self._run(top.pool, h)))

    # ---------------------------------------------------------------- one module on the grouped layout
    def _get(self, mod: nn.Module, name: str, store: dict):
        return store.get(f"{self.names[mod]}.{name}" if self.names[mod] else name)

    def _run(self, mod: nn.Module, h: torch.Tensor) -> torch.Tensor:
        kind = type(mod)
        if kind in (nn.Sequential,):
            for child in _pool_first(list(mod)):
                h = self._run(child, h)
            return h
        if kind is TinyVGG:
            return self._run(mod.classifier, self._run(mod.features, h))
        if kind is SmallResNet:
            h = self._run(mod.layer3, self._run(mod.layer2, self._run(mod.layer1, self._run(mod.stem, h))))
            return self._run(mod.fc, self._flatten(self._run(mod.pool, h)))
        if kind is BasicBlock:
            y = self._run(mod.bn2, self._run(mod.conv2, self._run(mod.relu1, self._run(mod.bn1,
                                                                                         self._run(mod.conv1, h)))))
            return self._run(mod.relu2, y + self._run(mod.shortcut, h))
        if kind is nn.Conv2d:
            w, bias = self._get(mod, "weight", self.p), self._get(mod, "bias", self.p)
            return F.conv2d(h, w.reshape(-1, *w.shape[2:]), None if bias is None else bias.reshape(-1),
                            mod.stride, mod.padding, mod.dilation, mod.groups * self.m)
        if kind is nn.BatchNorm2d:
            w, bias = self._get(mod, "weight", self.p), self._get(mod, "bias", self.p)
            mean, var = self._get(mod, "running_mean", self.bufs), self._get(mod, "running_var", self.bufs)
            if self.training:
                count = self._get(mod, "num_batches_tracked", self.bufs)
                if count is not None:
                    count.add_(1)
            # views of the stacked (M, C) buffers: F.batch_norm updates the running statistics in place
            return F.batch_norm(h, mean.view(-1), var.view(-1), w.reshape(-1), bias.reshape(-1), self.training,
                                mod.momentum, mod.eps)
        if kind is nn.ReLU:
            return F.relu(h)
        if kind is nn.MaxPool2d:
            return F.max_pool2d(h, mod.kernel_size, mod.stride, mod.padding, mod.dilation, mod.ceil_mode)
        if kind is nn.AdaptiveAvgPool2d:
            return F.adaptive_avg_pool2d(h, mod.output_size)
        if kind is nn.Flatten:
            return self._flatten(h)
        if kind is nn.Linear:  # h (M, B, F) → (M, B, O)
            w, bias = self._get(mod, "weight", self.p), self._get(mod, "bias", self.p)
            if bias is None:
                return torch.bmm(h, w.transpose(1, 2))
            return torch.baddbmm(bias.unsqueeze(1), h, w.transpose(1, 2))
        if kind is nn.Identity:
            return h
        raise TypeError(f"no grouped pass for {kind.__name__}")  # explicit() keeps this from happening

    def _flatten(self, h: torch.Tensor) -> torch.Tensor:
        """(B, M·C, H, W) → (M, B, C·H·W), each member's features in NCHW flatten order."""
        if h.dim() == 3:
            return h
        b = h.shape[0]
        return h.reshape(b, self.m, -1, *h.shape[2:]).flatten(2).transpose(0, 1)
