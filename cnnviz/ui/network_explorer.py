"""The Network Explorer's settings (each declared once: ``settings``) and caches: a model per (shipped key, uploaded
checkpoint, before training), the whole network for one image with its recorded forward pass and its overview
figure's spec (a click only adds the selection: ``overview_fig``), and the strongest validation patches of one
channel. Keyed by plain values (names, numbers, bytes, tuples), never by tensors. The arithmetic of the selected
neuron, every kind of layer: ``neuron_arithmetic``."""
from __future__ import annotations

import streamlit as st

from cnnviz.explorer import SOURCES, explorer_input, overview, random_init, record, top_patches
from cnnviz.explorer.drawing import DRAWN, drawing_model
from cnnviz.figures import network as figs
from cnnviz.inside.shipped import load_model, load_uploaded, validation_set
from cnnviz.io import budgets
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import PICTURE_SOURCES, image_settings

TRAINED, UPLOAD = "session", "upload"  # the model box's two entries besides the shipped models
DRAWN_TITLE = "TinyVGG · drawn digits"  # the model for drawings (cnnviz.explorer.drawing), in this page's box only


def settings(models: dict) -> dict:
    """The page's settings, each declared once; ``models`` the shipped ones (their keys come first in the model box).
    The layer's options and the neuron's bounds are the model's: given when drawn (the link check keeps the widest)."""
    return dict(
        model=Setting(next(iter(models), UPLOAD), "Model", "Shipped (validation accuracy under this box), the model "
                      "for drawn digits (28×28, trained on pen strokes), trained in the Training Lab this session, or "
                      "a checkpoint file.", options=(*models, DRAWN, TRAINED, UPLOAD)),
        **image_settings((*SOURCES, *PICTURE_SOURCES), "A shipped sample, a validation image, your file, a drawing, a "
                         "photograph or your webcam."),
        layer=Setting("", "Layer", "Readable name; the module path is in the title below.", widget="selectbox"),
        ch=Setting(0, "Channel", "Which feature map (or unit).", (0, 4095)),
        i=Setting(0, "Row", "Output position: row.", (0, 4095)),
        j=Setting(0, "Column", "Output position: column.", (0, 4095)),
        before=Setting(False, "Before training", "The same layers with random weights (seed 0)."),
        every=Setting(False, "Every layer", "Also batch norm and identity shortcuts as columns."))


@st.cache_resource(max_entries=budgets.MODEL_CACHE_ENTRIES, ttl=budgets.MODEL_CACHE_TTL_S, show_spinner=False)
def get_model(key: str, ckpt: bytes | None, before: bool):
    if ckpt is None and key == DRAWN:
        model, info = drawing_model()
    else:
        model, info = load_uploaded(ckpt, "your model") if ckpt is not None else load_model(key)
    return (random_init(model, seed=0) if before else model), info


# cache_resource: the same objects to every rerun (never mutated), no pickling per rerun (an Overview's maps and a
# figure spec cost 100 ms to unpickle); hashable arguments only: names, numbers, bytes, tuples
@st.cache_resource(max_entries=32, ttl=budgets.MODEL_CACHE_TTL_S, show_spinner=False)
def network(args: tuple, every: bool):
    model, info = get_model(*args[:3])
    x, label = explorer_input(info, *args[3:])
    return overview(model, x, every), x, label


@st.cache_resource(max_entries=16, ttl=budgets.MODEL_CACHE_TTL_S, show_spinner=False)
def recorded(args: tuple):
    """One recorded forward pass of the image: every neuron's arithmetic reads it (no forward pass per click)."""
    return record(get_model(*args[:3])[0], network(args, False)[1])


@st.cache_resource(max_entries=16, ttl=budgets.MODEL_CACHE_TTL_S, show_spinner=False)  # a spec: ~0.5 MB
def overview_spec(args: tuple, every: bool) -> dict:
    return figs.overview_spec(network(args, every)[0], get_model(*args[:3])[1].classes)


def overview_fig(args: tuple, every: bool, selected: tuple[int, int]):
    """The cached spec plus the selected neuron's outline and in-edges (a few ms per click)."""
    return figs.with_selection(overview_spec(args, every), figs.selection_traces(network(args, every)[0], selected))


@st.cache_data(max_entries=32, show_spinner="Searching the validation set…")
def strongest(args: tuple, layer: str, ch: int):
    model, info = get_model(*args)
    return top_patches(model, validation_set(info.dataset)[0], layer, ch, k=8)


def model_title(models: dict, key: str) -> str:
    """What the model box shows for ``key``."""
    return models[key].short if key in models else {DRAWN: DRAWN_TITLE, TRAINED: "Your Training Lab model",
                                                    UPLOAD: "Upload a checkpoint"}[key]


def seen_input(x) -> "np.ndarray":
    """The model's input (1, C, H, W) as a grey picture about 140 px wide (each pixel a block): what the page shows
    under the drawing pad."""
    import numpy as np
    a = x[0].mean(0).clamp(0, 1).cpu().numpy()
    k = max(1, 140 // a.shape[0])
    return np.kron(np.round(255 * a).astype(np.uint8), np.ones((k, k), np.uint8))


POOLS = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")


def _n(v: float) -> str:
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def formula_markdown(a, title: str) -> str:
    """One layer's arithmetic (:class:`cnnviz.explorer.Arithmetic`) as markdown: the formula, its named numbers
    (a table), the worked line and PyTorch's value beside it. Every name and number escaped as literal text."""
    from cnnviz.io.text import md_text
    head = f"**{md_text(title)}**: {md_text(a.formula)}"
    if a.table:  # linear: the largest products, then the rest and the bias
        rows = ["| k | input k is | x[k] | w[k] | x[k] · w[k] |", "|---:|---|---:|---:|---:|"]
        rows += [f"| {k} | {md_text(where)} | {_n(x)} | {_n(w)} | {_n(p)} |" for k, where, x, w, p in a.table]
        rows += [f"| | {md_text(name)} | | | {_n(v)} |" for name, v in a.terms[len(a.table):]]
        body = "\n".join(rows)
    else:
        body = ("| " + " | ".join(md_text(n) for n, _ in a.terms) + " |\n|" + "---:|" * len(a.terms) + "\n| "
                + " | ".join(_n(v) for _, v in a.terms) + " |")
    return f"{head}\n\n{body}\n\n{md_text(a.worked)} = **{_n(a.result)}** (PyTorch's value: **{_n(a.value)}**)"


def neuron_arithmetic(S, args: tuple, every: bool, ci: int, ch: int, i: int, j: int) -> None:
    """The selected neuron's arithmetic, drawn where called: a conv's patch × kernel with per-input-channel
    subtotals (and the batch norm after it); a pooling window; batch norm, residual addition, ReLU, linear and
    average pooling as their formulas with the numbers; the softmax; then, for a feature map, the receptive field
    and the gradient map."""
    import torch
    from cnnviz.explorer import (arithmetic_kind, gradient_map, layer_arithmetic, neuron_detail, pooling_detail,
                                 receptive_field, softmax_detail)
    from cnnviz.io.text import md_text
    from cnnviz.ui.widgets import show_chart
    model, info = get_model(*args[:3])
    ov, x, _ = network(args, every)
    rec = recorded(args)
    col = ov.columns[ci]
    spatial = bool(col.path) and len(col.shape) == 3
    box = receptive_field(model, x, col.path, (i, j)) if spatial else None
    node = rec.nodes[rec.index(col.node)] if col.node else None
    if col.kind == "Conv2d":
        d = neuron_detail(model, x, col.path, ch, (i, j), rec=rec, box=box)
        subs = " + ".join(f"from channel {c}: {_n(v)}" for c, v in zip(d.channels, d.subtotals))
        after = "".join(f" → {md_text(k)} → {v:.4f}" for _, k, v in d.after)
        st.markdown((f"Per input channel: {subs} = Σ products **{d.pre_activation - d.bias:.4f}**  \n"
                     if len(d.channels) > 1 else "") +
                    f"Σ products **{d.pre_activation - d.bias:.4f}** + bias **{d.bias:.4f}** = pre-activation "
                    f"**{d.pre_activation:.4f}** (PyTorch: {d.value:.4f}){after}")
        show_chart(figs.conv_detail_figure(d, patch_range=(0.0, 1.0) if col.inputs == (0,) else None),
                   S.key("conv_fig"))
        for path, kind, _ in d.after:
            if kind == "BatchNorm2d":
                st.markdown(formula_markdown(layer_arithmetic(model, x, path, ch, (i, j), rec=rec),
                                             f"Then batch norm ({path})"))
    elif col.kind in POOLS:
        show_chart(figs.pool_detail_figure(pooling_detail(model, x, col.path, ch, (i, j), rec=rec)),
                   S.key("pool_fig"))
        if arithmetic_kind(node.module):
            st.markdown(formula_markdown(layer_arithmetic(model, x, col.node, ch, (i, j), rec=rec), "Average pooling"))
    elif node is not None and arithmetic_kind(node.module, node.name):
        title = {"add": "Residual addition", "linear": "Linear", "batchnorm": "Batch norm", "relu": "ReLU"}[
            arithmetic_kind(node.module, node.name)]
        st.markdown(formula_markdown(layer_arithmetic(model, x, col.node, ch, (i, j), rec=rec), title))
    else:
        st.markdown(" → ".join(f"{md_text(n)}: **{v:.4f}**" for n, v in ov.cell_inputs(ci, ch, i, j)))
    if ci == len(ov.columns) - 1:
        show_chart(figs.softmax_figure(softmax_detail(torch.tensor(ov.logits)), info.classes), S.key("softmax_fig"))
    if spatial:  # where it looks in the picture, below its arithmetic
        show_chart(figs.receptive_field_figure(x[0], box, gradient_map(model, x, col.path, ch, (i, j))),
                   S.key("rf_fig"))
