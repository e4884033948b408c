"""The protocol boundary, below the pages: what any websocket client can send and a browser's page would not.

- A widget value that Streamlit cannot even deserialize reads as absent.
- The "clear cache" message (the developer menu's entry; any client can send it in two bytes) does not empty
  ``st.cache_data`` and ``st.cache_resource`` for the whole server unless ``CNNVIZ_ALLOW_CLEAR_CACHE=1``
  (a developer's opt-in): one student must not make a class recompute every shared model and figure.
- Reruns go through a per-session rate limit (:mod:`cnnviz.ui.rate_limit`: excess requests deferred and
  coalesced, the latest widget values kept), so one websocket sending reruns back to back cannot slow its class.
- Uploads are capped per session and in all, and unclaimed ones dropped (:mod:`cnnviz.ui.upload_caps`).

Streamlit's websocket accepts any widget value of any type from any client, and deserializes it when the value
is first read, before the page script runs (``"abc"`` where a number input sends a number makes ``int("abc")``
raise inside Streamlit itself, and the session stays broken). :func:`install` wraps that one read: a value whose
deserializer raises reads as absent, so the widget shows its previous value or its default (the entry itself is
left in place: Streamlit may be iterating over the states while it reads one). What
deserializes but is still wrong (NaN, ∞, out of bounds, an unknown option) is the page state's business
(:meth:`cnnviz.ui.state.PageState._check_sent`). Written against streamlit==1.67.0's ``WStates`` and ``AppSession`` (pinned); tests/e2e/test_hostile_widget_values.py
and tests/unit/ui/test_protocol.py fail if those internals move."""
from __future__ import annotations

import logging
import os

from streamlit.runtime.app_session import AppSession
from streamlit.runtime.state import session_state as _session_state

from cnnviz.ui import rate_limit, upload_caps

log = logging.getLogger(__name__)
_READ = _session_state.WStates.__getitem__
_LOGGED: set[tuple[str, str]] = set()  # one log line per (widget, error), not one per read


def _checked_read(self, key: str):
    try:
        return _READ(self, key)
    except KeyError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever a hostile value makes a deserializer raise
        if (key, type(e).__name__) not in _LOGGED:
            if len(_LOGGED) > 10_000:
                _LOGGED.clear()
            _LOGGED.add((key, type(e).__name__))
            log.warning("ignored an undecodable widget value for %s (%s: %s)", key[-60:], type(e).__name__,
                        str(e)[:80])
        raise KeyError(key) from None


_CLEAR_CACHE = AppSession._handle_clear_cache_request


def _guarded_clear_cache(self) -> None:
    if os.environ.get("CNNVIZ_ALLOW_CLEAR_CACHE", "") == "1":
        return _CLEAR_CACHE(self)
    log.warning("ignored a clear-cache request (set CNNVIZ_ALLOW_CLEAR_CACHE=1 to allow it)")


def install() -> None:
    """Idempotent: the process's widget reads go through :func:`_checked_read`, clear-cache requests through
    :func:`_guarded_clear_cache`, rerun requests through the session's rate limit, uploads through their caps."""
    _session_state.WStates.__getitem__ = _checked_read
    AppSession._handle_clear_cache_request = _guarded_clear_cache
    if not hasattr(AppSession._handle_rerun_script_request, "__wrapped__"):
        AppSession._handle_rerun_script_request = rate_limit.limited(AppSession._handle_rerun_script_request)
    upload_caps.install()
