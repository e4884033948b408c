"""The Architecture Lab's "Blocks drawn" tab: channel shuffle, 3-D vs (2+1)-D convolution, dynamic convolution's
kernel attention and the ViT patch embedding, each with its controls (URL-backed through the page's
``PageState``), its formula and a one-line "what to notice"."""
from __future__ import annotations

import streamlit as st

from cnnviz.architecture import block_views as bv
from cnnviz.errors import ConfigError
from cnnviz.figures.architecture_views import attention_figure, patch_grid_figure, shuffle_figure, video_figure
from cnnviz.geometry.padding import macs_from_flops
from cnnviz.ui.presenter import columns
from cnnviz.ui.state import PageState
from cnnviz.ui.widgets import fmt_int, show_chart, show_error

DEFAULTS = dict(shc=12, shg=3, vt=16, vh=112, vw=112, vci=64, vco=64, vk=3, vtk=3, dk=4, dtau=1.0,
                dimg1="red stripes", dimg2="blue blob", dseed=0, pimg=224, pp=16, pc=3, pd=768)
OPTIONS = dict(dimg1=bv.IMAGES, dimg2=bv.IMAGES)
BOUNDS = dict(shc=(1, 64), shg=(1, 64), vt=(1, 64), vh=(1, 224), vw=(1, 224), vci=(1, 512), vco=(1, 512), vk=(1, 7),
              vtk=(1, 7), dk=(2, 16), dtau=(0.05, 100.0), dseed=(0, 10_000), pimg=(1, 512), pp=(1, 512), pc=(1, 4),
              pd=(1, 1024))


def _num(S: PageState, col, label: str, name: str, help: str) -> int:
    return int(col.number_input(label, *S.bounds[name], key=S.key(name), help=help))


def _notice(text: str) -> None:
    st.caption(f"**What to notice:** {text}")


def shuffle_view(S: PageState) -> None:
    st.latex(r"\text{out}[j] = \text{in}\big[(j \bmod g)\cdot \tfrac{C}{g} + \lfloor j / g \rfloor\big]"
             r"\quad(\text{view }(g, C/g) \to \text{transpose} \to \text{flatten})")
    c = st.columns(2)
    channels = _num(S, c[0], "Channels C", "shc", "Channels entering the shuffle (one cell each).")
    groups = _num(S, c[1], "Shuffle groups g", "shg", "Groups of the grouped 1×1 conv before it; must divide C.")
    try:
        perm = bv.shuffle_permutation(channels, groups)
    except ConfigError as err:
        return show_error(err)
    show_chart(shuffle_figure(perm, groups), S.key("shuffle_fig"))
    _notice("after the shuffle every run of g neighbours holds one channel from each group, so the next grouped "
            "conv sees all groups; with g = 1 or g = C nothing moves.")


def video_view(S: PageState, macs: bool) -> None:
    c = st.columns(7)
    args = [_num(S, c[0], "Frames T", "vt", "Frames in the clip."), _num(S, c[1], "Height", "vh", "H of a frame."),
            _num(S, c[2], "Width", "vw", "W of a frame."), _num(S, c[3], "C_in", "vci", "Input channels."),
            _num(S, c[4], "C_out", "vco", "Output channels."),
            _num(S, c[5], "Spatial k", "vk", "Spatial kernel k×k (odd: 'same' padding)."),
            _num(S, c[6], "Temporal t", "vtk", "Temporal kernel t (odd).")]
    try:
        costs = bv.video_conv_costs(*args)
    except ConfigError as err:
        return show_error(err)
    unit = "MACs" if macs else "FLOPs"
    compute = [macs_from_flops(x.flops) if macs else x.flops for x in costs]
    for cost in costs:
        st.markdown(f"**{cost.name}**")
        for line in cost.formula:
            st.latex(line)
    if macs:
        st.latex(r"\text{MACs} = \text{FLOPs} / 2\quad(\text{one multiply-add each})")
    show_chart(video_figure(costs, compute, unit), S.key("video_fig"))
    m = st.columns(3)
    m[0].metric("Params ratio", f"{costs[1].params / costs[0].params:.3f}×", help="(2+1)-D ÷ 3-D parameters")
    m[1].metric(f"{unit} ratio", f"{compute[1] / max(compute[0], 1):.3f}×", help=f"(2+1)-D ÷ 3-D {unit}")
    m[2].metric("Memory ratio", f"{costs[1].activation_bytes / costs[0].activation_bytes:.2f}×",
                help="(2+1)-D ÷ 3-D activation memory: the middle tensor (×3: conv, BatchNorm, ReLU outputs) "
                     "is extra")
    _notice("M is chosen so the parameters match; the FLOPs stay about the same too, but the (2+1)-D block keeps "
            "its M-channel middle tensor, so its activation memory grows, in exchange for an extra ReLU.")


def dynamic_view(S: PageState) -> None:
    st.latex(r"\pi(x) = \operatorname{softmax}\!\big(\mathrm{fc}(\mathrm{avgpool}(x))/\tau\big),\quad "
             r"W(x) = \textstyle\sum_{k=1}^{K} \pi_k(x)\,W_k,\quad \textstyle\sum_k \pi_k(x) = 1")
    c = columns(5, [3, 3, 2, 2, 2])  # presenter mode: room for "green checkerboard"
    first = c[0].selectbox("Image A", bv.IMAGES, key=S.key("dimg1"), help="First input (3×16×16, synthetic).")
    second = c[1].selectbox("Image B", bv.IMAGES, key=S.key("dimg2"), help="Second input (3×16×16, synthetic).")
    k = _num(S, c[2], "Kernels K", "dk", "How many expert kernels W_k the router mixes.")
    tau = float(c[3].number_input("Temperature τ", *S.bounds["dtau"], key=S.key("dtau"), step=0.5,
                                  help="Softmax temperature: large τ → weights near 1/K (Chen et al. start at 30)."))
    seed = _num(S, c[4], "Seed", "dseed", "Seed of the untrained router's weights.")
    try:
        rows = bv.kernel_attention((first, second), k, tau, seed)
    except ConfigError as err:
        return show_error(err)
    show_chart(attention_figure([f"A: {first}", f"B: {second}"], rows), S.key("dynamic_fig"))
    _notice("each input gets its own mix of the K kernels (each chart sums to 1); parameters grow ×K but the conv "
            "runs once with the mixed kernel. Untrained, the router sees only each channel's mean.")


def patch_view(S: PageState, macs: bool) -> None:
    st.latex(r"\text{tokens} = (H/p)^2,\quad P = d\,C\,p^2 + d")
    st.caption("`nn.Conv2d(C, d, p, stride=p)`: kernel = stride = p, so the patches tile the image and each "
               "one becomes a token of width d.")
    c = st.columns(4)
    args = [_num(S, c[0], "Image size", "pimg", "H = W of the input image."),
            _num(S, c[1], "Patch size p", "pp", "Kernel = stride = p; must divide the image size."),
            _num(S, c[2], "Image channels", "pc", "Input channels (3: RGB)."),
            _num(S, c[3], "Embed dim d", "pd", "Token width d (ViT-B: 768).")]
    try:
        e = bv.patch_embedding(*args)
    except ConfigError as err:
        return show_error(err)
    for line in e.formula:
        st.latex(line)
    m = st.columns(3)
    m[0].metric("Tokens", f"{e.tokens:,}", help=f"{e.grid}×{e.grid} patches, one token each")
    m[1].metric("Embed params", fmt_int(e.params), help=f"{e.params:,} = d·C·p² + d")
    compute = macs_from_flops(e.flops) if macs else e.flops
    m[2].metric("MACs" if macs else "FLOPs", fmt_int(compute), help=f"{compute:,} for one image")
    show_chart(patch_grid_figure(bv.patch_picture(e.image), e.image, e.patch), S.key("patch_fig"))
    _notice("halving p quadruples the tokens (and attention's cost, which grows with tokens²) while the "
            "embedding's FLOPs stay the same: each pixel is still read once.")


def blocks_drawn_tab(S: PageState, macs: bool) -> None:
    with st.expander("Channel shuffle (ShuffleNet)", expanded=True):
        shuffle_view(S)
    with st.expander("3-D vs (2+1)-D convolution on a video clip"):
        video_view(S, macs)
    with st.expander("Dynamic convolution: attention over K kernels"):
        dynamic_view(S)
    with st.expander("ViT patch embedding as a convolution"):
        patch_view(S, macs)
