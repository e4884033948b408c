"""Convolution Animation in chromium: press Play and the highlighted output cell and the readout above the grids
move (read from plotly's state)."""
import os
from tests.support.browser import E2E_WAIT_MS

CELL = """() => {
  const el = document.querySelector('.js-plotly-plot');
  if (!el || !el.data) return null;
  const t = el.data.find(d => d.name === 'output cell');
  return t ? [Math.min(...t.x.filter(v => v !== null)), Math.min(...t.y.filter(v => v !== null)),
              el.layout.sliders[0].active, el.layout.title.text] : null;
}"""


def test_play_moves_the_output_cell(server, page):
    page.goto(f"{server}/conv_animation")
    page.wait_for_function(f"({CELL})() !== null", timeout=E2E_WAIT_MS)  # first render builds 80 frames
    x0, y0, active0, title0 = page.evaluate(CELL)
    assert active0 == 0 and "Step 1 of 64" in title0
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/conv_animation.png", full_page=True)
    page.locator(".updatemenu-button", has_text="Faster").first.click()
    page.wait_for_function(f"(() => {{ const c = ({CELL})(); return c && c[0] > {x0} + 1.5; }})")
    page.locator(".updatemenu-button", has_text="Pause").first.click()
    x1, y1, active1, title1 = page.evaluate(CELL)
    assert y1 >= y0 and active1 >= 2  # moved right along the first row(s); the slider followed
    assert f"Step {active1 + 1} of 64" in title1  # and so did the readout above the grids
    assert page.get_by_test_id("stException").count() == 0
