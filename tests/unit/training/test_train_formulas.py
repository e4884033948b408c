"""Training Lab's objective and update: the formulas match what torch.optim does (one step by hand), weight decay
λ reaches the optimizer, and the mixed-precision kind reaches the config (off on the CPU)."""
import pytest
import torch

from cnnviz import ConfigError
from cnnviz.io.data import load_dataset
from cnnviz.training.formulas import decay_note, objective_latex, precision_note, smoothing_latex, update_latex
from cnnviz.training.loop import build
from cnnviz.training.recipe import TrainConfig, from_switches


@pytest.mark.parametrize("opt", ["sgd", "adamw"])
def test_weight_decay_reaches_the_optimizer(opt):
    ds = load_dataset("digits")
    cfg = from_switches(8, dict(ls=True), cuda=False, optimizer=opt, lr=0.05, weight_decay=0.0123)
    assert cfg.weight_decay == 0.0123
    _, optimizer, loss, _ = build(cfg, ds, torch.device("cpu"))
    assert all(g["weight_decay"] == 0.0123 for g in optimizer.param_groups)
    assert type(optimizer) is {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[opt]
    assert loss.label_smoothing == 0.1


def test_sgd_step_is_the_l2_penalty_of_the_formula():
    """θ ← θ − η(∇CE + λθ): the gradient of CE + (λ/2)‖θ‖², by hand (momentum 0, one step)."""
    torch.manual_seed(0)
    w, x = torch.randn(3, requires_grad=True), torch.randn(3)
    lr, lam = 0.1, 0.01
    opt = torch.optim.SGD([w], lr=lr, weight_decay=lam)
    before = w.detach().clone()
    (w * x).sum().backward()  # ∇ = x
    opt.step()
    assert torch.allclose(w.detach(), before - lr * (x + lam * before))
    assert r"\tfrac{0.01}{2}\,\lVert\theta\rVert^2" in objective_latex("sgd", lam, 0.0)
    assert r"0.01\,\theta" in update_latex("sgd", lr, lam) and r"0.1\,v" in update_latex("sgd", lr, lam)


def test_adamw_step_is_the_decoupled_decay_of_the_formula():
    """θ ← θ − η·m̂/(√v̂ + ε) − η·λ·θ; the first Adam step moves every weight by η·sign(g) (m̂/√v̂ = g/|g|)."""
    torch.manual_seed(0)
    w, x = torch.randn(3, requires_grad=True), torch.randn(3)
    lr, lam = 0.1, 0.01
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=lam, eps=0.0)
    before = w.detach().clone()
    (w * x).sum().backward()
    opt.step()
    assert torch.allclose(w.detach(), before * (1 - lr * lam) - lr * torch.sign(x), atol=1e-6)
    assert objective_latex("adamw", lam, 0.0) == r"L(\theta) = \mathrm{CE}(z, y)"  # not in the loss
    assert r"- 0.1\cdot0.01\,\theta" in update_latex("adamw", lr, lam)
    assert "decoupled" in decay_note("adamw").lower() and "L2" in decay_note("sgd")


def test_label_smoothing_in_the_objective_and_bad_values_name_the_field():
    assert r"\tilde y" in objective_latex("adamw", 1e-4, 0.1) and objective_latex("sgd", 0, 0.0).endswith("CE}(z, y)")
    assert smoothing_latex(0.1) == r"\tilde y = (1-0.1)\,\mathrm{onehot}(y) + \tfrac{0.1}{10}" and smoothing_latex(0) == ""
    for kw, field in ((dict(optimizer="adam"), "optimizer"), (dict(weight_decay=1.5), "weight_decay"),
                      (dict(lr=0.0), "lr")):
        args = dict(optimizer="sgd", lr=0.1, weight_decay=0.0) | kw
        with pytest.raises(ConfigError) as e:
            update_latex(**args)
        assert e.value.field == field


def test_amp_kind_reaches_the_config_on_cuda_only():
    assert from_switches(8, dict(amp=True), cuda=True, amp_kind="bf16").amp == "bf16"
    assert from_switches(8, dict(amp=True), cuda=True).amp == "fp16"
    assert from_switches(8, dict(amp=True), cuda=False, amp_kind="bf16").amp == "off"
    assert from_switches(8, dict(amp=False), cuda=True, amp_kind="bf16").amp == "off"
    with pytest.raises(ConfigError) as e:
        from_switches(8, dict(amp=True), cuda=True, amp_kind="fp8")
    assert e.value.field == "amp"
    assert "off on the CPU" in precision_note(False, "fp16") and "loss scaling" in precision_note(True, "fp16")
    assert "no loss scaling" in precision_note(True, "bf16")


def test_bf16_autocast_runs_a_training_step_on_the_cpu():
    """What the bf16 path does, on the CPU where torch supports it: the matmuls run in bfloat16, the weights and
    their gradients stay float32, and the loss is close to the float32 loss."""
    torch.manual_seed(0)
    model, x, y = torch.nn.Linear(16, 4), torch.randn(8, 16), torch.randint(0, 4, (8,))
    ref = torch.nn.functional.cross_entropy(model(x), y)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out, y)
    assert out.dtype == torch.bfloat16
    loss.backward()
    assert model.weight.grad.dtype == torch.float32
    assert loss.item() == pytest.approx(ref.item(), abs=0.05)
    assert TrainConfig(amp="bf16").amp == "bf16"
