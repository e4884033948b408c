"""The Training Lab's "One step" tab: one optimiser step of the digits TinyVGG on one batch of 8 digits, in numbers.
The batch and its loss; for one kernel entry the student picks, its gradient as Σ over the batch and output
positions of input × upstream gradient (the terms as small maps, autograd's value beside the sum); then the update
rule of SGD with momentum or AdamW with its numbers, before → after, checked against what torch.optim did. "Step
again" takes that step and shows the next one.

The run (weights, optimiser state, step count, losses) is this session's, under ``train_step_run``: a few thousand
floats. Every rerun rebuilds the small model from it (about a millisecond); a change of the start or the optimiser's
settings starts again from step 0."""
from __future__ import annotations

import torch
import streamlit as st

from cnnviz.architecture.models import build_model
from cnnviz.device import pick_device
from cnnviz.errors import ConfigError
from cnnviz.figures import one_step as figs
from cnnviz.inside.shipped import list_models, load_model
from cnnviz.training import (OPTIMIZERS, apply_grads, conv_layer_names, make_optimizer, slot_state, take_step,
                             weight_gradient_terms, weight_update)
from cnnviz.ui.state import PageState, Setting
from cnnviz.ui.training_lab import offline
from cnnviz.ui.widgets import show_chart, show_error

SHIPPED = "digits_TinyVGG"
STARTS = ("random", "trained")
BATCH = 8             # digits per step
RUN_STEPS = 10        # "Run 10 steps"
MAX_LOSSES = 500      # the loss curve keeps the last 500 steps: a session's state stays a few hundred kB
KEY = "train_step_run"
SETTINGS = dict(
    step_start=Setting("random", "Start from", "Random weights (seed 0): the loss falls step by step. Trained: the "
                       "shipped TinyVGG (97 % on digits): small gradients.", options=STARTS, widget="radio"),
    step_opt=Setting("sgd", "Optimizer", "SGD with momentum 0.9 (nesterov off), or AdamW (β1 0.9, β2 0.999, "
                     "ε 1e-8).", options=OPTIMIZERS),
    step_lr=Setting(0.05, "Learning rate η", "The step size of this run.", (1e-4, 1.0)),
    step_wd=Setting(1e-3, "Weight decay λ", "SGD: λθ joins the gradient; AdamW: θ shrinks by ηλθ.", (0.0, 0.1)),
    step_layer=Setting("features.0", "Conv layer", "The layer whose kernel entry you follow.", widget="selectbox"),
    step_o=Setting(0, "Output channel o", "Which kernel (output channel) of the layer.", (0, 1023)),
    step_i=Setting(0, "Input channel c", "Which input channel of that kernel.", (0, 1023)),
    step_ky=Setting(1, "Kernel row ky", "Row of the entry in the kernel.", (0, 31)),
    step_kx=Setting(1, "Kernel column kx", "Column of the entry in the kernel.", (0, 31)))
OPT_NAMES = {"adamw": "AdamW", "sgd": "SGD + momentum"}


@st.cache_resource(show_spinner=False)
def _start_weights(start: str) -> dict:
    """The starting weights (CPU tensors, shared read-only): the shipped model's, or a seeded random init."""
    if start == "trained":
        return {k: v.detach().cpu() for k, v in load_model(SHIPPED)[0].state_dict().items()}
    with torch.random.fork_rng(devices=[]):  # the seed stays inside: the process's generator is untouched
        torch.manual_seed(0)
        return build_model(**_spec()).state_dict()


def _spec() -> dict:
    info = list_models()[SHIPPED]
    return dict(name=info.model, **info.kwargs)


def _batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch ``step`` of a fixed shuffle of the digits' training images: (8, 1, 8, 8) and (8,)."""
    ds = offline("digits")
    perm = torch.randperm(len(ds.y_train), generator=torch.Generator().manual_seed(0))
    idx = perm[(step * BATCH) % (len(perm) - BATCH):][:BATCH]
    return ds.x_train[idx], ds.y_train[idx]


def _config(S: PageState) -> tuple:
    return S["step_start"], S["step_opt"], float(S["step_lr"]), float(S["step_wd"])


def _run(S: PageState) -> dict:
    """This session's run for the current settings; a fresh one at step 0 when they changed."""
    run = st.session_state.get(KEY)
    if not isinstance(run, dict) or run.get("config") != _config(S):
        run = dict(config=_config(S), step=0, weights=_start_weights(S["step_start"]), opt=None, losses=[])
        st.session_state[KEY] = run
    return run


def _restore(run: dict):
    """(model, optimiser) at the run's current step, on the device the policy picks."""
    start, opt_name, lr, wd = run["config"]
    model = build_model(**_spec())
    model.load_state_dict(run["weights"])
    model = model.to(pick_device()).eval()
    opt = make_optimizer(opt_name, model.parameters(), lr, wd)
    if run["opt"] is not None:
        opt.load_state_dict(run["opt"])
    return model, opt


def _saved(model, opt) -> dict:
    """The weights and optimiser state as CPU copies (what the session keeps)."""
    state = opt.state_dict()
    return dict(weights={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                opt=dict(param_groups=state["param_groups"],
                         state={i: {k: v.detach().cpu().clone() if torch.is_tensor(v) else v for k, v in s.items()}
                                for i, s in state["state"].items()}))


def _advance(S: PageState, steps: int) -> None:
    """Button callback: take ``steps`` steps and keep the result. The first is the step the page showed (kept in
    ``pending`` when it was drawn): committed without computing it again."""
    run = _run(S)
    pending = run.pop("pending", None)
    if pending is not None and pending["step"] == run["step"]:
        run.update(weights=pending["weights"], opt=pending["opt"], step=run["step"] + 1)
        run["losses"].append(pending["loss"])
        del run["losses"][:-MAX_LOSSES]
        steps -= 1
    if steps <= 0:
        return
    model, opt = _restore(run)
    device = next(model.parameters()).device
    for _ in range(steps):
        x, y = _batch(run["step"])
        run["losses"].append(take_step(model, opt, x.to(device), y.to(device)))
        run["step"] += 1
    run.update(_saved(model, opt))
    del run["losses"][:-MAX_LOSSES]


def _start_over() -> None:
    st.session_state.pop(KEY, None)


def _picker(S: PageState, model) -> tuple[str, tuple[int, int, int, int]]:
    """The conv layer and kernel entry, each bounded by the chosen layer's weight shape."""
    layers = conv_layer_names(model)
    ss = st.session_state
    if S["step_layer"] not in layers:
        ss[S.key("step_layer")] = layers[0]
    c = st.columns(5)
    layer = S.widget("step_layer", c[0], options=layers)
    shape = dict(model.named_modules())[layer].weight.shape  # (C_out, C_in / groups, kH, kW)
    index = []
    for k, (name, size) in enumerate(zip(("step_o", "step_i", "step_ky", "step_kx"), shape)):
        ss[S.key(name)] = min(max(int(S[name]), 0), size - 1)
        index.append(int(S.widget(name, c[k + 1], bounds=(0, size - 1))))
    return layer, tuple(index)


def panel(S: PageState) -> None:
    """The whole tab."""
    st.caption("One optimisation step of the digits TinyVGG on a batch of 8 training digits: the loss, one weight's "
               "gradient as a sum you can check, and the optimizer's update of that weight, before → after.")
    c = st.columns([2, 2, 1, 1])
    S.widget("step_start", c[0], horizontal=True, format_func={"random": "random weights",
                                                               "trained": "trained (shipped)"}.get)
    opt_name = S.widget("step_opt", c[1], format_func=OPT_NAMES.get)
    lr, wd = S.widget("step_lr", c[2], format="%.4f"), S.widget("step_wd", c[3], step=1e-4, format="%.4f")
    b = st.columns(3)
    b[0].button("Step again", type="primary", icon=":material/skip_next:", on_click=_advance, args=(S, 1),
                help="Take this step (the update below) and show the next batch.", width="stretch")
    b[1].button(f"Run {RUN_STEPS} steps", icon=":material/fast_forward:", on_click=_advance, args=(S, RUN_STEPS),
                help="Let it run: ten steps at once.", width="stretch")
    b[2].button("Start over", icon=":material/restart_alt:", on_click=_start_over,
                help="Back to step 0 with the starting weights.", width="stretch")
    try:
        run = _run(S)
        model, opt = _restore(run)
        layer, index = _picker(S, model)
        device = next(model.parameters()).device
        x, y = (t.to(device) for t in _batch(run["step"]))
        r = weight_gradient_terms(model, x, y, layer, index, all_grads=True)  # (N, H_out, W_out) terms; model untouched
        param = dict(model.named_modules())[layer].weight
        u = weight_update(opt_name, float(param.detach()[index]), float(r.autograd), lr, wd,
                          slot_state(opt, param, index, run["step"]))
        apply_grads(opt, model.parameters(), r.param_grads)  # torch.optim's step, same pass: "Step again" keeps it
        torch_after = float(param.detach()[index])
        run["pending"] = dict(step=run["step"], loss=r.loss, **_saved(model, opt))
    except ConfigError as err:
        show_error(err)
        return
    classes = list_models()[SHIPPED].classes
    m = st.columns(4)
    m[0].metric("Step", run["step"], help="Steps taken so far; this one is the next.")
    m[1].metric("Batch loss", f"{r.loss:.4f}", help="Mean cross-entropy over the 8 digits.")
    m[2].metric("Σ terms = ∂L/∂w", f"{float(r.grad):.5g}", help="The sum of every term below.")
    m[3].metric("autograd ∂L/∂w", f"{float(r.autograd):.5g}", delta="equal ✓" if r.matches else "differs ✗",
                delta_color="normal" if r.matches else "inverse", delta_arrow="off",
                help="PyTorch's own gradient of this weight (loss.backward()), for the check.")
    show_chart(figs.batch_figure(x[:, 0].cpu().numpy(), y.tolist(), r.logits.argmax(1).tolist(), classes),
               S.key("step_batch_fig"))
    st.markdown(f"**The weight**: `{layer}.weight[{', '.join(map(str, index))}]` = {r.weight:.6g}. Its gradient "
                "is a sum over the 8 digits and every output position (i, j) of the input value under the entry "
                "(x̃: the layer's input, padded as PyTorch pads it) times the loss's gradient at that output:")
    formula, numbers = r.latex()
    st.latex(formula)
    st.latex(numbers)
    show_chart(figs.terms_figure(r.patch.cpu().numpy(), r.upstream.cpu().numpy(), r.terms.cpu().numpy(),
                                 r.per_sample.tolist(), float(r.grad), y.tolist()), S.key("step_terms_fig"))
    st.markdown(f"**The update** ({OPT_NAMES[opt_name]}, η = {lr:g}, λ = {wd:g}, step t = {run['step'] + 1}):")
    for what, line in u.rows:
        st.caption(what)
        st.latex(line)
    a = st.columns(3)
    a[0].metric("before", f"{u.before:.6g}")
    a[1].metric("after", f"{u.after:.6g}", delta=f"{u.after - u.before:+.3g}", delta_color="off")
    same = u.agrees(torch_after)
    a[2].metric("torch.optim gives", f"{torch_after:.6g}", delta="equal ✓" if same else "differs ✗",
                delta_color="normal" if same else "inverse", delta_arrow="off",
                help=f"The same step by torch.optim.{'SGD' if opt_name == 'sgd' else 'AdamW'} on the whole model.")
    if run["losses"]:
        losses = run["losses"] + [r.loss]
        show_chart(figs.loss_steps_figure(losses, first=run["step"] + 1 - len(losses)), S.key("step_loss_fig"))
