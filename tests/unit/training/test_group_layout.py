"""The class group's grouped pass: GroupedForward (the grouped path and the evaluation's shared-images first
convolution) against each member's own module, outputs and parameter gradients in float64; and its memory layout:
every convolution and pooling runs on channels-last tensors (oneDNN's fast path), also with one input channel per
member (digits), where the members' images side by side are otherwise a member-major view that makes the whole
pass run in NCHW."""
import pytest
import torch
import torch.nn.functional as F
from torch.func import stack_module_state

from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.training.group_forward import GroupedForward, grouped_input


@pytest.mark.parametrize("cls,c,size", [(TinyVGG, 1, 8), (TinyVGG, 3, 12), (SmallResNet, 3, 8)])
def test_grouped_forward_paths_are_each_members_module(cls, c, size):
    torch.manual_seed(0)
    models = [cls(c, 5, size, 4).double() for _ in range(3)]
    for mod in models:
        mod.eval()
    params, buffers = stack_module_state(models)
    x = torch.randn(3, 4, c, size, size, dtype=torch.float64)
    want = torch.stack([mod(x[k]) for k, mod in enumerate(models)])
    want_grads = [torch.stack(g) for g in zip(*[torch.autograd.grad(mod(x[k]).square().sum(), list(
        mod.parameters())) for k, mod in enumerate(models)])]
    shared = x[0].expand(3, *x.shape[1:])  # the evaluation's validation images: one tensor for all members
    want_shared = torch.stack([mod(x[0]) for mod in models])
    fwd = GroupedForward(models[0])
    out = fwd(params, buffers, x, training=False)
    assert torch.allclose(out, want, rtol=0, atol=1e-10)
    grads = torch.autograd.grad(out.square().sum(), list(params.values()))
    for g, e in zip(grads, want_grads):
        assert torch.allclose(g, e, rtol=0, atol=1e-9)
    with torch.no_grad():
        assert torch.allclose(fwd(params, buffers, shared, training=False), want_shared, rtol=0, atol=1e-10)


def _channels_last(t: torch.Tensor) -> bool:
    return t.is_contiguous(memory_format=torch.channels_last) and t.stride(1) == 1


@pytest.mark.parametrize("c", [1, 3])
def test_grouped_input_is_channels_last_with_each_members_images_as_its_channels(c):
    x = torch.randn(4, 5, c, 6, 7, generator=torch.Generator().manual_seed(0))
    h = grouped_input(x)
    assert h.shape == (5, 4 * c, 6, 7) and _channels_last(h)
    for k in range(4):
        assert torch.equal(h[:, k * c:(k + 1) * c], x[k])


@pytest.mark.parametrize("cls,c", [(TinyVGG, 1), (TinyVGG, 3), (SmallResNet, 1)])
def test_every_convolution_and_pooling_of_the_grouped_pass_reads_channels_last(monkeypatch, cls, c):
    torch.manual_seed(0)
    models = [cls(c, 5, 8, 4) for _ in range(3)]
    params, buffers = stack_module_state(models)
    seen = []

    def spy(name, fn):
        def wrapped(h, *args, **kwargs):
            seen.append((name, tuple(h.shape), _channels_last(h)))
            return fn(h, *args, **kwargs)
        return wrapped
    x = torch.randn(3, 4, c, 8, 8)
    want = torch.stack([mod(x[k]) for k, mod in enumerate(models)])
    monkeypatch.setattr(F, "conv2d", spy("conv2d", F.conv2d))
    monkeypatch.setattr(F, "max_pool2d", spy("max_pool2d", F.max_pool2d))
    out = GroupedForward(models[0])(params, buffers, x)
    assert torch.allclose(out, want, rtol=1e-5, atol=1e-5)
    assert any(name == "conv2d" for name, _, _ in seen)
    assert all(ok for _, _, ok in seen), [s for s in seen if not s[2]]
