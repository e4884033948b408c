"""Saliency: which pixels a trained CNN's decision depends on, by nine attribution methods side by side; a sanity
check (randomised weights), a Clever-Hans model that looks at the wrong thing, and adversarial examples."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.figures.input_channels import input_channels_figure
from cnnviz.figures.saliency import saliency_grid, sanity_figure
from cnnviz.inside.names import layer_titles
from cnnviz.inside.saliency import conv_layers
from cnnviz.inside.shipped import list_models, samples_for
from cnnviz.ui import columns, image_picker, model_caption, PageState, show_chart, show_error
from cnnviz.ui.adversarial import SETTINGS as ADVERSARIAL, adversarial_tab
from cnnviz.ui.widgets import as_upload
from cnnviz.ui.saliency import clever_data, hans_accuracies, hans_view, load, maps_for, sanity_rows, settings
from cnnviz.io.text import md_text, plot_text

MODELS = {k: v for k, v in list_models().items() if v.dataset != "cleverhans"}
S = PageState("sal", {**settings(MODELS), **ADVERSARIAL})

st.title("Saliency")
st.caption("Which input pixels does the decision depend on? Nine attribution methods side by side; "
           "bright = important. Then check whether each map really reflects the model.")
S.show_notices()
c = st.columns([3, 3, 2])
key = S.widget("model", c[0], format_func=lambda k: MODELS[k].short)
model, info = load(key)
model_caption(model, info, where=c[0])
src = S.widget("src", c[1], horizontal=True, format_func=str.capitalize)
data = image_picker(S, c[1], src, list(samples_for(info)), "sal_img", "Resized to the model's input.")
invert, which = S.widget("invert", c[0]), S.widget("which", c[2], horizontal=True)
st.session_state[S.key("cls")] = min(S["cls"], len(info.classes) - 1)
cls = S.widget("cls", c[2], options=range(len(info.classes)), format_func=lambda i: info.classes[i],
               disabled=which == "predicted")
with st.expander("Method settings", icon=":material/tune:", expanded=False):
    e = columns(4, [2, 2, 3, 2])  # presenter mode: room for "block 3 · shortcut conv"
    steps, base = S.widget("steps", e[0]), S.widget("base", e[0])
    nt, noise = S.widget("nt", e[1]), S.widget("noise", e[1])
    layers = conv_layers(model)
    if S["layer"] not in layers:
        st.session_state[S.key("layer")] = layers[-1]
    titles = layer_titles(model)
    layer = S.widget("layer", e[2], options=layers, format_func=lambda n: titles.get(n, n))
    alpha = S.widget("alpha", e[2])
    size = info.kwargs["size"]
    for k in ("win", "stride"):
        st.session_state[S.key(k)] = min(S[k], size // 2)
    win, stride = (S.widget(k, e[3], bounds=(1, size // 2)) for k in ("win", "stride"))
opts = tuple(dict(n_steps=steps, baseline=base, nt_samples=nt, noise=noise, layer=layer, window=win,
                  stride=stride).items())  # a cache key: the maps are recomputed only when one of these changes
image = (as_upload(src), S["sample"], S["idx"], data, invert)  # a photo or camera picture: its bytes
try:
    x, label, pred, target, maps = maps_for(key, *image, which, cls, opts)  # x: (1, C, H, W)
except ConfigError as err:
    show_error(err)
    st.stop()

m = st.columns(3)
m[0].metric("Prediction", md_text(info.classes[pred]), help="The class with the largest logit.")
m[1].metric("Explaining", md_text(info.classes[target]), help="The class whose logit is attributed to the pixels.")
m[2].metric("True class", md_text(info.classes[label]) if label is not None else "unknown")
if x.shape[1] > 1:  # a colour input: the maps sum its channels, shown here one by one
    show_chart(input_channels_figure(x[0], min_cols=5), S.key("channels_fig"))  # aligned with the grid below
show_chart(saliency_grid(x[0], maps, alpha), S.key("grid_fig"))

sanity_tab, hans_tab, adv_tab = S.tabs(["Sanity check", "Clever Hans", "Adversarial"])  # only the open tab runs
if sanity_tab.open:
    with sanity_tab:
        st.markdown("Adebayo et al. (2018): re-initialise the weights layer by layer, from the output inwards. A map "
                    "that stays the same (rank correlation near 1) describes the **image**, not the model.")
        if S.widget("sanity"):
            with st.spinner("Randomising layer by layer…"):
                rows = sanity_rows(key, *image, target, opts)
            show_chart(sanity_figure(rows), S.key("sanity_fig"))
if hans_tab.open:
    with hans_tab:
        hinfo = load("cleverhans_TinyVGG")[1]
        st.markdown("This TinyVGG learned circles / squares / triangles from images whose **top-left patch colour** "
                    "gives the class away. It scores well — but where does it look?")
        i = S.widget("ch_idx", bounds=(0, len(clever_data().y_val) - 1))
        hx, hy, hm, share = hans_view(i)
        honest, fooled = hans_accuracies()
        h = st.columns(3)
        h[0].metric("Accuracy, honest patch", f"{honest:.0%}")
        h[1].metric("Accuracy, patch of another class", f"{fooled:.0%}",
                    help="Same shapes, patch repainted: the model follows the patch.")
        h[2].metric("Gradient on the patch", f"{share:.0%}",
                    help="Share of |gradient| inside the 5×5 patch, which is 2.4% of the image.")
        show_chart(saliency_grid(hx[0], hm, alpha, title=f"True class: {plot_text(hinfo.classes[hy])}"), S.key("hard_fig"))
if adv_tab.open:
    with adv_tab:
        adversarial_tab(S, key, info, image)

S.sync_url()
