"""Presenter mode's bar: the Pages button shows the sidebar (the page list) and hides it again; the switch and
the button live in the bar (the margin no content enters), not floating over the page."""
from streamlit.testing.v1 import AppTest

from cnnviz.ui.presenter import SIDEBAR_HIDDEN_CSS


def _script():
    import streamlit as st
    from cnnviz.ui import presenter_mode
    presenter_mode()
    st.write("page")


def sidebar_hidden(at) -> bool:
    return any(SIDEBAR_HIDDEN_CSS in el.proto.body for el in at.get("html"))


def test_pages_button_shows_and_hides_the_sidebar_in_presenter_mode():
    at = AppTest.from_function(_script, default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception and sidebar_hidden(at)
    at.button(key="presenter_pages_button").click().run()
    assert not sidebar_hidden(at) and at.session_state["presenter_pages"] is True
    at.button(key="presenter_pages_button").click().run()
    assert sidebar_hidden(at)
    at.toggle(key="presenter_toggle").set_value(False).run()  # off: the sidebar is the normal one again
    assert not sidebar_hidden(at) and "present" not in at.query_params
