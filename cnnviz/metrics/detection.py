"""Detection and segmentation metrics: box IoU, mask IoU and Dice, precision-recall and average precision
(PASCAL VOC 2010+ all-point interpolation), mAP, plus the small generated examples the playground page shows."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnviz.checks import Array, Dict, Instance, Number, Seq, checked
from cnnviz.errors import ConfigError

MAX_DETECTIONS = 10_000  # boxes or scores in one call: matching is O(detections × ground truth)
MAX_MASK_SIDE = 4096


# --------------------------------------------------------------------------- boxes and masks
def _box(b, name: str) -> tuple[float, float, float, float]:
    """(x1, y1, x2, y2) as floats: four finite numbers, x2 ≥ x1 and y2 ≥ y1, with a width and a height float64
    can hold (a box from −1e308 to 1e308 is 2e308 wide: past float64's largest number, 1.8e308)."""
    b = Array(dims=1).check(name, b)
    if len(b) != 4:
        raise ConfigError(name, f"must be (x1, y1, x2, y2), got {len(b)} numbers")
    x1, y1, x2, y2 = (float(v) for v in b)
    if x2 < x1 or y2 < y1:
        raise ConfigError(name, f"needs x2 ≥ x1 and y2 ≥ y1, got {(x1, y1, x2, y2)}")
    if not math.isfinite(x2 - x1) or not math.isfinite(y2 - y1):
        raise ConfigError(name, f"is wider or taller than float64 can hold (x2 − x1 = {x2 - x1:g}, "
                                f"y2 − y1 = {y2 - y1:g}); use coordinates within ±8e307")
    return x1, y1, x2, y2


def box_area(b) -> float:
    x1, y1, x2, y2 = _box(b, "box")
    area = (x2 - x1) * (y2 - y1)
    if not math.isfinite(area):
        raise ConfigError("box", f"its area {x2 - x1:g} × {y2 - y1:g} is past float64's largest number (1.8e308)")
    return area


def box_intersection(a, b):
    """The overlap box of a and b, or None when they do not overlap."""
    ax1, ay1, ax2, ay2 = _box(a, "a")
    bx1, by1, bx2, by2 = _box(b, "b")
    x1, y1, x2, y2 = max(ax1, bx1), max(ay1, by1), min(ax2, bx2), min(ay2, by2)
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def _unit(*lengths: float) -> list[float]:
    """The lengths divided by the power of two that brings the largest into [0.5, 1): exact (a power of two only
    moves the exponent), so their products neither overflow (1e308²) nor underflow (subnormal²)."""
    e = math.frexp(max(lengths))[1]
    return [math.ldexp(v, -e) for v in lengths]


def box_iou(a, b) -> float:
    """|a ∩ b| / |a ∪ b| for boxes (x1, y1, x2, y2); 0 when the union is empty. IoU does not change when an axis
    is scaled, so each axis is scaled by a power of two first: exact for any boxes float64 holds, from subnormal
    (5e-324 wide) to 1e308 wide, where the areas themselves would underflow to 0 or overflow to inf."""
    ax1, ay1, ax2, ay2 = _box(a, "a")
    bx1, by1, bx2, by2 = _box(b, "b")
    iw, ih = min(ax2, bx2) - max(ax1, bx1), min(ay2, by2) - max(ay1, by1)
    if iw <= 0 or ih <= 0:
        return 0.0
    aw, bw, iw = _unit(ax2 - ax1, bx2 - bx1, iw)
    ah, bh, ih = _unit(ay2 - ay1, by2 - by1, ih)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return min(1.0, inter / union) if union > 0 else 0.0


def _masks(pred, true) -> tuple[np.ndarray, np.ndarray]:
    p, t = Array(dtype=bool, finite=False).check("pred_mask", pred), Array(dtype=bool, finite=False).check("true_mask", true)
    if p.shape != t.shape:
        raise ConfigError("pred_mask", f"must have the true mask's shape {t.shape}, got {p.shape}")
    return p, t


def dice(pred_mask, true_mask) -> float:
    """2 |A ∩ B| / (|A| + |B|); 1.0 when both masks are empty (nothing to find, nothing found)."""
    p, t = _masks(pred_mask, true_mask)
    total = p.sum() + t.sum()
    return 1.0 if total == 0 else float(2 * (p & t).sum() / total)


def mask_iou(pred_mask, true_mask) -> float:
    """|A ∩ B| / |A ∪ B|; 1.0 when both masks are empty. Dice = 2·IoU / (1 + IoU)."""
    p, t = _masks(pred_mask, true_mask)
    union = (p | t).sum()
    return 1.0 if union == 0 else float((p & t).sum() / union)


@checked(iou=Array(scalar=True))
def dice_from_iou(iou):
    """Dice = 2·IoU / (1 + IoU): the same overlap, measured more generously (equal only at 0 and 1)."""
    if np.any((iou < 0) | (iou > 1)):
        raise ConfigError("iou", "must be in [0, 1]")
    return 2 * iou / (1 + iou)


@checked(size=Number(1, MAX_MASK_SIDE, integer=True), cx=Number(), cy=Number(), r=Number(0))
def disk_mask(size: int, cx: float, cy: float, r: float) -> np.ndarray:
    """A (size, size) boolean disk: pixel centres within r of (cx, cy)."""
    if size < 1:
        raise ConfigError("size", f"must be ≥ 1, got {size}")
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


# --------------------------------------------------------------------------- detection: PR curve, AP, mAP
@dataclass(frozen=True)
class PRCurve:
    scores: np.ndarray     # (D,) detection scores, best first
    is_tp: np.ndarray      # (D,) in the same order
    precision: np.ndarray  # (D,) after keeping the top 1..D detections
    recall: np.ndarray     # (D,)
    envelope: np.ndarray   # (D,) precision made monotone: max precision at any recall ≥ this one
    ap: float


@checked(scores=Array(dims=(0, 1)), is_tp=Array(dims=(0, 1), dtype=bool, finite=False),
         n_gt=Number(integer=True))
def pr_curve(scores, is_tp, n_gt: int) -> PRCurve:
    """Sort detections by score (stable), accumulate TP/FP; all-point interpolated AP (PASCAL VOC 2010+):
    AP = Σ (r_{i+1} − r_i) · max_{r ≥ r_{i+1}} precision(r)."""
    s = np.asarray(scores, dtype=float).reshape(-1)
    tp = np.asarray(is_tp).astype(bool).reshape(-1)
    if s.shape != tp.shape:
        raise ConfigError("is_tp", f"needs one flag per score ({len(s)}), got {len(tp)}")
    if not isinstance(n_gt, (int, np.integer)) or n_gt < 1:
        raise ConfigError("n_gt", f"must be an integer ≥ 1 (the number of ground-truth objects), got {n_gt}")
    if tp.sum() > n_gt:
        raise ConfigError("is_tp", f"has {int(tp.sum())} true positives but there are only n_gt={n_gt} objects")
    order = np.argsort(-s, kind="stable")
    s, tp = s[order], tp[order]
    ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # the envelope, right to left
    i = np.nonzero(mrec[1:] != mrec[:-1])[0]
    ap = float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    return PRCurve(s, tp, precision, recall, mpre[1:-1], ap)


def average_precision(scores, is_tp, n_gt: int) -> float:
    return pr_curve(scores, is_tp, n_gt).ap


@checked(per_class=Dict())
def mean_average_precision(per_class: dict) -> tuple[float, dict]:
    """per_class: {class: (scores, is_tp, n_gt)} -> (mAP, {class: AP}); mAP is the plain mean over classes."""
    if not per_class:
        raise ConfigError("per_class", "needs at least one class")
    for c, v in per_class.items():
        if not isinstance(v, (tuple, list)) or len(v) != 3:
            raise ConfigError("per_class", f"class {str(c)[:40]!r} needs (scores, is_tp, n_gt)")
    aps = {c: average_precision(*v) for c, v in per_class.items()}
    return float(np.mean(list(aps.values()))), aps


@checked(curve=Instance(PRCurve), threshold=Number())
def precision_recall_at(curve: PRCurve, threshold: float) -> tuple[float, float, int]:
    """(precision, recall, kept) keeping detections with score ≥ threshold; precision 1.0 when none kept."""
    kept = int((curve.scores >= threshold).sum())
    if kept == 0:
        return 1.0, 0.0, 0
    return float(curve.precision[kept - 1]), float(curve.recall[kept - 1]), kept


@checked(boxes=Seq(max_len=MAX_DETECTIONS), scores=Array(dims=1), gt_boxes=Seq(max_len=MAX_DETECTIONS),
         iou_threshold=Number(0, 1, lo_open=True))
def match_detections(boxes, scores, gt_boxes, iou_threshold: float = 0.5) -> np.ndarray:
    """VOC matching: best score first, each detection takes the unmatched ground-truth box it overlaps most
    if IoU ≥ threshold (a true positive); otherwise, or if that box is taken, a false positive."""
    if not 0 < iou_threshold <= 1:
        raise ConfigError("iou_threshold", f"must be in (0, 1], got {iou_threshold}")
    if len(boxes) != len(scores):
        raise ConfigError("scores", f"needs one score per box ({len(boxes)}), got {len(scores)}")
    taken, tp = set(), np.zeros(len(boxes), dtype=bool)
    for d in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        ious = [box_iou(boxes[d], g) for g in gt_boxes]
        if ious and max(ious) >= iou_threshold and int(np.argmax(ious)) not in taken:
            taken.add(int(np.argmax(ious)))
            tp[d] = True
    return tp


COCO_IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.50, 0.55, …, 0.95


def map_at_iou(detections: dict, ground_truth: dict, iou_threshold: float = 0.5) -> tuple[float, dict]:
    """mAP at one IoU threshold: per class, ``match_detections`` at that threshold, then ``average_precision``
    (all-point interpolation); the plain mean over the classes of ``ground_truth``. Input format as in
    ``coco_map``. Returns (mAP, {class: AP})."""
    if not isinstance(ground_truth, dict) or not ground_truth:
        raise ConfigError("ground_truth", "must be a dict {class: [(x1, y1, x2, y2), …]} with at least one class")
    if not isinstance(detections, dict):
        raise ConfigError("detections", "must be a dict {class: (boxes, scores)}")
    for c in detections:
        if c not in ground_truth:
            raise ConfigError("detections", f"class {c!r} has no entry in ground_truth")
    aps = {}
    for c, gts in ground_truth.items():
        if len(gts) == 0:
            raise ConfigError("ground_truth", f"class {c!r} has no boxes (AP is undefined without objects)")
        entry = detections.get(c, ((), ()))
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise ConfigError("detections", f"class {c!r} must map to (boxes, scores), got {entry!r:.80}")
        boxes, scores = entry
        tp = match_detections(list(boxes), list(scores), list(gts), iou_threshold)
        aps[c] = average_precision(list(scores), tp, len(gts))
    return float(np.mean(list(aps.values()))), aps


def coco_map(detections: dict, ground_truth: dict) -> float:
    """COCO-style mAP@[.5:.95]: the mean of ``map_at_iou`` over the IoU thresholds 0.50, 0.55, …, 0.95.

    ``detections``: {class: (boxes, scores)}, boxes a list of (x1, y1, x2, y2), one score per box (a class may
    be missing: no detections). ``ground_truth``: {class: [(x1, y1, x2, y2), …]}, at least one box per class.
    AP is this module's (VOC matching, best score first; all-point interpolated precision-recall area), not
    COCO's 101-point interpolation, and there are no crowd or area ranges: values differ slightly from
    pycocotools'. A box that is only roughly right counts at 0.5 but not at 0.9, so this is ≤ mAP@0.5."""
    return float(np.mean([map_at_iou(detections, ground_truth, t)[0] for t in COCO_IOU_THRESHOLDS]))


def detections_by_class(detections) -> dict:
    """[Detection, …] -> {class: (boxes, scores)}, the input of ``coco_map``."""
    out: dict = {}
    for d in detections:
        boxes, scores = out.setdefault(d.cls, ([], []))
        boxes.append(d.box)
        scores.append(d.score)
    return out


@dataclass(frozen=True)
class Detection:
    cls: str
    box: tuple
    score: float
    is_tp: bool


def demo_scene(seed: int = 0, classes=("cat", "dog", "bird"), size: float = 100.0, iou_threshold: float = 0.5):
    """A generated scene: ground-truth boxes per class and a detector's output (near hits with high scores,
    some misses, duplicates and false alarms), matched at ``iou_threshold``.
    Returns (detections, {class: [ground-truth boxes]})."""
    rng = np.random.default_rng(seed)
    dets, gt = [], {}
    for ci, c in enumerate(classes):
        n = int(rng.integers(3, 7))
        xy = rng.uniform(0, size * 0.7, (n, 2))
        wh = rng.uniform(size * 0.12, size * 0.3, (n, 2))
        gts = [tuple(np.r_[p, p + s]) for p, s in zip(xy, wh)]
        boxes, scores = [], []
        for g in gts:
            if rng.random() < 0.8 - 0.1 * ci:                  # found, with a jittered box
                boxes.append(tuple(np.asarray(g) + rng.normal(0, 2.5, 4)))
                scores.append(rng.uniform(0.45, 0.98))
            if rng.random() < 0.25:                            # a duplicate: a false positive
                boxes.append(tuple(np.asarray(g) + rng.normal(0, 3, 4)))
                scores.append(rng.uniform(0.3, 0.8))
        for _ in range(int(rng.integers(2, 5))):               # false alarms on the background
            p = rng.uniform(0, size * 0.8, 2)
            boxes.append(tuple(np.r_[p, p + rng.uniform(8, 20, 2)]))
            scores.append(rng.uniform(0.05, 0.75))
        boxes = [tuple(round(float(v), 1) for v in (x1, y1, max(x1, x2), max(y1, y2))) for x1, y1, x2, y2 in boxes]
        scores = [round(float(s), 3) for s in scores]
        tp = match_detections(boxes, scores, gts, iou_threshold)
        dets += [Detection(c, b, s, bool(t)) for b, s, t in zip(boxes, scores, tp)]
        gt[c] = gts
    return dets, gt


def demo_detections(seed: int = 0, classes=("cat", "dog", "bird"), size: float = 100.0):
    """``demo_scene`` matched at IoU 0.5, with the number of ground-truth objects per class.
    Returns (detections, {class: n_gt})."""
    dets, gt = demo_scene(seed, classes, size)
    return dets, {c: len(g) for c, g in gt.items()}
