"""Convolution Animation: the window slides over real numbers, step by step, exactly as PyTorch computes it."""
import numpy as np
import streamlit as st

from cnnviz import ConfigError
from cnnviz.animation import DEFAULTS, INPUT_SOURCES, KERNEL_PRESETS, conv2d_steps, kernel_preset, pool2d_steps, \
    sample_input
from cnnviz.animation_extra import EXTRA_BOUNDS, EXTRA_DEFAULTS, center_crop, channel_demo, \
    conv_transpose2d_steps, multichannel_conv2d_steps, overlap_counts, same_padding_split, untouched_inputs
from cnnviz.animation_nd import KERNELS_1D, ND_BOUNDS, ND_DEFAULTS, ND_OPTIONS, SIGNALS, conv1d_steps, \
    conv3d_plane_steps, kernel_1d, signal_input, volume_demo
from cnnviz.arithmetic import PADDING_MODES
from cnnviz.figures.animation import SPEED_MS, animation_figure
from cnnviz.figures.animation_extra import channels_figure, counts_figure, padding_figure, transposed_figure, \
    untouched_figure
from cnnviz.ui import PageState, show_error

S = PageState("anim", DEFAULTS | EXTRA_DEFAULTS | ND_DEFAULTS,
              options=dict(source=INPUT_SOURCES, kernel=KERNEL_PRESETS, mode=PADDING_MODES, m1=PADDING_MODES,
                           pad=("numbers", "same", "valid"), speed=tuple(SPEED_MS), pkind=("max", "avg")) | ND_OPTIONS,
              bounds=dict(digit=(0, 1796), seed=(0, 9999), h=(1, 16), w=(1, 16), ksize=(1, 7), stride=(1, 4),
                          padding=(0, 4), dilation=(1, 4), step=(1, 4096), pk=(1, 8), ps=(1, 8), pp=(0, 4),
                          pstep=(1, 4096)) | EXTRA_BOUNDS | ND_BOUNDS)

st.title("Convolution Animation")
st.caption("Press Play: the window slides over the input, multiplies, adds up and writes one output cell per step. "
           "Every value is the one PyTorch computes (F.conv1d/2d/3d, F.max_pool2d, F.avg_pool2d).")
S.show_notices()


def animate(trace_fn, step_key, cols, one_d=False):
    """Build the steps, pick the step shown first (in ``cols``), draw the animation full width below.
    ``one_d``: a sequence (one row): output length and out[i] instead of rows × columns and out[r,c]."""
    try:
        steps = trace_fn()
    except ConfigError as err:
        show_error(err)
        return
    n = len(steps)
    st.session_state[S.key(step_key)] = min(st.session_state.get(S.key(step_key), 1), n)
    step = cols[0].number_input("Show step", 1, n, key=S.key(step_key),
                                help="Step forward / back with + and −; Play in the figure runs from here.")
    s = steps[step - 1]
    shape, cell = (str(steps.out_shape[1]), f"out[{s.out[1]}]") if one_d else \
        ("×".join(map(str, steps.out_shape)), f"out[{s.out[0]},{s.out[1]}]")
    cols[1].metric("Output", shape, help="output length" if one_d else "rows × columns of the output")
    cols[2].metric("Steps", n, help="one per output cell")
    cols[3].metric(f"Step {step}: {cell}", f"{s.value:.4g}",
                   help="The value this step writes (the figure shows the products and their sum).")
    st.plotly_chart(animation_figure(steps, step - 1, SPEED_MS[S["speed"]]), width="stretch", theme=None,
                    config=dict(displayModeBar=False), key=S.key(step_key + "_fig"))


def ints(names_labels, helps):
    cols = st.columns(len(names_labels))
    return [col.number_input(lab, *S.bounds[n], key=S.key(n), help=h)
            for col, (n, lab), h in zip(cols, names_labels, helps)]


def show(fig):
    st.plotly_chart(fig, width="content", theme=None, config=dict(displayModeBar=False))


c = st.columns([2, 2, 2, 2])
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

conv_tab, pool_tab, d1_tab, d3_tab, t_tab, m_tab, pit_tab = st.tabs(
    ["Convolution", "Pooling", "1-D", "3-D", "Transposed", "Multi-channel", "Pitfalls"])
with conv_tab:
    c = st.columns([3, 2, 2, 2, 3, 2, 3, 2])
    preset = c[0].selectbox("Kernel", KERNEL_PRESETS, key=S.key("kernel"),
                            help="A preset to start from; edit its numbers in the table below.")
    fixed = preset in ("sobel x", "sobel y", "sharpen")
    ksize = c[1].number_input("Kernel size", 1, 7, key=S.key("ksize"), disabled=fixed,
                              help="k×k (Sobel and sharpen are 3×3 by definition).")
    stride = c[2].number_input("Stride", 1, 4, key=S.key("stride"), help="How far the window moves per step.")
    dilation = c[3].number_input("Dilation", 1, 4, key=S.key("dilation"), help="Gaps between kernel taps.")
    pad_kind = c[4].selectbox("Padding", ("numbers", "same", "valid"), key=S.key("pad"),
                              help="'same' keeps the size (stride 1 only); 'valid' means no padding.")
    padding = (c[5].number_input("Pad", 0, 4, key=S.key("padding"), help="Cells added on each side.")
               if pad_kind == "numbers" else pad_kind)
    mode = c[6].selectbox("Padding mode", PADDING_MODES, key=S.key("mode"),
                          help="What the ring holds: zeros, a mirror image, the edge value, or a wrap-around.")
    bias = c[7].number_input("Bias", -100.0, 100.0, step=0.5, key=S.key("bias"), help="Added to every output.")
    left, *cols = st.columns([3, 2, 2, 2, 3])
    with left:
        k0 = kernel_preset(preset, 3 if fixed else ksize, S["seed"])
        weight = st.data_editor(k0, key=S.key(f"kedit_{preset}_{k0.shape[0]}"), width="stretch")
        st.caption("Kernel weights: click a cell to type a number.")
    animate(lambda: conv2d_steps(x, weight, bias, stride, padding, dilation, mode), "step", cols)

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
    animate(lambda: pool2d_steps(x, *args), "pstep", st.columns(4))
    st.caption("Average pooling counts padding cells in the divisor (PyTorch's count_include_pad=True) but not "
               "the cells of a ceil_mode window that hang past the padding.")


with d1_tab:
    c = st.columns([4, 2, 3, 2, 2, 2, 3, 2, 3])
    sig = c[0].radio("Signal", SIGNALS, key=S.key("sig"), horizontal=True,
                     help="A noisy sine, a step, seeded integers (the Seed of the input row above), or your numbers.")
    if sig == "typed":
        c[1].text_input("Numbers", key=S.key("stext"), help="Up to 32 numbers, separated by spaces.")
    else:
        c[1].number_input("Length L", 1, 32, key=S.key("slen"), help="How many samples.")
    k1 = c[2].selectbox("Kernel", KERNELS_1D, key=S.key("k1"),
                        help="Difference: finds edges. Moving average and gaussian: smooth. Edit the numbers below.")
    k1n = c[3].number_input("Size k", 1, 9, key=S.key("k1n"), help="Kernel length.")
    s1 = c[4].number_input("Stride", 1, 4, key=S.key("s1"), help="How far the window moves per step.")
    d1 = c[5].number_input("Dilation", 1, 4, key=S.key("d1"), help="Gaps between kernel taps.")
    pad1 = c[6].selectbox("Padding", ("numbers", "same", "valid"), key=S.key("pad1"),
                          help="'same' keeps the length (stride 1 only); 'valid' means no padding.")
    p1 = c[7].number_input("Pad", 0, 4, key=S.key("p1"), help="Samples added at each end.") \
        if pad1 == "numbers" else pad1
    m1 = c[8].selectbox("Padding mode", PADDING_MODES, key=S.key("m1"),
                        help="What the added samples hold: zeros, a mirror image, the end value, or a wrap-around.")
    try:
        seq = signal_input(sig, S["slen"], S["seed"], S["stext"])
        k0 = kernel_1d(k1, k1n, S["seed"])
        w1 = st.data_editor(k0[None], key=S.key(f"k1edit_{k1}_{k1n}"), width="stretch")[0]
        animate(lambda: conv1d_steps(seq, w1, 0.0, s1, p1, d1, m1), "step1", st.columns(4), one_d=True)
        st.caption("A 1-D convolution (F.conv1d, nn.Conv1d) is the 2-D one on a single row: the same products "
                   "and sums, the window moving along the sequence only. Audio, text embeddings and sensor data "
                   "use it.")
    except ConfigError as err:
        show_error(err)

with d3_tab:
    vd, vkd, vs, vp, vz, vstep = ints(
        [("vd", "Volume depth D"), ("vkd", "Kernel depth"), ("vs", "Stride"), ("vp", "Padding"),
         ("vz", "Output plane"), ("vstep", "Show step")],
        ["Slices of the D×4×4 input (seeded numbers 0–9).", "k_d: how many slices one output cell reads "
         "(the kernel is k_d×3×3).", "The same on every axis.", "Zero padding on every side, depth included.",
         "Which output depth plane (+ / − to step).", "Which output cell of that plane."])
    try:
        x3, w3 = volume_demo(vd, vkd, S["seed"])
        t3, depths, planes = conv3d_plane_steps(x3, w3, vz - 1, stride=vs, padding=vp)
        names = [f"slice {z}" if 0 <= z < vd else "padding (zeros)" for z in depths]
        show(channels_figure(t3, min(vstep, len(t3)) - 1, names))
        st.caption(f"F.conv3d: output plane {min(vz, planes)} of {planes} reads input depths "
                   f"{', '.join(str(z) if 0 <= z < vd else f'{z} (padding)' for z in depths)} (each with its own "
                   "3×3 kernel slice) and adds their window "
                   "sums — a 3-D convolution is a multi-channel 2-D one whose channels are the depth slices "
                   "the kernel covers, sliding along depth as well. Video and CT scans use it.")
    except ConfigError as err:
        show_error(err)


with t_tab:
    tn, tk, ts, tp, top, _ = ints(
        [("tn", "Input n×n"), ("tk", "Kernel k"), ("ts", "Stride"), ("tp", "Padding"), ("top", "output_padding"),
         ("tstep", "Show stamp")], ["The central n×n of the input.", "k×k kernel of ones: a stamp is the input "
        "value.", "Stamps are s cells apart.", "Crops p cells off each side of the output.", "Extra cells at the "
        "bottom / right (< stride).", "Which input cell stamps now (+ / − to step)."])
    try:
        tt = conv_transpose2d_steps(center_crop(x, tn), np.ones((tk, tk)), ts, tp, top)
        show(transposed_figure(tt, min(S["tstep"], len(tt)) - 1))
    except ConfigError as err:
        show_error(err)
    st.markdown("Each input cell **stamps** value × kernel into the output (F.conv_transpose2d). When the kernel "
                "size is not a multiple of the stride, neighbouring output cells get different numbers of stamps "
                "(right panel): that uneven overlap is the **checkerboard** of generated images.")

with m_tab:
    mc, _ = ints([("mc", "Input channels"), ("mstep", "Show step")],
                 ["C: one kernel slice per channel; their sums add up.", "Which output cell (+ / − to step)."])
    mt = multichannel_conv2d_steps(*channel_demo(mc, S["seed"]))
    show(channels_figure(mt, S["mstep"] - 1))
    st.caption("Each channel has its own 3×3 kernel slice (weights −1, 0, 1). One output cell = the channels' "
               "window sums added together (F.conv2d with a 1×C×3×3 weight).")

with pit_tab:
    a, b = st.columns(2, gap="large")
    with a:
        st.subheader("1. Cells a stride never reads")
        un, uk, us, up = ints([("un", "Input n×n"), ("uk", "Kernel k"), ("us", "Stride"), ("up", "Padding")],
                              ["Input size.", "Kernel size.", "Window step.", "Zero padding on each side."])
        try:
            show(untouched_figure((un, un), untouched_inputs((un, un), uk, us, up), uk, up))
            st.caption(f"Windows start every {us} cells: rows/columns past the last one are dropped silently.")
        except ConfigError as err:
            show_error(err)
    with b:
        st.subheader("2. 'same' with an even kernel is lopsided")
        sk, sd = ints([("sk", "Kernel k"), ("sd", "Dilation")], ["Try 4 vs 3.", "d·(k−1) odd → uneven padding."])
        lo, hi = same_padding_split(sk, sd)
        show(padding_figure((4, 4), lo, hi))
        st.caption(f"d·(k−1) = {sd * (sk - 1)} padding cells per axis: PyTorch puts {lo} top/left and {hi} "
                   "bottom/right, so the output is shifted by half a cell when they differ.")
    st.subheader("3. Checkerboards from transposed convolution")
    even = -(-tk // ts) * ts  # the next kernel size divisible by the stride
    show(counts_figure({f"k={tk}, s={ts}": overlap_counts((4, 4), tk, ts),
                        f"k={even}, s={ts}": overlap_counts((4, 4), even, ts)}))
    st.caption("Stamps per output cell for a 4×4 input (kernel and stride from the Transposed tab): uneven "
               "counts when k % s ≠ 0, an even interior when k is a multiple of s.")

S.sync_url()
