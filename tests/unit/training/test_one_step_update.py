"""One weight's optimiser update in numbers equals what torch.optim.SGD (momentum 0.9, weight decay) and
torch.optim.AdamW do to that weight, step after step; the first steps also match hand-computed values; bad
arguments are ConfigErrors."""
import math

import pytest
import torch
import torch.nn as nn

from cnnviz.errors import ConfigError
from cnnviz.training import (SlotState, adamw_update, apply_grads, make_optimizer, sgd_update, slot_state,
                             take_step, weight_gradient_terms, weight_update)

SETTINGS = dict(sgd=dict(lr=0.05, weight_decay=1e-3), adamw=dict(lr=0.01, weight_decay=0.05))


def tiny():
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, stride=2), nn.Flatten(),
                         nn.Linear(8, 4)).eval()


@pytest.mark.parametrize("opt_name", ["sgd", "adamw"])
def test_three_steps_equal_torch_optim_on_every_entry_chosen(opt_name):
    """The model steps with torch.optim (via make_optimizer/take_step); each step the gradient of a few entries
    comes from weight_gradient_terms and the update from weight_update, carried state included. Compared with
    the weights torch.optim left, and with a second, plain torch.optim run on a copy (independent of our helpers)."""
    model, g = tiny(), torch.Generator().manual_seed(4)
    plain = tiny()
    opt = make_optimizer(opt_name, model.parameters(), **SETTINGS[opt_name])
    ref_opt = (torch.optim.SGD(plain.parameters(), momentum=0.9, **SETTINGS[opt_name]) if opt_name == "sgd" else
               torch.optim.AdamW(plain.parameters(), **SETTINGS[opt_name]))
    entries = [("0", (0, 0, 1, 1)), ("0", (2, 0, 0, 2)), ("2", (1, 2, 2, 0))]
    states = {e: None for e in entries}
    for step in range(3):
        x, y = torch.rand(5, 1, 6, 6, generator=g), torch.randint(0, 4, (5,), generator=g)
        updates = {}
        for layer, index in entries:
            r = weight_gradient_terms(model, x, y, layer, index)
            param = dict(model.named_modules())[layer].weight
            carried = states[(layer, index)]
            assert carried is None or carried == slot_state(opt, param, index, step)   # state carried = torch's state
            updates[(layer, index)] = weight_update(opt_name, float(param.detach()[index]), float(r.autograd),
                                                    state=slot_state(opt, param, index, step), **SETTINGS[opt_name])
        take_step(model, opt, x, y)
        ref_opt.zero_grad()
        nn.functional.cross_entropy(plain(x), y).backward()
        ref_opt.step()
        for (layer, index), u in updates.items():
            now = float(dict(model.named_modules())[layer].weight.detach()[index])
            ref = float(dict(plain.named_modules())[layer].weight.detach()[index])
            assert u.after == now and u.agrees(now)           # the same float32 operations, in the same order
            assert not u.agrees(now + 1e-4 * max(abs(now), 1e-3))
            assert u.after == pytest.approx(ref, rel=1e-6, abs=1e-9)
            assert u.state.step == step + 1
            states[(layer, index)] = u.state
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("opt_name", ["sgd", "adamw"])
def test_one_pass_step_equals_take_step(opt_name):
    """weight_gradient_terms(all_grads=True) + apply_grads (one forward and backward) leaves the same weights as
    take_step (loss.backward(), opt.step()); a frozen parameter gets no gradient and does not move."""
    a, b, g = tiny(), tiny(), torch.Generator().manual_seed(5)
    for m in (a, b):
        m[4].bias.requires_grad_(False)
    opt_a = make_optimizer(opt_name, a.parameters(), **SETTINGS[opt_name])
    opt_b = make_optimizer(opt_name, b.parameters(), **SETTINGS[opt_name])
    for _ in range(3):
        x, y = torch.rand(5, 1, 6, 6, generator=g), torch.randint(0, 4, (5,), generator=g)
        r = weight_gradient_terms(a, x, y, "2", (0, 1, 1, 1), all_grads=True)
        assert r.param_grads[-1] is None and all(t is not None for t in r.param_grads[:-1])
        apply_grads(opt_a, a.parameters(), r.param_grads)
        assert take_step(b, opt_b, x, y) == pytest.approx(r.loss, rel=1e-6)
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-7)
    assert torch.equal(a[4].bias, tiny()[4].bias) and all(p.grad is None for p in a.parameters())


def test_sgd_first_and_second_step_by_hand():
    u1 = sgd_update(0.5, 0.2, lr=0.1, momentum=0.9, weight_decay=0.01, dtype=torch.float64)
    d1 = 0.2 + 0.01 * 0.5
    assert u1.values["buffer"] == pytest.approx(d1) and u1.after == pytest.approx(0.5 - 0.1 * d1)
    u2 = sgd_update(u1.after, -0.1, lr=0.1, momentum=0.9, weight_decay=0.01, state=u1.state, dtype=torch.float64)
    b2 = 0.9 * d1 + (-0.1 + 0.01 * u1.after)
    assert u2.values["buffer"] == pytest.approx(b2) and u2.after == pytest.approx(u1.after - 0.1 * b2)
    assert [name for name, _ in u2.rows] == ["gradient", "weight decay (L2)", "momentum buffer", "update"]
    assert f"{u2.after:.6g}" in u2.rows[-1][1]


def test_adamw_first_and_second_step_by_hand():
    lr, wd, b1, b2, eps = 0.01, 0.1, 0.9, 0.999, 1e-8
    u1 = adamw_update(0.5, 0.2, lr=lr, weight_decay=wd, dtype=torch.float64)
    assert u1.values["m_hat"] == pytest.approx(0.2) and u1.values["v_hat"] == pytest.approx(0.04)
    assert u1.after == pytest.approx(0.5 * (1 - lr * wd) - lr * 0.2 / (0.2 + eps))
    u2 = adamw_update(u1.after, -0.3, lr=lr, weight_decay=wd, state=u1.state, dtype=torch.float64)
    m, v = b1 * 0.02 + 0.1 * -0.3, b2 * 0.2 ** 2 * 0.001 + 0.001 * 0.09
    m_hat, v_hat = m / (1 - b1 ** 2), v / (1 - b2 ** 2)
    assert (u2.values["m"], u2.values["v"]) == (pytest.approx(m), pytest.approx(v))
    assert u2.after == pytest.approx(u1.after * (1 - lr * wd) - lr * m_hat / (math.sqrt(v_hat) + eps))
    assert u2.state == SlotState(2, None, pytest.approx(m), pytest.approx(v))


@pytest.mark.parametrize("call, field", [
    (lambda: weight_update("adam", 0.1, 0.1, 0.1, 0.0), "optimizer"),
    (lambda: weight_update("sgd", 0.1, 0.1, 0.0, 0.0), "lr"),
    (lambda: weight_update("sgd", 0.1, float("nan"), 0.1, 0.0), "grad"),
    (lambda: weight_update("adamw", 0.1, 0.1, 0.1, 1.5), "weight_decay"),
    (lambda: weight_update("sgd", 0.1, 0.1, 0.1, 0.0, state={"step": 1}), "state"),
    (lambda: adamw_update(0.1, 0.1, 0.1, betas=(0.9, 1.0)), "betas"),
    (lambda: sgd_update(0.1, 0.1, 0.1, momentum=2.0), "momentum"),
])
def test_bad_arguments_are_config_errors(call, field):
    with pytest.raises(ConfigError) as err:
        call()
    assert err.value.field == field


MODEL = tiny()
OPT = make_optimizer("sgd", MODEL.parameters(), 0.1, 0.0)


@pytest.mark.parametrize("call, field", [
    (lambda: weight_update("sgd", 0.1, 0.1, 0.1, 0.0, dtype="float32"), "dtype"),
    (lambda: weight_update("sgd", 0.1, 0.1, 0.1, 0.0, dtype=torch.int64), "dtype"),
    (lambda: make_optimizer("sgd", [], 0.1, 0.0), "params"),
    (lambda: slot_state(OPT, torch.zeros(3), (0,)), "param"),
    (lambda: slot_state(OPT, MODEL[0].weight, (0, 0, 3, 0)), "index"),
    (lambda: slot_state(OPT, MODEL[0].weight, (0, 0, 1)), "index"),
    (lambda: take_step(MODEL, OPT, torch.zeros(2, 3, 6, 6), torch.tensor([0, 1])), "x"),      # 3 channels, not 1
    (lambda: take_step(MODEL, OPT, torch.zeros(2, 1, 6, 6), torch.tensor([0, 9])), "y"),      # no class 9
    (lambda: take_step(MODEL, OPT, torch.zeros(2, 1, 6, 6), torch.tensor([0])), "y"),
    (lambda: take_step(MODEL, "sgd", torch.zeros(2, 1, 6, 6), torch.tensor([0, 1])), "opt"),
    (lambda: apply_grads(OPT, MODEL.parameters(), [None]), "grads"),
    (lambda: apply_grads(OPT, MODEL.parameters(), [torch.zeros(1)] * len(list(MODEL.parameters()))), "grads"),
    (lambda: weight_gradient_terms(MODEL, torch.zeros(2, 1, 6, 6), torch.tensor([0, 1]), "0", (0, 0, 0, 0),
                                   all_grads=1), "all_grads"),
])
def test_bad_arguments_of_the_helpers_are_config_errors(call, field):
    before = [p.clone() for p in MODEL.parameters()]
    with pytest.raises(ConfigError) as err:
        call()
    assert err.value.field == field
    assert all(torch.equal(a, b) for a, b in zip(before, MODEL.parameters()))  # nothing stepped
