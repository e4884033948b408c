"""A grouped small convolution as batched matrix products over members: the class group's 3×3 convolutions
(stride 1, padding 1) without oneDNN's grouped kernel.

Layout (:class:`Grid`): one flat buffer ``margin + M·C·inner + margin`` whose row ``(member, channel)`` holds
the ``inner = B·(H+2)·(W+2)`` values of that channel over the member's zero-padded images. A 3×3 tap ``(i, j)``
is then the rows shifted by ``(i − 1)·(W + 2) + (j − 1)`` elements: a view ``(M, C, inner)``, so the convolution
is nine ``baddbmm`` of the members' tap weights ``(M, O, C)`` with views of the input, no im2col copy. A shift
reads a neighbouring row only at padding positions; outputs there are set to zero (the interior mask), so an
output buffer is the next convolution's padded input as it stands, and a row read across its end reads only
zeros (a member whose values overflow to inf or NaN cannot reach its classmates' numbers). The backward pass
is the same nine products with the transposed taps (input gradient, shifts reversed) and nine ``bmm`` of the
output gradient against the shifted inputs (weight gradient).

Measured (bench/group_step.py, 30 members digits TinyVGG, B 64, on a loaded 2-core box): one thread's CPU time
per step about that of oneDNN's grouped convolution (ratio 1.01), with two threads twice as long (on the CPU an
in-place ``baddbmm_`` is one ``addmm_`` per member: hundreds of small parallel regions per step). Hence it is
not the default; ``GroupedForward(conv="shift")`` or ``CNNVIZ_GROUP_CONV=shift`` selects it."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Grid:
    """The padded-flat geometry of ``b`` images of ``h × w`` for ``m`` members with ``c`` channels: one flat buffer
    ``(margin + m·c·inner + margin,)``, row ``(k, ch)`` the ``inner = b·(h+2)·(w+2)`` values of member k's
    channel ch over its zero-padded images."""

    m: int
    c: int
    b: int
    h: int
    w: int

    @property
    def margin(self) -> int:
        return self.w + 3

    @property
    def inner(self) -> int:
        return self.b * (self.h + 2) * (self.w + 2)

    @property
    def total(self) -> int:
        return self.m * self.c * self.inner + 2 * self.margin

    def with_channels(self, c: int) -> Grid:
        return Grid(self.m, c, self.b, self.h, self.w)

    def deltas(self) -> list[int]:
        """Tap (i, j)'s shift in the flat rows, taps in the kernel's row-major order."""
        return [(i - 1) * (self.w + 2) + (j - 1) for i in range(3) for j in range(3)]

    def rows(self, flat: torch.Tensor, delta: int = 0) -> torch.Tensor:
        """``(m, c, inner)`` view of ``flat``, shifted by ``delta`` elements (a tap's input)."""
        n = self.inner
        return flat.as_strided((self.m, self.c, n), (self.c * n, n, 1), flat.storage_offset() + self.margin + delta)

    def mask(self, device) -> torch.Tensor:
        """True at the images' pixels, False on their padding: ``(inner,)``."""
        grid = torch.zeros(self.b, self.h + 2, self.w + 2, device=device, dtype=torch.bool)
        grid[:, 1:-1, 1:-1] = True
        return grid.view(-1)

    def pixels(self, flat: torch.Tensor) -> torch.Tensor:
        """The images' pixels of ``flat`` as a view ``(m, c, b, h, w)``."""
        grid = flat[self.margin:self.margin + self.m * self.c * self.inner].view(
            self.m, self.c, self.b, self.h + 2, self.w + 2)
        return grid[:, :, :, 1:self.h + 1, 1:self.w + 1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``x (m, c, b, h, w)`` → the flat buffer with zeros around (differentiable)."""
        return F.pad(F.pad(x, (1, 1, 1, 1)).reshape(-1), (self.margin, self.margin))


def _fresh(grid: Grid, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A flat buffer for ``grid`` with zero margins (its rows not initialised), and its rows ``(m, c, inner)``."""
    flat = like.new_empty(grid.total)
    flat[:grid.margin].zero_()
    flat[grid.total - grid.margin:].zero_()
    return flat, grid.rows(flat)


class _ShiftConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, flat, weight, bias, mask, grid):
        # flat: grid's buffer; weight (M, O, C, 3, 3); bias (M, O) or None; mask (inner,)
        m, o, c = weight.shape[:3]
        taps = weight.permute(3, 4, 0, 1, 2).reshape(9, m, o, c)  # tap-major copy: (9, M, O, C)
        out_grid = grid.with_channels(o)
        out, core = _fresh(out_grid, flat)
        if bias is not None:
            core.copy_(bias.unsqueeze(-1).expand(m, o, grid.inner))
        else:
            core.zero_()
        for k, d in enumerate(grid.deltas()):
            core.baddbmm_(taps[k], grid.rows(flat, d))
        core.masked_fill_(~mask, 0)  # not a product: a classmate's inf or NaN must not leak into the padding
        ctx.save_for_backward(flat, taps, mask)
        ctx.grid, ctx.has_bias = grid, bias is not None
        return out

    @staticmethod
    def backward(ctx, grad):
        flat, taps, mask = ctx.saved_tensors
        grid = ctx.grid
        m, o, c = taps.shape[1:]
        out_grid = grid.with_channels(o)
        gbuf, gcore = _fresh(out_grid, grad)
        torch.where(mask, out_grid.rows(grad), grad.new_zeros(()), out=gcore)  # zero on the padding
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx, core = _fresh(grid, flat)
            core.zero_()
            for k, d in enumerate(grid.deltas()):
                core.baddbmm_(taps[k].transpose(1, 2), out_grid.rows(gbuf, -d))
        if ctx.needs_input_grad[1]:
            gw = torch.stack([torch.bmm(gcore, grid.rows(flat, d).transpose(1, 2)) for d in grid.deltas()], -1)
            gw = gw.view(m, o, c, 3, 3)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = gcore.sum(-1)
        return gx, gw, gb, None, None


def shift_conv(flat: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, grid: Grid,
               mask: torch.Tensor) -> torch.Tensor:
    """The members' 3×3 convolutions (stride 1, padding 1) of ``flat`` (``grid``'s buffer): the output's buffer
    (``grid`` with O channels), zero outside the images' pixels; ``weight (M, O, C, 3, 3)``, ``bias (M, O)``."""
    return _ShiftConv.apply(flat, weight, bias, mask, grid)

