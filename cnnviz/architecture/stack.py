"""A layer stack (list of dicts, the format :mod:`cnnviz.architecture.codegen` describes) -> checked shapes,
an ``nn.Module`` and its cost (parameters, activations, FLOPs) against the budget a shared web process allows."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError
from cnnviz.geometry.specs import spec_from_dict
from cnnviz.io.text import shown
from cnnviz.limits import MAX_INT, MAX_STACK_ACTIVATIONS, MAX_STACK_FLOPS, MAX_STACK_PARAMS  # re-exported

ACTIVATIONS = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "tanh": "Tanh", "sigmoid": "Sigmoid",
               "leaky_relu": "LeakyReLU"}
NORMS = ("batch", "group")
TYPES = ("conv", "pool", "norm", "act", "linear", "residual")
# A built stack runs one forward pass for its summary in a web process shared by a class: bound what it may take.
PREFIX = {"conv": "conv", "pool": "pool", "norm": "norm", "act": "act", "linear": "fc", "residual": "res"}


class Residual(nn.Module):
    """x + body(x)."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)



def _where(path: str, err: ConfigError) -> ConfigError:
    msg = str(err).split(": ", 1)[-1]
    return ConfigError(f"{path} {err.field}", msg)


def _spec(layer: dict):
    d = {k: v for k, v in layer.items() if k != "name"}
    return spec_from_dict(d)


# the fields of each non-spec layer ("name" is a label any layer may carry); conv and pool layers take
# ConvSpec / PoolSpec's fields, which spec_from_dict checks
FIELDS = {"norm": {"kind", "groups"}, "act": {"kind"}, "linear": {"out_features", "bias"}, "residual": {"layers"}}


def _check_layer(layer, path: str) -> str:
    if not isinstance(layer, dict) or not isinstance(layer.get("type"), str) or layer["type"] not in TYPES:
        got = layer.get("type") if isinstance(layer, dict) else layer
        raise ConfigError(f"{path} type", f"must be one of {', '.join(TYPES)}, got {safe_repr(got)}")
    unknown = set(layer) - FIELDS.get(layer["type"], set(layer)) - {"type", "name"}
    if unknown:
        raise ConfigError(f"{path} {safe_repr(sorted(map(str, unknown)))[1:-1]}",
                          f"is not a field of a {layer['type']} layer (it takes {', '.join(sorted(FIELDS[layer['type']]))})")
    return layer["type"]


# --------------------------------------------------------------------------- one layer: shape, module, code
def _one(layer: dict, shape: tuple, path: str):
    """(output shape, module builder, code string) for one non-residual layer on an input of ``shape``."""
    kind = _check_layer(layer, path)
    c = shape[0]
    try:
        if kind in ("conv", "pool"):
            spec = _spec(layer)
            out = spec.output_shape(shape)
            with torch.device("meta"):  # what PyTorch would reject (e.g. avg pooling with dilation), with no
                spec.build()            # weights allocated: a huge layer is refused by the budget, not by memory
            return out, spec.build, spec.to_code()
        if kind == "norm":
            norm = layer.get("kind", "batch")
            if not isinstance(norm, str) or norm not in NORMS:
                raise ConfigError("kind", f"must be one of {', '.join(NORMS)}, got {safe_repr(norm)}")
            if norm == "batch":
                dims = max(1, len(shape) - 1)
                if dims > 3:
                    raise ConfigError("kind", f"batch norm needs 1–3 spatial axes, input is {shape}")
                code = f"nn.BatchNorm{dims}d({c})"
                return shape, lambda: getattr(nn, f"BatchNorm{dims}d")(c), code
            g = layer.get("groups", 1)
            if isinstance(g, bool) or not isinstance(g, int) or not 1 <= g <= MAX_INT or c % g:
                raise ConfigError("groups", f"channels={c} must be divisible by groups, got {safe_repr(g)}")
            return shape, lambda: nn.GroupNorm(g, c), f"nn.GroupNorm({g}, {c})"
        if kind == "act":
            act = layer.get("kind", "relu")
            if not isinstance(act, str) or act not in ACTIVATIONS:
                raise ConfigError("kind", f"must be one of {', '.join(ACTIVATIONS)}, got {safe_repr(act)}")
            return shape, getattr(nn, ACTIVATIONS[act]), f"nn.{ACTIVATIONS[act]}()"
        if kind == "linear":
            n_out, bias = layer.get("out_features"), layer.get("bias", True)
            if isinstance(n_out, bool) or not isinstance(n_out, int) or not 1 <= n_out <= MAX_INT:
                raise ConfigError("out_features", f"must be a whole number from 1 to {MAX_INT:,}, got {safe_repr(n_out)}")
            if not isinstance(bias, bool):
                raise ConfigError("bias", f"must be true or false, got {safe_repr(bias)}")
            n_in = math.prod(shape)
            code = f"nn.Linear({n_in}, {n_out}" + (", bias=False)" if not bias else ")")
            return (n_out,), lambda: nn.Linear(n_in, n_out, bias=bias), code
    except ConfigError as e:
        raise _where(path, e) from None
    raise ConfigError(f"{path} type", f"a {safe_repr(kind)} layer cannot be built here")


def _walk(layers, shape: tuple, path: str = "layer"):
    """Yield (path, layer, in_shape, out_shape, builder, code, children) in order; children for residuals."""
    if not isinstance(layers, (list, tuple)):
        raise ConfigError(path, f"must be a list of layers, got {type(layers).__name__}")
    for i, layer in enumerate(layers):
        p = f"{path} {i + 1}" if path == "layer" else f"{path}.{i + 1}"
        kind = _check_layer(layer, p)
        if kind == "residual":
            if not isinstance(layer.get("layers", []), (list, tuple)):
                raise ConfigError(f"{p} layers", f"must be a list of layers, got {shown(layer['layers'])}")
            kids = list(_walk(layer.get("layers", []), shape, p))
            if not kids:
                raise ConfigError(f"{p} layers", "a residual group needs at least one layer")
            out = kids[-1][3]
            if out != shape:
                raise ConfigError(f"{p} layers", f"the group's output {out} must equal its input {shape} "
                                  "to be added to it (keep channels and size: stride 1, 'same' padding)")
            yield p, layer, shape, shape, None, None, kids
        else:
            out, build, code = _one(layer, shape, p)
            yield p, layer, shape, out, build, code, None
        shape = out


def _check_shape(in_shape) -> tuple:
    if not isinstance(in_shape, (list, tuple)) or not 2 <= len(in_shape) <= 4 or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_INT for v in in_shape):
        raise ConfigError("in_shape", f"must be (channels, *spatial) with 1–3 spatial axes of 1 to {MAX_INT:,}, "
                                      f"got {shown(in_shape)}")
    return tuple(in_shape)


def shapes(layers, in_shape) -> list[tuple]:
    """Output shape (no batch) after each top-level layer; ConfigError names the first bad layer."""
    return [out for _, _, _, out, *_ in _walk(layers, _check_shape(in_shape))]


def rechain(layers, in_shape) -> list[dict]:
    """A copy of the stack with every conv's in_channels set to what arrives there (after an insert, reorder or
    delete), and the last conv of each residual group writing as many channels as the group receives (x + f(x)
    needs them equal). Stops fixing at the first layer that fails; ``shapes`` then reports it."""
    if not isinstance(layers, (list, tuple)):
        raise ConfigError("layers", f"must be a list of layers, got {shown(layers)}")
    def fix(group, shape, keep=None):
        if not isinstance(group, (list, tuple)) or not all(isinstance(x, dict) for x in group):
            return group  # not a list of layers: ``shapes`` says where
        group = [dict(x) for x in group]
        convs = [i for i, x in enumerate(group) if x.get("type") == "conv"]
        if keep is not None and convs:
            group[convs[-1]]["out_channels"] = keep
        out = []
        for layer in group:
            layer = dict(layer)
            if layer.get("type") == "conv":
                layer["in_channels"] = shape[0]
            if layer.get("type") == "residual":
                layer["layers"] = fix(layer.get("layers", []), shape, shape[0] if len(shape) > 1 else None)
                out.append(layer)
                continue
            out.append(layer)
            try:
                shape = _one(layer, shape, "layer")[0]
            except ConfigError:
                return out + [dict(x) for x in group[len(out):]]
        return out
    return fix(list(layers), _check_shape(in_shape))


# --------------------------------------------------------------------------- module and code
def _needs_flatten(layer, shape):
    return layer.get("type") == "linear" and len(shape) > 1


def build_stack(layers, in_shape) -> nn.Module:
    """An ``nn.Sequential`` (Residual for groups; nn.Flatten before a linear on a map)."""
    def mods(items):
        out = []
        for _, layer, shp, _, build, _, kids in items:
            if kids is not None:
                out.append(Residual(*mods(kids)))
                continue
            if _needs_flatten(layer, shp):
                out.append(nn.Flatten())
            out.append(build())
        return out
    check_budget(layers, in_shape)
    return nn.Sequential(*mods(list(_walk(layers, _check_shape(in_shape)))))


def stack_cost(layers, in_shape) -> tuple[int, int, int]:
    """(parameters, activation elements, FLOPs) of the stack for batch 1, by arithmetic alone (nothing is
    built), counted as ``sum(p.numel())``, the outputs of every layer, and ``FlopCounterMode`` count them."""
    params = acts = flops = 0

    def add(items):
        nonlocal params, acts, flops
        for _, layer, shp, out, _, _, kids in items:
            if kids is not None:
                add(kids)  # (the sum x + body(x) is not a layer output: architecture.summarize omits it too)
                continue
            kind, c = layer["type"], shp[0]
            if kind in ("conv", "pool"):
                spec = _spec(layer)
                params += spec.params() if kind == "conv" else 0
                flops += spec.flops(shp)
            elif kind == "norm":
                params += 2 * c
            elif kind == "linear":
                n_in, n_out = math.prod(shp), out[0]
                params += n_in * n_out + (n_out if layer.get("bias", True) else 0)
                flops += 2 * n_in * n_out
            acts += math.prod(out) + (math.prod(shp) if _needs_flatten(layer, shp) else 0)

    add(list(_walk(layers, _check_shape(in_shape))))
    return params, acts, flops


def check_budget(layers, in_shape) -> tuple[int, int, int]:
    """``stack_cost``, or ConfigError("stack", ...) saying the limit when the stack is too large to build and
    run here; checked before any tensor is allocated."""
    cost = stack_cost(layers, in_shape)
    held = cost[1] + math.prod(_check_shape(in_shape))  # the summary allocates the input too, and keeps it
    for value, limit, what in zip((cost[0], held, cost[2]), (MAX_STACK_PARAMS, MAX_STACK_ACTIVATIONS, MAX_STACK_FLOPS),
                                  ("parameters", "activation values (the input and all layer outputs)",
                                   "FLOPs per forward pass")):
        if value > limit:
            raise ConfigError("stack", f"{value:,} {what} is above the limit of {limit:,} for building and running "
                                       "it here; use a smaller input, fewer channels or fewer layers")
    return cost
