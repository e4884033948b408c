"""Vanishing gradients: hand-checked gradient norms and the effect the demo shows."""
import pytest
import torch

from cnnviz import ConfigError
from cnnviz.training.gradients import DeepStack, compare, layer_grad_norms


def test_grad_norms_are_the_norms_autograd_computes():
    torch.manual_seed(0)
    m = DeepStack(4, 1, 3)
    x, y = torch.rand(5, 1, 6, 6), torch.tensor([0, 1, 2, 0, 1])
    torch.nn.functional.cross_entropy(m(x), y).backward()
    expected = [m.stem.weight.grad.norm().item(), *(c.weight.grad.norm().item() for c in m.convs)]
    assert layer_grad_norms(m) == pytest.approx(expected)
    assert len(expected) == 4


def test_plain_sigmoid_stack_vanishes_and_resnet_does_not():
    from cnnviz.io.data import load_dataset
    ds = load_dataset("digits", n=300)
    r = compare(ds.x_train, ds.y_train, 10, depth=16, steps=3)
    plain, res = r["plain"]["grad_norms"], r["resnet"]["grad_norms"]
    assert plain[0] < plain[-1] * 1e-4          # input-side layers get ~nothing: σ' ≤ 1/4 per layer
    assert res[0] > res[-1] * 1e-1              # shortcuts carry the gradient to the first layer
    assert len(r["plain"]["losses"]) == 3


def test_bad_depth_names_the_field():
    with pytest.raises(ConfigError) as e:
        DeepStack(1, 1, 3)
    assert e.value.field == "depth"
