"""The Training Lab's recipe extras: the weight-decay control, the mixed-precision kind (CUDA) and the
objective and update as formulas with the current values."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.training.formulas import decay_note, objective_latex, precision_note, smoothing_latex, update_latex
from cnnviz.ui.state import PageState
from cnnviz.ui.widgets import show_error

AMP_KINDS = ("fp16", "bf16")


def recipe_extras(S: PageState, opt: str, lr: float, cuda: bool, switches: dict) -> tuple[float, str]:
    """(weight decay λ, mixed-precision kind) from their controls."""
    c = st.columns(2)
    wd = c[0].number_input("Weight decay λ", 0.0, 0.1, step=1e-4, format="%.4f", key=S.key("wd"),
                           help="How strongly the weights are pulled towards 0 every step (AdamW: decoupled; "
                                "SGD: an L2 penalty). 0 turns it off.")
    amp = c[1].selectbox("AMP kind", AMP_KINDS, key=S.key("ampk"), disabled=not (cuda and switches.get("amp")),
                         format_func={"fp16": "FP16 + scaling", "bf16": "bf16"}.get,
                         help="CUDA only: float16 with loss scaling (GradScaler), or bfloat16 (no scaler).")
    return wd, amp


def formulas_panel(opt: str, lr: float, wd: float, cuda: bool, switches: dict, amp: str) -> None:
    """The objective and one optimizer step with the current η, λ and label smoothing; what mixed precision does."""
    with st.expander("The objective and the update"):
        ls = 0.1 if switches.get("ls") else 0.0
        try:
            for line in (objective_latex(opt, wd, ls), smoothing_latex(ls), update_latex(opt, lr, wd)):
                if line:
                    st.latex(line)
        except ConfigError as err:
            show_error(err)
        st.caption(decay_note(opt) + " η is the schedule's peak learning rate. What to notice: raise λ and the "
                   "weights stay smaller, so the model is smoother; too large and it cannot fit.")
        st.caption(precision_note(cuda, amp if switches.get("amp") else "off"))
