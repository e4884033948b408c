"""Plotly figure builders: pure functions from engine results to ``go.Figure``; they never do the math.

One module per page topic (``from cnnviz.figures import training as figs``). May import: plotly, numpy and
the engine rooms' result types. Never streamlit."""
from cnnviz.figures import (  # noqa: F401
    animation, animation_controls, animation_extra, architecture, architecture_views, compression, conv_grid, edges,
    features, input_channels, metrics, network, network_neuron, network_overview, prebuilt, saliency, search, subplots,
    training)

__all__ = ["animation", "animation_controls", "animation_extra", "architecture", "architecture_views", "compression",
           "conv_grid", "edges", "features", "input_channels", "metrics", "network", "network_neuron",
           "network_overview", "prebuilt", "saliency", "search", "subplots", "training"]
