"""The engine's contract at every public entry point beyond the layer arithmetic (metrics, compression,
saliency, feature maps, builder, codegen, receptive field): a call returns a value or raises ``ConfigError``,
whatever the arguments. Deterministic: each entry point has one valid call; every argument in turn is replaced
by every value of a hostile corpus (wrong types, NaN/±inf, huge and negative numbers, empty and zero-size
tensors, float16/bfloat16/int/bool tensors, nesting), then seeded random pairs of arguments are replaced at once.

Used by tests/unit/house/test_fuzz_api.py and bench/fuzz.py. Models here are tiny and built once (seeded)."""
from __future__ import annotations

import dataclasses
import itertools
import math
import random
import warnings

import numpy as np
import torch
import torch.nn as nn

from cnnviz.errors import ConfigError


class Opaque:  # an object no engine function knows
    def __repr__(self):
        return "Opaque()"


def _nested(depth: int):
    out: list = []
    for _ in range(depth):
        out = [out]
    return out


SCALARS = [None, True, False, 0, -1, 1, 7, 2**31, 2**63, 10**30, -(10**30), 0.5, -0.5, 1e308, math.nan, math.inf,
           -math.inf, "", "x", "nan", "1" * 50, b"\x00", 3 + 1j, [], [1, 2], (0,), {}, {"a": 1}, _nested(200),
           Opaque(), 10**5000, 5e-324, -0.0, {"a": {"b": [None]}}]  # the last four: issue 29's classes


def tensor_corpus():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(2, 3, 4, 4, generator=g)
    return [torch.empty(0), torch.zeros(0, 3), torch.tensor(1.0), torch.zeros(2, 3, 0, 4), base.half(),
            base.bfloat16(), base.double(), (base * 10).long(), base > 0, torch.full((2, 3, 4, 4), math.nan),
            torch.full((2, 3, 4, 4), math.inf), base.reshape(-1), base[None], base.to(torch.complex64),
            torch.zeros(1).expand(2**31), base.numpy()]


def corpus():
    return SCALARS + tensor_corpus()


def _label(v) -> str:
    if isinstance(v, torch.Tensor):
        return f"tensor{tuple(v.shape)}:{str(v.dtype).replace('torch.', '')}"
    if isinstance(v, np.ndarray):
        return f"ndarray{v.shape}"
    from cnnviz.checks import safe_repr
    return safe_repr(v, 40)


@dataclasses.dataclass
class Entry:
    name: str
    fn: object
    kwargs: dict          # one valid call
    skip: tuple = ()      # arguments not fuzzed (e.g. a model argument: fuzzed separately)


def _models():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                        nn.Linear(16, 5))
    return net.eval()


def entries() -> list[Entry]:
    from cnnviz import metrics as M
    from cnnviz.architecture import builder as B
    from cnnviz.architecture import codegen as C
    from cnnviz.compression import prune as P
    from cnnviz.compression import quantize as Q
    from cnnviz.geometry import arithmetic as A
    from cnnviz.inside import features as F
    from cnnviz.inside import saliency as S

    g = torch.Generator().manual_seed(1)
    logits, target = torch.randn(6, 5, generator=g), torch.tensor([0, 1, 2, 3, 4, 0])
    net, x = _models(), torch.randn(1, 3, 8, 8, generator=g)
    w = torch.randn(4, 3, 3, 3, generator=g)
    box, box2 = (0.0, 0.0, 10.0, 10.0), (5.0, 5.0, 15.0, 15.0)
    mask = np.zeros((8, 8), bool)
    mask[2:5, 2:5] = True
    curve = M.pr_curve([0.9, 0.8, 0.3], [True, False, True], 3)
    layers, in_shape = [C.conv(1, 4, 3, padding=1), {"type": "act", "kind": "relu"}, C.pool(2)], (1, 8, 8)
    token = B.encode_stack(layers, in_shape)
    rf_layers = [{"kernel_size": 3, "stride": 1}, {"kernel_size": 2, "stride": 2}]
    try:
        rf_layers_ok = A.receptive_field_table(rf_layers) is not None
    except ConfigError:
        rf_layers_ok = False
    e = [
        Entry("topk_accuracy", M.topk_accuracy, dict(logits=logits, target=target, k=2)),
        Entry("focal_loss", M.focal_loss, dict(logits=logits, target=target, gamma=2.0, alpha=None)),
        Entry("loss_vs_probability", M.loss_vs_probability, dict(p=[0.2, 0.9], gamma=2.0)),
        Entry("box_area", M.box_area, dict(b=box)),
        Entry("box_intersection", M.box_intersection, dict(a=box, b=box2)),
        Entry("box_iou", M.box_iou, dict(a=box, b=box2)),
        Entry("dice", M.dice, dict(pred_mask=mask, true_mask=mask)),
        Entry("mask_iou", M.mask_iou, dict(pred_mask=mask, true_mask=mask)),
        Entry("dice_from_iou", M.dice_from_iou, dict(iou=0.5)),
        Entry("disk_mask", M.disk_mask, dict(size=16, cx=8.0, cy=8.0, r=4.0)),
        Entry("pr_curve", M.pr_curve, dict(scores=[0.9, 0.8, 0.3], is_tp=[True, False, True], n_gt=3)),
        Entry("average_precision", M.average_precision, dict(scores=[0.9, 0.8], is_tp=[True, False], n_gt=2)),
        Entry("mean_average_precision", M.mean_average_precision,
              dict(per_class={"cat": ([0.9, 0.1], [True, False], 1)})),
        Entry("precision_recall_at", M.precision_recall_at, dict(curve=curve, threshold=0.5)),
        Entry("match_detections", M.match_detections,
              dict(boxes=[box, box2], scores=[0.9, 0.5], gt_boxes=[box], iou_threshold=0.5)),
        Entry("dice_loss", M.dice_loss, dict(probs=torch.rand(2, 4, 4, generator=g),
                                             target=(torch.rand(2, 4, 4, generator=g) > 0.5).float(), smooth=1.0)),
        Entry("map_at_iou", M.map_at_iou, dict(detections={"cat": ([box, box2], [0.9, 0.5])},
                                               ground_truth={"cat": [box]}, iou_threshold=0.5)),
        Entry("coco_map", M.coco_map, dict(detections={"cat": ([box, box2], [0.9, 0.5])}, ground_truth={"cat": [box]})),
        Entry("tf_same_padding", A.tf_same_padding, dict(size=10, kernel_size=3, stride=2, dilation=1)),
        Entry("macs_from_flops", A.macs_from_flops, dict(flops=1000)),
        Entry("quant_params", Q.quant_params, dict(w=w, bits=8, symmetric=True, per_channel=False, axis=0)),
        Entry("fake_quantize", Q.fake_quantize, dict(w=w, bits=4, symmetric=False, per_channel=True, axis=0)),
        Entry("quantize_model", Q.quantize_model, dict(model=net, bits=8)),
        Entry("channel_scores", P.channel_scores, dict(weight=w)),
        Entry("prune_model", P.prune_model, dict(model=net, tau=0.1, structured=False)),
        Entry("prune_scores", P.prune_scores, dict(model=net, structured=True)),
        Entry("tau_for_sparsity", P.tau_for_sparsity, dict(model=net, sparsity=0.5, structured=False)),
        Entry("make_baseline", S.make_baseline, dict(x=x, kind="blur")),
        Entry("attribute", S.attribute, dict(model=net, x=x, target=1, method="saliency")),
        Entry("attribute(occlusion)", S.attribute,
              dict(model=net, x=x, target=1, method="occlusion", window=4, stride=2)),
        Entry("attribute(ig)", S.attribute, dict(model=net, x=x, target=1, method="integrated_gradients",
                                                 n_steps=4, baseline="mean")),
        Entry("to_map", S.to_map, dict(attr=x, signed=False)),
        Entry("spearman", S.spearman, dict(a=x.flatten(), b=x.flatten().flip(0))),
        Entry("capture", F.capture, dict(model=net, x=x, layers=None)),
        Entry("layer_kind", F.layer_kind, dict(model=net, name="0")),
        Entry("first_conv_kernels", F.first_conv_kernels, dict(model=net)),
        Entry("probabilities", F.probabilities, dict(logits=logits)),
        Entry("channel_stats", F.channel_stats, dict(act=torch.randn(1, 4, 5, 5, generator=g))),
        Entry("shift", F.shift, dict(x=x, dy=2, dx=-1)),
        Entry("equivariance", F.equivariance, dict(model=net, x=x, dy=1, dx=1, border=0.25)),
        Entry("new_layer", B.new_layer, dict(kind="conv", in_shape=in_shape, width=8, kernel=3, stride=1,
                                             act="relu", norm="batch")),
        Entry("describe", B.describe, dict(layer=layers[0])),
        Entry("insert", B.insert, dict(layers=layers, i=1, layer={"type": "act", "kind": "relu"})),
        Entry("replace", B.replace, dict(layers=layers, i=1, layer={"type": "act", "kind": "relu"})),
        Entry("move", B.move, dict(layers=layers, i=1, delta=1)),
        Entry("remove", B.remove, dict(layers=layers, i=1)),
        Entry("wrap", B.wrap, dict(layers=layers, first=0, last=1)),
        Entry("reshape_input", B.reshape_input, dict(layers=layers, in_shape=in_shape, channels=3, size=16)),
        Entry("encode_stack", B.encode_stack, dict(layers=layers, in_shape=in_shape)),
        Entry("decode_stack", B.decode_stack, dict(token=token)),
        Entry("to_code", C.to_code, dict(layers=layers, in_shape=in_shape, class_name="Net")),
        Entry("build_stack", C.build_stack, dict(layers=layers, in_shape=in_shape)),
        Entry("shapes", C.shapes, dict(layers=layers, in_shape=in_shape)),
        Entry("stack_cost", C.stack_cost, dict(layers=layers, in_shape=in_shape)),
        Entry("stack_to_json", C.stack_to_json, dict(layers=layers, in_shape=in_shape)),
        Entry("stack_from_json", C.stack_from_json, dict(text=C.stack_to_json(layers, in_shape))),
    ]
    if rf_layers_ok:
        e += [Entry("receptive_field_table", A.receptive_field_table, dict(layers=rf_layers)),
              Entry("receptive_field", A.receptive_field, dict(layers=rf_layers))]
    return e


@dataclasses.dataclass
class Failure:
    entry: str
    args: str
    error: str

    def __str__(self):
        return f"{self.entry}({self.args}): {self.error}"


def call(entry: Entry, kwargs: dict, what: str) -> Failure | None:
    """None when the contract holds (a value or ConfigError), else the Failure."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entry.fn(**kwargs)
    except ConfigError:
        return None
    except Exception as e:  # noqa: BLE001 - anything else breaks the contract
        return Failure(entry.name, what, f"{type(e).__name__}: {str(e)[:200]}")
    return None


def cases(entry: Entry, seed: int = 0, pairs: int = 20):
    """(kwargs, label): every argument × every corpus value, then ``pairs`` random two-argument mixes."""
    names = [n for n in entry.kwargs if n not in entry.skip]
    values = corpus()
    for n, v in itertools.product(names, values):
        yield {**entry.kwargs, n: v}, f"{n}={_label(v)}"
    rng = random.Random(f"{entry.name}:{seed}")
    for _ in range(pairs if len(names) > 1 else 0):
        a, b = rng.sample(names, 2)
        va, vb = rng.choice(values), rng.choice(values)
        yield {**entry.kwargs, a: va, b: vb}, f"{a}={_label(va)}, {b}={_label(vb)}"


def run(seed: int = 0, pairs: int = 20, only=None) -> tuple[int, list[Failure]]:
    """(cases run, failures) over every entry point."""
    n, failures = 0, []
    for entry in entries():
        if only and entry.name not in only:
            continue
        n += 1
        try:  # the valid call must give a value: a check that refuses everything would pass the rest
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                entry.fn(**entry.kwargs)
        except Exception as e:  # noqa: BLE001
            failures.append(Failure(entry.name, "the valid call", f"{type(e).__name__}: {str(e)[:200]}"))
        for kwargs, label in cases(entry, seed, pairs):
            n += 1
            f = call(entry, kwargs, label)
            if f:
                failures.append(f)
    return n, failures


if __name__ == "__main__":
    import collections
    import sys
    import time
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # a memory bomb fails here, not the box
    t0 = time.perf_counter()
    n, fails = 0, []
    for e in entries():
        t1 = time.perf_counter()
        k, f = run(only={e.name})
        n, fails = n + k, fails + f
        print(f"# {e.name}: {k} cases, {len(f)} failures, {time.perf_counter() - t1:.1f} s", flush=True)
    by = collections.Counter(f.entry for f in fails)
    for f in fails[: int(sys.argv[1]) if len(sys.argv) > 1 else 400]:
        print(f)
    print(by)
    print(f"{n} cases, {len(fails)} failures, {time.perf_counter() - t0:.1f} s")
