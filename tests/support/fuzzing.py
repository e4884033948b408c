"""Robustness fuzzing of the engine's public entry points (tests/unit/house/test_fuzz_engine.py, bench/fuzz.py).

A *case* is one call of one entry point with arguments drawn at random, nonsense included (negative, zero,
huge, floats, strings, None, bools, wrong types, mismatched tuple lengths, wrong in_shape lengths). The
contract `run_case` checks: the only exception ever raised is ``ConfigError``; every configuration the engine
accepts equals PyTorch (the real module on a zero tensor, when small); and a well-typed configuration the
engine rejects is rejected by PyTorch too. The random cases are drawn by tests/support/fuzz_cases.py.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.geometry import arithmetic as ar
from cnnviz.geometry import specs
from cnnviz.errors import ConfigError

MAX_LIVE_ELEMENTS = 60_000   # input/output elements up to which the real module runs on zeros
MAX_LIVE_WORK = 3_000_000    # multiply-adds up to which it runs
TARGETS = ("conv", "pool", "receptive_field", "conv_spec", "pool_spec", "spec_from_dict")


class FuzzFailure(AssertionError):
    """The engine broke its contract on one case."""


@dataclass
class Case:
    target: str
    kwargs: dict
    well_typed: bool = True      # no field was replaced by nonsense: a rejection must match PyTorch's
    count_flops: bool = False    # also compare FLOPs with FlopCounterMode (slow: ~10 ms)
    strict: bool = True          # False: tolerate the KNOWN_BUGS (the CI fuzz, until their fixes land)
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- PyTorch, the reference
def _quiet(fn):
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        return fn()


def _run_zeros(module, in_shape, count_flops):
    """(out shape without batch, flops or None) of ``module(zeros(1, *in_shape))``; PyTorch raising on a
    configuration the engine accepted is a failure."""
    return _torch(lambda: _zeros_through(module, in_shape, count_flops))


def _torch(fn):
    try:
        return _quiet(fn)
    except Exception as e:  # noqa: BLE001
        raise FuzzFailure(f"the engine accepted it but PyTorch raised {type(e).__name__}: {str(e)[:150]}") from e


def _zeros_through(module, in_shape, count_flops):
    x = torch.zeros(1, *in_shape)  # (1, C, *spatial)
    if not count_flops:
        return tuple(module(x).shape[1:]), None
    with FlopCounterMode(display=False) as fc:
        y = module(x)
    return tuple(y.shape[1:]), fc.get_total_flops()


def _small(in_shape, out_shape, work=0) -> bool:
    return max(math.prod(in_shape), math.prod(out_shape)) <= MAX_LIVE_ELEMENTS and work <= MAX_LIVE_WORK


def _torch_rejects(fn) -> bool:
    try:
        y = _quiet(fn)
    except Exception:  # noqa: BLE001 - any rejection by PyTorch counts
        return True
    return isinstance(y, torch.Tensor) and y.numel() == 0  # oneDNN's 2-D transposed conv: empty, not an error


def _conv_module(kw, bias=True):
    n = len(kw["in_shape"]) - 1
    cls = ((nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d) if kw.get("transposed")
           else (nn.Conv1d, nn.Conv2d, nn.Conv3d))[n - 1]
    extra = dict(output_padding=kw.get("output_padding", 0)) if kw.get("transposed") else {}
    return cls(kw["in_shape"][0], kw["out_channels"], kw["kernel_size"], stride=kw.get("stride", 1),
               padding=kw.get("padding", 0), dilation=kw.get("dilation", 1), groups=kw.get("groups", 1), bias=bias,
               padding_mode=kw.get("padding_mode", "zeros"), **extra)


def _pool_module(kw):
    n = len(kw["in_shape"]) - 1
    if kw.get("kind", "max") == "max":
        return (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[n - 1](
            kw["kernel_size"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1),
            ceil_mode=kw.get("ceil_mode", False))
    if kw.get("dilation", 1) not in (1, (1,) * n):
        raise TypeError("AvgPool has no dilation")
    return (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[n - 1](kw["kernel_size"], kw.get("stride"),
                                                              kw.get("padding", 0), ceil_mode=kw.get("ceil_mode", False))


def torch_receptive_field(layers) -> int:
    """Span of the input positions that reach output position 0 of a stack of 1-channel Conv1d with all-one
    weights: from the first to the last nonzero entry of d out[0] / d input (dilation leaves holes inside)."""
    r = ar.receptive_field(layers)
    x = torch.zeros(1, 1, r, requires_grad=True)  # (N, C, L): exactly one output position fits
    y = x
    for layer in layers:
        conv = nn.Conv1d(1, 1, layer["kernel_size"], layer.get("stride", 1), dilation=layer.get("dilation", 1),
                         bias=False)
        nn.init.ones_(conv.weight)
        y = conv(y)
    y[0, 0, 0].backward()
    hit = torch.nonzero(x.grad[0, 0]).flatten()
    return int(hit[-1] - hit[0] + 1)


# --------------------------------------------------------------------------- one case
def _expect(cond, msg):
    if not cond:
        raise FuzzFailure(msg)


def _call(what, fn):
    """Call ``fn``; ConfigError -> None (rejected); anything else but a value is a failure."""
    try:
        return True, fn()
    except ConfigError:
        return False, None
    except Exception as e:  # noqa: BLE001 - this is exactly what we look for
        raise FuzzFailure(f"{what} raised {type(e).__name__}: {str(e)[:200]}") from e


def _check_conv(c: Case):
    kw = c.kwargs
    ok, shape = _call("conv_output_shape", lambda: ar.conv_output_shape(**kw))
    ok_f, flops = _call("conv_flops", lambda: ar.conv_flops(**kw))
    _expect(ok == ok_f, f"conv_output_shape {'accepted' if ok else 'rejected'} but conv_flops did not")
    pkw = {k: kw[k] for k in ("in_shape", "out_channels", "kernel_size", "groups", "transposed") if k in kw}
    ok_p, params = _call("conv_param_count", lambda: ar.conv_param_count(**pkw))
    if not ok:
        if c.well_typed and _small_shape(kw["in_shape"]):
            _expect(_torch_rejects(lambda: _conv_module(kw)(torch.zeros(1, *kw["in_shape"]))),
                    "engine rejected a configuration PyTorch accepts")
        return "rejected"
    _expect(ok_p, "conv_output_shape accepted but conv_param_count rejected")
    if not _small(kw["in_shape"], shape, flops // 2):
        return "accepted (large: arithmetic only)"
    module = _torch(lambda: _conv_module(kw))
    t_shape, t_flops = _run_zeros(module, kw["in_shape"], c.count_flops)
    _expect(t_shape == shape, f"shape {shape} but PyTorch gives {t_shape}")
    _expect(params == sum(p.numel() for p in module.parameters()), f"param count {params} differs from PyTorch")
    _expect(t_flops is None or t_flops == flops, f"FLOPs {flops} but FlopCounterMode counts {t_flops}")
    return "accepted (checked by PyTorch)"


def _small_shape(in_shape):
    return math.prod(in_shape) <= MAX_LIVE_ELEMENTS


def _check_pool(c: Case):
    kw = c.kwargs
    ok, shape = _call("pool_output_shape", lambda: ar.pool_output_shape(**kw))
    if not ok:
        if c.well_typed and _small_shape(kw["in_shape"]):
            _expect(_torch_rejects(lambda: _pool_module(kw)(torch.zeros(1, *kw["in_shape"]))),
                    "engine rejected a pooling PyTorch accepts")
        return "rejected"
    if not _small(kw["in_shape"], shape):
        return "accepted (large: arithmetic only)"
    t_shape, _ = _run_zeros(_torch(lambda: _pool_module(kw)), kw["in_shape"], False)
    _expect(t_shape == shape, f"shape {shape} but PyTorch gives {t_shape}")
    return "accepted (checked by PyTorch)"


def _check_rf(c: Case):
    layers = c.kwargs["layers"]
    ok, r = _call("receptive_field", lambda: ar.receptive_field(layers))
    ok_t, table = _call("receptive_field_table", lambda: ar.receptive_field_table(layers))
    _expect(ok == ok_t, "receptive_field and receptive_field_table disagree on validity")
    if not ok:
        return "rejected"
    _expect(r == (table[-1].receptive_field if table else 1), "receptive_field differs from its table")
    if not layers or r > 4096:
        return "accepted (arithmetic only)"
    _expect(torch_receptive_field(layers) == r, f"receptive field {r} differs from PyTorch's gradient")
    return "accepted (checked by PyTorch)"


def _check_spec(spec, in_shape, c: Case):
    """Every method of an accepted spec, and the spec against the module it builds."""
    ok, shape = _call("output_shape", lambda: spec.output_shape(in_shape))
    ok_f, flops = _call("flops", lambda: spec.flops(in_shape))
    tolerated = not c.strict and isinstance(spec, specs.PoolSpec)  # KNOWN_BUGS["pool flops unchecked"]
    _expect(ok == ok_f or tolerated, f"output_shape {'accepted' if ok else 'rejected'} but flops() did not")
    _call("params", spec.params)
    _, code = _call("to_code", spec.to_code)
    _expect(code is None or isinstance(code, str), "to_code did not return a string")
    ok_d, d = _call("to_dict", spec.to_dict)
    ok_b, module = _call("build", spec.build)
    if not ok:
        return "rejected"
    ok_r, back = _call("spec_from_dict", lambda: specs.spec_from_dict(d))
    _expect(ok_d and ok_r and back == spec, f"spec_from_dict(to_dict()) does not round-trip: {d}")
    _expect(ok_b, f"output_shape accepted {spec} but build() rejected it")
    _, params = _call("params", spec.params)
    _expect(params == sum(p.numel() for p in module.parameters()), f"params() {params} differs from the module")
    _expect(code is not None, "to_code rejected an accepted spec")
    try:
        rebuilt = _quiet(lambda: eval(code, {"nn": nn}))  # noqa: S307 - our own generated code
    except Exception as e:  # noqa: BLE001
        raise FuzzFailure(f"to_code() gives code that does not run: {code} ({type(e).__name__}: {e})") from e
    conv = isinstance(spec, specs.ConvSpec)  # pooling modules keep kernel_size=(2,) and 2 apart in repr
    _expect(not conv or repr(rebuilt) == repr(module), f"to_code() {code} builds {rebuilt!r}, build() gives {module!r}")
    if not _small(in_shape, shape, flops // 2):
        return "accepted (large: arithmetic only)"
    t_shape, t_flops = _run_zeros(module, in_shape, c.count_flops)
    _expect(t_shape == shape, f"output_shape {shape} but the built module gives {t_shape}")
    _expect(conv or _run_zeros(rebuilt, in_shape, False)[0] == shape, f"to_code() {code} gives another shape")
    _expect(t_flops is None or t_flops == flops, f"flops() {flops} but FlopCounterMode counts {t_flops}")
    return "accepted (checked by PyTorch)"


def _check_conv_spec(c: Case):
    fields_ = dict(c.kwargs)
    in_shape = fields_.pop("in_shape")
    ok, spec = _call("ConvSpec", lambda: specs.ConvSpec(**fields_))
    return _check_spec(spec, in_shape, c) if ok else "rejected"


def _check_pool_spec(c: Case):
    fields_ = dict(c.kwargs)
    in_shape = fields_.pop("in_shape")
    ok, spec = _call("PoolSpec", lambda: specs.PoolSpec(**fields_))
    return _check_spec(spec, in_shape, c) if ok else "rejected"


def _check_from_dict(c: Case):
    ok, spec = _call("spec_from_dict", lambda: specs.spec_from_dict(c.kwargs["d"]))
    return _check_spec(spec, c.kwargs["in_shape"], c) if ok else "rejected"


CHECKS = dict(conv=_check_conv, pool=_check_pool, receptive_field=_check_rf, conv_spec=_check_conv_spec,
              pool_spec=_check_pool_spec, spec_from_dict=_check_from_dict)


def run_case(c: Case) -> str:
    """'rejected' / 'accepted (...)', or FuzzFailure when the engine broke its contract."""
    return CHECKS[c.target](c)
