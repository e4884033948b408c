"""Every tensor argument of the engine in one dtype (tests/support/fuzz_hostile.py's "dtype" class): each entry's
valid call with that argument cast, and an oracle comparing an accepted call with PyTorch on the same values in
float64 (what the engine must compute: half and 8-bit floats are computed in float32 or wider)."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from tests.support.fuzz_hostile import cast


def _close(a, b, tol=1e-5):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol), (a, b)


def _f64(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.float64) if not t.is_complex() else t


def tensor_entries(d: torch.dtype):
    from cnnviz import metrics as M
    from cnnviz.animation import conv2d as A2
    from cnnviz.animation import extra as AE
    from cnnviz.animation import nd as AN
    from cnnviz.animation import padding_modes as AP
    from cnnviz.compression import prune as P
    from cnnviz.compression import quantize as Q
    from cnnviz.inside import features as Fe
    from cnnviz.inside import saliency as S
    from tests.support.fuzz_hostile_cases import tiny_net

    g = torch.Generator().manual_seed(3)
    logits = torch.randn(6, 5, generator=g) * 2
    target = torch.tensor([0, 1, 2, 3, 4, 0])
    net = tiny_net()
    x = torch.rand(1, 3, 8, 8, generator=g) * 4 - 1
    grid = torch.randint(-3, 4, (5, 5), generator=g).float()
    kern = torch.randint(-2, 3, (3, 3), generator=g).float()
    w = torch.randn(4, 3, 3, 3, generator=g)
    L, T, X, G, K, W = (cast(t, d) for t in (logits, target, x, grid, kern, w))
    probs = cast(torch.rand(2, 4, 4, generator=g), d)
    mask = cast((torch.rand(2, 4, 4, generator=g) > 0.5).float(), d)
    real = not d.is_complex

    def topk_oracle(v):  # the engine's answer on the same values, computed in float64 by PyTorch
        ref = _f64(L).topk(2, dim=1).indices
        assert v == float((ref == target[:, None]).any(1).float().mean()), v

    def focal_oracle(v):
        lp = F.log_softmax(_f64(L), 1).gather(1, target[:, None])[:, 0]
        _close(float(v), float((-(1 - lp.exp()) ** 2 * lp).mean()), 1e-4)

    def target_oracle(v):
        _close(v, M.topk_accuracy(logits, target, 2))

    def dice_oracle(v):
        p, t = _f64(probs), _f64(target_mask)
        _close(float(v), float((1 - (2 * (p * t).sum((1, 2)) + 1) / (p.sum((1, 2)) + t.sum((1, 2)) + 1)).mean()), 1e-4)

    target_mask = (torch.rand(2, 4, 4, generator=g) > 0.5).float()

    def conv_oracle(xv, wv):
        def check(v):
            _close(v.output, F.conv2d(_f64(xv)[None, None], _f64(wv)[None, None], padding=1)[0, 0])
        return check

    def pool_oracle(v):
        _close(v.output, F.max_pool2d(_f64(G)[None, None], 2)[0, 0])

    def tconv_oracle(v):
        _close(v.output, F.conv_transpose2d(_f64(G)[None, None], _f64(K)[None, None], stride=2)[0, 0])

    def capture_oracle(v):
        with torch.no_grad():
            _close(v[0], net(_f64(X).float()), 1e-4)

    def stats_oracle(v):
        a = _f64(X)[0].reshape(3, -1)
        _close(v.mean, a.mean(1), 1e-4)
        _close(v.max, a.amax(1), 1e-4)

    def probs_oracle(v):
        _close(v, torch.softmax(_f64(L), -1), 1e-4)

    def mask_oracle(v):
        p = (_f64(mask) != 0).numpy() if real else None  # the mask's values, as PyTorch converts them
        t = (target_mask != 0).numpy()
        _close(v, 2 * (p & t).sum() / (p.sum() + t.sum()))

    def scores_oracle(v):
        _close(v, _f64(W).abs().reshape(4, -1).mean(1), 1e-4)

    def fq_oracle(v):
        scale = float(_f64(W).abs().max()) / 127 or 1.0
        assert float((v.double() - _f64(W)).abs().max()) <= scale / 2 * (1 + 1e-5) + 1e-12

    yield "topk_accuracy", "logits", lambda: M.topk_accuracy(L, target, 2), topk_oracle
    yield "topk_accuracy", "target", lambda: M.topk_accuracy(logits, T, 2), target_oracle
    yield "focal_loss", "logits", lambda: M.focal_loss(L, target, 2.0), focal_oracle
    yield "focal_loss", "target", lambda: M.focal_loss(logits, T, 2.0), None
    yield "focal_loss", "alpha", lambda: M.focal_loss(logits, target, 2.0, cast(torch.full((5,), 0.25), d)), None
    yield "dice_loss", "probs", lambda: M.dice_loss(probs, target_mask, 1.0), dice_oracle
    yield "dice_loss", "target", lambda: M.dice_loss(torch.rand(2, 4, 4), cast(target_mask, d), 1.0), None
    yield "dice", "pred_mask", lambda: M.dice(mask, target_mask), mask_oracle if real else None
    yield "mask_iou", "pred_mask", lambda: M.mask_iou(mask, target_mask), None
    yield "box_iou", "a", lambda: M.box_iou(cast(torch.tensor([0.0, 0.0, 4.0, 4.0]), d), (2.0, 2.0, 6.0, 6.0)), None
    yield "pr_curve", "scores", lambda: M.pr_curve(cast(torch.tensor([0.9, 0.5, 0.25]), d), [True, False, True], 2), None
    yield "pr_curve", "is_tp", lambda: M.pr_curve([0.9, 0.5, 0.25], cast(torch.tensor([1.0, 0.0, 1.0]), d), 2), None
    yield "loss_vs_probability", "p", lambda: M.loss_vs_probability(cast(torch.tensor([0.25, 0.5, 1.0]), d), 2.0), None
    yield "match_detections", "scores", lambda: M.match_detections(
        [(0, 0, 4, 4)], cast(torch.tensor([0.5]), d), [(0, 0, 4, 4)], 0.5), None
    yield "conv2d_steps", "x", lambda: A2.conv2d_steps(G, kern, padding=1), conv_oracle(G, kern)
    yield "conv2d_steps", "weight", lambda: A2.conv2d_steps(grid, K, padding=1), conv_oracle(grid, K)
    yield "pool2d_steps", "x", lambda: A2.pool2d_steps(G, 2), pool_oracle
    yield "conv_transpose2d_steps", "x", lambda: AE.conv_transpose2d_steps(G, kern, stride=2), None
    yield "conv_transpose2d_steps", "weight", lambda: AE.conv_transpose2d_steps(grid, K, stride=2), None
    yield "multichannel_conv2d_steps", "x", lambda: AE.multichannel_conv2d_steps(
        cast(torch.randint(-2, 3, (2, 4, 4), generator=g).float(), d), K.expand(2, 3, 3), padding=1), None
    yield "conv1d_steps", "x", lambda: AN.conv1d_steps(G[0], K[0], padding=1), None
    yield "conv3d_plane_steps", "x", lambda: AN.conv3d_plane_steps(G.expand(3, 5, 5), K.expand(3, 3, 3), 1), None
    yield "padding_mode_outputs", "x", lambda: AP.padding_mode_outputs(G, K, 1), None
    yield "channel_scores", "weight", lambda: P.channel_scores(W), scores_oracle
    yield "quant_params", "w", lambda: Q.quant_params(W, 8), None
    yield "fake_quantize", "w", lambda: Q.fake_quantize(W, 8), fq_oracle
    yield "capture", "x", lambda: Fe.capture(net, X), capture_oracle
    yield "channel_stats", "act", lambda: Fe.channel_stats(X), stats_oracle
    yield "probabilities", "logits", lambda: Fe.probabilities(L), probs_oracle
    yield "shift", "x", lambda: Fe.shift(X, 1, -1), None
    yield "equivariance", "x", lambda: Fe.equivariance(net, X, 1, 1), None
    yield "rotation_change", "x", lambda: Fe.rotation_change(net, X), None
    yield "make_baseline", "x", lambda: S.make_baseline(X, "blur"), None
    yield "attribute", "x", lambda: S.attribute(net, X, 1, "saliency"), None
    yield "to_map", "attr", lambda: S.to_map(X), None
    yield "spearman", "a", lambda: S.spearman(X.flatten(), x.flatten()), None
    if d.is_floating_point and d not in (torch.float8_e8m0fnu,):
        for entry, call in (("quantize_model", lambda: Q.quantize_model(_model_in(net, d), 8)),
                            ("prune_model", lambda: P.prune_model(_model_in(net, d), 0.1)),
                            ("tau_for_sparsity", lambda: P.tau_for_sparsity(_model_in(net, d), 0.5)),
                            ("capture(model)", lambda: Fe.capture(_model_in(net, d), x))):
            yield entry, "model", call, None
    from cnnviz.compression import evaluate as E  # a float model given data of this dtype
    if True:
        yield "accuracy", "x_val", lambda: E.accuracy(net, cast(torch.rand(4, 3, 8, 8), d), torch.tensor([0, 1, 2, 3])), None
        yield "accuracy", "y_val", lambda: E.accuracy(net, torch.rand(4, 3, 8, 8), cast(torch.tensor([0, 1, 2, 3]), d)), None


def _model_in(net, d):
    import copy
    return copy.deepcopy(net).to(d)
