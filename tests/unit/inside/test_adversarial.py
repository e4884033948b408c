"""cnnviz.inside.adversarial: FGSM against a hand-written x + ε·sign(∇ₓL), PGD's ball and range, the targeted
variant, the model left as it was, every bad input refused, and the accuracy-vs-ε curve of a shipped model."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz import ConfigError
from cnnviz.inside import accuracy_vs_eps, attack_one, fgsm, pgd
from cnnviz.inside.shipped import load_model, validation_set


class Net(nn.Module):
    """conv → BatchNorm → ReLU → dropout → linear: its output differs between train and eval mode."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(3 * 5 * 5, 4)

    def forward(self, x):
        return self.fc(self.drop(self.relu(self.bn(self.conv(x)))).flatten(1))


@pytest.fixture
def net():
    torch.manual_seed(0)
    n = Net()
    with torch.no_grad():  # running statistics that are not the init's 0 / 1
        n.bn.running_mean.uniform_(-0.5, 0.5)
        n.bn.running_var.uniform_(0.5, 2.0)
    return n.eval()


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(1)
    return torch.rand(6, 1, 5, 5, generator=g), torch.tensor([0, 1, 2, 3, 0, 1])


def hand_fgsm(model, x, y, eps, lo, hi):
    model.eval()
    xx = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(xx), y)
    (g,) = torch.autograd.grad(loss, xx)
    return torch.clamp(x + eps * torch.sign(g), lo, hi)


def test_fgsm_equals_hand_written_formula(net, batch):
    x, y = batch
    for eps, lo, hi in [(0.1, 0.0, 1.0), (0.3, 0.2, 0.7), (0.0, 0.0, 1.0), (2.0, -1.0, 1.0)]:
        got = fgsm(net, x, y, eps, lo, hi)
        assert torch.equal(got, hand_fgsm(net, x, y, eps, lo, hi)), (eps, lo, hi)
        assert got.shape == x.shape and got.dtype == x.dtype and not got.requires_grad
    moved = fgsm(net, x, y, 0.1, 0.0, 1.0)
    step = (moved - x).abs()[(moved > 0) & (moved < 1)]           # unclamped values: moved by ε or not at all
    assert bool(((step - 0.1).abs() < 1e-6).logical_or(step == 0).all()) and float(step.mean()) > 0.05


def test_fgsm_leaves_a_train_mode_model_as_it_was(net, batch):
    x, y = batch
    net.train()
    net.fc.train(False)  # a mixed-mode model
    modes = {n: m.training for n, m in net.named_modules()}
    before = {k: v.clone() for k, v in net.state_dict().items()}  # BatchNorm running stats included
    net.conv.weight.grad = torch.ones_like(net.conv.weight)       # a grad someone left there stays as it was
    expected = hand_fgsm(net, x, y, 0.1, 0.0, 1.0)                 # in eval mode (hand_fgsm switches)
    net.train()
    net.fc.train(False)
    for attack in (lambda: fgsm(net, x, y, 0.1, 0.0, 1.0), lambda: pgd(net, x, y, 0.1, 0.0, 1.0, 3, 0.05)):
        out = attack()
        assert modes == {n: m.training for n, m in net.named_modules()}
        assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
        assert torch.equal(net.conv.weight.grad, torch.ones_like(net.conv.weight))
        assert all(p.grad is None for n, p in net.named_parameters() if n != "conv.weight")
        for m in net.modules():
            assert not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks)
    assert torch.equal(fgsm(net, x, y, 0.1, 0.0, 1.0), expected)  # computed in eval mode, deterministically
    assert not x.requires_grad


def test_fgsm_keeps_half_precision_and_a_requires_grad_input(net, batch):
    x, y = batch
    out = fgsm(net, x.half(), y, 0.1, 0.0, 1.0)
    assert out.dtype == torch.float16 and out.shape == x.shape
    assert torch.equal(out, hand_fgsm(net, x.half().float(), y, 0.1, 0.0, 1.0).half())
    leaf = x.clone().requires_grad_(True)
    assert torch.equal(fgsm(net, leaf, y, 0.1, 0.0, 1.0), hand_fgsm(net, x, y, 0.1, 0.0, 1.0))
    assert leaf.grad is None
    expected = hand_fgsm(net, x, y, 0.1, 0.0, 1.0)
    with torch.no_grad():  # a caller's no_grad does not stop the input gradient
        assert torch.equal(fgsm(net, x, y, 0.1, 0.0, 1.0), expected)


@pytest.mark.parametrize("field,call", [
    ("model", lambda n, x, y: fgsm("net", x, y, 0.1, 0.0, 1.0)),
    ("model", lambda n, x, y: fgsm(lambda v: v, x, y, 0.1, 0.0, 1.0)),
    ("x", lambda n, x, y: fgsm(n, x.numpy(), y, 0.1, 0.0, 1.0)),
    ("x", lambda n, x, y: fgsm(n, (x * 10).long(), y, 0.1, 0.0, 1.0)),
    ("x", lambda n, x, y: fgsm(n, x[:0], y[:0], 0.1, 0.0, 1.0)),
    ("x", lambda n, x, y: fgsm(n, x.clone().fill_(math.nan), y, 0.1, 0.0, 1.0)),
    ("x", lambda n, x, y: fgsm(n, x[:, :, :2], y, 0.1, 0.0, 1.0)),           # the model cannot take it
    ("target", lambda n, x, y: fgsm(n, x, y.float(), 0.1, 0.0, 1.0)),
    ("target", lambda n, x, y: fgsm(n, x, y.bool(), 0.1, 0.0, 1.0)),
    ("target", lambda n, x, y: fgsm(n, x, y.tolist(), 0.1, 0.0, 1.0)),
    ("target", lambda n, x, y: fgsm(n, x, y[:3], 0.1, 0.0, 1.0)),
    ("target", lambda n, x, y: fgsm(n, x, y.view(2, 3), 0.1, 0.0, 1.0)),
    ("target", lambda n, x, y: fgsm(n, x, y + 4, 0.1, 0.0, 1.0)),             # 4 classes: 0..3
    ("target", lambda n, x, y: fgsm(n, x, y - 1, 0.1, 0.0, 1.0)),
    ("eps", lambda n, x, y: fgsm(n, x, y, -0.1, 0.0, 1.0)),
    ("eps", lambda n, x, y: fgsm(n, x, y, math.nan, 0.0, 1.0)),
    ("eps", lambda n, x, y: fgsm(n, x, y, math.inf, 0.0, 1.0)),
    ("eps", lambda n, x, y: fgsm(n, x, y, "0.1", 0.0, 1.0)),
    ("eps", lambda n, x, y: fgsm(n, x, y, True, 0.0, 1.0)),
    ("lo", lambda n, x, y: fgsm(n, x, y, 0.1, 1.0, 1.0)),
    ("lo", lambda n, x, y: fgsm(n, x, y, 0.1, 1.0, 0.0)),
    ("lo", lambda n, x, y: fgsm(n, x, y, 0.1, -math.inf, 1.0)),
    ("hi", lambda n, x, y: fgsm(n, x, y, 0.1, 0.0, math.nan)),
    ("steps", lambda n, x, y: pgd(n, x, y, 0.1, 0.0, 1.0, 0, 0.01)),
    ("steps", lambda n, x, y: pgd(n, x, y, 0.1, 0.0, 1.0, 10**6, 0.01)),
    ("step_size", lambda n, x, y: pgd(n, x, y, 0.1, 0.0, 1.0, 3, 0.0)),
    ("targeted", lambda n, x, y: pgd(n, x, y, 0.1, 0.0, 1.0, 3, 0.01, targeted="yes")),
    ("epsilons", lambda n, x, y: accuracy_vs_eps(n, x, y, [], 0.0, 1.0)),
    ("epsilons", lambda n, x, y: accuracy_vs_eps(n, x, y, [0.1] * 1000, 0.0, 1.0)),
    ("epsilons[1]", lambda n, x, y: accuracy_vs_eps(n, x, y, [0.0, -1.0], 0.0, 1.0)),
    ("ys", lambda n, x, y: accuracy_vs_eps(n, x, y[:2], [0.0], 0.0, 1.0)),
])
def test_bad_inputs_raise_config_error_naming_the_field(net, batch, field, call):
    with pytest.raises(ConfigError) as err:
        call(net, *batch)
    assert err.value.field == field


def test_pgd_stays_in_the_eps_ball_and_range_and_beats_fgsm(net, batch):
    x, y = batch
    for eps, lo, hi in [(0.05, 0.0, 1.0), (0.2, 0.1, 0.9)]:
        xin = x.clamp(lo, hi)
        adv = pgd(net, xin, y, eps, lo, hi, steps=10, step_size=eps / 4)
        assert float((adv - xin).abs().max()) <= eps + 1e-6
        assert float(adv.min()) >= lo and float(adv.max()) <= hi
    loss = lambda v: float(F.cross_entropy(net(v), y))  # noqa: E731
    with torch.no_grad():
        assert loss(pgd(net, x, y, 0.1, 0.0, 1.0, steps=20, step_size=0.02)) > loss(x)
    one = pgd(net, x, y, 0.1, 0.0, 1.0, steps=1, step_size=0.1)  # one step of size ε is FGSM
    assert torch.equal(one, fgsm(net, x, y, 0.1, 0.0, 1.0))


def test_targeted_pgd_raises_the_targets_probability(net, batch):
    x, _ = batch
    goal = torch.full((len(x),), 3)
    p = lambda v: torch.softmax(net(v), 1)[:, 3]  # noqa: E731
    with torch.no_grad():
        before = p(x)
        after = p(pgd(net, x, goal, 0.2, 0.0, 1.0, steps=10, step_size=0.05, targeted=True))
        away = p(pgd(net, x, goal, 0.2, 0.0, 1.0, steps=10, step_size=0.05, targeted=False))
    assert bool((after > before).all()), (before, after)
    assert bool((away < before).all())


def test_accuracy_vs_eps_equals_fgsm_one_eps_at_a_time(net, batch):
    x, y = batch
    eps = [0.0, 0.05, 0.3]
    got = accuracy_vs_eps(net, x, y, eps, 0.0, 1.0)
    with torch.no_grad():
        expected = [float((net(fgsm(net, x, y, e, 0.0, 1.0)).argmax(1) == y).float().mean()) for e in eps]
    assert got == pytest.approx(expected)


def test_accuracy_vs_eps_is_non_increasing_on_the_shipped_digits_model():
    model, info = load_model("digits_TinyVGG")
    x, y = validation_set(info.dataset)
    accs = accuracy_vs_eps(model, x, y, [0.0, 2 / 255, 8 / 255, 32 / 255, 64 / 255], 0.0, 1.0)
    assert accs[0] == pytest.approx(info.val_accuracy, abs=1e-4)  # ε = 0: the clean accuracy shipped with it
    assert all(a >= b for a, b in zip(accs, accs[1:])), accs
    assert accs[-1] < 0.5 * accs[0]  # 64 grey levels fool most of it


def test_attack_one_is_fgsm_or_pgd_away_from_the_prediction(net, batch):
    x = batch[0][:1]                                                      # (1, 1, 5, 5)
    with torch.no_grad():
        p = torch.softmax(net(x), 1)[0]
    pred = torch.tensor([int(p.argmax())])
    res = attack_one(net, x, "fgsm", 0.1)
    assert res.label == int(pred) and torch.equal(res.adv, fgsm(net, x, pred, 0.1, 0.0, 1.0))
    torch.testing.assert_close(res.before, p)
    with torch.no_grad():
        torch.testing.assert_close(res.after, torch.softmax(net(res.adv), 1)[0])
    res = attack_one(net, x, "pgd", 0.1, steps=4)
    assert torch.equal(res.adv, pgd(net, x, pred, 0.1, 0.0, 1.0, 4, 2.5 * 0.1 / 4))
    res = attack_one(net, x, "targeted", 0.1, steps=4, goal=2)
    assert res.label == 2
    assert torch.equal(res.adv, pgd(net, x, torch.tensor([2]), 0.1, 0.0, 1.0, 4, 2.5 * 0.1 / 4, targeted=True))
    same = attack_one(net, x, "pgd", 0.0)                                  # ε = 0: the image itself
    assert torch.equal(same.adv, x) and torch.equal(same.before, same.after)
    for field, call in [("goal", lambda: attack_one(net, x, "targeted", 0.1, goal=4)),
                        ("x", lambda: attack_one(net, batch[0], "fgsm", 0.1)),
                        ("kind", lambda: attack_one(net, x, "deepfool", 0.1))]:
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.field == field


def test_an_eps_beyond_float32_range_saturates_instead_of_failing(net, batch):
    x, y = batch  # in [0, 1]: any ε ≥ 1 sends every moved value to a bound, as ε = 1 does
    assert torch.equal(fgsm(net, x, y, 1e39, 0.0, 1.0), hand_fgsm(net, x, y, 1.0, 0.0, 1.0))
    assert torch.isfinite(fgsm(net, x, y, 1e300, -1e300, 1e300)).all()
    assert torch.equal(pgd(net, x, y, 1e39, 0.0, 1.0, 1, 1e39), hand_fgsm(net, x, y, 1.0, 0.0, 1.0))
    adv = hand_fgsm(net, x, y, 1.0, 0.0, 1.0)
    with torch.no_grad():
        fooled = float((net(adv).argmax(1) == y).float().mean())
    assert accuracy_vs_eps(net, x, y, [1e39], 0.0, 1.0) == [pytest.approx(fooled)]
