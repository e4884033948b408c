"""The Architecture Lab's stack builder, without Streamlit: new layers from a few settings, pure edits (every
function returns a new list), and the stack in a short URL-safe string so a link reproduces it.

Layer dicts are :mod:`cnnviz.architecture.codegen`'s format; every result is checked by ``codegen.shapes`` where it
is used."""
from __future__ import annotations

import base64
import binascii
import json
import zlib

from cnnviz.architecture import codegen as cg
from cnnviz.checks import Dict, Number, Seq, Text, checked
from cnnviz.checks import safe_repr
from cnnviz.errors import ConfigError
from cnnviz.io.text import shown
from cnnviz.limits import MAX_LINK_CHARS, MAX_STACK_JSON  # re-exported: the limits live in cnnviz.limits

MAX_LAYERS = 200             # a stack longer than this is not something a lesson needs
LAYERS = Seq(Dict(), max_len=MAX_LAYERS)
INDEX = Number(-10 * MAX_LAYERS, 10 * MAX_LAYERS, integer=True)
SHAPE = Seq(Number(1, integer=True), min_len=2, max_len=4)

KINDS = ("conv", "pool", "norm", "act", "linear")


@checked(kind=Text(20), in_shape=SHAPE, width=Number(1, 100_000, integer=True),
         kernel=Number(1, 1000, integer=True), stride=Number(1, 1000, integer=True), act=Text(20), norm=Text(20))
def new_layer(kind: str, in_shape: tuple, width: int = 16, kernel: int = 3, stride: int = 1,
              act: str = "relu", norm: str = "batch") -> dict:
    """One layer for a stack on inputs with ``len(in_shape) - 1`` spatial axes: a conv with ``width`` filters
    and padding k // 2 (the size kept at stride 1 for odd k), a max pool, a norm, an activation, or a linear
    layer with ``width`` outputs. Convs take their input channels from the layer before (``rechain``)."""
    dims = len(in_shape) - 1
    if kind == "conv":
        return cg.conv(in_shape[0], width, kernel, dims=dims, stride=stride, padding=kernel // 2)
    if kind == "pool":
        return cg.pool(kernel, dims, stride=stride)
    if kind == "norm":
        return {"type": "norm", "kind": norm} | ({"groups": 2} if norm == "group" else {})
    if kind == "act":
        if act not in cg.ACTIVATIONS:
            raise ConfigError("activation", f"must be one of {', '.join(cg.ACTIVATIONS)}, got {safe_repr(act)}")
        return {"type": "act", "kind": act}
    if kind == "linear":
        return {"type": "linear", "out_features": width, "bias": True}
    raise ConfigError("new layer", f"must be one of {', '.join(KINDS)}, got {safe_repr(kind)}")


def _text(value) -> str:
    """A layer's field as it reads in the list: a short string as is, anything else shown safely."""
    return value if isinstance(value, str) and len(value) <= 40 else shown(value, 40)


@checked(layer=Dict())
def describe(layer: dict) -> str:
    """One short line per layer for the builder's list (any dict: a field of the wrong kind is shown, not run)."""
    t = layer.get("type")
    if t in ("conv", "pool"):
        return cg.spec_from_dict({k: v for k, v in layer.items() if k != "name"}).to_code()
    if t == "norm":
        return f"{_text(layer.get('kind', 'batch'))} norm" + (f" ({_text(layer.get('groups', 1))} groups)"
                                                               if layer.get("kind") == "group" else "")
    if t == "act":
        kind = layer.get("kind", "relu")
        return cg.ACTIVATIONS[kind] if isinstance(kind, str) and kind in cg.ACTIVATIONS else _text(kind)
    if t == "linear":
        return f"Linear → {_text(layer.get('out_features'))}"
    if t == "residual":
        inner = layer.get("layers", [])
        if not isinstance(inner, (list, tuple)):
            return f"x + [{_text(inner)}]"
        return "x + [" + ", ".join(describe(x) if isinstance(x, dict) else _text(x) for x in inner) + "]"
    return shown(layer)


def _check_index(layers: list, i: int, what: str = "layer #") -> None:
    if not 0 <= i < len(layers):
        raise ConfigError(what, f"pick a layer between 1 and {len(layers)}, got {i + 1}")


@checked(layers=LAYERS, i=INDEX, layer=Dict())
def insert(layers: list, i: int, layer: dict) -> list:
    """``layer`` placed before position i (0-based; i = len(layers) appends)."""
    if not 0 <= i <= len(layers):
        raise ConfigError("layer #", f"insert at 1 to {len(layers) + 1}, got {i + 1}")
    return [*layers[:i], layer, *layers[i:]]


@checked(layers=LAYERS, i=INDEX, layer=Dict())
def replace(layers: list, i: int, layer: dict) -> list:
    _check_index(layers, i)
    return [*layers[:i], layer, *layers[i + 1:]]


@checked(layers=LAYERS, i=INDEX, delta=INDEX)
def move(layers: list, i: int, delta: int) -> list:
    """Layer i swapped with its neighbour ``delta`` places away; unchanged at either end."""
    out = list(layers)
    j = i + delta
    if 0 <= i < len(out) and 0 <= j < len(out):
        out[i], out[j] = out[j], out[i]
    return out


@checked(layers=LAYERS, i=INDEX)
def remove(layers: list, i: int) -> list:
    _check_index(layers, i)
    return [x for k, x in enumerate(layers) if k != i]


@checked(layers=LAYERS, first=INDEX, last=INDEX)
def wrap(layers: list, first: int, last: int) -> list:
    """Put layers first..last (0-based, inclusive) inside one residual connection."""
    if not 0 <= first <= last < len(layers):
        raise ConfigError("residual", f"pick layers between 1 and {len(layers)}, first ≤ last; got "
                          f"{first + 1}..{last + 1}")
    return [*layers[:first], {"type": "residual", "layers": list(layers[first:last + 1])}, *layers[last + 1:]]


@checked(layers=LAYERS, in_shape=SHAPE, channels=Number(1, 100_000, integer=True),
         size=Number(1, 100_000, integer=True))
def reshape_input(layers: list, in_shape: tuple, channels: int, size: int) -> tuple[list, tuple]:
    """The stack on a new input (``channels`` × ``size`` on every spatial axis), convs re-chained. A size equal
    to the first spatial axis keeps the axes as they are (changing only the channels of a 32×16 input)."""
    spatial = tuple(in_shape[1:]) if size == in_shape[1] else (size,) * (len(in_shape) - 1)
    new = (channels, *spatial)
    return cg.rechain(layers, new), new


OPS = ("add", "replace", "remove", "up", "down", "residual")


def default_position(layers: list) -> int:
    """Where "At layer #" starts (1-based): before the first linear layer (the classifier head), so the default
    Apply inserts a conv where a feature map still arrives; after the last layer when there is no head."""
    return next((k + 1 for k, x in enumerate(layers) if x.get("type") == "linear"), len(layers) + 1)


@checked(op=Text(20), layers=LAYERS, in_shape=SHAPE, i=INDEX, last=INDEX, layer=Dict())
def apply(op: str, layers: list, in_shape: tuple, i: int, last: int, layer: dict) -> list:
    """The stack after one builder action (0-based ``i``, ``last`` for 'residual'), re-chained and checked
    (shapes and the size budget). ConfigError with the reason otherwise: the caller keeps the previous stack."""
    if op not in OPS:
        raise ConfigError("action", f"must be one of {', '.join(OPS)}, got {safe_repr(op)}")
    if op in ("add", "replace") and layer.get("type") in ("conv", "pool", "norm") and 0 < i <= len(layers):
        arriving = cg.shapes(layers[:i], in_shape)[-1]
        if len(arriving) == 1:
            head = default_position(layers)
            raise ConfigError("At layer #", f"a {layer['type']} needs a feature map (channels × size), but layer {i} "
                              f"outputs a flat vector of {arriving[0]} values; put it at #{head} or before")
    if op == "remove" and len(layers) == 1:
        raise ConfigError("remove", "the stack needs at least one layer")
    edit = {"add": lambda: insert(layers, i, layer), "remove": lambda: remove(layers, i),
            "replace": lambda: replace(layers, i, layer), "up": lambda: move(layers, i, -1),
            "down": lambda: move(layers, i, 1), "residual": lambda: wrap(layers, i, last)}[op]
    out = cg.rechain(edit(), in_shape)
    cg.shapes(out, in_shape)
    cg.check_budget(out, in_shape)
    return out


# --------------------------------------------------------------------------- the stack in a link
def encode_stack(layers: list, in_shape: tuple) -> str:
    """The valid stack as compact JSON, deflated, URL-safe base64 (no padding): a few hundred characters."""
    text = json.dumps(json.loads(cg.stack_to_json(layers, in_shape)), separators=(",", ":"))
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def decode_stack(token: str) -> tuple[list, tuple]:
    """``encode_stack``'s inverse, for a token from a URL: ConfigError("stack", ...) for anything else (garbage,
    too long, a deflate bomb, an invalid stack)."""
    if not isinstance(token, str) or len(token) > MAX_LINK_CHARS:
        raise ConfigError("stack", f"the link's stack must be at most {MAX_LINK_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        z = zlib.decompressobj()
        text = z.decompress(raw, MAX_STACK_JSON).decode()
        complete = z.eof and not z.unconsumed_tail
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        raise ConfigError("stack", "the link's stack is not readable (copy the whole link)") from None
    if not complete:
        raise ConfigError("stack", f"the link's stack is cut off or longer than {MAX_STACK_JSON:,} bytes")
    layers, in_shape = cg.stack_from_json(text)
    cg.check_budget(layers, in_shape)  # by arithmetic: a link never makes the page allocate past the limits
    return layers, in_shape
