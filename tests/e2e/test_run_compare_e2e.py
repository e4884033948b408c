"""Compare runs in chromium, presenter mode at 1280×720: train TinyVGG on the digits for 3 epochs, then "Train again
with one change" (Noise, preselected by the link as a lesson links it): both runs' validation curves on one chart,
the legend naming only the change."""
import os

from tests.support.browser import E2E_WAIT_MS

CURVES = """() => {  // {legend name: validation-accuracy points} of the Compare runs chart
  const g = [...document.querySelectorAll('.js-plotly-plot')].find(p => (p.layout.annotations || [])
      .some(a => a.text === 'Validation accuracy'));
  if (!g) return {};
  return Object.fromEntries(g.data.filter(t => t.showlegend !== false).map(t => [t.name, t.x.length]));
}"""


def test_train_twice_with_one_change_and_see_both_curves(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.set_default_timeout(E2E_WAIT_MS)
    try:
        page.goto(f"{server}/training_lab?epochs=3&present=1&ab_change=noise")
        main = page.get_by_test_id("stMain")
        main.get_by_role("button", name="Start", exact=True).click()
        page.get_by_text("Finished after epoch 3").wait_for()
        main.get_by_role("tab", name="Compare runs").click()
        main.get_by_role("button", name="Train again with this change").wait_for()
        assert page.get_by_text("Noise: off → on").count() == 1                 # the link's change, preselected
        main.get_by_role("button", name="Train again with this change").click()
        page.wait_for_function(f"() => {{ const c = ({CURVES})(); return c['noise'] === 3 && "
                               f"c['no noise'] === 3; }}", timeout=E2E_WAIT_MS)  # both runs, 3 epochs each
        assert page.get_by_test_id("stException").count() == 0
        shots = os.environ.get("CNNVIZ_SCREENSHOTS")
        if shots:
            page.get_by_text("Validation accuracy").first.scroll_into_view_if_needed()
            page.mouse.wheel(0, -120)
            page.wait_for_timeout(500)
            page.screenshot(path=f"{shots}/run_compare.png")
    finally:
        ctx.close()
