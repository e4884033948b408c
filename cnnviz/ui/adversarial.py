"""The Saliency page's Adversarial tab: the same model and image as the page, attacked by FGSM, PGD or targeted PGD
with ε in grey levels of the input's range; the perturbation magnified, the prediction before → after with its
probabilities, and the validation accuracy against ε. Results are cached by plain values (issue 18): moving ε
back to a value seen before, or a classmate asking for the same attack, computes nothing."""
from __future__ import annotations

import streamlit as st

from cnnviz.figures.adversarial import accuracy_curve, attack_figure, probability_figure
from cnnviz.inside.adversarial import ADV_MAX_STEPS, ATTACKS, INPUT_RANGE, accuracy_vs_eps, attack_one
from cnnviz.inside.shipped import input_image, validation_set
from cnnviz.io.text import md_text, plot_text
from cnnviz.ui.presenter import columns
from cnnviz.ui.saliency import load
from cnnviz.ui.state import Setting
from cnnviz.ui.widgets import show_chart

NAMES = {"fgsm": "FGSM", "pgd": "PGD", "targeted": "Targeted PGD"}
CURVE_LEVELS = (0, 1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64)  # ε of the accuracy curve, grey levels of 255
LEVELS = 255  # ε is counted in steps of (hi − lo) / 255, an 8-bit image's grey levels

SETTINGS = dict(
    attack=Setting("fgsm", "Attack", "FGSM: one step of ε along the sign of the loss gradient. PGD: several "
                   "smaller steps, each kept within ε of the image. Targeted: pull the prediction towards a class.",
                   options=ATTACKS, widget="radio"),
    eps=Setting(24, "ε (grey levels of 255)", "The most any pixel may change, in 8-bit grey levels of the input's "
                "range [0, 1]: 24 = 24/255 ≈ 0.094.", (0, 64), widget="slider"),
    adv_steps=Setting(10, "PGD steps", "Gradient steps of PGD, each of size 2.5·ε / steps.", (1, 40),
                      widget="slider"),
    goal=Setting(3, "Make it a …", "The class targeted PGD pulls the prediction towards.", (0, 99),
                 widget="selectbox"))


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def attack_view(model_key: str, src: str, sample: str, idx: int, data: bytes | None, invert: bool, kind: str,
                level: int, steps: int, goal: int):
    """(x, Attack) for the page's image; ``level``: ε in grey levels."""
    model, info = load(model_key)
    x, _ = input_image(info, src, sample, idx, data, invert)
    lo, hi = INPUT_RANGE
    return x, attack_one(model, x, kind, level / LEVELS * (hi - lo), steps, goal)


@st.cache_data(max_entries=16, ttl=3600, show_spinner="FGSM on the validation set…")
def eps_curve(model_key: str) -> list[float]:
    """Validation accuracy under FGSM at each of CURVE_LEVELS (one backward pass per batch of images)."""
    model, info = load(model_key)
    xs, ys = validation_set(info.dataset)
    lo, hi = INPUT_RANGE
    return accuracy_vs_eps(model, xs, ys, [v / LEVELS * (hi - lo) for v in CURVE_LEVELS], lo, hi)


def _verdict(kind: str, before: int, after: int, goal: int, classes) -> str:
    if kind == "targeted":
        return f"Now a **{md_text(classes[goal])}**." if after == goal else \
            f"Not a **{md_text(classes[goal])}** yet: raise ε or the steps."
    return "Fooled: the prediction changed." if after != before else "Not fooled at this ε."


def adversarial_tab(S, model_key: str, info, image: tuple) -> None:
    """Draw the tab: controls, before → after, the three images, the probabilities, the accuracy curve."""
    st.markdown("A change too small to see can flip the prediction: the network reads the pixels, not the digit. "
                "**FGSM** moves every pixel by ±ε along the sign of the loss gradient; **PGD** repeats smaller steps.")
    c = columns([3, 3, 2], 1)
    kind = S.widget("attack", c[0], horizontal=True, format_func=NAMES.get)
    level = S.widget("eps", c[1])
    steps = S.widget("adv_steps", c[2], bounds=(1, min(40, ADV_MAX_STEPS)), disabled=kind == "fgsm")
    n = len(info.classes)
    st.session_state[S.key("goal")] = min(S["goal"], n - 1)
    goal = S.widget("goal", c[2], options=range(n), format_func=lambda i: info.classes[i],
                    disabled=kind != "targeted")
    x, res = attack_view(model_key, *image, kind, level, steps, goal)
    b, a = int(res.before.argmax()), int(res.after.argmax())
    m = st.columns(3)
    m[0].metric("Before", f"{md_text(info.classes[b])} · {res.before[b]:.0%}",
                help="The prediction on the image and its probability.")
    m[1].metric("After", f"{md_text(info.classes[a])} · {res.after[a]:.0%}",
                delta=f"{res.after[b] - res.before[b]:+.0%} for {info.classes[b]}", delta_color="off",
                help="The prediction on the attacked image, and how the first prediction's probability moved.")
    change = float((res.adv[0] - x[0]).abs().max()) * LEVELS
    m[2].metric("Largest pixel change", f"{change:.0f}/255", help="Never more than ε.")
    st.markdown(_verdict(kind, b, a, goal, info.classes))
    show_chart(attack_figure(x[0], res.adv[0], level / LEVELS, (f"Before: {plot_text(info.classes[b])}",
                                                               f"After: {plot_text(info.classes[a])}")), S.key("adv_fig"))
    p = columns(2, 1)
    show_chart(probability_figure(info.classes, res.before, res.after), S.key("adv_probs"), where=p[0])
    show_chart(accuracy_curve(CURVE_LEVELS, eps_curve(model_key), level,
                              title=f"FGSM on the {len(validation_set(info.dataset)[1])} validation images"),
               S.key("adv_curve"), where=p[1])
