"""``row_layout`` builds a row of subplots in one constructor call: the same layout make_subplots makes (domains,
anchors, title annotations), so the figures that moved to it draw exactly as before, only faster."""
import json

import plotly
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from cnnviz.figures.subplots import axes, row_layout


@pytest.mark.parametrize("titles, widths, spacing", [
    (["a", "b"], None, 0.08), (["input", "output"], [11, 5], 0.08), (["p", "k", "p × k"], None, 0.05),
    (["only"], None, 0.06), (["x", "y", "z", "w"], [1, 2, 3, 4], 0.02)])
def test_row_layout_is_make_subplots_layout(titles, widths, spacing):
    ref = make_subplots(1, len(titles), column_widths=widths, horizontal_spacing=spacing, subplot_titles=titles)
    for i in range(len(titles)):
        ref.add_trace(go.Scatter(x=[0], y=[i]), 1, i + 1)
    ref.update_annotations(font_size=13)
    ours = go.Figure(dict(data=[dict(type="scatter", x=[0], y=[i], xaxis=axes(i)[0], yaxis=axes(i)[1])
                                for i in range(len(titles))],
                          layout=row_layout(titles, widths, spacing, title_size=13)))
    dump = lambda f: json.dumps(f.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)  # noqa: E731
    assert dump(ours) == dump(ref)


def test_domains_by_hand():
    lay = row_layout(["input", "output"], widths=[11, 5])  # 0.92 of the width split 11 : 5, 0.08 between
    assert lay["xaxis"]["domain"] == pytest.approx([0, 0.6325]) and lay["xaxis2"]["domain"] == pytest.approx([0.7125, 1])
    assert [a["x"] for a in lay["annotations"]] == pytest.approx([0.31625, 0.85625])
    assert axes(0) == ("x", "y") and axes(2) == ("x3", "y3")
