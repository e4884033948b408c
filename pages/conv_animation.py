"""Convolution Animation: the window slides over real numbers, step by step, exactly as PyTorch computes it."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.animation import conv2d_steps, kernel_preset, pool2d_steps, sample_input
from cnnviz.ui import PageState, columns, padding_inputs, presenting, show_error
from cnnviz.ui import conv_animation as tabs
from cnnviz.ui import photo_kernels as photo

S = PageState("anim", {**tabs.SETTINGS, **photo.SETTINGS})

st.title("Convolution Animation")
st.caption("Press Play: the window slides over the input, multiplies, adds up and writes one output cell per step. "
           "Every value is the one PyTorch computes (F.conv1d/2d/3d, F.max_pool2d, F.avg_pool2d).")
S.show_notices()


c = columns([2, 2, 2, 2, 2], [3.6, 2, 2, 2, 2.8])  # presenter mode: the input kinds, a random input's three
source = S.widget("source", c[0], horizontal=True)  # settings and the speed on one line
for name, col in zip(dict(digit=("digit",), random=("seed", "h", "w")).get(source, ("text",)), c[1:4]):
    S.widget(name, col)
S.widget("speed", c[-1])
try:
    x = sample_input(source, (S["h"], S["w"]), S["seed"], S["digit"], S["text"])
except ConfigError as err:
    show_error(err)
    st.stop()

conv_tab, pool_tab, d1_tab, d3_tab, t_tab, m_tab, pm_tab, pit_tab, ph_tab = S.tabs(  # only the open tab runs
    ["Convolution", "Pooling", "1-D", "3-D", "Transposed", "Multi-channel", "Padding modes", "Pitfalls",
     "Photo kernels"])
if conv_tab.open:
    with conv_tab:
        c = columns([3, 2, 2, 2, 3, 2, 3, 2], [2.5, 3, 2, 2, 3, 1.5, 3.5, 2])  # presenter mode: labels on one line
        preset = S.widget("kernel", c[0])
        fixed = preset in ("sobel x", "sobel y", "sharpen")
        ksize = S.widget("ksize", c[1], disabled=fixed)
        stride, dilation = S.widget("stride", c[2]), S.widget("dilation", c[3])
        padding, mode = padding_inputs(S, ("pad", "padding", "mode"), c[4:7])
        bias = S.widget("bias", c[7], step=0.5)
        left, *cols = st.columns([3, 2, 2, 2, 3])
        with left:
            k0 = kernel_preset(preset, 3 if fixed else ksize, S["seed"])
            weight = st.data_editor(k0, key=S.key(f"kedit_{preset}_{k0.shape[0]}"), width="stretch",
                                    row_height=24 if presenting() else None)  # zoomed on a projector: as tall
            if not presenting():  # on a projector the figure comes first: the hint is in Kernel's help
                st.caption("Kernel weights: click a cell to type a number.")
        tabs.animate(S, lambda: conv2d_steps(x, weight, bias, stride, padding, dilation, mode), "step", cols)

if pool_tab.open:
    with pool_tab:
        c = st.columns([2, 2, 2, 2, 2, 2])
        kind, glob = S.widget("pkind", c[0], horizontal=True), S.widget("glob", c[1])
        pk, ps, pp, ceil = (S.widget(name, col, disabled=glob) for name, col in zip(("pk", "ps", "pp", "ceil"), c[2:6]))
        args = (x.shape, None, 0, kind, False) if glob else (pk, ps, pp, kind, ceil)
        tabs.animate(S, lambda: pool2d_steps(x, *args), "pstep", st.columns(4))
        st.caption("Average pooling counts padding cells in the divisor (PyTorch's count_include_pad=True) but not "
                   "the cells of a ceil_mode window that hang past the padding.")


for tab, draw in ((d1_tab, lambda: tabs.one_d_tab(S)), (d3_tab, lambda: tabs.three_d_tab(S)),
                  (t_tab, lambda: tabs.transposed_tab(S, x)), (m_tab, lambda: tabs.multichannel_tab(S)),
                  (pm_tab, lambda: tabs.padding_modes_tab(S, x)), (pit_tab, lambda: tabs.pitfalls_tab(S)),
                  (ph_tab, lambda: photo.photo_kernels_tab(S))):
    if tab.open:
        with tab:
            draw()

S.sync_url()
