"""One forward pass, recorded: every leaf module's input and output (forward hooks) and the additions between
module outputs done in ``forward`` code (residual connections, seen by a ``TorchFunctionMode``), in execution
order, with the node that produced each input. Eval mode, no gradients; hooks are always removed and the
model's training flags restored."""
from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from cnnviz.device import model_device, this_thread
from cnnviz.errors import ConfigError
from cnnviz.inside.saliency import eval_mode

ADDS = {torch.add, torch.Tensor.add, torch.Tensor.__add__, torch.Tensor.__radd__, operator.add}


@dataclass
class Node:
    name: str                   # module path, or "add@<n>" for an addition in forward code
    module: nn.Module | None    # None for an addition
    inputs: list[int]           # indices of the nodes whose outputs this node reads (-1: the model input)
    input: torch.Tensor         # what it read (the first tensor argument)
    output: torch.Tensor


@dataclass
class Recording:
    x: torch.Tensor             # (1, C, H, W) the model input
    logits: torch.Tensor        # (1, classes)
    nodes: list[Node] = field(default_factory=list)

    def index(self, name: str) -> int:
        """The last node recorded for this module path (a module called twice keeps its last call)."""
        for k in range(len(self.nodes) - 1, -1, -1):
            if self.nodes[k].name == name:
                return k
        raise KeyError(name)


class _Adds(TorchFunctionMode):
    def __init__(self, rec: "_Recorder"):
        super().__init__()
        self.rec = rec

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.rec.depth == 0 and isinstance(out, torch.Tensor):
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            known = [self.rec.producer.get(id(t)) for t in tensors]
            if func in ADDS and len(tensors) == 2 and None not in known and tensors[0].shape == tensors[1].shape:
                self.rec.add(f"add@{len(self.rec.nodes)}", None, known, tensors[0], out)
            elif tensors and known[0] is not None:  # flatten, view, functional relu ...: same producer
                self.rec.producer[id(out)] = known[0]
                self.rec.keep.append(out)
        return out


class _Recorder:
    def __init__(self, x: torch.Tensor):
        self.depth, self.nodes, self.keep = 0, [], [x]  # keep: ids stay unique while tensors live
        self.producer = {id(x): -1}

    def add(self, name, module, inputs, inp, out):
        self.nodes.append(Node(name, module, inputs, inp.detach(), out.detach()))
        self.producer[id(out)] = len(self.nodes) - 1
        self.keep.append(out)

    def pre(self, _m, _args):
        self.depth += 1

    def post(self, name):
        def fn(m, args, out):
            self.depth -= 1
            t = next((a for a in args if isinstance(a, torch.Tensor)), None)
            if t is not None and isinstance(out, torch.Tensor):
                self.add(name, m, [self.producer.get(id(t), -1)], t, out)
        return fn


def leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if n and not list(m.children())]


def record(model: nn.Module, x: torch.Tensor) -> Recording:
    """Run ``x`` (1, C, H, W) through ``model`` once and record every leaf module's call and every residual
    addition, in execution order."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[0] != 1:
        raise ConfigError("x", f"must be one image as a (1, C, H, W) tensor, got "
                          f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    device = model_device(model)
    x = x.detach().to(device=device, dtype=torch.float32)
    rec = _Recorder(x)
    handles = []
    try:
        for name, m in leaves(model):
            handles.append(m.register_forward_pre_hook(this_thread(rec.pre)))
            handles.append(m.register_forward_hook(this_thread(rec.post(name))))
        with torch.no_grad(), eval_mode(model), _Adds(rec):
            logits = model(x)
    finally:
        for h in handles:
            h.remove()
    return Recording(x, logits.detach(), rec.nodes)
