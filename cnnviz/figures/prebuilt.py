"""A plotly figure whose JSON is already complete: plotly's per-property validation is skipped.

Building a ``go.Figure`` from a spec with frames validates every frame's every property even with
``_validate=False``, at the server's CPU cost on every rerun of a page that draws an animation (timings:
docs/measurements.md). A figure assembled from validated traces and plain frame dicts needs none of it.
Streamlit's ``st.plotly_chart`` and ``presenter_fonts`` read a figure only through ``to_dict``, so a ``Prebuilt``
goes wherever a figure goes; code that inspects attributes (``fig.frames``, ``fig.layout``) gets the real figure
from ``figure()``."""
from __future__ import annotations

import copy

import plotly.graph_objects as go


class Prebuilt(go.Figure):
    def __init__(self, spec: dict):
        super().__init__()
        self._spec = spec  # {"data": [...], "layout": {...}, "frames": [...]}: plain JSON-able dicts

    def to_dict(self) -> dict:
        return copy.deepcopy(self._spec)  # callers may change what they get (presenter_fonts does)

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def figure(self) -> go.Figure:
        """The same figure as a validated ``go.Figure`` (slow: for tests and tools, not for pages)."""
        return go.Figure(self._spec)
