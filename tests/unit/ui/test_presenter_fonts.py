"""Presenter mode's chart fonts (cnnviz.ui.widgets.presenter_fonts): every text a figure can carry ends up with an
explicit size of at least 16 px — subplots' second axes, legend, annotations, colour bars, treemap/pie and heatmap
text, table cells, sliders, hover labels and every frame of an animation — and sizes already large stay."""
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.animation import conv2d_steps, kernel_preset, sample_input
from cnnviz.figures.animation import animation_figure
from cnnviz.ui.widgets import presenter_fonts


def sizes(node, path=""):
    """(path, size) of every font object in a figure dict (the template aside)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "template":
                continue
            if isinstance(v, dict) and (k == "font" or k.endswith("font")):
                yield f"{path}.{k}", v.get("size")
            yield from sizes(v, f"{path}.{k}")
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from sizes(v, f"{path}[{i}]")


def busy_figure():
    fig = make_subplots(2, 2, specs=[[{}, {"type": "domain"}], [{}, {"type": "domain"}]],
                        subplot_titles=("heat", "tree", "bars", "pie"))
    fig.add_trace(go.Heatmap(z=[[1, 2], [3, 4]], texttemplate="%{z}", textfont=dict(size=12),
                             colorbar=dict(tickfont=dict(size=10))), 1, 1)
    fig.add_trace(go.Treemap(labels=["net", "conv", "fc"], parents=["", "net", "net"], values=[0, 3, 1]), 1, 2)
    fig.add_trace(go.Bar(x=["a", "b"], y=[1, 2], text=["1", "2"], textposition="inside"), 2, 1)
    fig.add_trace(go.Pie(labels=["x", "y"], values=[1, 2], insidetextfont=dict(size=11)), 2, 2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="markers+text", text=["p", "q"],
                             textfont=dict(size=[10, 30])), 2, 1)
    fig.add_annotation(text="note", x=0, y=0, font=dict(size=9), showarrow=False)
    fig.update_layout(legend=dict(font=dict(size=14)), font=dict(size=12), title=dict(text="t", font=dict(size=24)))
    fig.update_xaxes(tickfont=dict(size=12), row=2, col=1)  # xaxis2: a subplot's own axis
    return fig


def test_every_text_of_a_busy_figure_is_16_px_or_more():
    d = presenter_fonts(busy_figure()).to_dict()
    found = dict(sizes(d))
    lay = d["layout"]
    assert lay["font"]["size"] == 18 and lay["legend"]["font"]["size"] == 18
    assert lay["title"]["font"]["size"] == 24  # already large: kept
    for ax in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        assert lay[ax]["tickfont"]["size"] == 18 and lay[ax]["title"]["font"]["size"] == 18, ax
    heat, tree, bar, pie, scatter = d["data"]
    assert heat["textfont"]["size"] == 18 and heat["colorbar"]["tickfont"]["size"] == 18
    assert tree["textfont"]["size"] == 18 and tree["insidetextfont"]["size"] == 18
    assert bar["insidetextfont"]["size"] == 18 and pie["insidetextfont"]["size"] == 18
    assert scatter["textfont"]["size"] == [16.0, 30.0]  # a size per point: each lifted to 16 at least
    assert {a["text"]: a["font"]["size"] for a in lay["annotations"]}["note"] == 18
    assert lay["hoverlabel"]["font"]["size"] == 18 and lay["uniformtext"] == dict(minsize=16, mode="hide")
    small = {p: s for p, s in found.items() if s is None or np.min(s) < 16}
    assert not small, small


def test_an_axis_the_layout_never_named_gets_sizes_too():
    fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))
    fig.update_yaxes(autorange="reversed")  # layout.yaxis exists, layout.xaxis does not
    fig.add_trace(go.Scatter(x=[0], y=[0], xaxis="x3", yaxis="y3"))
    lay = presenter_fonts(fig).to_dict()["layout"]
    assert [lay[a]["tickfont"]["size"] for a in ("xaxis", "yaxis", "xaxis3", "yaxis3")] == [18] * 4


def test_animation_frames_and_controls_are_lifted_too():
    x = sample_input("digit")
    fig = animation_figure(conv2d_steps(x, kernel_preset("sobel x"), 0.0, 1, 1, 1, "zeros"), 0)
    before = fig.to_dict()
    assert before["layout"]["sliders"][0]["font"]["size"] == 11  # the step labels, small on a laptop
    d = presenter_fonts(fig).to_dict()
    assert len(d["frames"]) == 64 and d["layout"]["sliders"][0]["font"]["size"] == 18
    assert all(fr["layout"]["title"]["font"]["size"] >= 16 for fr in d["frames"])
    small = {p: s for p, s in sizes(d) if s is None or np.min(s) < 16}
    assert not small, small


def test_a_log_axis_digits_drawn_at_three_quarters_still_reach_16_px():
    """Plotly labels a log axis's ticks between powers of ten (2, 5, …) at 3/4 of the tick font: the Architecture
    Lab's log-scale charts showed them at 13.5 px (18 × 0.75) in presenter mode."""
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 80, 900]))
    fig.update_yaxes(type="log")
    lay = presenter_fonts(fig).to_dict()["layout"]
    assert lay["yaxis"]["tickfont"]["size"] * 0.75 >= 16
    assert lay["xaxis"]["tickfont"]["size"] == 18  # a linear axis keeps the base size
