"""Training Lab in chromium: Start a run, see the loss curve grow while it trains, press Stop."""
import os

from playwright.sync_api import expect

from browser import LOSS_POINTS


def test_start_grows_the_curve_and_stop_stops(server, page):
    page.goto(f"{server}/training_lab?data=shapes&model=SmallResNet&epochs=30")
    # Scope to the page body: while a script runs, Streamlit's header shows its own "Stop" button.
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Start", exact=True).wait_for()
    main.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function(f"() => ({LOSS_POINTS})() >= 2", timeout=120_000)
    first = page.evaluate(LOSS_POINTS)
    page.wait_for_function(f"() => ({LOSS_POINTS})() > {first}", timeout=60_000)  # it grows without a click
    if os.environ.get("CNNVIZ_SCREENSHOTS"):
        page.screenshot(path=os.environ["CNNVIZ_SCREENSHOTS"] + "/training_lab.png", full_page=True)
    main.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Stopped after epoch").wait_for(timeout=60_000)
    # Start comes back on the app rerun that follows the job's end (within one 1.5 s poll of the fragment)
    expect(main.get_by_role("button", name="Start", exact=True)).to_be_enabled(timeout=30_000)
    stopped = page.evaluate(LOSS_POINTS)
    page.wait_for_timeout(2000)
    assert page.evaluate(LOSS_POINTS) == stopped  # nothing trains any more
    assert page.get_by_test_id("stException").count() == 0
