"""Classroom: a link copied from one browser reproduces the picture in another; ?present=1 is projector-ready."""
import os
from tests.support.browser import E2E_WAIT_MS



def metric_values(page):
    return page.get_by_test_id("stMetricValue").all_inner_texts()


def wait_for_metric(page, text):
    page.wait_for_function("t => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                           ".some(e => e.innerText.trim() === t)", arg=text, timeout=E2E_WAIT_MS, polling=250)


def test_shared_link_opens_same_state_in_a_fresh_browser(server, browser, page):
    page.goto(f"{server}/conv_arithmetic")
    wait_for_metric(page, "8×7×7")
    kernel = page.get_by_label("Kernel", exact=True)
    kernel.fill("4")
    kernel.press("Enter")
    wait_for_metric(page, "8×6×6")  # (7 + 2·1 − 4) / 1 + 1 = 6
    page.wait_for_function("() => /[?&]k=4(,|%2C|&|$)/i.test(location.search)", timeout=E2E_WAIT_MS, polling=250)
    page.get_by_test_id("stSidebar").get_by_test_id("stPopover").get_by_role("button").click()
    box = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    page.wait_for_function("() => /[?&]k=4(,|%2C|&|$)/i.test("
                           "document.querySelector('[data-testid=stPopoverBody] [data-testid=stCode]')?.innerText)",
                           timeout=E2E_WAIT_MS, polling=250)
    link = box.inner_text().strip()  # what "Copy link" puts on the clipboard
    assert link.startswith(f"{server}/conv_arithmetic?"), link
    other = browser.new_context(viewport={"width": 1600, "height": 1000})  # no cookies, no session shared
    try:
        pg = other.new_page()
        pg.set_default_timeout(E2E_WAIT_MS)
        pg.goto(link)
        wait_for_metric(pg, metric_values(page)[0])
        assert metric_values(pg)[:2] == metric_values(page)[:2]
        assert pg.get_by_label("Kernel", exact=True).input_value() == "4"
    finally:
        other.close()


def test_presenter_mode_hides_sidebar_and_enlarges_metrics(server, browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(E2E_WAIT_MS)
        pg.goto(f"{server}/conv_arithmetic?present=1")
        wait_for_metric(pg, "8×7×7")
        assert not pg.get_by_test_id("stSidebar").is_visible()
        size = pg.get_by_test_id("stMetricValue").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 48, size
        pg.get_by_test_id("stPlotlyChart").first.wait_for(timeout=E2E_WAIT_MS)
        if os.environ.get("CNNVIZ_SCREENSHOTS"):
            pg.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/presenter_conv_arithmetic.png")
    finally:
        ctx.close()
