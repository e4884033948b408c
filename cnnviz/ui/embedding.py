"""The Feature Maps page's Embedding tab: the chosen shipped model's validation set in its penultimate layer (the
input of its last Linear), projected to 2-D by PCA, coloured by true class, the misclassified images marked.
Cached per model key (one forward pass over the validation set and one SVD, shared by every session)."""
from __future__ import annotations

import streamlit as st

from cnnviz.figures.embedding import embedding_figure
from cnnviz.inside.embedding import embedding
from cnnviz.inside.shipped import validation_set
from cnnviz.io.text import md_text
from cnnviz.ui.feature_maps import load
from cnnviz.ui.widgets import show_chart


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Projecting the validation set…")
def embedding_view(model_key: str) -> dict:
    """The shipped model's validation embedding as plain values: coords (N, 2), labels, predictions, ratio."""
    model, info = load(model_key)
    xs, ys = validation_set(info.dataset)
    e = embedding(model, xs, ys)
    return dict(coords=e.coords, labels=e.labels, preds=e.predictions, ratio=e.ratio)


def embedding_tab(S, model_key: str | None, info) -> None:
    """Draw the tab; ``model_key`` None for an uploaded model (no validation set of its own to project)."""
    st.markdown("Every validation image as one point: the **penultimate layer**'s values (what the classifier's "
                "last Linear layer reads) squeezed to two dimensions by **PCA**. Images the network finds alike sit "
                "close together; **×** marks an image it gets wrong.")
    if model_key is None:
        st.info("The embedding is drawn for the shipped models (their validation sets ship with cnnviz).")
        return
    v = embedding_view(model_key)
    wrong = int((v["preds"] != v["labels"]).sum())
    show_chart(embedding_figure(v["coords"], v["labels"], v["preds"], info.classes, v["ratio"],
                                title=f"{len(v['labels'])} validation images · {wrong} misclassified"),
               S.key("embed_fig"))
    st.caption(f"The two axes keep {sum(v['ratio']):.0%} of the features' variance: points far apart really differ, "
               f"points close together may still differ along the dimensions PCA dropped. Click a class in the "
               f"legend to hide it. Model: {md_text(info.short)}.")
