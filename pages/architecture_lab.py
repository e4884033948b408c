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
from cnnviz.ui import PageState, columns, macs_toggle, show_chart, show_error
from cnnviz.ui.architecture_lab import SETTINGS, panels, search as search_panels, train_panel, views
from cnnviz.ui.widgets import int_inputs

S = PageState("arch", SETTINGS)
st.title("Architecture Lab")
st.caption("Where do a network's parameters and FLOPs go? Every count below is measured by PyTorch "
           "(FlopCounterMode, batch 1) and set next to its closed-form formula.")


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
        name = S.widget("preset", c[0])
        c[1].info(f"{PRESETS[name].about} Input: {'×'.join(map(str, PRESETS[name].in_shape))}.", icon=":material/info:")
        panels.layer_report(panels.preset_summary(name), S.key("preset_share_fig"), macs)

if blocks_tab.open:
    with blocks_tab:
        c = st.columns(6)
        args = int_inputs(S, c, "cin", "cout", "k", "size", "groups", "red")
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
        train_panel(S)  # check the stack against a data set, fit it, or open the Training Lab with it

if principles_tab.open:
    with principles_tab:
        st.subheader("Weight sharing")
        c = st.columns(4)
        wargs = int_inputs(S, c, "wc", "ws", "wo", "wk")
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
        phi = S.widget("phi")
        scaled = panels.scaling(phi)
        show_chart(scaling_figure(scaled), S.key("scaling_fig"))
        panels.table(tables.scaling_rows(scaled, macs), tables.scaling_formats(macs))

if search_tab.open:
    with search_tab:
        search_panels.search_tab(S, get_local_runner((SearchConfig,)), macs)  # like distillations: this server's runner, also with Ray

S.sync_url()
