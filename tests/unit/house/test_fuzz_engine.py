"""Fuzz every public entry point of the engine with random and nonsense arguments: the only exception ever raised
is ConfigError, and every accepted configuration equals PyTorch (tests/support/fuzzing.py has the contract;
bench/fuzz.py runs >= 10,000 cases)."""
import tracemalloc

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.support import fuzzing
from cnnviz import ConfigError
from cnnviz.geometry import arithmetic as ar
from tests.support.fuzz_cases import case_strategy
from tests.support.fuzzing import Case, FuzzFailure, run_case
from tests.support.record_ops import RecordOps
from cnnviz.geometry.specs import ConvSpec, PoolSpec, spec_from_dict
from cnnviz.geometry.verify import check_with_pytorch


EXAMPLES = {"conv": 300, "pool": 250, "receptive_field": 150, "conv_spec": 350, "pool_spec": 250,
            "spec_from_dict": 350}  # 1,650 in all: ~35 s of one core


@pytest.mark.parametrize("target", fuzzing.TARGETS)
def test_only_config_error_and_accepted_equals_pytorch(target):
    @settings(max_examples=EXAMPLES[target], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case_strategy(avoid_known_bugs=False, targets=(target,)))
    def fuzz(case):
        run_case(case)

    fuzz()


def test_fuzz_reaches_both_accepted_and_rejected_cases():
    """The strategy is not degenerate: it produces accepted cases that PyTorch checks, and rejections."""
    seen = set()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case_strategy(targets=("conv", "pool_spec")))
    def collect(case):
        seen.add((case.target, run_case(case)))

    collect()
    assert {("conv", "accepted (checked by PyTorch)"), ("conv", "rejected"), ("pool_spec", "rejected")} <= seen


def test_run_case_catches_a_wrong_shape(monkeypatch):
    """The oracle can fail: an off-by-one engine is caught."""
    case = Case("conv", dict(in_shape=(3, 7, 7), out_channels=4, kernel_size=3))
    assert run_case(case) == "accepted (checked by PyTorch)"
    real = ar.conv_output_shape
    monkeypatch.setattr(ar, "conv_output_shape", lambda *a, **k: (lambda s: (s[0], s[1] + 1, s[2]))(real(*a, **k)))
    with pytest.raises(FuzzFailure, match="PyTorch gives"):
        run_case(case)


def test_run_case_catches_a_non_config_error(monkeypatch):
    monkeypatch.setattr(ar, "receptive_field", lambda layers: 1 / 0)
    with pytest.raises(FuzzFailure, match="ZeroDivisionError"):
        run_case(Case("receptive_field", dict(layers=[{"kernel_size": 3}])))


def test_receptive_field_oracle_is_pytorch_gradient():
    """3-3-(3, stride 2)-(3, dilation 2): 1 + 2 + 2 + 2 + 2·2·2 = 15, the span of d out[0] / d in."""
    layers = [dict(kernel_size=3), dict(kernel_size=3), dict(kernel_size=3, stride=2), dict(kernel_size=3, dilation=2)]
    assert ar.receptive_field(layers) == fuzzing.torch_receptive_field(layers) == 15


# ------------------------------------------------------------------ resource guards: arithmetic never allocates
@pytest.mark.parametrize("in_shape", [(3, 512, 512, 512), (512, 4096, 4096, 4096), (1, 10**9), (64, 10**6, 10**6)])
def test_huge_inputs_are_answered_by_arithmetic_alone(in_shape):
    tracemalloc.start()
    with RecordOps() as rec:
        shape = ar.conv_output_shape(in_shape, 64, 3, padding=1)
        flops = ar.conv_flops(in_shape, 64, 3, padding=1)
        spec = ConvSpec(len(in_shape) - 1, in_shape[0], 64, 3, padding=1)
        out_shape, spec_flops = spec.output_shape(in_shape), spec.flops(in_shape)
        pool_channels = PoolSpec(len(in_shape) - 1).output_shape(in_shape)[0]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert out_shape == shape == (64, *in_shape[1:])
    assert spec_flops == flops == 2 * 64 * in_shape[0] * 3 ** (len(in_shape) - 1) * (
        __import__("math").prod(in_shape[1:]))
    assert pool_channels == in_shape[0]
    assert rec.ops == [] and peak < 1_000_000  # no tensor op at all, a few kB of Python objects


def test_live_check_refuses_huge_input_before_allocating():
    spec = ConvSpec(3, 3, 8, 3, padding=1)
    with RecordOps() as rec:
        check = check_with_pytorch(spec, (3, 512, 512, 512), spec.output_shape((3, 512, 512, 512)))
    assert not check.ran and "too large" in check.message
    assert not any("empty" in op or "conv" in op or "rand" in op for op in rec.ops), rec.ops  # refused before allocating


# ------------------------------------------------------------------ engine bugs found by the fuzz (now fixed)
# Regression tests for the bugs the fuzz found; the CI fuzz above now also generates these inputs.
def raises_config_error(fn):
    try:
        fn()
    except ConfigError:
        return True
    return False


def KNOWN(test):  # noqa: N802 - was a strict xfail marker until the fixes landed
    return test


@KNOWN
@pytest.mark.parametrize("in_shape", [None, 5, ()])
def test_spec_with_non_sequence_in_shape_raises_config_error(in_shape):
    assert raises_config_error(lambda: ConvSpec(2, 3, 8).output_shape(in_shape))
    assert raises_config_error(lambda: PoolSpec(2).output_shape(in_shape))


@KNOWN
@pytest.mark.parametrize("d", [None, "ab", {"type": []}, {"type": "conv"}, {"type": "pool"}])
def test_spec_from_dict_garbage_raises_config_error(d):
    assert raises_config_error(lambda: spec_from_dict(d))


@KNOWN
@pytest.mark.parametrize("dims", [True, 2.0])
def test_spec_dims_must_be_an_int(dims):
    assert raises_config_error(lambda: ConvSpec(dims, 3, 8))


@KNOWN
def test_pool_ceil_mode_must_be_a_bool():
    assert raises_config_error(lambda: ar.pool_output_shape((3, 6, 8, 5), 2, 1, 1, ceil_mode=0.0, kind="avg"))


@KNOWN
def test_pool_spec_flops_validates_like_output_shape():
    assert raises_config_error(lambda: PoolSpec(2, kernel_size=9).flops((1, 4, 4)))


@KNOWN
def test_ints_beyond_int64_are_rejected():
    assert raises_config_error(lambda: ar.conv_output_shape((2, 11), 1, 5, stride=10**21))
