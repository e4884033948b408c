"""The Precision–recall tab's formulas as LaTeX, with the tab's numbers substituted: AP as ``detection.pr_curve``
computes it (all-point interpolation), mAP at one IoU threshold, and COCO's mAP@[.5:.95] over ten thresholds.

Every number substituted comes from ``cnnviz.metrics.detection``; the functions here only split it into the terms
a student can add up (and the terms add up to the engine's value: tests/unit/metrics/test_metrics.py)."""
from __future__ import annotations

import numpy as np

from cnnviz.metrics.detection import COCO_IOU_THRESHOLDS, PRCurve, map_at_iou

AP_GENERAL = (r"\mathrm{AP} = \sum_{n=1}^{D} (r_n - r_{n-1})\; p_{\mathrm{interp}}(r_n),\qquad "
              r"p_{\mathrm{interp}}(r_n) = \max_{m \ge n} p_m,\quad r_0 = 0")
COCO_GENERAL = (r"\mathrm{mAP}@[.5{:}.95] = \frac{1}{10} \sum_{t \in \{0.50,\, 0.55,\, \dots,\, 0.95\}} "
                r"\mathrm{mAP}@t")


def ap_terms(curve: PRCurve) -> list[tuple[float, float]]:
    """(r_n − r_{n−1}, p_interp(r_n)) for every detection n (best score first) that raises the recall: the others
    add (r_n − r_{n−1}) = 0. p_m is the precision of the top m detections, r_n the recall of the top n."""
    recall = np.concatenate([[0.0], curve.recall])
    return [(float(recall[n + 1] - recall[n]), float(curve.envelope[n]))
            for n in range(len(curve.recall)) if recall[n + 1] != recall[n]]


def ap_latex(curve: PRCurve, cls: str) -> str:
    """The AP sum for one class, its terms substituted, = curve.ap."""
    terms = ap_terms(curve)
    body = " + ".join(rf"{dr:.3f}\cdot{p:.3f}" for dr, p in terms) or "0"
    return rf"\mathrm{{AP}}_{{\text{{{cls}}}}} = {body} = {curve.ap:.3f}"


def map_latex(aps: dict, iou_threshold: float, m_ap: float) -> str:
    """mAP at one IoU threshold: the plain mean of the classes' AP."""
    t = f"{iou_threshold:.2f}"
    body = " + ".join(rf"\underbrace{{{ap:.3f}}}_{{\text{{{c}}}}}" for c, ap in aps.items())
    return (rf"\mathrm{{mAP}}@{t} = \frac{{1}}{{|C|}} \sum_{{c \in C}} \mathrm{{AP}}_c@{t} = "
            rf"\tfrac{{1}}{{{len(aps)}}}\big({body}\big) = {m_ap:.3f}")


def coco_terms(detections: dict, ground_truth: dict) -> list[tuple[float, float]]:
    """(t, mAP@t) for the ten COCO thresholds; their mean is ``detection.coco_map``."""
    return [(t, map_at_iou(detections, ground_truth, t)[0]) for t in COCO_IOU_THRESHOLDS]


def coco_latex(terms: list[tuple[float, float]], iou_threshold: float | None = None) -> str:
    """The ten mAP@t substituted, the one at ``iou_threshold`` (the slider's) boxed, = their mean."""
    def term(t, v):
        s = rf"\underbrace{{{v:.3f}}}_{{{t:.2f}}}"
        return rf"\boxed{{{s}}}" if iou_threshold is not None and abs(t - iou_threshold) < 1e-9 else s
    mean = float(np.mean([v for _, v in terms]))
    return rf"= \tfrac{{1}}{{10}}\big({' + '.join(term(t, v) for t, v in terms)}\big) = {mean:.3f}"
