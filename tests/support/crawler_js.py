"""The crawler's in-page scripts (tests/support/crawler.py): idle detection, the controls of a page, and the
layout checks run after every step. JavaScript evaluated by Playwright in the page."""

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
    if (el && el.closest('.st-key-presenter_bar')) return;  // presenter mode's own bar: switching it off ends the crawl's mode
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
      // a formula's size is its base size (KaTeX sets sub- and superscripts smaller, by 0.7 and 0.5, as print does)
      const px = parseFloat(getComputedStyle(el.closest('.katex') || el).fontSize);
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

FOLD_JS = """(sel) => {
  const el = [...document.querySelectorAll(sel)].find(p => p.offsetParent !== null);
  return el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : null;
}"""

EXCEPTIONS_JS = """() => [...document.querySelectorAll('[data-testid=stException]')]
  .filter(e => e.offsetParent !== null).map(e => e.innerText.replace(/\\s+/g, ' ').trim().slice(0, 300))"""
