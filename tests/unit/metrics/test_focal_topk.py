"""Focal loss with per-class α on an imbalanced problem, checked against torchvision's sigmoid_focal_loss
formula written out here (no torchvision), and one image's top-k against torch.topk."""
import pytest
import torch
import torch.nn.functional as F

from cnnviz import ConfigError
from cnnviz.metrics.classification import (GROUPS, focal_loss, focal_per_example, imbalanced_toy, loss_shares,
                                           topk_accuracy, topk_curve, topk_of)


def sigmoid_focal_loss(s, t, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss (reduction none), as written there."""
    p = torch.sigmoid(s)
    ce = F.binary_cross_entropy_with_logits(s, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


@pytest.mark.parametrize("gamma,alpha", [(0.0, 0.5), (2.0, 0.25), (1.5, 0.8), (5.0, 0.0)])
def test_focal_on_the_toy_matches_torchvisions_sigmoid_focal_loss(gamma, alpha):
    logits, target = imbalanced_toy(200, 20, seed=1)
    ref = sigmoid_focal_loss(logits[:, 1], target.float(), alpha, gamma)  # logits [0, s]: softmax = sigmoid(s)
    per = focal_per_example(logits, target, gamma, [1 - alpha, alpha])
    assert torch.allclose(per, ref, rtol=1e-5, atol=1e-7)
    assert focal_loss(logits, target, gamma, [1 - alpha, alpha]).item() == pytest.approx(ref.mean().item(), rel=1e-5)


def test_hand_numbers_of_one_example():
    """p_t = 0.9, γ = 2, α_t = 0.25: 0.25 · 0.1² · (−ln 0.9) = 2.634e-4."""
    s = torch.log(torch.tensor(0.9 / 0.1))
    per = focal_per_example(torch.tensor([[0.0, float(s)]]), torch.tensor([1]), 2.0, [0.75, 0.25])
    assert per.item() == pytest.approx(0.25 * 0.01 * 0.1053605, rel=1e-5)


def test_loss_shares_cross_entropy_vs_focal_on_the_imbalanced_toy():
    logits, target = imbalanced_toy()
    ce, fl = loss_shares(logits, target, 0.0), loss_shares(logits, target, 2.0)
    for shares in (ce, fl):
        assert sum(n for n, _ in shares.values()) == 1000 and sum(s for _, s in shares.values()) == pytest.approx(1)
    assert ce["majority, easy"][1] > 0.5       # cross-entropy: the many easy background examples dominate
    assert fl["majority, easy"][1] < 0.2 and fl["minority, hard"][1] > 0.5  # γ = 2: the hard rare ones do
    rare = loss_shares(logits, target, 2.0, [0.25, 0.75])
    common = loss_shares(logits, target, 2.0, [0.75, 0.25])
    assert rare["minority, hard"][1] > fl["minority, hard"][1] > common["minority, hard"][1]
    # by hand: shares are the groups' sums over the total
    per = focal_per_example(logits, target, 2.0)
    p_t = F.softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    m = (target == 1) & (p_t < 0.5)
    assert fl["minority, hard"] == (int(m.sum()), pytest.approx(float(per[m].sum() / per.sum())))
    assert list(fl) == list(GROUPS)


def test_toy_is_seeded_and_bad_sizes_name_the_field():
    a, b = imbalanced_toy(seed=3), imbalanced_toy(seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ConfigError) as e:
        imbalanced_toy(10, 20)
    assert e.value.field == "n_minor"
    with pytest.raises(ConfigError):
        focal_per_example(a[0], a[1], 2.0, [0.5, 0.5, 0.5])


def test_topk_of_one_image_and_the_curve_match_torch_topk():
    torch.manual_seed(0)
    logits, target = torch.randn(50, 10), torch.randint(0, 10, (50,))
    for k in (1, 3, 10):
        idx, probs = topk_of(logits[7], k)
        ref = torch.topk(torch.softmax(logits[7], 0), k)
        assert idx == ref.indices.tolist() and probs == pytest.approx(ref.values.tolist())
    curve = topk_curve(logits, target)
    for k in range(1, 11):
        ref = (torch.topk(logits, k, dim=1).indices == target[:, None]).any(dim=1).float().mean().item()
        assert curve[k - 1] == pytest.approx(ref) == topk_accuracy(logits, target, k)
    assert curve[-1] == 1.0 and curve == sorted(curve)
    with pytest.raises(ConfigError) as e:
        topk_of(logits[0], 11)
    assert e.value.field == "k"
    with pytest.raises(ConfigError):
        topk_of(logits, 2)
