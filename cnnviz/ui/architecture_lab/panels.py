"""The Architecture Lab's panels: the per-layer report (totals, table, shares) that the presets and the builder
both show, the FLOPs/MACs switch, and the Builder + export tab with its URL-backed stack (``stack=`` in links),
where every action leaves a valid network or is refused with the reason, and Undo steps back."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnviz.architecture import builder as bld
from cnnviz.architecture import codegen as cg
from cnnviz.architecture import tables
from cnnviz.architecture.blocks.compare import compare_blocks
from cnnviz.architecture.blocks.scaling import compound_scaling
from cnnviz.architecture.presets import PRESETS, build_preset
from cnnviz.architecture.summary import fmt_bytes, share, summarize
from cnnviz.errors import ConfigError
from cnnviz.figures.architecture import share_figure
from cnnviz.geometry.padding import macs_from_flops
from cnnviz.inside.names import layer_titles
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import MACS, fmt_int, show_chart, show_error

SETTINGS = dict(  # the Presets, Block comparison and Principles tabs' controls and the MACs switch, declared once
    macs=MACS,
    preset=Setting("Small ResNet", "Preset", "A classic network or a modern block.", options=tuple(PRESETS)),
    cin=Setting(32, "C_in", "Input channels of every block.", (1, 256)),
    cout=Setting(64, "C_out", "Output channels of every block.", (4, 256)),
    k=Setting(3, "Kernel k", "Odd kernel size of the k×k convs (ConvNeXt keeps its 7×7).", (1, 9)),
    size=Setting(16, "Size H = W", "Spatial size of the input; stride 1, 'same' padding.", (1, 64)),
    groups=Setting(4, "Groups g", "Groups of the grouped conv; must divide C_in and C_out.", (1, 64)),
    red=Setting(4, "SE reduction r", "SE's hidden width is C_out / r.", (1, 64)),
    wc=Setting(3, "Input channels", "C_in of the layer.", (1, 64)),
    ws=Setting(32, "Input size", "H = W.", (3, 64)),
    wo=Setting(16, "Output channels", "C_out of the layer.", (1, 64)),
    wk=Setting(3, "Kernel", "k×k, no padding.", (1, 9)),
    phi=Setting(4, "Largest φ", "Compound coefficient: FLOPs should grow ≈ 2^φ.", (0, 6), widget="slider"))

scaling, blocks = st.cache_data(compound_scaling), st.cache_data(compare_blocks)  # pure: int arguments


@st.cache_data
def preset_summary(name):
    """``summarize`` of a preset and its layers' readable names (cached: the same for every session)."""
    model, in_shape = build_preset(name)
    return summarize(model, in_shape), layer_titles(model)


@st.cache_data
def stack_summary(text):
    """``summarize`` of a builder stack, by its JSON (hashable), and its layers' readable names."""
    layers, in_shape = cg.stack_from_json(text)
    model = cg.build_stack(layers, in_shape)
    return summarize(model, in_shape), layer_titles(model)


def builder_stack(S: PageState) -> tuple[list, tuple]:
    """The builder's (layers, in_shape): this session's, else the link's (``stack=``), else the example."""
    if S.key("stack") not in st.session_state:
        stack = (list(cg.EXAMPLE), cg.EXAMPLE_SHAPE)
        if "stack" in st.query_params:
            try:
                stack = bld.decode_stack(st.query_params["stack"])
            except ConfigError as err:  # shown as plain text by show_notices
                S.notices.append(f"Ignored the link's stack ({err})")
            except Exception as err:  # noqa: BLE001 - no link may crash the page, whatever decoding raises
                S.notices.append(f"Ignored the link's stack (not readable: {type(err).__name__})")
        st.session_state[S.key("stack")] = stack
    return st.session_state[S.key("stack")]


UNDO_STEPS = 20  # previous stacks kept per session for Undo


def set_stack(S: PageState, layers, in_shape, undoable: bool = True) -> None:
    """A new stack for this session and the URL (the example stays out of links); the old one goes on the
    Undo history."""
    if undoable:
        history = st.session_state.setdefault(S.key("history"), [])
        history.append(st.session_state[S.key("stack")])
        del history[:-UNDO_STEPS]
    st.session_state[S.key("stack")] = (layers, tuple(in_shape))
    if (layers, tuple(in_shape)) == (cg.EXAMPLE, cg.EXAMPLE_SHAPE):
        st.query_params.pop("stack", None)
    else:
        try:
            st.query_params["stack"] = bld.encode_stack(layers, in_shape)
        except ConfigError:  # an invalid stack (shown below with its error) is not written to links
            st.query_params.pop("stack", None)
    st.rerun()  # the layer-number inputs take the new length


def as_compute(flops: int, macs: bool) -> int:
    """FLOPs as counted here, or MACs = FLOPs / 2 when the switch is on."""
    return macs_from_flops(flops) if macs else flops


def table(rows: list[dict], formats: dict[str, str], **kwargs) -> None:
    """A table of ``cnnviz.architecture.tables`` rows: numbers stay numbers (they sort as numbers), shown in
    ``formats`` (printf style: "%,d" = 884,736)."""
    df = pd.DataFrame(rows)
    config = {h: st.column_config.NumberColumn(h, format=f) for h, f in formats.items() if h in df}
    st.dataframe(df, column_config=config, hide_index=True, width="stretch", **kwargs)


def layer_report(report, key: str, macs: bool = False):
    """Totals, the per-layer table and where parameters and FLOPs (or MACs) go, for one ``(summary, titles)``
    (``key``: its chart); returns the summary."""
    s, titles = report
    m = st.columns(4)
    m[0].metric("Parameters", fmt_int(s.total_params), help=f"{s.total_params:,} (shared weights counted once)")
    total = as_compute(s.total_flops, macs)
    m[1].metric("MACs" if macs else "FLOPs", fmt_int(total),
                help=f"{total:,} for one input ({'FLOPs / 2' if macs else '2 per multiply-add'})")
    m[2].metric("Output shape", "×".join(map(str, s.out_shape)), help="Without the batch axis")
    m[3].metric("Activation memory", fmt_bytes(s.activation_bytes), help="All layer outputs for one input, float32")
    # the picture first (a projector shows it without scrolling), then the table with every layer's numbers
    flops = [(k, as_compute(v, macs)) for k, v in share(s.rows, "flops")]
    show_chart(share_figure(share(s.rows, "params"), flops, "MACs" if macs else "FLOPs"), key)
    table(tables.layer_rows(s, titles, macs), tables.layer_formats(macs), height=min(420, 36 * len(s.rows) + 40))
    if s.other_flops or s.other_params:
        st.caption(f"Outside the rows: {as_compute(s.other_flops, macs):,} {'MACs' if macs else 'FLOPs'} of functional "
                   f"ops (e.g. attention matmuls) and "
                   f"{s.other_params:,} parameters owned by containers (e.g. positional embeddings).")
    return s


def builder_tab(S: PageState, macs: bool = False) -> None:
    """The Builder + export tab: edit a layer stack, see its summary, export it as code or JSON."""
    layers, in_shape = builder_stack(S)
    c = st.columns(6)
    cin = c[0].number_input("Input channels", 1, max(64, in_shape[0]), in_shape[0], help="C of the input (3: RGB).")
    size = c[1].number_input("Input size, each axis", 1, max(512, in_shape[1]), in_shape[1],
                             help="The length of every spatial axis (H = W, and D in 3-D).")
    if (cin, size) != (in_shape[0], in_shape[1]):
        try:
            new, shape = bld.reshape_input(layers, in_shape, int(cin), int(size))
            cg.shapes(new, shape)
            cg.check_budget(new, shape)
            set_stack(S, new, shape)
        except ConfigError as err:  # refused: the previous network stays
            show_error(err)
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
    for key, top, start in (("at", n + 1, bld.default_position(layers)), ("to", max(1, n), max(1, n))):
        st.session_state[S.key(key)] = min(st.session_state.get(S.key(key), start), top)  # the stack may shrink
    c = st.columns([1, 1, 2, 1, 1])
    at = int(c[0].number_input("At layer #", 1, n + 1, key=S.key("at"),
                               help="Position to insert at, or the layer to replace / move / remove."))
    last = int(c[1].number_input("…to layer #", 1, max(1, n), key=S.key("to"),
                                 help="With 'residual': wrap layers # … to # in x + f(x)."))
    op = c[2].selectbox("Action", bld.OPS, key=S.key("op"),
                        help="Insert, swap in the new layer, delete, move one place, or add a residual connection "
                             "around a group.")
    if c[3].button("Apply", icon=":material/play_arrow:", help="Apply the action to the stack."):
        try:
            new = bld.new_layer(kind, in_shape, int(width), int(kernel), int(stride), act=act, norm=act)
            set_stack(S, bld.apply(op, layers, in_shape, at - 1, last - 1, new), in_shape)
        except ConfigError as err:  # refused with the reason: the previous network stays
            show_error(err)
    history = st.session_state.get(S.key("history"), [])
    if c[4].button("Undo", icon=":material/undo:", disabled=not history, key=S.key("undo"),
                   help=f"Back to the stack before the last change ({len(history)} step(s) kept, up to {UNDO_STEPS})."):
        set_stack(S, *history.pop(), undoable=False)
    try:
        outs = cg.shapes(layers, in_shape)
        st.dataframe(pd.DataFrame({"Layer": [bld.describe(x) for x in layers],  # numbered as "At layer #"
                                   "Output shape": ["×".join(map(str, o)) for o in outs]},
                                  index=pd.RangeIndex(1, len(layers) + 1, name="#")), width="stretch")
        layer_report(stack_summary(cg.stack_to_json(layers, in_shape)), S.key("builder_share_fig"), macs)
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
            new, shape = cg.stack_from_json(text)
            cg.check_budget(new, shape)
            set_stack(S, new, shape)
        except ConfigError as err:
            show_error(err)
