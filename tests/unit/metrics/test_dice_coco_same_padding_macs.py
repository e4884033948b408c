"""Soft Dice loss, COCO mAP@[.5:.95], TF/Keras padding="same" for one axis and MACs vs
FLOPs, each against a hand-computed value or PyTorch itself."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

import cnnviz.geometry.arithmetic as arithmetic
from cnnviz import ConfigError
from cnnviz.geometry import conv_flops, conv_flops_formula, conv_geometry, conv_macs, conv_macs_formula
from cnnviz.geometry.formulas import tf_same_formulas
from cnnviz.metrics import (COCO_IOU_THRESHOLDS, average_precision, coco_map, demo_detections, demo_scene, dice,
                            dice_loss, detections_by_class, map_at_iou, match_detections, mean_average_precision,
                            soft_dice_view)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


# --------------------------------------------------------------------------- soft Dice loss
def test_dice_loss_hand_computed():
    probs = torch.tensor([[[0.5, 1.0], [0.0, 0.5]],     # Σpg = 0.5 + 1 = 1.5, Σp = 2, Σg = 2
                          [[0.0, 0.0], [0.0, 0.0]]])    # empty prediction and empty target
    target = torch.tensor([[[1, 1], [0, 0]], [[0, 0], [0, 0]]])
    # sample 0: 1 − (2·1.5 + 1)/(2 + 2 + 1) = 0.2; sample 1: 1 − (0 + 1)/(0 + 0 + 1) = 0
    assert dice_loss(probs, target).item() == pytest.approx(0.1)
    assert dice_loss(probs[:1], target[:1], smooth=0.0).item() == pytest.approx(1 - 3 / 4)
    assert dice_loss(probs[:1], target[:1], smooth=2.5).item() == pytest.approx(1 - 5.5 / 6.5)


def test_dice_loss_of_a_hard_mask_is_one_minus_dice():
    g = torch.Generator().manual_seed(0)
    pred, true = torch.rand(1, 9, 9, generator=g) > 0.5, torch.rand(1, 9, 9, generator=g) > 0.4
    hard = dice(pred[0].numpy(), true[0].numpy())
    assert dice_loss(pred.double(), true, smooth=0.0).item() == pytest.approx(1 - hard)


def test_dice_loss_matches_a_per_sample_loop_on_random_batches():
    g = torch.Generator().manual_seed(1)
    probs = torch.rand(4, 2, 5, 6, generator=g, dtype=torch.float64)
    target = (torch.rand(4, 2, 5, 6, generator=g) > 0.7).double()
    ref = np.mean([1 - (2 * (p * t).sum().item() + 1) / (p.sum().item() + t.sum().item() + 1)
                   for p, t in zip(probs, target)])
    assert dice_loss(probs, target).item() == pytest.approx(ref, rel=1e-12)


def test_dice_loss_gradient_is_exact():
    g = torch.Generator().manual_seed(2)
    probs = torch.rand(3, 4, 4, generator=g, dtype=torch.float64).clamp(0.05, 0.95).requires_grad_()
    target = (torch.rand(3, 4, 4, generator=g) > 0.5).double()
    assert torch.autograd.gradcheck(lambda p: dice_loss(p, target, 1.0), (probs,))
    dice_loss(probs, target).backward()
    assert probs.grad.abs().sum() > 0  # differentiable everywhere, unlike the thresholded Dice


@pytest.mark.parametrize("probs,target,kw,field", [
    ([[0.5]], torch.ones(1, 1), {}, "probs"),                                       # not a tensor
    (torch.ones(1, 2), [[1, 1]], {}, "target"),
    (torch.ones(1, 2, dtype=torch.long), torch.ones(1, 2), {}, "probs"),            # int probs
    (torch.ones(2), torch.ones(2), {}, "probs"),                                    # no batch axis
    (torch.ones(1, 2), torch.ones(1, 3), {}, "target"),                             # shape mismatch
    (torch.ones(0, 2), torch.ones(0, 2), {}, "probs"),                              # empty
    (torch.tensor([[0.5, 1.2]]), torch.ones(1, 2), {}, "probs"),                    # out of range
    (torch.tensor([[0.5, -0.1]]), torch.ones(1, 2), {}, "probs"),
    (torch.tensor([[0.5, float("nan")]]), torch.ones(1, 2), {}, "probs"),           # NaN
    (torch.ones(1, 2) / 2, torch.tensor([[1.0, 0.5]]), {}, "target"),               # not 0/1
    (torch.ones(1, 2) / 2, torch.tensor([[2, 0]]), {}, "target"),
    (torch.ones(1, 2) / 2, torch.ones(1, 2, dtype=torch.complex64), {}, "target"),
    (torch.ones(1, 2, dtype=torch.complex64), torch.ones(1, 2), {}, "probs"),
    (torch.ones(1, 2) / 2, torch.ones(1, 2), dict(smooth=-1.0), "smooth"),
    (torch.ones(1, 2) / 2, torch.ones(1, 2), dict(smooth=float("inf")), "smooth"),
    (torch.ones(1, 2) / 2, torch.ones(1, 2), dict(smooth=True), "smooth"),
    (torch.zeros(1, 2), torch.zeros(1, 2), dict(smooth=0.0), "smooth"),             # 0 / 0
])
def test_dice_loss_rejects_bad_input_naming_the_field(probs, target, kw, field):
    with pytest.raises(ConfigError) as err:
        dice_loss(probs, target, **kw)
    assert err.value.field == field


def test_soft_dice_view_numbers_are_the_engines():
    v = soft_dice_view(shift=3.0, temperature=0.5)
    p, g = torch.from_numpy(v.probs)[None], torch.from_numpy(v.target)[None]
    assert v.dice_loss == pytest.approx(dice_loss(p, g).item())
    assert v.bce == pytest.approx(F.binary_cross_entropy(p, g).item())
    # pixel centres (i + ½, j + ½) within 8 of (16, 16), as a plain loop over the 32×32 grid counts them
    assert v.sum_g == g.sum().item() == 208
    assert v.dice_loss == pytest.approx(1 - (2 * v.intersection + 1) / (v.sum_p + v.sum_g + 1))
    assert f"{v.dice_loss:.3f}" in v.latex and f"{v.intersection:.2f}" in v.latex
    assert soft_dice_view(0.0, 0.05).dice_loss < soft_dice_view(0.0, 2.0).dice_loss  # sharper is better when aligned


def test_small_object_background_everywhere_fools_bce_not_dice():
    big, small = soft_dice_view(small=False), soft_dice_view(small=True)
    assert small.sum_g == 12 and big.sum_g == 208
    # predicting p = 0.05 everywhere: BCE is small when the object is small (most pixels are right) ...
    assert small.empty_bce < 0.1 < 0.6 < big.empty_bce
    assert small.empty_bce == pytest.approx(-(12 * math.log(0.05) + (1024 - 12) * math.log(0.95)) / 1024)
    # ... and even below the BCE of a prediction that does cover the object, but Dice calls it a miss
    off = soft_dice_view(shift=10.0, small=True)
    assert off.bce < 0.15 and off.dice_loss > 0.95 and small.empty_dice_loss > 0.95



def test_the_lessons_soft_dice_numbers():
    """The Lessons step "Segmentation: the soft Dice loss" quotes these (small object, temperature 0.5)."""
    on, off = soft_dice_view(0.0, 0.5, True), soft_dice_view(4.0, 0.5, True)
    assert (f"{on.dice_loss:.2f}", f"{off.dice_loss:.2f}") == ("0.30", "0.92") and off.bce < 0.08
    assert (f"{on.empty_bce:.2f}", f"{on.empty_dice_loss:.2f}") == ("0.09", "0.97")


# --------------------------------------------------------------------------- COCO mAP@[.5:.95]
def test_coco_thresholds():
    assert COCO_IOU_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def test_coco_map_hand_computed():
    gt = {"a": [(0, 0, 10, 10)], "b": [(0, 0, 10, 10), (20, 20, 30, 30)]}
    dets = {"a": ([(0, 0, 10, 8), (0, 0, 10, 10)], [0.9, 0.5]),   # IoU 0.8 (best score), then IoU 1.0
            "b": ([(20, 20, 30, 30)], [0.7])}                       # one of two objects found, exactly
    # a: t ≤ 0.8 (7 thresholds): the first is a TP, the second a duplicate -> AP 1; t ≥ 0.85 (3): FP then TP,
    #    precision 1/2 at recall 1 -> AP 0.5. Mean: (7·1 + 3·0.5) / 10 = 0.85. b: recall 0.5 at precision 1: 0.5
    assert map_at_iou(dets, gt, 0.8) == (0.75, {"a": 1.0, "b": 0.5})
    assert map_at_iou(dets, gt, 0.85) == (0.5, {"a": 0.5, "b": 0.5})
    assert coco_map(dets, gt) == pytest.approx((0.85 + 0.5) / 2)
    assert coco_map({"a": ([(0, 0, 10, 9)], [0.3])}, {"a": [(0, 0, 10, 10)]}) == pytest.approx(0.9)  # IoU 0.9
    assert coco_map({}, {"a": [(0, 0, 10, 10)]}) == 0.0  # nothing detected


def test_coco_map_is_the_mean_of_the_single_threshold_ap():
    dets, gt = demo_scene(3)
    by_class = detections_by_class(dets)
    per_t = []
    for t in COCO_IOU_THRESHOLDS:
        aps = [average_precision(by_class[c][1], match_detections(*by_class[c], gt[c], iou_threshold=t), len(gt[c]))
               for c in gt]
        per_t.append(np.mean(aps))
    assert coco_map(by_class, gt) == pytest.approx(np.mean(per_t))
    assert per_t[0] > per_t[-1] and coco_map(by_class, gt) < per_t[0]  # stricter thresholds, fewer matches


def test_demo_scene_at_half_is_the_demo_detections_and_their_map():
    dets, n_gt = demo_detections(0)
    scene, gt = demo_scene(0)
    assert scene == dets and {c: len(g) for c, g in gt.items()} == n_gt
    m, _ = mean_average_precision({c: ([d.score for d in dets if d.cls == c], [d.is_tp for d in dets if d.cls == c],
                                       n) for c, n in n_gt.items()})
    assert map_at_iou(detections_by_class(dets), gt, 0.5)[0] == pytest.approx(m)


@pytest.mark.parametrize("dets,gt,field", [
    ({}, {}, "ground_truth"),
    ({}, [(0, 0, 1, 1)], "ground_truth"),
    ([], {"a": [(0, 0, 1, 1)]}, "detections"),
    ({"z": ([(0, 0, 1, 1)], [0.5])}, {"a": [(0, 0, 1, 1)]}, "detections"),
    ({}, {"a": []}, "ground_truth"),
    ({"a": ([(0, 0, 1, 1)], [0.5, 0.4])}, {"a": [(0, 0, 1, 1)]}, "scores"),
    ({"a": ([(0, 0, 1)], [0.5])}, {"a": [(0, 0, 1, 1)]}, "a"),             # box_iou's own check
    ({"a": [(0, 0, 1, 1)]}, {"a": [(0, 0, 1, 1)]}, "detections"),          # boxes without scores
    ({"a": 0.5}, {"a": [(0, 0, 1, 1)]}, "detections"),
    ({"a": [(0, 0, 1, 1), (0.5, 0.4, 0.3, 0.2)]}, {"a": [(0, 0, 1, 1)]}, "a"),  # two boxes, no scores: box 0.0
    ({"a": ([("x", 0, 1, 1)], [0.5])}, {"a": [(0, 0, 1, 1)]}, "a"),
])
def test_coco_map_rejects_bad_input(dets, gt, field):
    with pytest.raises(ConfigError) as err:
        coco_map(dets, gt)
    assert err.value.field == field


# --------------------------------------------------------------------------- TF/Keras padding="same"
@pytest.mark.parametrize("args,expected", [
    ((8, 3, 2), (0, 1, 4)),       # the odd extra cell goes after
    ((7, 3, 2), (1, 1, 4)),
    ((5, 1, 2), (0, 0, 3)),       # a 1×1 kernel never pads
    ((224, 7, 2), (2, 3, 112)),   # the ResNet stem as Keras builds it
    ((9, 3, 1, 2), (2, 2, 9)),    # stride 1: d·(k − 1), PyTorch's 'same'
    ((2, 5, 3), (1, 2, 1)),
])
def test_tf_same_padding_hand_computed(args, expected):
    assert arithmetic.tf_same_padding(*args) == expected
    formulas = tf_same_formulas(*args)
    assert [f.value for f in formulas] == [expected[2], expected[0] + expected[1], expected[0], expected[1]]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@SETTINGS
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 5), st.integers(1, 4))
def test_tf_same_padding_reproduces_its_output_size_in_pytorch(size, k, s, d):
    before, after, out = arithmetic.tf_same_padding(size, k, s, d)
    assert out == math.ceil(size / s) and 0 <= after - before <= 1
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, k)
    y = F.conv1d(F.pad(x, (before, after)), w, stride=s, dilation=d)  # (1, 1, out)
    assert y.shape[-1] == out
    if s == 1:  # exactly PyTorch's own padding='same', values too
        g = torch.Generator().manual_seed(size * 100 + k)
        x, w = torch.randn(1, 2, size, generator=g), torch.randn(3, 2, k, generator=g)
        same = F.conv1d(x, w, padding="same", dilation=d)
        assert same.shape[-1] == out
        torch.testing.assert_close(F.conv1d(F.pad(x, (before, after)), w, dilation=d), same)


@pytest.mark.parametrize("args,field", [((0, 3), "size"), ((5, 0), "kernel_size"), ((5, 3, 0), "stride"),
                                        ((5, 3, 1, 0), "dilation"), ((5.0, 3), "size"), ((5, True), "kernel_size"),
                                        (("5", 3), "size")])
def test_tf_same_padding_rejects_bad_values(args, field):
    with pytest.raises(ConfigError) as err:
        arithmetic.tf_same_padding(*args)
    assert err.value.field == field


def test_tf_same_padding_lives_in_geometry_and_the_old_path():
    from cnnviz.geometry import tf_same_padding
    from cnnviz.geometry.arithmetic import tf_same_padding as via_arithmetic
    assert arithmetic.tf_same_padding is tf_same_padding is via_arithmetic



def conv1d_length(x, w, a) -> int:
    """PyTorch's output length, 0 where it refuses an input shorter than the dilated kernel."""
    try:
        return F.conv1d(x, w, stride=a["stride"], dilation=a["dilation"]).shape[-1]
    except RuntimeError:
        return 0


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_quiz_tf_same_questions_are_the_least_padding_pytorch_needs(difficulty):
    from cnnviz.classroom.quiz import EXTRA_KINDS, KINDS, make_quiz
    assert [q.prompt for q in make_quiz(7, difficulty, 6)] == [q.prompt for q in make_quiz(7, difficulty, 6, extra=False)]
    asked = 0
    for seed in range(4):
        quiz = make_quiz(seed, difficulty, 10, extra=True)
        assert sorted(q.kind for q in quiz) == sorted((KINDS + EXTRA_KINDS) * 2)
        for q in (q for q in quiz if q.kind in EXTRA_KINDS):
            a = q.tf_same
            assert a["stride"] == 1 or a["dilation"] == 1  # Keras refuses both at once
            target = math.ceil(a["size"] / a["stride"])
            x, w = torch.zeros(1, 1, a["size"]), torch.zeros(1, 1, a["kernel_size"])
            least = next(p for p in range(128) if conv1d_length(F.pad(x, (0, p)), w, a) >= target)
            assert q.answer == q.formula.value == least and q.check(least) and not q.check(least + 1)
            assert f"kernel_size={a['kernel_size']}" in q.code and f"length **{a['size']}**" in q.prompt
            asked += 1
    assert asked == 8
    with pytest.raises(ConfigError) as err:
        make_quiz(1, "easy", 3, extra="yes")
    assert err.value.field == "extra"


# --------------------------------------------------------------------------- MACs vs FLOPs
@pytest.mark.parametrize("cfg", [dict(in_shape=(3, 7, 7), out_channels=8, kernel_size=3, padding=1),
                                 dict(in_shape=(4, 9, 11), out_channels=6, kernel_size=(3, 5), stride=2, groups=2),
                                 dict(in_shape=(2, 5), out_channels=3, kernel_size=3, transposed=True, stride=2)])
def test_macs_are_half_of_flopcountermode(cfg):
    g = conv_geometry(**cfg)
    kind = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d) if g.transposed else (nn.Conv1d, nn.Conv2d,
                                                                                           nn.Conv3d)
    conv = kind[g.dims - 1](g.in_channels, g.out_channels, g.kernel, g.stride, cfg.get("padding", 0),
                            groups=g.groups, bias=False)
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, *cfg["in_shape"]))
    flops = counter.get_total_flops()
    assert conv_flops(**cfg) == flops
    assert arithmetic.macs_from_flops(flops) == flops // 2 == conv_macs(g) == conv_macs_formula(g).value
    assert conv_macs_formula(g).value * 2 == conv_flops_formula(g).value
    assert conv_macs_formula(g).latex.startswith(r"\begin{aligned} \mathrm{MACs}")


@pytest.mark.parametrize("bad", [-2, 2.0, "4", None, True])
def test_macs_from_flops_rejects_bad_values(bad):
    with pytest.raises(ConfigError) as err:
        arithmetic.macs_from_flops(bad)
    assert err.value.field == "flops"


# --------------------------------------------------------------------------- robustness: only ConfigError, ever
NONSENSE = st.one_of(st.integers(-3, 40), st.floats(allow_nan=True), st.none(), st.booleans(), st.text(max_size=3),
                     st.tuples(st.integers(1, 5)))


@SETTINGS
@given(NONSENSE, NONSENSE, NONSENSE, NONSENSE)
def test_tf_same_padding_raises_only_config_error(size, k, s, d):
    try:
        before, after, out = arithmetic.tf_same_padding(size, k, s, d)
    except ConfigError:
        return
    assert min(before, after) >= 0 and out == -(-size // s)


@SETTINGS
@given(st.lists(st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0, math.nan, math.inf])), max_size=12),
       st.lists(st.sampled_from([0, 1, 2, -1]), min_size=0, max_size=12), st.integers(1, 3),
       st.one_of(st.floats(-1, 3), st.just(math.nan)))
def test_dice_loss_raises_only_config_error_or_returns_a_loss_in_0_1(p, t, rows, smooth):
    probs = torch.tensor(p, dtype=torch.float64).reshape(rows, -1) if len(p) % rows == 0 else torch.tensor(p)
    target = torch.tensor(t, dtype=torch.float64).reshape(rows, -1) if len(t) % rows == 0 else torch.tensor(t)
    try:
        loss = dice_loss(probs, target, smooth)
    except ConfigError:
        return
    assert 0.0 <= loss.item() <= 1.0 + 1e-12
