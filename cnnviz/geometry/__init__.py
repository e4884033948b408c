"""Geometry: the arithmetic of one layer and of a stack (shapes, parameters, FLOPs, receptive field), the
LaTeX formulas with substituted numbers, the layer specs, and the PyTorch check behind the badge.

The Conv Arithmetic page's room. May import: cnnviz.errors, torch, numpy. Nothing else of cnnviz (every
other room builds on this one)."""
from cnnviz.geometry.arithmetic import (PADDING_MODES, PADDING_STRINGS, AXIS_NAMES, MAX_INT, as_bool, per_axis,
    parse_in_shape, ConvGeometry, conv_geometry, conv_output_shape, conv_param_count, conv_flops, conv_macs,
    POOL_KINDS, PoolGeometry, pool_geometry, pool_output_shape, RFRow, receptive_field_table, receptive_field,
    parse_rf_stack)
from cnnviz.geometry.padding import macs_from_flops, tf_same_padding, transposed_as_direct
from cnnviz.geometry.formulas import (Formula, conv_output_formulas, conv_params_formula, conv_flops_formula,
    conv_macs_formula, pool_output_formulas, receptive_field_formula, tf_same_formulas)
from cnnviz.geometry.specs import (MAX_BUILD_PARAMS, ConvSpec, PoolSpec, SPEC_TYPES, spec_from_dict, numel)
from cnnviz.geometry.verify import (MAX_ELEMENTS, MAX_FLOPS, Check, check_with_pytorch)
from cnnviz.geometry.gridding import Coverage, coverage, unreached_formula, with_rates

__all__ = ["PADDING_MODES", "PADDING_STRINGS", "AXIS_NAMES", "MAX_INT", "as_bool", "per_axis", "parse_in_shape",
           "ConvGeometry", "conv_geometry", "conv_output_shape", "conv_param_count", "conv_flops", "conv_macs",
           "POOL_KINDS", "PoolGeometry", "pool_geometry", "pool_output_shape", "RFRow", "receptive_field_table",
           "parse_rf_stack", "receptive_field", "macs_from_flops", "tf_same_padding", "transposed_as_direct",
           "Formula", "conv_output_formulas",
           "conv_params_formula", "conv_flops_formula", "conv_macs_formula", "pool_output_formulas",
           "receptive_field_formula", "tf_same_formulas", "MAX_BUILD_PARAMS", "ConvSpec", "PoolSpec",
           "SPEC_TYPES", "spec_from_dict", "numel", "MAX_ELEMENTS", "MAX_FLOPS", "Check", "check_with_pytorch",
           "Coverage", "coverage", "unreached_formula", "with_rates"]
