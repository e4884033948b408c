"""One integer argument of a layer, checked as PyTorch would take it: a whole number (not a bool), at least
``minimum``, at most MAX_INT (so every product of sizes stays exact and bounded). Shared by the one-layer
arithmetic and the receptive field of a stack."""
import numbers

from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError
from cnnviz.limits import MAX_INT


def whole_number(field: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(field, f"must be a whole number, got {safe_repr(value)}")
    value = int(value)
    if value < minimum:
        raise ConfigError(field, f"must be ≥ {minimum}, got {safe_repr(value)}")
    if value > MAX_INT:
        raise ConfigError(field, f"must be at most {MAX_INT:,}, got {safe_repr(value)}")
    return value
