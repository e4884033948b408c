"""Open the Conv Arithmetic page in chromium, change the kernel size, see the output size change."""
import os
from tests.support.browser import E2E_WAIT_MS


def metric_values(page):
    return page.get_by_test_id("stMetricValue").all_inner_texts()


def wait_for_metric(page, text):
    page.wait_for_function("t => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                           ".some(e => e.innerText.trim() === t)", arg=text, timeout=E2E_WAIT_MS, polling=250)


def test_first_visit_by_deep_link_gets_the_app_shell(server, page):
    """Runs first on a fresh server: a shared link must go through app.py (navigation + wide layout)."""
    page.goto(f"{server}/conv_arithmetic?k=5")
    wait_for_metric(page, "8×5×5")
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Home" in nav and "Conv Arithmetic" in nav
    assert metric_values(page)[0] == "8×5×5"


def test_kernel_size_changes_output(server, page):
    page.goto(f"{server}/conv_arithmetic")
    wait_for_metric(page, "8×7×7")
    kernel = page.get_by_label("Kernel", exact=True)
    kernel.fill("5")
    kernel.press("Enter")
    wait_for_metric(page, "8×5×5")
    assert metric_values(page)[0] == "8×5×5"
    page.wait_for_function("() => window.location.search.includes('k=5')", polling=250)  # written at run end
    page.get_by_test_id("stPlotlyChart").first.wait_for(timeout=E2E_WAIT_MS)
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/conv_arithmetic.png", full_page=True)


def test_pasted_link_reproduces_state(server, page):
    page.goto(f"{server}/conv_arithmetic?k=5,5,5&groups=2&cin=4")
    wait_for_metric(page, "8×5×5")
    assert metric_values(page)[:2] == ["8×5×5", "408"]  # 8·(4/2)·25 + 8
    assert page.get_by_text("checked by PyTorch").first.is_visible()


def test_bad_combination_shows_error_not_traceback(server, page):
    page.goto(f"{server}/conv_arithmetic?groups=2")
    page.get_by_test_id("stAlert").first.wait_for(timeout=E2E_WAIT_MS)
    assert "divisible by groups" in page.get_by_test_id("stAlert").first.inner_text()
    assert page.get_by_test_id("stException").count() == 0
