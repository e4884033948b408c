"""The keyboard, for a presenter: Space plays / pauses an animation and ← → step it while it has focus; with no
animation in focus, ← → press the lesson banner's Previous / Next. Streamlit has no key handler: a short script
of ours (``st.html`` runs it in the page itself, no iframe) listens to keydown on the document and clicks the
buttons, found by their ``st-key-<key>`` class or, inside a plotly animation, by their label (← → show the frame
before / after the slider's with plotly's own ``animate``, as the Step buttons do). Keys typed into an
input, a text area, a select box or a focused slider, tab or table are left alone.

An animation (a plotly figure with the Step buttons of cnnviz/figures/animation.py) has focus once it is clicked
or Space started it; a click elsewhere or Escape takes the focus away. The focused one has a blue outline."""
from __future__ import annotations

import json

import streamlit as st

from cnnviz.figures.animation import STEP, STEP_BACK

KEYS_JS = """<style>
.cnnviz-anim-focus { outline: 4px solid #1f77b4; outline-offset: 4px; border-radius: 4px; }
.st-key-cnnviz_keys, [data-testid="stLayoutWrapper"]:has(> .st-key-cnnviz_keys) { display: none !important; }
</style>
<script>
(() => {
  const doc = document;
  if (window.cnnvizKeys) {
    doc.removeEventListener('keydown', window.cnnvizKeys.key, true);
    doc.removeEventListener('pointerdown', window.cnnvizKeys.point, true);
  }
  const STEP = %(step)s, BACK = %(back)s;
  const visible = e => !!e && e.offsetParent !== null && e.getBoundingClientRect().width > 0;
  const button = (gd, label) => [...gd.querySelectorAll('.updatemenu-button')]
    .find(b => b.textContent.trim() === label);
  const animations = () => [...doc.querySelectorAll('.js-plotly-plot')].filter(gd => visible(gd) && button(gd, STEP));
  const press = b => b && b.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  const container = gd => gd.closest('[data-testid=stElementContainer]') || gd;
  let focused = null;
  const focus = gd => {
    doc.querySelectorAll('.cnnviz-anim-focus').forEach(e => e.classList.remove('cnnviz-anim-focus'));
    focused = gd;
    if (gd) container(gd).classList.add('cnnviz-anim-focus');
  };
  const playing = gd => !!(gd._transitionData && gd._transitionData._frameQueue
                            && gd._transitionData._frameQueue.length) || !!gd.cnnvizPlaying;
  const watch = gd => {
    if (gd.cnnvizWatched || !gd.on) return;
    gd.cnnvizWatched = true;
    gd.on('plotly_buttonclicked', ev => { gd.cnnvizPlaying = ev && ev.button && ev.button.label === 'Play'; });
    gd.on('plotly_animated', () => { gd.cnnvizPlaying = false; });
  };
  // one frame on or back: from the frame a previous key asked for while it is still being drawn (a quick second
  // press must not read the slider before it moved), else from the slider; the figure's own buttons without Plotly
  const stepBy = (gd, delta) => {
    const slider = gd.layout && gd.layout.sliders && gd.layout.sliders[0];
    if (!slider || !window.Plotly || !window.Plotly.animate) { press(button(gd, delta > 0 ? STEP : BACK)); return; }
    const recent = gd.cnnvizTarget !== undefined && Date.now() - gd.cnnvizAt < 700;
    const k = Math.max(0, Math.min(slider.steps.length - 1, (recent ? gd.cnnvizTarget : slider.active) + delta));
    gd.cnnvizTarget = k; gd.cnnvizAt = Date.now(); gd.cnnvizPlaying = false;
    window.Plotly.animate(gd, [String(k)], {frame: {duration: 0, redraw: true}, mode: 'immediate',
                                            transition: {duration: 0}});
  };
  const typing = t => !!t && t.closest && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
    || !!t.closest('[role=slider], [role=tab], [role=listbox], [role=combobox], [role=grid], [role=radio], '
                   + '[data-testid=stDataFrame], [data-testid=stDataFrameResizable]'));
  const lessonButton = name => {
    const b = doc.querySelector('.st-key-lesson_' + name + ' button');
    return b && !b.disabled ? b : null;
  };
  const key = e => {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    if (focused && !doc.contains(focused)) focus(null);  // the page reran without it
    if (e.key === 'Escape') { focus(null); return; }
    let action = null;
    if (e.key === ' ' || e.code === 'Space') {
      const gd = focused || animations()[0];
      if (!gd) return;
      action = () => {
        watch(gd); focus(gd);
        const play = !playing(gd);
        press(button(gd, play ? 'Play' : 'Pause'));
        gd.cnnvizPlaying = play;
      };
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const right = e.key === 'ArrowRight';
      if (focused) action = () => { watch(focused); stepBy(focused, right ? 1 : -1); };
      else {
        const b = lessonButton(right ? 'next' : 'prev');
        if (b) action = () => b.click();
      }
    }
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    if (doc.activeElement && doc.activeElement.tagName === 'BUTTON') doc.activeElement.blur();
    action();
  };
  const point = e => {
    const gd = e.target && e.target.closest ? e.target.closest('.js-plotly-plot') : null;
    focus(gd && button(gd, STEP) ? gd : null);
    if (focused) watch(focused);
  };
  doc.addEventListener('keydown', key, true);
  doc.addEventListener('pointerdown', point, true);
  window.cnnvizKeys = {key, point};
})();
</script>"""


def keyboard() -> None:
    """Install the key handler in this page (once per page load: the element is the same on every rerun, so
    React keeps it and the script does not run again)."""
    with st.container(key="cnnviz_keys"):
        st.html(KEYS_JS % dict(step=json.dumps(STEP), back=json.dumps(STEP_BACK)),
                unsafe_allow_javascript=True)  # our own static script, no user data
