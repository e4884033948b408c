"""Conv Arithmetic: output size, parameters, FLOPs (or MACs) and receptive field, as formulas with your numbers,
and TF/Keras padding="same" with a stride."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import pandas as pd
import streamlit as st

from cnnviz import ConfigError
from cnnviz.geometry.arithmetic import PADDING_MODES, parse_rf_stack, receptive_field_table
from cnnviz.figures.conv_grid import conv_axes, geometry_figure, pool_axes
from cnnviz.geometry.formulas import (conv_output_formulas, conv_params_formula, pool_output_formulas,
                                     receptive_field_formula)
from cnnviz.geometry.specs import ConvSpec, PoolSpec
from cnnviz.ui import (PageState, arithmetic_panels as panels, axis_inputs, columns, fmt_int, show_chart, show_error,
                       show_formulas)

V3 = lambda v: (v, v, v)  # noqa: E731 - per-axis defaults for up to three axes
S = PageState("arith", dict(
    dims=2, cin=3, size=V3(7), same=True, cout=8, k=V3(3), s=V3(1), d=V3(1), pad="numbers", p=V3(1),
    mode="zeros", groups=1, bias=True, tr=False, op=V3(0),
    pkind="max", pk=V3(2), ps=V3(2), pp=V3(0), pd=V3(1), ceil=False, stack="3-1-1;3-1-1;3-2-1", macs=False, hyb="1,2,3",
    tfl=8, tfk=3, tfs=2, tfd=1),
    options=dict(dims=(1, 2, 3), pad=("numbers", "same", "valid"), mode=PADDING_MODES, pkind=("max", "avg")),
    bounds=dict(cin=(1, 512), cout=(1, 512), size=(1, 512), k=(1, 31), s=(1, 16), d=(1, 16), p=(0, 64),
                groups=(1, 512), op=(0, 15), pk=(1, 31), ps=(1, 16), pp=(0, 16), pd=(1, 16), tfl=(1, 64), tfk=(1, 15),
                tfs=(1, 8), tfd=(1, 8)))

st.title("Conv Arithmetic")
st.caption("How big is the output, how many weights, how much compute? Move a control; every number is "
           "computed by the engine and checked against PyTorch.")
S.show_notices()

c = columns([2, 1, 3, 3], [3, 2, 3, 4])  # presenter mode: "1-D 2-D 3-D" and "Input channels" on one line
dims = c[0].radio("Dimensions", (1, 2, 3), key=S.key("dims"), horizontal=True, format_func=lambda n: f"{n}-D",
                  help="1-D for sequences (audio, text), 2-D for images, 3-D for video or volumes.")
cin = c[1].number_input("Input channels", 1, 512, key=S.key("cin"), help="C_in: e.g. 3 for an RGB image.")
same = c[3].toggle("Same value on every axis", key=S.key("same"), help="Off: set each spatial axis separately.")
with c[2]:
    size = axis_inputs(S, "size", "Input size", dims, same, 1, 512, "Spatial size of the input along this axis.")
in_shape = (cin, *size)


conv_tab, pool_tab, rf_tab, tf_tab = S.tabs(["Convolution", "Pooling", "Receptive field of a stack",
                                             "TF 'same' with stride"])  # only the open tab runs
if conv_tab.open:
    with conv_tab:
        c = st.columns(5)
        cout = c[0].number_input("Output channels", 1, 512, key=S.key("cout"), help="C_out: number of filters.")
        groups = c[1].number_input("Groups", 1, 512, key=S.key("groups"),
                                   help="Split channels into g independent groups; g = C_in is depthwise.")
        pad_kind = c[2].selectbox("Padding", ("numbers", "same", "valid"), key=S.key("pad"),
                                  help="'same' keeps the size (stride 1 only); 'valid' means no padding.")
        mode = c[3].selectbox("Padding mode", PADDING_MODES, key=S.key("mode"),
                              help="What the padding ring holds: zeros, a mirror image, the edge value, or a wrap.")
        bias = c[4].toggle("Bias", key=S.key("bias"), help="One learned offset per output channel.")
        transposed = c[4].toggle("Transposed", key=S.key("tr"), help="Transposed conv ('deconvolution'): upsamples.")
        c = st.columns(4)
        with c[0]:
            k = axis_inputs(S, "k", "Kernel", dims, same, 1, 31, "Kernel size k: the window's extent.")
        with c[1]:
            s = axis_inputs(S, "s", "Stride", dims, same, 1, 16, "Stride s: how far the window moves per step.")
        with c[2]:
            d = axis_inputs(S, "d", "Dilation", dims, same, 1, 16, "Dilation d: gaps between kernel taps.")
        with c[3]:
            p = (axis_inputs(S, "p", "Padding", dims, same, 0, 64, "Cells added on each side of the input.")
                 if pad_kind == "numbers" else pad_kind)
            op = (axis_inputs(S, "op", "Output padding", dims, same, 0, 15, "Extra cells on one side of a transposed "
                              "conv's output; must be smaller than stride or dilation.") if transposed else 0)
        macs = panels.macs_toggle(S)
        try:
            spec = ConvSpec(dims, cin, cout, k, s, p, d, groups, bias, mode, transposed, op)
            g = spec.geometry(size)
            outs, params, flops = conv_output_formulas(g), conv_params_formula(g, bias), panels.compute_formula(g, macs)
            m = st.columns([3, 2, 2, 2])  # room for a 3-D shape like 8×256×256×512
            m[0].metric("Output shape", "×".join(map(str, g.out_shape)), help="(C_out, *spatial)")
            m[1].metric("Parameters", fmt_int(params.value), help=f"{params.value:,} weights and biases")
            panels.compute_metric(m[2], flops)
            m[3].metric("Receptive field", "×".join(map(str, g.effective_kernel)),
                        help="Input cells one output cell sees: d·(k−1)+1 per axis")
            panels.badge(spec, in_shape, g.out_shape, g)
            left, right = st.columns([2, 3])
            with left:
                show_formulas([*outs, params, flops])
            with right:
                title = "Transposed conv drawn as the equivalent direct conv" if transposed else "One window"
                step = panels.window_picker(g.spatial_out, S.key("win"))
                show_chart(geometry_figure(conv_axes(g), title, step), S.key("conv_fig"))
        except ConfigError as err:
            show_error(err)

if pool_tab.open:
    with pool_tab:
        c = st.columns([1, 1, 1, 1, 1])
        kind = c[0].radio("Kind", ("max", "avg"), key=S.key("pkind"), help="Max keeps the largest value; avg the mean.")
        with c[1]:
            pk = axis_inputs(S, "pk", "Pool kernel", dims, same, 1, 31, "Window size.")
        with c[2]:
            ps = axis_inputs(S, "ps", "Pool stride", dims, same, 1, 16, "Step between windows (PyTorch's default: k).")
        with c[3]:
            pp = axis_inputs(S, "pp", "Pool padding", dims, same, 0, 16, "At most half the kernel.")
        with c[4]:
            pd_ = (axis_inputs(S, "pd", "Pool dilation", dims, same, 1, 16, "Gaps between taps (max pooling only).")
                   if kind == "max" else 1)
            ceil = st.toggle("ceil_mode", key=S.key("ceil"), help="Round up: keep a last, partial window.")
        try:
            pspec = PoolSpec(dims, pk, ps, pp, pd_, ceil, kind)
            pg = pspec.geometry(in_shape)
            st.metric("Output shape", "×".join(map(str, pg.out_shape)))
            panels.badge(pspec, in_shape, pg.out_shape)
            left, right = st.columns([2, 3])
            with left:
                show_formulas(pool_output_formulas(pg))
            with right:
                step = panels.window_picker(pg.spatial_out, S.key("pwin"))
                show_chart(geometry_figure(pool_axes(pg), "One pooling window", step), S.key("pool_fig"))
        except ConfigError as err:
            show_error(err)

if not rf_tab.open:  # its editor's edits are gone with it: rebuild the table from the stack it left
    st.session_state.pop(S.key("stack_df"), None)
else:
    with rf_tab:
        st.caption("One spatial axis. Add, edit or delete rows: each row is a layer with kernel, stride, dilation.")
        if S.key("stack_df") not in st.session_state:
            try:
                rows = parse_rf_stack(S["stack"])
            except ConfigError as err:
                show_error(err)
                rows = [(3, 1, 1)]
            st.session_state[S.key("stack_df")] = pd.DataFrame(rows, columns=["kernel", "stride", "dilation"])
        table = st.data_editor(st.session_state[S.key("stack_df")], num_rows="dynamic", key=S.key("stack_editor"),
                               width="stretch").dropna()
        layers = [dict(kernel_size=int(r.kernel), stride=int(r.stride), dilation=int(r.dilation))
                  for r in table.itertuples()]
        st.session_state[S.key("stack")] = ";".join(f"{l['kernel_size']}-{l['stride']}-{l['dilation']}" for l in layers)
        try:
            rf = receptive_field_table(layers)
            st.metric("Receptive field", f"{rf[-1].receptive_field if rf else 1} input cells")
            show_formulas([receptive_field_formula(rf)])
            st.dataframe(pd.DataFrame([dict(layer=i + 1, receptive_field=r.receptive_field, jump=r.jump)
                                       for i, r in enumerate(rf)]), hide_index=True)
            panels.gridding_panel(S, layers)
        except ConfigError as err:
            show_error(err)

if tf_tab.open:
    with tf_tab:
        panels.tf_same_panel(S)

S.sync_url()
