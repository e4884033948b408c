"""transposed_as_direct: the stride-1 direct convolution a transposed one equals, checked against PyTorch's
nn.ConvTranspose1d/2d: the same output length and the same values (zeros inserted, padded, kernel flipped)."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from cnnviz.geometry import conv_geometry, transposed_as_direct
from cnnviz.figures.conv_grid import conv_axes


def _direct(x, w, stride, padding, dilation, output_padding):
    """x: (1, 1, L), w: (1, 1, k): zeros inserted, padded (lo, hi), flipped kernel, stride-1 conv1d."""
    lo, hi, insert = transposed_as_direct(w.shape[-1], stride, padding, dilation, output_padding)
    n = x.shape[-1]
    up = torch.zeros(1, 1, (n - 1) * (insert + 1) + 1, dtype=x.dtype)  # (1, 1, (L-1)·s + 1)
    up[..., ::insert + 1] = x
    up = F.pad(up, (max(lo, 0), max(hi, 0)))  # a negative pad (p > d·(k-1)) crops instead
    up = up[..., -min(lo, 0): up.shape[-1] + min(hi, 0)]
    return F.conv1d(up, w.flip(-1), dilation=dilation)


CASES = [(n, k, s, p, d, op) for n, k, s, p, d, op in itertools.product((1, 4, 7), (1, 2, 3), (1, 2, 3), (0, 1, 2),
                                                                          (1, 2), (0, 1))
         if op < max(s, d) and p <= d * (k - 1) and (n - 1) * s - 2 * p + d * (k - 1) + op + 1 > 0]  # PyTorch's rules


@pytest.mark.parametrize("n,k,s,p,d,op", CASES)
def test_the_direct_conv_equals_conv_transpose1d(n, k, s, p, d, op):
    torch.manual_seed(0)
    x, w = torch.randn(1, 1, n, dtype=torch.float64), torch.randn(1, 1, k, dtype=torch.float64)
    want = F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=op, dilation=d)
    got = _direct(x, w, s, p, d, op)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want)


def test_hand_computed_numbers():
    # k=3, s=2, p=1, d=1, op=1: d·(k−1) − p = 1 before, 1 + 1 = 2 after, 1 zero between cells
    assert transposed_as_direct(3, 2, 1, 1, 1) == (1, 2, 1)
    assert transposed_as_direct(4, 2, 1) == (2, 2, 1)  # DCGAN's upsampling layer: 2 each side
    assert transposed_as_direct(3, 1, 0, 2) == (4, 4, 0)


def test_the_figure_axes_match_conv_transpose2d_shapes():
    """conv_axes draws each axis with these paddings; its grid's output size is nn.ConvTranspose2d's."""
    for (h, w), k, s, p, op in [((5, 3), (3, 2), (2, 3), (1, 0), (1, 2)), ((4, 4), (4, 4), (2, 2), (1, 1), (0, 0))]:
        g = conv_geometry((2, h, w), 3, k, s, p, 1, transposed=True, output_padding=op)
        want = torch.nn.ConvTranspose2d(2, 3, k, s, p, op)(torch.zeros(1, 2, h, w)).shape[2:]
        for ax, a in enumerate(conv_axes(g)):
            lo, hi, insert = transposed_as_direct(k[ax], s[ax], p[ax], 1, op[ax])
            assert (a.pad_lo, a.pad_hi, a.insert) == (lo, hi, insert)
            n_direct = ((h, w)[ax] - 1) * (insert + 1) + 1 + lo + hi - (k[ax] - 1)
            assert n_direct == want[ax] == g.spatial_out[ax]
