"""Architecture Lab: presets, modern blocks compared and drawn, a per-layer summary, principles in numbers, a builder
with export as code, and a tiny architecture search under a FLOPs budget."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.architecture import tables, weight_sharing
from cnnviz.architecture.search import SearchConfig
from cnnviz.architecture.presets import PRESETS
from cnnviz.figures.architecture import block_figure, rf_figure, scaling_figure, weight_sharing_figure
from cnnviz.jobs import get_local_runner
from cnnviz.ui import MACS, PageState, columns, macs_toggle, show_chart, show_error
from cnnviz.ui.architecture_lab import panels, search as search_panels, views

S = PageState("arch", dict(preset="Small ResNet", cin=32, cout=64, k=3, size=16, groups=4, red=4, phi=4, wc=3, ws=32,
                           wo=16, wk=3, macs=MACS, nas="evolution", nbud=0.3, ntr=8, **views.DEFAULTS),
              options=dict(preset=tuple(PRESETS), nas=search_panels.STRATEGIES, nbud=search_panels.BUDGETS,
                           **views.OPTIONS),
              bounds=dict(cin=(1, 256), cout=(4, 256), k=(1, 9), size=(1, 64), groups=(1, 64), red=(1, 64),
                          phi=(0, 6), wc=(1, 64), ws=(3, 64), wo=(1, 64), wk=(1, 9), ntr=(1, 12), **views.BOUNDS))
st.title("Architecture Lab")
st.caption("Where do a network's parameters and FLOPs go? Every count below is measured by PyTorch "
           "(FlopCounterMode, batch 1) and set next to its closed-form formula.")


def num(col, label, name, help):
    return int(col.number_input(label, *S.bounds[name], key=S.key(name), help=help))


panels.builder_stack(S)  # reads a shared link's stack now, so a bad one is noticed at the top
S.show_notices()
macs = macs_toggle(S)  # the Conv Arithmetic page's switch: every FLOPs figure below then counts MACs = FLOPs / 2
unit = "MACs" if macs else "FLOPs"
presets_tab, blocks_tab, drawn_tab, build_tab, principles_tab, search_tab = S.tabs(  # only the open tab runs
    ["Presets", "Block comparison", "Blocks drawn", "Builder + export", "Principles in numbers", "Search (NAS)"])
name = S["preset"]
if presets_tab.open:
    with presets_tab:
        c = columns([1, 2], [1, 1], vertical_alignment="bottom")  # presenter mode: room for the longest preset name
        name = c[0].selectbox("Preset", tuple(PRESETS), key=S.key("preset"), help="A classic network or a modern block.")
        c[1].info(f"{PRESETS[name].about} Input: {'×'.join(map(str, PRESETS[name].in_shape))}.", icon=":material/info:")
        panels.layer_report(panels.preset_summary(name), S.key("preset_share_fig"), macs)

if blocks_tab.open:
    with blocks_tab:
        c = st.columns(6)
        args = [num(c[0], "C_in", "cin", "Input channels of every block."),
                num(c[1], "C_out", "cout", "Output channels of every block."),
                num(c[2], "Kernel k", "k", "Odd kernel size of the k×k convs (ConvNeXt keeps its 7×7)."),
                num(c[3], "Size H = W", "size", "Spatial size of the input; stride 1, 'same' padding."),
                num(c[4], "Groups g", "groups", "Groups of the grouped conv; must divide C_in and C_out."),
                num(c[5], "SE reduction r", "red", "SE's hidden width is C_out / r.")]
        try:
            rows = panels.blocks(*args)
            show_chart(block_figure(rows, [panels.as_compute(r.flops, macs) for r in rows], unit), S.key("block_fig"))
            panels.table(tables.block_rows(rows, macs), tables.block_formats(macs))
        except ConfigError as err:
            show_error(err)

if drawn_tab.open:
    with drawn_tab:
        views.blocks_drawn_tab(S, macs)

if build_tab.open:
    with build_tab:
        panels.builder_tab(S, macs)

if principles_tab.open:
    with principles_tab:
        st.subheader("Weight sharing")
        c = st.columns(4)
        wargs = [num(c[0], "Input channels", "wc", "C_in of the layer."), num(c[1], "Input size", "ws", "H = W."),
                 num(c[2], "Output channels", "wo", "C_out of the layer."), num(c[3], "Kernel", "wk", "k×k, no padding.")]
        try:
            ws = weight_sharing((wargs[0], wargs[1], wargs[1]), wargs[2], wargs[3])
            st.markdown(f"Output {'×'.join(map(str, ws.out_shape))}: one kernel is reused at **{ws.positions:,}** positions; "
                        f"a fully connected layer needs **{ws.dense / ws.conv:,.0f}×** the parameters.")
            show_chart(weight_sharing_figure(ws), S.key("ws_fig"))
        except ConfigError as err:
            show_error(err)
        summary = panels.preset_summary(name)[0]
        st.subheader(f"Receptive field, layer by layer ({name})")
        pts = [(f"{r.name} ({r.kind})", r.receptive_field[0]) for r in summary.rows if isinstance(r.receptive_field, tuple)]
        if pts:
            show_chart(rf_figure(pts), S.key("rf_fig"))
        else:
            st.info("No receptive field to follow in this preset.", icon=":material/info:")
        st.subheader("EfficientNet compound scaling: depth α^φ, width β^φ, resolution γ^φ (α=1.2, β=1.1, γ=1.15)")
        phi = st.slider("Largest φ", 0, 6, key=S.key("phi"), help="Compound coefficient: FLOPs should grow ≈ 2^φ.")
        scaled = panels.scaling(phi)
        show_chart(scaling_figure(scaled), S.key("scaling_fig"))
        panels.table(tables.scaling_rows(scaled, macs), tables.scaling_formats(macs))

if search_tab.open:
    with search_tab:
        search_panels.search_tab(S, get_local_runner((SearchConfig,)), macs)  # like distillations: this server's runner, also with Ray

S.sync_url()
