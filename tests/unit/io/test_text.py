"""User strings stay text: markdown escapes read back as the original, plotly labels carry no live tags."""
import html

import numpy as np
import torch
from hypothesis import given, settings, strategies as st

from cnnviz.figures.features import probabilities_figure
from cnnviz.figures.training import confusion_figure, prediction_grid, sample_grid
from cnnviz.io.text import md_text, plot_text
from tests.support.rendered import shown

HOSTILE = ('<img src=x onerror="alert(1)">', "**b** [l](javascript:alert(1)) $x$", "<b>t</b> :red[r] _i_ & co")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=40))
def test_markdown_escape_reads_back_as_the_original(s):
    escaped = md_text(s)
    assert shown(escaped) == s
    for ch in "<>*_[]`$:":  # every markup character is escaped
        assert escaped.count(ch) == escaped.count("\\" + ch) or ch not in s


@given(st.text(max_size=40))
def test_plot_text_has_no_tags_and_unescapes_to_the_original(s):
    assert "<" not in plot_text(s) and ">" not in plot_text(s)
    assert html.unescape(plot_text(s)) == s


def test_figures_escape_class_names():
    k = len(HOSTILE)
    conf = confusion_figure(np.eye(k, dtype=int), HOSTILE)
    assert list(conf.data[0].x) == list(conf.data[0].y) == [html.escape(c, quote=False) for c in HOSTILE]
    probs = probabilities_figure([0.2, 0.3, 0.5], HOSTILE)
    assert [html.unescape(y) for y in probs.data[0].y] == list(HOSTILE)
    torch.manual_seed(0)
    imgs, labels = torch.rand(k * 2, 3, 8, 8).numpy(), np.repeat(np.arange(k), 2)
    grid = sample_grid(imgs, labels, HOSTILE, 2)
    assert all("<" not in t for t in grid.layout.yaxis.ticktext)
    preds = prediction_grid(imgs, labels, (labels + 1) % k, HOSTILE, cols=3)
    texts = [a.text for a in preds.layout.annotations]
    assert texts and all("<" not in t for t in texts)
    assert html.unescape(texts[0]) == f"{HOSTILE[1]} (is {HOSTILE[0]})"
