"""The 15 relationships of Dumoulin & Visin, "A guide to convolution arithmetic for deep learning"
(2016), checked on a grid of sizes against both the engine and PyTorch itself."""
import itertools

import pytest
from tests.support.torch_oracle import torch_conv, torch_pool

from cnnviz.geometry.arithmetic import conv_output_shape, pool_output_shape

SIZES = range(1, 13)
KERNELS = range(1, 6)
STRIDES = range(1, 4)
PADS = range(0, 4)


def out(i, k, s=1, p=0, d=1):
    """The engine's single-axis output size; also checked against PyTorch."""
    got = conv_output_shape((1, i), 1, k, s, p, d)[1]
    assert torch_conv((1, i), 1, k, s, p, d)[0][1] == got
    return got


def out_t(i, k, s=1, p=0, a=0):
    got = conv_output_shape((1, i), 1, k, s, p, transposed=True, output_padding=a)[1]
    assert torch_conv((1, i), 1, k, s, p, transposed=True, output_padding=a)[0][1] == got
    return got


def valid(i, k, s=1, p=0, d=1):
    return i + 2 * p >= d * (k - 1) + 1


def grid(*ranges):
    return list(itertools.product(*ranges))


@pytest.mark.parametrize("i,k", grid(SIZES, KERNELS))
def test_r1_no_padding_unit_stride(i, k):
    if valid(i, k):
        assert out(i, k) == i - k + 1


@pytest.mark.parametrize("i,k,p", grid(SIZES, KERNELS, PADS))
def test_r2_zero_padding_unit_stride(i, k, p):
    if valid(i, k, p=p):
        assert out(i, k, p=p) == i - k + 2 * p + 1


@pytest.mark.parametrize("i,k", grid(SIZES, [1, 3, 5, 7]))
def test_r3_half_padding(i, k):
    assert out(i, k, p=k // 2) == i
    assert conv_output_shape((1, i), 1, k, padding="same")[1] == i


@pytest.mark.parametrize("i,k", grid(SIZES, KERNELS))
def test_r4_full_padding(i, k):
    assert out(i, k, p=k - 1) == i + (k - 1)


@pytest.mark.parametrize("i,k,s", grid(SIZES, KERNELS, STRIDES))
def test_r5_no_padding_strided(i, k, s):
    if valid(i, k):
        assert out(i, k, s) == (i - k) // s + 1


@pytest.mark.parametrize("i,k,s,p", grid(SIZES, KERNELS, STRIDES, PADS))
def test_r6_padding_strided(i, k, s, p):
    if valid(i, k, p=p):
        assert out(i, k, s, p) == (i + 2 * p - k) // s + 1


@pytest.mark.parametrize("i,k,s", grid(SIZES, KERNELS, STRIDES))
def test_r7_pooling(i, k, s):
    if i >= k:
        assert pool_output_shape((1, i), k, s)[1] == (i - k) // s + 1 == torch_pool((1, i), k, s)[1]


# Transposed convolutions: the transpose of a conv (i, k, s, p) with output size o takes i' = o back to i.
@pytest.mark.parametrize("i,k", grid(SIZES, KERNELS))
def test_r8_transposed_no_padding_unit_stride(i, k):
    if valid(i, k):
        o = out(i, k)  # i' = o; equivalent direct conv: k' = k, s' = 1, p' = k - 1
        assert out_t(o, k) == o + (k - 1) == i == out(o, k, p=k - 1)


@pytest.mark.parametrize("i,k,p", grid(SIZES, KERNELS, PADS))
def test_r9_transposed_zero_padding_unit_stride(i, k, p):
    if valid(i, k, p=p) and p <= k - 1:
        o = out(i, k, p=p)  # k' = k, s' = 1, p' = k - p - 1
        assert out_t(o, k, p=p) == o + (k - 1) - 2 * p == i == out(o, k, p=k - p - 1)


@pytest.mark.parametrize("i,k", grid(SIZES, [1, 3, 5, 7]))
def test_r10_transposed_half_padding(i, k):
    o = out(i, k, p=k // 2)
    assert out_t(o, k, p=k // 2) == o == i


@pytest.mark.parametrize("i,k", grid(SIZES, KERNELS))
def test_r11_transposed_full_padding(i, k):
    o = out(i, k, p=k - 1)  # k' = k, s' = 1, p' = 0
    if o - (k - 1) >= 1:
        assert out_t(o, k, p=k - 1) == o - (k - 1) == i == out(o, k)


@pytest.mark.parametrize("i,k,s", grid(SIZES, KERNELS, STRIDES))
def test_r12_transposed_no_padding_strided(i, k, s):
    if valid(i, k) and (i - k) % s == 0:
        o = out(i, k, s)
        assert out_t(o, k, s) == s * (o - 1) + k == i


@pytest.mark.parametrize("i,k,s,p", grid(SIZES, KERNELS, STRIDES, PADS))
def test_r13_transposed_padding_strided(i, k, s, p):
    if valid(i, k, p=p) and (i + 2 * p - k) % s == 0 and p <= k - 1:
        o = out(i, k, s, p)
        assert out_t(o, k, s, p) == s * (o - 1) + k - 2 * p == i


@pytest.mark.parametrize("i,k,s,p", grid(SIZES, KERNELS, STRIDES, PADS))
def test_r14_transposed_padding_strided_any(i, k, s, p):
    if valid(i, k, p=p) and p <= k - 1:
        o = out(i, k, s, p)
        a = (i + 2 * p - k) % s  # output_padding recovers the rows the stride dropped
        assert out_t(o, k, s, p, a) == s * (o - 1) + a + k - 2 * p == i


@pytest.mark.parametrize("i,k,s,p,d", grid(SIZES, KERNELS, STRIDES, PADS, [1, 2, 3]))
def test_r15_dilated(i, k, s, p, d):
    if valid(i, k, p=p, d=d):
        assert out(i, k, s, p, d) == (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1


def test_guide_worked_examples():
    """Figures 2.1–2.7 and 5.1 of the guide."""
    assert out(4, 3) == 2                  # fig 2.1
    assert out(5, 4, p=2) == 6             # fig 2.2
    assert out(5, 3, p=1) == 5             # fig 2.3 half padding
    assert out(5, 3, p=2) == 7             # fig 2.4 full padding
    assert out(5, 3, s=2) == 2             # fig 2.5
    assert out(5, 3, s=2, p=1) == 3        # fig 2.6
    assert out(6, 3, s=2, p=1) == 3        # fig 2.7
    assert out(7, 3, d=2) == 3             # fig 5.1
    assert out_t(3, 3, s=2, p=1, a=1) == 6  # fig 4.7: recovers the 6x6 input of fig 2.7
