"""Compression in chromium: distil a student; the curves come from the training runner's child process and the
page says when it is done."""
import os

import pytest
from playwright.sync_api import expect

CURVE = """() => {
  const plots = [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')];
  const fig = plots.find(p => (p.data || []).some(t => t.name === 'student, distilled'));
  return fig ? fig.data.find(t => t.name === 'student, distilled').x.length : -1;
}"""


@pytest.mark.timeout(600)  # the suite's 300 s per test is less than the wait below
def test_distillation_trains_two_students_and_finishes(server, page):
    page.goto(f"{server}/compression?epochs=3")
    main = page.get_by_test_id("stMain")  # the header has its own "Stop" while a script runs
    main.get_by_role("tab", name="Knowledge distillation").click()
    main.get_by_text("Press Start to distil a student").wait_for()
    main.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("3 of 3 epochs — done").wait_for(timeout=420_000)  # two students; a loaded box is slow
    # one point per epoch for the distilled student. The chart is drawn after the "done" text of the same rerun
    # (plotly renders asynchronously): on a loaded box it lagged that text, so wait for it, then check the count
    page.wait_for_function(f"({CURVE})() >= 3", timeout=60_000)
    assert page.evaluate(CURVE) == 3
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/distillation.png", full_page=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert page.get_by_test_id("stAlertContentError").count() == 0
