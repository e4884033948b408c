"""Feature Maps: what every layer of a trained CNN computes for one image, its first-layer kernels, the
prediction, and how the maps move when the input moves (equivariance)."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import pandas as pd
import streamlit as st

from cnnviz import ConfigError
from cnnviz.inside.features import capture, channel_stats, equivariance, first_conv_kernels, layer_kind, probabilities, \
    rotation_change, shift
from cnnviz.figures import features as figs
from cnnviz.figures.input_channels import input_channels_figure
from cnnviz.inside.names import layer_titles
from cnnviz.inside.shipped import input_image, list_models, samples_for
from cnnviz.ui import image_picker, model_caption, PageState, show_chart, show_error
from cnnviz.ui.embedding import SETTINGS as EMB_SETTINGS, embedding_tab
from cnnviz.ui.feature_vis import SETTINGS as FV_SETTINGS, feature_vis_tab
from cnnviz.ui.feature_maps import SOURCE_LABELS, UPLOAD, load, settings
from cnnviz.ui.uploads import checkpoint_upload, uploaded_model
from cnnviz.ui.widgets import as_upload
from cnnviz.io.text import md_text

MODELS = list_models()
S = PageState("feat", {**settings(MODELS), **FV_SETTINGS, **EMB_SETTINGS})

st.title("Feature Maps")
st.caption("Run one image through a trained network and look inside: every layer's feature maps, the first "
           "layer's kernels, per-channel statistics and the prediction.")
S.show_notices()
c = st.columns([3, 3, 2])
key = S.widget("model", c[0], format_func=lambda k: MODELS[k].short if k in MODELS else "Upload a checkpoint")
src = S.widget("src", c[1], horizontal=True, format_func=SOURCE_LABELS.get)
try:
    if key == UPLOAD:
        model, info = uploaded_model(*checkpoint_upload(c[0], "feat_ckpt", "look inside your own model"))
    else:
        model, info = load(key)
    model_caption(model, info, where=c[0])
    data = image_picker(S, c[1], src, list(samples_for(info)), "feat_img",
                        "Centre-cropped to a square and resized to the model's input size.")
    invert = S.widget("invert", c[2])
    x, label = input_image(info, as_upload(src), S["sample"], S["idx"], data, invert)  # (1, C, H, W)
except ConfigError as err:
    show_error(err)
    st.stop()

logits, acts = capture(model, x)
titles = layer_titles(model)  # "block 2 · shortcut conv", not "layer3.shortcut.0"
probs = probabilities(logits)[0]
left, right = st.columns([1, 3])
with left:
    show_chart(figs.image_figure(x[0], f"Input {x.shape[-2]}×{x.shape[-1]}×{x.shape[1]}"), S.key("input_fig"))
    st.metric("Prediction", md_text(info.classes[int(probs.argmax())]),
              help="The class with the largest softmax probability.")
    st.caption(f"{float(probs.max()):.1%} sure" + (f" · true class: **{md_text(info.classes[label])}**" if label is not None
                                                  else ""))
    show_chart(figs.probabilities_figure(probs.tolist(), info.classes, label), S.key("probs_fig"))
with right:
    maps, kern, eq, emb, fv = S.tabs(["Feature maps", "Kernels", "Equivariance", "Embedding",
                                      "Feature visualisation"])  # only the open tab runs
    if maps.open:
        with maps:
            every = S.widget("every")
            show_chart(input_channels_figure(x[0]), S.key("channels_fig"))  # layer 0: the input's channels
            shown = [n for n in acts if every or layer_kind(model, n) in ("ReLU", "MaxPool2d", "AvgPool2d")]
            for n in shown:
                a = acts[n][0]  # (C, H, W)
                show_chart(figs.activation_grid(a, f"{titles.get(n, n)} · {a.shape[0]}×{a.shape[1]}×{a.shape[2]}"
                                                   f"  <sup>{n}</sup>"), f"feat_grid_{n}")
            st.subheader("Enlarge one channel")
            if S["layer"] not in acts:
                st.session_state[S.key("layer")] = shown[0] if shown else next(iter(acts))
            e = st.columns([2, 1])
            layer = S.widget("layer", e[0], options=list(acts), format_func=lambda n: titles.get(n, n))
            n_ch = acts[layer].shape[1]
            st.session_state[S.key("ch")] = min(S["ch"], n_ch - 1)
            ch = S.widget("ch", e[1], bounds=(0, n_ch - 1))
            e = st.columns([3, 2])
            show_chart(figs.channel_figure(acts[layer][0, ch], f"{titles.get(layer, layer)}, channel {ch}"),
                       S.key("channel_fig"), e[0])
            stats = channel_stats(acts[layer])
            e[1].dataframe(pd.DataFrame(dict(mean=stats.mean, std=stats.std, max=stats.max,
                                             zeros=stats.zero_fraction)).style.format("{:.3f}"), height=400,
                           width="stretch")
    if kern.open:
        with kern:
            show_chart(figs.kernels_figure(first_conv_kernels(model)), S.key("kernels_fig"))
            st.caption("Each small square is one 3×3 filter of the first conv layer: red weights subtract, blue "
                       "weights add. Edge detectors show as a red side next to a blue side.")
    if eq.open:
        with eq:
            lim = max(1, x.shape[-1] // 4)
            e = st.columns(2)
            dy, dx = (S.widget(k, col, bounds=(-lim, lim)) for k, col in zip(("dy", "dx"), e))
            try:
                rows = equivariance(model, x, dy, dx)
                show_chart(figs.equivariance_figure(rows), S.key("equiv_fig"))
                st.caption("Green: the shift is a whole number of this layer's cells, so a stride-1 conv moves its "
                           "map exactly (distance ≈ 0 away from the borders). Orange: pooling's grid cannot follow a "
                           "shift smaller than its stride.")
                show_chart(figs.image_figure(shift(x, dy, dx)[0], "Shifted input", 260), S.key("shifted_fig"))
                st.dataframe(pd.DataFrame([dict(rotation=f"{d}°", prediction=info.classes[k], probability=f"{p:.1%}")
                                           for d, k, p in rotation_change(model, x)]), hide_index=True)
            except ConfigError as err:
                show_error(err)
    if emb.open:
        with emb:
            embedding_tab(S, None if key == UPLOAD else key, info)
    if fv.open:
        with fv:
            feature_vis_tab(S, None if key == UPLOAD else key, model, info)

S.sync_url()
