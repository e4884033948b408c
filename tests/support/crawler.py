"""A crawler of the real app in a real browser: load a page, operate every control once or more and,
after every step, collect what a presenter would be embarrassed by: a traceback (``stException``), cut text
(an ellipsis, text wider than its box, a word broken over two lines), a formula (KaTeX) or a code block wider than
its column, a page wider than the window, and in presenter mode (``?present=1``) text and chart text under 16 px
and, as the page opens, a main figure below the fold. A select box's chosen value counts as text: it is an
``<input>``'s value in Streamlit 1.67, measured in the input's font against its box. ``lesson_links()``: every
Lessons step's link, crawled as it opens. Shared by bench/crawl.py and tests/e2e/test_crawl.py; the server
start-up and the chromium flags come from tests/support/browser.py.

One *step* = one user action (pick an option, flip a toggle, set a number, click a tab or a harmless button)
followed by a wait until the app is idle again (script state ``notRunning``, no ``stSkeleton``, no running
status widget); the time to idle is recorded per step."""
from __future__ import annotations

import re
import time
from urllib.parse import urlencode
from dataclasses import dataclass, field
from pathlib import Path

# Buttons and toggles that start long jobs (training, search, distillation) or change the whole session:
# never operated by the crawler. Matched against the control's label, case-insensitive, at its start.
# Buttons that start a long job (crawled in their own short tests). A label's innerText starts with its Material
# icon's name ("play_arrow Start"): an optional icon name comes first.
DENY = re.compile(r"^\s*([a-z0-9_]+\s+)?(start|resume|train|run search|distil|presenter mode)\b", re.I)

# The 13 pages: url path (st.navigation derives it from the file name; home is the default page at "/").
PAGES = {"home": "", "lessons": "lessons", "quiz": "quiz", "live_class": "live_class",
         "conv_arithmetic": "conv_arithmetic",
         "conv_animation": "conv_animation", "architecture_lab": "architecture_lab",
         "training_lab": "training_lab", "network_explorer": "network_explorer", "feature_maps": "feature_maps",
         "saliency": "saliency", "compression": "compression", "metrics_losses": "metrics_losses"}

VIEWPORTS = {"normal": {"width": 1400, "height": 900, "present": False},
             "present": {"width": 1280, "height": 720, "present": True}}

IDLE_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app) return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  const s = app.getAttribute('data-test-script-state');
  if (s !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stSkeleton]')) return false;
  if (document.querySelector('[data-testid=stStatusWidgetRunningIcon], [data-testid=stStatusWidgetRunningManIcon]'))
    return false;
  return true;
}"""

RUNNING_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-script-state') !== 'notRunning';
}"""

# Visible controls: [{kind, label, idx, n}] (idx: among visible controls of that kind and label; n: options).
# Visible means laid out and not skipped: a collapsed st.expander keeps its content in the DOM, with a size and an
# offsetParent, but Chromium skips rendering it (a closed <details>), so checkVisibility() is false there; without
# it the crawler found those controls with an empty label and waited 30 s on each of their actions.
CONTROLS_JS = r"""() => {
  const vis = e => !!e && e.offsetParent !== null && e.getBoundingClientRect().width > 0 && e.checkVisibility();
  const txt = e => (e ? e.innerText : '').replace(/\s+/g, ' ').trim();
  const out = [], seen = {};
  const add = (kind, label, el, n, cur) => {
    const k = kind + '|' + label; const idx = seen[k] || 0; seen[k] = idx + 1;
    out.push({kind, label, idx, n: n || 1, cur: cur === undefined ? -1 : cur});
  };
  const lab = w => txt(w.querySelector('[data-testid=stWidgetLabel]'));
  for (const w of document.querySelectorAll('[data-testid=stSelectbox]')) if (vis(w)) add('selectbox', lab(w), w);
  for (const w of document.querySelectorAll('[data-testid=stRadio]')) if (vis(w))
    add('radio', lab(w), w, w.querySelectorAll('[role=radiogroup] label').length,
        [...w.querySelectorAll('[role=radiogroup] input')].findIndex(i => i.checked));
  for (const w of document.querySelectorAll('[data-testid=stButtonGroup]')) if (vis(w))
    add('buttongroup', lab(w), w, w.querySelectorAll('button').length);
  for (const w of document.querySelectorAll('[data-testid=stCheckbox]')) if (vis(w)) add('toggle', txt(w), w, 2);
  for (const w of document.querySelectorAll('[data-testid=stNumberInput]')) if (vis(w)) add('number', lab(w), w, 3);
  for (const w of document.querySelectorAll('[data-testid=stSlider], [data-testid=stSelectSlider]')) if (vis(w))
    add('slider', lab(w), w, 3);
  for (const w of document.querySelectorAll('[data-testid=stTabs]')) if (vis(w)) {
    const tabs = [...w.querySelectorAll('[role=tablist]')[0].querySelectorAll('[role=tab]')];
    add('tabs', tabs.map(txt).join(' / '), w, tabs.length);
  }
  for (const w of document.querySelectorAll('[data-testid=stExpander]')) if (vis(w) && !w.querySelector('details[open]'))
    add('expander', txt(w.querySelector('summary')), w);
  for (const w of document.querySelectorAll('[data-testid=stButton], [data-testid=stFormSubmitButton]'))
    if (vis(w) && !w.querySelector('button').disabled) add('button', txt(w.querySelector('button')), w);
  return out;
}"""

# Mark the control (kind, label, idx) with data-crawl-target so that Python can locate it; false if gone.
MARK_JS = r"""([kind, label, idx]) => {
  document.querySelectorAll('[data-crawl-target]').forEach(e => e.removeAttribute('data-crawl-target'));
  const vis = e => !!e && e.offsetParent !== null && e.getBoundingClientRect().width > 0 && e.checkVisibility();
  const txt = e => (e ? e.innerText : '').replace(/\s+/g, ' ').trim();
  const sel = {selectbox: '[data-testid=stSelectbox]', radio: '[data-testid=stRadio]',
               buttongroup: '[data-testid=stButtonGroup]', toggle: '[data-testid=stCheckbox]',
               number: '[data-testid=stNumberInput]', slider: '[data-testid=stSlider], [data-testid=stSelectSlider]',
               tabs: '[data-testid=stTabs]', expander: '[data-testid=stExpander]',
               button: '[data-testid=stButton], [data-testid=stFormSubmitButton]'}[kind];
  const labelOf = w => {
    if (kind === 'toggle') return txt(w);
    if (kind === 'tabs') return [...w.querySelectorAll('[role=tablist]')[0].querySelectorAll('[role=tab]')].map(txt).join(' / ');
    if (kind === 'expander') return txt(w.querySelector('summary'));
    if (kind === 'button') return txt(w.querySelector('button'));
    return txt(w.querySelector('[data-testid=stWidgetLabel]'));
  };
  const hits = [...document.querySelectorAll(sel)].filter(w => vis(w) && labelOf(w) === label);
  const w = hits[idx];
  if (!w) return false;
  w.setAttribute('data-crawl-target', '1');
  return true;
}"""

# Layout findings: [{kind, text, detail}].
CHECK_JS = r"""([present, minFont]) => {
  const found = [];
  const vis = e => e.offsetParent !== null && e.getBoundingClientRect().width > 0 && e.checkVisibility();
  const short = s => s.replace(/\s+/g, ' ').trim().slice(0, 80);
  const groups = {
    label: '[data-testid=stWidgetLabel]', button: '[data-testid=stButton] button, [data-testid=stDownloadButton] button, [data-testid=stFormSubmitButton] button, [data-testid=stButtonGroup] button',
    tab: '[role=tab]', metric: '[data-testid=stMetricValue], [data-testid=stMetricLabel], [data-testid=stMetricDelta]',
    nav: '[data-testid=stSidebarNavLink], [data-testid=stSidebarNavSeparator]',
    pagelink: '[data-testid=stPageLink-NavLink]', heading: 'h1, h2, h3, h4, h5, h6',
    tags: '[data-testid=stMultiSelectTagsContainer]', radio: '[data-testid=stRadio] label',
    toggle: '[data-testid=stCheckbox] label', expander: '[data-testid=stExpander] summary',
    caption: '[data-testid=stCaptionContainer]', alert: '[data-testid=stAlertContentInfo], [data-testid=stAlertContentWarning], [data-testid=stAlertContentError], [data-testid=stAlertContentSuccess]',
  };
  const done = new Set(), flagged = [];
  for (const [kind, sel] of Object.entries(groups)) {
    for (const el of document.querySelectorAll(sel)) {
      if (done.has(el) || !vis(el) || el.closest('.katex')) continue;
      if (flagged.some(f => el.contains(f) || f.contains(el))) continue;  // a toggle and its label: one finding
      done.add(el);
      let raw = el.innerText || '';
      for (const i of el.querySelectorAll('[data-testid=stIconMaterial]')) raw = raw.replace(i.innerText, '');
      const text = short(raw);
      if (!text) continue;
      let why = null;
      // 1. text wider than a box that hides the rest (the element or any descendant)
      for (const d of [el, ...el.querySelectorAll('*')]) {
        if (!vis(d) || d.closest('.katex') || d.tagName === 'svg' || d.closest('svg')) continue;
        const cs = getComputedStyle(d);
        if (d.clientWidth <= 1 && cs.position === 'absolute') continue;  // text for screen readers only
        const clips = cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis';
        if (clips && d.scrollWidth > d.clientWidth + 1 && (d.innerText || '').trim() &&
            !(cs.overflowX === 'auto' || cs.overflowX === 'scroll')) {
          why = `scrollWidth ${d.scrollWidth} > clientWidth ${d.clientWidth}`; break;
        }
      }
      // 2. an ellipsis at the end of the text
      if (!why && /(…|\.\.\.)$/.test(text)) why = 'ends with an ellipsis';
      // 3. one word broken across lines: a break between two letters or digits ("Convolutio" / "n"). A line may
      //    end at punctuation, as in "multi-" / "channel" or "dilation=" / "(16, 1)": that is the browser's own
      //    typesetting, not a cut word, so the words measured are the runs of letters and digits
      if (!why) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let node;
        outer: while ((node = walker.nextNode())) {
          if (node.parentElement && (node.parentElement.closest('.katex') || !vis(node.parentElement))) continue;
          const re = /[\p{L}\p{N}]+/gu; let m;
          while ((m = re.exec(node.data))) {
            if (m[0].length < 2) continue;
            const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
            const tops = [...r.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top));
            if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 4) {
              why = `word "${m[0].slice(0, 30)}" broken across lines`; break outer;
            }
          }
        }
      }
      if (why) {
        flagged.push(el);
        const m = el.closest('[data-testid=stMetric]');  // a metric's value changes: one finding per metric
        const key = m ? kind + ':' + short((m.querySelector('[data-testid=stMetricLabel]') || {}).innerText || '') : '';
        found.push({kind, text, detail: why, key});
      }
    }
  }
  // 1b. a select box's (or multiselect's) displayed value: Streamlit 1.67's combobox shows it as an <input>'s value,
  // which innerText never holds and which the input clips without an ellipsis. Cut when the text, measured in the
  // input's own font, is wider than its content box (or the input scrolls). One finding per select box (its label).
  const canvas = document.createElement('canvas').getContext('2d');
  for (const inp of document.querySelectorAll('[data-testid=stSelectbox] input, [data-testid=stMultiSelect] input')) {
    if (!vis(inp)) continue;
    const text = short(inp.value || '');
    if (!text) continue;
    const cs = getComputedStyle(inp);
    canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const room = inp.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const need = canvas.measureText(inp.value).width;
    let why = null;
    if (need > room + 1) why = `value ${Math.round(need)} px wide in a ${Math.round(room)} px box`;
    else if (inp.scrollWidth > inp.clientWidth + 1) why = `scrollWidth ${inp.scrollWidth} > clientWidth ${inp.clientWidth}`;
    if (why) {
      const w = inp.closest('[data-testid=stSelectbox], [data-testid=stMultiSelect]');
      const label = short((w.querySelector('[data-testid=stWidgetLabel]') || {}).innerText || '');
      found.push({kind: 'select', text, detail: why, key: 'select:' + label});
    }
  }
  // 4. anything wider than the window
  const W = window.innerWidth;
  for (const [name, el] of [['document', document.documentElement],
                            ['main', document.querySelector('[data-testid=stMain]')],
                            ['app view', document.querySelector('[data-testid=stAppViewContainer]')]]) {
    if (el && el.scrollWidth > Math.max(W, el.clientWidth) + 1)
      found.push({kind: 'page-width', text: name, detail: `scrollWidth ${el.scrollWidth} > ${W}`});
  }
  for (const el of document.querySelectorAll('[data-testid=stMainBlockContainer] [data-testid=stElementContainer]')) {
    if (!vis(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > W + 1) found.push({kind: 'page-width', text: short(el.innerText || el.getAttribute('data-testid') || ''),
                                     detail: `element right edge ${Math.round(r.right)} > ${W}`});
  }
  // 6. a formula (KaTeX) wider than its column: cut at the edge, or only readable by scrolling it sideways. The
  //    formula's own box against its block's (the st.latex / markdown container), per formula, its text the key.
  for (const k of document.querySelectorAll('.katex')) {
    if (!vis(k) || k.parentElement.closest('.katex')) continue;
    const box = k.closest('[data-testid=stMarkdownContainer], [data-testid=stCaptionContainer], [data-testid=stMarkdown]')
      || k.parentElement;
    // its ink (glyphs, rules, SVG delimiters; not KaTeX's invisible 2 px struts) against the block's visible box:
    // the .katex-display scrolls sideways, so ink beyond its edge is only seen by scrolling
    const disp = k.closest('.katex-display');
    const b = (disp || box).getBoundingClientRect();
    let lo = Infinity, hi = -Infinity;
    for (const e of k.querySelectorAll('.katex-html *')) {
      if (!((!e.children.length && /[^\s\u200b-\u200d\ufeff]/.test(e.textContent)) || e.tagName === 'svg' ||
          e.classList.contains('frac-line')))
        continue;
      const q = e.getBoundingClientRect();
      if (q.width > 0) { lo = Math.min(lo, q.left); hi = Math.max(hi, q.right); }
    }
    const r = {left: lo, right: hi, width: hi - lo};
    const over = Math.max(hi - b.right, b.left - lo);
    if (hi > lo && over > 1) {
      const tex = (k.querySelector('annotation') || {}).textContent || k.innerText || '';
      found.push({kind: 'formula', text: short(tex), detail: `${Math.round(r.width)} px wide in a ${Math.round(b.width)} px column`,
                  key: 'formula:' + short(tex)});
    }
  }
  // 7. a code block (st.code, a fenced block in markdown) or inline code wider than its box: the rest hidden or only
  //    reachable by a scrollbar the room does not see
  for (const c of document.querySelectorAll('pre, code')) {
    if (!vis(c) || (c.tagName === 'CODE' && c.closest('pre'))) continue;
    const box = c.tagName === 'PRE' ? null : (c.closest('[data-testid=stMarkdownContainer]') || c.parentElement);
    const over = box ? c.getBoundingClientRect().right - box.getBoundingClientRect().right : c.scrollWidth - c.clientWidth;
    if (over > 1) found.push({kind: 'code', text: short(c.innerText || ''), detail: `${Math.round(over)} px beyond its box`,
                              key: 'code:' + short(c.innerText || '').slice(0, 40)});
  }
  // 8. presenter mode: every text of the page (not a chart's: 5.) at least minFont px, where the room reads it.
  //    One finding per kind of element and size, with a few of its texts.
  if (present) {
    const small = new Map();
    const root = document.querySelector('[data-testid=stMain]') || document.body;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const el = node.parentElement;
      if (!el || !/[^\s\u200b-\u200d\ufeff]/.test(node.data || '') || el.closest('svg, .js-plotly-plot, [role=tooltip], .katex-mathml, style, script'))
        continue;
      if (!vis(el)) continue;
      const px = parseFloat(getComputedStyle(el).fontSize);
      if (px >= minFont - 0.01) continue;
      const w = el.closest('[data-testid]');
      const what = (w ? w.getAttribute('data-testid') : el.tagName.toLowerCase());
      const k = what + '|' + px;
      if (!small.has(k)) small.set(k, []);
      small.get(k).push(short(node.data));
    }
    for (const inp of root.querySelectorAll('input, textarea')) {
      if (!vis(inp) || !(inp.value || inp.placeholder || '').trim() || inp.type === 'hidden') continue;
      const px = parseFloat(getComputedStyle(inp).fontSize);
      if (px >= minFont - 0.01) continue;
      const k = 'input|' + px;
      if (!small.has(k)) small.set(k, []);
      small.get(k).push(short(inp.value || inp.placeholder));
    }
    for (const [k, texts] of small) {
      const [what, px] = k.split('|');
      found.push({kind: 'font', text: `${what}: ` + texts.slice(0, 4).join(', ') + (texts.length > 4 ? ', …' : ''),
                  detail: `${px} px (${texts.length} texts)`, key: `font:${what}:${px}`});
    }
  }
  // 9. a control floating over the page (position: fixed, as the presenter bar): only in the margin beside the
  //    content column, where no scroll position brings content under it
  const col = document.querySelector('[data-testid=stMainBlockContainer]');
  if (col) {
    const cs = getComputedStyle(col), cr = col.getBoundingClientRect();
    const left = cr.left + parseFloat(cs.paddingLeft), right = cr.right - parseFloat(cs.paddingRight);
    for (const el of col.querySelectorAll('[data-testid=stElementContainer], [data-testid=stVerticalBlock], [data-testid=stLayoutWrapper]')) {
      if (getComputedStyle(el).position !== 'fixed' || !el.checkVisibility()) continue;  // (fixed: no offsetParent)
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.left < right - 1 && r.right > left + 1)
        found.push({kind: 'overlap', text: short(el.innerText || el.className.split(' ').find(c => c.startsWith('st-key-')) || 'fixed element'),
                    detail: `floats over the content column (${Math.round(r.left)}–${Math.round(r.right)} px of ${Math.round(left)}–${Math.round(right)})`,
                    key: 'overlap:' + Math.round(r.left) + ':' + Math.round(r.top)});
    }
  }
  // 5. presenter mode: chart text large enough for the back of the room
  if (present) {  // one finding per chart and font size, with a few of its texts
    const small = new Map();
    [...document.querySelectorAll('.js-plotly-plot')].forEach((plot, i) => {
      if (!vis(plot)) return;
      for (const t of plot.querySelectorAll('text')) {
        if (!(t.textContent || '').trim() || t.closest('.hoverlayer') || t.closest('.modebar')) continue;
        if (t.getBoundingClientRect().width === 0) continue;
        const px = parseFloat(getComputedStyle(t).fontSize);
        if (px >= minFont) continue;
        const k = i + '|' + px;
        if (!small.has(k)) small.set(k, []);
        small.get(k).push(short(t.textContent));
      }
    });
    for (const [k, texts] of small) {
      const [i, px] = k.split('|');
      found.push({kind: 'chart-font', text: `chart ${+i + 1}: ` + texts.slice(0, 4).join(', ') + (texts.length > 4 ? ', …' : ''),
                  detail: `${px} px (${texts.length} texts)`, key: `chart-font:${i}:${px}`});
    }
  }
  return found;
}"""

# Presenter mode, as the page opens: the page's main figure starts in the top FOLD_SHARE of the window, so a
# projector shows at least a third of the window's height of it without scrolling. The main figure is the first
# chart, or MAIN_FIGURE's element where the page's result is not a chart (Conv Arithmetic's four numbers).
# None when the page shows neither as it opens (Home, Lessons, Quiz).
FOLD_SHARE = 2 / 3
MAIN_FIGURE = {"conv_arithmetic": "[data-testid=stMetric]"}
FOLD_JS = """(sel) => {
  const el = [...document.querySelectorAll(sel)].find(p => p.offsetParent !== null);
  return el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : null;
}"""

EXCEPTIONS_JS = """() => [...document.querySelectorAll('[data-testid=stException]')]
  .filter(e => e.offsetParent !== null).map(e => e.innerText.replace(/\\s+/g, ' ').trim().slice(0, 300))"""


@dataclass
class Finding:
    page: str
    viewport: str
    kind: str        # exception | label | button | tab | metric | select | nav | heading | ... | page-width | chart-font
    #                  | fold (presenter mode: the main figure starts below FOLD_SHARE of the window)
    text: str
    detail: str
    step: int
    state: str       # the action after which it was first seen


@dataclass
class CrawlResult:
    page: str
    viewport: str
    steps: int = 0
    step_times: list = field(default_factory=list)   # (action, seconds to idle)
    exceptions: list = field(default_factory=list)   # Finding
    truncated: list = field(default_factory=list)    # Finding (cut text, page width, chart font)
    screenshot: str = ""
    skipped: list = field(default_factory=list)      # controls not operated (deny list / gone), for the record

    def p95(self) -> float:
        ts = sorted(t for a, t in self.step_times if a != "load")
        return ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))] if ts else 0.0


def wait_idle(page, timeout: float = 60.0, settle: float = 0.15) -> float:
    """Seconds until the app is idle (a rerun that starts within ``settle`` s is waited for, too)."""
    t0 = time.time()
    try:  # a rerun the action triggers starts a moment after the event
        page.wait_for_function(RUNNING_JS, timeout=settle * 1000, polling=30)
    except Exception:
        pass
    page.wait_for_function(IDLE_JS, timeout=timeout * 1000, polling=50)
    page.wait_for_timeout(80)  # the last delta is painted
    page.wait_for_function(IDLE_JS, timeout=timeout * 1000, polling=50)
    return time.time() - t0


def page_url(server: str, name: str, present: bool, query: dict | None = None) -> str:
    q = {**(query or {}), **({"present": "1"} if present else {})}
    return f"{server}/{PAGES[name]}" + (f"?{urlencode(q)}" if q else "")


def lesson_links() -> list[tuple[str, str, dict]]:
    """Every step of the Lessons path as a link opens it: (label "lesson N", page, query: the step's example and
    ``lesson=N``, which shows the step's banner above the page)."""
    from cnnviz.classroom.lessons import LESSONS
    return [(f"lesson{n}", Path(step[1]).stem, {**(step[3] or {}), "lesson": str(n)})
            for n, step in enumerate(LESSONS, 1)]


# What a finding counts as in the summary (issue: 0 of each): a formula or code block wider than its column, cut
# text of a label, button, tab, heading … (every other kind of cut text), text or chart text under 16 px in presenter
# mode, content wider than the window, the main figure below the fold.
CATEGORIES = {"formula": "clipped formulas", "code": "clipped code blocks", "font": "small text",
              "chart-font": "small text", "page-width": "wider than the window", "fold": "below the fold",
              "overlap": "covering content"}


def category(kind: str) -> str:
    return CATEGORIES.get(kind, "truncated labels")


def _current_last(n: int, cur: int, max_options: int | None) -> list:
    """Every option of a select box or radio, the one chosen now last (capped at ``max_options``, the current
    one kept): a person tries the others and comes back, and the page ends as it was, so the controls that only
    its current choice shows (Feature Maps' layers under a shipped model, not under "Upload a checkpoint") are
    crawled too."""
    others = [k for k in range(n) if k != cur]
    if not 0 <= cur < n:
        return others[:max_options] if max_options else others
    return (others[:max_options - 1] if max_options else others) + [cur]


def _actions(ctrl: dict, max_options: int | None) -> list:
    kind, n = ctrl["kind"], ctrl["n"]
    if kind == "radio":
        return _current_last(n, ctrl.get("cur", -1), max_options)
    if kind in ("buttongroup", "tabs"):
        opts = list(range(n))
    elif kind == "selectbox":
        opts = [None]  # the option count is only known once the list is open: expanded at run time
    elif kind == "toggle":
        opts = ["flip", "flip back"]
    elif kind in ("number", "slider"):
        opts = ["min", "max", "middle"]
    else:
        opts = ["click"]
    if max_options is not None and kind in ("buttongroup", "tabs"):
        opts = opts[:max_options]
    return opts


class Crawler:
    def __init__(self, browser, server: str, shots: Path, *, max_steps: int | None = None,
                 max_options: int | None = None, min_font: float = 16.0, step_timeout: float = 90.0,
                 log=None):
        self.browser, self.server, self.shots = browser, server, Path(shots)
        self.max_steps, self.max_options, self.min_font = max_steps, max_options, min_font
        self.step_timeout = step_timeout
        self.log = log or (lambda *_: None)

    def crawl(self, name: str, viewport: str, query: dict | None = None, label: str | None = None) -> CrawlResult:
        """Crawl page ``name`` opened with ``query`` (a lesson link's example); ``label`` names the result (default
        the page)."""
        vp = VIEWPORTS[viewport]
        res = CrawlResult(label or name, viewport)
        ctx = self.browser.new_context(viewport={"width": vp["width"], "height": vp["height"]})
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        seen_findings = set()

        def check(state: str):
            for text in page.evaluate(EXCEPTIONS_JS):
                key = ("exception", text)
                if key not in seen_findings:
                    seen_findings.add(key)
                    res.exceptions.append(Finding(res.page, viewport, "exception", text, "", res.steps, state))
            for f in page.evaluate(CHECK_JS, [vp["present"], self.min_font]):
                key = (f["kind"], f.get("key") or f["text"])
                if key not in seen_findings:
                    seen_findings.add(key)
                    res.truncated.append(Finding(res.page, viewport, f["kind"], f["text"], f["detail"], res.steps, state))

        try:
            t0 = time.time()
            page.goto(page_url(self.server, name, vp["present"], query))
            page.wait_for_selector("[data-testid=stApp]", timeout=120_000)
            wait_idle(page, timeout=180, settle=1.0)
            res.step_times.append(("load", time.time() - t0))
            check("page loaded")
            if vp["present"] and query is None:  # a lesson link: its key element, tests/e2e/test_lesson_keys.py
                top = page.evaluate(FOLD_JS, MAIN_FIGURE.get(name, ".js-plotly-plot"))
                if top is not None and top > FOLD_SHARE * vp["height"]:
                    res.truncated.append(Finding(res.page, viewport, "fold", "main figure below the fold",
                                                 f"first chart starts at {top} px of {vp['height']}", 0, "page loaded"))
            shot = self.shots / f"{res.page}-{viewport}.png"
            page.screenshot(path=str(shot), full_page=False)
            res.screenshot = str(shot)
            done: set = set()
            queue: list = []

            def discover(at: int):
                new = []
                for c in page.evaluate(CONTROLS_JS):
                    key = (c["kind"], c["label"], c["idx"])
                    if key in done:
                        continue
                    done.add(key)
                    if DENY.search(c["label"]) or (c["kind"] == "button" and not c["label"]):
                        res.skipped.append(f"{c['kind']} {c['label']!r} (deny list)")
                        continue
                    new += [(c, o) for o in _actions(c, self.max_options)]
                queue[at:at] = new  # depth first: what a tab or an expander revealed is crawled before the next tab

            discover(0)
            i = 0
            while i < len(queue):
                if self.max_steps is not None and res.steps >= self.max_steps:
                    break
                ctrl, opt = queue[i]
                i += 1
                state = f"{ctrl['kind']} {ctrl['label']!r} → {opt if opt is not None else 'open'}"
                try:
                    more = self._operate(page, ctrl, opt)
                except Exception as e:  # the control is gone, hidden or not operable: not a product error
                    res.skipped.append(f"{state}: {type(e).__name__}: {str(e).splitlines()[0][:100]}")
                    page.keyboard.press("Escape")
                    continue
                if more:  # a selectbox: one step per option
                    queue[i:i] = [(ctrl, k) for k in more]
                    continue
                res.steps += 1
                try:
                    dt = wait_idle(page, timeout=self.step_timeout)
                except Exception:
                    dt = self.step_timeout
                    res.skipped.append(f"{state}: not idle within {self.step_timeout:g} s")
                res.step_times.append((state, dt))
                self.log(f"  {name}/{viewport} step {res.steps}: {state} ({dt:.2f} s)")
                check(state)
                discover(i)
            shot = self.shots / f"{res.page}-{viewport}-end.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            ctx.close()
        return res

    def _operate(self, page, ctrl: dict, opt):
        """Do one action; returns a list of further options (selectbox), else None."""
        if not page.evaluate(MARK_JS, [ctrl["kind"], ctrl["label"], ctrl["idx"]]):
            raise LookupError("control not visible")
        w = page.locator("[data-crawl-target]")
        kind = ctrl["kind"]
        if kind == "selectbox":  # Streamlit 1.67: a react-aria combobox (an <input>), its list a virtual dropdown
            box = w.locator("input[role=combobox]").first
            if box.is_disabled():
                raise LookupError("select box disabled")
            current = box.input_value().strip()
            box.click()
            options = page.locator("[data-testid=stSelectboxVirtualDropdown] [role=option]")
            options.first.wait_for(timeout=5000)
            n = options.count()
            if opt is None:
                texts = [t.strip() for t in options.all_inner_texts()]
                page.keyboard.press("Escape")
                return _current_last(n, texts.index(current) if current in texts else -1, self.max_options)
            options.nth(opt).click()
        elif kind == "radio":
            if w.locator("input").nth(opt).is_disabled():
                raise LookupError("option disabled")
            w.locator("[role=radiogroup] label").nth(opt).click()
        elif kind == "buttongroup":
            w.locator("button").nth(opt).click()
        elif kind == "tabs":
            w.locator("[role=tablist]").first.locator("[role=tab]").nth(opt).click()
        elif kind == "toggle":
            if w.locator("input").first.is_disabled():
                raise LookupError("toggle disabled")
            w.locator("label").first.click()
        elif kind == "expander":
            w.locator("summary").first.click()
        elif kind == "button":
            w.locator("button").first.click()
        elif kind == "number":
            inp = w.locator("input").first
            if inp.is_disabled():  # e.g. the builder's Kernel for a layer that has none: fill() would wait 30 s
                raise LookupError("number input disabled")
            lo, hi, step = (inp.get_attribute(a) for a in ("min", "max", "step"))
            if lo is not None and hi is not None and lo != "" and hi != "":
                lo_f, hi_f = float(lo), float(hi)
                integer = all(re.fullmatch(r"-?\d+", v or "0") for v in (lo, hi, step or "1"))
                mid = (lo_f + hi_f) / 2
                val = {"min": lo_f, "max": hi_f, "middle": round(mid) if integer else mid}[opt]
                inp.fill(str(int(val)) if integer else f"{val:g}")
                inp.press("Enter")
            else:  # unbounded: the step buttons
                btn = {"min": "stNumberInputStepDown", "max": "stNumberInputStepUp",
                       "middle": "stNumberInputStepDown"}[opt]
                b = w.get_by_test_id(btn)
                if b.is_disabled():
                    raise LookupError("step button disabled")
                b.click()
        elif kind == "slider":
            s = w.get_by_role("slider").first
            if s.get_attribute("aria-disabled") == "true":
                raise LookupError("slider disabled")
            if opt == "middle":
                track = w.locator("[data-baseweb=slider]").first
                box = (track if track.count() else s).bounding_box()
                s.focus()
                page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            else:
                s.focus()
                s.press("Home" if opt == "min" else "End")
        return None


def format_table(results: list[CrawlResult]) -> str:
    rows = [("page", "viewport", "steps", "exceptions", "truncated", "p95 step s")]
    for r in results:
        rows.append((r.page, r.viewport, str(r.steps), str(len(r.exceptions)), str(len(r.truncated)),
                     f"{r.p95():.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)


def summary_line(results: list[CrawlResult]) -> str:
    times = sorted(t for r in results for a, t in r.step_times if a != "load")
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))] if times else 0.0
    counts = {c: 0 for c in dict.fromkeys(["clipped formulas", "clipped code blocks", "truncated labels",
                                            *CATEGORIES.values()])}
    for r in results:
        for f in r.truncated:
            counts[category(f.kind)] += 1
    detail = ", ".join(f"{n} {c}" for c, n in counts.items())
    return (f"crawl: {sum(len(r.exceptions) for r in results)} exceptions, "
            f"{sum(len(r.truncated) for r in results)} truncated ({detail}), {sum(r.steps for r in results)} steps, "
            f"p95 {p95:.2f} s")


def describe(r: CrawlResult) -> str:
    lines = []
    for f in r.exceptions + r.truncated:
        lines.append(f"  [{f.page} {f.viewport}] {f.kind}: {f.text!r} {f.detail} — at step {f.step}, after {f.state}")
    if r.screenshot:
        lines.append(f"  screenshot: {r.screenshot}")
    return "\n".join(lines)
