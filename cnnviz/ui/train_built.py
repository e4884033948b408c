"""Train what you build: the Architecture Lab hands its builder stack to the Training Lab in this session's state
(``train_built``: the stack's validated JSON and the data set it was checked against; never a link), and the Training
Lab trains it instead of a preset, checked again against the data set chosen there."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from cnnviz.architecture import builder as bld
from cnnviz.errors import ConfigError
from cnnviz.io.text import md_text
from cnnviz.training.built_model import BUILT, check_fits, parse_stack, stack_text
from cnnviz.ui.widgets import fmt_int, show_error

KEY = "train_built"  # session state: {"stack": JSON text, "data": data set name}


def hand_over(layers: list, in_shape: tuple, data: str) -> None:
    """Open the Training Lab with this stack (checked by the caller) on ``data``."""
    st.session_state[KEY] = dict(stack=stack_text(layers, in_shape), data=data)
    st.session_state["train_data"] = data  # the Training Lab's data set box starts on it
    st.switch_page("pages/training_lab.py", query_params={"data": data})


def built() -> tuple[list, tuple] | None:
    """This session's handed-over stack (validated again: session state is only as good as what wrote it)."""
    held = st.session_state.get(KEY)
    if not isinstance(held, dict):
        return None
    try:
        return parse_stack(held.get("stack"))
    except ConfigError:
        st.session_state.pop(KEY, None)
        return None


def _forget() -> None:
    st.session_state.pop(KEY, None)


def banner(ds, data: str) -> bool:
    """The Training Lab's note that it trains the Architecture Lab's network (with a button back to the presets);
    the reason when it does not fit the data set chosen now. Whether a built network is in use."""
    stack = built()
    if stack is None:
        return False
    layers, in_shape = stack
    box = st.container(border=True)
    c = box.columns([4, 1], vertical_alignment="center")
    c[0].markdown(f"**Training your network** from the Architecture Lab: {len(layers)} layers, input "
                  f"{'×'.join(map(str, in_shape))} (the Model box below is not used).")
    c[1].button("Use a preset", key="train_built_off", on_click=_forget, icon=":material/close:",
                help="Forget the Architecture Lab's network; train the model chosen below.")
    with box.expander("Its layers"):
        st.text("\n".join(f"{i + 1}. {bld.describe(x)}" for i, x in enumerate(layers)))  # plain text, never markdown
    if ds is not None:
        try:
            params = check_fits(layers, in_shape, ds, f"the {md_text(data)} images")[0]
            box.caption(f"{fmt_int(params)} parameters; it fits the {md_text(data)} images.")
        except ConfigError as err:
            with box:
                show_error(err)
                st.caption("Change the data set, or fit the network to it in the Architecture Lab (Builder tab).")
    return True


def with_stack(cfg, ds, data: str):
    """``cfg`` training the handed-over network instead of its preset (ConfigError when it does not fit ``ds``);
    ``cfg`` itself when there is none."""
    stack = built()
    if stack is None:
        return cfg
    if ds is not None:
        check_fits(*stack, ds, f"the {data} images")
    return replace(cfg, model=BUILT, stack=stack_text(*stack))
