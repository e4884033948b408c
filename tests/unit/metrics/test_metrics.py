"""cnnviz.metrics vs PyTorch and hand-computed values on tiny inputs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import ConfigError
from cnnviz.metrics import (average_precision, box_intersection, box_iou, demo_detections, dice, disk_mask,
                            focal_loss, loss_vs_probability, match_detections, mask_iou, mean_average_precision,
                            pr_curve, precision_recall_at, topk_accuracy)


# --------------------------------------------------------------------------- top-k
def test_topk_hand_computed():
    logits = torch.tensor([[0.1, 0.5, 0.4],    # ranking 1, 2, 0
                           [0.9, 0.05, 0.05],  # ranking 0, ...
                           [0.2, 0.3, 0.5]])   # ranking 2, 1, 0
    target = torch.tensor([2, 0, 0])
    assert topk_accuracy(logits, target, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(logits, target, 2) == pytest.approx(2 / 3)
    assert topk_accuracy(logits, target, 3) == 1.0


def test_topk_matches_torch_on_random():
    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(50, 10, generator=g), torch.randint(0, 10, (50,), generator=g)
    for k in (1, 3, 5):
        ref = sum(int(t in row.argsort(descending=True)[:k]) for row, t in zip(logits, target)) / 50
        assert topk_accuracy(logits, target, k) == pytest.approx(ref)


@pytest.mark.parametrize("k", [0, 4])
def test_topk_rejects_bad_k(k):
    with pytest.raises(ConfigError, match="^k:"):
        topk_accuracy(torch.zeros(2, 3), torch.tensor([0, 1]), k)


def test_topk_rejects_bad_target():
    with pytest.raises(ConfigError, match="^target:"):
        topk_accuracy(torch.zeros(2, 3), torch.tensor([0, 3]), 1)


# --------------------------------------------------------------------------- boxes
def test_box_iou_known_boxes():
    a, b = (0, 0, 2, 2), (1, 1, 3, 3)  # overlap 1, union 4 + 4 − 1 = 7
    assert box_iou(a, b) == pytest.approx(1 / 7)
    assert box_intersection(a, b) == (1, 1, 2, 2)
    assert box_iou((0, 0, 4, 2), (2, 0, 6, 2)) == pytest.approx(4 / 12)
    assert box_iou(a, a) == 1.0
    assert box_iou(a, (5, 5, 6, 6)) == 0.0 and box_intersection(a, (2, 0, 3, 2)) is None  # touching edge


def test_box_iou_rejects_inverted_box():
    with pytest.raises(ConfigError, match="^b:.*x2 ≥ x1"):
        box_iou((0, 0, 1, 1), (3, 0, 2, 1))
    with pytest.raises(ConfigError, match="^a:"):
        box_iou((0, 0, 1), (0, 0, 1, 1))


# --------------------------------------------------------------------------- masks
def test_dice_and_iou_known_masks():
    a = np.array([[1, 1, 0], [1, 0, 0]])   # 3 pixels
    b = np.array([[1, 0, 0], [1, 1, 1]])   # 4 pixels, 2 shared
    assert dice(a, b) == pytest.approx(2 * 2 / 7)
    assert mask_iou(a, b) == pytest.approx(2 / 5)
    iou = mask_iou(a, b)
    assert dice(a, b) == pytest.approx(2 * iou / (1 + iou))


def test_dice_empty_masks():
    z = np.zeros((3, 3))
    assert dice(z, z) == 1.0 and mask_iou(z, z) == 1.0
    assert dice(z, np.eye(3)) == 0.0


def test_dice_rejects_shape_mismatch():
    with pytest.raises(ConfigError, match="^pred_mask:"):
        dice(np.zeros((2, 2)), np.zeros((2, 3)))


def test_disk_mask_area_close_to_pi_r2():
    m = disk_mask(64, 32, 32, 10)
    assert abs(m.sum() - np.pi * 100) < 15 and m[32, 32] and not m[0, 0]


# --------------------------------------------------------------------------- focal loss
def test_focal_gamma0_is_cross_entropy_exactly():
    g = torch.Generator().manual_seed(1)
    logits, target = torch.randn(7, 5, generator=g), torch.randint(0, 5, (7,), generator=g)
    assert torch.equal(focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))


def test_focal_hand_formula_and_alpha():
    g = torch.Generator().manual_seed(2)
    logits, target = torch.randn(6, 4, generator=g), torch.randint(0, 4, (6,), generator=g)
    p_t = logits.softmax(1)[torch.arange(6), target]
    alpha = torch.tensor([0.25, 0.5, 1.0, 2.0])
    ref = (-alpha[target] * (1 - p_t) ** 2 * p_t.log()).mean()
    assert focal_loss(logits, target, 2.0, alpha.tolist()).item() == pytest.approx(ref.item(), rel=1e-6)
    assert focal_loss(logits, target, 2.0, 0.5).item() == pytest.approx(
        0.5 * focal_loss(logits, target, 2.0).item(), rel=1e-6)


def test_focal_down_weights_easy_examples():
    ce, fl = loss_vs_probability([0.9, 0.1], 2.0)
    assert ce == pytest.approx(-np.log([0.9, 0.1]))
    assert fl[0] / ce[0] == pytest.approx(0.01)   # easy: (1 − 0.9)² = 0.01
    assert fl[1] / ce[1] == pytest.approx(0.81)   # hard: (1 − 0.1)² = 0.81


def test_focal_rejects_bad_args():
    with pytest.raises(ConfigError, match="^gamma:"):
        focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), gamma=-1)
    with pytest.raises(ConfigError, match="^alpha:"):
        focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), alpha=[1.0, 2.0])


# --------------------------------------------------------------------------- AP and mAP
def test_ap_hand_worked_list():
    # scores sorted: TP, FP, TP, FP, TP; 4 objects (one never found)
    # precision 1, 1/2, 2/3, 2/4, 3/5 at recall 1/4, 1/4, 2/4, 2/4, 3/4
    # envelope at recall 1/4: 1; at 2/4: 2/3; at 3/4: 3/5  → AP = (1 + 2/3 + 3/5) / 4
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    is_tp = [1, 0, 1, 0, 1]
    assert average_precision(scores, is_tp, 4) == pytest.approx((1 + 2 / 3 + 3 / 5) / 4)
    # order of input does not matter, only scores
    assert average_precision(scores[::-1], is_tp[::-1], 4) == pytest.approx((1 + 2 / 3 + 3 / 5) / 4)


def test_ap_interpolation_lifts_a_dip():
    # TP, FP, TP, TP with 3 objects: precision 1, 1/2, 2/3, 3/4; envelope at recall 1/3 is 1,
    # then max precision over recall ≥ 2/3 is 3/4 for both later steps → AP = 1/3 + 3/4·2/3
    assert average_precision([4, 3, 2, 1], [1, 0, 1, 1], 3) == pytest.approx(1 / 3 + 0.75 * 2 / 3)
    assert average_precision([1.0, 0.5], [1, 1], 2) == 1.0
    assert average_precision([1.0], [0], 2) == 0.0


def test_pr_curve_and_threshold():
    c = pr_curve([0.9, 0.8, 0.7], [1, 0, 1], 2)
    assert np.allclose(c.precision, [1, 0.5, 2 / 3]) and np.allclose(c.recall, [0.5, 0.5, 1])
    assert np.allclose(c.envelope, [1, 2 / 3, 2 / 3])
    assert precision_recall_at(c, 0.85) == (1.0, 0.5, 1)
    assert precision_recall_at(c, 0.75) == (0.5, 0.5, 2)
    assert precision_recall_at(c, 0.95) == (1.0, 0.0, 0)


def test_map_is_mean_over_classes():
    m, aps = mean_average_precision({"a": ([0.9, 0.8], [1, 1], 2), "b": ([0.9], [0], 1)})
    assert aps == {"a": 1.0, "b": 0.0} and m == 0.5


def test_ap_rejects_bad_args():
    with pytest.raises(ConfigError, match="^n_gt:"):
        average_precision([0.5], [1], 0)
    with pytest.raises(ConfigError, match="^is_tp:"):
        average_precision([0.5, 0.4], [1], 1)
    with pytest.raises(ConfigError, match="^is_tp:"):
        average_precision([0.5, 0.4], [1, 1], 1)


def test_match_detections_voc_rule():
    gt = [(0, 0, 10, 10), (20, 20, 30, 30)]
    boxes = [(0, 0, 10, 10), (1, 1, 10, 10), (20, 20, 29, 30), (50, 50, 60, 60)]
    scores = [0.6, 0.9, 0.5, 0.99]
    # 0.99: no overlap → FP; 0.9 takes gt 0 (IoU 0.81) → TP; 0.6 wants gt 0, taken → FP; 0.5 → TP
    assert match_detections(boxes, scores, gt).tolist() == [False, True, True, False]


def test_demo_detections_are_consistent():
    dets, n_gt = demo_detections(0)
    for c, n in n_gt.items():
        tp = sum(d.is_tp for d in dets if d.cls == c)
        assert 0 < tp <= n
    assert dets == demo_detections(0)[0]  # seeded


def test_the_ap_formula_terms_by_hand_and_they_add_up_to_the_engine_ap():
    from cnnviz.metrics import pr_curve
    from cnnviz.metrics.map_formulas import ap_latex, ap_terms
    # scores best first: TP, FP, TP of 2 objects: precision 1, 1/2, 2/3; recall 1/2, 1/2, 1
    # p_interp(r_1) = max(1, 1/2, 2/3) = 1, p_interp(r_3) = 2/3: AP = 1/2·1 + 1/2·2/3 = 5/6
    curve = pr_curve([0.9, 0.8, 0.7], [True, False, True], 2)
    assert ap_terms(curve) == pytest.approx([(0.5, 1.0), (0.5, 2 / 3)])
    assert curve.ap == pytest.approx(5 / 6)
    assert ap_latex(curve, "cat") == r"\mathrm{AP}_{\text{cat}} = 0.500\cdot1.000 + 0.500\cdot0.667 = 0.833"
    # a later TP at higher precision lifts the earlier term: TP, FP, FP, TP, TP of 4 -> p = 1, .5, .33, .5, .6
    curve = pr_curve([5, 4, 3, 2, 1], [True, False, False, True, True], 4)
    assert ap_terms(curve) == pytest.approx([(0.25, 1.0), (0.25, 0.6), (0.25, 0.6)])
    assert curve.ap == pytest.approx(0.25 + 0.15 + 0.15)  # the 4th object never found: recall stops at 3/4
    assert ap_latex(pr_curve([0.5], [False], 1), "dog").endswith("= 0 = 0.000")


def test_map_and_coco_formulas_add_up_to_the_engine():
    from cnnviz.metrics import coco_map, demo_scene, detections_by_class, map_at_iou
    from cnnviz.metrics.map_formulas import coco_latex, coco_terms, map_latex
    dets, gt = demo_scene(0)
    by_class = detections_by_class(dets)
    terms = coco_terms(by_class, gt)
    assert [t for t, _ in terms] == pytest.approx([0.5 + 0.05 * i for i in range(10)])
    assert np.mean([v for _, v in terms]) == pytest.approx(coco_map(by_class, gt))
    tex = coco_latex(terms, 0.7)
    assert tex.count(r"\boxed") == 1 and rf"\boxed{{\underbrace{{{terms[4][1]:.3f}}}_{{0.70}}}}" in tex
    assert tex.endswith(f"= {coco_map(by_class, gt):.3f}")
    m, aps = map_at_iou(by_class, gt, 0.6)
    tex = map_latex(aps, 0.6, m)
    assert r"\mathrm{mAP}@0.60" in tex and tex.endswith(f"= {np.mean(list(aps.values())):.3f}")
    assert rf"\tfrac{{1}}{{{len(gt)}}}" in tex
