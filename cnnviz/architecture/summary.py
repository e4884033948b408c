"""A per-layer summary of ANY ``nn.Module`` (like torchinfo, checked against PyTorch itself).

``summarize(model, in_shape)`` runs one forward pass with batch 1 and returns one row per leaf-module call,
in forward order: name (as in ``named_modules()``), kind (class name), input and output shape (no batch),
the module's own parameters, FLOPs (``FlopCounterMode``'s count for that call), receptive field (where it
can be followed) and activation memory. It leaves no hooks behind and restores every module's train/eval
flag and every parameter and buffer (BatchNorm running stats included), also when the forward raises.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.device import model_device
from cnnviz.errors import ConfigError
from cnnviz.limits import MAX_SUMMARY_INPUT

WHOLE = "whole input"  # receptive field of a layer that mixes every position (linear after flatten, global pool)


@dataclass(frozen=True)
class LayerRow:
    """One leaf-module call."""

    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    params: int
    flops: int
    receptive_field: tuple | str | None  # cells per input axis, WHOLE, or None where it cannot be followed
    activation_bytes: int  # the output tensor(s), batch 1

    def rf_text(self) -> str:
        if self.receptive_field is None:
            return "—"
        if isinstance(self.receptive_field, str):
            return self.receptive_field
        return "×".join(map(str, self.receptive_field))


@dataclass(frozen=True)
class Summary:
    in_shape: tuple
    out_shape: tuple
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0      # distinct parameters of the model (shared ones once)
    trainable_params: int = 0
    total_flops: int = 0       # the whole forward pass, including functional ops outside leaf modules
    activation_bytes: int = 0  # sum over rows

    @property
    def leaf_flops(self) -> int:
        return sum(r.flops for r in self.rows)

    @property
    def other_flops(self) -> int:
        """FLOPs of functional ops called in containers' forward (e.g. attention matmuls), in no row."""
        return self.total_flops - self.leaf_flops

    @property
    def other_params(self) -> int:
        """Parameters owned directly by container modules (e.g. a learned query), in no row."""
        return self.total_params - sum(r.params for r in _first_calls(self.rows))

    def table(self) -> list[dict]:
        """Rows as plain dicts for a data frame."""
        return [dict(layer=r.name, kind=r.kind, input="×".join(map(str, r.in_shape)),
                     output="×".join(map(str, r.out_shape)), params=r.params, flops=r.flops,
                     receptive_field=r.rf_text(), activation_kib=round(r.activation_bytes / 1024, 1))
                for r in self.rows]


def _first_calls(rows):
    seen, out = set(), []
    for r in rows:
        if r.name not in seen:
            seen.add(r.name)
            out.append(r)
    return out


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _shape(obj) -> tuple:
    ts = _tensors(obj)
    return tuple(ts[0].shape[1:]) if ts else ()


def _axes(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


# --------------------------------------------------------------------------- receptive field tracking
def _next_rf(module, rf, in_t, out_t, spatial_in):
    """Receptive field (r, j per axis) of a module's output, given its input's."""
    if rf is None:
        return None
    if rf == WHOLE:
        return WHOLE
    n = len(spatial_in)
    if isinstance(module, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                           nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
        return WHOLE if all(s == 1 for s in out_t.shape[2:]) else None
    if out_t.dim() <= 2:  # (N, features): every position mixed (linear after flatten)
        return WHOLE if isinstance(module, (nn.Linear, nn.Bilinear)) else rf
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return None  # a transposed conv's footprint on the input is not one window
    if hasattr(module, "kernel_size") and hasattr(module, "stride") and in_t.dim() == n + 2:
        k, s = _axes(module.kernel_size, n), _axes(module.stride or module.kernel_size, n)
        d = _axes(getattr(module, "dilation", 1), n)
        return tuple((r + d_ * (k_ - 1) * j, j * s_) for (r, j), k_, s_, d_ in zip(rf, k, s, d))
    if tuple(out_t.shape[2:]) == tuple(in_t.shape[2:]):
        return rf  # pointwise along space: norm, activation, 1x1 layers, dropout, ...
    return None


# --------------------------------------------------------------------------- the summary
def summarize(model: nn.Module, in_shape, dtype=torch.float32, seed: int = 0) -> Summary:
    """One forward pass with batch 1 on a seeded random input of shape (1, *in_shape)."""
    if not isinstance(model, nn.Module):
        raise ConfigError("model", f"must be an nn.Module, got {type(model).__name__}")
    if not isinstance(in_shape, (tuple, list)) or not in_shape or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in in_shape):
        raise ConfigError("in_shape", f"must be a tuple of positive whole numbers (no batch), got {in_shape!r}")
    in_shape = tuple(in_shape)
    if math.prod(in_shape) > MAX_SUMMARY_INPUT:  # before the input tensor exists (any model, not only stacks)
        raise ConfigError("in_shape", f"{math.prod(in_shape):,} input values is above the limit of "
                                      f"{MAX_SUMMARY_INPUT:,} for one summary here; use a smaller input")
    spatial_in = in_shape[1:]
    names = {}
    for n, m in model.named_modules(remove_duplicate=False):
        names.setdefault(m, n)
    leaves = [m for m in names if next(m.children(), None) is None]
    device = model_device(model)  # the summary runs where the model lives (cpu when it has no tensors)
    x = torch.randn((1, *in_shape), generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)

    modes = {m: m.training for m in model.modules()}
    saved = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()
             if isinstance(v, torch.Tensor)}
    rows: list[LayerRow] = []
    starts: list[tuple[int, torch.Tensor | None]] = []
    rfs: dict[int, tuple] = {}  # id(tensor) -> (tensor kept alive, receptive field)
    if len(spatial_in):
        rfs[id(x)] = (x, tuple((1, 1) for _ in spatial_in))
    counter = FlopCounterMode(display=False)
    handles = []

    def rf_of(t):
        if t is None:
            return None
        if id(t) in rfs and rfs[id(t)][0] is t:
            return rfs[id(t)][1]
        if t.dim() <= 2 and rfs:  # flattened by a functional op: the last tracked tensor's field
            return list(rfs.values())[-1][1]
        # produced by a functional op (a residual add, a gating multiply): the widest tracked tensor with
        # the same spatial size is the path that reaches furthest
        same = [rf for tt, rf in rfs.values() if tt.dim() == t.dim() and tt.shape[2:] == t.shape[2:]
                and isinstance(rf, tuple)]
        return max(same, key=lambda rf: [r for r, _ in rf]) if same else None

    def pre(module, args, kwargs):
        ins = _tensors(args) or _tensors(kwargs or {})
        starts.append((counter.get_total_flops(), ins[0] if ins else None))

    def post(module, args, kwargs, output):
        flops0, in_t = starts.pop()
        outs = _tensors(output)
        out_t = outs[0] if outs else None
        rf = None
        if in_t is not None and out_t is not None and len(spatial_in):
            rf = _next_rf(module, rf_of(in_t), in_t, out_t, spatial_in)
            if rf is not None:
                rfs[id(out_t)] = (out_t, rf)
        rows.append(LayerRow(
            name=names[module], kind=type(module).__name__,
            in_shape=tuple(in_t.shape[1:]) if in_t is not None else (), out_shape=_shape(output),
            params=sum(p.numel() for p in module.parameters(recurse=False)),
            flops=counter.get_total_flops() - flops0,
            receptive_field=None if rf is None else rf if rf == WHOLE else tuple(r for r, _ in rf),
            activation_bytes=sum(t.numel() * t.element_size() for t in outs)))

    try:
        for m in leaves:
            handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
            handles.append(m.register_forward_hook(post, with_kwargs=True))
        model.eval()
        with counter:  # grad mode on: FlopCounterMode's module tracker trips over views of parameters in no_grad
            y = model(x)
        out_shape = _shape(y)
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure of a user's model becomes one readable message
        raise ConfigError("model", f"the forward pass on an input of shape {in_shape} failed: {e}") from e
    finally:
        for h in handles:
            h.remove()
        for m, training in modes.items():
            m.training = training
        with torch.no_grad():
            for k, v in model.state_dict(keep_vars=True).items():
                if k in saved and isinstance(v, torch.Tensor):
                    if v.shape == saved[k].shape:
                        v.data.copy_(saved[k])
                    else:
                        v.data = saved[k]
    unique = {id(p): p for p in model.parameters()}
    return Summary(in_shape, out_shape, rows, sum(p.numel() for p in unique.values()),
                   sum(p.numel() for p in unique.values() if p.requires_grad), counter.get_total_flops(),
                   sum(r.activation_bytes for r in rows))


def share(rows: list[LayerRow], key: str, top: int = 12) -> list[tuple[str, int]]:
    """(label, value) of the ``top`` rows by ``key`` ('params' or 'flops'), the rest summed as 'other'."""
    vals = sorted(((f"{r.name} ({r.kind})", getattr(r, key)) for r in _first_calls(rows) if getattr(r, key)),
                  key=lambda t: -t[1]) if key == "params" else sorted(
        ((f"{r.name} ({r.kind})", r.flops) for r in rows if r.flops), key=lambda t: -t[1])
    head, rest = vals[:top], vals[top:]
    if rest:
        head.append((f"{len(rest)} other layers", sum(v for _, v in rest)))
    return head


def fmt_bytes(n: int) -> str:
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


__all__ = ["LayerRow", "Summary", "summarize", "share", "fmt_bytes", "WHOLE"]


# --------------------------------------------------------------------------- principles in numbers
@dataclass(frozen=True)
class WeightSharing:
    out_shape: tuple
    conv: int       # one k×k kernel per (C_out, C_in) pair, reused at every output position
    local: int      # locally connected: the same window, but its own weights at every position
    dense: int      # fully connected from every input cell to every output cell (nn.Linear on the flattened maps)
    positions: int  # output positions one kernel is reused at


def weight_sharing(in_shape, out_channels: int, kernel_size=3, stride=1, padding=0) -> WeightSharing:
    """The same layer three ways, on the same input and output shapes (with bias)."""
    from cnnviz.geometry.specs import ConvSpec, numel
    dims = len(in_shape) - 1
    spec = ConvSpec(dims, in_shape[0], out_channels, kernel_size, stride, padding)
    out = spec.output_shape(tuple(in_shape))
    positions = numel(out[1:])
    w = spec.params() - out_channels  # the conv's weights without bias
    return WeightSharing(out, spec.params(), w * positions + numel(out), numel(in_shape) * numel(out) + numel(out),
                         positions)
