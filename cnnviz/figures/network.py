"""Figures for the Network Explorer: the whole network as columns of thumbnails with its edges, and one neuron's
arithmetic (patch × kernel, pooling window, softmax), receptive field, gradient map and top patches.
Pure: engine results in, ``go.Figure`` out.

The page's one import (``from cnnviz.figures import network as figs``); the figures live in two modules:
:mod:`cnnviz.figures.network_overview` (the overview, its label layout and the selection) and
:mod:`cnnviz.figures.network_neuron` (one neuron's figures)."""
from __future__ import annotations

from .network_neuron import (PICK, conv_detail_figure, pool_detail_figure, receptive_field_figure, softmax_figure,
                             top_patches_figure)
from .network_overview import (ARC, BOLD, FAINT, GREY, GREY_SCALE, GX, GY, MAPS_SCALE, T, overview_figure,
                               overview_spec, selection_traces, with_selection)

__all__ = ["ARC", "BOLD", "FAINT", "GREY", "GREY_SCALE", "GX", "GY", "MAPS_SCALE", "PICK", "T", "conv_detail_figure",
           "overview_figure", "overview_spec", "pool_detail_figure", "receptive_field_figure", "selection_traces",
           "softmax_figure", "top_patches_figure", "with_selection"]
