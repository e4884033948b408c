"""The Training Lab's panels and caches: the offline data sets (loaded once per process), the vanishing-gradient
comparison (cached by its plain arguments), the weight-decay control, the mixed-precision kind (CUDA) and the
objective and update as formulas with the current values."""
from __future__ import annotations

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.io.data import DATASET_TITLES, load_dataset
from cnnviz.training.gradients import compare
from cnnviz.architecture.models import MODELS
from cnnviz.training.formulas import decay_note, objective_latex, precision_note, smoothing_latex, update_latex
from cnnviz.training.recipe import EXPLAIN, LABEL_SMOOTHING, OPTIMIZERS, SCHEDULES, SWITCHES
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.widgets import show_error

AMP_KINDS = ("fp16", "bf16")
DATA = ("digits", "shapes", "fashion", "own ZIP")
DATA_TITLES = {**DATASET_TITLES, "own ZIP": "own ZIP"}  # the data sets' full titles
DATA_LABELS = {"fashion": "Fashion-MNIST"}  # what the radio shows (``format_func``): one short line per option
SETTINGS = dict(
    data=Setting("digits", "Data", "8×8 handwritten digits, generated 32×32 shapes, Fashion-MNIST (28×28 clothing: "
                 "6,000 training and 1,000 validation images of 10 kinds) or a ZIP of your images (a folder per "
                 "class).", options=DATA, widget="radio"),
    model=Setting("TinyVGG", "Model", "TinyVGG: 4 convs, 2 pools (CNN Explainer's model). SmallResNet: BatchNorm and "
                  "shortcut connections.", options=tuple(MODELS)),
    epochs=Setting(8, "Epochs", "Passes over the training images.", (1, 50)),
    lr=Setting(0.02, "Learning rate", "Peak learning rate.", (1e-4, 1.0)),
    opt=Setting("adamw", "Optimizer", EXPLAIN["optimizer"], options=OPTIMIZERS),
    sched=Setting("onecycle", "Schedule", EXPLAIN["schedule"], options=SCHEDULES),
    **{name: Setting(name in ("crop", "ls", "clip", "amp"), label + (" (CUDA)" if name == "amp" else ""), EXPLAIN[ex])
       for name, label, ex in SWITCHES},
    depth=Setting(20, "Depth (conv layers)", "The same depth for both networks.", (4, 40), widget="slider"),
    wd=Setting(1e-4, "Weight decay λ", "How strongly the weights are pulled towards 0 every step (AdamW: decoupled; "
               "SGD: an L2 penalty). 0 turns it off.", (0.0, 0.1)),
    ampk=Setting("fp16", "AMP kind", "CUDA only: float16 with loss scaling (GradScaler), or bfloat16 (no scaler).",
                 options=AMP_KINDS))

FLIP_DIGITS = ("Flip is on with digits: a mirrored 2, 3, 4, 5, 7 or 9 is no digit anyone writes, so the model "
               "spends its capacity on shapes it will never see, and a flipped digit keeps its old label. Flips "
               "suit pictures whose mirror image is the same thing (shapes, clothes, animals). Large rotations hurt "
               "digits the same way (a 6 turned half round is a 9); small crops and a little noise are safe.")
offline = st.cache_resource(show_spinner=False)(load_dataset)  # read-only tensors, one copy per process


@st.cache_data(show_spinner="Training both for 30 steps…")
def gradient_comparison(depth: int) -> dict:
    """Plain sigmoid vs BatchNorm + residual stacks of ``depth`` convs, 30 steps each on the digits."""
    digits = offline("digits")
    return compare(digits.x_train, digits.y_train, 10, depth)


def recipe_extras(S: PageState, amp_on: bool) -> tuple[float, str]:
    """(weight decay λ, mixed-precision kind) from their controls; the kind only matters when ``amp_on`` (CUDA and the
    Mixed precision switch). Above them, when Flip is on for the digits, why that hurts."""
    if S["flip"] and S["data"] == "digits":
        st.info(FLIP_DIGITS, icon=":material/flip:")
    c = st.columns(2)
    wd = S.widget("wd", c[0], step=1e-4, format="%.4f")
    amp = S.widget("ampk", c[1], disabled=not amp_on, format_func={"fp16": "FP16 + scaling", "bf16": "bf16"}.get)
    return wd, amp


def formulas_panel(opt: str, lr: float, wd: float, cuda: bool, switches: dict, amp: str) -> None:
    """The objective and one optimizer step with the current η, λ and label smoothing; what mixed precision does."""
    with st.expander("The objective and the update"):
        ls = LABEL_SMOOTHING if switches.get("ls") else 0.0
        try:
            for line in (objective_latex(opt, wd, ls), smoothing_latex(ls), update_latex(opt, lr, wd)):
                if line:
                    st.latex(line)
        except ConfigError as err:
            show_error(err)
        st.caption(decay_note(opt) + " η is the schedule's peak learning rate. What to notice: raise λ and the "
                   "weights stay smaller, so the model is smoother; too large and it cannot fit.")
        st.caption(precision_note(cuda, amp if switches.get("amp") else "off"))
