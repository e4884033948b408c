"""The numbers behind the Architecture Lab's drawn blocks: the channel-shuffle permutation, 3-D vs (2+1)-D
convolution costs for a video clip, dynamic convolution's kernel attention for two images, and the ViT patch
embedding as a convolution. Closed forms (checked against PyTorch in tests/unit/architecture/test_block_views.py);
sizes are bounded by ``cnnviz.limits`` before anything is built."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnviz.architecture.blocks.dynamic_conv import DynamicConv
from cnnviz.architecture.blocks.r2plus1d import mid_channels
from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError
from cnnviz.limits import (DYNAMIC_MAX_EXPERTS, PATCH_MAX_DIM, PATCH_MAX_IMAGE, SHUFFLE_MAX_CHANNELS,
                           VIDEO_MAX_CHANNELS, VIDEO_MAX_FRAMES, VIDEO_MAX_KERNEL, VIDEO_MAX_SIZE)

FLOAT32 = 4  # bytes


def _n(v: int) -> str:
    """12,345 for LaTeX (a bare comma there is punctuation and gets a space after it)."""
    return f"{v:,}".replace(",", "{,}")


def _int(field: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(field, f"must be a whole number from {lo} to {hi}, got {safe_repr(value)}")
    return value


# --------------------------------------------------------------------------- channel shuffle
def shuffle_permutation(channels: int, groups: int) -> list[int]:
    """Which input channel lands at each output position of ``channel_shuffle``: with c = C / g channels per
    group, output j takes input (j mod g)·c + ⌊j / g⌋ (view (g, c) -> transpose -> flatten)."""
    channels = _int("channels", channels, 1, SHUFFLE_MAX_CHANNELS)
    groups = _int("groups", groups, 1, channels)
    if channels % groups:
        raise ConfigError("groups", f"must divide channels={channels}, got {groups}")
    per = channels // groups
    return [(j % groups) * per + j // groups for j in range(channels)]


# --------------------------------------------------------------------------- 3-D vs (2+1)-D
@dataclass(frozen=True)
class ConvCost:
    name: str
    params: int
    flops: int             # FlopCounterMode's count: 2 per multiply-add, convs only (norms, ReLU: 0)
    activation_bytes: int  # every layer output for one clip, float32 (as ``summarize`` counts them)
    formula: tuple[str, ...]  # LaTeX lines with the numbers substituted


def video_conv_costs(frames: int, height: int, width: int, c_in: int, c_out: int, k: int = 3,
                     t: int = 3) -> tuple[ConvCost, ConvCost]:
    """One t×k×k ``nn.Conv3d`` (no bias, 'same' padding, stride 1) against ``Conv2Plus1D``: a 1×k×k conv to
    M channels, BatchNorm, ReLU, a t×1×1 conv, with M chosen so the two have about the same parameters."""
    T = _int("frames", frames, 1, VIDEO_MAX_FRAMES)
    H, W = _int("height", height, 1, VIDEO_MAX_SIZE), _int("width", width, 1, VIDEO_MAX_SIZE)
    ci, co = _int("C_in", c_in, 1, VIDEO_MAX_CHANNELS), _int("C_out", c_out, 1, VIDEO_MAX_CHANNELS)
    k, t = _int("kernel k", k, 1, VIDEO_MAX_KERNEL), _int("temporal kernel t", t, 1, VIDEO_MAX_KERNEL)
    for field, v in (("kernel k", k), ("temporal kernel t", t)):
        if v % 2 == 0:
            raise ConfigError(field, f"must be odd so 'same' padding keeps the clip's size, got {v}")
    n = T * H * W  # output positions (sizes kept)
    p3 = co * ci * t * k * k
    full = ConvCost("3-D conv", p3, 2 * p3 * n, co * n * FLOAT32,
                    (rf"P = C_{{out}} C_{{in}} t k^2 = {co}\cdot{ci}\cdot{t}\cdot{k}^2 = {_n(p3)}",
                     rf"\text{{FLOPs}} = 2PTHW = {_n(2 * p3 * n)}"))
    m = mid_channels(ci, co, t, k)
    ps, pt = m * ci * k * k, co * m * t
    split = ConvCost("(2+1)-D conv", ps + 2 * m + pt, 2 * (ps + pt) * n, (3 * m + co) * n * FLOAT32,
                     (rf"M = \lfloor \tfrac{{t k^2 C_{{in}} C_{{out}}}}{{k^2 C_{{in}} + t C_{{out}}}} \rfloor = {m}",
                      rf"P = M C_{{in}} k^2 + 2M + C_{{out}} M t = {_n(ps + 2 * m + pt)}",
                      rf"\text{{FLOPs}} = 2(M C_{{in}} k^2 + C_{{out}} M t)\,THW = {_n(2 * (ps + pt) * n)}"))
    return full, split


# --------------------------------------------------------------------------- dynamic convolution
IMAGES = ("red stripes", "green checkerboard", "blue blob", "dark grey")


def synthetic_image(name: str, size: int = 16) -> torch.Tensor:
    """A small RGB picture (3, size, size) in [0, 1], made with torch ops."""
    ax = torch.arange(size, dtype=torch.float32)
    y, x = torch.meshgrid(ax, ax, indexing="ij")
    img = torch.zeros(3, size, size)
    if name == "red stripes":
        img[0] = (x // 2 % 2).float()
    elif name == "green checkerboard":
        img[1] = ((x // 4 + y // 4) % 2).float()
    elif name == "blue blob":
        img[2] = torch.exp(-((x - size / 2) ** 2 + (y - size / 2) ** 2) / (size ** 2 / 8))
    elif name == "dark grey":
        img += 0.2
    else:
        raise ConfigError("image", f"must be one of {', '.join(IMAGES)}, got {safe_repr(name)}")
    return img  # (3, size, size)


def kernel_attention(images: tuple[str, ...], experts: int = 4, temperature: float = 1.0,
                     seed: int = 0) -> list[list[float]]:
    """Dynamic convolution's per-input kernel attention softmax(fc(avgpool(x)) / τ) over K kernels, one row per
    image, from a ``DynamicConv(3, 8, 3, K, gate="softmax")`` seeded with ``seed`` (untrained: the router sees
    only each channel's mean)."""
    experts = _int("kernels K", experts, 2, DYNAMIC_MAX_EXPERTS)
    if not isinstance(temperature, (int, float)) or not 0.05 <= temperature <= 100:
        raise ConfigError("temperature τ", f"must be from 0.05 to 100, got {safe_repr(temperature)}")
    torch.manual_seed(_int("seed", seed, 0, 10_000))
    conv = DynamicConv(3, 8, 3, experts, gate="softmax", temperature=float(temperature))
    for i, p in enumerate(conv.router.fc.parameters()):  # a visible spread: N(0, 3) routing weights
        torch.nn.init.normal_(p, std=3.0 if i == 0 else 0.5)
    x = torch.stack([synthetic_image(n) for n in images])  # (N, 3, 16, 16)
    with torch.no_grad():
        return conv.router(x).tolist()  # (N, K), each row sums to 1


# --------------------------------------------------------------------------- ViT patch embedding
@dataclass(frozen=True)
class PatchEmbedding:
    image: int
    patch: int
    channels: int
    dim: int
    grid: int      # patches per side
    tokens: int    # grid²
    params: int    # d·C·p² + d
    flops: int     # 2·tokens·d·C·p²
    formula: tuple[str, ...]  # LaTeX lines with the numbers substituted


def patch_embedding(image: int, patch: int, channels: int = 3, dim: int = 768) -> PatchEmbedding:
    """``nn.Conv2d(C, d, p, stride=p)`` over a square image: tokens = (H/p)², parameters d·C·p² + d."""
    image = _int("image size", image, 1, PATCH_MAX_IMAGE)
    patch = _int("patch size", patch, 1, image)
    channels = _int("channels", channels, 1, 4)
    dim = _int("embedding dim d", dim, 1, PATCH_MAX_DIM)
    if image % patch:
        raise ConfigError("patch size", f"must divide image size {image} (kernel = stride = p tiles the image "
                          f"exactly), got {patch}")
    g = image // patch
    params, flops = dim * channels * patch * patch + dim, 2 * g * g * dim * channels * patch * patch
    f = (rf"N = (H/p)^2 = ({image}/{patch})^2 = {_n(g * g)}",
         rf"P = d\,C\,p^2 + d = {dim}\cdot{channels}\cdot{patch}^2 + {dim} = {_n(params)}")
    return PatchEmbedding(image, patch, channels, dim, g, g * g, params, flops, f)


def patch_picture(image: int) -> list[list[float]]:
    """A grey picture to draw under the patch grid, at min(image, 64) pixels a side (a bright blob on a soft
    diagonal gradient)."""
    res = min(_int("image size", image, 1, PATCH_MAX_IMAGE), 64)
    ramp = torch.linspace(0, 1, res)
    pic = 0.7 * synthetic_image("blue blob", res)[2] + 0.3 * (ramp[:, None] + ramp[None, :]) / 2
    return pic.tolist()  # (res, res)
