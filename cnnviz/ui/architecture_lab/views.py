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
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import fmt_int, int_inputs, show_chart, show_error

SETTINGS = dict(  # the tab's controls, each declared once
    shc=Setting(12, "Channels C", "Channels entering the shuffle (one cell each).", (1, 64)),
    shg=Setting(3, "Shuffle groups g", "Groups of the grouped 1×1 conv before it; must divide C.", (1, 64)),
    vt=Setting(16, "Frames T", "Frames in the clip.", (1, 64)),
    vh=Setting(112, "Height", "H of a frame.", (1, 224)),
    vw=Setting(112, "Width", "W of a frame.", (1, 224)),
    vci=Setting(64, "C_in", "Input channels.", (1, 512)),
    vco=Setting(64, "C_out", "Output channels.", (1, 512)),
    vk=Setting(3, "Spatial k", "Spatial kernel k×k (odd: 'same' padding).", (1, 7)),
    vtk=Setting(3, "Temporal t", "Temporal kernel t (odd).", (1, 7)),
    dimg1=Setting("red stripes", "Image A", "First input (3×16×16, synthetic).", options=bv.IMAGES),
    dimg2=Setting("blue blob", "Image B", "Second input (3×16×16, synthetic).", options=bv.IMAGES),
    dk=Setting(4, "Kernels K", "How many expert kernels W_k the router mixes.", (2, 16)),
    dtau=Setting(1.0, "Temperature τ", "Softmax temperature: large τ → weights near 1/K (Chen et al. start at 30).",
                 (0.05, 100.0)),
    dseed=Setting(0, "Seed", "Seed of the untrained router's weights.", (0, 10_000)),
    pimg=Setting(224, "Image size", "H = W of the input image.", (1, 512)),
    pp=Setting(16, "Patch size p", "Kernel = stride = p; must divide the image size.", (1, 512)),
    pc=Setting(3, "Image channels", "Input channels (3: RGB).", (1, 4)),
    pd=Setting(768, "Embed dim d", "Token width d (ViT-B: 768).", (1, 1024)))


def _notice(text: str) -> None:
    st.caption(f"**What to notice:** {text}")


def shuffle_view(S: PageState) -> None:
    st.latex(r"\text{out}[j] = \text{in}\big[(j \bmod g)\cdot \tfrac{C}{g} + \lfloor j / g \rfloor\big]"
             r"\quad(\text{view }(g, C/g) \to \text{transpose} \to \text{flatten})")
    c = st.columns(2)
    channels, groups = int_inputs(S, c, "shc", "shg")
    try:
        perm = bv.shuffle_permutation(channels, groups)
    except ConfigError as err:
        return show_error(err)
    show_chart(shuffle_figure(perm, groups), S.key("shuffle_fig"))
    _notice("after the shuffle every run of g neighbours holds one channel from each group, so the next grouped "
            "conv sees all groups; with g = 1 or g = C nothing moves.")


def video_view(S: PageState, macs: bool) -> None:
    c = st.columns(7)
    args = int_inputs(S, c, "vt", "vh", "vw", "vci", "vco", "vk", "vtk")
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
    first, second = S.widget("dimg1", c[0]), S.widget("dimg2", c[1])
    k, tau, seed = int(S.widget("dk", c[2])), float(S.widget("dtau", c[3], step=0.5)), int(S.widget("dseed", c[4]))
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
    args = int_inputs(S, c, "pimg", "pp", "pc", "pd")
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
