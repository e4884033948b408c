"""Conv Arithmetic: output size, parameters, FLOPs (or MACs) and receptive field, as formulas with your numbers,
and TF/Keras padding="same" with a stride."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import pandas as pd
import streamlit as st

from cnnviz import ConfigError
from cnnviz.geometry.arithmetic import parse_rf_stack, receptive_field_table
from cnnviz.figures.conv_grid import conv_axes, geometry_figure, pool_axes
from cnnviz.geometry.formulas import (conv_output_formulas, conv_params_formula, pool_output_formulas,
                                     receptive_field_formula)
from cnnviz.geometry.specs import ConvSpec, PoolSpec
from cnnviz.ui import (PageState, axis_inputs, columns, fmt_int, macs_toggle, padding_inputs, presenting, show_chart,
                       show_error, show_formulas)
from cnnviz.ui import conv_arithmetic as panels

S = PageState("arith", panels.SETTINGS)

st.title("Conv Arithmetic")
st.caption("How big is the output, how many weights, how much compute? Move a control; every number is "
           "computed by the engine and checked against PyTorch.")
S.show_notices()

c = columns([2, 1, 3, 3], [3, 2, 3, 4])  # presenter mode: "1-D 2-D 3-D" and "Input channels" on one line
dims = S.widget("dims", c[0], horizontal=True, format_func=lambda n: f"{n}-D")
cin = S.widget("cin", c[1])
same = S.widget("same", c[3])
size = axis_inputs(S, "size", dims, same, c[2])
in_shape = (cin, *size)


conv_tab, pool_tab, rf_tab, tf_tab = S.tabs(["Convolution", "Pooling", "Receptive field of a stack",
                                             "TF 'same' with stride"])  # only the open tab runs
if conv_tab.open:
    with conv_tab:
        c, c2 = st.columns(5), st.columns(4)  # the padding's number(s) go under Dilation's row, with Output padding
        cout, groups = S.widget("cout", c[0]), S.widget("groups", c[1])
        p, mode = padding_inputs(S, ("pad", "p", "mode"), (c[2], c2[3], c[3]), dims, same)
        bias, transposed = S.widget("bias", c[4]), S.widget("tr", c[4])
        k, s, d = (axis_inputs(S, name, dims, same, col) for name, col in zip(("k", "s", "d"), c2))
        op = axis_inputs(S, "op", dims, same, c2[3]) if transposed else 0
        macs = macs_toggle(S)
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
        kind = S.widget("pkind", c[0])
        pk, ps, pp = (axis_inputs(S, name, dims, same, col) for name, col in zip(("pk", "ps", "pp"), c[1:4]))
        pd_ = axis_inputs(S, "pd", dims, same, c[4]) if kind == "max" else 1
        ceil = S.widget("ceil", c[4])
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
    with rf_tab:  # presenter mode: the gridding map beside the stack editor, not under its table
        left, right = st.columns([2, 3]) if presenting() else [st.container()] * 2
    with left:
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
            with right:
                panels.gridding_panel(S, layers)
        except ConfigError as err:
            show_error(err)

if tf_tab.open:
    with tf_tab:
        panels.tf_same_panel(S)

S.sync_url()
