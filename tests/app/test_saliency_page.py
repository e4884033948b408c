"""Saliency page in AppTest: the methods grid, a chosen class, a bad occlusion setting, the Clever-Hans tab."""
import apptest
from rendered import shown

metric = apptest.metric


def test_saliency_page_runs_and_follows_controls():
    at = apptest.open_page("saliency")
    assert metric(at, "Explaining") == metric(at, "Prediction")
    assert metric(at, "Accuracy, patch of another class") == "0%"      # the Clever-Hans model reads the patch
    assert int(metric(at, "Gradient on the patch").rstrip("%")) > 10     # patch = 2.4 % of the pixels
    at.radio(key="sal_which").set_value("chosen").run()
    at.selectbox(key="sal_cls").set_value(5).run()
    assert metric(at, "Explaining") == "5"
    assert at.query_params["cls"] in ("5", ["5"])
    at.slider(key="sal_stride").set_value(4).run()
    at.slider(key="sal_win").set_value(3).run()                          # stride 4 > window 3: refused
    assert not at.exception
    assert any("window" in shown(e.value) for e in at.error)
