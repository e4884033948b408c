"""The "checked by PyTorch" badge: build the real module and run a zero tensor through it."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.errors import ConfigError

from cnnviz.limits import MAX_ELEMENTS, MAX_FLOPS  # re-exported: the limits live in cnnviz.limits


@dataclass(frozen=True)
class Check:
    ran: bool
    agrees: bool
    torch_shape: tuple | None
    message: str


def check_with_pytorch(spec, in_shape, engine_shape, flops: int = 0) -> Check:
    """Compare the engine's shape, parameter count and FLOPs with what ``spec.build()`` really does on
    ``zeros(1, *in_shape)`` (FLOPs as ``FlopCounterMode`` counts them)."""
    if max(math.prod(in_shape), math.prod(engine_shape)) > MAX_ELEMENTS or flops > MAX_FLOPS:
        return Check(False, False, None, f"too large to run live (limit {MAX_ELEMENTS:,} elements, "
                                         f"{MAX_FLOPS:,} FLOPs); the formula stands alone")
    try:
        module = spec.build()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with FlopCounterMode(display=False) as counter:
                shape = tuple(module(torch.zeros(1, *in_shape)).shape[1:])  # (C, *spatial)
    except (ConfigError, RuntimeError, ValueError, TypeError) as e:
        return Check(True, False, None, f"PyTorch rejected it: {e}")
    code = spec.to_code()
    params = sum(p.numel() for p in module.parameters())
    ours, theirs = (tuple(engine_shape), spec.params(), flops), (shape, params, counter.get_total_flops())
    if ours == theirs:
        return Check(True, True, shape, f"checked by PyTorch: {code} gives {shape}, {params:,} parameters, "
                                        f"{theirs[2]:,} FLOPs")
    return Check(True, False, shape, f"PyTorch disagrees: {code} gives shape, params, FLOPs {theirs}; "
                                     f"the engine says {ours}")
