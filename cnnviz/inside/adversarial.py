"""Adversarial examples: the small change to an image that flips a trained CNN's prediction.

FGSM (Goodfellow et al., 2015) takes one step of size ε along the sign of the input gradient of the loss;
PGD (Madry et al., 2018) takes several smaller steps, each projected back into the L∞ ball of radius ε around
the image and into the input's value range [lo, hi]. The targeted variant descends the loss of a chosen class
instead ("make it a 3"). The loss is ``F.cross_entropy`` (mean over the batch) computed in eval mode; the
model is left as it was: training flags restored, weights untouched, no hooks, no gradients on parameters
(only the input's gradient is asked for, with ``torch.autograd.grad``)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz.checks import Choice, Flag, Module, Number, Seq, Tensor, checked, run_model
from cnnviz.device import model_device
from cnnviz.errors import ConfigError
from cnnviz.inside.saliency import eval_mode

ADV_MAX_STEPS = 200          # PGD steps in one call (each a forward and a backward pass)
ADV_MAX_EPSILONS = 32        # points of one accuracy-vs-ε curve
ADV_MAX_IMAGES = 10_000      # images of one accuracy-vs-ε curve (evaluated in batches of ADV_BATCH)
ADV_BATCH = 512              # images per forward/backward pass of the curve
ATTACKS = ("fgsm", "pgd", "targeted")
INPUT_RANGE = (0.0, 1.0)     # the value range of every image the app gives a model (cnnviz.io.images)


class _Batch(Tensor):
    """A float batch (N, ...) with N ≥ 1, checked like ``Tensor`` but handed over in its own dtype (half
    precision included): the result is given back in it."""

    def __init__(self):
        super().__init__(dims=(1, 6), what="a batch (N, C, H, W)")

    def check(self, field, value):
        super().check(field, value)
        if value.shape[0] < 1:
            raise ConfigError(field, f"must hold at least one image, got shape {tuple(value.shape)}")
        return value


def _range(lo: float, hi: float) -> None:
    if not lo < hi:
        raise ConfigError("lo", f"must be less than hi, got lo={lo:g}, hi={hi:g}")


def _target(target: torch.Tensor, n: int, field: str = "target") -> None:
    if target.dim() != 1 or target.shape[0] != n:
        raise ConfigError(field, f"must be one class index per image, shape ({n},), got {tuple(target.shape)}")


def _compute_dtype(model: nn.Module, x: torch.Tensor) -> torch.dtype:
    """The model's floating dtype (float32 for every model the app makes); x's own when the model has none."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return x.dtype


def _loss_grad(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """∇ₓ CE(model(x), target), model in eval mode; x and target on the model's device. Checks that the model
    returns (N, classes) logits and that every target is one of those classes (before the loss: on CUDA an
    out-of-range index would be a device assert, not an error)."""
    x = x.detach().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        out = run_model(model, x)
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != x.shape[0]:
            raise ConfigError("model", f"must return logits of shape ({x.shape[0]}, classes), got "
                              f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
        k = out.shape[1]
        if bool(((target < 0) | (target >= k)).any()):
            raise ConfigError("target", f"every class index must be in 0..{k - 1}, got "
                              f"{int(target.min())}..{int(target.max())}")
        if not out.requires_grad:  # a model with no differentiable path from the input
            raise ConfigError("model", "its output does not depend differentiably on the input (or gradients are "
                              "off: called inside torch.inference_mode)")
        (g,) = torch.autograd.grad(F.cross_entropy(out, target), x)
    return g  # same shape as x


def _fit(dtype: torch.dtype, *values: float) -> list[float]:
    """Numbers as the compute dtype can hold them: a finite ε or bound beyond float32's range (1e39) becomes its
    largest value, so ``eps · sign(g)`` stays finite (inf · 0 would be NaN) and clamp accepts the bounds."""
    big = torch.finfo(dtype).max
    return [max(-big, min(big, v)) for v in values]


def _prepare(model, x, target):
    """x and target moved to the model's device (x in its compute dtype), plus what to give the result back as."""
    _target(target, x.shape[0])
    dev = model_device(model)
    back = dict(device=x.device, dtype=x.dtype)
    return x.detach().to(device=dev, dtype=_compute_dtype(model, x)), target.to(dev).long(), back


@checked(model=Module(), x=_Batch(), target=Tensor(kind="int"), eps=Number(0), lo=Number(), hi=Number())
def fgsm(model: nn.Module, x: torch.Tensor, target: torch.Tensor, eps: float, lo: float, hi: float) -> torch.Tensor:
    """Fast Gradient Sign Method: ``clamp(x + eps · sign(∇ₓ CE(model(x), target)), lo, hi)``, detached, same
    shape, dtype and device as ``x`` (a batch (N, ...)); ``target`` (N,) class indices; eps ≥ 0; lo < hi.
    The gradient is computed in the model's dtype (float32): a half-precision x is promoted, the result cast
    back."""
    _range(lo, hi)
    xw, t, back = _prepare(model, x, target)
    eps, lo, hi = _fit(xw.dtype, eps, lo, hi)
    g = _loss_grad(model, xw, t)                                       # (N, ...)
    return (xw + eps * g.sign()).clamp(lo, hi).to(**back)


@checked(model=Module(), x=_Batch(), target=Tensor(kind="int"), eps=Number(0), lo=Number(), hi=Number(),
         steps=Number(1, ADV_MAX_STEPS, integer=True), step_size=Number(0, lo_open=True), targeted=Flag())
def pgd(model: nn.Module, x: torch.Tensor, target: torch.Tensor, eps: float, lo: float, hi: float, steps: int,
        step_size: float, targeted: bool = False) -> torch.Tensor:
    """Projected Gradient Descent in the L∞ ball, from x itself (no random start, so the same call gives the
    same image): ``steps`` times ``x' ← clamp(clip_ε(x' ± step_size · sign(∇ CE(model(x'), target))), lo, hi)``
    where clip_ε keeps every value within ε of x. Untargeted (+) raises the loss of the true class ``target``;
    ``targeted`` (−) lowers the loss of the class ``target``, pulling the prediction towards it. The result stays
    in the ε-ball of x and in [lo, hi] (for an x inside [lo, hi]); detached, like x."""
    _range(lo, hi)
    xw, t, back = _prepare(model, x, target)
    eps, lo, hi, step_size = _fit(xw.dtype, eps, lo, hi, step_size)
    sign = -1.0 if targeted else 1.0
    low, high = xw - eps, xw + eps
    adv = xw.clone()
    for _ in range(steps):
        g = _loss_grad(model, adv, t)
        adv = torch.minimum(torch.maximum(adv + sign * step_size * g.sign(), low), high).clamp(lo, hi)
    return adv.to(**back)


@checked(model=Module(), xs=_Batch(), ys=Tensor(kind="int"), epsilons=Seq(Number(0), ADV_MAX_EPSILONS, 1),
         lo=Number(), hi=Number())
def accuracy_vs_eps(model: nn.Module, xs: torch.Tensor, ys: torch.Tensor, epsilons, lo: float,
                    hi: float) -> list[float]:
    """The share of ``xs`` still classified as ``ys`` after FGSM at each ε (in the order given; ε = 0 is the
    clean accuracy of the images clamped to [lo, hi]). One backward pass per batch: FGSM's direction
    sign(∇ₓ L) does not depend on ε, so each ε costs one forward pass."""
    _range(lo, hi)
    if len(xs) > ADV_MAX_IMAGES:
        raise ConfigError("xs", f"at most {ADV_MAX_IMAGES:,} images per curve, got {len(xs):,}")
    _target(ys, len(xs), "ys")
    correct = [0] * len(epsilons)
    for i in range(0, len(xs), ADV_BATCH):
        xw, t, _ = _prepare(model, xs[i:i + ADV_BATCH], ys[i:i + ADV_BATCH])
        lo_, hi_, *eps_ = _fit(xw.dtype, lo, hi, *epsilons)
        direction = _loss_grad(model, xw, t).sign()                    # (B, ...)
        with torch.no_grad(), eval_mode(model):
            for j, eps in enumerate(eps_):
                pred = model((xw + eps * direction).clamp(lo_, hi_)).argmax(1)
                correct[j] += int((pred == t).sum())
    return [c / len(xs) for c in correct]


@dataclass(frozen=True)
class Attack:
    adv: torch.Tensor       # (1, C, H, W) the adversarial image
    before: torch.Tensor    # (classes,) probabilities on the image
    after: torch.Tensor     # (classes,) probabilities on the adversarial image
    label: int              # the class attacked: the prediction (untargeted) or the goal (targeted)


@checked(model=Module(), x=_Batch(), kind=Choice(ATTACKS), eps=Number(0), steps=Number(1, ADV_MAX_STEPS, integer=True),
         goal=Number(0, integer=True))
def attack_one(model: nn.Module, x: torch.Tensor, kind: str, eps: float, steps: int = 10, goal: int = 0) -> Attack:
    """One image (1, C, H, W) in INPUT_RANGE attacked as the Saliency page shows it: FGSM or PGD away from the
    model's own prediction (the true class may be unknown, for an upload), or targeted PGD towards ``goal``.
    PGD's step is 2.5 · ε / steps (Madry et al.): enough to cross the ball and come back."""
    lo, hi = INPUT_RANGE
    if x.shape[0] != 1:
        raise ConfigError("x", f"must be one image (1, C, H, W), got shape {tuple(x.shape)}")
    dev = model_device(model)
    xw = x.detach().to(device=dev, dtype=_compute_dtype(model, x))
    with torch.no_grad(), eval_mode(model):
        before = torch.softmax(run_model(model, xw).float(), dim=1)[0]  # (classes,)
    if kind == "targeted" and goal >= len(before):
        raise ConfigError("goal", f"must be a class index in 0..{len(before) - 1}, got {goal}")
    label = goal if kind == "targeted" else int(before.argmax())
    t = torch.tensor([label], device=dev)
    if eps == 0:
        adv = xw.clamp(lo, hi)
    elif kind == "fgsm":
        adv = fgsm(model, xw, t, eps, lo, hi)
    else:
        adv = pgd(model, xw, t, eps, lo, hi, steps, 2.5 * eps / steps, targeted=kind == "targeted")
    with torch.no_grad(), eval_mode(model):
        after = torch.softmax(model(adv).float(), dim=1)[0]
    return Attack(adv.cpu(), before.cpu(), after.cpu(), label)
