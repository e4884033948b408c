"""The Architecture Lab's drawn blocks against PyTorch: shuffle permutation, 3-D vs (2+1)-D costs, dynamic
convolution's kernel attention, ViT patch embedding."""
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz import ConfigError
from cnnviz.architecture.block_views import kernel_attention, patch_embedding, shuffle_permutation, video_conv_costs
from cnnviz.architecture.blocks import Conv2Plus1D, channel_shuffle
from cnnviz.architecture.summary import summarize


def _flops(model, x):
    with FlopCounterMode(display=False) as fc:
        model(x)
    return fc.get_total_flops()


@pytest.mark.parametrize("c,g", [(6, 2), (6, 3), (12, 4), (8, 1), (8, 8), (64, 16)])
def test_shuffle_permutation_is_the_real_shuffle(c, g):
    perm = shuffle_permutation(c, g)
    x = torch.arange(c).view(1, c, 1, 1)
    assert channel_shuffle(x, g).flatten().tolist() == perm
    assert x.view(1, g, c // g).transpose(1, 2).flatten().tolist() == perm  # view/transpose/flatten by hand
    assert sorted(perm) == list(range(c))


def test_shuffle_by_hand_and_bad_groups():
    assert shuffle_permutation(6, 2) == [0, 3, 1, 4, 2, 5]
    assert shuffle_permutation(6, 3) == [0, 2, 4, 1, 3, 5]
    with pytest.raises(ConfigError, match="groups"):
        shuffle_permutation(6, 4)


@pytest.mark.parametrize("T,H,W,ci,co,k,t", [(4, 8, 8, 3, 8, 3, 3), (3, 5, 7, 4, 6, 5, 1), (2, 6, 6, 2, 2, 1, 3)])
def test_video_costs_equal_torch(T, H, W, ci, co, k, t):
    full, split = video_conv_costs(T, H, W, ci, co, k, t)
    x = torch.zeros(1, ci, T, H, W)
    conv3 = nn.Conv3d(ci, co, (t, k, k), padding=(t // 2, k // 2, k // 2), bias=False)
    assert full.params == sum(p.numel() for p in conv3.parameters())
    assert full.flops == _flops(conv3, x)
    assert full.activation_bytes == conv3(x).numel() * 4
    block = Conv2Plus1D(ci, co, k, t).eval()
    assert split.params == sum(p.numel() for p in block.parameters())
    assert split.flops == _flops(block, x)
    s = summarize(block, (ci, T, H, W))
    assert split.activation_bytes == s.activation_bytes and split.params == s.total_params


def test_video_costs_by_hand_and_errors():
    full, split = video_conv_costs(8, 16, 16, 64, 64, 3, 3)
    assert full.params == 64 * 64 * 27 == 110_592  # M = 27·64·64 / (9·64 + 3·64) = 144
    assert split.params == 144 * 64 * 9 + 2 * 144 + 64 * 144 * 3 == 110_880
    with pytest.raises(ConfigError, match="kernel k"):
        video_conv_costs(8, 16, 16, 3, 8, 4, 3)
    with pytest.raises(ConfigError, match="frames"):
        video_conv_costs(0, 16, 16, 3, 8, 3, 3)


def test_kernel_attention_sums_to_one_and_depends_on_the_input():
    rows = kernel_attention(("red stripes", "blue blob"), experts=4, temperature=1.0, seed=0)
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    assert all(abs(sum(r) - 1) < 1e-6 and min(r) > 0 for r in rows)
    assert max(abs(a - b) for a, b in zip(*rows)) > 0.05
    assert kernel_attention(("red stripes", "blue blob"), 4, 1.0, 0) == rows  # seeded
    hot = kernel_attention(("red stripes", "blue blob"), 4, 100.0, 0)  # a high τ flattens towards 1/K
    assert max(abs(v - 0.25) for r in hot for v in r) < max(abs(v - 0.25) for r in rows for v in r)
    with pytest.raises(ConfigError, match="image"):
        kernel_attention(("nope",))


@pytest.mark.parametrize("size,p,c,d", [(32, 4, 3, 16), (224, 16, 3, 768), (28, 7, 1, 8), (8, 8, 3, 5)])
def test_patch_embedding_is_a_strided_conv(size, p, c, d):
    e = patch_embedding(size, p, c, d)
    conv = nn.Conv2d(c, d, p, stride=p)
    x = torch.zeros(1, c, size, size)
    out = conv(x)  # (1, d, H/p, W/p)
    assert e.tokens == out.flatten(2).shape[2] and e.grid == out.shape[-1]
    assert e.params == sum(q.numel() for q in conv.parameters())
    assert e.flops == _flops(conv, x)


def test_patch_embedding_refuses_sizes_that_do_not_tile():
    with pytest.raises(ConfigError, match="patch size") as err:
        patch_embedding(30, 4)
    assert "must divide image size 30" in str(err.value)
    with pytest.raises(ConfigError, match="image size"):
        patch_embedding(0, 4)


def test_the_numbers_the_lesson_quotes():
    """The Lessons step "Modern blocks, drawn" (cnnviz/classroom/lessons.py) quotes these for the page's defaults."""
    full, split = video_conv_costs(16, 112, 112, 64, 64, 3, 3)
    assert full.params == 110_592 and split.params - 2 * 144 == 110_592  # conv weights (BatchNorm aside)
    assert split.flops == full.flops and split.activation_bytes / full.activation_bytes == 7.75
    a, b = patch_embedding(224, 16), patch_embedding(224, 8)
    assert (a.tokens, b.tokens) == (196, 784) and a.flops == b.flops
    assert shuffle_permutation(12, 3)[:3] == [0, 4, 8]  # one channel of each group
