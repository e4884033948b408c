"""The Compression page's evaluations, cached by the values of the controls they depend on.

Each evaluation runs a model copy over the validation set (seconds of server CPU), and its result depends only on
(model, bits, symmetric, per channel) or (model, τ, structured): so a slider in one tab never re-evaluates
another, and a class shares one evaluation per setting. Keys are plain values; entries are bounded in number
and age."""
from __future__ import annotations

import streamlit as st

from cnnviz.compression import (accuracy, model_size_bytes, prune_model, quantize_model, sparsity_per_layer,
                                tradeoff_curves)
from cnnviz.compression.distill import digits_model

model = st.cache_resource(digits_model, show_spinner="Loading the trained model…")


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def baseline(key: str) -> tuple[float, int]:
    """(validation accuracy, bytes) of the uncompressed model."""
    ds, m, _ = model(key)
    return accuracy(m, ds.x_val, ds.y_val), model_size_bytes(m)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def quantized(key: str, bits: int, sym: bool, perch: bool) -> tuple[float, int]:
    """(validation accuracy, bytes) with every conv/linear weight quantized."""
    ds, m, _ = model(key)
    q = quantize_model(m, bits, sym, perch)
    return accuracy(q, ds.x_val, ds.y_val), model_size_bytes(q, bits, sym, perch)


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def pruned(key: str, tau: float, struct: bool) -> tuple[float, list, int]:
    """(validation accuracy, sparsity per layer, bytes) after pruning at τ. Raises ConfigError as prune_model
    does (not cached: Streamlit caches return values only)."""
    ds, m, _ = model(key)
    p = prune_model(m, tau, struct)
    return accuracy(p, ds.x_val, ds.y_val), sparsity_per_layer(p), model_size_bytes(p)


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Evaluating every setting on the validation set…")
def curves(key: str, sym: bool, perch: bool, struct: bool) -> list:
    ds, m, _ = model(key)
    return tradeoff_curves(m, ds.x_val, ds.y_val, sparsities=(0.1, 0.2, 0.3, 0.5, 0.7, 0.9), symmetric=sym,
                           per_channel=perch, structured=struct)


@st.cache_data(max_entries=4, ttl=3600, show_spinner=False)
def teacher_accuracy(key: str) -> float:
    ds, m, _ = model(key, 16)
    return accuracy(m, ds.x_val, ds.y_val)
