"""Open the errors in chromium: train one epoch, click a confusion-matrix cell, see that cell's validation images
(each with its top-3 and its map) and the kernels the run learnt."""
import os
import re

from cnnviz.training.validation import MAX_CELL_IMAGES
from tests.support.browser import E2E_WAIT_MS
from tests.support.crawler_js import IDLE_JS

CHART = """() => [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')]
  .find(p => p.layout && p.layout.title && String(p.layout.title.text).includes('click a cell'))"""
# The second most frequent error (the first is shown before any click), as [true, predicted, page x, page y].
CELL = f"""() => {{
  const gd = ({CHART})(), t = gd._fullData.find(t => t.customdata);
  const cells = t.customdata.map((d, n) => [d[0], d[1], Number(t.text[n]), n]).filter(c => c[0] !== c[1] && c[2] > 0)
    .sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
  const c = cells.length > 1 ? cells[1] : [0, 0, 0, 0];
  const n = t.customdata.findIndex(d => d[0] === c[0] && d[1] === c[1]);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  return [c[0], c[1], r.left + xa._offset + xa.l2p(t.x[n]), r.top + ya._offset + ya.l2p(t.y[n])];
}}"""
# The rerun a click starts is over: the app idle and none of the last run's elements left. While a rerun draws,
# Streamlit keeps the previous run's elements (data-stale=true) below the ones already redrawn and drops them only
# when the run ends, so a count taken before then mixes two cells (stop 14's "5 buttons for 7 captions": the
# captions were read while the previous cell's 7 were still there, the buttons just after they were dropped).
SETTLED = f"""() => ({IDLE_JS})() && !document.querySelector('[data-testid=stMain] [data-stale=true]')"""
# Each image's caption ("#<index>: ...") and whether the button keyed by that index sits in the same column.
ROWS = """() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
  .filter(c => /^#\\d+: /.test(c.innerText)).map(c => {
    const i = c.innerText.match(/^#(\\d+)/)[1], col = c.closest('[data-testid=stColumn]');
    return [c.innerText, !!col && !!col.querySelector(`.st-key-train_drill_open_${i} button`)];
  })"""


def test_click_a_confusion_cell_and_see_its_images(server, page):
    page.goto(f"{server}/training_lab?epochs=1")  # one epoch leaves errors enough to open
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("Finished after epoch 1").wait_for(timeout=E2E_WAIT_MS)
    page.wait_for_function(f"() => !!({CHART})()", timeout=E2E_WAIT_MS)
    page.get_by_text("Open the errors").scroll_into_view_if_needed()
    true, pred, x, y = page.evaluate(CELL)
    page.mouse.click(x, y)
    heading = page.get_by_test_id("stMarkdownContainer").filter(has_text=f"True {true}, predicted {pred}")
    heading.wait_for(timeout=E2E_WAIT_MS)  # drawn by the click's rerun: the wait below cannot end before it
    page.wait_for_function(SETTLED, timeout=E2E_WAIT_MS)
    n = int(re.search(r"(\d+) validation image", heading.inner_text()).group(1))
    rows = page.evaluate(ROWS)
    assert [c for c, _ in rows] and len(rows) == min(n, MAX_CELL_IMAGES), (n, rows)
    assert all(c.count("%") == 3 for c, _ in rows), rows  # top-3
    assert all(has_button for _, has_button in rows), rows  # each image's own button, beside it
    assert page.get_by_role("button", name="Open in Explorer").count() == len(rows)
    assert page.locator("[data-testid=stImage] img").count() == len(rows)
    assert page.get_by_test_id("stException").count() == 0
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.set_viewport_size({"width": 1280, "height": 720})
        page.evaluate("""() => document.evaluate("//*[text()='Open the errors']", document, null,
            XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue?.scrollIntoView()""")
        page.wait_for_timeout(500)
        page.screenshot(path=os.path.join(os.environ["CNNVIZ_SCREENSHOTS"], "confusion_drill.png"))
