"""One weight's optimiser update in numbers: SGD with momentum and weight decay (nesterov off, no dampening) and AdamW,
before → after with every intermediate, computed in the weight's dtype with the very operations and order of
``torch.optim.SGD``'s and ``torch.optim.AdamW``'s single-tensor steps, so the numbers shown are the numbers PyTorch
gets. The optimiser's state for that weight (momentum buffer; m, v and the step count) is carried from one call to
the next in :class:`SlotState`, as ``optimizer.state[param]`` carries it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from cnnviz.checks import Choice, Module, Number, Seq, Tensor, checked, run_model
from cnnviz.errors import ConfigError
from cnnviz.training.one_step import num
from cnnviz.training.recipe import OPTIMIZERS


@dataclass(frozen=True)
class SlotState:
    """One weight's optimiser state: ``step`` taken so far; SGD's momentum ``buffer`` (None before the first step,
    as in PyTorch); AdamW's running means ``m`` and ``v``."""
    step: int = 0
    buffer: float | None = None
    m: float = 0.0
    v: float = 0.0


@dataclass(frozen=True)
class WeightUpdate:
    """``before`` → ``after`` for one weight; ``values`` every intermediate by name; ``rows`` (what, LaTeX with the
    numbers) in the order the optimiser computes them; ``state`` the optimiser state after this step."""
    optimizer: str
    before: float
    after: float
    grad: float
    values: dict = field(default_factory=dict)
    rows: tuple = ()
    state: SlotState = SlotState()

    def agrees(self, value: float) -> bool:
        """``after`` equals ``value`` (the weight torch.optim left) up to float32 rounding: the same operations on
        another device may round one of them differently."""
        return abs(self.after - float(value)) <= 1e-6 * max(abs(self.after), abs(float(value))) + 1e-12


def _p(x: float) -> str:
    """An operand after an operator: a negative number in parentheses (``0.9\cdot(-0.1)``, not ``0.9\cdot-0.1``)."""
    return f"({num(x)})" if x < 0 else num(x)


def _t(x: float, dtype) -> torch.Tensor:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point or dtype.is_complex:
        raise ConfigError("dtype", f"must be a floating-point torch dtype, got {dtype!r}"[:120])
    return torch.tensor(x, dtype=dtype)


def _check_state(state: SlotState | None) -> SlotState:
    if state is None:
        return SlotState()
    if not isinstance(state, SlotState):
        raise ConfigError("state", f"must be a SlotState, got a {type(state).__name__}")
    return state


@checked(theta=Number(), grad=Number(), lr=Number(0, 10, lo_open=True), momentum=Number(0, 1),
         weight_decay=Number(0, 1))
def sgd_update(theta: float, grad: float, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
               state: SlotState | None = None, dtype: torch.dtype = torch.float32) -> WeightUpdate:
    """``torch.optim.SGD(lr, momentum, weight_decay)`` (dampening 0, nesterov off) on one weight:
    d = g + λθ; b = d on the first step, else b ← μ b + d; θ ← θ − η b."""
    state = _check_state(state)
    p, g = _t(theta, dtype), _t(grad, dtype)
    d = g.add(p, alpha=weight_decay) if weight_decay else g
    rows = [("gradient", rf"g = \partial L/\partial w = {num(float(g))}")]
    if weight_decay:
        rows.append(("weight decay (L2)", rf"d = g + \lambda\theta = {num(float(g))} + {_p(weight_decay)}"
                     rf"\cdot{_p(float(p))} = {num(float(d))}"))
    values = dict(g=float(g), d=float(d))
    buf = None
    if momentum:
        if state.buffer is None:
            buf = d.clone()
            rows.append(("momentum buffer (first step)", rf"b = d = {num(float(buf))}"))
        else:
            old = _t(state.buffer, dtype)
            buf = old.mul(momentum).add_(d)
            rows.append(("momentum buffer", rf"b \leftarrow \mu b + d = {num(momentum)}\cdot{_p(float(old))} + "
                         rf"{_p(float(d))} = {num(float(buf))}"))
        d = buf
        values["buffer"] = float(buf)
    after = p.add(d, alpha=-lr)
    rows.append(("update", rf"\theta \leftarrow \theta - \eta\,{'b' if momentum else 'd'} = {num(float(p))} - "
                 rf"{num(lr)}\cdot{_p(float(d))} = {num(float(after))}"))
    return WeightUpdate("sgd", float(p), float(after), float(g), values, tuple(rows),
                        SlotState(state.step + 1, None if buf is None else float(buf)))


@checked(theta=Number(), grad=Number(), lr=Number(0, 10, lo_open=True), betas=Seq(Number(0, 1), 2, 2),
         eps=Number(0, 1, lo_open=True), weight_decay=Number(0, 1))
def adamw_update(theta: float, grad: float, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, state: SlotState | None = None,
                 dtype: torch.dtype = torch.float32) -> WeightUpdate:
    """``torch.optim.AdamW(lr, betas, eps, weight_decay)`` on one weight, step t = state.step + 1:
    θ ← θ(1 − ηλ); m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t);
    θ ← θ − η m̂ / (√v̂ + ε) (PyTorch folds the corrections: θ − (η / (1 − β1^t)) m / (√v / √(1 − β2^t) + ε))."""
    state = _check_state(state)
    b1, b2 = betas
    if b1 >= 1 or b2 >= 1:
        raise ConfigError("betas", f"must each be in [0, 1), got {tuple(betas)}")
    t = state.step + 1
    p, g = _t(theta, dtype), _t(grad, dtype)
    m0, v0 = _t(state.m, dtype), _t(state.v, dtype)
    decayed = p.mul(1 - lr * weight_decay)
    m = m0.lerp(g, 1 - b1)
    v = v0.mul(b2).addcmul_(g, g, value=1 - b2)
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    step_size = lr / bc1
    denom = (v.sqrt() / bc2 ** 0.5).add_(eps)
    after = decayed.addcdiv(m, denom, value=-step_size)
    m_hat, v_hat = float(m) / bc1, float(v) / bc2
    values = dict(g=float(g), decayed=float(decayed), m=float(m), v=float(v), bias_correction1=bc1,
                  bias_correction2=bc2, m_hat=m_hat, v_hat=v_hat, denom=float(denom), step_size=step_size, step=t)
    rows = (("gradient", rf"g = \partial L/\partial w = {num(float(g))}"),
            ("decoupled weight decay", rf"\theta' = \theta\,(1-\eta\lambda) = {num(float(p))}\cdot(1-{num(lr)}"
             rf"\cdot{_p(weight_decay)}) = {num(float(decayed))}"),
            ("first moment", rf"m \leftarrow \beta_1 m + (1-\beta_1)\,g = {num(b1)}\cdot{_p(float(m0))} + "
             rf"{num(1 - b1)}\cdot{_p(float(g))} = {num(float(m))}"),
            ("second moment", rf"v \leftarrow \beta_2 v + (1-\beta_2)\,g^2 = {num(b2)}\cdot{_p(float(v0))} + "
             rf"{num(1 - b2)}\cdot{_p(float(g) ** 2)} = {num(float(v))}"),
            ("bias corrections", rf"\hat m = \frac{{m}}{{1-\beta_1^{{{t}}}}} = \frac{{{num(float(m))}}}{{{num(bc1)}}}"
             rf" = {num(m_hat)},\quad \hat v = \frac{{v}}{{1-\beta_2^{{{t}}}}} = \frac{{{num(float(v))}}}"
             rf"{{{num(bc2)}}} = {num(v_hat)}"),
            ("update", rf"\theta \leftarrow \theta' - \eta\,\frac{{\hat m}}{{\sqrt{{\hat v}}+\epsilon}} = "
             rf"{num(float(decayed))} - {_p(lr)}\cdot\frac{{{num(m_hat)}}}{{{num(math.sqrt(v_hat))} + {_p(eps)}}}"
             rf" = {num(float(after))}"))
    return WeightUpdate("adamw", float(p), float(after), float(g), values, rows, SlotState(t, None, float(m),
                                                                                           float(v)))


@checked(optimizer=Choice(OPTIMIZERS), theta=Number(), grad=Number(), lr=Number(0, 10, lo_open=True),
         weight_decay=Number(0, 1))
def weight_update(optimizer: str, theta: float, grad: float, lr: float, weight_decay: float,
                  state: SlotState | None = None, dtype: torch.dtype = torch.float32, momentum: float = 0.9,
                  betas=(0.9, 0.999), eps: float = 1e-8) -> WeightUpdate:
    """One step of ``optimizer`` ("sgd": SGD with ``momentum``; "adamw") for one weight; see :func:`sgd_update`
    and :func:`adamw_update`."""
    if optimizer == "sgd":
        return sgd_update(theta, grad, lr, momentum, weight_decay, state, dtype)
    return adamw_update(theta, grad, lr, betas, eps, weight_decay, state, dtype)


@checked(optimizer=Choice(OPTIMIZERS), lr=Number(0, 10, lo_open=True), weight_decay=Number(0, 1),
         momentum=Number(0, 1))
def make_optimizer(optimizer: str, params, lr: float, weight_decay: float, momentum: float = 0.9,
                   betas=(0.9, 0.999), eps: float = 1e-8) -> torch.optim.Optimizer:
    """The torch optimiser :func:`weight_update` mirrors: SGD (momentum, nesterov off) or AdamW."""
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.is_floating_point() for p in params):
        raise ConfigError("params", "must be the model's parameters (floating-point tensors), at least one")
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=False,
                               foreach=False)  # the single-tensor step, as mirrored above, on CUDA too
    return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=False)


def slot_state(opt: torch.optim.Optimizer, param: torch.Tensor, index, steps: int = 0) -> SlotState:
    """The state ``opt`` holds for ``param[index]`` as a :class:`SlotState` (empty before the first step). SGD
    keeps no step count: ``steps`` (the steps taken) stands in for it."""
    if not isinstance(param, torch.Tensor) or not any(param is p for g in opt.param_groups for p in g["params"]):
        raise ConfigError("param", "must be one of the optimiser's parameters")
    index = tuple(index)
    if len(index) != param.dim() or not all(isinstance(i, int) and 0 <= i < n for i, n in zip(index, param.shape)):
        raise ConfigError("index", f"must be {param.dim()} indices within {tuple(param.shape)}, got {index}"[:120])
    s = opt.state.get(param, {})
    step = s.get("step", steps)
    step = int(step.item() if isinstance(step, torch.Tensor) else step)
    buf = s.get("momentum_buffer")
    m, v = s.get("exp_avg"), s.get("exp_avg_sq")
    return SlotState(step, None if buf is None else float(buf[index]), 0.0 if m is None else float(m[index]),
                     0.0 if v is None else float(v[index]))


@checked(model=Module(), x=Tensor(dims=4, what="a batch of images (N, C, H, W)"),
         y=Tensor(dims=1, kind="int", what="the labels (N,)"))
def take_step(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One optimiser step of ``model`` on (x, y) with the mean cross-entropy; returns the loss before the step.
    The gradients are cleared afterwards (``set_to_none``); the model's mode is left as it was."""
    if not isinstance(opt, torch.optim.Optimizer):
        raise ConfigError("opt", f"must be a torch optimiser, got a {type(opt).__name__}")
    if len(y) != len(x):
        raise ConfigError("y", f"must hold one label per image: {len(x)} images, {len(y)} labels")
    opt.zero_grad(set_to_none=True)
    with torch.inference_mode(False), torch.enable_grad():
        logits = run_model(model, x)
        if logits.dim() != 2 or not bool(((y >= 0) & (y < logits.shape[-1])).all()):
            raise ConfigError("y", f"labels must be in 0..{logits.shape[-1] - 1} of (N, classes) logits")
        loss = torch.nn.functional.cross_entropy(logits, y.long())
        loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return float(loss.detach())


def apply_grads(opt: torch.optim.Optimizer, params, grads) -> None:
    """One ``opt.step()`` with these gradients (one per parameter, None to skip it; e.g. ``WeightGradient``'s
    ``param_grads``): what ``take_step`` does after its backward pass. The ``.grad`` fields are cleared afterwards."""
    if not isinstance(opt, torch.optim.Optimizer):
        raise ConfigError("opt", f"must be a torch optimiser, got a {type(opt).__name__}")
    params, grads = list(params), list(grads)
    if len(params) != len(grads) or any(g is not None and g.shape != p.shape for p, g in zip(params, grads)):
        raise ConfigError("grads", "must be one gradient (or None) per parameter, of its shape")
    opt.zero_grad(set_to_none=True)
    for p, g in zip(params, grads):
        p.grad = None if g is None else g.detach().clone()
    opt.step()
    opt.zero_grad(set_to_none=True)
