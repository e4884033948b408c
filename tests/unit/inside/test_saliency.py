"""cnnviz.inside.saliency on a hand-set tiny network: each method vs a direct computation where one exists."""
import pytest
import torch
import torch.nn as nn
from scipy.stats import spearmanr

from cnnviz import ConfigError
from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.inside.saliency import METHODS, attribute, conv_layers, make_baseline, sanity_check, spearman, to_map


class Tiny(nn.Module):
    """conv3×3 (2 channels, hand-set) → ReLU → flatten → linear (hand-set): 1×4×4 input, 3 classes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(2 * 4 * 4, 3)
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            sobel = torch.tensor([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])
            self.conv.weight.copy_(torch.stack([sobel, sobel.T]).unsqueeze(1))  # vertical and horizontal edges
            self.conv.bias.copy_(torch.tensor([0.1, -0.2]))
            self.fc.weight.copy_(torch.randn(3, 32, generator=g))
            self.fc.bias.copy_(torch.tensor([0.5, 0.0, -0.5]))

    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).flatten(1))


@pytest.fixture
def net():
    return Tiny()


@pytest.fixture
def x():
    return torch.rand(1, 1, 4, 4, generator=torch.Generator().manual_seed(1))


def grad_of(model, x, target):
    xx = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(xx)[0, target], xx)
    return g


def test_saliency_is_abs_autograd_gradient(net, x):
    for t in range(3):
        assert torch.equal(attribute(net, x, t, "saliency"), grad_of(net, x, t).abs())


def test_smoothgrad_without_noise_is_saliency(net, x):
    sg = attribute(net, x, 1, "smoothgrad", noise=0.0, nt_samples=4)
    torch.testing.assert_close(sg, grad_of(net, x, 1).abs())


def test_integrated_gradients_completeness(net, x):
    f = lambda v: float(net(v)[0, 2])  # noqa: E731
    for base in ("black", "mean", "blur"):
        ig = attribute(net, x, 2, "integrated_gradients", n_steps=256, baseline=base)
        expected = f(x) - f(make_baseline(x, base))
        assert abs(float(ig.sum()) - expected) < 2e-2 * max(1.0, abs(expected)), base


def test_deeplift_sums_to_difference_from_baseline(net, x):
    dl = attribute(net, x, 0, "deeplift")
    assert float(dl.sum()) == pytest.approx(float(net(x)[0, 0] - net(torch.zeros_like(x))[0, 0]), abs=1e-5)


def test_guided_backprop_zeroes_negative_gradients_at_relus(net, x):
    xx = x.clone().requires_grad_(True)
    z = net.conv(xx)                                   # (1, 2, 4, 4)
    g = net.fc.weight[1].reshape(1, 2, 4, 4)           # ∂y/∂relu(z)
    g = torch.relu(g) * (z > 0)                        # guided: positive gradients through active units only
    (expected,) = torch.autograd.grad(z, xx, grad_outputs=g)
    torch.testing.assert_close(attribute(net, x, 1, "guided_backprop"), expected)


def test_gradcam_matches_direct_formula(net, x):
    xx = x.clone().requires_grad_(True)
    a = net.conv(xx)                                   # (1, 2, 4, 4): the last conv layer's output
    (g,) = torch.autograd.grad(net.fc(net.relu(a).flatten(1))[0, 2], a)
    cam = torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True))  # (1, 1, 4, 4)
    torch.testing.assert_close(attribute(net, x, 2, "gradcam"), cam.detach().expand_as(x))


def test_occlusion_of_one_pixel_is_the_output_drop(net, x):
    occ = attribute(net, x, 0, "occlusion", window=1, stride=1)
    f = float(net(x)[0, 0])
    for i, j in [(0, 0), (1, 2), (3, 3)]:
        x0 = x.clone()
        x0[..., i, j] = 0
        assert float(occ[0, 0, i, j]) == pytest.approx(f - float(net(x0)[0, 0]), abs=1e-5)


@pytest.mark.parametrize("model_cls,shape", [(TinyVGG, (1, 3, 16, 16)), (SmallResNet, (1, 1, 8, 8))])
def test_every_method_returns_input_shape_and_leaves_model_alone(model_cls, shape):
    torch.manual_seed(0)
    model = model_cls(in_channels=shape[1], num_classes=4, size=shape[-1])
    model.train()
    model.features.eval() if hasattr(model, "features") else model.layer2.eval()  # a mixed-mode model
    modes = {n: m.training for n, m in model.named_modules()}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(shape)
    for method in METHODS:
        out = attribute(model, x, 1, method, n_steps=8, nt_samples=3, window=4, stride=4)
        assert out.shape == x.shape, method
        assert torch.isfinite(out).all(), method
        # Score-CAM's weights are probabilities (all > 0): on the untrained SmallResNet the default layer, the 1×1
        # shortcut conv, sums to < 0 at every position and the ReLU leaves 0 (tests/unit/inside/test_cams.py)
        assert out.abs().sum() > 0 or (method == "scorecam" and model_cls is SmallResNet), method
    assert modes == {n: m.training for n, m in model.named_modules()}
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for m in model.modules():
        assert not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks)
    assert all(p.grad is None for p in model.parameters())
    assert not x.requires_grad


def test_gradcam_layer_choice_and_upsampling():
    torch.manual_seed(0)
    model = TinyVGG(in_channels=1, num_classes=3, size=16, width=4)
    assert conv_layers(model) == ["features.0", "features.2", "features.5", "features.7"]
    x = torch.rand(1, 1, 16, 16)
    deep = attribute(model, x, 0, "gradcam")  # last conv: 4×4 map bilinearly upsampled to 16×16
    assert deep.shape == x.shape and torch.equal(deep, attribute(model, x, 0, "gradcam", layer="features.7"))
    with pytest.raises(ConfigError, match="layer"):
        attribute(model, x, 0, "gradcam", layer="classifier.1")


def test_bad_inputs_raise_config_error(net, x):
    with pytest.raises(ConfigError, match="method: must be one of saliency, .*got 'lime'"):
        attribute(net, x, 0, "lime")
    with pytest.raises(ConfigError, match="target"):
        attribute(net, x, 3, "saliency")
    with pytest.raises(ConfigError, match=r"x: .*\(1, C, H, W\)"):
        attribute(net, x[0], 0, "saliency")
    with pytest.raises(ConfigError, match="window"):
        attribute(net, x, 0, "occlusion", window=5)
    with pytest.raises(ConfigError, match="n_steps"):
        attribute(net, x, 0, "integrated_gradients", n_steps=1)
    with pytest.raises(ConfigError, match="baseline"):
        attribute(net, x, 0, "integrated_gradients", baseline="white noise")


def test_spearman_matches_scipy():
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(7, 5, generator=g), torch.rand(7, 5, generator=g)
    assert spearman(a, b) == pytest.approx(spearmanr(a.flatten(), b.flatten()).statistic, abs=1e-12)
    assert spearman(a, a) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)


def test_sanity_check_randomises_a_copy_layer_by_layer(net, x):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rows = sanity_check(net, x, 0, methods=("saliency", "gradcam"))
    assert [r.randomised_to for r in rows] == ["fc", "fc", "conv", "conv"]
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(-1 <= r.rank_correlation <= 1 for r in rows)
    # once every layer is random, the gradient map no longer matches the trained one
    assert rows[2].rank_correlation < 0.9
    assert to_map(attribute(net, x, 0, "saliency")).shape == (4, 4)


def test_occlusion_in_batches_equals_captum_one_position_per_pass():
    """attribute() evaluates up to OCCLUSION_BATCH occluded copies per forward pass; the map is captum's
    Occlusion with one copy per pass (its default), on a TinyVGG whose 49 positions overlap."""
    from captum.attr import Occlusion
    torch.manual_seed(0)
    model = TinyVGG(in_channels=3, num_classes=3, size=16, width=4).eval()
    x = torch.rand(1, 3, 16, 16)
    ours = attribute(model, x, 2, "occlusion", window=4, stride=2)
    ref = Occlusion(model).attribute(x, sliding_window_shapes=(3, 4, 4), strides=(3, 2, 2), baselines=0, target=2)
    torch.testing.assert_close(ours, ref.detach(), rtol=1e-5, atol=1e-6)
    assert ours.abs().sum() > 0
