"""The Live class page's panels: join a class (code + nickname), start one (the teacher), the teacher's view
(join code, time left, End class, who is where, per-question answers with Reveal, Bring the class here); the
student's view and the banner on every page are in cnnviz.ui.live_class.banner.

The teacher key and a student's token live in ``st.session_state`` and in a SameSite=Strict cookie of that
browser (written by a zero-height frame, as cnnviz.ui.jobs keeps the owner token), never in a link: a reload or
a replica's death keeps the role; a copied link grants nothing. One engine (store + join limiter) per store
location and process, shared by every session."""
from __future__ import annotations

import os
import re
import time

import streamlit as st

from cnnviz.classroom.live import LiveClasses, RedisStore, SQLiteStore, default_path
from cnnviz.errors import ConfigError
from cnnviz.io.text import md_text
from cnnviz.ui.presenter import join_box
from cnnviz.ui.widgets import show_error

TEACHER, STUDENT = "live_teacher", "live_student"              # session keys: (code, secret)
COOKIES = {TEACHER: "cnnviz_live_teacher", STUDENT: "cnnviz_live_student"}
PAIR = re.compile(r"([A-HJKMNP-Z2-9]{6})\.([A-Za-z0-9_\-]{32})")  # our code + token_urlsafe(24): nothing else
DASHBOARD_S = 1.0  # the teacher's dashboard: one session per class, answers shown within 2 s
QID = re.compile(r"(\d{1,9}):([a-z]{1,12}(?:_[a-z]{1,8}){0,6}):(\d{1,3})")  # the Quiz page's f"{seed}:{quiz_id}:{i}"


@st.cache_resource(max_entries=8, show_spinner=False)
def _engine(where: str) -> LiveClasses:
    store = RedisStore(where) if where.startswith("redis://") else SQLiteStore(where)
    return LiveClasses(store)


def engine() -> LiveClasses:
    """The engine of the store this process uses now (``CNNVIZ_CLASS_REDIS``, else the SQLite file)."""
    return _engine(os.environ.get("CNNVIZ_CLASS_REDIS", "").strip() or str(default_path()))


def client_address() -> str:
    """The address join attempts are counted against: the connection's (behind HAProxy, the proxy's: one
    bucket for all, which only wrong codes drain)."""
    try:
        return str(st.context.ip_address or "local")
    except Exception:  # noqa: BLE001 - no browser context (bare mode)
        return "local"


def _cookie(role: str) -> tuple[str, str] | None:
    try:
        raw = st.context.cookies.get(COOKIES[role])
    except Exception:  # noqa: BLE001 - no browser context: no cookie
        return None
    m = PAIR.fullmatch(raw) if isinstance(raw, str) else None
    return (m[1], m[2]) if m else None


def _remembered(role: str) -> tuple[str, str] | None:
    pair = st.session_state.get(role)
    if not (isinstance(pair, tuple) and len(pair) == 2 and PAIR.fullmatch(".".join(map(str, pair)))):
        pair = _cookie(role)
    return pair


def _write_cookie(role: str, value: str, max_age: int) -> None:
    """Set (or with max_age 0, clear) this browser's cookie; ``value`` matches PAIR or is empty: ours only."""
    if value and not PAIR.fullmatch(value):
        return
    st.sidebar.iframe(f"<script>parent.document.cookie = '{COOKIES[role]}={value}; path=/; max-age={max_age}; "
                      "SameSite=Strict' + (parent.location.protocol === 'https:' ? '; Secure' : '');</script>",
                      height=1)


def forget(role: str) -> None:
    st.session_state.pop(role, None)
    st.session_state.pop(f"{role}_cookie", None)
    if _cookie(role) is not None:
        _write_cookie(role, "", 0)


def _keep(role: str, code: str, secret: str, left_s: float) -> None:
    """Remember the role in the session and, once per session, in the browser's cookie (the cookies Streamlit
    reports are those of the connection's start: without the flag every run would write it again)."""
    st.session_state[role] = (code, secret)
    if _cookie(role) != (code, secret) and st.session_state.get(f"{role}_cookie") != code:
        _write_cookie(role, f"{code}.{secret}", max(1, int(left_s)))
        st.session_state[f"{role}_cookie"] = code


def time_left(left_s: float) -> str:
    h, m = divmod(int(left_s) // 60, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


# --------------------------------------------------------------------------- nobody yet
def join_panel(where) -> None:
    where.subheader("Join a class")
    code = where.text_input("Join code", key="live_code", placeholder="6 letters and digits",
                            help="The code on the teacher's screen; case and dashes do not matter.")
    name = where.text_input("Nickname", key="live_nick", placeholder="e.g. Ana",
                            help="Shown to the teacher only, as text. No real name needed.")
    if where.button("Join", key="live_join", icon=":material/login:", type="primary"):
        try:
            joined = engine().join(code, name, client_address())
        except ConfigError as err:
            with where:
                show_error(err)
            return
        st.session_state[STUDENT] = (joined.code, joined.token)
        st.rerun()


def start_panel(where) -> None:
    where.subheader("Start a class")
    where.caption("For the teacher: a join code to show the class. The key that makes you the teacher stays in "
                  "this browser (never in a link); the class and every answer are deleted when you end it, or "
                  "after 3 hours.")
    if where.button("Start a class", key="live_start", icon=":material/co_present:"):
        try:
            started = engine().start_class()
        except ConfigError as err:
            with where:
                show_error(err)
            return
        st.session_state[TEACHER] = (started.code, started.key)
        st.rerun()


# --------------------------------------------------------------------------- the teacher
def teacher() -> tuple[str, str] | None:
    """(code, key) of the class this browser teaches, if it is still open."""
    pair = _remembered(TEACHER)
    if pair is None:
        return None
    try:
        view = engine().dashboard(*pair)
    except ConfigError:
        forget(TEACHER)
        return None
    _keep(TEACHER, *pair, view.left_s)
    return pair


def teacher_panel(code: str, key: str) -> None:
    """One screen at 1280×720 in presenter mode: the code, time left and the join address (with its QR code) on
    top, then Bring the class here / End class, then the live dashboard: who is where beside the answers."""
    live = engine()
    view = live.dashboard(code, key)
    c = st.columns([2, 2, 3], vertical_alignment="top")
    c[0].metric("Join code", view.code, help="Students open Live class, type this code and a nickname.")
    ends = time.strftime("%H:%M UTC", time.gmtime(view.expires))
    c[1].metric("Class ends in", time_left(view.left_s), help=f"At {ends}; then everything is deleted.")
    join_box(c[2], qr_px=120, beside=True)
    push = st.columns([5, 1.2, 1.8], vertical_alignment="bottom")
    link = push[0].text_input("Bring the class here", key="live_link", placeholder="/quiz?seed=42&level=hard",
                              help="A page of this app with its settings (copy the part after the address).")
    if push[1].button("Push", key="live_push", icon=":material/campaign:", width="stretch"):
        try:
            pushed = live.push_link(code, key, link)
            st.toast(f"Sent {md_text(pushed.link)} to the class.", icon=":material/campaign:")
        except ConfigError as err:
            show_error(err)
    if push[2].button("End class", key="live_end", icon=":material/stop_circle:", width="stretch",
                      help="Delete the class now: nicknames, answers, everything."):
        live.end_class(code, key)
        forget(TEACHER)
        st.rerun()
    dashboard(code, key)


def question_title(qid: str) -> str:
    """What the teacher reads for a question id: "Quiz 42 · easy · question 1" for the Quiz page's ``42:easy:0``
    (its opt-in kinds after a "+"), any other id as escaped text."""
    m = QID.fullmatch(qid)
    if m is None:
        return md_text(qid)
    level, *kinds = m.group(2).split("_")
    return f"Quiz {m.group(1)} · {level}" + (f" + {', '.join(kinds)}" if kinds else "") + \
        f" · question {int(m.group(3)) + 1}"


@st.fragment(run_every=DASHBOARD_S)
def dashboard(code: str, key: str) -> None:
    try:
        view = engine().dashboard(code, key)
    except ConfigError as err:
        show_error(err)
        return
    who, answers = st.columns([2, 3], gap="large")
    who.metric("Students", view.students)
    if not view.presence:
        who.caption("Nobody has joined yet.")
    else:
        who.dataframe([{"Nickname": p.nickname, "Page": "—" if p.page is None else (p.page or "home"),
                        "Seen": "—" if p.seen_s_ago is None else f"{p.seen_s_ago:.0f} s ago",
                        "Connected": p.connected} for p in view.presence], hide_index=True, key="live_presence")
    answers.subheader("Answers")
    if not view.questions:
        answers.caption("No answers yet.")
    for q in view.questions:
        with answers.container(border=True):
            st.markdown(f"**{question_title(q.qid)}** — {q.answered} answered, {q.share_correct:.0%} right")
            st.dataframe([{"Answer": a.value, "Students": a.count, "Right": a.correct} for a in q.answers],
                         hide_index=True, key=f"live_q_{q.qid}")
            if q.revealed:
                st.caption("Revealed: students see whether they were right.")
            elif st.button("Reveal", key=f"live_reveal_{q.qid}", icon=":material/visibility:"):
                engine().reveal(code, key, q.qid)
                st.rerun(scope="fragment")


# --------------------------------------------------------------------------- a student
def student():
    """This browser's :class:`Joined`, if its class is still open."""
    pair = _remembered(STUDENT)
    if pair is None:
        return None
    try:
        joined = engine().student(*pair)
        engine().seen(*pair, "live_class")
    except ConfigError:
        forget(STUDENT)
        return None
    _keep(STUDENT, *pair, engine().lifetime_s)
    return joined


def beat(page: str) -> None:
    """For app.py, on every page run: a joined student's page (its URL path), for the teacher's "who is where".
    Silent when this browser is in no class, or its class ended."""
    pair = _remembered(STUDENT)
    if pair is not None:
        try:
            engine().seen(*pair, page)
        except ConfigError:
            pass


def quiz_class() -> tuple[str, str] | None:
    """(code, token) when this browser is a student of an open class (the Quiz then keeps its answers in the
    class: locked at the first Check, marked when the teacher reveals), else None: the Quiz works as alone."""
    pair = _remembered(STUDENT)
    if pair is None:
        return None
    try:
        engine().student(*pair)
    except ConfigError:
        return None
    return pair


def class_answer(pair: tuple[str, str], qid: str) -> tuple[int, bool | None] | None:
    """The student's recorded answer (value, right or None until revealed); None when there is none (or the class
    ended meanwhile: the Quiz then works as alone)."""
    try:
        mine = engine().my_answer(*pair, qid)
    except ConfigError:
        return None
    return (int(mine.value), mine.correct) if mine is not None and mine.value.isdigit() else None


def record_answer(pair: tuple[str, str], qid: str, value: int, right: bool) -> bool:
    """Keep the answer in the class (the first one counts); False when the class refused it (it ended ...)."""
    try:
        return engine().answer(*pair, qid, str(value), right)
    except ConfigError:
        return False
