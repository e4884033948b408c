"""Architecture: ``summarize`` any nn.Module (shapes, parameters, memory, receptive field), the blocks
(``blocks/``, one per file), the layer-stack builder and its code exporter, presets and the small models, and a tiny
architecture search (``search_space``, ``search``: a job of the training runner).

The Architecture Lab's room. May import: cnnviz.errors, cnnviz.geometry, cnnviz.device, torch; the search also
loads the digits (cnnviz.io) and reports cnnviz.jobs.events, both when it runs."""
from cnnviz.architecture.summary import (WHOLE, LayerRow, Summary, summarize, share, fmt_bytes, WeightSharing,
    weight_sharing)
from cnnviz.architecture.models import (TinyVGG, BasicBlock, SmallResNet, MODELS, build_model)
from cnnviz.architecture.codegen import (ACTIVATIONS, NORMS, TYPES, MAX_STACK_PARAMS, MAX_STACK_ACTIVATIONS,
    MAX_STACK_FLOPS, PREFIX, Residual, RESIDUAL_SOURCE, shapes, rechain, build_stack, stack_cost, check_budget,
    to_code, stack_to_json, stack_from_json, conv, pool, EXAMPLE, EXAMPLE_SHAPE)
from cnnviz.architecture.builder import (KINDS, MAX_LINK_CHARS, MAX_STACK_JSON, new_layer, describe, insert,
    replace, move, remove, wrap, reshape_input, encode_stack, decode_stack)
from cnnviz.architecture.presets import (Preset, lenet5, mobilenet_style, conv1d_net, PRESETS, build_preset)
from cnnviz.architecture.search_space import Genes, candidate_flops, pareto_front, family_genes
from cnnviz.architecture.search import SearchConfig, SearchTrial, run_search
from cnnviz.architecture import blocks  # noqa: F401  (a subpackage: cnnviz.architecture.blocks)
from cnnviz.architecture import tables  # noqa: F401  (the Architecture Lab's tables as shown: names, headers, formats)

__all__ = ["WHOLE", "LayerRow", "Summary", "summarize", "share", "fmt_bytes", "WeightSharing", "weight_sharing",
           "TinyVGG", "BasicBlock", "SmallResNet", "MODELS", "build_model", "ACTIVATIONS", "NORMS", "TYPES",
           "MAX_STACK_PARAMS", "MAX_STACK_ACTIVATIONS", "MAX_STACK_FLOPS", "PREFIX", "Residual", "RESIDUAL_SOURCE",
           "shapes", "rechain", "build_stack", "stack_cost", "check_budget", "to_code", "stack_to_json",
           "stack_from_json", "conv", "pool", "EXAMPLE", "EXAMPLE_SHAPE", "KINDS", "MAX_LINK_CHARS",
           "MAX_STACK_JSON", "new_layer", "describe", "insert", "replace", "move", "remove", "wrap",
           "reshape_input", "encode_stack", "decode_stack", "Preset", "lenet5", "mobilenet_style", "conv1d_net",
           "PRESETS", "build_preset", "Genes", "candidate_flops", "pareto_front", "family_genes", "SearchConfig",
           "SearchTrial", "run_search"]
