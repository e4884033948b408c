"""Network Explorer in chromium: click a thumbnail and see that neuron's arithmetic; draw a stroke on the canvas
and see the prediction follow the drawing."""
import os
from tests.support.browser import E2E_WAIT_MS

# Page pixel of the overview's thumbnail marker [column, channel] (the markers trace carries customdata; _fullData
# holds the decoded coordinates, data the typed-array encoding plotly sends).
MARKER_XY = """([c, k]) => {
  const gd = [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')]
    .find(p => p.data.some(t => t.customdata));
  const t = gd._fullData.find(t => t.customdata), n = t.customdata.findIndex(d => d[0] === c && d[1] === k);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  return [r.left + xa._offset + xa.l2p(t.x[n]), r.top + ya._offset + ya.l2p(t.y[n])];
}"""
READY = """() => [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')]
  .some(p => p.data && p.data.some(t => t.customdata))"""
METRIC = """label => {
  const m = [...document.querySelectorAll('[data-testid=stMetric]')].find(e => e.innerText.startsWith(label));
  return m ? m.querySelector('[data-testid=stMetricValue]').innerText : null;
}"""


def shot(page, name):
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.set_viewport_size({"width": 1400, "height": 900})
        page.screenshot(path=os.path.join(os.environ["CNNVIZ_SCREENSHOTS"], name))


def test_click_a_thumbnail_shows_its_arithmetic(server, page):
    page.set_default_timeout(E2E_WAIT_MS)  # a cold server imports torch on a busy machine
    page.goto(f"{server}/network_explorer?model=shapes_TinyVGG")
    page.wait_for_function(READY)
    shot(page, "network_explorer.png")
    x, y = page.evaluate(MARKER_XY, [3, 2])  # column 3 = conv 2, channel 2
    page.mouse.click(x, y)
    page.wait_for_function("() => ['most active neuron of channel 2', 'features.2'].every(t => "  # its argmax
                           "document.body.innerText.includes(t))")
    page.get_by_text("pre-activation").first.wait_for()
    assert page.get_by_text("Σ products =").count() >= 1
    assert page.get_by_test_id("stException").count() == 0
    # Scrolled by a lookup at the moment of scrolling: a locator resolved before a rerun may point at a detached node.
    page.evaluate("""() => document.evaluate("//*[contains(text(), 'receptive field rows')]", document, null,
        XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue?.scrollIntoView()""")
    shot(page, "network_explorer_neuron.png")


def test_drawing_a_stroke_changes_the_prediction(server, page):
    page.set_default_timeout(E2E_WAIT_MS)
    page.goto(f"{server}/network_explorer?model=digits_TinyVGG&src=draw")
    page.wait_for_function(READY)
    before = page.evaluate(METRIC, "Probability")
    pad = page.frame_locator("iframe[title*=draw_canvas]").locator("#pad")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for t in range(1, 11):  # a vertical stroke down the middle: a "1"
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.15 + 0.07 * t))
    page.mouse.up()
    page.wait_for_function(f"() => ({METRIC})('Probability') !== {before!r}")
    assert page.evaluate(METRIC, "Prediction") == "1"
    assert page.get_by_test_id("stException").count() == 0
