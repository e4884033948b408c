"""The Conv Animation page's repeated blocks: the step picker and metrics above an animation, rows of bounded
number inputs, and the tabs past Convolution and Pooling (1-D, 3-D, Transposed, Multi-channel, Padding modes, Pitfalls).
Widget keys come from the page's ``PageState``; every number is computed by cnnviz.animation."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.animation.conv2d import DEFAULTS, INPUT_SOURCES, KERNEL_PRESETS, kernel_preset
from cnnviz.animation.extra import EXTRA_BOUNDS, EXTRA_DEFAULTS, center_crop, channel_demo, conv_transpose2d_steps, \
    even_overlap_kernel, multichannel_conv2d_steps, overlap_counts, same_padding_split, untouched_inputs
from cnnviz.animation.padding_modes import PAD_MODES_BOUNDS, PAD_MODES_DEFAULTS, padding_mode_outputs
from cnnviz.animation.nd import (ND_BOUNDS, ND_DEFAULTS, ND_OPTIONS, conv1d_steps, conv3d_plane_steps,
                                kernel_1d, signal_input, volume_demo)
from cnnviz.errors import ConfigError
from cnnviz.figures.animation import SPEED_MS, animation_figure
from cnnviz.figures.edges import padding_modes_figure
from cnnviz.figures.animation_extra import channels_figure, counts_figure, padding_figure, transposed_figure, \
    untouched_figure
from cnnviz.geometry.arithmetic import POOL_KINDS
from cnnviz.limits import MAX_STEPS
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import int_inputs, padding_inputs, padding_settings, show_chart, show_error

# The engine's defaults, bounds and options (the limits cnnviz.animation enforces), plus the bounds of the Convolution
# and Pooling tabs' inputs, which only the page limits (a digit index, a seed, sizes that keep the grid readable).
_DEFAULTS = DEFAULTS | EXTRA_DEFAULTS | ND_DEFAULTS | PAD_MODES_DEFAULTS
_BOUNDS = dict(digit=(0, 1796), seed=(0, 9999), h=(1, 16), w=(1, 16), ksize=(1, 7), stride=(1, 4), dilation=(1, 4),
               bias=(-100.0, 100.0), padding=(0, 4), step=(1, MAX_STEPS), pk=(1, 8), ps=(1, 8), pp=(0, 4),
               pstep=(1, MAX_STEPS)) | EXTRA_BOUNDS | ND_BOUNDS | PAD_MODES_BOUNDS
_OPTIONS = dict(source=INPUT_SOURCES, kernel=KERNEL_PRESETS, speed=tuple(SPEED_MS), pkind=POOL_KINDS,
                emk=KERNEL_PRESETS) | ND_OPTIONS


def _set(name: str, label: str, help: str, widget: str | None = None) -> Setting:
    """The setting ``name`` with its default, bounds and options from the engine's tables above."""
    return Setting(_DEFAULTS[name], label, help, _BOUNDS.get(name), _OPTIONS.get(name), widget)


_STEP = "Step forward / back with + and −; Play in the figure runs from here."
_STRIDE, _DILATION = "How far the window moves per step.", "Gaps between kernel taps."
SETTINGS = dict(
    source=_set("source", "Input", "A handwritten digit (scikit-learn, 8×8), seeded random integers, or numbers you "
                "type.", "radio"),
    digit=_set("digit", "Digit image #", "Which of scikit-learn's 1,797 digits."),
    seed=_set("seed", "Seed", "Same seed, same numbers."),
    h=_set("h", "Rows", "Input height H."),
    w=_set("w", "Columns", "Input width W."),
    text=_set("text", "Numbers", "One row per line or rows separated by ';', values by spaces.", "text_area"),
    speed=_set("speed", "Play speed", "Time per step when you press Play.", "select_slider"),
    # the Convolution tab
    kernel=_set("kernel", "Kernel", "A preset to start from; click a cell of the table below to type a weight."),
    ksize=_set("ksize", "Kernel size", "k×k (Sobel and sharpen are 3×3 by definition)."),
    stride=_set("stride", "Stride", _STRIDE),
    dilation=_set("dilation", "Dilation", _DILATION),
    **padding_settings(("pad", DEFAULTS["pad"]), ("padding", DEFAULTS["padding"], "Pad", "Cells added on each side.",
                                                  _BOUNDS["padding"]),
                       ("mode", DEFAULTS["mode"], "What the ring holds: zeros, a mirror image, the edge value, or a "
                        "wrap-around.")),
    bias=_set("bias", "Bias", "Added to every output."),
    step=_set("step", "Show step", _STEP),
    # the Pooling tab
    pkind=_set("pkind", "Kind", "Max keeps the largest value (circled); avg divides the sum by the window size.",
               "radio"),
    glob=_set("glob", "Global", "One window over the whole input (global pooling)."),
    pk=_set("pk", "Pool kernel", "Window size k×k."),
    ps=_set("ps", "Pool stride", "Step between windows."),
    pp=_set("pp", "Pool padding", "At most half the kernel."),
    ceil=_set("ceil", "ceil_mode", "Round up: keep a last, partial window that hangs over the edge."),
    pstep=_set("pstep", "Show step", _STEP),
    # the 1-D tab
    sig=_set("sig", "Signal", "A noisy sine, a step, seeded integers (the Seed of the input row above), or your "
             "numbers.", "radio"),
    stext=_set("stext", "Numbers", "Up to 32 numbers, separated by spaces."),
    slen=_set("slen", "Length L", "How many samples."),
    k1=_set("k1", "Kernel", "Difference: finds edges. Moving average and gaussian: smooth. Edit the numbers below."),
    k1n=_set("k1n", "Size k", "Kernel length."),
    s1=_set("s1", "Stride", _STRIDE),
    d1=_set("d1", "Dilation", _DILATION),
    **padding_settings(("pad1", ND_DEFAULTS["pad1"]), ("p1", ND_DEFAULTS["p1"], "Pad", "Samples added at each end.",
                                                       ND_BOUNDS["p1"]),
                       ("m1", ND_DEFAULTS["m1"], "What the added samples hold: zeros, a mirror image, the end value, "
                        "or a wrap-around."), what="length"),
    step1=_set("step1", "Show step", _STEP),
    # the 3-D tab
    vd=_set("vd", "Volume depth D", "Slices of the D×4×4 input (seeded numbers 0–9)."),
    vkd=_set("vkd", "Kernel depth", "k_d: how many slices one output cell reads (the kernel is k_d×3×3)."),
    vs=_set("vs", "Stride", "The same on every axis."),
    vp=_set("vp", "Padding", "Zero padding on every side, depth included."),
    vz=_set("vz", "Output plane", "Which output depth plane (+ / − to step)."),
    vstep=_set("vstep", "Show step", "Which output cell of that plane."),
    # the Transposed tab
    tn=_set("tn", "Input n×n", "The central n×n of the input."),
    tk=_set("tk", "Kernel k", "k×k kernel of ones: a stamp is the input value."),
    ts=_set("ts", "Stride", "Stamps are s cells apart."),
    tp=_set("tp", "Padding", "Crops p cells off each side of the output."),
    top=_set("top", "output_padding", "Extra cells at the bottom / right (< stride)."),
    tstep=_set("tstep", "Show stamp", "Which input cell stamps now (+ / − to step)."),
    # the Multi-channel tab
    mc=_set("mc", "Input channels", "C: one kernel slice per channel; their sums add up."),
    mstep=_set("mstep", "Show step", "Which output cell (+ / − to step)."),
    # the Padding modes tab
    emk=_set("emk", "Kernel", "Blur shows it best: a zero ring pulls the border average down."),
    emp=_set("emp", "Pad", "Cells added on each side; blur and identity kernels are (2·pad+1)×(2·pad+1), so the output "
             "keeps the input's size."),
    # the Pitfalls tab
    un=_set("un", "Input n×n", "Input size."),
    uk=_set("uk", "Kernel k", "Kernel size."),
    us=_set("us", "Stride", "Window step."),
    up=_set("up", "Padding", "Zero padding on each side."),
    sk=_set("sk", "Kernel k", "Try 4 vs 3."),
    sd=_set("sd", "Dilation", "d·(k−1) odd → uneven padding."))


def animate(state: PageState, trace_fn, step_key: str, cols, one_d: bool = False) -> None:
    """Build the steps, pick the step shown first (in ``cols``), draw the animation full width below (its title
    reads the step's cell and value and follows Play).
    ``one_d``: a sequence (one row): output length and out[i] instead of rows × columns and out[r,c]."""
    try:
        steps = trace_fn()
    except ConfigError as err:
        show_error(err)
        return
    n = len(steps)
    st.session_state[state.key(step_key)] = min(st.session_state.get(state.key(step_key), 1), n)
    step = state.widget(step_key, cols[0], bounds=(1, n))
    shape = str(steps.out_shape[1]) if one_d else "×".join(map(str, steps.out_shape))
    cols[1].metric("Output", shape, help="output length" if one_d else "rows × columns of the output")
    cols[2].metric("Steps", n, help="one per output cell")
    # the step's cell and value are the figure's title: its frames rewrite it while Play runs
    show_chart(animation_figure(steps, step - 1, SPEED_MS[state["speed"]]), state.key(step_key + "_fig"), theme=None,
               config=dict(displayModeBar=False))


def show(fig, key: str) -> None:
    """A figure at its own size, without the mode bar."""
    show_chart(fig, key, width="content", theme=None, config=dict(displayModeBar=False))


def one_d_tab(state: PageState) -> None:
    """The 1-D tab: a signal, a kernel, F.conv1d step by step."""
    # two rows of controls: in one row of nine, 'moving average' (1400 px) and 'difference' (presenter mode) were cut
    c = [*st.columns([4, 2, 3, 2, 2]), *st.columns([2, 3, 2, 3, 3])]
    sig = state.widget("sig", c[0], horizontal=True)
    state.widget("stext" if sig == "typed" else "slen", c[1])
    k1, k1n, s1, d1 = (state.widget(n, col) for n, col in zip(("k1", "k1n", "s1", "d1"), c[2:6]))
    p1, m1 = padding_inputs(state, ("pad1", "p1", "m1"), c[6:9])
    try:
        seq = signal_input(sig, state["slen"], state["seed"], state["stext"])
        k0 = kernel_1d(k1, k1n, state["seed"])
        w1 = st.data_editor(k0[None], key=state.key(f"k1edit_{k1}_{k1n}"), width="stretch")[0]
        animate(state, lambda: conv1d_steps(seq, w1, 0.0, s1, p1, d1, m1), "step1", st.columns(4), one_d=True)
        st.caption("A 1-D convolution (F.conv1d, nn.Conv1d) is the 2-D one on a single row: the same products "
                   "and sums, the window moving along the sequence only. Audio, text embeddings and sensor data "
                   "use it.")
    except ConfigError as err:
        show_error(err)


def three_d_tab(state: PageState) -> None:
    """The 3-D tab: one output depth plane of F.conv3d, channel by channel."""
    vd, vkd, vs, vp, vz, vstep = int_inputs(state, st.columns(6), "vd", "vkd", "vs", "vp", "vz", "vstep")
    try:
        x3, w3 = volume_demo(vd, vkd, state["seed"])
        t3, depths, planes = conv3d_plane_steps(x3, w3, vz - 1, stride=vs, padding=vp)
        names = [f"slice {z}" if 0 <= z < vd else "padding (zeros)" for z in depths]
        show(channels_figure(t3, min(vstep, len(t3)) - 1, names), state.key("channels_fig"))
        st.caption(f"F.conv3d: output plane {min(vz, planes)} of {planes} reads input depths "
                   f"{', '.join(str(z) if 0 <= z < vd else f'{z} (padding)' for z in depths)} (each with its own "
                   "3×3 kernel slice) and adds their window "
                   "sums — a 3-D convolution is a multi-channel 2-D one whose channels are the depth slices "
                   "the kernel covers, sliding along depth as well. Video and CT scans use it.")
    except ConfigError as err:
        show_error(err)


def transposed_tab(state: PageState, x) -> None:
    """The Transposed tab: each input cell of ``x`` stamps the kernel."""
    tn, tk, ts, tp, top, _ = int_inputs(state, st.columns(6), "tn", "tk", "ts", "tp", "top", "tstep")
    try:
        tt = conv_transpose2d_steps(center_crop(x, tn), np.ones((tk, tk)), ts, tp, top)
        show(transposed_figure(tt, min(state["tstep"], len(tt)) - 1), state.key("transposed_fig"))
    except ConfigError as err:
        show_error(err)
    st.markdown("Each input cell **stamps** value × kernel into the output (F.conv_transpose2d). When the kernel "
                "size is not a multiple of the stride, neighbouring output cells get different numbers of stamps "
                "(right panel): that uneven overlap is the **checkerboard** of generated images.")


def multichannel_tab(state: PageState) -> None:
    """The Multi-channel tab: C kernel slices whose sums add up."""
    mc, _ = int_inputs(state, st.columns(2), "mc", "mstep")
    mt = multichannel_conv2d_steps(*channel_demo(mc, state["seed"]))
    show(channels_figure(mt, state["mstep"] - 1), state.key("multi_fig"))
    st.caption("Each channel has its own 3×3 kernel slice (weights −1, 0, 1). One output cell = the channels' "
               "window sums added together (F.conv2d with a 1×C×3×3 weight).")


def pitfalls_tab(state: PageState) -> None:
    """The Pitfalls tab: skipped cells, lopsided 'same', checkerboards."""
    a, b = st.columns(2, gap="large")
    with a:
        st.subheader("1. Cells a stride never reads")
        un, uk, us, up = int_inputs(state, st.columns(4), "un", "uk", "us", "up")
        try:
            show(untouched_figure((un, un), untouched_inputs((un, un), uk, us, up), uk, up), state.key("untouched_fig"))
            st.caption(f"Windows start every {us} cells: rows/columns past the last one are dropped silently.")
        except ConfigError as err:
            show_error(err)
    with b:
        st.subheader("2. 'same' with an even kernel is lopsided")
        sk, sd = int_inputs(state, st.columns(2), "sk", "sd")
        lo, hi = same_padding_split(sk, sd)
        show(padding_figure((4, 4), lo, hi), state.key("padding_fig"))
        st.caption(f"d·(k−1) = {lo + hi} padding cells per axis: PyTorch puts {lo} top/left and {hi} "
                   "bottom/right, so the output is shifted by half a cell when they differ.")
    st.subheader("3. Checkerboards from transposed convolution")
    tk, ts = state["tk"], state["ts"]  # from the Transposed tab
    even = even_overlap_kernel(tk, ts)
    show(counts_figure({f"k={tk}, s={ts}": overlap_counts((4, 4), tk, ts),
                        f"k={even}, s={ts}": overlap_counts((4, 4), even, ts)}), state.key("counts_fig"))
    st.caption("Stamps per output cell for a 4×4 input (kernel and stride from the Transposed tab): uneven "
               "counts when k % s ≠ 0, an even interior when k is a multiple of s.")


def padding_modes_tab(state: PageState, x) -> None:
    """The Padding modes tab: the page's input and one kernel under zeros / reflect / replicate / circular."""
    c = st.columns([3, 2, 7])
    preset, pad = state.widget("emk", c[0]), state.widget("emp", c[1])
    try:
        w = kernel_preset(preset, 2 * pad + 1, state["seed"])
        results = padding_mode_outputs(x, w, pad)
        st.caption("Border mean − interior mean of each output (Δ):")
        for col, r in zip(st.columns(len(results)), results):
            col.metric(r.mode, f"{r.difference:+.3g}", help=f"Mean of the border ring (cells whose window reads "
                       f"padding) {r.border_mean:.4g} minus the interior mean {r.interior_mean:.4g}.")
        show_chart(padding_modes_figure(results), state.key("modes_fig"))
        st.latex(r"\Delta = \overline{y}_{\text{border}} - \overline{y}_{\text{interior}}, \qquad "
                 r"y = \mathrm{conv2d}(\mathrm{pad}(x,\ p,\ \text{mode}),\ w)")
        st.caption("What to notice: with zeros the ring (outside the dotted box) averages in 0s, so on a bright "
                   "input the border comes out darker (Δ < 0); reflect and replicate continue the image and keep "
                   "Δ near 0; circular brings in the opposite edge. Same interior in all four.")
    except ConfigError as err:
        show_error(err)
