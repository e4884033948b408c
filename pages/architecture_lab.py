"""Architecture Lab: presets, modern blocks compared, a per-layer summary, principles in numbers, export as code."""
import pandas as pd
import streamlit as st

from cnnviz import ConfigError
from cnnviz import codegen as cg
from cnnviz.architecture import fmt_bytes, share, summarize, weight_sharing
from cnnviz.blocks.compare import compare_blocks
from cnnviz.blocks.scaling import compound_scaling
from cnnviz.figures.architecture import block_figure, rf_figure, scaling_figure, share_figure, weight_sharing_figure
from cnnviz.presets import PRESETS, build_preset
from cnnviz.ui import PageState, fmt_int, show_error

S = PageState("arch", dict(preset="Small ResNet", cin=32, cout=64, k=3, size=16, groups=4, red=4, phi=4, wc=3, ws=32,
                           wo=16, wk=3), options=dict(preset=tuple(PRESETS)),
              bounds=dict(cin=(1, 256), cout=(4, 256), k=(1, 9), size=(1, 64), groups=(1, 64), red=(1, 64),
                          phi=(0, 6), wc=(1, 64), ws=(3, 64), wo=(1, 64), wk=(1, 9)))
st.title("Architecture Lab")
st.caption("Where do a network's parameters and FLOPs go? Every count below is measured by PyTorch "
           "(FlopCounterMode, batch 1) and set next to its closed-form formula.")
S.show_notices()
scaling, blocks = st.cache_data(compound_scaling), st.cache_data(compare_blocks)  # pure: int arguments


@st.cache_data
def preset_summary(name):
    return summarize(*build_preset(name))


@st.cache_data
def stack_summary(text):
    layers, in_shape = cg.stack_from_json(text)
    return summarize(cg.build_stack(layers, in_shape), in_shape)


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
    stack = st.session_state.setdefault(S.key("stack"), (list(cg.EXAMPLE), cg.EXAMPLE_SHAPE))
    layers, in_shape = stack
    st.caption(f"Input {'×'.join(map(str, in_shape))}. Convs take their input channels from the layer before.")
    c = st.columns([2, 1, 1, 1, 1, 1])
    kind = c[0].selectbox("New layer", ("conv", "pool", "norm", "act", "linear"), key=S.key("new"),
                          help="conv 3×3 'same', max pool 2, batch norm, ReLU, or a linear layer with 10 outputs.")
    width = c[1].number_input("Channels / outputs", 1, 512, 16, key=S.key("width"), help="Conv filters or linear outputs.")
    n = len(layers)
    for key, top in (("at", n + 1), ("to", max(1, n))):  # seeded here (the stack may have shrunk)
        st.session_state[S.key(key)] = min(st.session_state.get(S.key(key), top), top)
    at = int(c[2].number_input("At layer #", 1, n + 1, key=S.key("at"),
                               help="Position to insert at, or the layer to move / remove."))
    last = int(c[3].number_input("…to layer #", 1, max(1, n), key=S.key("to"),
                                 help="With 'residual': wrap layers # … to # in x + f(x)."))
    op = c[4].selectbox("Action", ("add", "remove", "up", "down", "residual"), key=S.key("op"),
                        help="Insert, delete, move one place, or add a residual connection around a group.")
    new = dict(conv=cg.conv(in_shape[0], width, 3, dims=len(in_shape) - 1, padding=1), pool=cg.pool(2, len(in_shape) - 1),
               norm={"type": "norm", "kind": "batch"}, act={"type": "act", "kind": "relu"},
               linear={"type": "linear", "out_features": width, "bias": True})[kind]
    if c[5].button("Apply", icon=":material/play_arrow:", help="Apply the action to the stack."):
        try:
            i = at - 1
            layers = {"add": lambda: [*layers[:i], new, *layers[i:]], "remove": lambda: cg.remove(layers, i),
                      "up": lambda: cg.move(layers, i, -1), "down": lambda: cg.move(layers, i, 1),
                      "residual": lambda: cg.wrap(layers, i, last - 1)}[op]()
            st.session_state[S.key("stack")] = (cg.rechain(layers, in_shape), in_shape)
            st.rerun()
        except ConfigError as err:
            show_error(err)
    try:
        outs = cg.shapes(layers, in_shape)
        st.dataframe(pd.DataFrame(dict(layer=[cg.describe(x) for x in layers],
                                       output=["×".join(map(str, o)) for o in outs])), width="stretch")
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
            st.session_state[S.key("stack")] = cg.stack_from_json(text)
            st.rerun()
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
