"""The clear-cache message of Streamlit's protocol: any client can send it, and it would empty every shared cache
of the server; cnnviz.ui.protocol ignores it unless a developer opts in."""
import streamlit as st
from streamlit.runtime.app_session import AppSession

import cnnviz.ui  # noqa: F401 - installs the protocol guards


class FakeSession:
    class _State:
        cleared = False

        def clear(self):
            self.cleared = True

    def __init__(self):
        self._session_state = self._State()


def test_a_clear_cache_request_leaves_the_shared_caches_alone(monkeypatch):
    calls = []

    @st.cache_data(show_spinner=False)
    def shared(x):
        calls.append(x)
        return x * 2

    monkeypatch.delenv("CNNVIZ_ALLOW_CLEAR_CACHE", raising=False)
    assert shared(21) == 42 and shared(21) == 42 and calls == [21]
    session = FakeSession()
    AppSession._handle_clear_cache_request(session)
    assert shared(21) == 42 and calls == [21] and not session._session_state.cleared  # still cached
    monkeypatch.setenv("CNNVIZ_ALLOW_CLEAR_CACHE", "1")
    AppSession._handle_clear_cache_request(session)  # a developer's opt-in: Streamlit's own behaviour
    assert shared(21) == 42 and calls == [21, 21] and session._session_state.cleared
