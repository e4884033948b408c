"""The classes of hostile input the other fuzzers do not generate (issue 29 item 6), each against the engine's
contract: a call returns a correct value or raises ``ConfigError`` naming the field. Deterministic and exhaustive
over the classes (the cases and their oracles: tests/support/fuzz_hostile_cases.py):

- ``stack``:    every wrong JSON kind (list, dict, str, bool, None, float, NaN, huge int, nested) in every field of
                every layer type of a stack (and its in_shape), through every stack entry point and a link;
- ``spec``:     non-numeric sizes (str, list, None, bool, float, NaN, inf) in every field of ConvSpec / PoolSpec,
                through every spec method, ``spec_from_dict`` and the live PyTorch check, and in every argument of
                the functions that take sizes (animation traces and demos, padding, gridding, pooling shapes);
- ``dtype``:    every dtype torch has, as every tensor argument of the metrics, animation traces, feature maps,
                compression and saliency entry points;
- ``box``:      float64 extremes (±1e308, max, ±inf, NaN, subnormals, -0.0) in boxes;
- ``model``:    degenerate models (no conv, no linear, only an activation, nn.Identity, empty Sequential, 0 classes)
                and empty validation data in the compression curves and the inside room;
- ``blocks``:   block comparisons asking for more memory or compute than the budgets of cnnviz.limits.

Used by tests/unit/house/test_fuzz_hostile.py and bench/fuzz.py."""
from __future__ import annotations

import json
import math
import random
import warnings
from dataclasses import dataclass

import torch

from cnnviz.errors import ConfigError
from tests.support.fuzz_api import _nested


@dataclass
class Hostile:
    cls: str            # the class of input (see the module docstring)
    entry: str          # the engine function called
    label: str          # what was hostile
    call: object        # () -> value
    field: str | None = None  # a ConfigError must name this (in its field or its message); None: any field
    oracle: object = None     # (value) -> None, raising AssertionError when the value is wrong (PyTorch's check)


@dataclass
class Escape:
    case: Hostile
    error: str

    def __str__(self):
        return f"[{self.case.cls}] {self.case.entry}({self.case.label}): {self.error}"


WRONG_KINDS = {"list": [3], "empty list": [], "dict": {"a": 1}, "empty dict": {}, "str": "3", "empty str": "",
               "true": True, "false": False, "None": None, "float": 3.0, "fraction": 2.5, "nan": math.nan,
               "inf": math.inf, "negative": -3, "zero": 0, "huge int": 10**30, "int64+1": 2**63,
               "beyond int-to-str": 10**5000, "nested": _nested(60), "nested dict": {"a": {"b": {"c": [1]}}},
               "list of lists": [[3, 3]], "list of str": ["3", "3"], "bytes": b"3", "complex": 1 + 2j}
NON_NUMERIC = {"str": "3", "empty str": "", "list": [3], "empty list": [], "nested list": [[2, 2]], "None": None,
               "true": True, "false": False, "float": 3.0, "fraction": 2.5, "nan": math.nan, "inf": math.inf,
               "-inf": -math.inf, "dict": {}, "bytes": b"3", "complex": 3 + 0j, "tuple of str": ("2", "2"),
               "tuple with nan": (2, math.nan), "tuple with float": (2, 2.0), "tuple of bool": (True, True)}
TINY = 5e-324
EXTREMES = {"1e308": 1e308, "-1e308": -1e308, "max": 1.7976931348623157e308, "-max": -1.7976931348623157e308,
            "inf": math.inf, "-inf": -math.inf, "nan": math.nan, "subnormal": TINY, "-subnormal": -TINY,
            "min normal": 2.2250738585072014e-308, "-0.0": -0.0, "1e-300": 1e-300}


def all_dtypes() -> list[torch.dtype]:
    """Every dtype of this torch a tensor can be converted to on the CPU (quantized and bit types cannot)."""
    seen, out = set(), []
    for name in sorted(dir(torch)):
        d = getattr(torch, name)
        if not isinstance(d, torch.dtype) or d in seen:
            continue
        seen.add(d)
        try:
            with warnings.catch_warnings():  # "ComplexHalf support is experimental"
                warnings.simplefilter("ignore")
                torch.tensor([0.5, -1.0, 2.0]).to(d)
        except (RuntimeError, TypeError, NotImplementedError):
            continue
        out.append(d)
    return out


def cast(t: torch.Tensor, d: torch.dtype) -> torch.Tensor:
    """``t`` in dtype d (unsigned: |t|; bool: t > 0)."""
    if d == torch.bool:
        return t > 0
    if not d.is_floating_point and not d.is_complex and not d.is_signed:
        t = t.abs()
    return t.to(d)


def run(cases, limit: int | None = None) -> tuple[int, list[Escape]]:
    """(cases run, escapes): anything but a value or a ConfigError, a ConfigError not naming ``field``, or a
    value the oracle finds wrong."""
    n, out = 0, []
    for c in cases:
        if limit is not None and n >= limit:
            break
        n += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = c.call()
        except ConfigError as e:
            if c.field is not None and c.field.lower() not in f"{e.field} {e}".lower():
                out.append(Escape(c, f"ConfigError does not name {c.field!r}: {str(e)[:150]}"))
            continue
        except Exception as e:  # noqa: BLE001 - exactly what we look for
            out.append(Escape(c, f"{type(e).__name__}: {str(e)[:200]}"))
            continue
        if c.oracle is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    c.oracle(value)
            except AssertionError as e:
                out.append(Escape(c, f"wrong result: {str(e)[:200]}"))
            except Exception as e:  # noqa: BLE001 - the value itself is unusable (e.g. a NaN where a number is due)
                out.append(Escape(c, f"unusable result: {type(e).__name__}: {str(e)[:150]}"))
    return n, out


def cases(classes=None):
    """Every hostile case of the given classes (default: all), in a fixed order."""
    from tests.support import fuzz_hostile_cases as hc
    makers = {"stack": hc.stack_cases, "spec": hc.spec_cases, "dtype": hc.dtype_cases, "box": hc.box_cases,
              "model": hc.model_cases, "blocks": hc.block_cases}
    for name, make in makers.items():
        if classes is None or name in classes:
            yield from make()


CLASSES = ("stack", "spec", "dtype", "box", "model", "blocks")


def sample(cases, k: int | None, seed: int = 0) -> list:
    """A seeded sample of k cases in their order (all of them when k is None or larger): what CI runs of a class
    whose full corpus takes longer than its share of the suite (bench/fuzz.py runs every case)."""
    cases = list(cases)
    if k is None or k >= len(cases):
        return cases
    keep = set(random.Random(seed).sample(range(len(cases)), k))
    return [c for i, c in enumerate(cases) if i in keep]


def json_safe(value) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


if __name__ == "__main__":
    import collections
    import resource
    import sys
    import time
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # a memory bomb fails here, not the box
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    only = set(sys.argv[1:]) or None
    total, escapes = 0, []
    for cl in CLASSES:
        if only and cl not in only:
            continue
        t1 = time.perf_counter()
        k, e = run(cases({cl}))
        total, escapes = total + k, escapes + e
        print(f"# {cl}: {k} cases, {len(e)} escapes, {time.perf_counter() - t1:.1f} s", flush=True)
    for e in escapes[:300]:
        print(e)
    print(collections.Counter((e.case.cls, e.case.entry) for e in escapes))
    print(f"{total} cases, {len(escapes)} escapes, {time.perf_counter() - t0:.1f} s")
