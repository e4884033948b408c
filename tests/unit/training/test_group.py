"""A class group (cnnviz.training.group): each member's numbers and events are those of the same config trained
alone (run_training) with the same seed; Stop, early stopping and failures are per member; group_key separates
configs whose computations cannot be stacked; an oversized group is refused before anything is allocated.

Tolerance: weights within 1e-4 of the largest weight of their tensor (relative), validation losses within 1e-4
relative and accuracies identical after 2 epochs; the batched convolutions round differently from the solo ones
(about 1e-6)."""
import io
import threading

import numpy as np
import pytest
import torch

from cnnviz import ConfigError
from cnnviz.io.data import load_dataset
from cnnviz.jobs import Checkpoint, Evaluation, Failed, Finished, Progress
from cnnviz.training import budget
from cnnviz.training.group import GroupJob, group_key, plan_groups, train_group
from cnnviz.training.live import LiveSnapshot
from cnnviz.training.loop import run_training
from cnnviz.training.recipe import SWITCHES, TrainConfig, from_switches

CPU = torch.device("cpu")
DATA = load_dataset("digits", 0, 200)  # 160 training images: 5 steps of 32 per epoch
BASE = dict(dataset="digits", data=DATA, model="TinyVGG", width=4, epochs=2, batch_size=32)
TOL = 1e-4


def alone(cfg):
    events, blobs = [], []
    run_training(cfg, events.append, threading.Event(), blobs.append, CPU)
    return events, blobs


def together(cfgs, on_event=None):
    events, blobs = [[] for _ in cfgs], [[] for _ in cfgs]
    stops = [threading.Event() for _ in cfgs]

    def emitter(k):
        def emit(e):
            events[k].append(e)
            if on_event:
                on_event(k, e, stops[k])
        return emit
    train_group([GroupJob(c, emitter(k), stops[k], blobs[k].append) for k, c in enumerate(cfgs)], CPU)
    return events, blobs


def weights(blob, key="state_dict"):
    return torch.load(io.BytesIO(blob), weights_only=True)[key]


def assert_same_weights(a: bytes, b: bytes, key="state_dict"):
    wa, wb = weights(a, key), weights(b, key)
    assert wa.keys() == wb.keys()
    for name in wa:
        if wa[name].is_floating_point():
            scale = wa[name].abs().max().clamp_min(1e-12)
            assert ((wa[name] - wb[name]).abs().max() / scale).item() < TOL, name
        else:
            assert torch.equal(wa[name], wb[name]), name


def assert_same_run(solo, grouped):
    (ev_a, bl_a), (ev_b, bl_b) = solo, grouped
    # live snapshots come at most once a second (wall clock) and at each epoch's end: compare the epoch-end ones
    kinds = lambda ev: [type(e).__name__ for e in ev if not isinstance(e, (Progress, LiveSnapshot))]  # noqa: E731
    assert kinds(ev_a) == kinds(ev_b)
    ends = lambda ev: [e for e in ev if isinstance(e, LiveSnapshot) and e.epoch == int(e.epoch)]  # noqa: E731
    assert [e.epoch for e in ends(ev_a)] == [e.epoch for e in ends(ev_b)]  # a member sends them as it would alone
    for a, b in zip(ends(ev_a), ends(ev_b)):
        assert a.step == b.step and a.layer == b.layer
        assert np.allclose(a.kernels, b.kernels, rtol=1e-3, atol=1e-4)
        assert np.allclose(a.maps, b.maps, rtol=1e-3, atol=1e-4)
    ea, eb = [e for e in ev_a if isinstance(e, Evaluation)], [e for e in ev_b if isinstance(e, Evaluation)]
    for a, b in zip(ea, eb):
        assert (a.step, a.epoch, a.val_acc, a.confusion) == (b.step, b.epoch, b.val_acc, b.confusion)
        assert b.val_loss == pytest.approx(a.val_loss, rel=TOL) and b.train_loss == pytest.approx(a.train_loss, rel=TOL)
    assert ev_a[-1] == ev_b[-1]  # Finished: step, epoch, reason, best accuracy
    assert isinstance(ev_b[0], Progress) and ev_b[0].step == ev_a[0].step  # the first curve point after a step
    assert len(bl_a) == len(bl_b)
    for a, b in zip(bl_a, bl_b):
        assert abs(len(b) - len(a)) <= 0.03 * len(a), (len(a), len(b))  # only its own tensors, not the group's
        assert_same_weights(a, b)
        if "ema" in torch.load(io.BytesIO(a), weights_only=True):
            assert_same_weights(a, b, "ema")


SWITCH_CFGS = {name: from_switches(8, {name: True}, False, seed=k + 1, lr=0.01 * (k + 1), **BASE)
               for k, (name, _, _) in enumerate(SWITCHES)}


@pytest.fixture(scope="module")
def switch_runs():
    """One group with a member per switch (each with another seed and learning rate), and each trained alone."""
    names = list(SWITCH_CFGS)
    grouped = dict(zip(names, zip(*together([SWITCH_CFGS[n] for n in names]))))
    return {name: (alone(SWITCH_CFGS[name]), grouped[name]) for name in names}


@pytest.mark.parametrize("name", [name for name, _, _ in SWITCHES])
def test_a_member_trains_as_if_alone_for_every_switch(switch_runs, name):
    solo, grouped = switch_runs[name]
    assert_same_run(solo, grouped)


def test_sgd_and_batchnorm_members_match_their_solo_runs():
    """SmallResNet's BatchNorm: the running statistics are stacked per member and written back each step."""
    cfgs = [TrainConfig(**{**BASE, "model": "SmallResNet", "epochs": 1}, optimizer="sgd", seed=s, lr=lr,
                        augment_flip=flip, ema=flip) for s, lr, flip in ((0, 0.05, False), (1, 0.1, True))]
    grouped = together(cfgs)
    for k, cfg in enumerate(cfgs):
        assert_same_run(alone(cfg), (grouped[0][k], grouped[1][k]))
    assert any("running_mean" in n for n in weights(grouped[1][0][-1]))


def test_a_members_stop_ends_only_its_run_and_its_checkpoint_is_its_own():
    cfgs = [TrainConfig(**BASE, seed=s, lr=0.01, augment_noise=0.05 * s) for s in range(3)]

    def stop_after_first_epoch(k, e, stop):
        if k == 1 and isinstance(e, Checkpoint):
            stop.set()
    events, blobs = together(cfgs, stop_after_first_epoch)
    assert events[1][-1] == Finished(5, 1, "stopped", events[1][-1].best_val_acc)
    assert len(blobs[1]) == 1
    for k in (0, 2):
        assert_same_run(alone(cfgs[k]), (events[k], blobs[k]))
    solo_events, solo_blobs = alone(cfgs[1])
    assert_same_weights(solo_blobs[0], blobs[1][0])  # the stopped member's checkpoint: its own epoch 1


def test_a_member_resumes_inside_a_group_as_it_would_alone():
    _, blobs = alone(TrainConfig(**{**BASE, "epochs": 1}, seed=5, lr=0.02, ema=True, augment_flip=True))
    resumed = TrainConfig(**{**BASE, "epochs": 3}, seed=5, lr=0.02, ema=True, augment_flip=True, resume=blobs[0])
    fresh = TrainConfig(**{**BASE, "epochs": 2}, seed=6, lr=0.01)
    events, group_blobs = together([resumed, fresh])
    assert [e.epoch for e in events[0] if isinstance(e, Evaluation)] == [2, 3]
    assert min(e.step for e in events[0] if isinstance(e, Progress)) == 6  # continues after the saved step 5
    assert_same_run(alone(resumed), (events[0], group_blobs[0]))
    assert_same_run(alone(fresh), (events[1], group_blobs[1]))


def test_early_stopping_leaves_the_group_and_the_others_train_on():
    # a learning rate of 1e-7 cannot improve the validation loss by 1e-4: patience 1 ends after epoch 2
    early = TrainConfig(**{**BASE, "epochs": 4}, seed=1, lr=1e-7, schedule="constant", patience=1)
    full = TrainConfig(**{**BASE, "epochs": 4}, seed=2, lr=0.02)
    events, blobs = together([early, full])
    assert events[0][-1].reason == "early stopping" and events[0][-1].epoch == 2
    assert events[1][-1].reason == "done" and events[1][-1].epoch == 4
    assert_same_run(alone(early), (events[0], blobs[0]))
    assert_same_run(alone(full), (events[1], blobs[1]))


def test_a_member_whose_loss_blows_up_fails_alone():
    blown = TrainConfig(**BASE, seed=1, lr=1e9, optimizer="sgd", momentum=0.0, schedule="constant")
    ok = TrainConfig(**BASE, seed=2, lr=0.02, optimizer="sgd")
    events, blobs = together([blown, ok])
    solo_events, _ = alone(blown)
    assert isinstance(solo_events[-1], Failed) and isinstance(events[0][-1], Failed)
    assert "lower the learning rate" in events[0][-1].message
    assert_same_run(alone(ok), (events[1], blobs[1]))


def test_a_member_that_cannot_start_fails_alone():
    _, wide = alone(TrainConfig(**{**BASE, "width": 8, "epochs": 1}))
    bad = TrainConfig(**BASE, seed=3, resume=wide[0])  # a width-8 checkpoint for a width-4 run
    events, blobs = together([bad, TrainConfig(**BASE, seed=4)])
    assert isinstance(events[0][-1], Failed) and "width" in events[0][-1].message and not blobs[0]
    assert events[1][-1].reason == "done"


def test_group_key_separates_what_changes_the_computation_and_nothing_else():
    base = TrainConfig(**BASE)
    same = [TrainConfig(**BASE, seed=7, lr=0.5, weight_decay=0.1, label_smoothing=0.0, augment_flip=True,
                        augment_crop=2, augment_noise=0.1, ema=True, grad_clip=1.0, patience=2, balanced=True,
                        schedule="cosine", momentum=0.5)]
    same.append(TrainConfig(**{**BASE, "epochs": 7}))
    other = [TrainConfig(**{**BASE, "model": "SmallResNet"}), TrainConfig(**{**BASE, "width": 8}),
             TrainConfig(**{**BASE, "batch_size": 16}), TrainConfig(**BASE, optimizer="sgd"),
             TrainConfig(**{**BASE, "data": load_dataset("digits", 0, 100)}),
             TrainConfig(**{**BASE, "data": load_dataset("shapes", 0, 200)})]
    assert all(group_key(c, CPU) == group_key(base, CPU) for c in same)
    assert len({group_key(c, CPU) for c in [base, *other]}) == 1 + len(other)
    assert plan_groups([base, other[0], same[0], other[3], same[1]], CPU) == [[0, 2, 4], [1], [3]]
    with pytest.raises(ConfigError) as err:
        train_group([GroupJob(base, print), GroupJob(other[2], print)], CPU)
    assert err.value.field == "group"


def test_an_oversized_group_is_refused_before_anything_runs_and_planned_in_parts(monkeypatch):
    cfg = TrainConfig(**BASE)
    from cnnviz.architecture.models import build_model
    model = build_model("TinyVGG", 1, 10, 8, width=4)
    member = budget.group_member_bytes(model, (1, 8, 8), 32, 40)
    weights_bytes = sum(p.numel() * 4 for p in model.parameters())
    assert member == budget.training_bytes(model, (1, 8, 8), 32, 40) + 2 * weights_bytes
    data_bytes = sum(t.numel() * t.element_size() for t in (DATA.x_train, DATA.y_train, DATA.x_val, DATA.y_val))
    monkeypatch.setattr(budget, "MAX_GROUP_BYTES", 3 * member + data_bytes)  # three members fit, not four
    events = []
    with pytest.raises(ConfigError) as err:
        train_group([GroupJob(cfg, events.append) for _ in range(4)], CPU)
    assert err.value.field == "group" and events == []
    assert plan_groups([cfg] * 7, CPU) == [[0, 1, 2], [3, 4, 5], [6]]
    monkeypatch.setattr(budget, "MAX_GROUP_BYTES", 10 ** 12)
    with pytest.raises(ConfigError, match="at most"):
        budget.check_group_memory(member, budget.MAX_GROUP_SIZE + 1)


@pytest.mark.parametrize("act", ["relu", "tanh"])  # relu: the explicit grouped pass; tanh: the vmap fallback
def test_built_networks_train_in_a_group_as_alone(act):
    from cnnviz.architecture import codegen as cg
    from cnnviz.training.built_model import stack_text
    stack = stack_text([cg.conv(1, 4, 3, padding=1), {"type": "act", "kind": act}, cg.pool(2),
                        {"type": "linear", "out_features": 10}], (1, 8, 8))
    cfgs = [TrainConfig(**{**BASE, "model": "Built", "epochs": 1}, stack=stack, seed=s, lr=0.01 * (s + 1),
                        augment_flip=s == 1, ema=s == 1) for s in range(2)]
    grouped = together(cfgs)
    for k, cfg in enumerate(cfgs):
        assert_same_run(alone(cfg), (grouped[0][k], grouped[1][k]))
