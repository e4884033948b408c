"""The Conv Animation page's repeated blocks: the step picker and metrics above an animation, rows of bounded
number inputs, and the tabs past Convolution and Pooling (1-D, 3-D, Transposed, Multi-channel, Padding modes, Pitfalls).
Widget keys come from the page's ``PageState``; every number is computed by cnnviz.animation."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.animation.extra import center_crop, channel_demo, conv_transpose2d_steps, even_overlap_kernel, \
    multichannel_conv2d_steps, overlap_counts, same_padding_split, untouched_inputs
from cnnviz.animation.conv2d import KERNEL_PRESETS, kernel_preset
from cnnviz.animation.padding_modes import padding_mode_outputs
from cnnviz.animation.nd import (KERNELS_1D, ND_BOUNDS, ND_DEFAULTS, SIGNALS, conv1d_steps, conv3d_plane_steps, kernel_1d,
                                signal_input, volume_demo)
from cnnviz.errors import ConfigError
from cnnviz.figures.animation import SPEED_MS, animation_figure
from cnnviz.figures.edges import padding_modes_figure
from cnnviz.figures.animation_extra import channels_figure, counts_figure, padding_figure, transposed_figure, \
    untouched_figure
from cnnviz.ui.state import PageState
from cnnviz.ui.widgets import padding_inputs, padding_settings, show_chart, show_error


def padding_trios(defaults: dict) -> dict:
    """The declarations of the two Padding / Pad / Padding-mode trios: the Convolution tab's and the 1-D tab's
    (their defaults are the engine's: ``cnnviz.animation.DEFAULTS`` and ``ND_DEFAULTS``)."""
    return (padding_settings(("pad", defaults["pad"]), ("padding", defaults["padding"], "Pad", "Cells added on each side.",
                                                        (0, 4)),
                             ("mode", defaults["mode"], "What the ring holds: zeros, a mirror image, the edge value, or "
                              "a wrap-around.")) |
            padding_settings(("pad1", ND_DEFAULTS["pad1"]), ("p1", ND_DEFAULTS["p1"], "Pad", "Samples added at each end.",
                                                             ND_BOUNDS["p1"]),
                             ("m1", ND_DEFAULTS["m1"], "What the added samples hold: zeros, a mirror image, the end "
                              "value, or a wrap-around."), what="length"))


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
    step = cols[0].number_input("Show step", 1, n, key=state.key(step_key),
                                help="Step forward / back with + and −; Play in the figure runs from here.")
    shape = str(steps.out_shape[1]) if one_d else "×".join(map(str, steps.out_shape))
    cols[1].metric("Output", shape, help="output length" if one_d else "rows × columns of the output")
    cols[2].metric("Steps", n, help="one per output cell")
    # the step's cell and value are the figure's title: its frames rewrite it while Play runs
    show_chart(animation_figure(steps, step - 1, SPEED_MS[state["speed"]]), state.key(step_key + "_fig"), theme=None,
               config=dict(displayModeBar=False))


def ints(state: PageState, names_labels, helps) -> list:
    """A row of number inputs, one per (state name, label), bounded by the page state's bounds."""
    cols = st.columns(len(names_labels))
    return [col.number_input(lab, *state.bounds[n], key=state.key(n), help=h)
            for col, (n, lab), h in zip(cols, names_labels, helps)]


def show(fig, key: str) -> None:
    """A figure at its own size, without the mode bar."""
    show_chart(fig, key, width="content", theme=None, config=dict(displayModeBar=False))


def one_d_tab(state: PageState) -> None:
    """The 1-D tab: a signal, a kernel, F.conv1d step by step."""
    # two rows of controls: in one row of nine, 'moving average' (1400 px) and 'difference' (presenter mode) were cut
    c = [*st.columns([4, 2, 3, 2, 2]), *st.columns([2, 3, 2, 3, 3])]
    sig = c[0].radio("Signal", SIGNALS, key=state.key("sig"), horizontal=True,
                     help="A noisy sine, a step, seeded integers (the Seed of the input row above), or your numbers.")
    if sig == "typed":
        c[1].text_input("Numbers", key=state.key("stext"), help="Up to 32 numbers, separated by spaces.")
    else:
        c[1].number_input("Length L", 1, 32, key=state.key("slen"), help="How many samples.")
    k1 = c[2].selectbox("Kernel", KERNELS_1D, key=state.key("k1"),
                        help="Difference: finds edges. Moving average and gaussian: smooth. Edit the numbers below.")
    k1n = c[3].number_input("Size k", 1, 9, key=state.key("k1n"), help="Kernel length.")
    s1 = c[4].number_input("Stride", 1, 4, key=state.key("s1"), help="How far the window moves per step.")
    d1 = c[5].number_input("Dilation", 1, 4, key=state.key("d1"), help="Gaps between kernel taps.")
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
    vd, vkd, vs, vp, vz, vstep = ints(state, 
        [("vd", "Volume depth D"), ("vkd", "Kernel depth"), ("vs", "Stride"), ("vp", "Padding"),
         ("vz", "Output plane"), ("vstep", "Show step")],
        ["Slices of the D×4×4 input (seeded numbers 0–9).", "k_d: how many slices one output cell reads "
         "(the kernel is k_d×3×3).", "The same on every axis.", "Zero padding on every side, depth included.",
         "Which output depth plane (+ / − to step).", "Which output cell of that plane."])
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
    tn, tk, ts, tp, top, _ = ints(state, 
        [("tn", "Input n×n"), ("tk", "Kernel k"), ("ts", "Stride"), ("tp", "Padding"), ("top", "output_padding"),
         ("tstep", "Show stamp")], ["The central n×n of the input.", "k×k kernel of ones: a stamp is the input "
        "value.", "Stamps are s cells apart.", "Crops p cells off each side of the output.", "Extra cells at the "
        "bottom / right (< stride).", "Which input cell stamps now (+ / − to step)."])
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
    mc, _ = ints(state, [("mc", "Input channels"), ("mstep", "Show step")],
                 ["C: one kernel slice per channel; their sums add up.", "Which output cell (+ / − to step)."])
    mt = multichannel_conv2d_steps(*channel_demo(mc, state["seed"]))
    show(channels_figure(mt, state["mstep"] - 1), state.key("multi_fig"))
    st.caption("Each channel has its own 3×3 kernel slice (weights −1, 0, 1). One output cell = the channels' "
               "window sums added together (F.conv2d with a 1×C×3×3 weight).")


def pitfalls_tab(state: PageState) -> None:
    """The Pitfalls tab: skipped cells, lopsided 'same', checkerboards."""
    a, b = st.columns(2, gap="large")
    with a:
        st.subheader("1. Cells a stride never reads")
        un, uk, us, up = ints(state, [("un", "Input n×n"), ("uk", "Kernel k"), ("us", "Stride"), ("up", "Padding")],
                              ["Input size.", "Kernel size.", "Window step.", "Zero padding on each side."])
        try:
            show(untouched_figure((un, un), untouched_inputs((un, un), uk, us, up), uk, up), state.key("untouched_fig"))
            st.caption(f"Windows start every {us} cells: rows/columns past the last one are dropped silently.")
        except ConfigError as err:
            show_error(err)
    with b:
        st.subheader("2. 'same' with an even kernel is lopsided")
        sk, sd = ints(state, [("sk", "Kernel k"), ("sd", "Dilation")], ["Try 4 vs 3.", "d·(k−1) odd → uneven padding."])
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
    preset = c[0].selectbox("Kernel", KERNEL_PRESETS, key=state.key("emk"),
                            help="Blur shows it best: a zero ring pulls the border average down.")
    pad = c[1].number_input("Pad", 1, 3, key=state.key("emp"), help="Cells added on each side; blur and identity "
                            "kernels are (2·pad+1)×(2·pad+1), so the output keeps the input's size.")
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
