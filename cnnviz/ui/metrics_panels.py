"""The Metrics & Losses page's panels: the soft Dice loss view (a probability mask you sharpen and shift against
a target, with Dice loss, BCE and IoU side by side) and the COCO mAP@[.5:.95] metric."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures.metrics import soft_mask_figure
from cnnviz.metrics.segmentation import soft_dice_view
from cnnviz.ui.state import PageState
from cnnviz.ui.widgets import show_chart, show_error


def soft_dice_panel(S: PageState) -> None:
    left, right = st.columns([1, 2])
    temp = left.slider("Temperature", 0.05, 5.0, step=0.05, key=S.key("temp"),
                       help="p = sigmoid((r − distance) / T): small T sharpens the prediction towards a hard "
                            "mask, large T blurs it towards 0.5.")
    shift = left.slider("Shift", -12.0, 12.0, step=0.5, key=S.key("shift"),
                        help="Move the predicted blob sideways, off the target.")
    small = left.toggle("Small object", key=S.key("small"),
                        help="A target of radius 2 (12 of 1024 pixels) instead of 8: class imbalance.")
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
