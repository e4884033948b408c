"""The class group's memory layout: GroupedForward runs every convolution and pooling of the grouped pass on
channels-last tensors (oneDNN's fast path), also with one input channel per member (digits), where the members'
images side by side are otherwise a member-major view that makes the whole pass run in NCHW."""
import pytest
import torch
import torch.nn.functional as F
from torch.func import stack_module_state

from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.training.group_forward import GroupedForward, grouped_input


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
    out = GroupedForward(models[0], "grouped")(params, buffers, x)
    assert torch.allclose(out, want, rtol=1e-5, atol=1e-5)
    assert any(name == "conv2d" for name, _, _ in seen)
    assert all(ok for _, _, ok in seen), [s for s in seen if not s[2]]
