"""The class group's pieces against PyTorch on tiny tensors: the vectorised AdamW / SGD / clipping / EMA of
``GroupState`` against ``torch.optim``, ``clip_grad_norm_`` and ``steps.EMA`` member by member (different
hyper-parameters per member, several steps, a resumed optimizer state); the exported state in ``state_dict()``
form; a member's checkpoint holding only its own numbers; the grouped forward against each model's own forward
(BatchNorm's running statistics included) and the vmap fallback; the batched augmentation against
``steps.augment`` with the same generators; the group data key.

Tolerance: float32 weights within 2e-6 of their tensor's largest value (relative); the vectorised step rounds
``lr / bias_correction`` and ``step · (m / denom)`` in another order than torch's ``addcdiv`` (about 1e-7)."""
import copy
import io
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from cnnviz.architecture import codegen as cg
from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.io.data import load_dataset
from cnnviz.training.built_model import stack_text
from cnnviz.training.checkpoint import save_checkpoint
from cnnviz.training.group import group_key
from cnnviz.training.group_data import GroupData, augment_group
from cnnviz.training.group_forward import GroupedForward
from cnnviz.training.group_state import GroupState
from cnnviz.training.recipe import TrainConfig
from cnnviz.training.steps import EMA, augment

CPU = torch.device("cpu")
CONVS = [cg.conv(1, 8, 3, padding=1), {"type": "act", "kind": "relu"}, cg.pool(2)]  # 8×8 -> 8×4×4
TOL = 2e-6


def close(a: torch.Tensor, b: torch.Tensor, tol=TOL) -> bool:
    return bool(((a - b).abs().max() / b.abs().max().clamp_min(1e-12)) < tol)


def tiny(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))


def member(seed, kind, lr, wd, momentum=0.0, clip=0.0, ema=False):
    model = tiny(seed)
    opt = (torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd) if kind == "adamw" else
           torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=momentum > 0, weight_decay=wd))
    return SimpleNamespace(model=model, opt=opt, ema=EMA(model, 0.9) if ema else None,
                           cfg=SimpleNamespace(grad_clip=clip), lr=lr)


def solo_step(run, grads, lr):
    for p, g in zip(run.model.parameters(), grads):
        p.grad = g.clone()
    if run.cfg.grad_clip:
        nn.utils.clip_grad_norm_(list(run.model.parameters()), run.cfg.grad_clip)
    for group in run.opt.param_groups:
        group["lr"] = lr
    run.opt.step()
    if run.ema is not None:
        run.ema.update()


def train_both(specs, kind, steps=6, warm=0):
    """Each member stepped alone with torch.optim and the same members stepped together; ``warm`` solo steps
    first (a resumed optimizer state)."""
    solo = [member(*s) for s in specs]
    grouped = [member(*s) for s in specs]
    gen = torch.Generator().manual_seed(0)
    schedule = [[r.lr * (1 + 0.3 * t) for r in solo] for t in range(warm + steps)]

    def grads_for():
        return [[torch.randn(p.shape, generator=gen) * 3 for p in r.model.parameters()] for r in solo]
    for t in range(warm):
        for r, g, q, lr in zip(solo, grads_for(), grouped, schedule[t]):
            solo_step(r, g, lr)
            solo_step(q, g, lr)
    state = GroupState(grouped, CPU)
    for t in range(warm, warm + steps):
        grads = grads_for()
        for r, g, lr in zip(solo, grads, schedule[t]):
            solo_step(r, g, lr)
        state.grad.copy_(torch.stack([torch.cat([x.reshape(-1) for x in g]) for g in grads]))
        for q, lr in zip(grouped, schedule[t]):
            q.opt.param_groups[0]["lr"] = lr
        state.step(schedule[t])
    state.export()
    return solo, grouped


def assert_same(solo, grouped):
    for a, b in zip(solo, grouped):
        for pa, pb in zip(a.model.parameters(), b.model.parameters()):  # the member's module reads the stack
            assert close(pb, pa)
        sa, sb = a.opt.state_dict(), b.opt.state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        assert sa["state"].keys() == sb["state"].keys()
        for k in sa["state"]:
            for name, va in sa["state"][k].items():
                assert close(sb["state"][k][name], va), name
        if a.ema is not None:
            for pa, pb in zip(a.ema.model.parameters(), b.ema.model.parameters()):
                assert close(pb, pa)
            assert a.ema.updates == b.ema.updates


def test_vectorised_adamw_clip_and_ema_equal_torch_member_by_member():
    specs = [(1, "adamw", 0.01, 1e-4), (2, "adamw", 0.05, 0.1, 0.0, 0.5, True), (3, "adamw", 0.002, 0.0, 0.0, 0.0, True)]
    assert_same(*train_both(specs, "adamw"))


def test_vectorised_sgd_with_and_without_momentum_equals_torch():
    specs = [(1, "sgd", 0.1, 5e-4, 0.9), (2, "sgd", 0.05, 0.0, 0.0, 1.0), (3, "sgd", 0.2, 1e-3, 0.5, 0.0, True)]
    solo, grouped = train_both(specs, "sgd")
    assert_same(solo, grouped)
    assert not grouped[1].opt.state_dict()["state"]  # no momentum: torch keeps no buffer, nor does the export


@pytest.mark.parametrize("kind", ["adamw", "sgd"])
def test_a_resumed_optimizer_state_is_read_into_the_stack(kind):
    specs = [(4, kind, 0.01, 1e-4, 0.9), (5, kind, 0.03, 0.0, 0.9, 0.3)]
    assert_same(*train_both(specs, kind, steps=3, warm=2))


def test_a_members_checkpoint_holds_only_its_own_tensors():
    runs = [member(s, "adamw", 0.01, 0.0, ema=True) for s in range(20)]
    alone = copy.deepcopy(runs[3])
    state = GroupState(runs, CPU)
    state.grad.normal_()
    state.step([0.01] * 20)
    state.export()
    solo_step(alone, [torch.randn(p.shape) for p in alone.model.parameters()], 0.01)

    def blob(r):
        return save_checkpoint({}, r.model, step=1, epoch=1, optimizer=r.opt.state_dict(),
                               ema=r.ema.model.state_dict())
    grouped, solo = len(blob(runs[3])), len(blob(alone))
    assert abs(grouped - solo) / solo < 0.03, (grouped, solo)
    saved = torch.load(io.BytesIO(blob(runs[3])), weights_only=True)
    assert torch.equal(saved["state_dict"]["4.weight"], runs[3].model[4].weight.detach())


@pytest.mark.parametrize("cls", [TinyVGG, SmallResNet])
def test_grouped_forward_equals_each_models_forward_and_updates_batchnorm(cls):
    models = [cls(1, 10, 8, 4) for _ in range(3)]
    for k, m in enumerate(models):
        torch.manual_seed(k)
        for b in m.buffers():
            if b.is_floating_point():
                b.uniform_(0.5, 1.5)
    x = torch.randn(3, 5, 1, 8, 8)
    params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]) for n, _ in
              models[0].named_parameters()}
    buffers = {n: torch.stack([dict(m.named_buffers())[n] for m in models]) for n, _ in models[0].named_buffers()}
    fwd = GroupedForward(models[0])
    assert fwd.is_explicit
    for training in (False, True):
        out = fwd(params, buffers, x, training)
        ref = torch.stack([m.train(training)(x[k]) for k, m in enumerate(models)])
        assert torch.allclose(out, ref, atol=1e-5)
        for n in buffers:
            assert torch.allclose(buffers[n], torch.stack([dict(m.named_buffers())[n] for m in models]).to(
                buffers[n].dtype), atol=1e-6), n


def test_a_network_with_other_layers_runs_through_vmap():
    models = [nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(72, 3)) for _ in range(2)]
    params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]) for n, _ in
              models[0].named_parameters()}
    fwd = GroupedForward(models[0])
    x = torch.randn(2, 4, 1, 8, 8)
    assert not fwd.is_explicit
    assert torch.allclose(fwd(params, {}, x), torch.stack([m(x[k]) for k, m in enumerate(models)]), atol=1e-6)


def test_batched_augmentation_draws_and_applies_as_each_member_alone():
    cfgs = [TrainConfig(augment_flip=f, augment_crop=c, augment_noise=s) for f, c, s in
            ((True, 0, 0.0), (False, 2, 0.0), (True, 1, 0.1), (False, 0, 0.0), (True, 2, 0.05))]
    x = torch.randn(len(cfgs), 6, 2, 8, 8)
    gens = [torch.Generator().manual_seed(k) for k in range(len(cfgs))]
    out = augment_group(x, cfgs, gens)
    gens = [torch.Generator().manual_seed(k) for k in range(len(cfgs))]
    for k, cfg in enumerate(cfgs):
        ref = augment(x[k], cfg, gens[k]) if cfg.augment_flip or cfg.augment_crop or cfg.augment_noise else x[k]
        assert torch.equal(out[k], ref), k
        assert torch.equal(gens[k].get_state(), torch.Generator().manual_seed(k).get_state()) is (
            not (cfg.augment_flip or cfg.augment_crop or cfg.augment_noise))


def test_equal_data_in_separate_copies_is_one_set_and_built_stacks_never_share_a_group():
    a, b, c = load_dataset("digits", 0, 100), load_dataset("digits", 0, 100), load_dataset("digits", 1, 100)
    data = GroupData()
    ka, kb, kc = (data.key(TrainConfig(data=d)) for d in (a, b, c))
    assert a is not b and ka == kb and ka != kc
    head = {"type": "linear", "out_features": 10}
    one = stack_text([*CONVS, head], (1, 8, 8))
    two = stack_text([cg.conv(1, 4, 3, padding=1), cg.pool(2), head], (1, 8, 8))
    cfgs = [TrainConfig(model="Built", stack=s, data=a) for s in (one, two, one)]
    assert group_key(cfgs[0], CPU) != group_key(cfgs[1], CPU) and group_key(cfgs[0], CPU) == group_key(cfgs[2], CPU)


def test_per_member_loss_scaling_skips_only_the_overflowing_member_as_gradscaler_does():
    specs = [(1, "adamw", 0.01, 1e-4), (2, "adamw", 0.02, 0.0, 0.0, 1.0)]
    solo, grouped = [member(*s) for s in specs], [member(*s) for s in specs]
    scalers = [torch.amp.GradScaler("cpu", init_scale=2.0 ** 16, growth_interval=2000) for _ in solo]
    state = GroupState(grouped, CPU, fp16=True)
    gen = torch.Generator().manual_seed(0)
    for t in range(4):
        grads = [[torch.randn(p.shape, generator=gen) for p in r.model.parameters()] for r in solo]
        if t == 1:
            grads[1][0][0, 0, 0, 0] = float("inf")  # member 1 overflows once: its step is skipped, its scale halves
        for r, g, sc in zip(solo, grads, scalers):
            scale = sc.scale(torch.tensor(1.0))  # the loss scale, as scaler.scale(loss) applies it
            for p, x in zip(r.model.parameters(), g):
                p.grad = x * scale
            sc.unscale_(r.opt)
            if r.cfg.grad_clip:
                nn.utils.clip_grad_norm_(list(r.model.parameters()), r.cfg.grad_clip)
            sc.step(r.opt)
            sc.update()
        state.grad.copy_(torch.stack([torch.cat([x.reshape(-1) for x in g]) for g in grads]) * state.scale.view(-1, 1))
        state.step([r.lr for r in solo])
    assert state.scale.tolist() == [sc.get_scale() for sc in scalers] == [2.0 ** 16, 2.0 ** 15]
    state.export()
    assert_same(solo, grouped)
    assert grouped[1].opt.state_dict()["state"][0]["step"] == 3  # one of four steps skipped
