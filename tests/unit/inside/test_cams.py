"""Grad-CAM++ and Score-CAM (cnnviz.inside.saliency) against reference implementations written here, channel by
channel with plain loops, on a small seeded CNN whose last conv layer is half the input's size; the model left as
it was; the randomisation sanity check covering both."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.inside.saliency import METHODS, attribute, sanity_check


class Small(nn.Module):
    """conv(1→3) → ReLU → maxpool 2 → conv(3→4) → ReLU → linear: 1×8×8 input, 3 classes, last conv 4×4."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def head(self, a):  # everything after conv2
        return self.fc(self.relu2(a).flatten(1))

    def forward(self, x):
        return self.head(self.conv2(self.pool(self.relu1(self.conv1(x)))))


@pytest.fixture
def net():
    return Small().eval()


@pytest.fixture
def x():
    return torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def conv2_out(net, x):
    return net.conv2(net.pool(net.relu1(net.conv1(x))))  # (1, 4, 4, 4)


def up(cam, x):
    """(h, w) map -> x's shape: bilinear (align_corners=False), broadcast over channels."""
    return F.interpolate(cam[None, None], size=x.shape[-2:], mode="bilinear", align_corners=False).expand_as(x)


def reference_gradcampp(net, x, target):
    a = conv2_out(net, x).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(net.head(a)[0, target], a)
    a, g = a[0].double(), g[0].double()
    cam = torch.zeros(a.shape[1:], dtype=torch.float64)
    for k in range(a.shape[0]):
        total = a[k].sum()
        w = 0.0
        for i in range(a.shape[1]):
            for j in range(a.shape[2]):
                gij = g[k, i, j]
                den = 2 * gij ** 2 + total * gij ** 3
                alpha = gij ** 2 / den if den != 0 else 0.0
                w += alpha * max(float(gij), 0.0)
        cam += w * a[k]
    return up(torch.relu(cam).float(), x)


def reference_scorecam(net, x, target):
    with torch.no_grad():
        a = torch.relu(conv2_out(net, x))[0]                              # (4, 4, 4), rectified
        cam = torch.zeros(a.shape[1:])
        for k in range(a.shape[0]):
            m = F.interpolate(a[k][None, None], size=(8, 8), mode="bilinear", align_corners=False)[0, 0]
            m = (m - m.min()) / (m.max() - m.min()) if m.max() > m.min() else torch.zeros_like(m)
            score = torch.softmax(net(x * m), dim=1)[0, target]
            cam += score * a[k]
    return up(torch.relu(cam), x)


def test_score_cam_is_blank_only_where_every_rectified_channel_is():
    """The map is Σ w_k ReLU(A_k) with w_k > 0 (probabilities): non-zero wherever some channel is positive, on
    inputs where the conv layer's raw output is mostly negative (a blank map there was the bug)."""
    net = Small().eval()
    with torch.no_grad():
        net.conv2.bias.fill_(-0.15)  # most of the raw output negative
    g = torch.Generator().manual_seed(2)
    checked = 0
    for _ in range(20):
        x = torch.rand(1, 1, 8, 8, generator=g)
        positive = torch.relu(conv2_out(net, x)).sum(dim=1)[0] > 0      # (4, 4): some channel positive there
        if not positive.any():
            continue
        checked += 1
        cam = attribute(net, x, 0, "scorecam")[0, 0]                     # upsampled to 8×8
        assert float(cam.abs().sum()) > 0
    assert checked >= 5


@pytest.mark.parametrize("target", [0, 1, 2])
def test_gradcam_plus_plus_equals_the_reference(net, x, target):
    torch.testing.assert_close(attribute(net, x, target, "gradcampp"), reference_gradcampp(net, x, target),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("target", [0, 1, 2])
def test_score_cam_equals_the_reference(net, x, target):
    torch.testing.assert_close(attribute(net, x, target, "scorecam"), reference_scorecam(net, x, target),
                               rtol=1e-5, atol=1e-6)


def test_cams_follow_the_layer_choice(net, x):
    for method in ("gradcampp", "scorecam"):
        deep = attribute(net, x, 1, method)
        assert torch.equal(deep, attribute(net, x, 1, method, layer="conv2"))
        shallow = attribute(net, x, 1, method, layer="conv1")  # 8×8: no upsampling
        assert shallow.shape == x.shape and not torch.equal(shallow, deep)
        assert float(shallow.min()) >= 0 and float(deep.sum()) > 0


def test_cams_leave_the_model_alone(net, x):
    net.train()
    modes = {n: m.training for n, m in net.named_modules()}
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for method in ("gradcampp", "scorecam"):
        attribute(net, x, 2, method)
    assert modes == {n: m.training for n, m in net.named_modules()}
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
    for m in net.modules():
        assert not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks)


def test_sanity_check_covers_both_by_default(net, x):
    assert {"gradcampp", "scorecam"} <= set(METHODS)
    rows = sanity_check(net, x, 0, methods=("gradcampp", "scorecam"))
    assert [(r.randomised_to, r.method) for r in rows] == [
        (lay, m) for lay in ("fc", "conv2", "conv1") for m in ("gradcampp", "scorecam")]
    assert all(-1 <= r.rank_correlation <= 1 for r in rows)
    fully_random = [r.rank_correlation for r in rows if r.randomised_to == "conv1"]
    assert all(c < 0.99 for c in fully_random), fully_random  # the maps change once the weights are random
