"""Metrics & Losses: IoU of two boxes, Dice vs IoU of two masks, the soft Dice loss, cross-entropy vs focal loss,
the precision–recall curve with AP, mAP and COCO mAP@[.5:.95], and top-1 vs top-5 accuracy of a trained model."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import numpy as np
import pandas as pd
import streamlit as st

from cnnviz.figures import metrics as figs
from cnnviz.metrics import (box_area, box_intersection, box_iou, coco_map, demo_scene, detections_by_class, dice,
                            dice_from_iou, disk_mask, mask_iou, mean_average_precision, pr_curve, precision_recall_at)
from cnnviz.ui import PageState, show_chart
from cnnviz.ui import metrics_losses as panels

S = PageState("metrics", panels.SETTINGS)
st.title("Metrics & Losses")
st.caption("Move a slider: every number is computed by the engine (cnnviz.metrics), checked in the tests "
           "against PyTorch or a hand-worked example.")
S.show_notices()
tabs = S.tabs(["Box IoU", "Dice vs IoU", "Soft Dice loss", "Cross-entropy vs focal loss",
                "Precision–recall, AP, mAP", "Top-k"])

if tabs[0].open:
    with tabs[0]:
        left, right = st.columns([1, 2])
        ax, ay, aw, ah, bx, by = (S.widget(name, left) for name in ("ax", "ay", "aw", "ah", "bx", "by"))
        a, b = (ax, ay, min(ax + aw, 100), min(ay + ah, 100)), (bx, by, bx + 40, by + 40)
        inter = box_intersection(a, b)
        i, iou = (box_area(inter) if inter else 0.0), box_iou(a, b)
        c = right.columns(3)
        c[0].metric("IoU", f"{iou:.3f}", help="Intersection over union: 1 means the boxes coincide.")
        c[1].metric("Intersection", f"{i:g}", help="Area of A ∩ B (green).")
        c[2].metric("Union", f"{box_area(a) + box_area(b) - i:g}", help="|A| + |B| − |A ∩ B|.")
        right.latex(rf"\mathrm{{IoU}}=\frac{{|A\cap B|}}{{|A|+|B|-|A\cap B|}}=\frac{{{i:g}}}{{{box_area(a):g}+"
                    rf"{box_area(b):g}-{i:g}}}={iou:.3f}")
        show_chart(figs.boxes_figure(a, b, inter), S.key("boxes_fig"), right)

if tabs[1].open:
    with tabs[1]:
        left, right = st.columns([1, 3])
        ma, ra, mb, rb = (S.widget(name, left, step=0.5) for name in ("ma", "ra", "mb", "rb"))
        A, B = disk_mask(24, ma, 12, ra), disk_mask(24, mb, 12, rb)
        d, j = dice(A, B), mask_iou(A, B)
        left.metric("Dice", f"{d:.3f}", help="2|A ∩ B| / (|A| + |B|); 1 when both masks are empty.")
        left.metric("IoU", f"{j:.3f}", help="|A ∩ B| / |A ∪ B| (the Jaccard index).")
        left.latex(rf"\mathrm{{Dice}}=\frac{{2\cdot{int((A & B).sum())}}}{{{int(A.sum())}+{int(B.sum())}}}={d:.3f}")
        c = right.columns(2)
        show_chart(figs.masks_figure(A, B), S.key("masks_fig"), c[0])
        grid = np.linspace(0, 1, 101)
        show_chart(figs.dice_iou_figure(grid, dice_from_iou(grid), j, d), S.key("dice_fig"), c[1])

if tabs[2].open:
    with tabs[2]:
        panels.soft_dice_panel(S)

if tabs[3].open:
    with tabs[3]:
        panels.focal_panel(S)

if tabs[4].open:
    with tabs[4]:
        c = st.columns([1, 2, 2])
        iou_thr = round(S.widget("iou_thr", c[2], step=0.05), 2)
        dets, gt = demo_scene(0, iou_threshold=iou_thr)
        n_gt = {k: len(v) for k, v in gt.items()}
        cls, thr = S.widget("cls", c[0], options=list(n_gt)), S.widget("thr", c[1], step=0.01)
        mine = [x for x in dets if x.cls == cls]
        curve = pr_curve([x.score for x in mine], [x.is_tp for x in mine], n_gt[cls])
        prec, rec, kept = precision_recall_at(curve, thr)
        m_ap, aps = mean_average_precision({k: ([x.score for x in dets if x.cls == k],
                                                [x.is_tp for x in dets if x.cls == k], n) for k, n in n_gt.items()})
        c = st.columns(5)
        c[0].metric("Precision", f"{prec:.3f}", help=f"TP / kept, with {kept} detections kept")
        c[1].metric("Recall", f"{rec:.3f}", help=f"TP / {n_gt[cls]} ground-truth objects")
        c[2].metric(f"AP ({cls})", f"{curve.ap:.3f}", help="Area under the interpolated PR curve (VOC 2010+).")
        c[3].metric(f"mAP@{iou_thr:g}", f"{m_ap:.3f}", help="Mean of the AP of every class, matched at this IoU.")
        by_class = detections_by_class(dets)
        c[4].metric("mAP@[.5:.95]", f"{coco_map(by_class, gt):.3f}",
                    help="COCO style: the mean of mAP at IoU 0.50, 0.55, …, 0.95 (same AP, matched at each).")
        c = st.columns([2, 2, 1.3])
        show_chart(figs.pr_figure(curve, prec, rec, f"Precision–recall: {cls}"), S.key("pr_fig"), c[0])
        show_chart(figs.ap_bars(aps, m_ap), S.key("ap_fig"), c[1])
        c[2].dataframe(pd.DataFrame(dict(score=curve.scores, match=np.where(curve.is_tp, "TP", "FP"),
                                         kept=curve.scores >= thr)), hide_index=True, height=440)
        st.caption(f"{len(mine)} detections of {n_gt[cls]} {cls}s, matched to the ground truth at IoU ≥ {iou_thr:g} "
                   "(a second detection of the same object is a false positive). AP does not depend on the score "
                   "threshold: it summarises every one at once. What to notice: raise the IoU threshold and loose boxes "
                   "stop counting, so AP falls; COCO's mAP@[.5:.95] averages ten IoU thresholds: it rewards tight boxes.")
        with st.expander("AP, mAP and COCO mAP in formulas, with these numbers", expanded=True, icon=":material/function:"):
            panels.map_formulas(curve, cls, aps, m_ap, iou_thr, by_class, gt)

if tabs[5].open:
    with tabs[5]:
        panels.topk_panel(S)

S.sync_url()
