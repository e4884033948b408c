"""Shared Streamlit helpers: URL-backed page state and the small widgets every page uses.
The only engine module that imports streamlit."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from .errors import ConfigError
from .formulas import Formula
from .text import md_text


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
        app = Path(ctx.pages_manager.main_script_path).resolve()
        scripts = {h: Path(info["script_path"]).resolve() for h, info in registry.items()}
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
    """Parse one query-param string into the default's type; ValueError on garbage."""
    if isinstance(default, bool):
        if raw not in ("0", "1", "true", "false"):
            raise ValueError(raw)
        return raw in ("1", "true")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):  # "5" or "5,3" fill the remaining axes with the last value
        parts = [_parse(p, default[0]) for p in raw.split(",")]
        if not 1 <= len(parts) <= len(default):
            raise ValueError(raw)
        return tuple(parts + parts[-1:] * (len(default) - len(parts)))
    return str(raw)


def _dump(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(_dump(v) for v in value)
    return str(value)


class PageState:
    """A page's whole state, seeded once per session from ``st.query_params`` and written back after
    every run, so a pasted link reproduces the picture. Widget keys are ``<page>_<name>``; tuple-valued
    entries are one widget per item (``<page>_<name>_<i>``). ``options`` restricts string values;
    ``bounds`` = (min, max) restricts numbers. Garbage in the URL is ignored with a notice."""

    def __init__(self, page: str, defaults: dict, options: dict | None = None, bounds: dict | None = None):
        page_setup()
        self.page, self.defaults = page, defaults
        self.options, self.bounds = options or {}, bounds or {}
        self.notices: list[str] = []
        for name, default in defaults.items():
            if self._has(name):
                continue
            value = default
            if name in st.query_params:
                try:
                    value = self._validate(name, _parse(st.query_params[name], default))
                except ValueError:
                    self.notices.append(f"Ignored the link's value {name}={st.query_params[name]!r}")
            self._seed(name, value)

    def _validate(self, name, value):
        if name in self.options and value not in self.options[name]:
            raise ValueError(value)
        lo, hi = self.bounds.get(name, (None, None))
        for v in value if isinstance(value, tuple) else (value,):
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise ValueError(value)
        return value

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
        for n in self.notices:
            st.info(n, icon=":material/link:")


def share_link() -> str:
    """A "Copy link" control in the sidebar: the page's full URL with every setting in its query string,
    in a code box whose copy button puts it on the clipboard. Returns the link (for tests)."""
    base = st.context.url or ""  # None under AppTest; the browser gives scheme, host, port and page path
    query = urlencode(st.query_params.to_dict(), safe=",")  # k=5,5 reads better than k=5%2C5
    link = f"{base}?{query}" if query else base or "?"
    with st.sidebar.popover("Copy link", icon=":material/link:", width="stretch",
                            help="A link to exactly this view: every setting is in it. Paste it for the class."):
        st.code(link, language=None, wrap_lines=True)
        st.caption("Use the copy button at the box's right; opening the link shows the same picture.")
    return link


# --------------------------------------------------------------------------- small widgets
def axis_inputs(state: PageState, name: str, label: str, dims: int, same: bool, lo: int, hi: int,
                help: str) -> tuple[int, ...]:
    """One number input (same value on every axis) or one per axis; returns a tuple of ``dims`` ints."""
    from .arithmetic import AXIS_NAMES
    for i in range(1 if same else dims):  # a widget hidden on the last run lost its state: re-seed it
        if state.key(name, i) not in st.session_state:
            st.session_state[state.key(name, i)] = st.session_state.get(state.key(name, 0), state.defaults[name][i])
    if same:
        v = st.number_input(label, lo, hi, key=state.key(name, 0), help=help)
        return (int(v),) * dims
    cols = st.columns(dims)
    return tuple(int(col.number_input(f"{label} {ax}", lo, hi, key=state.key(name, i), help=help))
                 for i, (col, ax) in enumerate(zip(cols, AXIS_NAMES[dims])))


def image_picker(state: PageState, col, src: str, names: list[str], upload_key: str,
                 upload_help: str) -> bytes | None:
    """The image controls of the model pages: a shipped sample, a validation index, or an upload.
    Returns the uploaded bytes (None for the other sources, or while nothing is uploaded)."""
    from .images import EXTENSIONS
    if state["sample"] not in names:  # another model ships other samples
        st.session_state[state.key("sample")] = names[0]
    if src == "sample":
        col.selectbox("Sample", names, key=state.key("sample"), help="Small images shipped in assets/samples.")
    elif src == "validation":
        col.number_input("Validation image #", 0, 2000, key=state.key("idx"), help="Index into the held-out images.")
    else:
        up = col.file_uploader("Image file", type=list(EXTENSIONS), key=upload_key, help=upload_help)
        return up.getvalue() if up is not None else None
    return None


def show_formulas(formulas: list[Formula]) -> None:
    for f in formulas:
        st.markdown(f"**{f.label}**")
        st.latex(f.latex)


def show_error(err: ConfigError) -> None:
    # The message quotes user input (file and class names) and identifiers like kernel_size: all literal.
    st.error(f"**{md_text(err.field)}** — {md_text(str(err).split(': ', 1)[-1])}", icon=":material/error:")


def fmt_int(n: int) -> str:
    """12345678 -> '12.3 M' for metrics; exact value goes in the help text."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,}"


# --------------------------------------------------------------------------- presenter mode
PRESENTER_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 1.5rem 3rem 3rem !important; }
[data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #ffffff !important; color: #000000 !important; }
h1 { font-size: 3.6rem !important; font-weight: 800 !important; color: #000 !important; }
h2, h3, h4 { font-size: 2.4rem !important; font-weight: 800 !important; color: #000 !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p, [data-testid="stAlert"] p {
  font-size: 1.9rem !important; line-height: 1.35 !important; color: #000 !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] [data-testid="stMarkdownContainer"] p {
  color: #111 !important; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: 4rem !important; font-weight: 800 !important; line-height: 1.15 !important; color: #000 !important; }
[data-testid="stMetricLabel"] p { font-size: 1.7rem !important; font-weight: 700 !important; }
.katex { font-size: 2.0em !important; color: #000 !important; }
code, pre, [data-testid="stCode"] * { font-size: 1.6rem !important; }
input, textarea, [data-baseweb="select"] *, button p { font-size: 1.7rem !important; }
[data-testid="stTab"] p { font-size: 1.6rem !important; }
[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"][class*="Border"] {
  border: 3px solid #000 !important; }
</style>"""


def presenter_mode() -> bool:
    """Presenter mode for a projector (``?present=1`` or the toggle): large fonts, high contrast, sidebar
    hidden. Call once at the top of every page; returns whether it is on. The choice follows the session
    from page to page and is written to the URL so a shared link opens in presenter mode."""
    if "presenter_on" not in st.session_state:
        st.session_state["presenter_on"] = st.query_params.get("present") in ("1", "true")

    def flip():
        st.session_state["presenter_on"] = st.session_state["presenter_toggle"]

    on = st.session_state["presenter_on"]
    (st if on else st.sidebar).toggle(
        "Presenter mode", value=on, key="presenter_toggle", on_change=flip,
        help="Large fonts, high contrast, no sidebar: readable from the back of a room. Link: ?present=1")
    if on:
        st.query_params["present"] = "1"
        st.html(PRESENTER_CSS)  # static CSS of ours, never user data
    elif "present" in st.query_params:
        del st.query_params["present"]
    return on
