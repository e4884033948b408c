"""The cases of tests/support/fuzz_hostile.py, one generator per class, with their oracles (PyTorch, or exact
rational arithmetic for boxes). Models and tensors are tiny and seeded."""
from __future__ import annotations

import base64
import copy
import json
import math
import zlib
from fractions import Fraction

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.support.fuzz_hostile import EXTREMES, NON_NUMERIC, TINY, WRONG_KINDS, Hostile, all_dtypes, cast, json_safe

IN_SHAPE = (3, 8, 8)


# --------------------------------------------------------------------------- stacks: wrong JSON kinds in every field
def base_stack() -> list[dict]:
    from cnnviz.architecture import codegen as C
    return [C.conv(3, 4, 3, padding=1), {"type": "norm", "kind": "batch"}, {"type": "act", "kind": "relu"},
            {"type": "residual", "layers": [C.conv(4, 4, 3, padding=1), {"type": "norm", "kind": "group", "groups": 2},
                                            {"type": "act", "kind": "gelu"}]},
            C.pool(2, kind="avg"), C.pool(2, stride=1, dilation=1), {"type": "linear", "out_features": 5, "bias": True}]


def _stack_oracle(layers, in_shape):
    """An accepted stack: the built module runs on zeros to the last shape, with stack_cost's parameters."""
    from cnnviz.architecture import codegen as C
    from cnnviz.errors import ConfigError

    def check(shapes):
        try:
            module = C.build_stack(layers, in_shape)
        except ConfigError:
            return  # over the budget: refused before building
        with torch.no_grad():
            y = module(torch.zeros(1, *in_shape))
        assert tuple(y.shape[1:]) == tuple(shapes[-1] if shapes else in_shape), (y.shape, shapes)
        assert sum(p.numel() for p in module.parameters()) == C.stack_cost(layers, in_shape)[0]
    return check


def _token(layers, in_shape) -> str:
    text = json.dumps({"in_shape": in_shape, "layers": layers})
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def _stack_variants():
    """(label, field, layers, in_shape): one field of one layer (top level or inside the residual) replaced by
    each wrong kind; in_shape and its items too; an unknown extra field in each layer."""
    base = base_stack()
    paths = [(i,) for i in range(len(base))] + [(3, j) for j in range(len(base[3]["layers"]))]
    for path in paths:
        layer = base[path[0]] if len(path) == 1 else base[3]["layers"][path[1]]
        for fld in [*layer, "extra"]:
            for kind, value in WRONG_KINDS.items():
                layers = copy.deepcopy(base)
                target = layers[path[0]] if len(path) == 1 else layers[3]["layers"][path[1]]
                target[fld] = value
                where = "layer " + ".".join(str(p + 1) for p in path)
                named = {"extra": None, "layers": where}.get(fld, fld)  # a bad member of a group: "layer 4.1 ..."
                yield f"{where} {fld}={kind}", named, layers, IN_SHAPE
    for kind, value in WRONG_KINDS.items():
        yield f"in_shape={kind}", "in_shape", base_stack(), value
        for i in range(3):
            yield f"in_shape[{i}]={kind}", None, base_stack(), tuple(value if k == i else v for k, v in enumerate(IN_SHAPE))
        yield f"layers={kind}", None, value, IN_SHAPE


def stack_cases():
    from cnnviz.architecture import builder as B
    from cnnviz.architecture import codegen as C
    for label, fld, layers, in_shape in _stack_variants():
        yield Hostile("stack", "shapes", label, lambda l=layers, s=in_shape: C.shapes(l, s), fld,
                      _stack_oracle(layers, in_shape))
        yield Hostile("stack", "to_code", label, lambda l=layers, s=in_shape: C.to_code(l, s), fld)
        yield Hostile("stack", "stack_to_json", label, lambda l=layers, s=in_shape: C.stack_to_json(l, s), fld)
        yield Hostile("stack", "rechain", label, lambda l=layers, s=in_shape: C.rechain(l, s))
        yield Hostile("stack", "check_budget", label, lambda l=layers, s=in_shape: C.check_budget(l, s), fld)
        if isinstance(layers, list):
            for i, layer in enumerate(layers):
                yield Hostile("stack", "describe", f"{label} (layer {i + 1})", lambda x=layer: B.describe(x))
            yield Hostile("stack", "apply", label, lambda l=layers, s=in_shape: B.apply(
                "add", l, s, 0, 0, {"type": "act", "kind": "relu"}))
        if json_safe({"in_shape": in_shape, "layers": layers}):
            text = json.dumps({"in_shape": in_shape, "layers": layers})
            yield Hostile("stack", "stack_from_json", label, lambda t=text: C.stack_from_json(t), fld,
                          lambda v: _stack_oracle(*v)(C.shapes(*v)))
            yield Hostile("stack", "decode_stack", label, lambda t=_token(layers, in_shape): B.decode_stack(t), fld)


# --------------------------------------------------------------------------- specs: non-numeric sizes in every field
CONV = dict(dims=2, in_channels=2, out_channels=4, kernel_size=3, stride=1, padding=1, dilation=1, groups=2,
            bias=True, padding_mode="zeros", transposed=False, output_padding=0)
POOL = dict(dims=2, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False, kind="max")


def _spec_case(target: str, fields: dict, in_shape, label: str, fld):
    from cnnviz.geometry import specs as S
    from cnnviz.geometry.verify import check_with_pytorch
    from tests.support import fuzzing

    def call():
        spec = (S.ConvSpec if target == "conv_spec" else S.PoolSpec)(**fields)
        out = spec.output_shape(in_shape)
        spec.flops(in_shape), spec.params(), spec.to_code()
        S.spec_from_dict(spec.to_dict())
        check = check_with_pytorch(spec, in_shape, out, spec.flops(in_shape))
        assert not check.ran or check.agrees, check.message
        return out

    def oracle(_):
        fuzzing.run_case(fuzzing.Case(target, dict(fields, in_shape=in_shape), False))
    return Hostile("spec", target.replace("_spec", "Spec").replace("conv", "Conv").replace("pool", "Pool"), label,
                   call, fld, oracle)


def spec_cases():
    from cnnviz.geometry import specs as S
    for base, target, variants in ((CONV, "conv_spec", [{}, {"transposed": True, "padding": 0}]),
                                   (POOL, "pool_spec", [{}, {"kind": "avg"}])):
        for extra in variants:
            fields = dict(base, **extra)
            for fld in fields:
                for kind, value in NON_NUMERIC.items():
                    f = dict(fields, **{fld: value})
                    yield _spec_case(target, f, (2, 6, 6), f"{fld}={kind}" + (f" {extra}" if extra else ""), fld)
                    d = {"type": "conv" if target == "conv_spec" else "pool", **f}
                    yield Hostile("spec", "spec_from_dict", f"{fld}={kind}", lambda d=d: S.spec_from_dict(d), fld)
            for i in range(3):
                for kind, value in NON_NUMERIC.items():
                    shape = tuple(value if k == i else v for k, v in enumerate((2, 6, 6)))
                    yield _spec_case(target, fields, shape, f"in_shape[{i}]={kind}", None)
    yield from size_cases()


def size_functions():
    """(name, function, one valid call's kwargs): the engine functions that take layer sizes as arguments."""
    from cnnviz.animation import conv2d as A2
    from cnnviz.animation import extra as AE
    from cnnviz.animation import nd as AN
    from cnnviz.animation import padding_modes as AP
    from cnnviz.geometry import arithmetic as ar
    from cnnviz.geometry import formulas as fo
    from cnnviz.geometry import gridding as gr
    from cnnviz.geometry import padding as pa
    grid, kern = np.arange(25.0).reshape(5, 5), np.ones((3, 3))
    return [
        ("conv2d_steps", A2.conv2d_steps, dict(x=grid, weight=kern, bias=0.5, stride=1, padding=1, dilation=1)),
        ("pool2d_steps", A2.pool2d_steps, dict(x=grid, kernel_size=2, stride=2, padding=1, kind="max", ceil_mode=True)),
        ("pool2d_steps(avg)", A2.pool2d_steps, dict(x=grid, kernel_size=3, stride=1, padding=1, kind="avg")),
        ("conv_transpose2d_steps", AE.conv_transpose2d_steps,
         dict(x=grid[:3, :3], weight=kern, stride=2, padding=1, output_padding=1, dilation=1, bias=0.0)),
        ("overlap_counts", AE.overlap_counts, dict(in_shape=(3, 3), kernel_size=3, stride=2, padding=0)),
        ("untouched_inputs", AE.untouched_inputs, dict(in_shape=(5, 5), kernel_size=1, stride=2, padding=0)),
        ("same_padding_split", AE.same_padding_split, dict(kernel_size=4, dilation=1)),
        ("even_overlap_kernel", AE.even_overlap_kernel, dict(kernel_size=3, stride=2)),
        ("multichannel_conv2d_steps", AE.multichannel_conv2d_steps,
         dict(x=np.ones((2, 4, 4)), weight=np.ones((2, 3, 3)), bias=1.0, stride=1, padding=1)),
        ("channel_demo", AE.channel_demo, dict(channels=3, seed=0)),
        ("conv1d_steps", AN.conv1d_steps, dict(x=grid[0], weight=kern[0], stride=1, padding=1, dilation=1)),
        ("conv3d_plane_steps", AN.conv3d_plane_steps,
         dict(x=np.ones((3, 4, 4)), weight=np.ones((2, 3, 3)), plane=1, bias=0.0, stride=1, padding=1)),
        ("signal_input", AN.signal_input, dict(kind="random", length=8, seed=0)),
        ("kernel_1d", AN.kernel_1d, dict(name="gaussian", size=3, seed=0)),
        ("volume_demo", AN.volume_demo, dict(depth=3, kernel_depth=2, seed=0)),
        ("kernel_preset", A2.kernel_preset, dict(name="blur", size=3, seed=0)),
        ("sample_input", A2.sample_input, dict(source="random", size=(4, 4), seed=0, digit=0)),
        ("border_mask", AP.border_mask, dict(in_hw=(5, 5), kernel_hw=(3, 3), padding=1, stride=1, dilation=1)),
        ("padding_mode_outputs", AP.padding_mode_outputs, dict(x=grid, weight=kern, padding=1, stride=1, dilation=1)),
        ("tf_same_padding", pa.tf_same_padding, dict(size=10, kernel_size=3, stride=2, dilation=1)),
        ("tf_same_formulas", fo.tf_same_formulas, dict(size=10, kernel_size=3, stride=2, dilation=1)),
        ("transposed_as_direct", pa.transposed_as_direct, dict(kernel_size=3, stride=2, padding=1, dilation=1)),
        ("pool_output_shape", ar.pool_output_shape, dict(in_shape=(2, 6, 6), kernel_size=2, stride=None, padding=0,
                                                         dilation=1, ceil_mode=False, kind="max")),
        ("coverage", gr.coverage, dict(layers=[{"kernel_size": 3, "dilation": 2}, {"kernel_size": 3, "dilation": 2}])),
        ("with_rates", gr.with_rates, dict(layers=[{"kernel_size": 3}], rates="2")),
    ]


def size_cases():
    """Every argument of every size-taking function replaced by each non-numeric value."""
    for name, fn, kwargs in size_functions():
        yield Hostile("spec", name, "the valid call", lambda f=fn, k=kwargs: f(**k))
        for arg in kwargs:
            for kind, value in NON_NUMERIC.items():
                yield Hostile("spec", name, f"{arg}={kind}", lambda f=fn, k=dict(kwargs, **{arg: value}): f(**k))


# --------------------------------------------------------------------------- every dtype as every tensor argument
def _close(a, b, tol=1e-5):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol, equal_nan=False), (a, b)


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(16, 5)).eval()


def dtype_cases():
    from tests.support.fuzz_hostile_tensors import tensor_entries
    for d in all_dtypes():
        for entry, label, call, oracle in tensor_entries(d):
            yield Hostile("dtype", entry, f"{label}:{str(d).replace('torch.', '')}", call, None, oracle)


# --------------------------------------------------------------------------- boxes at the edges of float64
def exact_iou(a, b) -> float:
    a, b = [Fraction(v) for v in a], [Fraction(v) for v in b]
    iw = max(Fraction(0), min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(Fraction(0), min(a[3], b[3]) - max(a[1], b[1]))
    i = iw * ih
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i
    return float(i / u) if u > 0 else 0.0


def _iou_oracle(a, b):
    def check(v):
        want = exact_iou(a, b)
        assert isinstance(v, float) and 0 <= v <= 1 and math.isclose(v, want, rel_tol=1e-12, abs_tol=1e-300), (v, want)
    return check


def _area_oracle(b):
    def check(v):
        want = (Fraction(b[2]) - Fraction(b[0])) * (Fraction(b[3]) - Fraction(b[1]))
        assert math.isfinite(v) and math.isclose(v, float(want), rel_tol=1e-15, abs_tol=0), (v, float(want))
    return check


def box_cases():
    from cnnviz import metrics as M
    base, other = (0.0, 0.0, 10.0, 10.0), (5.0, 5.0, 15.0, 15.0)
    boxes = {}
    for k in range(4):
        for name, v in EXTREMES.items():
            b = list(base)
            b[k] = v
            if k >= 2 and v < 0:  # keep x2 ≥ x1: move the low corner below it
                b[k - 2] = -1.7976931348623157e308 if v != -math.inf else v
            boxes[f"[{k}]={name}"] = tuple(b)
    big, m = 1e308, 1.7976931348623157e308
    boxes.update({"whole float64 plane": (-m, -m, m, m), "±1e308": (-big, -big, big, big), "0..1e308": (0, 0, big, big),
                  "0..max × 1": (0.0, 0.0, m, 1.0), "subnormal box": (0.0, 0.0, TINY, TINY),
                  "subnormal strip": (0.0, 0.0, TINY, 1.0), "-0.0 box": (-0.0, -0.0, 0.0, 0.0),
                  "1e-300 box": (0.0, 0.0, 1e-300, 1e-300), "far, unit": (1e308 - 2**970, 0.0, 1e308, 1.0)})
    for name, b in boxes.items():
        yield Hostile("box", "box_area", name, lambda b=b: M.box_area(b), "box", _area_oracle(b))
        yield Hostile("box", "box_intersection", name, lambda b=b: M.box_intersection(b, other), "a")
        for o_name, o in (("other", other), ("itself", b), ("half", tuple(v / 2 for v in b))):
            yield Hostile("box", "box_iou", f"{name} vs {o_name}", lambda b=b, o=o: M.box_iou(b, o), None,
                          _iou_oracle(b, o))
        yield Hostile("box", "match_detections", name, lambda b=b: M.match_detections([b, other], [0.9, 0.5], [b], 0.5))
        yield Hostile("box", "map_at_iou", name, lambda b=b: M.map_at_iou({"c": ([b], [0.9])}, {"c": [b, other]}, 0.5))
        yield Hostile("box", "box_iou(tensor)", name, lambda b=b: M.box_iou(torch.tensor(b, dtype=torch.float64), other),
                      None, _iou_oracle(b, other))
    for name, v in EXTREMES.items():
        yield Hostile("box", "pr_curve", f"score={name}", lambda v=v: M.pr_curve([v, 0.5, 0.1], [True, False, True], 2))
        yield Hostile("box", "disk_mask", f"cx={name}", lambda v=v: M.disk_mask(8, v, 4.0, 2.0))
        yield Hostile("box", "disk_mask", f"r={name}", lambda v=v: M.disk_mask(8, 4.0, 4.0, v))


# --------------------------------------------------------------------------- degenerate models and empty data
def model_cases():
    from tests.support.fuzz_hostile_models import model_entries
    for entry, label, call, field, oracle in model_entries():
        yield Hostile("model", entry, label, call, field, oracle)


# --------------------------------------------------------------------------- block comparisons past the budgets
def block_cases():
    from cnnviz.architecture.blocks.compare import compare_blocks
    heavy = {"C_in": dict(c_in=4096, c_out=64), "C_out": dict(c_in=32, c_out=8192), "size": dict(size=4096),
             "kernel": dict(k=511), "C_in, C_out": dict(c_in=2048, c_out=2048, groups=4),
             "size, C_out": dict(size=1024, c_out=1024), "huge int": dict(size=2**62), "past int64": dict(c_in=10**30),
             "kernel > size": dict(k=99, size=4)}
    for name, kw in heavy.items():
        yield Hostile("blocks", "compare_blocks", name, lambda kw=kw: compare_blocks(**kw), None, _blocks_oracle(kw))
    for arg in ("c_in", "c_out", "k", "size", "groups", "reduction"):
        for kind, value in NON_NUMERIC.items():
            yield Hostile("blocks", "compare_blocks", f"{arg}={kind}", lambda a=arg, v=value: compare_blocks(**{a: v}),
                          None, _blocks_oracle({arg: value}))


def _blocks_oracle(kw):
    def check(rows):
        for r in rows:
            assert r.params == r.formula_params and r.flops == r.formula_flops, (r.name, r.params, r.formula_params)
    return check
