"""The class group's convolution paths against PyTorch: group_conv.shift_conv (3×3, stride 1, padding 1, as
batched products on a padded-flat buffer) against F.conv2d per member, forward and gradients by autograd, in
float64; a member's inf / NaN stays its own; GroupedForward's paths (oneDNN grouped, shift, the shared-images
first convolution of the evaluation) against each member's own module, outputs and parameter gradients."""
import pytest
import torch
import torch.nn.functional as F
from torch.func import stack_module_state

from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.training.group_conv import Grid, shift_conv
from cnnviz.training.group_forward import GroupedForward

D = torch.float64


def _members(m, b, c, o, h, w, bias, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, b, c, h, w, generator=g, dtype=D, requires_grad=True)
    weight = torch.randn(m, o, c, 3, 3, generator=g, dtype=D, requires_grad=True)
    b_ = torch.randn(m, o, generator=g, dtype=D, requires_grad=True) if bias else None
    return x, weight, b_


def _shift(x, weight, bias):
    m, b, c, h, w = x.shape
    grid = Grid(m, c, b, h, w)
    out = shift_conv(grid.embed(x.transpose(1, 2)), weight, bias, grid, grid.mask(x.device))
    return grid.with_channels(weight.shape[1]).pixels(out).transpose(1, 2)  # (M, B, O, H, W)


@pytest.mark.parametrize("shape,bias", [((3, 2, 2, 4, 5, 4), True), ((2, 3, 1, 3, 4, 4), False),
                                        ((1, 1, 3, 2, 1, 3), True)])
def test_shift_conv_is_each_members_conv2d_forward_and_gradients(shape, bias):
    x, weight, b = _members(*shape, bias)
    ref = torch.stack([F.conv2d(x[k], weight[k], None if b is None else b[k], 1, 1) for k in range(len(x))])
    out = _shift(x, weight, b)
    assert out.shape == ref.shape
    assert torch.allclose(out, ref, rtol=0, atol=1e-12)
    probe = torch.randn(ref.shape, dtype=D, generator=torch.Generator().manual_seed(1))
    leaves = [t for t in (x, weight, b) if t is not None]
    got = torch.autograd.grad((out * probe).sum(), leaves)
    want = torch.autograd.grad((ref * probe).sum(), leaves)
    for a, e in zip(got, want):
        assert torch.allclose(a, e, rtol=0, atol=1e-12)


def _two_convs(x, weight, bias):
    """Two shift convolutions in a row (the second reads the first's padding: where a leak would show)."""
    m, b, c, h, w = x.shape
    grid = Grid(m, c, b, h, w)
    mask = grid.mask(x.device)
    out = shift_conv(grid.embed(x.transpose(1, 2)), weight, bias, grid, mask)
    out = shift_conv(out, weight, bias, grid, mask)
    return grid.pixels(out).transpose(1, 2)


def test_a_members_inf_and_nan_stay_its_own():
    x, weight, b = _members(3, 2, 2, 2, 4, 4, True)
    clean = _two_convs(x, weight, b)
    gx, gw = torch.autograd.grad(clean.sum(), (x, weight))
    with torch.no_grad():
        x2, w2 = x.detach().clone(), weight.detach().clone()
        x2[1, 0, 0, 0, 0] = x2[1, -1, -1, -1, -1] = float("inf")  # member 1's first and last pixels
        w2[1, 0, 0, 1, 1] = float("nan")
    x2.requires_grad_(), w2.requires_grad_()
    out = _two_convs(x2, w2, b)
    hx, hw = torch.autograd.grad(out.sum(), (x2, w2))
    for k in (0, 2):
        assert torch.equal(out[k], clean[k]) and torch.equal(hx[k], gx[k]) and torch.equal(hw[k], gw[k])
    assert not torch.isfinite(out[1]).all()


@pytest.mark.parametrize("cls,c,size", [(TinyVGG, 1, 8), (TinyVGG, 3, 12), (SmallResNet, 3, 8)])
def test_grouped_forward_paths_are_each_members_module(cls, c, size):
    torch.manual_seed(0)
    models = [cls(c, 5, size, 4).double() for _ in range(3)]
    for mod in models:
        mod.eval()
    params, buffers = stack_module_state(models)
    x = torch.randn(3, 4, c, size, size, dtype=D)
    want = torch.stack([mod(x[k]) for k, mod in enumerate(models)])
    want_grads = [torch.stack(g) for g in zip(*[torch.autograd.grad(mod(x[k]).square().sum(), list(
        mod.parameters())) for k, mod in enumerate(models)])]
    shared = x[0].expand(3, *x.shape[1:])  # the evaluation's validation images: one tensor for all members
    want_shared = torch.stack([mod(x[0]) for mod in models])
    for conv in ("grouped", "shift"):
        fwd = GroupedForward(models[0], conv)
        assert fwd.shift == (conv == "shift" and cls is TinyVGG)
        out = fwd(params, buffers, x, training=False)
        assert torch.allclose(out, want, rtol=0, atol=1e-10)
        grads = torch.autograd.grad(out.square().sum(), list(params.values()))
        for g, e in zip(grads, want_grads):
            assert torch.allclose(g, e, rtol=0, atol=1e-9)
        with torch.no_grad():
            assert torch.allclose(fwd(params, buffers, shared, training=False), want_shared, rtol=0, atol=1e-10)
