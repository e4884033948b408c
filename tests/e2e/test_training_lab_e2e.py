"""Training Lab in chromium: Start a run, see the loss curve grow while it trains, press Stop."""
import os

from playwright.sync_api import expect

from tests.support.browser import E2E_WAIT_MS, LOSS_POINTS


def test_start_grows_the_curve_and_stop_stops(server, page):
    page.goto(f"{server}/training_lab?data=shapes&model=SmallResNet&epochs=30")
    # Scope to the page body: while a script runs, Streamlit's header shows its own "Stop" button.
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Start", exact=True).wait_for()
    main.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function(f"() => ({LOSS_POINTS})() >= 2", timeout=E2E_WAIT_MS)
    first = page.evaluate(LOSS_POINTS)
    page.wait_for_function(f"() => ({LOSS_POINTS})() > {first}", timeout=E2E_WAIT_MS)  # it grows without a click
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/training_lab.png", full_page=True)
    main.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Stopped after epoch").wait_for(timeout=E2E_WAIT_MS)
    # Start comes back on the app rerun that follows the job's end (within one 1.5 s poll of the fragment)
    expect(main.get_by_role("button", name="Start", exact=True)).to_be_enabled(timeout=E2E_WAIT_MS)
    stopped = page.evaluate(LOSS_POINTS)
    page.wait_for_timeout(2000)
    assert page.evaluate(LOSS_POINTS) == stopped  # nothing trains any more
    assert page.get_by_test_id("stException").count() == 0


def test_a_reload_keeps_control_and_another_browser_gets_a_notice(server, page, browser):
    """Two Chromium contexts (two students' browsers). A starts a training; A's browser keeps the owner token in a
    same-site cookie (never in the URL), so A's reload reconnects with Stop. B opens A's exact URL: a notice,
    none of A's curves, Start of its own; A's training goes on until A stops it."""
    # shapes on SmallResNet: long enough to outlast the test (50 epochs of digits once ended before Stop)
    page.goto(f"{server}/training_lab?data=shapes&model=SmallResNet&epochs=50")
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('train_job=')")
    page.wait_for_function(f"() => ({LOSS_POINTS})() >= 1", timeout=E2E_WAIT_MS)
    page.wait_for_function("() => document.cookie.includes('cnnviz_owner=')")  # written by the sidebar's frame
    owner = next(c for c in page.context.cookies() if c["name"] == "cnnviz_owner")
    assert owner["sameSite"] == "Strict" and owner["value"] not in page.url and len(owner["value"]) >= 43
    link = page.url
    page.reload()                                                            # a new session of A's browser
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("button", name="Stop", exact=True)).to_be_enabled(timeout=E2E_WAIT_MS)
    first = page.evaluate(LOSS_POINTS)
    page.wait_for_function(f"() => ({LOSS_POINTS})() > {first}", timeout=E2E_WAIT_MS)  # the same job, still training
    other = browser.new_context(viewport={"width": 1600, "height": 1000})   # B: no cookies shared
    try:
        b = other.new_page()
        b.set_default_timeout(E2E_WAIT_MS)
        b.goto(link)
        b.get_by_text("That training belongs to another session").wait_for()
        b_main = b.get_by_test_id("stMain")
        expect(b_main.get_by_role("button", name="Start", exact=True)).to_be_enabled(timeout=E2E_WAIT_MS)
        expect(b_main.get_by_role("button", name="Stop", exact=True)).to_be_disabled(timeout=E2E_WAIT_MS)
        assert b.evaluate(LOSS_POINTS) == 0 and b.get_by_text("Download checkpoint").count() == 0
        assert "train_job" not in b.url and b.get_by_test_id("stException").count() == 0
    finally:
        other.close()
    before = page.evaluate(LOSS_POINTS)
    page.wait_for_function(f"() => ({LOSS_POINTS})() > {before}", timeout=E2E_WAIT_MS)  # A's training goes on
    main.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Stopped after epoch").wait_for(timeout=E2E_WAIT_MS)
    assert page.get_by_test_id("stException").count() == 0
