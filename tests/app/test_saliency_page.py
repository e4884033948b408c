"""Saliency page in AppTest: the methods grid, a chosen class, a bad occlusion setting, the Clever-Hans tab."""
from tests.support import apptest
from tests.support.rendered import shown

metric = apptest.metric


def test_saliency_page_runs_and_follows_controls():
    at = apptest.open_page("saliency", {"tab": "Clever Hans"})  # lazy tabs: only the open tab runs
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


def test_controls_the_maps_do_not_depend_on_reuse_them(monkeypatch):
    """The overlay slider and the Clever-Hans image change no attribution of the main image, so they
    recompute none (captum ran 7 methods + 3 on every rerun before the cache)."""
    import streamlit as st
    import cnnviz.ui.saliency as cache
    st.cache_data.clear()
    calls = []
    real = cache.attribute
    monkeypatch.setattr(cache, "attribute", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    at = apptest.open_page("saliency", {"tab": "Clever Hans"})  # lazy tabs: the Clever-Hans maps need their tab
    assert sorted(calls) == sorted(cache.METHODS + cache.HANS_METHODS)  # first run: every map once
    calls.clear()
    at.slider(key="sal_alpha").set_value(0.3).run()
    assert calls == [] and not at.exception
    at.slider(key="sal_ch_idx").set_value(7).run()
    assert sorted(calls) == sorted(cache.HANS_METHODS)  # only the Clever-Hans image changed
    calls.clear()
    at.slider(key="sal_steps").set_value(16).run()  # an IG setting: Integrated Gradients alone again
    assert calls == ["integrated_gradients"]
    calls.clear()
    at.selectbox(key="sal_base").set_value("mean").run()  # the baseline: IG and DeepLift read it
    assert sorted(calls) == ["deeplift", "integrated_gradients"]
