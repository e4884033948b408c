"""The Saliency page's settings and results, cached by the values of the controls they depend on. Moving the overlay slider,
opening a tab or answering the sanity-check toggle no longer recomputes nine attribution methods; a class asking
for the same sample of the same model shares one computation. Keys are plain values (names, numbers, an
upload's bytes), never tensors; entries are bounded in number and age (issue 18)."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

from cnnviz.inside.cleverhans import load_cleverhans, patch_share, swapped
from cnnviz.inside.saliency import BASELINES, LABELS, METHODS, attribute, sanity_check, to_map
from cnnviz.inside.shipped import SOURCES, accuracy, input_image, load_model
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import PICTURE_SOURCES, image_settings

load = st.cache_resource(load_model)
clever_data = st.cache_resource(load_cleverhans)
HANS = "cleverhans_TinyVGG"
HANS_METHODS = ("saliency", "integrated_gradients", "gradcam")


def _slider(default, label: str, help: str, bounds: tuple) -> Setting:
    return Setting(default, label, help, bounds, widget="slider")


def settings(models: dict) -> dict:
    """The page's settings, each declared once (the Adversarial tab's are ``cnnviz.ui.adversarial.SETTINGS``);
    ``models`` the shipped ones it explains. The class, the CAM layer, the occlusion sizes and the Clever-Hans
    image depend on the model: their options or bounds are narrowed when drawn (the link check keeps the
    widest)."""
    return dict(
        model=Setting(next(iter(models)), "Model", "A trained model shipped with cnnviz (its validation accuracy is "
                      "under this box).", options=tuple(models)),
        **image_settings((*SOURCES, *PICTURE_SOURCES), "A shipped sample, an image from the validation set, your own "
                         "file, a photograph or your webcam."),
        invert=Setting(False, "Invert colours", "For a dark drawing on white paper (digits)."),
        which=Setting("predicted", "Explain", "The class the model predicts, or any class you pick.",
                      options=("predicted", "chosen"), widget="radio"),
        cls=Setting(0, "Class", "Whose evidence to show.", (0, 99), widget="selectbox"),
        steps=_slider(32, "IG steps", "Points on the path from baseline to image.", (4, 128)),
        base=Setting("black", "Baseline", "IG and DeepLift compare with this input.", options=BASELINES),
        nt=_slider(16, "SmoothGrad samples", "Noisy copies whose gradients are averaged.", (1, 64)),
        noise=_slider(0.15, "SmoothGrad noise", "Noise std / the image's range.", (0.0, 0.5)),
        layer=Setting("", "CAM layer", "The conv layer of Grad-CAM, Grad-CAM++ and Score-CAM. Deeper = coarser but "
                      "more semantic.", widget="selectbox"),
        alpha=_slider(0.7, "Overlay strength", "0 = only the image, 1 = only the map.", (0.0, 1.0)),
        win=_slider(4, "Occlusion window", "Side of the zeroed square slid over the image.", (1, 16)),
        stride=_slider(2, "Occlusion stride", "Step between positions.", (1, 16)),
        sanity=Setting(False, "Run the sanity check", "Recomputes every map once per layer."),
        ch_idx=_slider(0, "Validation image", "Another image.", (0, 299)))


# The settings each method reads (cnnviz.inside.saliency.attribute): a map is cached under these alone, so moving
# "IG steps" recomputes Integrated Gradients, not all nine (about 1/9 of the CPU of a settings change).
USES = {"saliency": (), "integrated_gradients": ("n_steps", "baseline"), "smoothgrad": ("nt_samples", "noise"),
        "guided_backprop": (), "deeplift": ("baseline",), "gradcam": ("layer",), "gradcampp": ("layer",),
        "scorecam": ("layer",), "occlusion": ("window", "stride")}


@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def one_map(model_key: str, image: tuple, target: int, method: str, opts: tuple, _x) -> np.ndarray:
    """One method's (H, W) map of the image ``_x`` (not hashed: ``image`` names it by plain values, an upload by
    its digest); ``opts``: only the settings that method reads. A numpy array: Streamlit pickles a cached value on
    every write and read, and a tensor pickles through torch.save (about 3 ms each, ten of them a rerun)."""
    model, _ = load(model_key)
    return to_map(attribute(model, _x, target, method, **dict(opts))).detach().numpy()


@st.cache_data(max_entries=128, ttl=3600, show_spinner="Computing the attribution maps…")
def _maps(model_key: str, src: str, sample: str, idx: int, data: bytes | None, invert: bool, which: str,
          cls: int, opts: tuple) -> tuple:
    model, info = load(model_key)
    x, label = input_image(info, src, sample, idx, data, invert)
    pred = int(model(x).argmax())
    target = pred if which == "predicted" else cls
    image = (src, sample, idx, hashlib.sha256(data).hexdigest() if data else None, invert)  # the upload hashed once
    maps = {LABELS[m]: one_map(model_key, image, target, m, tuple((k, v) for k, v in opts if k in USES[m]), x)
            for m in METHODS}
    return x.detach().numpy(), label, pred, target, maps


def maps_for(model_key: str, src: str, sample: str, idx: int, data: bytes | None, invert: bool, which: str,
             cls: int, opts: tuple) -> tuple:
    """(x (1, C, H, W), true label or None, predicted class, explained class, {method title: (H, W) map}), the
    tensors as views of the cached arrays (no copy)."""
    x, label, pred, target, maps = _maps(model_key, src, sample, idx, data, invert, which, cls, opts)
    return torch.from_numpy(x), label, pred, target, {k: torch.from_numpy(v) for k, v in maps.items()}


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def sanity_rows(model_key: str, src: str, sample: str, idx: int, data: bytes | None, invert: bool, target: int,
                opts: tuple) -> list:
    model, info = load(model_key)
    x, _ = input_image(info, src, sample, idx, data, invert)
    return sanity_check(model, x, target, methods=[m for m in METHODS if m != "occlusion"], **dict(opts))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _hans(i: int) -> tuple:
    hans, _ = load(HANS)
    ds = clever_data()
    hx, hy = ds.x_val[i:i + 1], int(ds.y_val[i])
    hm = {LABELS[m]: to_map(attribute(hans, hx, hy, m, n_steps=16)).detach() for m in HANS_METHODS}
    return hx.numpy(), hy, {k: v.numpy() for k, v in hm.items()}, patch_share(hm[LABELS["saliency"]])


def hans_view(i: int) -> tuple:
    """The Clever-Hans model on validation image ``i``: (x, true class, {method title: map}, gradient share on
    the patch); cached as numpy arrays (see ``one_map``)."""
    hx, hy, hm, share = _hans(i)
    return torch.from_numpy(hx), hy, {k: torch.from_numpy(v) for k, v in hm.items()}, share


@st.cache_data(show_spinner=False)
def hans_accuracies() -> tuple[float, float]:
    """(accuracy with the honest patch, with the patch of another class): one pass over the validation set."""
    hans, _ = load(HANS)
    ds = clever_data()
    return accuracy(hans, ds.x_val, ds.y_val), accuracy(hans, swapped(ds), ds.y_val)
