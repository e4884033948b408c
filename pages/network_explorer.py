"""Network Explorer: the whole network on one screen for one image, and any neuron down to its arithmetic — on a
shipped, a just-trained or an uploaded model, for a sample, a validation image, an upload or a drawing."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st
import streamlit.components.v1 as components

from cnnviz import ConfigError
from cnnviz.explorer import drawpad
from cnnviz.explorer.drawing import DRAWN, PAD_SIDE
from cnnviz.figures import network as figs
from cnnviz.inside.shipped import VALIDATION_SETS, list_models, samples_for
from cnnviz.io.text import md_text, notice, shown
from cnnviz.ui import columns, image_picker, model_caption, PageState, show_chart, show_error
from cnnviz.ui.network_explorer import (TRAINED, UPLOAD, get_model, model_title, network, neuron_arithmetic,
                                        overview_fig, seen_input, settings, strongest)
from cnnviz.ui.uploads import checkpoint_upload
from cnnviz.ui.live_class import share_drawing
from cnnviz.ui.widgets import as_upload

MODELS = list_models()
fresh = "net_i" not in st.session_state and not {"i", "j"} & set(st.query_params)  # no position yet: pick one
S = PageState("net", settings(MODELS))
draw_pad = drawpad.declare(components.declare_component)
ss = st.session_state  # "explorer_model_bytes": the Training Lab's checkpoint, this session only


st.title("Network Explorer")
st.caption("Every layer's feature maps as a column, lines where a layer reads another, residual connections as "
           "arcs, the probabilities on the right. Click a thumbnail (or pick below) for one neuron's arithmetic.")
S.show_notices()  # the link's garbage, quoted as plain text
if S["model"] == TRAINED and "explorer_model_bytes" not in ss:
    ss[S.key("model")] = S.defaults["model"]
    st.text("No model was trained in this session yet: showing a shipped model.")
c = st.columns([5, 5, 4])  # the last column holds two metrics side by side ("100.0%" whole)
choices = (*MODELS, DRAWN, *((TRAINED,) if "explorer_model_bytes" in ss else ()), UPLOAD)
key = S.widget("model", c[0], options=choices, format_func=lambda k: model_title(MODELS, k))
before, every = S.widget("before", c[2]), S.widget("every", c[2])
src = S.widget("src", c[1], horizontal=True, format_func=str.capitalize)
try:
    ckpt = ss.get("explorer_model_bytes") if key == TRAINED else None
    if key == UPLOAD:
        ckpt = checkpoint_upload(c[0], "net_ckpt", "explore your own model")[0]
    model, info = get_model(key, ckpt, before)
    model_caption(model, info, untrained=before, where=c[0])
    data, drawing = None, ()
    if src == "draw":
        with c[1]:
            drawing = tuple(draw_pad(size=PAD_SIDE, key="net_drawing", default=None) or ())
    else:
        data = image_picker(S, c[1], src, list(samples_for(info)), "net_img", "Resized to the model's input.")
    args = (key, ckpt, before, as_upload(src), S["sample"], S["idx"], data, drawing)
    ov, x, label = network(args, every)
    if src == "draw":
        share_drawing(c[1], drawing)  # in a live class: to the teacher (a checkbox opts out)
        c[1].image(seen_input(x), caption="What the model sees: your strokes thinned, redrawn with one pen width, "
                   "scaled into a box and centred by their centre of mass (as its training digits were).")
        if key != DRAWN:
            c[1].caption(f"Drawings are read best by **{model_title(MODELS, DRAWN)}** (28×28, trained on pen "
                         "strokes); the 8×8 digits models learnt from 1,797 thick scanned digits.")
except ConfigError as err:
    show_error(err)
    st.stop()

names = [col.name for col in ov.columns[1:]]
click = ss.get("net_click")
points = click["selection"]["points"] if click and click.get("selection") else []
if points and points[0].get("customdata") and tuple(points[0]["customdata"]) != ss.get("net_last_click"):
    ss["net_last_click"] = tuple(points[0]["customdata"])
    if points[0]["customdata"][0] > 0:  # [column, channel]; column 0 is the input
        ss[S.key("layer")], ss[S.key("ch")] = names[points[0]["customdata"][0] - 1], points[0]["customdata"][1]
        fresh = True  # a thumbnail click starts at that channel's most active neuron
if S["layer"] not in names:
    if S["layer"]:
        st.info(notice(f"No layer {shown(S['layer'])} in this model: showing the first one."), icon=":material/link:")
    ss[S.key("layer")] = names[0]
ci = names.index(S["layer"]) + 1
ss[S.key("ch")], ss[S.key("i")], ss[S.key("j")] = ov.clamp(ci, S["ch"], S["i"], S["j"])
if fresh:
    ss[S.key("i")], ss[S.key("j")] = ov.most_active(ci, S["ch"])
    ss["net_pick"] = (S["layer"], S["ch"], S["i"], S["j"])
col = ov.columns[ci]
top = max(range(len(ov.probabilities)), key=ov.probabilities.__getitem__)
m = columns(2, 1, c[2])  # presenter mode: one under the other, whole numbers
m[0].metric("Prediction", md_text(info.classes[top]), help="The class with the largest softmax probability.")
m[1].metric("Probability", f"{ov.probabilities[top]:.1%}".replace("100.0%", "100%"),  # "100.0%" is cut in its column
            help=f"True class: {md_text(info.classes[label])}" if label is not None else "True class unknown.")
show_chart(overview_fig(args, every, (ci, S["ch"])), "net_click", on_select="rerun",
           selection_mode="points")

st.subheader("One neuron")
w = st.columns([3, 1, 1, 1])
S.widget("layer", w[0], options=names)
ch, i, j = (S.widget(name, w[n + 1], bounds=(0, col.maps.shape[n] - 1)) for n, name in enumerate(("ch", "i", "j")))
st.markdown(f"**{md_text(col.name)}** · `{(col.path or col.kind).replace('`', '')}` · output "
            f"{'×'.join(map(str, col.shape))} · value at [{ch}, {i}, {j}] = **{float(col.maps[ch, i, j]):.4f}**")
if ss.get("net_pick") == (S["layer"], ch, i, j) and col.maps.shape[1:] != (1, 1):
    st.caption(f"The most active neuron of channel {ch}, at ({i}, {j}): a click on a thumbnail starts where its "
               "map is largest.")
try:
    maths, patches = st.tabs(["Arithmetic", "Strongest validation patches"])
    with maths:  # engine results -> figures; each kind of layer has its own arithmetic
        neuron_arithmetic(S, args, every, ci, ch, i, j)
    with patches:
        if not (col.path and len(col.shape) == 3) or info.dataset not in VALIDATION_SETS:
            st.info("Needs a feature-map layer and a model trained on digits, shapes or Fashion-MNIST (their "
                    "validation sets ship with cnnviz).", icon=":material/info:")
        elif st.toggle("Search the validation set", key="net_top_on", help="Runs every validation image once."):
            show_chart(figs.top_patches_figure(strongest((key, ckpt, before), col.path, ch)), S.key("patches_fig"))
except ConfigError as err:
    show_error(err)
S.sync_url()
