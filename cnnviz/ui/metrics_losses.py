"""The Metrics & Losses page's panels: the soft Dice loss view (a probability mask you sharpen and shift against
a target, with Dice loss, BCE and IoU side by side), cross-entropy vs focal loss with α on an imbalanced
problem, the AP / mAP@t / COCO mAP@[.5:.95] formulas of the precision–recall tab with its numbers, and one image's
top-k next to the data set's top-1…top-k curve."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.compression.evaluate import predict
from cnnviz.compression.distill import digits_model
from cnnviz.errors import ConfigError
from cnnviz.figures import metrics as figs
from cnnviz.figures.features import image_figure
from cnnviz.figures.metrics import soft_mask_figure
from cnnviz.metrics.classification import (GROUPS, imbalanced_toy, loss_shares, loss_vs_probability, topk_curve,
                                           topk_of)
from cnnviz.metrics.detection import PRCurve
from cnnviz.metrics.map_formulas import AP_GENERAL, COCO_GENERAL, ap_latex, coco_latex, coco_terms, map_latex
from cnnviz.metrics.segmentation import soft_dice_view
from cnnviz.ui.presenter import columns, presenting
from cnnviz.ui.state import PageState, Setting


def _slider(default, label: str, help: str, bounds: tuple) -> Setting:
    return Setting(default, label, help, bounds, widget="slider")


SETTINGS = dict(
    ax=_slider(15, "A: left edge x1", "Move the predicted box A sideways.", (0, 100)),
    ay=_slider(20, "A: top edge y1", "Move box A up or down.", (0, 100)),
    aw=_slider(40, "A: width", "Width of box A.", (1, 100)),
    ah=_slider(35, "A: height", "Height of box A.", (1, 100)),
    bx=_slider(35, "B: left edge x1", "Move the ground-truth box B (40×40).", (0, 60)),
    by=_slider(35, "B: top edge y1", "Move box B up or down.", (0, 60)),
    ma=_slider(10.0, "Mask A: centre x", "Slide disk A sideways.", (0.0, 24.0)),
    mb=_slider(14.0, "Mask B: centre x", "Slide disk B sideways.", (0.0, 24.0)),
    ra=_slider(6.0, "Mask A: radius", "0 gives an empty mask.", (0.0, 12.0)),
    rb=_slider(5.0, "Mask B: radius", "0 gives an empty mask.", (0.0, 12.0)),
    gamma=_slider(2.0, "Focusing γ", "γ = 0 is plain cross-entropy; larger γ down-weights easy examples more.",
                  (0.0, 5.0)),
    p=_slider(0.9, "p (true class)", "The probability the model gives the correct class: near 1 is an easy example.",
              (0.01, 1.0)),
    cls=Setting("cat", "Class", "Precision and recall are per class.", options=("cat", "dog", "bird")),
    thr=_slider(0.5, "Score threshold", "Keep only detections scoring at least this; the star moves along the curve.",
                (0.0, 1.0)),
    iou_thr=_slider(0.5, "IoU threshold", "A detection is a true positive when it overlaps an unclaimed object at "
                    "least this much.", (0.5, 0.95)),
    temp=_slider(1.0, "Temperature", "p = sigmoid((r − distance) / T): small T sharpens the prediction towards a hard "
                 "mask, large T blurs it towards 0.5.", (0.05, 5.0)),
    shift=_slider(0.0, "Shift", "Move the predicted blob sideways, off the target.", (-12.0, 12.0)),
    small=Setting(False, "Small object", "A target of radius 2 (12 of 1024 pixels) instead of 8: class imbalance."),
    alpha=_slider(0.5, "α (rare class)", "Per-class weight α_t: α for the rare class, 1 − α for the common one (as in "
                  "RetinaNet, which used α = 0.25 with γ = 2). 0.5 weighs both alike.", (0.0, 1.0)),
    img=Setting(0, "Image", "Which validation image (0 … 358).", (0, 358)),
    k=_slider(3, "k", "How many best guesses count.", (1, 10)))
from cnnviz.ui.widgets import show_chart, show_error


def soft_dice_panel(S: PageState) -> None:
    left, right = columns([2, 3], [1, 1])  # three metrics side by side on the left: "0.0804" whole
    temp, shift = S.widget("temp", left, step=0.05), S.widget("shift", left, step=0.5)
    small = S.widget("small", left)
    try:
        v = soft_dice_view(shift, temp, small)
    except ConfigError as err:
        show_error(err)
        return
    c = left.columns(3)
    c[0].metric("Dice loss", f"{v.dice_loss:.3f}", help="Soft Dice: 1 − (2Σpg + s) / (Σp + Σg + s), s = 1.")
    c[1].metric("BCE", f"{v.bce:.4f}", help="Binary cross-entropy, the mean over all pixels.")
    c[2].metric("IoU (p ≥ 0.5)", f"{v.iou:.3f}", help="IoU of the thresholded prediction with the target.")
    left.latex(v.latex)
    left.markdown(f"Predicting **background everywhere** (p = 0.05 on every pixel): BCE **{v.empty_bce:.4f}**, "
                  f"Dice loss **{v.empty_dice_loss:.3f}**.")
    left.caption("What to notice: every pixel's p moves the soft Dice loss smoothly (it has a gradient, the "
                 "thresholded Dice has none). Turn on Small object: ignoring the object costs little BCE, "
                 "because nearly every pixel is background, but the Dice loss stays near 1.")
    show_chart(soft_mask_figure(v.probs, v.target), S.key("soft_fig"), right)


def focal_panel(S: PageState) -> None:
    left, right = st.columns([1, 3])
    gamma, p = S.widget("gamma", left, step=0.5), S.widget("p", left, step=0.01)
    alpha = S.widget("alpha", left, step=0.05)
    grid = np.linspace(0.01, 1, 100)
    ce, fl = loss_vs_probability(grid, gamma)
    (ce_p,), (fl_p,) = loss_vs_probability([p], gamma)
    left.metric("Cross-entropy", f"{ce_p:.4f}", help="−log p")
    left.metric("Focal loss", f"{fl_p:.4f}", help="−(1 − p)^γ · log p (α not applied here)")
    left.metric("Focal / CE", f"{(1 - p) ** gamma:.4f}" if ce_p > 0 else "—", help="The factor (1 − p)^γ.")
    left.caption("An easy example (p = 0.9) keeps (1 − 0.9)² = 1 % of its loss at γ = 2; a hard one "
                 "(p = 0.1) keeps 81 %: training focuses on the hard examples.")
    first = right.container() if presenting() else None  # presenter mode: the loss shares (the point) come first
    show_chart(figs.focal_figure(grid, ce, fl, p, ce_p, fl_p, gamma), S.key("focal_fig"), right)
    logits, target = imbalanced_toy()
    a = [1 - alpha, alpha]
    rows = {"cross-entropy": loss_shares(logits, target, 0.0), f"focal γ={gamma:g}, α={alpha:g}":
            loss_shares(logits, target, gamma, a)}
    st.latex(rf"\mathrm{{FL}}(p_t) = -\alpha_t\,(1-p_t)^{{{gamma:g}}}\log p_t,\qquad "
             rf"\alpha_t = {alpha:g}\ \text{{(rare class)}},\ {1 - alpha:g}\ \text{{(common class)}}")
    c = st.columns([3, 2]) if first is None else (first, first)  # presenter mode: above the one-example chart
    show_chart(figs.loss_share_figure(rows, GROUPS), S.key("share_fig"), c[0])
    c[1].markdown(f"An imbalanced toy problem: **{int((target == 0).sum())}** common examples (background), "
                  f"**{int((target == 1).sum())}** rare ones (objects); *easy* means p_t ≥ 0.5.")
    c[1].caption("What to notice: with cross-entropy the many easy common examples make up over half of the loss, "
                 "so they steer the gradient. Raise γ and their share collapses: the few hard examples dominate. "
                 "α then shifts weight between the classes: above 0.5 towards the rare class.")


def map_formulas(curve: PRCurve, cls: str, aps: dict, m_ap: float, iou_threshold: float, detections: dict,
                 ground_truth: dict) -> None:
    """AP (all-point interpolation, as ``pr_curve`` computes it) for the chosen class, mAP at the slider's IoU
    threshold, and COCO's mean over ten thresholds with the slider's boxed: every number the tab's metrics show."""
    st.markdown("**AP**: the area under the interpolated precision–recall curve of one class. Detections sorted by "
                "score, best first; p_m and r_m are the precision and recall of the top m; only detections that "
                "raise the recall (true positives) add a term.")
    st.latex(AP_GENERAL)
    st.latex(ap_latex(curve, cls))
    st.markdown(f"**mAP@{iou_threshold:.2f}**: the mean AP over the classes, detections matched at IoU ≥ "
                f"{iou_threshold:.2f}. **COCO's mAP@[.5:.95]**: the mean of that over ten IoU thresholds (the "
                f"slider's boxed).")
    st.latex(map_latex(aps, iou_threshold, m_ap))
    st.latex(COCO_GENERAL)
    st.latex(coco_latex(coco_terms(detections, ground_truth), iou_threshold))


@st.cache_resource(show_spinner="Loading the trained model…")
def _validation_logits():
    """The shipped digits model's logits on every validation image, once per server: the top-k panel reads
    them on every rerun (read-only)."""
    ds, model, title = digits_model()
    logits = predict(model, ds.x_val)                                     # (N, 10)
    return ds, title, logits, topk_curve(logits, ds.y_val)


def topk_panel(S: PageState) -> None:
    ds, title, logits, curve = _validation_logits()
    left, mid, right = st.columns([1, 1.4, 2])
    i, k = S.widget("img", left, bounds=(0, len(ds.y_val) - 1)), S.widget("k", left, bounds=(1, ds.num_classes))
    try:
        top, probs = topk_of(logits[i], k)
    except ConfigError as err:
        show_error(err)
        return
    true = int(ds.y_val[i])
    hit = true in top
    left.metric(f"True class in top-{k}", "yes" if hit else "no", help=f"True class {ds.classes[true]}; "
                f"top-{k}: {', '.join(ds.classes[j] for j in top)}.")
    left.metric(f"Top-{k} accuracy", f"{curve[k - 1]:.1%}", help="Over all validation images.")
    show_chart(image_figure(ds.x_val[i], f"Image {i}: a {ds.classes[true]}", height=260), S.key("topk_img"), left)
    all_probs = logits[i].softmax(0).tolist()
    show_chart(figs.topk_probs_figure(all_probs, ds.classes, top, true), S.key("topk_probs"), mid)
    show_chart(figs.topk_figure(list(range(1, ds.num_classes + 1)), curve, highlight=(k,)), S.key("topk_fig"), right)
    st.latex(rf"\text{{top-}}{k}\ \text{{accuracy}} = \frac{{1}}{{N}}\sum_i \mathbb{{1}}\big[y_i \in "
             rf"\operatorname{{top}}_{k}(z_i)\big] = {curve[k - 1]:.3f}")
    st.caption(f"Model: {title}. What to notice: top-k never falls as k grows, and reaches 100 % at k = "
               f"{ds.num_classes}; a model that is right on top-2 but not top-1 is confusing two similar digits.")
