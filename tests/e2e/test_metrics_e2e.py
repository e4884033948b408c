"""Open Metrics & Losses in chromium, move box A with the keyboard, see the IoU change."""
import os
from pathlib import Path

import pytest
from tests.support.browser import E2E_WAIT_MS

ROOT = Path(__file__).resolve().parents[2]
if "pages/metrics_losses.py" not in (ROOT / "app.py").read_text():
    pytest.skip("pages/metrics_losses.py is not registered in app.py yet", allow_module_level=True)

IOU_IS = "(v) => [...document.querySelectorAll('[data-testid=stMetric]')].some(m => m.innerText.includes('IoU') && " \
         "m.querySelector('[data-testid=stMetricValue]').innerText === v)"


def test_moving_box_a_changes_iou(server, page):
    page.goto(f"{server}/metrics_losses")
    page.get_by_test_id("stPlotlyChart").first.wait_for(timeout=E2E_WAIT_MS)  # a cold server imports torch first
    page.wait_for_function(IOU_IS, arg="0.154")  # A = (15, 20, 55, 55), B = (35, 35, 75, 75): 400 / 2600
    slider = page.get_by_role("slider").first     # "A: left edge x1"
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    # A = (20, 20, 60, 55): overlap 25 × 20 = 500, union 1400 + 1600 − 500 = 2500
    page.wait_for_function(IOU_IS, arg="0.200")
    page.wait_for_function("() => location.search.includes('ax=20')")
    assert page.get_by_test_id("stException").count() == 0
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/metrics.png", full_page=True)
