"""Network Explorer engine vs PyTorch: a neuron's arithmetic against forward hooks, receptive fields against the
non-zero input gradient, errors, and the model left exactly as it was."""
import pytest
import torch
import torch.nn as nn

from cnnviz import ConfigError
from cnnviz.explorer import neuron_detail, pooling_detail, receptive_field, receptive_field_chain, softmax_detail
from cnnviz.architecture.models import SmallResNet, TinyVGG


def hooked(model, x, layer):
    """The layer's output as a plain forward hook sees it (eval mode)."""
    seen = {}
    h = model.get_submodule(layer).register_forward_hook(lambda m, a, out: seen.__setitem__("out", out.detach()))
    with torch.no_grad():
        model.eval()(x)
    h.remove()
    return seen["out"]


def convs(model):
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def check_every_output(model, x, layer, cells=None):
    out = hooked(model, x, layer)
    c, h, w = out.shape[1:]
    for ch, i, j in cells or [((i + j) % c, i, j) for i in range(h) for j in range(w)]:  # every position
        d = neuron_detail(model, x, layer, ch, (i, j))
        ref = float(out[0, ch, i, j])
        assert d.value == pytest.approx(ref, rel=1e-5, abs=1e-6)
        assert d.pre_activation == pytest.approx(ref, rel=1e-4, abs=1e-5)
        assert torch.allclose(d.products, d.patch * d.weight)
        conv = model.get_submodule(layer)
        assert d.patch.shape == d.weight.shape == (conv.in_channels // conv.groups, *conv.kernel_size)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kw", [dict(padding=1), dict(padding=2, dilation=2), dict(padding=1, stride=2),
                                dict(padding=1, groups=2), dict(padding="same", dilation=2)])
def test_small_conv_every_output_matches_the_hook(mode, kw):
    if kw.get("padding") == "same" and kw.get("stride", 1) != 1:
        pytest.skip("same needs stride 1")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(4, 6, 3, padding_mode=mode, **kw), nn.ReLU())
    x = torch.randn(1, 4, 7, 6)
    check_every_output(model, x, "0")
    d = neuron_detail(model, x, "0", 5, (0, 0))
    assert d.after == [("1", "ReLU", max(0.0, d.value))]


def test_padding_values_are_what_pytorch_uses():
    x = torch.arange(1.0, 17.0).view(1, 1, 4, 4)
    for mode, corner in (("zeros", 0.0), ("reflect", 6.0), ("replicate", 1.0), ("circular", 16.0)):
        model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode))
        assert float(neuron_detail(model, x, "0", 0, (0, 0)).patch[0, 0, 0]) == corner, mode


def test_groups_take_the_right_input_channels():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(6, 9, 3, padding=1, groups=3))
    x = torch.randn(1, 6, 5, 5)
    d = neuron_detail(model, x, "0", 7, (2, 3))  # output channel 7 is in group 2: input channels 4, 5
    assert d.channels == [4, 5]
    assert torch.equal(d.patch, x[0, 4:6, 1:4, 2:5])


def test_dilation_skips_the_gaps():
    x = torch.arange(49.0).view(1, 1, 7, 7)
    model = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=3))
    d = neuron_detail(model, x, "0", 0, (0, 0))
    assert d.rows == [0, 3, 6] and torch.equal(d.patch[0], x[0, 0, ::3, ::3])


@pytest.mark.parametrize("make,size", [(TinyVGG, 16), (SmallResNet, 16)])
def test_preset_models_every_conv(make, size):
    torch.manual_seed(0)
    model = make(3, 4, size, width=4).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.uniform_(0.5, 2)
    x = torch.rand(1, 3, size, size)
    for layer in convs(model):
        h, w = hooked(model, x, layer).shape[-2:]
        check_every_output(model, x, layer, [(1, 0, 0), (2, h - 1, w - 1), (3, h // 2, w // 3)])


def gradient_box(model, x, layer, index):
    """The reference: bounding box of the non-zero input gradient of one output (summed over channels)."""
    x = x.clone().requires_grad_(True)
    seen = {}
    h = model.get_submodule(layer).register_forward_hook(lambda m, a, out: seen.__setitem__("out", out))
    model(x)
    h.remove()
    (g,) = torch.autograd.grad(seen["out"][0, :, index[0], index[1]].sum(), x)
    mask = g.abs().sum((0, 1)) > 0
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


def positive(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.01)
    return model.eval()


CHAINS = [
    lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(3, 3, 3, padding=1)),
    lambda: nn.Sequential(nn.Conv2d(2, 3, 5, stride=2, padding=2), nn.ReLU(), nn.Conv2d(3, 4, 3, dilation=2),
                          nn.AvgPool2d(3, stride=2, padding=1), nn.Conv2d(4, 2, 3, padding="same")),
    lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.AvgPool2d(2, ceil_mode=True),
                          nn.Conv2d(4, 4, 1), nn.AdaptiveAvgPool2d(3), nn.Conv2d(4, 1, 2)),
]


@pytest.mark.parametrize("make", CHAINS)
def test_receptive_field_is_the_nonzero_gradient_box_and_geometry_agrees(make):
    torch.manual_seed(0)
    model = positive(make())
    x = torch.rand(1, 2, 19, 17) + 0.1
    for layer in convs(model):
        out = hooked(model, x, layer)
        h, w = out.shape[-2:]
        for index in {(0, 0), (h - 1, w - 1), (h // 2, w // 2), (0, w - 1)}:
            ref = gradient_box(model, x, layer, index)
            assert receptive_field(model, x, layer, index) == ref, (layer, index)
            assert receptive_field_chain(model, x, layer, index) == ref, (layer, index)


def test_receptive_field_of_a_residual_model_is_the_union_of_paths():
    torch.manual_seed(0)
    model = positive(SmallResNet(1, 3, 16, width=2))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.zero_()
    x = torch.rand(1, 1, 16, 16) + 0.1
    for layer in ("layer2.shortcut.0", "layer3.conv2", "layer3.shortcut.0"):
        for index in ((0, 0), (1, 2)):
            assert receptive_field(model, x, layer, index) == gradient_box(model, x, layer, index)
    assert neuron_detail(model, x, "layer3.conv2", 0, (1, 1)).receptive_field == \
        gradient_box(model, x, "layer3.conv2", (1, 1))


def test_max_pool_window_counts_every_cell_not_only_the_winner():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(1, 1, 3))
    x = torch.rand(1, 1, 12, 12)
    assert receptive_field(model, x, "2", (0, 0)) == receptive_field_chain(model, x, "2", (0, 0)) == (0, 0, 6, 6)  # pool rows 0..2 -> rows 3..5 -> conv 2..6


def test_pooling_detail_window_and_winner():
    x = torch.tensor([[[[1.0, 5, 2, 0], [3, 4, 9, 1], [0, 0, 1, 1], [7, 0, 1, 2]]]])
    model = nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2, padding=1))
    d = pooling_detail(model, x, "0", 0, (0, 1))
    assert d.winner == (1, 2) and d.value == 9.0 and d.kind == "max"
    a = pooling_detail(model, x, "1", 0, (0, 0))
    assert a.divisor == 4 and a.value == pytest.approx(float(a.window.sum()) / 4)
    assert a.rows == [-1, 0]


def test_softmax_detail():
    s = softmax_detail(torch.tensor([[1.0, 2.0, 3.0]]))
    assert s.probabilities == pytest.approx(torch.softmax(torch.tensor([1.0, 2, 3]), 0).tolist())
    assert s.shifted == [-2.0, -1.0, 0.0] and s.total == pytest.approx(sum(s.exps))


@pytest.mark.parametrize("args,field", [(("1", 0, (0, 0)), "layer"), (("nope", 0, (0, 0)), "layer"),
                                        (("0", 6, (0, 0)), "channel"), (("0", -1, (0, 0)), "channel"),
                                        (("0", 0, (5, 0)), "index"), (("0", 0, (0, -1)), "index"),
                                        (("0", 0, (1,)), "index")])
def test_errors_name_the_field_and_leave_the_model_alone(args, field):
    model = nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU()).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ConfigError) as e:
        neuron_detail(model, torch.rand(1, 2, 5, 5), *args)
    assert e.value.field == field
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_success_leaves_mode_weights_buffers_and_hooks():
    model = SmallResNet(3, 4, 16, width=4).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    neuron_detail(model, torch.rand(1, 3, 16, 16), "layer2.conv2", 1, (3, 3))
    pooling_detail(model, torch.rand(1, 3, 16, 16), "pool", 1, (0, 0))
    assert all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
