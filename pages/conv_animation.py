"""Convolution Animation: the window slides over real numbers, step by step, exactly as PyTorch computes it."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.animation import DEFAULTS, INPUT_SOURCES, KERNEL_PRESETS, conv2d_steps, kernel_preset, pool2d_steps, \
    sample_input
from cnnviz.animation.extra import EXTRA_BOUNDS, EXTRA_DEFAULTS
from cnnviz.animation.nd import ND_BOUNDS, ND_DEFAULTS, ND_OPTIONS
from cnnviz.animation.padding_modes import PAD_MODES_BOUNDS, PAD_MODES_DEFAULTS
from cnnviz.figures.animation import SPEED_MS
from cnnviz.geometry.arithmetic import POOL_KINDS
from cnnviz.ui import PageState, columns, padding_inputs, presenting, show_error
from cnnviz.ui import conv_animation as tabs

S = PageState("anim", DEFAULTS | EXTRA_DEFAULTS | ND_DEFAULTS | PAD_MODES_DEFAULTS | tabs.padding_trios(DEFAULTS),
              options=dict(source=INPUT_SOURCES, kernel=KERNEL_PRESETS, speed=tuple(SPEED_MS), pkind=POOL_KINDS,
                           emk=KERNEL_PRESETS) | ND_OPTIONS,
              bounds=dict(digit=(0, 1796), seed=(0, 9999), h=(1, 16), w=(1, 16), ksize=(1, 7), stride=(1, 4),
                          dilation=(1, 4), step=(1, 4096), pk=(1, 8), ps=(1, 8), pp=(0, 4),
                          pstep=(1, 4096)) | EXTRA_BOUNDS | ND_BOUNDS | PAD_MODES_BOUNDS)

st.title("Convolution Animation")
st.caption("Press Play: the window slides over the input, multiplies, adds up and writes one output cell per step. "
           "Every value is the one PyTorch computes (F.conv1d/2d/3d, F.max_pool2d, F.avg_pool2d).")
S.show_notices()


c = columns([2, 2, 2, 2], [3, 2, 2, 3])  # presenter mode: the three input kinds on one line
source = c[0].radio("Input", INPUT_SOURCES, key=S.key("source"), horizontal=True,
                    help="A handwritten digit (scikit-learn, 8×8), seeded random integers, or numbers you type.")
if source == "digit":
    c[1].number_input("Digit image #", 0, 1796, key=S.key("digit"), help="Which of scikit-learn's 1,797 digits.")
elif source == "random":
    c[1].number_input("Seed", 0, 9999, key=S.key("seed"), help="Same seed, same numbers.")
    c[2].number_input("Rows", 1, 16, key=S.key("h"), help="Input height H.")
    c[3].number_input("Columns", 1, 16, key=S.key("w"), help="Input width W.")
else:
    c[1].text_area("Numbers", key=S.key("text"), help="One row per line or rows separated by ';', values by spaces.")
c[-1].select_slider("Play speed", tuple(SPEED_MS), key=S.key("speed"), help="Time per step when you press Play.")
try:
    x = sample_input(source, (S["h"], S["w"]), S["seed"], S["digit"], S["text"])
except ConfigError as err:
    show_error(err)
    st.stop()

conv_tab, pool_tab, d1_tab, d3_tab, t_tab, m_tab, pm_tab, pit_tab = S.tabs(  # only the open tab runs
    ["Convolution", "Pooling", "1-D", "3-D", "Transposed", "Multi-channel", "Padding modes", "Pitfalls"])
if conv_tab.open:
    with conv_tab:
        c = columns([3, 2, 2, 2, 3, 2, 3, 2], [2.5, 3, 2, 2, 3, 1.5, 3.5, 2])  # presenter mode: labels on one line
        preset = c[0].selectbox("Kernel", KERNEL_PRESETS, key=S.key("kernel"),
                                help="A preset to start from; click a cell of the table below to type a weight.")
        fixed = preset in ("sobel x", "sobel y", "sharpen")
        ksize = c[1].number_input("Kernel size", 1, 7, key=S.key("ksize"), disabled=fixed,
                                  help="k×k (Sobel and sharpen are 3×3 by definition).")
        stride = c[2].number_input("Stride", 1, 4, key=S.key("stride"), help="How far the window moves per step.")
        dilation = c[3].number_input("Dilation", 1, 4, key=S.key("dilation"), help="Gaps between kernel taps.")
        padding, mode = padding_inputs(S, ("pad", "padding", "mode"), c[4:7])
        bias = c[7].number_input("Bias", -100.0, 100.0, step=0.5, key=S.key("bias"), help="Added to every output.")
        left, *cols = st.columns([3, 2, 2, 2, 3])
        with left:
            k0 = kernel_preset(preset, 3 if fixed else ksize, S["seed"])
            weight = st.data_editor(k0, key=S.key(f"kedit_{preset}_{k0.shape[0]}"), width="stretch")
            if not presenting():  # on a projector the figure comes first: the hint is in Kernel's help
                st.caption("Kernel weights: click a cell to type a number.")
        tabs.animate(S, lambda: conv2d_steps(x, weight, bias, stride, padding, dilation, mode), "step", cols)

if pool_tab.open:
    with pool_tab:
        c = st.columns([2, 2, 2, 2, 2, 2])
        kind = c[0].radio("Kind", ("max", "avg"), key=S.key("pkind"), horizontal=True,
                          help="Max keeps the largest value (circled); avg divides the sum by the window size.")
        glob = c[1].toggle("Global", key=S.key("glob"), help="One window over the whole input (global pooling).")
        pk = c[2].number_input("Pool kernel", 1, 8, key=S.key("pk"), disabled=glob, help="Window size k×k.")
        ps = c[3].number_input("Pool stride", 1, 8, key=S.key("ps"), disabled=glob, help="Step between windows.")
        pp = c[4].number_input("Pool padding", 0, 4, key=S.key("pp"), disabled=glob, help="At most half the kernel.")
        ceil = c[5].toggle("ceil_mode", key=S.key("ceil"), disabled=glob,
                           help="Round up: keep a last, partial window that hangs over the edge.")
        args = (x.shape, None, 0, kind, False) if glob else (pk, ps, pp, kind, ceil)
        tabs.animate(S, lambda: pool2d_steps(x, *args), "pstep", st.columns(4))
        st.caption("Average pooling counts padding cells in the divisor (PyTorch's count_include_pad=True) but not "
                   "the cells of a ceil_mode window that hang past the padding.")


for tab, draw in ((d1_tab, lambda: tabs.one_d_tab(S)), (d3_tab, lambda: tabs.three_d_tab(S)),
                  (t_tab, lambda: tabs.transposed_tab(S, x)), (m_tab, lambda: tabs.multichannel_tab(S)),
                  (pm_tab, lambda: tabs.padding_modes_tab(S, x)), (pit_tab, lambda: tabs.pitfalls_tab(S))):
    if tab.open:
        with tab:
            draw()

S.sync_url()
