"""Argument checks at the engine's public entry points: each function declares what its arguments must be
(``@checked(x=Tensor(dims=4), k=Number(1, 1000, integer=True))``) and anything else is refused with a
``ConfigError`` naming the argument, before the body runs. So only ``ConfigError`` escapes the engine, whatever a
link, an upload or a caller passes (tests/unit/house/test_fuzz_api.py checks it for every entry point).

Checks also normalise: half-precision tensors are computed in float32 (their rounding would break the documented
error bounds of quantization and the exactness of metrics); array-likes become numpy arrays."""
from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np
import torch
import torch.nn as nn

from cnnviz.errors import ConfigError
from cnnviz.limits import MAX_TENSOR_NUMEL  # re-exported: the limits live in cnnviz.limits



def _kind(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _show(number) -> str:
    """A number for a message: a huge int is not printed (Python refuses str() past 4,300 digits)."""
    if isinstance(number, int) and abs(number) >= 10**15:
        return f"a number of about 10^{int(math.log10(abs(number)))}"
    return f"{number:.6g}" if isinstance(number, float) else str(number)


def safe_repr(value, limit: int = 80) -> str:
    """``repr(value)`` for a message, at most ``limit`` characters, never raising: an int past Python's
    int-to-string limit (10**5000, from a JSON link), or a list holding one, is described, not printed."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return _show(value)
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"<a {type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Arg:
    def check(self, field: str, value):  # pragma: no cover - the interface
        raise NotImplementedError


class Number(Arg):
    """A real number (bools refused), finite, in [lo, hi] (either bound may be None); ``integer``: an int."""

    def __init__(self, lo=None, hi=None, integer: bool = False, lo_open: bool = False):
        self.lo, self.hi, self.integer, self.lo_open = lo, hi, integer, lo_open

    def check(self, field, value):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype.is_complex:
            value = value.item()
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ConfigError(field, f"must be {'an integer' if self.integer else 'a number'}, got {_kind(value)}")
        if self.integer:
            if not isinstance(value, numbers.Integral):
                raise ConfigError(field, f"must be an integer, got {safe_repr(value)}")
            value = int(value)
            if not -2**63 <= value < 2**63:  # past int64: no tensor size, index or count is that large
                raise ConfigError(field, f"must be an integer within int64 (±9.2e18), got {_show(value)}")
        else:
            try:
                value = float(value)  # 10**5000 overflows here
            except OverflowError:
                raise ConfigError(field, f"must be a finite number, got {_show(value)}") from None
            if not math.isfinite(value):
                raise ConfigError(field, f"must be a finite number, got {value!r}")
        low_bad = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        if low_bad or (self.hi is not None and value > self.hi):
            lo = "" if self.lo is None else f"{'>' if self.lo_open else '≥'} {self.lo}"
            hi = "" if self.hi is None else f"≤ {self.hi}"
            raise ConfigError(field, f"must be {' and '.join(s for s in (lo, hi) if s)}, got {_show(value)}")
        return value


class Flag(Arg):
    def check(self, field, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(field, f"must be True or False, got {_kind(value)}")
        return bool(value)


class Choice(Arg):
    def __init__(self, options):
        self.options = tuple(options)

    def check(self, field, value):
        if not isinstance(value, str) or value not in self.options:
            shown = repr(value)[:40] if isinstance(value, str) else _kind(value)
            raise ConfigError(field, f"must be one of {', '.join(self.options)}, got {shown}")
        return value


class Text(Arg):
    def __init__(self, max_len: int = 1_000_000):
        self.max_len = max_len

    def check(self, field, value):
        if not isinstance(value, str):
            raise ConfigError(field, f"must be text, got {_kind(value)}")
        if len(value) > self.max_len:
            raise ConfigError(field, f"is {len(value):,} characters long; the limit is {self.max_len:,}")
        return value


class Module(Arg):
    def check(self, field, value):
        if not isinstance(value, nn.Module):
            raise ConfigError(field, f"must be a PyTorch model (nn.Module), got {_kind(value)}")
        return value


class Optional(Arg):
    def __init__(self, inner: Arg):
        self.inner = inner

    def check(self, field, value):
        return None if value is None else self.inner.check(field, value)


class Tensor(Arg):
    """A torch.Tensor: ``dims`` an int or a (min, max) range; ``kind`` "float" (half precision and the 8-bit floats
    are promoted to float32), "int" (any integer dtype, as int64) or "real" (float, int or bool; floats promoted
    like "float"); ``finite`` refuses NaN/±inf; ``what`` names the expected shape in messages; at least ``min_numel`` and at most
    MAX_TENSOR_NUMEL elements."""

    def __init__(self, dims=None, kind: str = "float", finite: bool = True, min_numel: int = 1, what: str = ""):
        self.dims, self.kind, self.finite, self.min_numel, self.what = dims, kind, finite, min_numel, what

    def check(self, field, value):
        if not isinstance(value, torch.Tensor):
            raise ConfigError(field, f"must be a tensor, got {_kind(value)}")
        if self.dims is not None:
            lo, hi = (self.dims, self.dims) if isinstance(self.dims, int) else self.dims
            if not lo <= value.dim() <= hi:
                want = self.what or (f"{lo}-D" if lo == hi else f"{lo}-D to {hi}-D")
                raise ConfigError(field, f"must be {want}, got shape {tuple(value.shape)}")
        if not self.min_numel <= value.numel() <= MAX_TENSOR_NUMEL:
            raise ConfigError(field, f"must have {self.min_numel:,} to {MAX_TENSOR_NUMEL:,} values, "
                                     f"got {value.numel():,} (shape {tuple(value.shape)})")
        d = value.dtype
        if d.is_complex or (self.kind == "float" and not d.is_floating_point) or \
                (self.kind == "int" and (d.is_floating_point or d == torch.bool)):
            want = {"float": "floating-point", "int": "integer", "real": "real"}[self.kind]
            raise ConfigError(field, f"must be a {want} tensor, got {_kind(value)}")
        if d.is_floating_point and d.itemsize < 4:  # float16, bfloat16 and the 8-bit floats: computed in float32
            value = value.float()
        elif self.kind == "int" and d != torch.int64:  # uint8 ... uint64, int8 ... int32: indices are int64
            value = _as_int64(field, value)
        if self.finite and d.is_floating_point and not bool(torch.isfinite(value).all()):
            raise ConfigError(field, "contains NaN or ±inf")
        return value


def _as_int64(field: str, value: torch.Tensor) -> torch.Tensor:
    """An integer tensor as int64 (PyTorch's index dtype); a uint64 value past int64 is refused, not wrapped."""
    if value.dtype == torch.uint64 and bool((value.view(torch.int64) < 0).any()):  # (uint64 has no max on CPU)
        raise ConfigError(field, "holds a value past int64's largest (2^63 − 1)")
    return value.long()


class Array(Arg):
    """Array-like numbers (lists, tuples, numpy, tensors) -> a float (or bool) numpy array of ``dims``."""

    def __init__(self, dims=None, dtype=float, finite: bool = True, min_numel: int = 0, scalar: bool = False):
        self.dims, self.dtype, self.finite, self.min_numel, self.scalar = dims, dtype, finite, min_numel, scalar

    def check(self, field, value):
        if self.scalar and isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            value = [value]
            return Array(finite=self.finite).check(field, value)[0]
        if isinstance(value, (str, bytes, dict)) or value is None or isinstance(value, (bool, numbers.Number)):
            raise ConfigError(field, f"must be a list or array of numbers, got {_kind(value)}")
        if isinstance(value, torch.Tensor):
            if value.numel() > MAX_TENSOR_NUMEL or value.dtype.is_complex:
                raise ConfigError(field, f"must be real and at most {MAX_TENSOR_NUMEL:,} values, got {_kind(value)}")
            value = value.detach().cpu().float().numpy() if value.dtype.is_floating_point else value.cpu().numpy()
        try:
            with np.errstate(all="ignore"):
                arr = np.asarray(value)
                if arr.dtype == object or arr.dtype.kind in "cSUV":
                    raise ValueError
                if arr.size > MAX_TENSOR_NUMEL:
                    raise ConfigError(field, f"has {arr.size:,} values; the limit is {MAX_TENSOR_NUMEL:,}")
                arr = arr.astype(self.dtype)
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise ConfigError(field, f"must be a list or array of numbers, got {_kind(value)}") from None
        if self.dims is not None:
            lo, hi = (self.dims, self.dims) if isinstance(self.dims, int) else self.dims
            if not lo <= arr.ndim <= hi:
                raise ConfigError(field, f"must be {lo}-D, got shape {arr.shape}" if lo == hi else
                                  f"must be {lo}-D to {hi}-D, got shape {arr.shape}")
        if arr.size < self.min_numel:
            raise ConfigError(field, f"needs at least {self.min_numel} values, got {arr.size}")
        if self.finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ConfigError(field, "contains NaN or ±inf")
        return arr


class Seq(Arg):
    """A list or tuple (at most ``max_len`` items), each checked by ``item``."""

    def __init__(self, item: Arg | None = None, max_len: int = 10_000, min_len: int = 0):
        self.item, self.max_len, self.min_len = item, max_len, min_len

    def check(self, field, value):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(field, f"must be a list, got {_kind(value)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise ConfigError(field, f"must have {self.min_len} to {self.max_len} items, got {len(value)}")
        if self.item is None:
            return value
        return type(value)(self.item.check(f"{field}[{i}]", v) for i, v in enumerate(value))


class OneOf(Arg):
    """The first of ``options`` that accepts the value (e.g. one size, or one size per axis); its refusal
    otherwise."""

    def __init__(self, *options: Arg):
        self.options = options

    def check(self, field, value):
        for option in self.options[:-1]:
            try:
                return option.check(field, value)
            except ConfigError:
                pass
        return self.options[-1].check(field, value)


class Dict(Arg):
    def check(self, field, value):
        if not isinstance(value, dict):
            raise ConfigError(field, f"must be a dict, got {_kind(value)}")
        return value


class Instance(Arg):
    def __init__(self, cls):
        self.cls = cls

    def check(self, field, value):
        if not isinstance(value, self.cls):
            raise ConfigError(field, f"must be a {self.cls.__name__}, got {_kind(value)}")
        return value


def checked(**specs: Arg):
    """Check (and normalise) the named arguments of the decorated function before it runs."""

    def deco(fn):
        sig = inspect.signature(fn)
        unknown = set(specs) - set(sig.parameters)
        if unknown:
            raise TypeError(f"{fn.__qualname__} has no argument {sorted(unknown)}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                raise ConfigError(fn.__name__, str(e)) from None
            bound.apply_defaults()
            for name, spec in specs.items():
                bound.arguments[name] = spec.check(name, bound.arguments[name])
            return fn(*bound.args, **bound.kwargs)

        wrapper.__checks__ = specs
        return wrapper

    return deco


def run_model(model: nn.Module, x: torch.Tensor, field: str = "x"):
    """``model(x)``, with PyTorch's refusal of an input the model cannot take (wrong channels, too small for
    its pooling) turned into a ConfigError on ``field``."""
    try:
        return model(x)
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ConfigError(field, f"the model cannot run on an input of shape {tuple(x.shape)}: {msg}") from None
