"""The Network Explorer's settings (each declared once: ``settings``) and caches: a model per (shipped key, uploaded
checkpoint, before training), the whole network for one image, its overview figure, and the strongest validation
patches of one channel. Keyed by plain values (names, numbers, bytes, tuples), never by tensors."""
from __future__ import annotations

import streamlit as st

from cnnviz.explorer import SOURCES, explorer_input, overview, random_init, top_patches
from cnnviz.explorer.drawing import DRAWN, drawing_model
from cnnviz.figures import network as figs
from cnnviz.inside.shipped import load_model, load_uploaded, validation_set
from cnnviz.io import budgets
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import image_settings

TRAINED, UPLOAD = "session", "upload"  # the model box's two entries besides the shipped models
DRAWN_TITLE = "TinyVGG · drawn digits"  # the model for drawings (cnnviz.explorer.drawing), in this page's box only


def settings(models: dict) -> dict:
    """The page's settings, each declared once; ``models`` the shipped ones (their keys come first in the model box).
    The layer's options and the neuron's bounds are the model's: given when drawn (the link check keeps the widest)."""
    return dict(
        model=Setting(next(iter(models), UPLOAD), "Model", "Shipped (validation accuracy under this box), the model "
                      "for drawn digits (28×28, trained on pen strokes), trained in the Training Lab this session, or "
                      "a checkpoint file.", options=(*models, DRAWN, TRAINED, UPLOAD)),
        **image_settings(SOURCES, "A shipped sample, a validation image, your file, or a drawing."),
        layer=Setting("", "Layer", "Readable name; the module path is in the title below.", widget="selectbox"),
        ch=Setting(0, "Channel", "Which feature map (or unit).", (0, 4095)),
        i=Setting(0, "Row", "Output position: row.", (0, 4095)),
        j=Setting(0, "Column", "Output position: column.", (0, 4095)),
        before=Setting(False, "Before training", "The same layers with random weights (seed 0)."),
        every=Setting(False, "Every layer", "Also batch norm and identity shortcuts as columns."))


@st.cache_resource(max_entries=budgets.MODEL_CACHE_ENTRIES, ttl=budgets.MODEL_CACHE_TTL_S, show_spinner=False)
def get_model(key: str, ckpt: bytes | None, before: bool):
    if ckpt is None and key == DRAWN:
        model, info = drawing_model()
    else:
        model, info = load_uploaded(ckpt, "your model") if ckpt is not None else load_model(key)
    return (random_init(model, seed=0) if before else model), info


@st.cache_data(max_entries=32, show_spinner=False)  # hashable arguments only: names, numbers, bytes, tuples
def network(args: tuple, every: bool):
    model, info = get_model(*args[:3])
    x, label = explorer_input(info, *args[3:])
    return overview(model, x, every), x, label


@st.cache_data(max_entries=64, show_spinner=False)
def overview_fig(args: tuple, every: bool, selected: tuple[int, int]):
    return figs.overview_figure(network(args, every)[0], get_model(*args[:3])[1].classes, selected)


@st.cache_data(max_entries=32, show_spinner="Searching the validation set…")
def strongest(args: tuple, layer: str, ch: int):
    model, info = get_model(*args)
    return top_patches(model, validation_set(info.dataset)[0], layer, ch, k=8)


def model_title(models: dict, key: str) -> str:
    """What the model box shows for ``key``."""
    return models[key].short if key in models else {DRAWN: DRAWN_TITLE, TRAINED: "Your Training Lab model",
                                                    UPLOAD: "Upload a checkpoint"}[key]


def seen_input(x) -> "np.ndarray":
    """The model's input (1, C, H, W) as a grey picture about 140 px wide (each pixel a block): what the page shows
    under the drawing pad."""
    import numpy as np
    a = x[0].mean(0).clamp(0, 1).cpu().numpy()
    k = max(1, 140 // a.shape[0])
    return np.kron(np.round(255 * a).astype(np.uint8), np.ones((k, k), np.uint8))
