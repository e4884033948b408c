"""Plotly figure builders: pure functions from engine results to ``go.Figure``; they never do the math.

One module per page topic (``from cnnviz.figures import training as figs``). May import: plotly, numpy and
the engine rooms' result types. Never streamlit."""
