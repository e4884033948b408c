"""The Builder tab's "Train this network": the stack checked against a data set (input, classes, the budgets of
building it and of one training epoch), the reason when it does not fit and a one-click fit (input and classifier
head, undoable like every builder action), then the Training Lab with that network."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.io.text import notice
from cnnviz.training.built_model import check_fits, fit_to
from cnnviz.ui import train_built
from cnnviz.ui.architecture_lab import panels
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.training_lab import DATA, offline
from cnnviz.ui.widgets import fmt_int, show_error

TRAIN_DATA = tuple(d for d in DATA if d != "own ZIP")  # the Training Lab's offline data sets
SETTINGS = dict(tdata=Setting(TRAIN_DATA[0], "Train on", "The data set the network is checked against and trained on "
                              "in the Training Lab (your own ZIP: choose it there).", options=TRAIN_DATA))


def train_panel(S: PageState) -> None:
    """Check the builder's stack against the chosen data set; fit it or open the Training Lab with it."""
    layers, in_shape = panels.builder_stack(S)
    st.subheader("Train this network")
    c = st.columns([2, 2, 2], vertical_alignment="bottom")
    data = S.widget("tdata", c[0])
    try:
        ds = offline(data)
    except ConfigError as err:
        return show_error(err)
    name = f"the {data} images"
    try:
        params, _, flops = check_fits(layers, in_shape, ds, name)
        fits = True
        st.caption(f"It fits {name} ({ds.in_channels}×{ds.size}×{ds.size}, {ds.num_classes} classes): "
                   f"{fmt_int(params)} parameters, {fmt_int(3 * flops * len(ds.y_train))} FLOPs per training epoch "
                   f"({len(ds.y_train):,} images).")
    except ConfigError as err:  # not an error of the page: what to change before training (a warning)
        fits = False
        st.warning(f"**Not ready to train on {name}: {notice(err.field)}** — {notice(str(err).split(': ', 1)[-1])}",
                   icon=":material/rule:")
        try:
            fixed, shape, changes = fit_to(layers, in_shape, ds)
            check_fits(fixed, shape, ds, name)
        except ConfigError:
            changes = None  # no one-click fit: the message above says what to change
        if changes and c[1].button(f"Fit it to the {data}", icon=":material/auto_fix_high:", key=S.key("fit"),
                                   help="Apply: " + "; ".join(changes) + ". Undo steps back."):
            panels.set_stack(S, fixed, shape)
    if c[2].button("Train this network", type="primary", icon=":material/model_training:", disabled=not fits,
                   key=S.key("train"), help=f"Open the Training Lab with this network on {name}."):
        train_built.hand_over(layers, in_shape, data)
