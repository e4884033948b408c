"""Activation capture (hooks always removed), kernels, statistics, equivariance — vs direct computation."""
import pytest
import torch
import torch.nn as nn

from cnnviz import ConfigError
from cnnviz.inside.features import (capture, channel_stats, equivariance, first_conv_kernels, probabilities,
                             rotation_change, shift)
from cnnviz.architecture.models import SmallResNet, TinyVGG


def no_hooks(model):
    return all(not (m._forward_hooks or m._forward_pre_hooks) for m in model.modules())


@pytest.fixture
def vgg():
    torch.manual_seed(0)
    return TinyVGG(in_channels=1, num_classes=3, size=8, width=4)


def test_capture_matches_running_the_layers_by_hand(vgg):
    x = torch.rand(1, 1, 8, 8)
    vgg.train()
    logits, acts = capture(vgg, x)
    assert list(acts) == [f"features.{i}" for i in range(10)]  # every 4-D output, in order; not the linear
    h = x
    for i, layer in enumerate(vgg.features):
        h = layer(h)
        assert torch.equal(acts[f"features.{i}"], h.detach())
    torch.testing.assert_close(logits, vgg(x).detach())
    assert vgg.training and no_hooks(vgg)


def test_capture_removes_hooks_when_forward_raises(vgg):
    with pytest.raises(ConfigError, match="x: the model cannot run on an input of shape"):
        capture(vgg, torch.rand(1, 2, 8, 8))  # wrong channel count: PyTorch's refusal, as a ConfigError
    assert no_hooks(vgg)
    with pytest.raises(ConfigError, match="layers"):
        capture(vgg, torch.rand(1, 1, 8, 8), layers=["nope"])
    assert no_hooks(vgg)


def test_capture_resnet_and_chosen_layers():
    torch.manual_seed(0)
    net = SmallResNet(in_channels=3, num_classes=2, size=8, width=4)
    _, acts = capture(net, torch.rand(1, 3, 8, 8), layers=["layer2.relu2", "fc"])
    assert acts["layer2.relu2"].shape == (1, 8, 4, 4) and acts["fc"].shape == (1, 2)
    assert no_hooks(net)


def test_kernels_stats_probabilities(vgg):
    assert torch.equal(first_conv_kernels(vgg), vgg.features[0].weight.detach())
    a = torch.tensor([[[0.0, 2.0], [0.0, 2.0]], [[1.0, 2.0], [3.0, 6.0]]])  # (2, 2, 2)
    s = channel_stats(a)
    assert s.mean == [1.0, 3.0] and s.max == [2.0, 6.0] and s.zero_fraction == [0.5, 0.0]
    assert s.std[0] == pytest.approx(1.0) and s.std[1] == pytest.approx((14 / 4) ** 0.5)  # (4 + 1 + 0 + 9) / 4
    p = probabilities(torch.tensor([[0.0, 0.0, 0.0]]))
    torch.testing.assert_close(p, torch.full((1, 3), 1 / 3))


def test_shift_fills_with_zeros():
    x = torch.arange(9.0).view(1, 1, 3, 3)
    assert shift(x, 1, 0)[0, 0].tolist() == [[0, 0, 0], [0, 1, 2], [3, 4, 5]]
    assert shift(x, 0, -1)[0, 0].tolist() == [[1, 2, 0], [4, 5, 0], [7, 8, 0]]


def test_equivariance_exact_for_stride1_conv_and_broken_by_pooling():
    torch.manual_seed(0)
    net = TinyVGG(in_channels=1, num_classes=3, size=32, width=4)
    x = torch.zeros(1, 1, 32, 32)
    x[..., 10:22, 12:20] = torch.rand(12, 8)             # an object in the middle, dark background
    rows = {r.layer: r for r in equivariance(net, x, 1, 1)}
    assert rows["features.0"].stride == 1 and rows["features.0"].distance < 1e-6   # conv: exact
    assert rows["features.3"].distance < 1e-6                                       # conv-relu-conv-relu
    assert rows["features.4"].stride == 2 and not rows["features.4"].exact_shift    # pool: 1 px is half a cell
    assert rows["features.4"].distance > 0.05
    rows2 = {r.layer: r for r in equivariance(net, x, 2, 2)}
    assert rows2["features.4"].exact_shift
    assert rows2["features.4"].distance < rows["features.4"].distance
    with pytest.raises(ConfigError, match="shift"):
        equivariance(net, x, 9, 0)


def test_rotation_change_reports_four_angles(vgg):
    x = torch.rand(1, 1, 8, 8)
    out = rotation_change(vgg, x)
    assert [d for d, _, _ in out] == [0, 90, 180, 270]
    assert out[0][1] == int(vgg.eval()(x).argmax())
    assert no_hooks(vgg)


def test_layer_titles_name_blocks_and_branches_not_module_paths():
    from cnnviz.architecture.models import build_model
    from cnnviz.inside.names import layer_titles
    model = build_model("SmallResNet", in_channels=1, num_classes=10, size=8, width=8)
    titles = layer_titles(model)
    leaves = [n for n, m in model.named_modules() if n and not list(m.children())]
    assert list(titles) == leaves  # every leaf, in the model's order
    assert titles["stem.0"] == "conv 1" and titles["stem.2"] == "ReLU 1"
    assert titles["layer2.conv2"] == "block 2 · conv 2"
    assert titles["layer3.shortcut.0"] == "block 3 · shortcut conv"
    assert titles["fc"] == "linear 1"
    assert len(set(titles.values())) == len(titles)  # no two layers share a name
