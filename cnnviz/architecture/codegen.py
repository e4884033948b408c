"""A layer stack (list of dicts) -> shapes, an ``nn.Module``, readable PyTorch source, and JSON.

Layer dicts: ``{"type": "conv", ...ConvSpec fields}`` and ``{"type": "pool", ...PoolSpec fields}`` exactly as
``cnnviz.geometry.specs`` writes them (``to_dict`` / ``spec_from_dict``), plus
``{"type": "norm", "kind": "batch" | "group", "groups": 2}`` (channels come from the input),
``{"type": "act", "kind": "relu" | "gelu" | "silu" | "tanh" | "sigmoid" | "leaky_relu"}``,
``{"type": "linear", "out_features": 10, "bias": true}`` (flattens its input first) and
``{"type": "residual", "layers": [...]}`` (x + layers(x); the group must keep the shape).
A whole stack in JSON is ``{"in_shape": [3, 32, 32], "layers": [...]}``."""
from __future__ import annotations

import json
import keyword
import math

from cnnviz.architecture.stack import (  # noqa: F401  (re-exported: the stack format is codegen's)
    ACTIVATIONS, MAX_STACK_ACTIVATIONS, MAX_STACK_FLOPS, MAX_STACK_PARAMS, NORMS, PREFIX, TYPES, Residual, _check_shape,
    _needs_flatten, _spec, _walk, build_stack, check_budget, rechain, shapes, stack_cost)
from cnnviz.checks import Text, checked
from cnnviz.errors import ConfigError
from cnnviz.io.text import shown
from cnnviz.geometry.specs import ConvSpec, PoolSpec, spec_from_dict  # noqa: F401  (builder uses cg.spec_from_dict)

MAX_JSON_CHARS = 200_000  # an exported stack of the builder's MAX_LAYERS layers is a few tens of kB


RESIDUAL_SOURCE = '''class Residual(nn.Module):
    """x + body(x)."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)
'''


def _fmt(shape) -> str:
    return "(N, " + ", ".join(map(str, shape)) + ")"


@checked(class_name=Text(100))
def to_code(layers, in_shape, class_name: str = "Net") -> str:
    """Short, readable PyTorch source of the stack: one attribute per layer, one line per layer in forward."""
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        raise ConfigError("class_name", f"must be a Python class name (letters, digits, _), got {shown(class_name)}")
    in_shape = _check_shape(in_shape)
    items = list(_walk(layers, in_shape))
    counts: dict[str, int] = {}

    def name(prefix):
        counts[prefix] = counts.get(prefix, 0) + 1
        return f"{prefix}{counts[prefix]}"

    def inner(kids, indent):
        lines = []
        for _, layer, shp, _, _, code, sub in kids:
            if sub is not None:
                lines.append(f"{indent}Residual(")
                lines += inner(sub, indent + "    ")
                lines.append(f"{indent}),")
            else:
                if _needs_flatten(layer, shp):
                    lines.append(f"{indent}nn.Flatten(),")
                lines.append(f"{indent}{code},")
        return lines

    init, fwd, uses_res = [], [], False
    for _, layer, shp, out, _, code, kids in items:
        attr = name(PREFIX[layer["type"]])
        if kids is not None:
            uses_res = True
            init.append(f"        self.{attr} = Residual(")
            init += inner(kids, " " * 12)
            init.append("        )")
            fwd.append(f"        x = self.{attr}(x)  # x + body(x): {_fmt(out)}")
            continue
        if _needs_flatten(layer, shp):
            flat = name("flatten")
            init.append(f"        self.{flat} = nn.Flatten()")
            fwd.append(f"        x = self.{flat}(x)  # " + _fmt((math.prod(shp),)))
        init.append(f"        self.{attr} = {code}")
        fwd.append(f"        x = self.{attr}(x)  # {_fmt(out)}")
    uses_res = uses_res or any("Residual(" in line for line in init)
    params = sum(p.numel() for p in build_stack(layers, in_shape).parameters())
    out_shape = items[-1][3] if items else in_shape
    src = ["import torch", "import torch.nn as nn", "", ""]
    if uses_res:
        src += [RESIDUAL_SOURCE, ""]
    src += [f"class {class_name}(nn.Module):",
            f'    """Input {_fmt(in_shape)} -> output {_fmt(out_shape)}; {params:,} parameters."""', "",
            "    def __init__(self):", "        super().__init__()", *(init or ["        pass"]), "",
            f"    def forward(self, x):  # {_fmt(in_shape)}", *fwd, "        return x", "", "",
            "if __name__ == \"__main__\":",
            f"    print({class_name}()(torch.zeros(1, {', '.join(map(str, in_shape))})).shape)", ""]
    return "\n".join(src)


# --------------------------------------------------------------------------- JSON
def _plain(layer: dict) -> dict:
    if layer.get("type") in ("conv", "pool"):
        return json.loads(json.dumps(_spec(layer).to_dict()))  # tuples -> lists, defaults filled in
    if layer.get("type") == "residual":
        return {"type": "residual", "layers": [_plain(x) for x in layer.get("layers", [])]}
    return json.loads(json.dumps(layer))


def stack_to_json(layers, in_shape) -> str:
    shapes(layers, in_shape)  # only valid stacks are exported
    return json.dumps({"in_shape": list(in_shape), "layers": [_plain(x) for x in layers]}, indent=2)


@checked(text=Text(MAX_JSON_CHARS))
def stack_from_json(text: str) -> tuple[list[dict], tuple]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError("JSON", f"line {e.lineno} column {e.colno}: {e.msg}") from None
    except (ValueError, RecursionError) as e:  # a number beyond the int-to-string limit; nesting too deep
        raise ConfigError("JSON", f"is not readable ({type(e).__name__}: {shown(e)})") from None
    if not isinstance(data, dict) or "layers" not in data or "in_shape" not in data:
        raise ConfigError("JSON", 'must be an object {"in_shape": [C, H, W], "layers": [...]}')
    in_shape = _check_shape(tuple(data["in_shape"]) if isinstance(data["in_shape"], list) else data["in_shape"])
    layers = data["layers"]
    shapes(layers, in_shape)
    return [_plain(x) for x in layers], in_shape


def conv(in_channels, out_channels, kernel_size=3, dims=2, **kw) -> dict:
    """Shorthand for a conv layer dict (ConvSpec's format)."""
    return ConvSpec(dims, in_channels, out_channels, kernel_size, **kw).to_dict()


def pool(kernel_size=2, dims=2, **kw) -> dict:
    return PoolSpec(dims, kernel_size, **kw).to_dict()


EXAMPLE = [conv(3, 8, 3, padding=1), {"type": "norm", "kind": "batch"}, {"type": "act", "kind": "relu"},
           {"type": "residual", "layers": [conv(8, 8, 3, padding=1), {"type": "norm", "kind": "batch"},
                                           {"type": "act", "kind": "relu"}]},
           pool(2), conv(8, 16, 3, padding=1), {"type": "act", "kind": "relu"}, pool(2),
           {"type": "linear", "out_features": 10, "bias": True}]
EXAMPLE_SHAPE = (3, 32, 32)
