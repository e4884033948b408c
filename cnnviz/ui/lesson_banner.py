"""Lesson mode: a page opened from a Lessons link (``?lesson=N``, validated like every query parameter) shows,
above its content, step N's number and title, what to try and what to notice, Previous / Next (the ← → keys
press them, cnnviz/ui/keys.py) and "All steps", back to the Lessons page at that step. ``?route=45`` follows
the 45-minute route instead of the full path. app.py calls :func:`lesson_mode` before ``pg.run()``."""
from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from cnnviz.classroom.lessons import LESSONS, ROUTES, Step, neighbours
from cnnviz.io.text import notice, shown
from cnnviz.ui.keys import keyboard

LESSON, ROUTE = "lesson", "route"  # the query parameters of lesson mode
GOTO = "lesson_goto"  # session state: the step Previous / Next asked for, opened on the next run
# Each lesson page's PageState prefix (its widget keys are <prefix>_<name>): Previous / Next reset the settings
# the steps of the target page set, so a step opens with its own example even where the page is already open.
PREFIX = {"pages/conv_arithmetic.py": "arith", "pages/conv_animation.py": "anim",
          "pages/architecture_lab.py": "arch", "pages/training_lab.py": "train", "pages/feature_maps.py": "feat",
          "pages/saliency.py": "sal", "pages/compression.py": "compress", "pages/metrics_losses.py": "metrics",
          "pages/quiz.py": "quiz"}

BANNER_CSS = """<style>
.st-key-lesson_banner { background: #fff8e1; border: 2px solid #f0b400; border-radius: 0.6rem;
  padding: 0.35rem 0.8rem 0.6rem; gap: 0.2rem; }
.st-key-lesson_banner [data-testid="stMarkdownContainer"] p { margin: 0; line-height: 1.3; }
.st-key-lesson_banner [data-testid="stHorizontalBlock"] { gap: 0.5rem; align-items: center; }
.st-key-lesson_banner .lesson-title { font-weight: 800; }
.st-key-lesson_banner button { min-height: 0; padding: 0.15rem 0.7rem; }
.st-key-lesson_banner [data-testid="stPageLink"] a { padding: 0.15rem 0.4rem; }
</style>"""
# presenter mode: larger than the normal page, smaller than presenter mode's 1.9rem text, so the step's figure
# stays within the first 720 px of a projector (more specific than presenter.py's rules, so these win)
PRESENTER_BANNER_CSS = """<style>
.st-key-lesson_banner [data-testid="stMarkdownContainer"] p { font-size: 1.35rem !important;
  line-height: 1.3 !important; }
.st-key-lesson_banner .lesson-title { font-size: 1.6rem !important; }
.st-key-lesson_banner button p, .st-key-lesson_banner [data-testid="stPageLink"] p { font-size: 1.3rem !important; }
.st-key-lesson_banner { border-width: 3px; }
</style>"""


def lesson_number(url_path: str) -> int | None:
    """The step of ``?lesson=`` when it is a step number of this page (its url path); None otherwise (no
    parameter, or a value that is not a step of this page: ignored, with a notice for garbage)."""
    raw = st.query_params.get(LESSON)
    if raw is None:
        return None
    if not (isinstance(raw, str) and re.fullmatch(r"[0-9]{1,3}", raw) and 1 <= int(raw) <= len(LESSONS)):
        st.info(notice(f"Ignored the link's value {LESSON}={shown(raw)}"), icon=":material/link:")
        return None
    number = int(raw)
    return number if Path(LESSONS[number - 1].page).stem == url_path else None


def route() -> str:
    """The route of ``?route=`` (a key of ROUTES); the full path for a missing or unknown value."""
    raw = st.query_params.get(ROUTE)
    return raw if raw in ROUTES else "full"


def lesson_query(number: int, route_key: str = "full") -> dict:
    """The query of step ``number``'s link: its example, the step, and the route when it is not the full path."""
    step = LESSONS[number - 1]
    return {**(step.params or {}), LESSON: str(number), **({ROUTE: route_key} if route_key != "full" else {})}


def lessons_query(number: int, route_key: str = "full") -> dict:
    """The Lessons page's query that returns to step ``number`` (on ``route_key``)."""
    return {"step": str(number), **({ROUTE: route_key} if route_key != "full" else {})}


def _reset(page: str) -> None:
    """Drop the widget state of the settings that lesson steps set on ``page`` (and its open tab), so the link's
    values seed them again (PageState seeds a setting from the link only when the session has no value)."""
    prefix = PREFIX.get(page)
    if prefix is None:
        return
    names = {"tab"} | {name for s in LESSONS if s.page == page for name in (s.params or {})}
    for key in list(st.session_state):
        for name in names:
            base = f"{prefix}_{name}"
            if key == base or (key.startswith(base + "_") and key[len(base) + 1:].isdigit()):
                del st.session_state[key]


def go(number: int, route_key: str = "full") -> None:
    """Open step ``number``'s page with its example (its settings reset to the link's values)."""
    step = LESSONS[number - 1]
    _reset(step.page)
    st.switch_page(step.page, query_params=lesson_query(number, route_key))


def banner(number: int, route_key: str = "full") -> None:
    """Step ``number``'s banner: title, try / notice, Previous, Next and All steps (one row of buttons)."""
    step: Step = LESSONS[number - 1]
    prev, nxt = neighbours(number, route_key)
    label, steps = ROUTES[route_key]
    place = f"{steps.index(number) + 1} of {len(steps)}" if number in steps else f"{number}"
    st.html(BANNER_CSS)  # static CSS of ours
    if st.session_state.get("presenter_on"):
        st.html(PRESENTER_BANNER_CSS)
    with st.container(key="lesson_banner"):
        text, b_prev, b_next, b_all = st.columns([12, 2.3, 2, 2.4], vertical_alignment="center")
        route_txt = "" if route_key == "full" else f" ({label})"
        text.markdown(f'<span class="lesson-title">Step {number} · {step.title}</span> · {place}{route_txt} · '
                      f'{step.minutes} min', unsafe_allow_html=True)  # our own data, never a user's
        b_prev.button("← Previous", key="lesson_prev", disabled=prev is None, width="stretch", on_click=_goto,
                      args=(prev, route_key), help=f"Step {prev}: {LESSONS[prev - 1].title} (← key)" if prev else
                      "The first step")
        b_next.button("Next →", key="lesson_next", disabled=nxt is None, width="stretch", on_click=_goto,
                      args=(nxt, route_key), help=f"Step {nxt}: {LESSONS[nxt - 1].title} (→ key)" if nxt else
                      "The last step")
        b_all.page_link("pages/lessons.py", label="All steps", icon=":material/list:",
                        query_params=lessons_query(number, route_key), help="Back to the Lessons page, at this step.")
        st.markdown(f"**Try:** {step.try_}. **Notice:** {step.notice}.")


def _goto(number: int | None, route_key: str) -> None:
    """Previous / Next's callback: the step to open, which :func:`lesson_mode` opens before drawing anything (a
    callback cannot switch pages itself)."""
    if number is not None:
        st.session_state[GOTO] = (number, route_key)


def lesson_mode(pg) -> int | None:
    """Called by app.py before ``pg.run()``: the keyboard on every page and, when the link names one of this
    page's lesson steps, its banner. Returns the step (None outside lesson mode)."""
    goto = st.session_state.pop(GOTO, None)
    if goto is not None:
        go(*goto)
    keyboard()
    number = lesson_number(pg.url_path)
    if number is not None:
        banner(number, route())
    return number


# --------------------------------------------------------------------------- the Lessons page
LESSONS_PARAMS = (ROUTE, "step", "present")  # the Lessons page's own query (presenter mode is every page's)


def lessons_step() -> int | None:
    """The step of the Lessons page's ``?step=`` (All steps came back from it), None when absent or not a step."""
    raw = st.query_params.get("step")
    ok = isinstance(raw, str) and re.fullmatch(r"[0-9]{1,3}", raw) and 1 <= int(raw) <= len(LESSONS)
    return int(raw) if ok else None


def own_query_only(keep=LESSONS_PARAMS) -> None:
    """Drop every query parameter but ``keep``: a page reached from another carries only its own state."""
    for name in list(st.query_params):
        if name not in keep:
            del st.query_params[name]


def scroll_to(anchor: str) -> None:
    """Scroll the page to the heading with this anchor once it is drawn (a script of ours; ``anchor`` is built
    from a validated step number, never from the link's text)."""
    if not re.fullmatch(r"step-[0-9]{1,3}", anchor):
        raise ValueError(anchor)
    with st.container(key="lessons_scroll"):
        st.html("<style>.st-key-lessons_scroll, [data-testid='stLayoutWrapper']:has(> .st-key-lessons_scroll) "
                "{ display: none !important; }</style><script>(() => { let tries = 0; const go = () => { "
                f"const h = document.getElementById('{anchor}'); "
                "if (h) h.scrollIntoView({block: 'start'}); else if (tries++ < 40) setTimeout(go, 100); }; "
                "setTimeout(go, 50); })();</script>", unsafe_allow_javascript=True)
