"""Architecture Lab in chromium: the per-layer summary shows PyTorch's count; the block comparison reacts."""
import os

METRICS = "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText)"


def test_summary_and_block_comparison(server, page):
    page.goto(f"{server}/architecture_lab?preset=LeNet-5")
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    page.wait_for_function(f"({METRICS})().includes('61.7 k')")  # LeNet-5: 61,706 parameters
    page.get_by_role("tab", name="Block comparison").click()
    chart = page.get_by_test_id("stPlotlyChart").nth(1)
    chart.wait_for()
    page.wait_for_function("() => document.body.innerText.includes('depthwise-separable')")
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        chart.scroll_into_view_if_needed()
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/architecture_lab.png", full_page=True)
    groups = page.get_by_label("Groups g", exact=True)
    groups.fill("5")
    groups.press("Enter")
    page.get_by_test_id("stAlert").filter(has_text="divisible").first.wait_for()
    assert "groups" in page.get_by_test_id("stAlert").filter(has_text="divisible").first.inner_text()
    page.wait_for_function("() => window.location.search.includes('groups=5')")  # the state is in the link
    assert page.get_by_test_id("stException").count() == 0
