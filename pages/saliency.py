"""Saliency: which pixels a trained CNN's decision depends on, by seven captum methods side by side; a sanity
check (randomised weights) and a Clever-Hans model that looks at the wrong thing."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.figures.saliency import saliency_grid, sanity_figure
from cnnviz.inside.names import layer_titles
from cnnviz.inside.saliency import BASELINES, conv_layers
from cnnviz.inside.shipped import SOURCES, list_models, samples_for
from cnnviz.ui import columns, image_picker, model_caption, PageState, show_chart, show_error
from cnnviz.ui.saliency import clever_data, hans_accuracies, hans_view, load, maps_for, sanity_rows
from cnnviz.io.text import md_text, plot_text

MODELS = {k: v for k, v in list_models().items() if v.dataset != "cleverhans"}
S = PageState("sal", dict(model=next(iter(MODELS)), src="sample", sample="", idx=0, invert=False, which="predicted",
                          cls=0, steps=32, base="black", nt=16, noise=0.15, layer="", win=4, stride=2, alpha=0.7,
                          sanity=False, ch_idx=0),
              options=dict(model=tuple(MODELS), src=SOURCES, which=("predicted", "chosen"), base=BASELINES),
              bounds=dict(idx=(0, 2000), cls=(0, 99), steps=(4, 128), nt=(1, 64), noise=(0.0, 0.5), win=(1, 16),
                          stride=(1, 16), alpha=(0.0, 1.0), ch_idx=(0, 299)))

st.title("Saliency")
st.caption("Which input pixels does the decision depend on? Seven attribution methods (captum) side by side; "
           "bright = important. Then check whether each map really reflects the model.")
S.show_notices()
c = st.columns([3, 3, 2])
key = c[0].selectbox("Model", tuple(MODELS), key=S.key("model"), format_func=lambda k: MODELS[k].short,
                     help="A trained model shipped with cnnviz (its validation accuracy is under this box).")
model, info = load(key)
model_caption(model, info, where=c[0])
src = c[1].radio("Image", SOURCES, key=S.key("src"), horizontal=True, format_func=str.capitalize,
                 help="A shipped sample, an image from the validation set, or your own file.")
data = image_picker(S, c[1], src, list(samples_for(info)), "sal_img", "Resized to the model's input.")
invert = c[0].toggle("Invert colours", key=S.key("invert"), help="For a dark drawing on white paper (digits).")
which = c[2].radio("Explain", ("predicted", "chosen"), key=S.key("which"), horizontal=True,
                   help="The class the model predicts, or any class you pick.")
st.session_state[S.key("cls")] = min(S["cls"], len(info.classes) - 1)
cls = c[2].selectbox("Class", range(len(info.classes)), key=S.key("cls"), format_func=lambda i: info.classes[i],
                     disabled=which == "predicted", help="Whose evidence to show.")
with st.expander("Method settings", icon=":material/tune:", expanded=False):
    e = columns(4, [2, 2, 3, 2])  # presenter mode: room for "block 3 · shortcut conv"
    steps = e[0].slider("IG steps", 4, 128, key=S.key("steps"), help="Points on the path from baseline to image.")
    base = e[0].selectbox("Baseline", BASELINES, key=S.key("base"), help="IG and DeepLift compare with this input.")
    nt = e[1].slider("SmoothGrad samples", 1, 64, key=S.key("nt"), help="Noisy copies whose gradients are averaged.")
    noise = e[1].slider("SmoothGrad noise", 0.0, 0.5, key=S.key("noise"), help="Noise std / the image's range.")
    layers = conv_layers(model)
    if S["layer"] not in layers:
        st.session_state[S.key("layer")] = layers[-1]
    titles = layer_titles(model)
    layer = e[2].selectbox("Grad-CAM layer", layers, key=S.key("layer"), format_func=lambda n: titles.get(n, n),
                           help="Deeper = coarser but more semantic.")
    alpha = e[2].slider("Overlay strength", 0.0, 1.0, key=S.key("alpha"), help="0 = only the image, 1 = only the map.")
    size = info.kwargs["size"]
    for k in ("win", "stride"):
        st.session_state[S.key(k)] = min(S[k], size // 2)
    win = e[3].slider("Occlusion window", 1, size // 2, key=S.key("win"), help="Side of the zeroed square slid "
                      "over the image.")
    stride = e[3].slider("Occlusion stride", 1, size // 2, key=S.key("stride"), help="Step between positions.")
opts = tuple(dict(n_steps=steps, baseline=base, nt_samples=nt, noise=noise, layer=layer, window=win,
                  stride=stride).items())  # a cache key: the maps are recomputed only when one of these changes
image = (src, S["sample"], S["idx"], data, invert)
try:
    x, label, pred, target, maps = maps_for(key, *image, which, cls, opts)  # x: (1, C, H, W)
except ConfigError as err:
    show_error(err)
    st.stop()

m = st.columns(3)
m[0].metric("Prediction", md_text(info.classes[pred]), help="The class with the largest logit.")
m[1].metric("Explaining", md_text(info.classes[target]), help="The class whose logit is attributed to the pixels.")
m[2].metric("True class", md_text(info.classes[label]) if label is not None else "unknown")
show_chart(saliency_grid(x[0], maps, alpha), S.key("grid_fig"))

sanity_tab, hans_tab = S.tabs(["Sanity check", "Clever Hans"])  # only the open tab runs
if sanity_tab.open:
    with sanity_tab:
        st.markdown("Adebayo et al. (2018): re-initialise the weights layer by layer, from the output inwards. A map "
                    "that stays the same (rank correlation near 1) describes the **image**, not the model.")
        if st.toggle("Run the sanity check", key=S.key("sanity"), help="Recomputes every map once per layer."):
            with st.spinner("Randomising layer by layer…"):
                rows = sanity_rows(key, *image, target, opts)
            show_chart(sanity_figure(rows), S.key("sanity_fig"))
if hans_tab.open:
    with hans_tab:
        hinfo = load("cleverhans_TinyVGG")[1]
        st.markdown("This TinyVGG learned circles / squares / triangles from images whose **top-left patch colour** "
                    "gives the class away. It scores well — but where does it look?")
        i = st.slider("Validation image", 0, len(clever_data().y_val) - 1, key=S.key("ch_idx"), help="Another image.")
        hx, hy, hm, share = hans_view(i)
        honest, fooled = hans_accuracies()
        h = st.columns(3)
        h[0].metric("Accuracy, honest patch", f"{honest:.0%}")
        h[1].metric("Accuracy, patch of another class", f"{fooled:.0%}",
                    help="Same shapes, patch repainted: the model follows the patch.")
        h[2].metric("Gradient on the patch", f"{share:.0%}",
                    help="Share of |gradient| inside the 5×5 patch, which is 2.4% of the image.")
        show_chart(saliency_grid(hx[0], hm, alpha, title=f"True class: {plot_text(hinfo.classes[hy])}"), S.key("hard_fig"))

S.sync_url()
