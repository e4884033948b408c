"""Every layer's arithmetic for one output value, recomputed in float64 from one recorded forward pass and shown
beside PyTorch's own value (the forward hook's):

- batch norm: (x − μ) / √(σ² + ε) · γ + β with the running statistics (eval mode);
- a residual addition in ``forward`` code: its two operands and their sum;
- linear: the dot product of its input with one row of weights, plus the bias (largest terms first);
- average pooling (plain or adaptive): the window's mean;
- ReLU: max(0, x).

:func:`layer_arithmetic` picks the formula from the layer (a module path, or ``add@<n>`` as
:func:`cnnviz.explorer.recording.record` names an addition). Conv and max pooling have their own, richer views
(:func:`cnnviz.explorer.neuron_detail`, :func:`cnnviz.explorer.pooling_detail`)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.errors import ConfigError
from cnnviz.inside.names import layer_titles
from .recording import Recording, record
from .windows import window

AVG_POOLS = (nn.AvgPool2d, nn.AdaptiveAvgPool2d)
TOP_TERMS = 8  # a linear row longer than this shows its largest terms and the rest as one sum


@dataclass(frozen=True)
class Arithmetic:
    layer: str                              # module path, or "add@<n>"
    kind: str                               # "batchnorm", "add", "linear", "avgpool", "relu"
    cell: tuple[int, ...]                   # (channel, i, j), or (unit,) for a vector
    formula: str                            # the formula in symbols
    terms: tuple[tuple[str, float], ...]    # the named numbers the formula reads, in its order
    worked: str                             # the formula with the numbers (the result is ``result``)
    result: float                           # recomputed here (float64) from the terms
    value: float                            # PyTorch's value: the layer's output as the forward hook saw it
    table: tuple[tuple, ...] = ()           # linear: (k, where, x_k, w_k, x_k·w_k), largest |x_k·w_k| first


def _f(v: float) -> str:
    """A number inside a worked formula: 4 decimals (tiny ones in e-notation), a negative one as (−0.0978)."""
    s = f"{abs(v):.4f}" if abs(v) >= 1e-3 or v == 0 else f"{abs(v):.3e}"
    return f"(−{s})" if v < 0 else s


def _node(rec: Recording, layer: str) -> int:
    try:
        return rec.index(layer)
    except KeyError:
        names = [n.name for n in rec.nodes if arithmetic_kind(n.module, n.name)]
        raise ConfigError("layer", f"{layer!r} has no arithmetic view in this model; choose one of "
                          f"{', '.join(names) or '(none)'}") from None


def arithmetic_kind(module: nn.Module | None, name: str = "") -> str:
    """Which formula :func:`layer_arithmetic` shows for a layer ("" when it has none here)."""
    if module is None:
        return "add" if name.startswith("add@") else ""
    if isinstance(module, nn.BatchNorm2d):
        return "batchnorm"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, AVG_POOLS):
        return "avgpool"
    return "relu" if isinstance(module, nn.ReLU) else ""


def _cell(out: torch.Tensor, channel, index) -> tuple[int, ...]:
    if out.dim() == 2:
        if not isinstance(channel, int) or not 0 <= channel < out.shape[1]:
            raise ConfigError("channel", f"must be a unit in 0..{out.shape[1] - 1}, got {channel!r}")
        return (channel,)
    c, h, w = out.shape[1:]
    if not isinstance(channel, int) or not 0 <= channel < c:
        raise ConfigError("channel", f"must be in 0..{c - 1}, got {channel!r}")
    if (not isinstance(index, (tuple, list)) or len(index) != 2 or not all(isinstance(v, int) for v in index)
            or not (0 <= index[0] < h and 0 <= index[1] < w)):
        raise ConfigError("index", f"must be a position (i, j) with i in 0..{h - 1} and j in 0..{w - 1}, "
                          f"got {index!r}")
    return channel, int(index[0]), int(index[1])


def _at(t: torch.Tensor, cell: tuple[int, ...]) -> float:
    return float(t[(0, *cell)])


def _batchnorm(rec, k, cell, titles) -> Arithmetic:
    node, bn = rec.nodes[k], rec.nodes[k].module
    c = cell[0]
    x = _at(node.input, cell)
    if bn.running_mean is not None:  # eval mode reads the running statistics
        mu, var, where = float(bn.running_mean[c]), float(bn.running_var[c]), "running"
    else:  # no running statistics: this image's own (biased) channel statistics
        plane = node.input[0, c].double()
        mu, var, where = float(plane.mean()), float(plane.var(unbiased=False)), "this image's"
    g = float(bn.weight.detach()[c]) if bn.weight is not None else 1.0
    b = float(bn.bias.detach()[c]) if bn.bias is not None else 0.0
    eps = float(bn.eps)
    result = (x - mu) / math.sqrt(var + eps) * g + b
    terms = (("x", x), (f"μ ({where} mean)", mu), (f"σ² ({where} variance)", var), ("ε", eps), ("γ (weight)", g),
             ("β (bias)", b))
    worked = f"({_f(x)} − {_f(mu)}) / √({_f(var)} + {eps:g}) · {_f(g)} + {_f(b)}"
    return Arithmetic(node.name, "batchnorm", cell, "(x − μ) / √(σ² + ε) · γ + β", terms, worked, result,
                      _at(node.output, cell))


def _add(rec, k, cell, titles) -> Arithmetic:
    node = rec.nodes[k]
    terms = []
    for p in node.inputs:
        src = rec.nodes[p] if p >= 0 else None
        name = "input" if src is None else src.name
        terms.append((f"{titles.get(name, name)} ({name})" if name in titles else name,
                      _at(src.output if src is not None else rec.x, cell)))
    result = math.fsum(v for _, v in terms)
    worked = " + ".join(_f(v) for _, v in terms)
    return Arithmetic(node.name, "add", cell, "a + b (the block's branch + its shortcut)", tuple(terms), worked,
                      result, _at(node.output, cell))


def _where(rec: Recording, k: int, f: int) -> list[str]:
    """What each of a linear layer's F inputs is: "channel c, row r, col q" of the flattened map it reads."""
    src = rec.nodes[k].inputs[0]
    while src >= 0 and isinstance(rec.nodes[src].module, nn.Flatten):  # the map a Flatten module read
        src = rec.nodes[src].inputs[0]
    shape = tuple((rec.nodes[src].output if src >= 0 else rec.x).shape[1:])
    if len(shape) != 3 or math.prod(shape) != f:
        return [f"input {q}" for q in range(f)]
    c, h, w = shape
    if h == w == 1:
        return [f"channel {q}" for q in range(f)]
    return [f"channel {q // (h * w)}, row {q // w % h}, col {q % w}" for q in range(f)]


def _linear(rec, k, cell, titles) -> Arithmetic:
    node, lin = rec.nodes[k], rec.nodes[k].module
    u = cell[0]
    x = node.input[0].detach().double().cpu().flatten()
    w = lin.weight.detach()[u].double().cpu()
    prod = x * w
    total = math.fsum(prod.tolist())
    b = float(lin.bias.detach()[u]) if lin.bias is not None else 0.0
    result = total + b
    where = _where(rec, k, x.numel())
    order = sorted(range(x.numel()), key=lambda q: -abs(float(prod[q])))
    table = tuple((q, where[q], float(x[q]), float(w[q]), float(prod[q])) for q in order[:TOP_TERMS])
    rest = math.fsum(float(prod[q]) for q in order[TOP_TERMS:])
    terms = tuple((f"x[{q}] · w[{u}, {q}]", p) for q, _, _, _, p in table)
    if len(order) > TOP_TERMS:
        terms += ((f"the other {len(order) - TOP_TERMS} products", rest),)
    terms += (("bias", b),)
    worked = " + ".join(_f(v) for _, v in terms[:-1]) + f" = Σ {_f(total)};  Σ + bias {_f(b)}"
    return Arithmetic(node.name, "linear", cell, f"Σₖ x[k] · w[{u}, k] + b[{u}]  ({x.numel()} products)", terms,
                      worked, result, _at(node.output, cell), table)


def _avgpool(rec, k, cell, titles) -> Arithmetic:
    node, pool = rec.nodes[k], rec.nodes[k].module
    c, i, j = cell
    inp = node.input[0, c].detach().double().cpu()
    h, w = inp.shape
    rows, cols = window(pool, i, j, (h, w), tuple(node.output.shape[-2:]))
    cells = [float(inp[r, q]) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]  # padding adds zeros
    divisor = len(rows) * len(cols)
    if isinstance(pool, nn.AvgPool2d):
        p = pool.padding if isinstance(pool.padding, int) else pool.padding[0]
        q = pool.padding if isinstance(pool.padding, int) else pool.padding[1]
        if pool.divisor_override:
            divisor = int(pool.divisor_override)
        elif not pool.count_include_pad:
            divisor = len(cells)
        else:  # padding counts, cells past it (ceil_mode) do not
            divisor = sum(-p <= r < h + p for r in rows) * sum(-q <= c_ < w + q for c_ in cols)
    total = math.fsum(cells)
    result = total / divisor
    terms = ((f"sum of the window's {len(cells)} cells (rows {rows[0]}–{rows[-1]}, cols {cols[0]}–{cols[-1]})",
              total), ("cells counted", float(divisor)))
    return Arithmetic(node.name, "avgpool", cell, "mean of the window = Σ window / cells", terms,
                      f"{_f(total)} / {divisor}", result, _at(node.output, cell))


def _relu(rec, k, cell, titles) -> Arithmetic:
    node = rec.nodes[k]
    x = _at(node.input, cell)
    return Arithmetic(node.name, "relu", cell, "max(0, x)", (("x", x),), f"max(0, {_f(x)})",
                      max(0.0, x), _at(node.output, cell))


KINDS = {"batchnorm": _batchnorm, "add": _add, "linear": _linear, "avgpool": _avgpool, "relu": _relu}


def layer_arithmetic(model: nn.Module, x: torch.Tensor, layer: str, channel: int,
                     index: tuple[int, int] = (0, 0), rec: Recording | None = None) -> Arithmetic:
    """The arithmetic of output ``[0, channel, i, j]`` (or unit ``channel`` of a vector) of ``layer`` — a module
    path, or ``add@<n>`` for an addition in forward code — for the image ``x`` (1, C, H, W), eval mode.
    ``rec``: this model's recording of ``x`` when the caller has one (saves a forward pass). ``result`` is the
    formula's value recomputed in float64; ``value`` the output PyTorch produced. The model is left unchanged."""
    rec = rec if rec is not None else record(model, x)
    k = _node(rec, layer)
    node = rec.nodes[k]
    kind = arithmetic_kind(node.module, node.name)
    if not kind:
        raise ConfigError("layer", f"{layer!r} ({type(node.module).__name__}) has its own view: conv and max "
                          "pooling show their windows")
    cell = _cell(node.output, channel, index)
    titles = layer_titles(model) if kind == "add" else {}
    return KINDS[kind](rec, k, cell, titles)
