"""cnnviz.ui.columns: the normal layout's columns, the presenter layout's (fewer, wider, or stacked with
present_spec=1) when presenter mode is on — as the Network Explorer's Prediction/Probability and the Training
Lab's controls use them."""
from streamlit.testing.v1 import AppTest


def layout(present: bool):
    def script():
        from cnnviz.ui import columns
        left, right = columns([2, 3], [1, 1], gap="medium")
        left.metric("left", 1)
        m = columns(2, 1, right)
        m[0].metric("Prediction", 6)
        m[1].metric("Probability", "85.6%")

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["presenter_on"] = present
    at.run()
    assert not at.exception
    return at


def test_normal_layout_keeps_its_columns():
    at = layout(False)
    assert [c.weight for c in at.columns[:2]] == [0.4, 0.6]
    assert len(at.columns) == 4  # the two outer ones and the metrics' pair inside the right one
    assert [m.label for m in at.columns[3].metric] == ["Probability"]


def test_presenter_layout_widens_and_stacks():
    at = layout(True)
    assert [c.weight for c in at.columns] == [0.5, 0.5]  # no pair inside: the metrics stack
    assert [m.label for m in at.columns[1].metric] == ["Prediction", "Probability"]


def _mode_script():
    import streamlit as st
    from cnnviz.ui import presenter_mode, presenting
    on = presenter_mode()
    st.metric("presenting", str(presenting()))
    st.metric("returned", str(on))


def test_presenting_follows_the_link_and_the_toggle():
    at = AppTest.from_function(_mode_script, default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert [m.value for m in at.metric] == ["True", "True"]
    at.toggle(key="presenter_toggle").set_value(False).run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["False", "False"]
    assert "present" not in at.query_params  # the link no longer opens in presenter mode


def test_presenting_is_off_without_the_link():
    at = AppTest.from_function(_mode_script, default_timeout=60)
    at.run()
    assert [m.value for m in at.metric] == ["False", "False"]
