"""The focal-loss figure's legend sits inside the plot, in a corner both curves stay out of (it used to sit below
the plot, on the x-axis title)."""
import numpy as np

from cnnviz.figures.metrics import focal_figure


def test_the_legend_is_inside_the_plot_where_no_curve_runs():
    p = np.linspace(0.01, 0.99, 99)
    ce = -np.log(p)
    fl = -(1 - p) ** 2 * np.log(p)  # focal, γ = 2, α = 1
    fig = focal_figure(p, ce, fl, 0.3, float(-np.log(0.3)), float(-(0.7 ** 2) * np.log(0.3)), 2.0)
    leg, (lo, hi) = fig.layout.legend, fig.layout.yaxis.range
    assert leg.yanchor == "top" and 0 < leg.y <= 1 and leg.xanchor == "right" and 0.5 < leg.x <= 1  # in the plot
    corner = p >= 0.5  # the legend's corner: right of p = 0.5, the top 40 % of the y range
    for trace in fig.data[:2]:
        y = np.asarray(trace.y)[corner]
        assert (y < lo + 0.6 * (hi - lo)).all(), trace.name
