"""Degenerate models and empty data through the compression curves and the inside room (tests/support/
fuzz_hostile.py's "model" class): (entry, label, call, field, oracle) with oracles from PyTorch."""
from __future__ import annotations

import warnings

import torch
import torch.nn as nn


def degenerate_models() -> dict:
    torch.manual_seed(0)
    with warnings.catch_warnings():  # "Initializing zero-element tensors is a no-op" (0 classes)
        warnings.simplefilter("ignore")
        return _models()


def _models() -> dict:
    return {
        "no conv": nn.Sequential(nn.Flatten(), nn.Linear(192, 5)),
        "no linear": nn.Sequential(nn.Conv2d(3, 5, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        "only an activation": nn.ReLU(),
        "nn.Identity": nn.Identity(),
        "empty Sequential": nn.Sequential(),
        "no parameters": nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        "0 classes": nn.Sequential(nn.Flatten(), nn.Linear(192, 0)),
        "conv1d only": nn.Sequential(nn.Conv1d(3, 4, 3)),
        "all-zero weights": nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(144, 5)).apply(
            lambda m: [nn.init.zeros_(p) for p in m.parameters(recurse=False)]),
    }


def _accuracy_oracle(model, x, y):
    def check(v):
        with torch.no_grad():
            want = float((model(x).argmax(1) == y).float().mean())
        assert v == want, (v, want)
    return check


def _size_oracle(model):
    def check(v):  # float32 everywhere, dense unless the zeros make the sparse form smaller
        from cnnviz.compression.evaluate import tensor_bytes
        assert v == sum(tensor_bytes(p.numel(), int((p != 0).sum()), 32) for p in model.parameters()), v
    return check


def _curve_oracle(model, x, y):
    def check(points):
        with torch.no_grad():
            base = float((model(x).argmax(1) == y).float().mean())
        assert points[0].accuracy == base and all(0 <= p.accuracy <= 1 for p in points)
        assert all(0 <= p.sparsity <= 1 and p.size_bytes >= 0 for p in points)
    return check


def model_entries():
    from cnnviz.compression import evaluate as E
    from cnnviz.compression import prune as P
    from cnnviz.compression import quantize as Q
    from cnnviz.inside import features as Fe
    from cnnviz.inside import saliency as S
    from tests.support.fuzz_hostile_cases import tiny_net

    g = torch.Generator().manual_seed(5)
    x = torch.rand(4, 3, 8, 8, generator=g)
    y = torch.tensor([0, 1, 2, 3])
    x1 = x[:1]
    for name, m in degenerate_models().items():
        m.eval()
        yield "model_size_bytes", name, lambda m=m: E.model_size_bytes(m), None, _size_oracle(m)
        yield "model_size_bytes(4 bits)", name, lambda m=m: E.model_size_bytes(m, 4), None, None
        yield "sparsity_per_layer", name, lambda m=m: P.sparsity_per_layer(m), None, None
        yield "overall_sparsity", name, lambda m=m: P.overall_sparsity(P.sparsity_per_layer(m)), None, None
        yield "prune_model", name, lambda m=m: P.prune_model(m, 0.1), None, None
        yield "prune_model(structured)", name, lambda m=m: P.prune_model(m, 0.1, True), None, None
        yield "quantize_model", name, lambda m=m: Q.quantize_model(m, 4), None, None
        yield "prune_scores", name, lambda m=m: P.prune_scores(m), None, None
        yield "tau_for_sparsity", name, lambda m=m: P.tau_for_sparsity(m, 0.5), None, None
        yield "predict", name, lambda m=m: E.predict(m, x), None, None
        yield "accuracy", name, lambda m=m: E.accuracy(m, x, y), None, None
        yield "tradeoff_curves", name, lambda m=m: E.tradeoff_curves(m, x, y, (4,), (0.5,)), None, None
        yield "tradeoff_curves(structured)", name, lambda m=m: E.tradeoff_curves(m, x, y, (4,), (0.5,),
                                                                                structured=True), None, None
        yield "capture", name, lambda m=m: Fe.capture(m, x1), None, None
        yield "first_conv_kernels", name, lambda m=m: Fe.first_conv_kernels(m), "model", None
        yield "equivariance", name, lambda m=m: Fe.equivariance(m, x1, 1, 1), None, None
        yield "rotation_change", name, lambda m=m: Fe.rotation_change(m, x1), None, None
        yield "conv_layers", name, lambda m=m: S.conv_layers(m), None, None
        for method in S.METHODS:
            yield f"attribute({method})", name, lambda m=m, k=method: S.attribute(m, x1, 0, k, n_steps=2), None, None
    net = tiny_net()
    empty_x, empty_y = x[:0], y[:0]
    data = {"0 samples": (empty_x, empty_y), "x and y of different lengths": (x, y[:3]),
            "float labels": (x, y.float()), "labels past the classes": (x, torch.tensor([0, 1, 2, 7])),
            "negative labels": (x, torch.tensor([0, -1, 2, 3])), "2-D labels": (x, y[:, None]),
            "wrong channels": (torch.rand(4, 1, 8, 8), y), "image too small": (torch.rand(4, 3, 1, 1), y),
            "NaN images": (torch.full((4, 3, 8, 8), float("nan")), y), "x not a tensor": ([[0.0]], y),
            "y a list": (x, [0, 1, 2, 3])}
    for name, (xv, yv) in data.items():
        yield "accuracy", name, lambda a=xv, b=yv: E.accuracy(net, a, b), None, None
        yield "predict", name, lambda a=xv: E.predict(net, a), None, None
        yield "tradeoff_curves", name, lambda a=xv, b=yv: E.tradeoff_curves(net, a, b, (4,), (0.5,)), None, None
    for name, (bits, sp) in {"no bit widths": ((), ()), "bits 1": ((1,), ()), "bits 'x'": (("x",), ()),
                             "sparsity 1": ((), (1.0,)), "sparsity nan": ((), (float("nan"),)),
                             "bits None": (None, ()), "sparsities a str": ((), "0.5")}.items():
        yield "tradeoff_curves", name, lambda b=bits, s=sp: E.tradeoff_curves(net, x, y, b, s), None, None
    for name, kw in {"batch_size 0": dict(batch_size=0), "batch_size -1": dict(batch_size=-1),
                     "batch_size 2.5": dict(batch_size=2.5)}.items():
        yield "predict", name, lambda kw=kw: E.predict(net, x, **kw), "batch_size", None
    yield "accuracy", "valid", lambda: E.accuracy(net, x, y), None, _accuracy_oracle(net, x, y)
    yield "tradeoff_curves", "valid", lambda: E.tradeoff_curves(net, x, y, (4,), (0.5,)), None, _curve_oracle(net, x, y)
    for name, m in degenerate_models().items():
        yield "model_size_bytes", f"{name} (oracle)", lambda m=m: E.model_size_bytes(m), None, _size_oracle(m)
