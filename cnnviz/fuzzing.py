"""Robustness fuzzing of the engine's public entry points (tests/unit/test_fuzz_engine.py, bench/fuzz.py).

A *case* is one call of one entry point with arguments drawn at random, nonsense included (negative, zero,
huge, floats, strings, None, bools, wrong types, mismatched tuple lengths, wrong in_shape lengths). The
contract `run_case` checks: the only exception ever raised is ``ConfigError``; every configuration the engine
accepts equals PyTorch (the real module on a zero tensor, when small); and a well-typed configuration the
engine rejects is rejected by PyTorch too. The strategies need ``hypothesis`` (a dev dependency), imported
only by `case_strategy`.
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from . import arithmetic as ar
from . import specs
from .errors import ConfigError

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


# --------------------------------------------------------------------------- random cases
# Inputs that hit engine bugs reported in issue 9 (fixes proposed there). `avoid_known_bugs=True` keeps them
# out of the CI fuzz until the fixes land; tests/unit/test_fuzz_engine.py pins each one as a strict xfail.
KNOWN_BUGS = {
    "ints beyond int64": "stride=10**21 (any size past int64) is accepted; nn.Conv1d then raises TypeError "
                         "(Overflow when unpacking long long)",
    "pool flops unchecked": "PoolSpec.flops(in_shape) returns 0 where output_shape(in_shape) raises ConfigError",
    "bool fields unchecked": "ceil_mode=0.0 / 'x' (any truthy value) is accepted; nn.AvgPool3d / F.max_pool2d "
                             "then raise TypeError (same for transposed and bias: no bool check)",
    "spec in_shape not a sequence": "ConvSpec/PoolSpec.output_shape(None | 5 | ()) raise TypeError/IndexError",
    "spec dims bool/float": "ConvSpec(dims=True | 1.0) is accepted; to_code() writes nn.ConvTrued / nn.Conv1.0d",
    "spec_from_dict garbage": "spec_from_dict(None | 'ab' | {'type': []} | {'type': 'conv'}) raise "
                              "TypeError/ValueError",
}


def case_strategy(avoid_known_bugs: bool = True, targets=TARGETS):
    """A hypothesis strategy of `Case`s over the given targets (default: every entry point)."""
    from hypothesis import strategies as st

    big = 2**62 if avoid_known_bugs else 10**30  # KNOWN_BUGS["ints beyond int64"]
    huge = st.sampled_from([2**31, 2**62, -(2**63), big])
    nonsense = st.one_of(
        st.none(), st.booleans(), st.integers(-5, 0), st.integers(-big, big), huge,
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 2.0, 0.5, -3.0]),
        st.text(max_size=4), st.sampled_from(["same", "valid", "3", "zeros", "max", "conv", ""]),
        st.lists(st.integers(-2, 9), max_size=5), st.lists(st.text(max_size=1), max_size=3),
        st.tuples(st.integers(0, 5), st.none()), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.builds(object), st.just(b"\x00"), st.just(3 + 1j))

    cache = functools.lru_cache(maxsize=None)  # building a strategy costs more than drawing from it

    @cache
    def axis(n, lo, hi):
        return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * n))

    @cache
    def bad_axis(n):  # mismatched tuple lengths and bad members
        other = st.sampled_from([m for m in range(0, 5) if m != n])
        return st.one_of(other.flatmap(lambda m: st.tuples(*[st.integers(0, 4)] * m)),
                         st.tuples(*[st.one_of(st.integers(-2, 4), nonsense)] * n), st.lists(st.integers(1, 4)))

    @cache
    def bad_field(n):
        return st.one_of(nonsense, bad_axis(n))

    @cache
    def bad_shape(n):
        return st.one_of(nonsense, st.lists(st.integers(-1, 9), max_size=6).map(tuple),
                         st.tuples(st.integers(1, 4), *[st.one_of(st.integers(-3, 9), nonsense)] * n),
                         st.tuples(st.integers(1, 3), *[st.integers(2**20, 2**40)] * n))  # huge: never allocated

    @cache
    @st.composite
    def in_shape(draw, n, c_in=None):
        size = 8 if n == 3 else 14
        spatial = draw(st.one_of(st.tuples(*[st.integers(1, size)] * n),
                                 st.tuples(*[st.sampled_from([1, 2, 512, 4096])] * n)))
        return (c_in if c_in is not None else draw(st.integers(1, 4)), *spatial)

    def corrupt(draw, kw, n, names, shape_name="in_shape"):
        """Replace 0–2 fields with nonsense; returns whether the case stayed well typed."""
        k = draw(st.sampled_from([0, 0, 0, 1, 1, 2]))
        if avoid_known_bugs:  # KNOWN_BUGS["bool fields unchecked"]
            names = [m for m in names if m not in ("ceil_mode", "transposed", "bias")]
        for name in draw(permutations(tuple(names)))[:k]:
            kw[name] = draw(bad_shape(n) if name == shape_name else bad_field(n))
        return k == 0

    permutations = cache(st.permutations)

    @st.composite
    def conv(draw):
        n = draw(st.integers(1, 3))
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        c_in = groups * draw(st.integers(1, 2))
        c_out = groups * draw(st.integers(1, 2)) if draw(st.booleans()) else draw(st.integers(1, 5))
        transposed = draw(st.booleans())
        kw = dict(in_shape=draw(in_shape(n, c_in)), out_channels=c_out, kernel_size=draw(axis(n, 1, 5)),
                  stride=draw(axis(n, 1, 3)), padding=draw(st.one_of(axis(n, 0, 4), st.sampled_from(["same", "valid"]))),
                  dilation=draw(axis(n, 1, 3)), groups=groups, transposed=transposed,
                  output_padding=draw(axis(n, 0, 2)) if transposed else 0,
                  padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])))
        ok = corrupt(draw, kw, n, list(kw))
        return Case("conv", kw, ok, draw(st.integers(0, 15)) == 0)

    @st.composite
    def pool(draw):
        n = draw(st.integers(1, 3))
        kind = draw(st.sampled_from(["max", "max", "avg"]))
        kw = dict(in_shape=draw(in_shape(n)), kernel_size=draw(axis(n, 1, 5)),
                  stride=draw(st.one_of(st.none(), axis(n, 1, 4))), padding=draw(axis(n, 0, 3)),
                  dilation=draw(axis(n, 1, 3)) if kind == "max" else 1, ceil_mode=draw(st.booleans()), kind=kind)
        ok = corrupt(draw, kw, n, list(kw))
        return Case("pool", kw, ok)

    @st.composite
    def rf(draw):
        layer = st.fixed_dictionaries({"kernel_size": st.integers(1, 7)},
                                      optional={"stride": st.integers(1, 3), "dilation": st.integers(1, 3)})
        bad_layer = st.one_of(nonsense, st.fixed_dictionaries({"kernel_size": nonsense}),
                              st.fixed_dictionaries({"kernel_size": st.integers(1, 3), "stride": nonsense}))
        layers = draw(st.lists(layer, max_size=6))
        if draw(st.integers(0, 3)) == 0:
            layers.insert(draw(st.integers(0, len(layers))), draw(bad_layer))
        if draw(st.integers(0, 9)) == 0:
            layers = draw(nonsense)
        return Case("receptive_field", dict(layers=layers))

    def spec_in_shape(draw, n, c_in):
        if draw(st.integers(0, 4)) == 0:  # wrong channels / wrong number of axes / garbage
            options = [st.tuples(st.integers(1, 5), *[st.integers(1, 9)] * draw(st.integers(1, 3))),
                       st.lists(st.integers(0, 9), min_size=1 if avoid_known_bugs else 0, max_size=5).map(tuple)]
            if not avoid_known_bugs:
                options.append(nonsense)
            return draw(st.one_of(*options))
        return draw(in_shape(n, c_in))

    @st.composite
    def conv_spec(draw):
        case = draw(conv())
        kw = dict(case.kwargs)
        shape = kw.pop("in_shape")
        n = len(shape) - 1 if isinstance(shape, tuple) and 2 <= len(shape) <= 4 else draw(st.integers(1, 3))
        c_in = shape[0] if case.well_typed else draw(st.integers(1, 4))
        dims = n if avoid_known_bugs else draw(st.sampled_from([n, n, n, True, float(n), 0, 4, "2", None]))
        fields_ = dict(dims=dims, in_channels=c_in, out_channels=kw.pop("out_channels"), bias=draw(st.booleans()),
                       **kw)
        return Case("conv_spec", dict(fields_, in_shape=spec_in_shape(draw, n, c_in)), False, case.count_flops)

    @st.composite
    def pool_spec(draw):
        case = draw(pool())
        kw = dict(case.kwargs)
        shape = kw.pop("in_shape")
        n = len(shape) - 1 if isinstance(shape, tuple) and 2 <= len(shape) <= 4 else draw(st.integers(1, 3))
        dims = n if avoid_known_bugs else draw(st.sampled_from([n, n, n, True, float(n), 0, "1"]))
        return Case("pool_spec", dict(kw, dims=dims, in_shape=spec_in_shape(draw, n, 1 + draw(st.integers(0, 3)))),
                    False)

    @st.composite
    def from_dict(draw):
        case = draw(st.one_of(conv_spec(), pool_spec()))
        kw = dict(case.kwargs)
        shape = kw.pop("in_shape")
        d = {"type": "conv" if case.target == "conv_spec" else "pool", **kw}
        roll = draw(st.integers(0, 7))
        if roll == 0:
            d["type"] = draw(st.one_of(st.text(max_size=5), st.none(), st.integers()))
        elif roll == 1:
            d[draw(st.text(max_size=6))] = draw(nonsense)  # unknown field
        elif roll == 2 and not avoid_known_bugs:
            d = draw(st.one_of(nonsense, st.just({"type": "conv"}), st.just({"type": []}),
                               st.just({"type": "pool", "dims": 2, "kernel_size": None})))
        return Case("spec_from_dict", dict(d=d, in_shape=shape), False, case.count_flops)

    def strictness(case):
        case.strict = not avoid_known_bugs
        return case

    by_target = dict(conv=conv, pool=pool, receptive_field=rf, conv_spec=conv_spec, pool_spec=pool_spec,
                     spec_from_dict=from_dict)
    return st.one_of(*[by_target[t]() for t in targets]).map(strictness)
