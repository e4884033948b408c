"""Presenter mode for a projector: large fonts, high contrast, no sidebar (``?present=1`` or the toggle)."""
import streamlit as st

from cnnviz.classroom.live import JoinAddress, join_address, qr_svg
from cnnviz.errors import ConfigError
from cnnviz.io.text import notice

PRESENTER_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0.5rem 3rem 3rem !important; }
/* the page's main figure above the fold at 1280×720: the toggle floats in the top-right corner instead of taking a
   row, a tighter title, and the page's one-paragraph introduction (the caption right under the title, written for a
   student reading alone) is left out: the presenter says it */
.st-key-presenter_toggle { position: fixed !important; top: 0.5rem; right: 1.5rem; z-index: 999990; width: auto !important;
  background: #fff; padding: 0.2rem 0.6rem; border-radius: 0.5rem; box-shadow: 0 1px 6px rgba(0,0,0,.25); }
.st-key-presenter_toggle [data-testid="stMarkdownContainer"] p { font-size: 1.2rem !important; }
[data-testid="stElementContainer"]:has(h1) + [data-testid="stElementContainer"]:has([data-testid="stCaptionContainer"]) {
  display: none !important; }
[data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #ffffff !important; color: #000000 !important; }
h1 { font-size: 3rem !important; font-weight: 800 !important; color: #000 !important; padding: 0.25rem 0 0.5rem !important; }
h2, h3, h4 { font-size: 2.4rem !important; font-weight: 800 !important; color: #000 !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li, [data-testid="stAlert"] p {
  font-size: 1.9rem !important; line-height: 1.35 !important; color: #000 !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] [data-testid="stMarkdownContainer"] p {
  font-size: 1.5rem !important; line-height: 1.3 !important; color: #111 !important; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: 3.2rem !important; font-weight: 800 !important; line-height: 1.15 !important; color: #000 !important; }
[data-testid="stMetricLabel"] p { font-size: 1.6rem !important; font-weight: 700 !important; }
/* controls: still twice the normal size, but one line per label in a row of four or five */
[data-testid="stWidgetLabel"] p, [data-testid="stRadio"] label p, [data-testid="stCheckbox"] label p {
  font-size: 1.6rem !important; line-height: 1.25 !important; }
.katex { font-size: 2.0em !important; color: #000 !important; }
code, pre, [data-testid="stCode"] * { font-size: 1.6rem !important; }
/* values a touch smaller than their labels (1.6rem): a select box of a row of eight still shows "sharpen" whole */
input, textarea, [data-baseweb="select"] * { font-size: 1.5rem !important; }
button p { font-size: 1.7rem !important; }
[data-testid="stTab"] p { font-size: 1.6rem !important; }
[data-testid="stSliderThumbValue"] [data-testid="stMarkdownContainer"] p, [data-testid="stSliderThumbValue"] p {
  font-size: 1.35rem !important; line-height: 1 !important; font-weight: 700 !important; }
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label, h1, h2, h3, h4 {
  word-break: normal !important; overflow-wrap: normal !important; hyphens: none !important; }
[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"][class*="Border"] {
  border: 3px solid #000 !important; }
/* the join address: a button in the bottom-right corner, its QR code one click away */
/* (its layout wrapper too: left in the page's flow, it took a row gap and pushed every figure 16 px down) */
.st-key-presenter_join, [data-testid="stLayoutWrapper"]:has(> .st-key-presenter_join) { position: fixed !important;
  bottom: 0.75rem; right: 1.5rem; z-index: 999990; width: auto !important; }
.st-key-presenter_join button p { font-size: 1.3rem !important; }
</style>"""
# Every page, presenter mode or not: less of Streamlit's empty band above the title (6rem by default).
PAGE_CSS = """<style>[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }</style>"""


def presenting() -> bool:
    """Whether this session is in presenter mode now (after ``presenter_mode()`` ran at the top of the page)."""
    return bool(st.session_state.get("presenter_on"))


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
        if (addr := served_address()) is not None:
            with st.container(key="presenter_join"), st.popover(f"Join: {addr.url}", icon=":material/qr_code_2:"):
                join_box(qr_px=360)
    else:
        st.html(PAGE_CSS)  # static CSS of ours
        if "present" in st.query_params:
            del st.query_params["present"]
    return on


def columns(spec, present_spec=None, where=None, **kwargs):
    """``st.columns(spec)``, or ``present_spec`` in presenter mode (fonts twice as large: fewer or wider columns
    keep whole labels at 1280 px); ``present_spec=1`` stacks them in ``where``, a container, column or tab
    (default ``st``)."""
    on = presenting() and present_spec is not None
    if on and present_spec == 1:  # one under the other, in ``where`` itself
        return [where or st] * (spec if isinstance(spec, int) else len(spec))
    return (where or st).columns(present_spec if on else spec, **kwargs)


def served_address() -> JoinAddress | None:
    """The address students type: this machine's LAN address and Streamlit's ``server.port`` (or
    ``CNNVIZ_PUBLIC_URL``, which run_replicas.sh sets to the proxy's address); None when it is misconfigured."""
    try:
        return join_address(st.get_option("server.port"), st.get_option("server.address"))
    except ConfigError:
        return None


def join_box(where=None, qr_px: int = 200, beside: bool = False) -> None:
    """The join address as text and as a QR code (drawn offline from segno's modules) in ``where`` (default st);
    ``beside``: the code left of the text (one row, for the teacher's view)."""
    where = where or st
    try:
        addr = join_address(st.get_option("server.port"), st.get_option("server.address"))
    except ConfigError as err:
        where.error(f"**{notice(err.field)}** — {notice(str(err).split(': ', 1)[-1])}",  # as widgets.show_error
                    icon=":material/error:")
        return
    qr, text = where.columns([1, 2], vertical_alignment="center") if beside else (where, where)
    text.markdown(f"Students open **{addr.url}**", help="Phones can scan the code. The address is this machine's "
                  "on the network and the port the app is served on; CNNVIZ_PUBLIC_URL sets another.")
    qr.image(qr_svg(addr.url, qr_px), width=qr_px)  # an SVG of ours: black squares on white, no script
    if addr.local_only:
        text.caption("Only this machine can open it (README: Run a class).")
