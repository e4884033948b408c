"""Compression: quantize and prune a trained CNN, see what it costs in accuracy and saves in bytes, and
distil a small student from a larger teacher."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.compression import DistillConfig, fake_quantize, overall_sparsity, prunable_layers, prune_scores, quant_params
from cnnviz.figures import compression as figs
from cnnviz.inside.names import layer_titles
from cnnviz.jobs import get_local_runner
from cnnviz.ui import columns, device_caption, PageState, show_chart, show_error
from cnnviz.ui.compression import SETTINGS, baseline, curves, distill_tab, model as model_, pruned, quantized, teacher_accuracy

S = PageState("compress", SETTINGS)
KEY = "digits_TinyVGG"
ds, model, title = model_(KEY)

st.title("Compression")
st.caption(f"Model: {title}. Accuracy is measured on the {len(ds.y_val)} held-out digits for every setting; "
           "sizes count the bytes needed to store every parameter.")
S.show_notices()
base_acc, base_size = baseline(KEY)
qt, pt, tt, dt = S.tabs(["Quantization", "Pruning", "Accuracy vs size", "Knowledge distillation"])  # lazy
sym, perch, struct = S["sym"], S["perch"], S["struct"]  # the other tabs' settings, read by "Accuracy vs size"

if qt.open:
    with qt:
        c = st.columns(4)
        bits, sym, perch = (S.widget(name, col) for name, col in zip(("bits", "sym", "perch"), c))
        layers, titles = prunable_layers(model), layer_titles(model)  # "block 1 · conv 2", not "features.3"
        li = S.widget("layer", c[3], options=range(len(layers)), format_func=lambda i: titles[layers[i][0]],
                      help=S.settings["layer"].help + " Module path: " + ", ".join(f"{titles[n]} = {n}" for n, _ in layers) + ".")
        w = layers[li][1].weight.detach()
        st.session_state[S.key("ch")] = min(S["ch"], w.shape[0] - 1)  # a linked channel beyond this layer's
        ch = S.widget("ch", bounds=(0, w.shape[0] - 1)) if perch else 0
        device_caption(model)
        wq, p = fake_quantize(w, bits, sym, perch), quant_params(w, bits, sym, perch)
        shown, shown_q = (w[ch], wq[ch]) if perch else (w, wq)
        m = st.columns(4)
        acc, q_size = quantized(KEY, bits, sym, perch)
        m[0].metric("Validation accuracy", f"{acc:.1%}", delta=f"{acc - base_acc:+.1%}", help="All layers quantized.")
        m[1].metric("Model size", f"{q_size:,} B", help=f"float32: {base_size:,} B")
        m[2].metric("Step (scale)", f"{p.scale[ch if perch else 0].item():.4g}", help="Distance between two levels.")
        m[3].metric("Largest error", f"{(shown_q - shown).abs().max().item():.4g}", help="At most half a step.")
        show_chart(figs.quant_histogram(shown, shown_q, p.levels(ch if perch else 0),
                                             titles[layers[li][0]] + (f", channel {ch}" if perch else "")), S.key("quant_fig"))

if pt.open:
    with pt:
        c = columns([3, 1], [2, 1])  # presenter mode: "Structured (whole channels)" on one line
        tau, struct = S.widget("tau", c[0], step=0.005), S.widget("struct", c[1])
        try:
            acc, rows, p_size = pruned(KEY, tau, struct)
            m = st.columns(3)
            m[0].metric("Validation accuracy", f"{acc:.1%}", delta=f"{acc - base_acc:+.1%}", help="After pruning.")
            m[1].metric("Sparsity", f"{overall_sparsity(rows):.1%}",
                        help="Zeroed conv/linear weights, all layers.")
            m[2].metric("Model size", f"{p_size:,} B", help="Nonzeros plus a 1-bit mask where that "
                        f"is smaller than dense; float32: {base_size:,} B")
            c = st.columns(2)
            show_chart(figs.magnitude_histogram(prune_scores(model, struct), tau, "mean |w| of a channel"
                                               if struct else "|w|"), S.key("magnitude_fig"), c[0])
            show_chart(figs.sparsity_figure(rows, layer_titles(model)), S.key("sparsity_fig"), c[1])
        except ConfigError as err:
            show_error(err)

if tt.open:
    with tt:
        st.caption(f"Quantization uses the Quantization tab's scheme ({'symmetric' if sym else 'asymmetric'}, "
                   f"{'per channel' if perch else 'per tensor'}); pruning the Pruning tab's kind, with τ chosen to zero "
                   "10 %…90 % over all layers (labels). One global τ hits layers with small weights first.")
        show_chart(figs.tradeoff_figure(curves(KEY, sym, perch, struct)), S.key("tradeoff_fig"))

if dt.open:
    with dt:
        _, teacher, t_title = model_("digits_SmallResNet", 16)
        distill_tab(S, teacher, t_title, teacher_accuracy("digits_SmallResNet"), get_local_runner((DistillConfig,)))

S.sync_url()
