"""Architecture Lab: presets, modern blocks compared, a per-layer summary, principles in numbers, export as code."""
import pandas as pd
import streamlit as st

from cnnviz import ConfigError
from cnnviz.architecture import builder as bld
from cnnviz.architecture import codegen as cg
from cnnviz.architecture import fmt_bytes, share, summarize, weight_sharing
from cnnviz.architecture.blocks.compare import compare_blocks
from cnnviz.architecture.blocks.scaling import compound_scaling
from cnnviz.figures.architecture import block_figure, rf_figure, scaling_figure, share_figure, weight_sharing_figure
from cnnviz.architecture.presets import PRESETS, build_preset
from cnnviz.ui import PageState, fmt_int, show_error

S = PageState("arch", dict(preset="Small ResNet", cin=32, cout=64, k=3, size=16, groups=4, red=4, phi=4, wc=3, ws=32,
                           wo=16, wk=3), options=dict(preset=tuple(PRESETS)),
              bounds=dict(cin=(1, 256), cout=(4, 256), k=(1, 9), size=(1, 64), groups=(1, 64), red=(1, 64),
                          phi=(0, 6), wc=(1, 64), ws=(3, 64), wo=(1, 64), wk=(1, 9)))
st.title("Architecture Lab")
st.caption("Where do a network's parameters and FLOPs go? Every count below is measured by PyTorch "
           "(FlopCounterMode, batch 1) and set next to its closed-form formula.")
scaling, blocks = st.cache_data(compound_scaling), st.cache_data(compare_blocks)  # pure: int arguments


@st.cache_data
def preset_summary(name):
    return summarize(*build_preset(name))


@st.cache_data
def stack_summary(text):
    layers, in_shape = cg.stack_from_json(text)
    return summarize(cg.build_stack(layers, in_shape), in_shape)


def builder_stack() -> tuple[list, tuple]:
    """The builder's (layers, in_shape): this session's, else the link's (``stack=``), else the example."""
    if S.key("stack") not in st.session_state:
        stack = (list(cg.EXAMPLE), cg.EXAMPLE_SHAPE)
        if "stack" in st.query_params:
            try:
                stack = bld.decode_stack(st.query_params["stack"])
            except ConfigError as err:
                S.notices.append(f"Ignored the link's stack ({err})")
        st.session_state[S.key("stack")] = stack
    return st.session_state[S.key("stack")]


def set_stack(layers, in_shape) -> None:
    """A new stack for this session and the URL (the example stays out of links)."""
    st.session_state[S.key("stack")] = (layers, tuple(in_shape))
    if (layers, tuple(in_shape)) == (cg.EXAMPLE, cg.EXAMPLE_SHAPE):
        st.query_params.pop("stack", None)
    else:
        try:
            st.query_params["stack"] = bld.encode_stack(layers, in_shape)
        except ConfigError:  # an invalid stack (shown below with its error) is not written to links
            st.query_params.pop("stack", None)
    st.rerun()  # the layer-number inputs take the new length


def layer_report(s):
    m = st.columns(4)
    m[0].metric("Parameters", fmt_int(s.total_params), help=f"{s.total_params:,} (shared weights counted once)")
    m[1].metric("FLOPs", fmt_int(s.total_flops), help=f"{s.total_flops:,} for one input (2 per multiply-add)")
    m[2].metric("Output shape", "×".join(map(str, s.out_shape)), help="Without the batch axis")
    m[3].metric("Activation memory", fmt_bytes(s.activation_bytes), help="All layer outputs for one input, float32")
    st.dataframe(pd.DataFrame(s.table()), hide_index=True, width="stretch", height=min(420, 36 * len(s.rows) + 40))
    if s.other_flops or s.other_params:
        st.caption(f"Outside the rows: {s.other_flops:,} FLOPs of functional ops (e.g. attention matmuls) and "
                   f"{s.other_params:,} parameters owned by containers (e.g. positional embeddings).")
    st.plotly_chart(share_figure(share(s.rows, "params"), share(s.rows, "flops")), width="stretch")
    return s


def num(col, label, name, help):
    return int(col.number_input(label, *S.bounds[name], key=S.key(name), help=help))


builder_stack()  # reads a shared link's stack now, so a bad one is noticed at the top
S.show_notices()
presets_tab, blocks_tab, build_tab, principles_tab = st.tabs(
    ["Presets", "Block comparison", "Builder + export", "Principles in numbers"])
with presets_tab:
    name = st.selectbox("Preset", tuple(PRESETS), key=S.key("preset"), help="A classic network or a modern block.")
    st.info(f"{PRESETS[name].about} Input: {'×'.join(map(str, PRESETS[name].in_shape))}.", icon=":material/info:")
    summary = layer_report(preset_summary(name))

with blocks_tab:
    c = st.columns(6)
    args = [num(c[0], "C_in", "cin", "Input channels of every block."),
            num(c[1], "C_out", "cout", "Output channels of every block."),
            num(c[2], "Kernel k", "k", "Odd kernel size of the k×k convs (ConvNeXt keeps its 7×7)."),
            num(c[3], "Size H = W", "size", "Spatial size of the input; stride 1, 'same' padding."),
            num(c[4], "Groups g", "groups", "Groups of the grouped conv; must divide C_in and C_out."),
            num(c[5], "SE reduction r", "red", "SE's hidden width is C_out / r.")]
    try:
        rows = blocks(*args)
        st.plotly_chart(block_figure(rows), width="stretch")
        st.dataframe(pd.DataFrame([dict(block=r.name, params=r.params, closed_form=r.formula_params,
                                        ratio_measured=round(r.ratio_measured, 4), ratio_formula=r.ratio_formula,
                                        ratio_closed_form=round(r.ratio_closed, 4), flops=r.flops,
                                        flops_ratio=round(r.flops_ratio, 4), what=r.note) for r in rows]),
                     hide_index=True, width="stretch")
    except ConfigError as err:
        show_error(err)

with build_tab:
    layers, in_shape = builder_stack()
    c = st.columns(6)
    cin = c[0].number_input("Input channels", 1, max(64, in_shape[0]), in_shape[0], help="C of the input (3: RGB).")
    size = c[1].number_input("Input size, each axis", 1, max(512, in_shape[1]), in_shape[1],
                             help="The length of every spatial axis (H = W, and D in 3-D).")
    if (cin, size) != (in_shape[0], in_shape[1]):
        set_stack(*bld.reshape_input(layers, in_shape, int(cin), int(size)))
    kind = c[2].selectbox("New layer", bld.KINDS, key=S.key("new"), help="What 'add' inserts or 'replace' puts in.")
    width = c[3].number_input("Channels / outputs", 1, 512, 16, key=S.key("width"),
                              help="Conv filters or linear outputs.", disabled=kind not in ("conv", "linear"))
    kernel = c[4].number_input("Kernel", 1, 11, 3 if kind == "conv" else 2, key=S.key(f"kernel_{kind}"),
                               help="k on every axis; convs pad k // 2.", disabled=kind not in ("conv", "pool"))
    stride = c[5].number_input("Stride", 1, 4, 1 if kind == "conv" else 2, key=S.key(f"stride_{kind}"),
                               help="Step of the window.", disabled=kind not in ("conv", "pool"))
    act = "relu"
    if kind in ("act", "norm"):
        options = tuple(cg.ACTIVATIONS) if kind == "act" else cg.NORMS
        act = st.radio("Kind", options, horizontal=True, key=S.key(f"kind_{kind}"))
    n = len(layers)
    for key, top in (("at", n + 1), ("to", max(1, n))):  # seeded here (the stack may have shrunk)
        st.session_state[S.key(key)] = min(st.session_state.get(S.key(key), top), top)
    c = st.columns([1, 1, 2, 1])
    at = int(c[0].number_input("At layer #", 1, n + 1, key=S.key("at"),
                               help="Position to insert at, or the layer to replace / move / remove."))
    last = int(c[1].number_input("…to layer #", 1, max(1, n), key=S.key("to"),
                                 help="With 'residual': wrap layers # … to # in x + f(x)."))
    op = c[2].selectbox("Action", ("add", "replace", "remove", "up", "down", "residual"), key=S.key("op"),
                        help="Insert, swap in the new layer, delete, move one place, or add a residual connection "
                             "around a group.")
    if c[3].button("Apply", icon=":material/play_arrow:", help="Apply the action to the stack."):
        try:
            new = bld.new_layer(kind, in_shape, int(width), int(kernel), int(stride), act=act, norm=act)
            i = at - 1
            set_stack(cg.rechain({"add": lambda: bld.insert(layers, i, new), "remove": lambda: bld.remove(layers, i),
                                  "replace": lambda: bld.replace(layers, i, new),
                                  "up": lambda: bld.move(layers, i, -1), "down": lambda: bld.move(layers, i, 1),
                                  "residual": lambda: bld.wrap(layers, i, last - 1)}[op](), in_shape), in_shape)
        except ConfigError as err:
            show_error(err)
    try:
        outs = cg.shapes(layers, in_shape)
        st.dataframe(pd.DataFrame(dict(layer=[bld.describe(x) for x in layers],  # numbered as "At layer #"
                                       output=["×".join(map(str, o)) for o in outs]),
                                  index=pd.RangeIndex(1, len(layers) + 1, name="#")), width="stretch")
        layer_report(stack_summary(cg.stack_to_json(layers, in_shape)))
        code = cg.to_code(layers, in_shape)
        st.code(code, language="python")
        d = st.columns(2)
        d[0].download_button("Download net.py", code, "net.py", icon=":material/download:", help="The code above.")
        d[1].download_button("Download stack.json", cg.stack_to_json(layers, in_shape), "stack.json",
                             icon=":material/data_object:", help="The stack in the spec format checkpoints use.")
    except ConfigError as err:
        show_error(err)
    text = st.text_area("Import a stack (JSON)", key=S.key("json"), help='{"in_shape": [3, 32, 32], "layers": [...]}')
    if st.button("Import", icon=":material/upload:", help="Replace the stack with this JSON.") and text:
        try:
            set_stack(*cg.stack_from_json(text))
        except ConfigError as err:
            show_error(err)

with principles_tab:
    st.subheader("Weight sharing")
    c = st.columns(4)
    wargs = [num(c[0], "Input channels", "wc", "C_in of the layer."), num(c[1], "Input size", "ws", "H = W."),
             num(c[2], "Output channels", "wo", "C_out of the layer."), num(c[3], "Kernel", "wk", "k×k, no padding.")]
    try:
        ws = weight_sharing((wargs[0], wargs[1], wargs[1]), wargs[2], wargs[3])
        st.markdown(f"Output {'×'.join(map(str, ws.out_shape))}: one kernel is reused at **{ws.positions:,}** positions; "
                    f"a fully connected layer needs **{ws.dense / ws.conv:,.0f}×** the parameters.")
        st.plotly_chart(weight_sharing_figure(ws), width="stretch")
    except ConfigError as err:
        show_error(err)
    st.subheader(f"Receptive field, layer by layer ({name})")
    pts = [(f"{r.name} ({r.kind})", r.receptive_field[0]) for r in summary.rows if isinstance(r.receptive_field, tuple)]
    if pts:
        st.plotly_chart(rf_figure(pts), width="stretch")
    else:
        st.info("No receptive field to follow in this preset.", icon=":material/info:")
    st.subheader("EfficientNet compound scaling: depth α^φ, width β^φ, resolution γ^φ (α=1.2, β=1.1, γ=1.15)")
    phi = st.slider("Largest φ", 0, 6, key=S.key("phi"), help="Compound coefficient: FLOPs should grow ≈ 2^φ.")
    scaled = scaling(phi)
    st.plotly_chart(scaling_figure(scaled), width="stretch")
    st.dataframe(pd.DataFrame([dict(phi=r.phi, depth_per_stage=r.depth, widths=str(r.widths), resolution=r.resolution,
                                    flops=r.flops, measured_ratio=round(r.ratio, 2), predicted=round(r.predicted, 2),
                                    two_to_phi=r.two_phi) for r in scaled]), hide_index=True, width="stretch")

S.sync_url()
