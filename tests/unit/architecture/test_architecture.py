"""summarize() vs PyTorch itself: forward hooks record every leaf call, FlopCounterMode counts each call alone."""
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz import ConfigError
from cnnviz.architecture import WHOLE, share, summarize, weight_sharing
from cnnviz.architecture.blocks import Conv2Plus1D, ConvSE, DynamicConv, PatchViTPool
from cnnviz.architecture.models import SmallResNet, TinyVGG
from cnnviz.architecture.presets import conv1d_net

torch.set_num_threads(1)


def oracle(model, in_shape):
    """(name, kind, out_shape, own params, flops of that call run alone) per leaf call, from plain hooks."""
    names = {m: n for n, m in model.named_modules()}
    calls, handles = [], []
    for m in model.modules():
        if next(m.children(), None) is None:
            handles.append(m.register_forward_hook(
                lambda mod, args, out: calls.append((mod, tuple(a.clone() for a in args),
                                               (out[0] if isinstance(out, tuple) else out).shape[1:]))))
    model.eval()
    with torch.no_grad():
        model(torch.randn(1, *in_shape))
    for h in handles:
        h.remove()
    rows = []
    for mod, args, out_shape in calls:
        with FlopCounterMode(display=False) as fc:
            mod(*args)
        rows.append((names[mod], type(mod).__name__, tuple(out_shape),
                     sum(p.numel() for p in mod.parameters(recurse=False)), fc.get_total_flops()))
    return rows


class SharedTwice(nn.Module):
    """The same conv called twice (two rows, one name) plus a residual add."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        return self.relu2(self.conv(self.relu1(self.conv(x))) + x)


def transposed_net():
    return nn.Sequential(nn.ConvTranspose2d(3, 6, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(6),
                         nn.ReLU(), nn.ConvTranspose2d(6, 2, 4, stride=2, groups=2), nn.Flatten(), nn.Linear(2 * 18 * 18, 3))


def conv3d_net():
    return nn.Sequential(nn.Conv3d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2), Conv2Plus1D(4, 6),
                         nn.ConvTranspose3d(6, 2, 2, stride=2))


CASES = [
    ("residual (SmallResNet)", lambda: SmallResNet(3, 10, 16, width=4), (3, 16, 16)),
    ("SE gating", lambda: ConvSE(3, 8, 3, 4), (3, 8, 8)),
    ("1-D", lambda: conv1d_net(), (1, 64)),
    ("3-D + (2+1)-D + transposed 3-D", conv3d_net, (2, 4, 8, 8)),
    ("transposed 2-D", transposed_net, (3, 4, 4)),
    ("shared module + add", SharedTwice, (4, 5, 5)),
    ("dynamic conv", lambda: DynamicConv(3, 4, 3, 2), (3, 6, 6)),
    ("ViT patch + attention pool", lambda: PatchViTPool(3, 16, 4, 2, 5, 16), (3, 16, 16)),
]


@pytest.mark.parametrize("label,make,in_shape", CASES, ids=[c[0] for c in CASES])
def test_rows_match_hooks_and_flop_counter(label, make, in_shape):
    torch.manual_seed(0)
    model = make()
    s = summarize(model, in_shape)
    got = [(r.name, r.kind, r.out_shape, r.params, r.flops) for r in s.rows]
    assert got == oracle(model, in_shape)
    with FlopCounterMode(display=False) as fc:  # grad on: FlopCounterMode's tracker fails on no_grad views
        y = model(torch.zeros(1, *in_shape))
    assert s.total_flops == fc.get_total_flops() and s.out_shape == tuple(y.shape[1:])
    assert s.total_params == sum(p.numel() for p in model.parameters())
    outs = [r for r in s.rows if r.kind != "ExpertKernels"]  # that one returns two tensors
    assert all(r.activation_bytes == 4 * torch.Size(r.out_shape).numel() for r in outs)


def test_shared_module_gives_two_rows_and_params_counted_once():
    s = summarize(SharedTwice(), (4, 5, 5))
    assert [r.name for r in s.rows] == ["conv", "relu1", "conv", "relu2"]
    assert s.total_params == 4 * 4 * 9 + 4 and s.other_params == 0


def test_functional_ops_outside_leaves_are_reported_apart():
    m = PatchViTPool(3, 16, 4, 2, 5, 16)
    s = summarize(m, (3, 16, 16))
    # q·kᵀ and att·v: 2 heads, 1 query, 16 tokens, 8 dims each -> 2·(2·1·16·8) FLOPs per matmul
    assert s.other_flops == 2 * (2 * 2 * 1 * 16 * 8)
    assert s.other_params == m.pos.numel()  # the positional embedding belongs to the container


def test_receptive_field_hand_computed():
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3, stride=2), nn.Conv2d(2, 2, 3, dilation=2),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 4, 3))
    rfs = [r.receptive_field for r in summarize(m, (1, 21, 21)).rows]
    # r: 3; 3+2·1 = 5 (jump 2); 5 + 2·2·2 = 13; 13 + 1·2 = 15 (jump 4); flatten keeps it; linear mixes all
    assert rfs == [(3, 3), (3, 3), (5, 5), (13, 13), (15, 15), (15, 15), WHOLE]


def test_receptive_field_follows_the_main_path_of_a_residual_block():
    rows = {r.name: r for r in summarize(SmallResNet(3, 10, 16, width=4), (3, 16, 16)).rows}
    assert rows["layer1.shortcut"].receptive_field == (3, 3)   # the stem's field, untouched
    assert rows["layer1.relu2"].receptive_field == (7, 7)      # after the add: the longer path
    assert rows["layer2.shortcut.0"].receptive_field == (7, 7)
    assert rows["layer2.relu2"].receptive_field == (13, 13)    # 7 + 2 + 2·2
    assert rows["pool"].receptive_field == WHOLE


def test_1d_receptive_field_and_transposed_is_unknown():
    rows = summarize(conv1d_net(), (1, 64)).rows
    assert [r.receptive_field for r in rows[:4]] == [(7,), (7,), (8,), (16,)]  # k7; pool 2; k5 at jump 2
    assert summarize(transposed_net(), (3, 4, 4)).rows[0].receptive_field is None


def _snapshot(model):
    return ({k: v.clone() for k, v in model.state_dict().items()}, {n: m.training for n, m in model.named_modules()})


def _hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def test_no_hooks_left_and_state_unchanged_in_train_mode():
    model = SmallResNet(3, 10, 16, width=4).train()
    model.layer2.eval()  # mixed modes must come back exactly
    before = _snapshot(model)
    global_hooks = len(nn.modules.module._global_forward_hooks) + len(nn.modules.module._global_forward_pre_hooks)
    summarize(model, (3, 16, 16))
    after = _snapshot(model)
    assert after[1] == before[1]
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])  # running stats + num_batches_tracked
    assert _hooks(model) == 0
    assert len(nn.modules.module._global_forward_hooks) + len(nn.modules.module._global_forward_pre_hooks) == global_hooks


class Corrupts(nn.Module):
    """Changes its buffer and its weight in place, then raises."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Conv2d(3, 3, 1)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        self.calls += 1
        self.lin.weight.data.mul_(2)
        self.lin.train(not self.lin.training)
        raise RuntimeError("boom")


def test_forward_that_raises_restores_everything():
    model = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), Corrupts()).train()
    model[0].running_mean.fill_(0.5)
    before = _snapshot(model)
    with pytest.raises(ConfigError, match="boom"):
        summarize(model, (3, 4, 4))
    after = _snapshot(model)
    assert after[1] == before[1]
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert _hooks(model) == 0


def test_bad_arguments():
    with pytest.raises(ConfigError, match="in_shape"):
        summarize(TinyVGG(), (3, 0, 32))
    with pytest.raises(ConfigError, match="model"):
        summarize("not a model", (3, 8, 8))
    with pytest.raises(ConfigError, match="forward pass"):
        summarize(TinyVGG(3, 10, 32), (1, 32, 32))  # wrong channel count


def test_share_sums_the_rest():
    s = summarize(TinyVGG(3, 10, 32), (3, 32, 32))
    top = share(s.rows, "params", top=2)
    assert len(top) == 3 and sum(v for _, v in top) == s.total_params
    assert sum(v for _, v in share(s.rows, "flops", top=3)) == s.leaf_flops


def test_weight_sharing_counts_match_pytorch():
    ws = weight_sharing((1, 6, 6), 2, 3)
    assert ws.out_shape == (2, 4, 4) and ws.positions == 16
    assert ws.conv == sum(p.numel() for p in nn.Conv2d(1, 2, 3).parameters()) == 20
    assert ws.dense == sum(p.numel() for p in nn.Linear(36, 32).parameters())
    assert ws.local == 18 * 16 + 32  # 2·1·3·3 weights at each of 16 positions, one bias per output cell
