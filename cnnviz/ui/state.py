"""A page's state and its links: ``Setting`` declares one control (default, label, help, bounds or options),
``PageState`` seeds widgets from ``st.query_params``, draws them from their declarations and writes them back,
``share_link`` shows the link, ``page_setup`` makes a deep link run through app.py."""
from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from cnnviz.io.text import notice, shown
from cnnviz.limits import MAX_QUERY_VALUE_CHARS


@functools.lru_cache(maxsize=64)
def _resolved(path: str) -> Path:
    """``Path.resolve`` once per script path: it walks the file system (lstat per component), and page_setup
    resolved every page on every rerun, a measurable share of a busy classroom server's CPU."""
    return Path(path).resolve()


def page_setup() -> None:
    """The first call of every page (``PageState`` makes it). A ``pages/`` folder next to app.py puts a fresh
    Streamlit server in "pages/ directory" (MPA v1) mode until some run has executed app.py's st.navigation:
    a first visitor arriving by a deep link — and every visitor whose run starts before that, e.g. a class
    reconnecting to a fresh replica after failover — gets the page without app.py (no wide layout, the
    folder's file names as navigation). Such a run is recognised by its own page registry (app.py is one of
    the pages while another page runs); it switches the mode off and, on a session's first run, reruns
    through app.py.

    Called from the page, never at import time: ``st.rerun()`` raises, and raising while this module was being
    imported left a half-initialised ``cnnviz.ui`` to every session importing it at the same moment ("cannot
    import name 'PageState'" on a cold replica two browsers reached at once)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        registry = ctx.pages_manager.get_pages()  # page hash -> info with its script_path
        app = _resolved(ctx.pages_manager.main_script_path)
        scripts = {h: _resolved(info["script_path"]) for h, info in registry.items()}
        pages_directory_run = app in scripts.values() and scripts.get(ctx.page_script_hash, app) != app
    except (ImportError, AttributeError, KeyError, TypeError):  # pragma: no cover - internals moved: cosmetic
        return
    first_run = "cnnviz_session" not in st.session_state
    st.session_state["cnnviz_session"] = True
    if pages_directory_run:
        PagesManager.uses_pages_directory = False
        if first_run:  # a page load, no widget event to lose (AppTest re-enters this mode on every run)
            st.rerun()


# --------------------------------------------------------------------------- URL-backed state
def _parse(raw: str, default):
    """Parse one query-param string into the default's type; ValueError on garbage (a value longer than
    MAX_QUERY_VALUE_CHARS, a number that is not finite or has more than 30 digits, the wrong type ...)."""
    if not isinstance(raw, str) or len(raw) > MAX_QUERY_VALUE_CHARS:
        raise ValueError("too long")
    if isinstance(default, bool):
        if raw not in ("0", "1", "true", "false"):
            raise ValueError(raw)
        return raw in ("1", "true")
    if isinstance(default, int):
        if len(raw.strip()) > 30:  # int('9' * 5000) raises, int('9' * 4000) is fine but unprintable later
            raise ValueError("too many digits")
        return int(raw)
    if isinstance(default, float):
        if len(raw.strip()) > 40:
            raise ValueError("too many digits")
        value = float(raw)
        if not math.isfinite(value):  # nan passes every range check (nan < lo and nan > hi are both False)
            raise ValueError(raw)
        return value
    if isinstance(default, tuple):  # "5" or "5,3" fill the remaining axes with the last value
        parts = raw.split(",")
        if not 1 <= len(parts) <= len(default):
            raise ValueError(raw)
        parts = [_parse(p, default[0]) for p in parts]
        return tuple(parts + parts[-1:] * (len(default) - len(parts)))
    if any(unicodedata.category(c) == "Cc" for c in raw):  # NUL and other control characters
        raise ValueError(raw)
    return str(raw)


def _sent_ok(value, default, bounds=None, options=None) -> bool:
    """Is ``value`` (as a client sent it) of the default's kind, finite, within ``bounds`` and ``options``?"""
    if options is not None:
        return value in options
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if isinstance(default, int) and not float(value).is_integer():
            return False
        lo, hi = bounds or (None, None)
        return (lo is None or value >= lo) and (hi is None or value <= hi)
    if isinstance(default, str):
        return isinstance(value, str) and len(value) <= MAX_QUERY_VALUE_CHARS
    return type(value) is type(default)


def _dump(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(_dump(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Setting:
    """One control of a page, declared once: the link parser, the bounds check and the widget all read it.
    ``bounds`` = (min, max) for numbers; ``options`` the allowed values (take them from the engine, never retype
    them); ``widget`` the streamlit function that draws it (default: a toggle for a bool, a select box with
    options, a number input with bounds, else a text input)."""
    default: object
    label: str = ""
    help: str = ""
    bounds: tuple | None = None
    options: tuple | None = None
    widget: str | None = None

    @property
    def kind(self) -> str:
        if self.widget:
            return self.widget
        if isinstance(self.default, bool):
            return "toggle"
        return "selectbox" if self.options is not None else "number_input" if self.bounds else "text_input"


class PageState:
    """A page's whole state, seeded once per session from ``st.query_params`` and written back after
    every run, so a pasted link reproduces the picture. Widget keys are ``<page>_<name>``; tuple-valued
    entries are one widget per item (``<page>_<name>_<i>``). ``options`` restricts string values;
    ``bounds`` = (min, max) restricts numbers. Garbage in the URL is ignored with a notice (plain text).
    A value of ``defaults`` may be a ``Setting``: its default, bounds and options are then read from it, and
    ``S.widget(name)`` draws its control."""

    def __init__(self, page: str, defaults: dict, options: dict | None = None, bounds: dict | None = None):
        page_setup()
        self.page = page
        self.settings = {n: s for n, s in defaults.items() if isinstance(s, Setting)}
        self.defaults = {n: s.default if isinstance(s, Setting) else s for n, s in defaults.items()}
        self.options = {**(options or {}), **{n: s.options for n, s in self.settings.items() if s.options is not None}}
        self.bounds = {**(bounds or {}), **{n: s.bounds for n, s in self.settings.items() if s.bounds}}
        self.notices: list[str] = []
        for name in defaults:
            self._seed_from_link(name)
            self._check_sent(name)

    def _seed_from_link(self, name: str) -> None:
        """A setting's first value this session: the link's when it is valid, else the default (with a notice)."""
        if self._has(name):
            return
        value = default = self.defaults[name]
        if name in st.query_params:
            raw = st.query_params[name]  # the last one when the key repeats
            try:
                value = self._validate(name, _parse(raw, default))
            except Exception:  # noqa: BLE001 - whatever parsing a hostile value raises: ignore it, say so
                self.notices.append(f"Ignored the link's value {name}={shown(raw)}")
        self._seed(name, value)

    def _check_sent(self, name: str, bounds=None, options=None) -> None:
        """The protocol boundary: what a browser (or any websocket client) sent for this setting's widgets is
        checked against the declaration (type, finiteness, bounds, options, length) before the page reads it; a
        bad value is replaced by the default, with a notice. Streamlit itself accepts any value of any type."""
        d = self.defaults[name]
        for i, default in (enumerate(d) if isinstance(d, tuple) else [(None, d)]):
            key = self.key(name, i)
            try:
                if key not in st.session_state:
                    continue
                value = st.session_state[key]
                ok = _sent_ok(value, default, bounds or self.bounds.get(name), options or self.options.get(name))
            except Exception:  # noqa: BLE001 - a value Streamlit cannot even deserialize
                ok = False
            if not ok:
                st.session_state[key] = default
                label = self.settings[name].label if name in self.settings else name
                self.notices.append(f"Ignored an invalid value for {label or name}; back to {shown(default)}")

    def _validate(self, name, value):
        """A value parsed from the link, checked by the same rule as a value a client sent (:func:`_sent_ok`)."""
        d = self.defaults[name]
        for v, default in (zip(value, d) if isinstance(d, tuple) else [(value, d)]):
            if not _sent_ok(v, default, self.bounds.get(name), self.options.get(name)):
                raise ValueError(value)
        return value

    def widget(self, name: str, where=None, i: int | None = None, label: str | None = None, bounds=None, options=None,
               **kwargs):
        """Draw the declared setting ``name`` (item ``i`` of a tuple-valued one) in ``where`` (a column or container,
        default the page): its label, help, bounds or options from the declaration; ``bounds``/``options`` narrow
        them where they depend on the model shown (a layer's channels); ``kwargs`` are the widget's own
        (``format_func``, ``horizontal``, ``disabled``, ``step`` ...). Returns the widget's value."""
        s = self.settings[name]
        if bounds is not None or options is not None:  # narrower than declared: the sent value must fit them too
            self._check_sent(name, bounds, options)
        draw = getattr(where or st, s.kind)
        kwargs = {"key": self.key(name, i), "help": s.help or None, **kwargs}
        label = s.label if label is None else label
        if s.kind in ("selectbox", "radio", "select_slider", "pills", "segmented_control"):
            return draw(label, s.options if options is None else options, **kwargs)
        if s.kind in ("number_input", "slider"):
            return draw(label, *(bounds or s.bounds), **kwargs)
        return draw(label, **kwargs)

    def key(self, name: str, i: int | None = None) -> str:
        return f"{self.page}_{name}" if i is None else f"{self.page}_{name}_{i}"

    def _has(self, name):
        d = self.defaults[name]
        return (self.key(name, 0) if isinstance(d, tuple) else self.key(name)) in st.session_state

    def _seed(self, name, value):
        if isinstance(value, tuple):
            for i, v in enumerate(value):
                st.session_state[self.key(name, i)] = v
        else:
            st.session_state[self.key(name)] = value

    def __getitem__(self, name):
        d = self.defaults[name]
        if isinstance(d, tuple):
            return tuple(st.session_state.get(self.key(name, i), d[i]) for i in range(len(d)))
        return st.session_state.get(self.key(name), d)

    def tabs(self, labels, name: str = "tab"):
        """Lazy tabs (Streamlit's ``on_change="rerun"``): only the open tab's code runs, so a slider in one
        tab does not rebuild the figures of the others (bench/rerun_cost.py measures the server CPU per widget
        change). The open tab is page state like any setting, so a shared
        link opens the same tab. Callers draw a tab only ``if tab.open``. A closed tab's widgets are unmounted
        and Streamlit drops their state; the page's own settings come back from the URL (``sync_url`` wrote
        them before the switch)."""
        labels = tuple(labels)
        self.defaults = {**self.defaults, name: labels[0]}
        self.options = {**self.options, name: labels}
        seen = len(self.notices)
        self._seed_from_link(name)
        for n in self.notices[seen:]:  # the page has shown its notices already
            st.info(notice(n), icon=":material/link:")
        return st.tabs(list(labels), key=self.key(name), on_change="rerun")

    def sync_url(self) -> None:
        """Write every non-default value to the URL (and drop defaults, to keep links short)."""
        for name, default in self.defaults.items():
            value = self[name]
            if value == default:
                if name in st.query_params:
                    del st.query_params[name]
            elif st.query_params.get(name) != _dump(value):
                st.query_params[name] = _dump(value)
        share_link()

    def show_notices(self) -> None:
        """Every notice as plain text (they quote the link: never markdown, HTML or LaTeX)."""
        for n in self.notices:
            st.info(notice(n), icon=":material/link:")


PRIVATE = ("train_job", "search_job", "distill_job")  # a session's own job: useless to others (only its owner sees it), so never shared


def share_link() -> str:
    """A "Copy link" control in the sidebar: the page's full URL with every setting in its query string,
    in a code box whose copy button puts it on the clipboard. Returns the link (for tests)."""
    base = st.context.url or ""  # None under AppTest; the browser gives scheme, host, port and page path
    shared = {k: v for k, v in st.query_params.to_dict().items() if k not in PRIVATE}
    query = urlencode(shared, safe=",")  # k=5,5 reads better than k=5%2C5
    link = f"{base}?{query}" if query else base or "?"
    with st.sidebar.popover("Copy link", icon=":material/link:", width="stretch",
                            help="A link to exactly this view: every setting is in it. Paste it for the class."):
        st.code(link, language=None, wrap_lines=True)
        st.caption("Use the copy button at the box's right; opening the link shows the same picture.")
    return link
