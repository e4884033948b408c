"""The student's side of a live class: the Live class page's panel (who you are, Leave, the "Follow the teacher"
switch, the teacher's latest link) and, on every other page, a one-line banner when the teacher brings the class
somewhere: one button to follow; a student who switched "Follow the teacher" on is moved at once.

Cheap by design: app.py calls :func:`class_bar` on each run; outside a class it reads only this session (no
store). In a class the banner is a fragment that asks the store for the teacher's latest link every
``BANNER_S`` seconds (three indexed reads), and draws nothing once this browser followed that push."""
from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import streamlit as st

from cnnviz.errors import ConfigError
from cnnviz.io.text import md_text
from cnnviz.ui.live_class.panels import STUDENT, _remembered, engine, forget
from cnnviz.ui.widgets import show_error

POLL_S = 2.0      # the Live class page's refresh (the teacher's latest link)
BANNER_S = 8.0    # every other page: a push reaches an idle student within 8 s (any click: at once)
FOLLOW = "live_follow"      # session: the student's "Follow the teacher" switch (kept when the widget is not drawn)
FOLLOWED = "live_followed"  # session: the number of the last push this browser went to (or was already on)
BEAT_S = 10.0     # an open page tells the class it is still there this often (the teacher's "Connected": seen
BEAT = "live_beat"  # within PRESENT_S = 30 s); session: when it last did (time.monotonic)


def _target(link: str) -> tuple[str, str, dict]:
    """(URL path, page file, query) of a pushed link (checked by the engine when the teacher pushed it)."""
    parts = urlsplit(link)
    path = parts.path.strip("/")
    return path, f"pages/{path or 'home'}.py", dict(parse_qsl(parts.query))


def _go(seq: int, link: str) -> None:
    st.session_state[FOLLOWED] = seq
    _, page, query = _target(link)
    st.switch_page(page, query_params=query)


def _pending(code: str, token: str, page: str | None):
    """The teacher's latest push when this browser has not followed it yet (None otherwise). Being on its page with
    its settings already counts as following it."""
    pushed = engine().pushed_link(code, token)
    if pushed is None or pushed.seq <= st.session_state.get(FOLLOWED, 0):
        return None
    path, _, query = _target(pushed.link)
    if page == path and all(st.query_params.get(k) == v for k, v in query.items()):
        st.session_state[FOLLOWED] = pushed.seq
        return None
    if st.session_state.get(FOLLOW):
        _go(pushed.seq, pushed.link)  # follows at once: the switch is on
    return pushed


def still_here(code: str, token: str, page: str) -> None:
    """From the polling fragments: the student's page is still open, said at most every ``BEAT_S`` seconds. Without
    it a student reading one page for half a minute showed as not connected on the teacher's dashboard (only a
    full run of a page said where the student was). Silent when the class has ended."""
    now = time.monotonic()
    if now - st.session_state.get(BEAT, float("-inf")) < BEAT_S:
        return
    st.session_state[BEAT] = now
    try:
        engine().seen(code, token, page)
    except ConfigError:
        pass


def class_bar(page: str) -> None:
    """For app.py, on every page run (``page``: its URL path): a joined student's page for the teacher's "who is
    where", and the banner to follow the teacher (the Live class page has its own panel). Silent outside a class."""
    pair = _remembered(STUDENT)
    if pair is None:
        return
    try:
        engine().seen(*pair, page)
    except ConfigError:
        return
    st.session_state[BEAT] = time.monotonic()
    if page != "live_class":
        _banner(*pair, page)


@st.fragment(run_every=BANNER_S)
def _banner(code: str, token: str, page: str) -> None:
    still_here(code, token, page)
    try:
        pushed = _pending(code, token, page)
    except ConfigError:
        return  # the class ended: nothing to follow
    if pushed is None:
        return
    path = _target(pushed.link)[0] or "home"
    c = st.columns([6, 1.4], vertical_alignment="center")
    c[0].info(f"The teacher brings the class to **{md_text(path)}**.", icon=":material/campaign:")
    if c[1].button("Follow", key="live_banner_go", icon=":material/arrow_forward:", type="primary",
                   width="stretch", help="Open the page the teacher is on, with the teacher's settings."):
        _go(pushed.seq, pushed.link)


def student_panel(joined) -> None:
    st.markdown(f"You are in class **{joined.code}** as **{md_text(joined.nickname)}**. Only the teacher sees "
                "your nickname, your answers, your finished training runs and the digits you share.")
    c = st.columns([2, 1], vertical_alignment="center")
    st.session_state[FOLLOW] = c[0].toggle(
        "Follow the teacher", value=bool(st.session_state.get(FOLLOW)), key="live_follow_switch",
        help="On: when the teacher brings the class to a page, you go there at once, from any page. Off: a banner "
             "with a Follow button appears instead.")
    if c[1].button("Leave this class", key="live_leave", icon=":material/logout:"):
        forget(STUDENT)
        st.rerun()
    follow(joined.code, joined.token)


@st.fragment(run_every=POLL_S)
def follow(code: str, token: str) -> None:
    still_here(code, token, "live_class")
    try:
        pushed = engine().pushed_link(code, token)
        if pushed is not None and pushed.seq > st.session_state.get(FOLLOWED, 0) and st.session_state.get(FOLLOW):
            _go(pushed.seq, pushed.link)
    except ConfigError as err:
        show_error(err)
        return
    if pushed is None:
        st.caption("When the teacher brings the class to a page, a button to follow appears here.")
        return
    path, page, query = _target(pushed.link)
    st.info(f"The teacher brings the class to **{md_text(path or 'home')}**.", icon=":material/campaign:")
    st.page_link(page, label="Go there", icon=":material/arrow_forward:", query_params=query)
