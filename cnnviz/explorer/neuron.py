"""One neuron down to its arithmetic: the input window a conv output reads, the kernel slice, the element-wise
products, sum + bias, and what follows (batch norm, activation); a pooling output's window and winner; the
softmax from logits to probabilities. Every value comes from one recorded forward pass (eval mode)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.errors import ConfigError
from .receptive import receptive_field
from .recording import Recording, record
from .windows import window

ELEMENTWISE = (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
               nn.Hardswish, nn.Mish, nn.PReLU, nn.Dropout, nn.Identity)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


@dataclass(frozen=True)
class NeuronDetail:
    layer: str
    channel: int
    index: tuple[int, int]
    rows: list[int]              # input rows the window taps (padded coordinates: <0 or ≥ H are padding)
    cols: list[int]
    channels: list[int]          # the input channels of this output's group
    patch: torch.Tensor          # (C_in/groups, kh, kw) tapped input values, padding as PyTorch fills it
    weight: torch.Tensor         # (C_in/groups, kh, kw)
    bias: float
    products: torch.Tensor       # patch · weight, element-wise
    pre_activation: float        # products.sum() + bias (float64 sum)
    value: float                 # the layer's output at [0, channel, i, j] (forward hook)
    after: list[tuple[str, str, float]]   # (module path, kind, value) of the element-wise layers that follow
    receptive_field: tuple[int, int, int, int]  # (top, left, bottom, right) in the model input, inclusive

    @property
    def subtotals(self) -> list[float]:
        """Σ products per input channel (float64), in ``channels`` order: they add up to ``pre_activation − bias``."""
        return self.products.double().sum((1, 2)).tolist()


def _module(model: nn.Module, layer: str, kinds, what: str) -> nn.Module:
    modules = dict(model.named_modules())
    if layer not in modules or not isinstance(modules[layer], kinds):
        names = [n for n, m in modules.items() if isinstance(m, kinds)]
        raise ConfigError("layer", f"{layer!r} is not a {what} of this model; choose one of "
                          f"{', '.join(names) or '(none)'}")
    return modules[layer]


def _check_cell(out: torch.Tensor, channel, index) -> tuple[int, int, int]:
    c, h, w = out.shape[1:]
    if not isinstance(channel, int) or not 0 <= channel < c:
        raise ConfigError("channel", f"must be in 0..{c - 1}, got {channel!r}")
    if (not isinstance(index, (tuple, list)) or len(index) != 2
            or not all(isinstance(v, int) for v in index) or not (0 <= index[0] < h and 0 <= index[1] < w)):
        raise ConfigError("index", f"must be a position (i, j) with i in 0..{h - 1} and j in 0..{w - 1}, "
                          f"got {index!r}")
    return channel, int(index[0]), int(index[1])


def padded_input(conv: nn.Conv2d, inp: torch.Tensor) -> torch.Tensor:
    """The conv's input with the padding PyTorch really applies (zeros, reflect, replicate or circular)."""
    mode = "constant" if conv.padding_mode == "zeros" else conv.padding_mode
    return F.pad(inp, list(conv._reversed_padding_repeated_twice), mode=mode)


def following(rec: Recording, k: int, channel: int, i: int, j: int) -> list[tuple[str, str, float]]:
    """The chain of element-wise layers that read node ``k``'s output directly (batch norm, activation …)."""
    out = []
    for n in rec.nodes[k + 1:]:
        if n.inputs != [k] or not isinstance(n.module, ELEMENTWISE) or n.output.shape != rec.nodes[k].output.shape:
            break
        out.append((n.name, type(n.module).__name__, float(n.output[0, channel, i, j])))
        k = rec.nodes.index(n)
    return out


def neuron_detail(model: nn.Module, x: torch.Tensor, layer: str, channel: int, index: tuple[int, int],
                  rec: Recording | None = None, box: tuple[int, int, int, int] | None = None) -> NeuronDetail:
    """What output ``[0, channel, i, j]`` of the ``nn.Conv2d`` named ``layer`` computes for the image ``x``
    (1, C, H, W), in eval mode.

    ``patch`` holds only the *tapped* values: with dilation > 1 the cells between the taps are skipped, so the
    patch is (C_in/groups, kh, kw) like the kernel slice; ``rows``/``cols`` say where the taps are. Padding
    cells hold what PyTorch uses for the layer's ``padding_mode``; with groups > 1 the patch comes from the
    output channel's group of input channels. ``value`` is the layer's output as a forward hook sees it;
    ``pre_activation`` the same number recomputed from the products (float64 sum). ``receptive_field``: see
    :func:`cnnviz.explorer.receptive_field`. The model's mode, weights and buffers are unchanged and no hooks
    remain, also when this raises. ``rec`` (this model's recording of ``x``) and ``box`` (the receptive field)
    save the work when the caller already has them."""
    conv = _module(model, layer, nn.Conv2d, "Conv2d layer")
    rec = rec if rec is not None else record(model, x)
    k = rec.index(layer)
    node = rec.nodes[k]
    channel, i, j = _check_cell(node.output, channel, index)
    padded = padded_input(conv, node.input)[0]  # (C_in, H + pads, W + pads)
    rows, cols = window(conv, i, j, tuple(node.input.shape[-2:]), tuple(node.output.shape[-2:]))
    top, left = conv._reversed_padding_repeated_twice[2], conv._reversed_padding_repeated_twice[0]
    per_group = conv.in_channels // conv.groups
    g = channel // (conv.out_channels // conv.groups)
    chans = list(range(g * per_group, (g + 1) * per_group))
    patch = padded[chans][:, [r + top for r in rows]][:, :, [c + left for c in cols]].cpu()
    weight = conv.weight.detach()[channel].cpu().float()  # (C_in/groups, kh, kw)
    bias = float(conv.bias.detach()[channel]) if conv.bias is not None else 0.0
    products = patch * weight
    box = box if box is not None else receptive_field(model, x, layer, (i, j))
    return NeuronDetail(layer, channel, (i, j), rows, cols, chans, patch, weight.clone(), bias, products,
                        float(products.double().sum()) + bias, float(node.output[0, channel, i, j]),
                        following(rec, k, channel, i, j), box)


@dataclass(frozen=True)
class PoolDetail:
    layer: str
    kind: str                    # "max" or "avg"
    channel: int
    index: tuple[int, int]
    rows: list[int]              # input rows of the window (<0 or ≥ H: padding)
    cols: list[int]
    window: torch.Tensor         # (len(rows), len(cols)); padding: −inf for max, 0 for avg
    winner: tuple[int, int] | None   # input (row, col) of the maximum (max pooling)
    divisor: int                 # how many cells the average divides by (avg pooling)
    value: float                 # the layer's output (forward hook)


def pooling_detail(model: nn.Module, x: torch.Tensor, layer: str, channel: int, index: tuple[int, int],
                   rec: Recording | None = None) -> PoolDetail:
    """The window a pooling output reads and its result: the winner of a max pool (first maximum in reading
    order, as PyTorch picks it), or the sum and divisor of an average pool (``count_include_pad``)."""
    pool = _module(model, layer, POOLS, "pooling layer")
    rec = rec if rec is not None else record(model, x)
    node = rec.nodes[rec.index(layer)]
    channel, i, j = _check_cell(node.output, channel, index)
    inp = node.input[0, channel].cpu()  # (H, W)
    h, w = inp.shape
    rows, cols = window(pool, i, j, (h, w), tuple(node.output.shape[-2:]))
    is_max = isinstance(pool, (nn.MaxPool2d, nn.AdaptiveMaxPool2d))
    fill = float("-inf") if is_max else 0.0
    win = torch.tensor([[float(inp[r, c]) if 0 <= r < h and 0 <= c < w else fill for c in cols] for r in rows])
    winner, divisor = None, len(rows) * len(cols)
    if is_max:
        a = int(torch.argmax(win.flatten()))
        winner = (rows[a // len(cols)], cols[a % len(cols)])
    elif isinstance(pool, nn.AvgPool2d):
        if pool.divisor_override:
            divisor = int(pool.divisor_override)
        elif not pool.count_include_pad:
            divisor = sum(0 <= r < h for r in rows) * sum(0 <= c < w for c in cols)
        else:  # padding counts, cells past the padding (ceil_mode) do not
            p = pool.padding if isinstance(pool.padding, int) else pool.padding[0]
            q = pool.padding if isinstance(pool.padding, int) else pool.padding[1]
            divisor = sum(-p <= r < h + p for r in rows) * sum(-q <= c < w + q for c in cols)
    return PoolDetail(layer, "max" if is_max else "avg", channel, (i, j), rows, cols, win, winner, divisor,
                      float(node.output[0, channel, i, j]))


@dataclass(frozen=True)
class SoftmaxDetail:
    logits: list[float]
    shifted: list[float]         # logits − max (the same softmax, no overflow)
    exps: list[float]            # exp(shifted)
    total: float
    probabilities: list[float]   # exps / total


def softmax_detail(logits: torch.Tensor) -> SoftmaxDetail:
    """Logits (classes,) or (1, classes) -> exp -> normalised, each step kept."""
    z = logits.detach().double().flatten()
    shifted = z - z.max()
    e = shifted.exp()
    return SoftmaxDetail(z.tolist(), shifted.tolist(), e.tolist(), float(e.sum()), (e / e.sum()).tolist())
