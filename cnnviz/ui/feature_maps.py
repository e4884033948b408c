"""The Feature Maps page's settings (each declared once: ``settings``) and its cache: one loaded model per shipped
key, shared read-only by every session."""
from __future__ import annotations

import streamlit as st

from cnnviz.inside.shipped import SOURCES, load_model
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import PICTURE_LABELS, PICTURE_SOURCES, image_settings

load = st.cache_resource(load_model)
UPLOAD = "upload"  # the model box's entry besides the shipped models
SOURCE_LABELS = {"sample": "Sample", "validation": "Validation image", "upload": "Upload", **PICTURE_LABELS}


def settings(models: dict) -> dict:
    """The page's settings, each declared once; ``models`` the shipped ones. The layer's options and the channel's and
    shifts' bounds depend on the model and its input: narrowed when drawn (the link check keeps the widest)."""
    return dict(
        model=Setting(next(iter(models), UPLOAD), "Model", "A model shipped with cnnviz (its validation accuracy is "
                      "under this box), or your own checkpoint (Training Lab file or a state_dict of a cnnviz model).",
                      options=(*models, UPLOAD)),
        **image_settings((*SOURCES, *PICTURE_SOURCES), "A shipped sample, an image from the model's validation set, your "
                         "own file, a photograph or your webcam."),
        invert=Setting(False, "Invert colours", "Digits are light ink on black: turn this on for a dark drawing on "
                       "white paper."),
        every=Setting(False, "Every layer (conv, batch-norm, …)", "Off: only the outputs after each activation and "
                      "pooling layer."),
        layer=Setting("", "Layer", "Any layer with a feature map (its module path is in the chart's title).",
                      widget="selectbox"),
        ch=Setting(0, "Channel", "Which feature map to enlarge.", (0, 255)),
        dy=Setting(2, "Shift down (px)", "Move the image down (negative: up).", (-8, 8), widget="slider"),
        dx=Setting(2, "Shift right (px)", "Move the image right (negative: left).", (-8, 8), widget="slider"))
