"""The Training Lab's objective and update as LaTeX with the current numbers: cross-entropy (with label
smoothing), weight decay λ — an L2 penalty in the loss for SGD, decoupled from the gradient for AdamW — and
the step θ ← θ − η∇L; plus what mixed precision does on this device."""
from __future__ import annotations

from cnnviz.errors import ConfigError
from cnnviz.training.recipe import OPTIMIZERS


def _check(optimizer: str, lr: float, weight_decay: float, label_smoothing: float) -> None:
    if optimizer not in OPTIMIZERS:
        raise ConfigError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if not lr > 0:
        raise ConfigError("lr", f"must be > 0, got {lr}")
    if not 0 <= weight_decay < 1:
        raise ConfigError("weight_decay", f"must be in [0, 1), got {weight_decay}")
    if not 0 <= label_smoothing < 1:
        raise ConfigError("label_smoothing", f"must be in [0, 1), got {label_smoothing}")


def objective_latex(optimizer: str, weight_decay: float, label_smoothing: float) -> str:
    """The loss the optimizer minimises. SGD's ``weight_decay`` λ adds λθ to the gradient, the gradient of
    (λ/2)‖θ‖² in the loss; AdamW's decay is not in the loss (it shrinks the weights in the update). With label
    smoothing the target is ỹ (:func:`smoothing_latex`)."""
    _check(optimizer, 1.0, weight_decay, label_smoothing)
    ce = r"\mathrm{CE}(z, \tilde y)" if label_smoothing else r"\mathrm{CE}(z, y)"
    if optimizer == "sgd" and weight_decay:
        return rf"L(\theta) = {ce} + \tfrac{{{weight_decay:g}}}{{2}}\,\lVert\theta\rVert^2"
    return rf"L(\theta) = {ce}"


def smoothing_latex(label_smoothing: float, classes: int = 10) -> str:
    """The smoothed target ỹ of label smoothing ε (PyTorch's: (1 − ε)·onehot(y) + ε/C); "" when ε = 0."""
    _check("sgd", 1.0, 0.0, label_smoothing)
    if not label_smoothing:
        return ""
    eps = f"{label_smoothing:g}"
    return rf"\tilde y = (1-{eps})\,\mathrm{{onehot}}(y) + \tfrac{{{eps}}}{{{classes}}}"


def update_latex(optimizer: str, lr: float, weight_decay: float, momentum: float = 0.9) -> str:
    """One step of the optimizer with η and λ substituted (η is the schedule's peak)."""
    _check(optimizer, lr, weight_decay, 0.0)
    eta, lam = f"{lr:g}", f"{weight_decay:g}"
    if optimizer == "sgd":
        grad = rf"\nabla \mathrm{{CE}} + {lam}\,\theta" if weight_decay else r"\nabla \mathrm{CE}"
        return rf"v \leftarrow {momentum:g}\,v + {grad},\quad \theta \leftarrow \theta - {eta}\,v"
    decay = rf"- {eta}\cdot{lam}\,\theta" if weight_decay else ""
    return rf"\theta \leftarrow \theta - {eta}\,\frac{{\hat m}}{{\sqrt{{\hat v}}+\epsilon}} {decay}"


def decay_note(optimizer: str) -> str:
    """One sentence on how λ acts for this optimizer."""
    if optimizer == "sgd":
        return ("SGD: λ is an L2 penalty (λ/2)‖θ‖² in the loss, so λθ joins the gradient and goes through "
                "momentum.")
    return ("AdamW: m̂ and v̂ are running means of ∇CE and (∇CE)². Decoupled decay — every step shrinks θ by η·λ·θ outside the adaptive step, so big and "
            "small gradients get the same decay (with Adam's L2 penalty, weights with large gradients would "
            "barely decay).")


def precision_note(cuda: bool, amp: str) -> str:
    """What mixed precision does here."""
    if not cuda:
        return ("Mixed precision computes the forward and backward pass in 16-bit floats and keeps float32 "
                "weights. It is off on the CPU: these small models get no speed-up there, only rounding.")
    if amp == "bf16":
        return ("bfloat16: float32's range with 8 bits of mantissa, so gradients do not underflow: no loss "
                "scaling needed.")
    return ("float16 with loss scaling: the loss is multiplied by a large factor S before backward so small "
            "gradients do not underflow to 0, then the gradients are divided by S; steps that overflow are skipped.")
