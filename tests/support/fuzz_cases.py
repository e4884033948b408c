"""Random cases for tests/support/fuzzing.py: a hypothesis strategy over every engine entry point, nonsense included
(negative, zero, huge, floats, strings, None, bools, wrong types, mismatched tuple lengths, wrong in_shape
lengths). Needs ``hypothesis`` (a dev dependency), imported only when a strategy is built."""
from __future__ import annotations

import functools

from tests.support.fuzzing import TARGETS, Case

# Inputs that hit engine bugs found by an earlier fuzz run. `avoid_known_bugs=True` keeps them
# out of the CI fuzz until the fixes land; tests/unit/house/test_fuzz_engine.py pins each one as a strict xfail.
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
        st.builds(object), st.just(b"\x00"), st.just(3 + 1j),
        # issue 29's classes: float64 extremes, an int past Python's int-to-string limit, nested JSON values
        st.sampled_from([1e308, -1e308, 5e-324, -0.0, 10**5000]),
        st.recursive(st.none() | st.booleans() | st.integers(-3, 9) | st.text(max_size=2),
                     lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
                     max_leaves=4))

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
