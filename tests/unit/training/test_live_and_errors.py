"""Watch the network learn (the live snapshot is the first conv's weights and output, bounded; its figure draws exactly
those weights) and open the errors (a confusion cell lists exactly its validation images)."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnviz import ConfigError
from cnnviz.figures.learning_live import clickable_confusion, kernel_mosaic, kernels_figure, maps_figure
from cnnviz.training.live import MAX_KERNELS, MAX_MAPS, MAX_SIDE, Watcher, latest, snapshot
from cnnviz.training.validation import cell_indices, evaluate, predict, top_k


def _net(c_in=3, width=40, size=32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(c_in, width, 5, padding=2), nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(width, 4))


def test_the_snapshot_is_the_first_conv_weights_and_output_bounded_and_the_model_untouched():
    model, x = _net().train(), torch.rand(1, 3, 32, 32)
    hooks = sum(len(m._forward_hooks) for m in model.modules())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    snap = snapshot(model, x, step=7, epoch=0.5)
    conv = model[0]
    assert snap.layer == "0" and snap.step == 7 and snap.out_shape == (40, 32, 32)
    torch.testing.assert_close(torch.from_numpy(snap.kernels), conv.weight[:MAX_KERNELS].detach(), rtol=0, atol=0)
    out = F.conv2d(x, conv.weight, conv.bias, padding=2)[0, :MAX_MAPS]  # (16, 32, 32) -> mean of 2×2 blocks
    expected = out.reshape(MAX_MAPS, MAX_SIDE, 2, MAX_SIDE, 2).mean((2, 4))
    torch.testing.assert_close(torch.from_numpy(snap.maps), expected.detach())
    assert model.training and sum(len(m._forward_hooks) for m in model.modules()) == hooks
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # BN's running stats too
    assert snapshot(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), torch.rand(1, 1, 2, 2), 0, 0.0) is None


def test_the_watcher_sends_at_most_one_per_interval_and_a_bounded_count():
    model, sent = _net(1, 4, 8), []
    w = Watcher(torch.rand(5, 1, 8, 8), every_s=3600, limit=3)
    assert w.maybe(model, 1, 0.1, sent.append)           # the first report sends
    assert not w.maybe(model, 2, 0.2, sent.append)       # too soon
    assert w.maybe(model, 3, 1.0, sent.append, end_of_epoch=True)
    assert w.maybe(model, 4, 2.0, sent.append, end_of_epoch=True)
    assert not w.maybe(model, 5, 3.0, sent.append, end_of_epoch=True)  # the limit
    assert [s.step for s in sent] == [1, 3, 4] and latest(["x", *sent, 3]).step == 4


def test_the_live_kernels_figure_draws_exactly_the_weights():
    model = _net(3, 5)
    snap = snapshot(model, torch.rand(1, 3, 32, 32), 1, 0.1)
    z = np.asarray(kernels_figure(snap).data[0].z, dtype=np.float64)
    w = model[0].weight.detach().numpy()  # (5, 3, 5, 5): kernel i in column i (7 px apart), channel c in row c
    assert z.shape == (3 * 6 - 1, 5 * 7 - 2)
    for i in range(5):
        for c in range(3):
            np.testing.assert_allclose(z[c * 6:c * 6 + 5, i * 7:i * 7 + 5], w[i, c], atol=1e-5)
    assert np.isnan(z[5]).all() and np.isnan(z[:, 5:7]).all()  # blank rows between channels, columns between kernels
    grey = np.arange(10 * 9, dtype=np.float32).reshape(10, 1, 3, 3)  # 10 one-channel kernels: 8 to a row
    m = kernel_mosaic(grey)
    assert m.shape == (7, 31)
    np.testing.assert_array_equal(m[4:7, 0:3], grey[8, 0])
    np.testing.assert_array_equal(m[0:3, 28:31], grey[7, 0])
    np.testing.assert_allclose(np.asarray(maps_figure(snap).data[0].z, dtype=np.float64)[:16, :16], snap.maps[0],
                               atol=1e-5)


def test_a_confusion_cell_lists_exactly_its_validation_images():
    g = torch.Generator().manual_seed(0)
    y, pred = torch.randint(0, 4, (300,), generator=g), torch.randint(0, 4, (300,), generator=g)
    seen = []
    for t in range(4):
        for p in range(4):
            got = cell_indices(y, pred, t, p, 4)
            assert got == [i for i in range(300) if y[i] == t and pred[i] == p]
            seen += got
    assert sorted(seen) == list(range(300))  # the cells split the validation set
    for bad in (dict(true=4, pred=0), dict(true=-1, pred=0), dict(true=True, pred=0), dict(true=0.0, pred=1)):
        with pytest.raises(ConfigError):
            cell_indices(y, pred, bad["true"], bad["pred"], 4)
    with pytest.raises(ConfigError):
        cell_indices(y, pred[:-1], 0, 0, 4)


def test_predictions_agree_with_the_loops_evaluation_and_the_clickable_cells():
    model, x = _net(1, 3, 8).eval(), torch.rand(50, 1, 8, 8)
    y = torch.randint(0, 4, (50,), generator=torch.Generator().manual_seed(1))
    preds = predict(model, x, y, batch=7)
    torch.testing.assert_close(preds.probs, model(x).softmax(1).detach())
    assert preds.confusion == evaluate(model, x, y, 4)[2]
    assert [n for n, _ in top_k(preds.probs[0], "abcd")] == ["abcd"[int(i)] for i in preds.probs[0].argsort()[-3:].flip(0)]
    cells = clickable_confusion(preds.confusion, "abcd").data[1]
    assert [tuple(d) for d in cells.customdata] == [(i, j) for i in range(4) for j in range(4)]
    assert [int(t) for t in cells.text] == [preds.confusion[i][j] for i in range(4) for j in range(4)]
