"""Beyond one image: the validation patches that excite a channel most, the same architecture before training
(a fixed-seed random initialisation), a neuron's gradient on the input, and a mouse drawing as model input."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnviz.device import this_thread, to_model_device
from cnnviz.errors import ConfigError
from cnnviz.inside.saliency import eval_mode
from .receptive import receptive_field


def random_init(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` as it was before training: every layer re-initialised with PyTorch's default
    initialisation from ``seed`` (batch norm back to mean 0, variance 1). The model itself is untouched."""
    fresh = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in fresh.modules():
            if hasattr(m, "reset_parameters") and m is not fresh:
                m.reset_parameters()
            if hasattr(m, "reset_running_stats"):
                m.reset_running_stats()
    return fresh.eval()


def _output_of(model: nn.Module, layer: str, x: torch.Tensor, grad: bool = False) -> torch.Tensor:
    seen = {}
    handle = model.get_submodule(layer).register_forward_hook(
        this_thread(lambda _m, _a, out: seen.__setitem__("out", out)))
    try:
        with torch.set_grad_enabled(grad), eval_mode(model):
            model(to_model_device(x, model))  # the model's device; callers bring results back with .cpu()
    finally:
        handle.remove()
    return seen["out"]


def gradient_map(model: nn.Module, x: torch.Tensor, layer: str, channel: int, index: tuple[int, int]
                 ) -> torch.Tensor:
    """|∂ output[0, channel, i, j] / ∂ x| summed over the input channels: (H, W). Plain autograd, eval mode;
    zero outside the receptive field (and wherever a ReLU or a max pool blocks the path for this image)."""
    if layer not in dict(model.named_modules()):
        raise ConfigError("layer", f"{layer!r} is not a layer of this model")
    x = to_model_device(x.detach(), model).clone().float().requires_grad_(True)  # (1, C, H, W)
    out = _output_of(model, layer, x, grad=True)
    if out.dim() != 4 or not 0 <= channel < out.shape[1] or not (0 <= index[0] < out.shape[2]
                                                                   and 0 <= index[1] < out.shape[3]):
        raise ConfigError("index", f"no output [{channel}, {index[0]}, {index[1]}] in a {tuple(out.shape)} map")
    (g,) = torch.autograd.grad(out[0, channel, index[0], index[1]], x)
    return g[0].abs().sum(0).detach().cpu()


@dataclass(frozen=True)
class TopPatch:
    image: int                       # index into the images searched
    index: tuple[int, int]           # output position
    value: float
    box: tuple[int, int, int, int]   # receptive field (top, left, bottom, right)
    patch: torch.Tensor              # (C, h, w) the image inside the box


def top_patches(model: nn.Module, images: torch.Tensor, layer: str, channel: int, k: int = 8,
                batch: int = 256) -> list[TopPatch]:
    """The ``k`` images (each counted once, at its strongest position) whose receptive-field patch excites
    ``channel`` of ``layer`` most, strongest first."""
    if not 1 <= k <= 64:
        raise ConfigError("k", f"must be in 1..64, got {k}")
    best = []
    for s in range(0, len(images), batch):
        out = _output_of(model, layer, images[s:s + batch])  # (B, C_out, h, w)
        if out.dim() != 4 or not 0 <= channel < out.shape[1]:
            raise ConfigError("channel", f"must be in 0..{out.shape[1] - 1 if out.dim() == 4 else 0}, got {channel}")
        flat = out[:, channel].flatten(1).cpu()  # (B, h·w)
        v, pos = flat.max(1)
        best += [(float(v[b]), s + b, int(pos[b]), out.shape[-1]) for b in range(len(v))]
    best.sort(key=lambda t: -t[0])
    result, boxes = [], {}
    for value, img, pos, w in best[:k]:
        ij = (pos // w, pos % w)
        if ij not in boxes:
            boxes[ij] = receptive_field(model, images[:1], layer, ij)
        t, l, b, r = boxes[ij]
        result.append(TopPatch(img, ij, value, boxes[ij], images[img, :, t:b + 1, l:r + 1].clone()))
    return result


def drawing_input(values, channels: int, size: int) -> torch.Tensor:
    """The drawing pad's picture (``PAD_SIDE``·``PAD_SIDE`` intensities in [0, 1], row by row; empty or inkless:
    a black image) as a model input (1, channels, size, size), through :func:`cnnviz.explorer.drawing.preprocess`:
    MNIST's 20-px box centred by mass in 28×28 for 28-px inputs (the drawing model), the whole side with a wide
    pen for small ones (scikit-learn's 8×8 digits fill their box), a box of 5/7 of the side otherwise."""
    from .drawing import BOX, PEN, SIDE, STROKE_MIN, pad_image, preprocess
    image = pad_image(values) if len(values or ()) else None
    if image is None or int(image.max()) < STROKE_MIN:
        return torch.zeros(1, channels, size, size)
    box, pen = (size, 0.25) if size < 16 else (round(size * BOX / SIDE), PEN)
    return preprocess(image, size, box, pen).expand(1, channels, size, size).clone()


SOURCES = ("sample", "validation", "upload", "draw")


def explorer_input(info, source: str, sample: str = "", index: int = 0, data: bytes | None = None,
                   drawing=()) -> tuple[torch.Tensor, int | None]:
    """The Network Explorer's image: :func:`cnnviz.inside.shipped.input_image`'s sources plus a drawing (the pad's
    intensities, see :func:`drawing_input`; an empty drawing is a black image). Returns (x (1, C, H, W), true class
    or None)."""
    from cnnviz.inside.shipped import input_image
    c, size = info.kwargs["in_channels"], info.kwargs["size"]
    if source == "draw":
        return drawing_input(list(drawing), c, size), None
    return input_image(info, source, sample, index, data)
