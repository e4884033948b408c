"""Presenter mode for a projector: large fonts, high contrast, no sidebar (``?present=1`` or the toggle)."""
import streamlit as st

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
[data-testid="stSliderThumbValue"] [data-testid="stMarkdownContainer"] p, [data-testid="stSliderThumbValue"] p {
  font-size: 1.35rem !important; line-height: 1 !important; font-weight: 700 !important; }
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label, h1, h2, h3, h4 {
  word-break: normal !important; overflow-wrap: normal !important; hyphens: none !important; }
[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"][class*="Border"] {
  border: 3px solid #000 !important; }
</style>"""
# Every page, presenter mode or not: less of Streamlit's empty band above the title (6rem by default).
PAGE_CSS = """<style>[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }</style>"""


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
    else:
        st.html(PAGE_CSS)  # static CSS of ours
        if "present" in st.query_params:
            del st.query_params["present"]
    return on


def columns(spec, present_spec=None, where=None, **kwargs):
    """``st.columns(spec)``, or ``present_spec`` in presenter mode (fonts twice as large: fewer or wider columns
    keep whole labels at 1280 px); ``present_spec=1`` stacks them in ``where``, a container, column or tab
    (default ``st``)."""
    on = st.session_state.get("presenter_on") and present_spec is not None
    if on and present_spec == 1:  # one under the other, in ``where`` itself
        return [where or st] * (spec if isinstance(spec, int) else len(spec))
    return (where or st).columns(present_spec if on else spec, **kwargs)
