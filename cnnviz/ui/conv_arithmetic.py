"""The Conv Arithmetic page's settings (each declared once: ``SETTINGS``) and panels: the window picker, the PyTorch badge, the FLOPs/MACs figure with its
switch, the gridding coverage map of a dilated stack, and the TF/Keras ``padding="same"`` with stride > 1 tab."""
from __future__ import annotations

import functools

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.figures.conv_grid import tf_same_figure
from cnnviz.figures.edges import coverage_figure
from cnnviz.geometry.arithmetic import POOL_KINDS, ConvGeometry, conv_geometry
from cnnviz.geometry.gridding import coverage, unreached_formula, with_rates
from cnnviz.geometry.formulas import Formula, conv_flops_formula, conv_macs_formula, tf_same_formulas
from cnnviz.geometry.padding import tf_same_length_in_pytorch, tf_same_padding
from cnnviz.geometry.verify import check_with_pytorch
from cnnviz.ui.presenter import columns, presenting
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import MACS, fmt_int, padding_settings, show_chart, show_error, show_formulas

V3 = lambda v: (v, v, v)  # noqa: E731 - per-axis defaults for up to three axes
SETTINGS = dict(
    dims=Setting(2, "Dimensions", "1-D for sequences (audio, text), 2-D for images, 3-D for video or volumes.",
                 options=(1, 2, 3), widget="radio"),
    cin=Setting(3, "Input channels", "C_in: e.g. 3 for an RGB image.", (1, 512)),
    size=Setting(V3(7), "Input size", "Spatial size of the input along this axis.", (1, 512)),
    same=Setting(True, "Same value on every axis", "Off: set each spatial axis separately."),
    cout=Setting(8, "Output channels", "C_out: number of filters.", (1, 512)),
    k=Setting(V3(3), "Kernel", "Kernel size k: the window's extent.", (1, 31)),
    s=Setting(V3(1), "Stride", "Stride s: how far the window moves per step.", (1, 16)),
    d=Setting(V3(1), "Dilation", "Dilation d: gaps between kernel taps.", (1, 16)),
    **padding_settings(("pad", "numbers"), ("p", V3(1), "Padding", "Cells added on each side of the input.", (0, 64)),
                       ("mode", "zeros", "What the padding ring holds: zeros, a mirror image, the edge value, or a wrap.")),
    groups=Setting(1, "Groups", "Split channels into g independent groups; g = C_in is depthwise.", (1, 512)),
    bias=Setting(True, "Bias", "One learned offset per output channel."),
    tr=Setting(False, "Transposed", "Transposed conv ('deconvolution'): upsamples."),
    op=Setting(V3(0), "Output padding", "Extra cells on one side of a transposed conv's output; must be smaller than "
               "stride or dilation.", (0, 15)),
    pkind=Setting("max", "Kind", "Max keeps the largest value; avg the mean.", options=POOL_KINDS, widget="radio"),
    pk=Setting(V3(2), "Pool kernel", "Window size.", (1, 31)),
    ps=Setting(V3(2), "Pool stride", "Step between windows (PyTorch's default: k).", (1, 16)),
    pp=Setting(V3(0), "Pool padding", "At most half the kernel.", (0, 16)),
    pd=Setting(V3(1), "Pool dilation", "Gaps between taps (max pooling only).", (1, 16)),
    ceil=Setting(False, "ceil_mode", "Round up: keep a last, partial window."),
    stack="3-1-1;3-1-1;3-2-1", macs=MACS,
    hyb=Setting("1,2,3", "Compare: dilations", "The same kernels and strides with these dilation rates, one per layer, "
                "first first, e.g. 1,2,3 (hybrid dilated convolution)."),
    tfl=Setting(8, "Length L", "Input size along this axis.", (1, 64)),
    tfk=Setting(3, "Kernel k", "Kernel size along this axis.", (1, 15)),
    tfs=Setting(2, "Stride s", "Try 2: PyTorch refuses 'same'.", (1, 8)),
    tfd=Setting(1, "Dilation d", "Gaps between kernel taps.", (1, 8)))

def window_picker(out_spatial, key):
    """Which output cell's window the picture shows (row-major over the last two axes)."""
    rows, cols = (1, *out_spatial)[-2:]
    if rows * cols == 1:
        return (0, 0)
    i = st.slider("Window position", 0, rows * cols - 1, 0, key=key,
                  help="Slide the kernel over the input: which output cell's window to draw.")
    return divmod(i, cols)


@functools.lru_cache(maxsize=1024)
def _verdict(spec, in_shape: tuple, shape: tuple, flops: int):
    return check_with_pytorch(spec, in_shape, shape, flops)


def badge(spec, in_shape, shape, g: ConvGeometry | None = None):
    """PyTorch's own verdict on this layer (shape, and FLOPs for a conv ``g``): green when it agrees. One real
    PyTorch run per layer setting and server, not per rerun (most of the page's server time otherwise): the spec is a frozen dataclass and the verdict a frozen ``Check``, safe to share."""
    args = (spec, tuple(in_shape), tuple(shape), conv_flops_formula(g).value if g is not None else 0)
    try:
        check = _verdict(*args)
    except TypeError:  # an unhashable field: run it uncached
        check = check_with_pytorch(*args)
    show = st.success if check.agrees else st.info if not check.ran else st.warning
    show(check.message, icon=":material/check_circle:" if check.agrees else None)


def compute_formula(g: ConvGeometry, macs: bool) -> Formula:
    return conv_macs_formula(g) if macs else conv_flops_formula(g)


def compute_metric(col, f: Formula) -> None:
    what = ("multiply-accumulates: FLOPs / 2" if f.label == "MACs" else
            "2 per multiply-add, as torch.utils.flop_counter counts them (bias adds not counted)")
    col.metric(f.label, fmt_int(f.value), help=f"{f.value:,} {what}")


def tf_same_panel(S: PageState) -> None:
    """TF/Keras padding="same" on one axis, for any stride: what PyTorch does, and the padding that matches TF."""
    st.caption("TensorFlow/Keras `padding=\"same\"` picks the output size first, ⌈L/s⌉, and pads just enough for "
               "it, the odd extra cell after. PyTorch's `padding='same'` works only with stride 1. One axis here.")
    c = st.columns(4)
    size, k, s, d = (int(S.widget(name, col)) for name, col in zip(("tfl", "tfk", "tfs", "tfd"), c))
    try:
        before, after, out = tf_same_padding(size, k, s, d)
        m = st.columns(4)
        m[0].metric("TF output length", out, help="⌈L / s⌉: 'same' means 'the size divided by the stride'.")
        m[1].metric("Pad before", before, help="⌊total / 2⌋")
        m[2].metric("Pad after", after, help="total − before: the odd extra cell goes after (TF's rule).")
        try:
            g = conv_geometry((1, size), 1, k, s, "same", d)
            m[3].metric("PyTorch 'same' length", g.spatial_out[0], help="nn.Conv1d(..., padding='same')")
            st.success(f"Stride 1: PyTorch's padding='same' pads ({g.pad_lo[0]}, {g.pad_hi[0]}), the same as TF.",
                       icon=":material/check_circle:")
        except ConfigError as err:
            m[3].metric("PyTorch 'same' length", "refused", help=str(err))
            st.warning(f"PyTorch refuses padding='same' with stride {s} ({err}). Pad explicitly instead: "
                       f"F.pad(x, ({before}, {after})), then the convolution with padding=0.",
                       icon=":material/block:")
        if s > 1 and d > 1:
            st.info("Keras itself refuses strides > 1 together with dilation_rate > 1; the same rule with both is "
                    "ONNX's auto_pad='SAME_UPPER'.", icon=":material/info:")
        st.code(f"x = F.pad(x, ({before}, {after}))  # TF 'same': {before} before, {after} after\n"
                f"y = nn.Conv1d(c_in, c_out, kernel_size={k}, stride={s}, dilation={d})(x)  # length {out}",
                language="python")
        length = tf_same_length_in_pytorch(size, k, s, d)
        (st.success if length == out else st.warning)(
            f"Checked by PyTorch: F.pad then F.conv1d gives length {length}" + (" = ⌈L/s⌉." if length == out else
                                                                                 f", not {out}."))
        left, right = st.columns([2, 3])
        with left:
            show_formulas(tf_same_formulas(size, k, s, d))
        show_chart(tf_same_figure(size, before, after, k, s, d, out), S.key("tf_fig"), right)
    except ConfigError as err:
        show_error(err)


def gridding_panel(S: PageState, layers: list[dict]) -> None:
    """The gridding artifact: which cells of one output's receptive field the stack ever reads (path counts),
    next to the same kernels and strides with the dilation rates typed in ``rates`` (default 1,2,3)."""
    st.subheader("Gridding: holes in a dilated receptive field")
    first = st.container() if presenting() else None  # presenter mode: the map first, under the heading
    st.caption("Same dilation rate in every layer (try 3-1-2 three times) reads only every other cell: the "
               "receptive field is a checkerboard. Hybrid rates (1, 2, 3) fill the holes.")
    rates = S.widget("hyb")
    try:
        mine = coverage(layers)
        other = coverage(with_rates(layers, rates))
        r, norm = mine.receptive_field, ",".join(str(l["dilation"]) for l in other.layers)
        name = norm if len(norm) <= 9 else "compare"  # presenter mode: a short label
        m = columns(3, 1)  # presenter mode: one under the other, under the map (whole labels in its column)
        m[0].metric("Unreached (your stack)", f"{mine.unreached2d} of {r * r}",
                    help=f"Cells of the {r}×{r} receptive field no path reaches; {mine.unreached} of {r} on one axis")
        m[1].metric(f"Unreached ({name})", f"{other.unreached2d} of {other.receptive_field ** 2}",
                    help=f"Dilations {norm}: {other.unreached} of {other.receptive_field} on one axis")
        m[2].metric("Most paths to a cell", f"{max(mine.counts) ** 2:,}", help="The most paths into one input cell "
                    "(2-D); with all weights 1 this is d output / d input, as the tests check with PyTorch.")
        show_chart(coverage_figure({"your stack": mine, f"dilations {name}": other}), S.key("grid_fig"), first)
        show_formulas([unreached_formula(mine)])  # full width: one term per layer
        st.caption("What to notice: with equal rates every path moves in steps of the rate, so the cells between "
                   "are never read (✕); the receptive field looks big but has holes. Numbers: paths from that "
                   "input cell to the output cell (one axis's counts multiplied, the same stack on both axes).")
    except ConfigError as err:
        show_error(err)
