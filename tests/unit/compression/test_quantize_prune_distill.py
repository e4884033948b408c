"""cnnviz.compression vs PyTorch's own quantization / pruning ops and direct formulas, on tiny seeded tensors."""
import math
import threading

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import prune

from cnnviz import ConfigError
from cnnviz.compression import (accuracy, fake_quantize, model_size_bytes, prune_model, quant_params, quantize_model,
                             sparsity_per_layer, tau_for_sparsity, tensor_bytes, tradeoff_curves)
from cnnviz.compression.distill import DistillConfig, distillation_loss, fit, run_distill, train_epochs
from cnnviz.architecture.models import TinyVGG
from cnnviz.jobs import Finished, JobLimiter, ThreadRunner


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- quantization
@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("symmetric", [True, False])
def test_levels_and_error_bound_per_tensor(bits, symmetric):
    w = rand(8, 3, 3, 3, seed=bits) * 0.3 + (0.0 if symmetric else 0.1)
    q = fake_quantize(w, bits, symmetric)
    assert q.shape == w.shape and q.dtype == w.dtype
    assert len(torch.unique(q)) <= 2 ** bits
    step = quant_params(w, bits, symmetric).scale
    assert (q - w).abs().max() <= step / 2 + 1e-6
    levels = quant_params(w, bits, symmetric).levels()  # every value lies on the grid
    assert (torch.unique(q)[:, None] - levels[None]).abs().min(dim=1).values.max() < 1e-6


def test_symmetric_scale_formula():
    w = torch.tensor([-0.5, 0.25, 1.5, 0.0])
    p = quant_params(w, 3, symmetric=True)
    assert p.scale.item() == pytest.approx(1.5 / 3)  # max|w| / (2^(3−1) − 1)
    assert fake_quantize(w, 3).tolist() == pytest.approx([-0.5, 0.0, 1.5, 0.0])  # 0.25/0.5 rounds half to even


@pytest.mark.parametrize("symmetric", [True, False])
def test_matches_torch_fake_quantize_per_tensor(symmetric):
    w, bits = rand(16, 8, seed=3), 4
    p = quant_params(w, bits, symmetric)
    ref = torch.fake_quantize_per_tensor_affine(w, p.scale.item(), int(p.zero_point.item()), p.qmin, p.qmax)
    assert torch.allclose(fake_quantize(w, bits, symmetric), ref, atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("symmetric", [True, False])
def test_matches_torch_fake_quantize_per_channel(axis, symmetric):
    w, bits = rand(4, 5, 3, seed=4) * torch.tensor([0.1, 1.0, 3.0])[None, None], 3
    p = quant_params(w, bits, symmetric, per_channel=True, axis=axis)
    assert p.scale.shape == (w.shape[axis],)
    ref = torch.fake_quantize_per_channel_affine(w, p.scale, p.zero_point.int(), axis, p.qmin, p.qmax)
    q = fake_quantize(w, bits, symmetric, per_channel=True, axis=axis)
    assert torch.allclose(q, ref, atol=1e-6)
    for i in range(w.shape[axis]):  # ≤ 2^bits values per slice
        assert len(torch.unique(q.select(axis, i))) <= 2 ** bits


def test_asymmetric_keeps_zero_exact_and_all_zero_tensor():
    w = torch.tensor([0.0, 0.3, 0.7, 1.1])  # all ≥ 0: range stretched to include 0
    assert fake_quantize(w, 2, symmetric=False)[0] == 0.0
    assert torch.equal(fake_quantize(torch.zeros(3), 4), torch.zeros(3))


@pytest.mark.parametrize("bits", [1, 17, 4.0])
def test_bad_bits(bits):
    with pytest.raises(ConfigError, match="^bits:"):
        fake_quantize(torch.ones(3), bits)


def test_bad_axis():
    with pytest.raises(ConfigError, match="^axis:"):
        fake_quantize(torch.ones(3, 3), 4, per_channel=True, axis=2)


# --------------------------------------------------------------------------- distillation
def test_distillation_loss_direct_formula():
    s, t, y = rand(5, 4, seed=5), rand(5, 4, seed=6), torch.tensor([0, 1, 2, 3, 0])
    alpha, T = 0.3, 2.5
    ps, pt = (s / T).softmax(1), (t / T).softmax(1)
    kl = sum((pt[i] * (pt[i].log() - ps[i].log())).sum() for i in range(5)) / 5
    ce = -sum(s.log_softmax(1)[i, y[i]] for i in range(5)) / 5
    ref = alpha * ce + (1 - alpha) * T * T * kl
    assert distillation_loss(s, t, y, alpha, T).item() == pytest.approx(ref.item(), rel=1e-5)
    # torch's own KL (batchmean) gives the same term
    kd = F.kl_div((s / T).log_softmax(1), (t / T).log_softmax(1), reduction="batchmean", log_target=True)
    assert distillation_loss(s, t, y, 0.0, T).item() == pytest.approx((T * T * kd).item(), rel=1e-5)
    rkl = sum((ps[i] * (ps[i].log() - pt[i].log())).sum() for i in range(5)) / 5
    assert distillation_loss(s, t, y, 0.0, T, reverse=True).item() == pytest.approx((T * T * rkl).item(), rel=1e-5)
    assert distillation_loss(s, t, y, 1.0, T).item() == pytest.approx(F.cross_entropy(s, y).item())


def test_distillation_loss_bad_args():
    s, y = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ConfigError, match="^alpha:"):
        distillation_loss(s, s, y, 1.5, 2.0)
    with pytest.raises(ConfigError, match="^temperature:"):
        distillation_loss(s, s, y, 0.5, 0.0)
    with pytest.raises(ConfigError, match="^teacher_logits:"):
        distillation_loss(s, torch.zeros(2, 4), y, 0.5, 2.0)


# --------------------------------------------------------------------------- pruning and size
def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 3))


def test_unstructured_prune_matches_torch_l1():
    net = small_net()
    tau = 0.15
    out = prune_model(net, tau)
    ref = small_net()
    for m in (ref[0], ref[3]):
        k = int((m.weight.abs() < tau).sum())
        prune.l1_unstructured(m, "weight", amount=k)
        prune.remove(m, "weight")
    assert torch.equal(out[0].weight, ref[0].weight) and torch.equal(out[3].weight, ref[3].weight)
    assert (out[0].weight == 0).sum() > 0 and torch.equal(net[0].weight, small_net()[0].weight)  # original kept


def test_structured_prune_matches_torch_ln_structured():
    net = small_net()
    scores = net[0].weight.detach().abs().mean(dim=(1, 2, 3))
    tau = float(scores.sort().values[1:3].mean())  # between the 2nd and 3rd channel: prunes 2 channels
    out = prune_model(net, tau, structured=True)
    ref = small_net()
    prune.ln_structured(ref[0], "weight", amount=2, n=1, dim=0)
    prune.remove(ref[0], "weight")
    assert torch.equal(out[0].weight, ref[0].weight)
    dead = (out[0].weight.flatten(1) == 0).all(1)
    assert dead.sum() == 2 and (out[0].bias[dead] == 0).all()
    assert torch.equal(out[3].weight, net[3].weight)  # the classifier is never channel-pruned


def test_sparsity_per_layer_and_tau_for_sparsity():
    net = small_net()
    tau = tau_for_sparsity(net, 0.5)
    rows = sparsity_per_layer(prune_model(net, tau))
    assert [r.name for r in rows] == ["0", "3"] and [r.total for r in rows] == [72, 12]
    assert sum(r.zeros for r in rows) == math.ceil(0.5 * 84)
    assert tau_for_sparsity(net, 0.0) == 0.0
    with pytest.raises(ConfigError, match="^tau:"):
        prune_model(net, -1.0)
    with pytest.raises(ConfigError, match="^sparsity:"):
        tau_for_sparsity(net, 1.0)


def test_model_size_bytes_hand_computed():
    net = small_net()  # conv 72 + 4 bias, linear 12 + 3 bias = 91 params
    assert model_size_bytes(net) == 91 * 4
    # 4-bit weights: ceil(72/2) + ceil(12/2) = 42 bytes + 2 scales·4; biases 7·4 = 28
    assert model_size_bytes(net, bits=4) == 42 + 8 + 28
    assert model_size_bytes(net, bits=4, symmetric=False, per_channel=True) == 42 + (4 + 3) * 8 + 28
    assert tensor_bytes(100, 10, 32) == 40 + 13  # sparse: 10 values + a 100-bit mask
    assert tensor_bytes(100, 98, 32) == 400      # dense is smaller (392 + 13 > 400)
    pruned = prune_model(net, tau_for_sparsity(net, 0.9))
    assert model_size_bytes(pruned) < model_size_bytes(net)


def test_quantize_model_changes_only_weights():
    net = small_net()
    q = quantize_model(net, 2)
    assert len(torch.unique(q[0].weight)) <= 4 and torch.equal(q[0].bias, net[0].bias)


# --------------------------------------------------------------------------- real evaluation on digits
@pytest.fixture(scope="module")
def digits_model():
    from cnnviz.io.data import load_dataset
    ds = load_dataset("digits")
    torch.manual_seed(0)
    model = fit(TinyVGG(1, 10, 8), ds.x_train, ds.y_train, ds.x_val, ds.y_val, epochs=4, seed=0)
    return model, ds


def test_trained_model_and_tradeoff_curves(digits_model):
    model, ds = digits_model
    base = accuracy(model, ds.x_val, ds.y_val)
    assert base > 0.85
    pts = tradeoff_curves(model, ds.x_val, ds.y_val, bits_list=(2, 8), sparsities=(0.5, 0.95))
    ref = pts[0]
    assert ref.family == "uncompressed" and ref.accuracy == base and ref.size_bytes == model_size_bytes(model)
    by = {(p.family, p.label): p for p in pts}
    assert by[("quantization", "8-bit")].accuracy > base - 0.03          # 8 bits barely hurt
    assert by[("quantization", "8-bit")].size_bytes < ref.size_bytes / 3
    assert by[("quantization", "2-bit")].size_bytes < by[("quantization", "8-bit")].size_bytes
    prunes = [p for p in pts if p.family == "pruning (unstructured)"]
    assert prunes[0].sparsity == pytest.approx(0.5, abs=0.01) and prunes[1].accuracy < prunes[0].accuracy
    # each point is a real evaluation: recompute one by hand
    q2 = quantize_model(model, 2)
    assert by[("quantization", "2-bit")].accuracy == accuracy(q2, ds.x_val, ds.y_val)


def test_distill_job_trains_both_students_from_the_same_start():
    cfg = DistillConfig(student_width=4, epochs=2, n_train=300)
    events = []
    run_distill(cfg, events.append, threading.Event())
    fits, end = events[:-1], events[-1]
    assert [(e.run, e.epoch) for e in fits] == [("distilled", 1), ("labels only", 1),
                                                 ("distilled", 2), ("labels only", 2)]
    assert all(0 <= e.val_accuracy <= 1 and e.train_loss > 0 for e in fits)
    assert isinstance(end, Finished) and end.reason == "done" and end.epoch == 2
    assert end.best_val_acc == max(e.val_accuracy for e in fits if e.run == "distilled")
    # the labels-only student is plain training: the same numbers as fit() from the same initial weights
    from cnnviz.io.data import load_dataset
    ds = load_dataset("digits")
    torch.manual_seed(cfg.seed)
    alone = TinyVGG(1, 10, 8, width=4)
    ref = list(train_epochs(alone, ds.x_train[:300], ds.y_train[:300], ds.x_val, ds.y_val, epochs=2, lr=cfg.lr,
                            seed=cfg.seed, run="labels only"))
    assert [e for e in fits if e.run == "labels only"] == ref


def test_distill_job_stops_and_bad_settings_name_the_field():
    stop = threading.Event()
    stop.set()
    events = []
    run_distill(DistillConfig(epochs=200), events.append, stop)
    assert len(events) == 1 and events[0].reason == "stopped"
    for kw, field in [(dict(alpha=1.5), "alpha"), (dict(temperature=0), "temperature"), (dict(epochs=0), "epochs"),
                      (dict(student_width=2.5), "student_width"), (dict(lr=-1), "lr")]:
        with pytest.raises(ConfigError) as e:
            DistillConfig(**kw)
        assert e.value.field == field


def test_distillation_runs_in_the_runners_child_process():
    runner = ThreadRunner(JobLimiter(1), device=torch.device("cpu"), isolate=True)
    cfg = DistillConfig(student_width=4, epochs=2, n_train=300)
    job = runner.submit(cfg)
    assert runner.join(job, timeout=300)  # ~10 s alone; a clean-clone run beside two UI crawls took over 120 s
    child = runner.poll(job)
    here = []
    run_distill(cfg, here.append, threading.Event())
    assert child == here  # seeded: the child's numbers are this process's


def test_sparsity_figure_names_layers_readably_with_the_path_in_the_hover():
    from cnnviz.compression import prune_model, sparsity_per_layer
    from cnnviz.figures.compression import sparsity_figure
    from cnnviz.inside.names import layer_titles
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    rows = sparsity_per_layer(prune_model(model, 0.2))
    bar = sparsity_figure(rows, layer_titles(model)).data[0]
    assert list(bar.x) == ["conv 1", "linear 1"] and list(bar.customdata) == ["0", "3"]
    assert [float(y) for y in bar.y] == [r.zeros / r.total for r in rows]
    assert list(sparsity_figure(rows).data[0].x) == ["0", "3"]  # without titles: the paths, as before
