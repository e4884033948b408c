"""Presenter mode for a projector: large fonts, high contrast, no sidebar (``?present=1`` or the toggle)."""
import streamlit as st

from cnnviz.classroom.live import JoinAddress, join_address, qr_svg
from cnnviz.errors import ConfigError
from cnnviz.io.text import notice

# Presenter mode hides the sidebar unless the teacher opened it with the bar's Pages button (PAGES_KEY).
SIDEBAR_HIDDEN_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none !important; }
</style>"""
PRESENTER_CSS = """<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
/* the right margin is the presenter bar's gutter: nothing of the page is ever drawn under the bar */
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0.5rem 4.2rem 3rem 3rem !important; }
/* the presenter bar: mode switch, Pages and the join address's QR code, one under the other in the right margin,
   fixed while the page scrolls under nothing (its layout wrapper too: left in the flow it took a row gap) */
.st-key-presenter_bar, [data-testid="stLayoutWrapper"]:has(> .st-key-presenter_bar) {
  position: fixed !important; top: 0.5rem; right: 1.1rem; z-index: 999990; width: 2.9rem !important; }
.st-key-presenter_bar { gap: 0.45rem !important; align-items: center; }
.st-key-presenter_bar [data-testid="stElementContainer"], .st-key-presenter_bar [data-testid="stLayoutWrapper"] {
  width: auto !important; }
.st-key-presenter_bar button { min-height: 2.6rem; width: 2.7rem; padding: 0 !important; justify-content: center; }
.st-key-presenter_bar button p { font-size: 1.4rem !important; }
.st-key-presenter_bar [data-testid="stCheckbox"] label { justify-content: center; }
/* the page's main figure above the fold at 1280×720: a tighter title, and the page's one-paragraph introduction
   (the caption right under the title, written for a student reading alone) is left out: the presenter says it */
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
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] p { font-size: 1.4rem !important; }
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
[data-testid="stSliderTickBarMin"], [data-testid="stSliderTickBarMax"], [data-testid="stFileUploaderDropzoneInstructions"] *,
[data-testid="stTooltipContent"] p, [data-testid="stPageLink"] p, [data-testid="stExpander"] summary p {
  font-size: 1.1rem !important; }
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label, h1, h2, h3, h4 {
  word-break: normal !important; overflow-wrap: normal !important; hyphens: none !important; }
[data-testid="stVerticalBlockBorderWrapper"], [data-testid="stVerticalBlock"][class*="Border"] {
  border: 3px solid #000 !important; }
/* tables and data editors are drawn on a canvas at 14 px: the whole grid zoomed by 1.3 (18 px text), as wide as
   its column (the zoomed grid's own width in its own units: 100 % of the column, scaled back by the zoom) */
[data-testid="stDataFrame"] { zoom: 1.3; width: 100% !important; }
[data-testid="stDataFrame"] [data-testid="stDataFrameResizable"] { width: 100% !important; max-width: 100% !important; }
</style>"""
# Every page, presenter mode or not: less of Streamlit's empty band above the title (6rem by default).
PAGE_CSS = """<style>[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }</style>"""
# Every page, both modes: code blocks wrap their long lines (no line hidden behind a scrollbar the room does not
# see: the Quiz's ConvTranspose2d(..., output_padding=1)); a kernel editor's toolbar (search, download, full screen:
# nothing a 3×3 kernel needs) is not drawn over the controls above it.
COMMON_CSS = """<style>
pre, pre code, [data-testid="stCode"] pre, [data-testid="stCode"] code {
  white-space: pre-wrap !important; overflow-wrap: anywhere !important; word-break: normal !important; }
[class*="st-key-anim_kedit"] [data-testid="stElementToolbar"],
[class*="st-key-anim_k1edit"] [data-testid="stElementToolbar"] { display: none !important; }
.st-key-cnnviz_fit, [data-testid="stLayoutWrapper"]:has(> .st-key-cnnviz_fit) { display: none !important; }
</style>"""
# Every page, both modes: a formula (KaTeX) wider than its column is scaled down to fit it, down to FIT_FLOOR of its
# size and, in presenter mode, to 20 px (a formula that would need more is split over lines in the engine: the
# crawler reports it). A script of
# ours (st.html runs it in the page): it measures each formula once per column width and text, again when the
# page changes (a rerun, a tab) or the window is resized, and once the web fonts have loaded.
FIT_FLOOR = 0.55
FIT_JS = """<script>
(() => {
  const old = window.cnnvizFit;
  if (old) { old.observer.disconnect(); window.removeEventListener('resize', old.all);
             if (document.fonts) document.fonts.removeEventListener('loadingdone', old.fonts); }
  const FLOOR = %s;
  let loaded = 0;  // web fonts loaded so far: KaTeX's load when first drawn and change every width
  const fitOne = k => {
    const disp = k.closest('.katex-display');
    const box = disp || k.closest('[data-testid=stMarkdownContainer]') || k.parentElement;
    if (!box || !box.clientWidth) return;
    const stamp = [box.clientWidth, k.textContent.length, getComputedStyle(box).fontSize, loaded].join('|');
    if (k.dataset.cnnvizFit === stamp) return;
    k.style.removeProperty('font-size');
    const room = box.clientWidth - 4;  // a few px to spare: the scaled parts round to whole pixels
    const width = () => {  // the ink: glyphs, rules and SVG delimiters (not KaTeX's invisible 2 px struts)
      let lo = Infinity, hi = -Infinity;
      for (const e of k.querySelectorAll('.katex-html *')) {
        if (!((!e.children.length && /[^\\s\\u200b-\\u200d\\ufeff]/.test(e.textContent)) || e.tagName === 'svg' ||
            e.classList.contains('frac-line')))
          continue;
        const q = e.getBoundingClientRect();
        if (q.width > 0) { lo = Math.min(lo, q.left); hi = Math.max(hi, q.right); }
      }
      return hi > lo ? hi - lo : 0;
    };
    const full = parseFloat(getComputedStyle(k).fontSize);
    const least = Math.max(FLOOR * full, document.querySelector('.st-key-presenter_bar') ? 20 : 0);  // projector: 20 px
    for (let i = 0, px = full, need = width(); i < 4 && need > room && px > least; i++) {
      px = Math.max(least, px * room / need);  // not all of a formula scales (rules, struts): again
      k.style.setProperty('font-size', px.toFixed(2) + 'px', 'important');
      need = width();
    }
    k.dataset.cnnvizFit = stamp;
  };
  const fit = () => document.querySelectorAll('.katex').forEach(k => { if (!k.parentElement.closest('.katex')) fitOne(k); });
  const all = () => { loaded += 1; fit(); };
  const fonts = () => all();
  let queued = false;
  const observer = new MutationObserver(records => {
    if (queued || records.every(r => r.target.closest && r.target.closest('.js-plotly-plot'))) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fit(); });
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
  window.addEventListener('resize', all);
  if (document.fonts) { document.fonts.addEventListener('loadingdone', fonts); document.fonts.ready.then(all); }
  window.cnnvizFit = {observer, all, fonts};
  fit();
})();
</script>""" % FIT_FLOOR
PAGES_KEY = "presenter_pages"  # session state: the sidebar (the page list) shown in presenter mode


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
    bar = st.container(key="presenter_bar") if on else st.sidebar
    bar.toggle("Presenter mode", value=on, key="presenter_toggle", on_change=flip, label_visibility="collapsed" if on
               else "visible", help="Presenter mode: large fonts, high contrast, no sidebar: readable from the back "
               "of a room. Link: ?present=1")
    if on:
        st.query_params["present"] = "1"
        st.html(PRESENTER_CSS)  # static CSS of ours, never user data
        pages = st.session_state.get(PAGES_KEY, False)
        bar.button("", icon=":material/close:" if pages else ":material/menu:", key="presenter_pages_button",
                   on_click=_flip_pages, help="Hide the page list" if pages else "Pages: show the page list (the "
                   "sidebar)", type="primary" if pages else "secondary")
        if not pages:
            st.html(SIDEBAR_HIDDEN_CSS)
        if (addr := served_address()) is not None:
            with bar.popover("", icon=":material/qr_code_2:", help=f"Join: {addr.url}"):
                join_box(qr_px=360)
    else:
        st.html(PAGE_CSS)  # static CSS of ours
        if "present" in st.query_params:
            del st.query_params["present"]
    st.html(COMMON_CSS)
    with st.container(key="cnnviz_fit"):
        st.html(FIT_JS, unsafe_allow_javascript=True)  # our own static script, no user data
    return on


def _flip_pages() -> None:
    st.session_state[PAGES_KEY] = not st.session_state.get(PAGES_KEY, False)


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
