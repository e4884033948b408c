"""Plotly figure builders: pure functions from engine results to ``go.Figure``; they never do the math."""
