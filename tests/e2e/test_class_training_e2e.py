"""A class trains together, in chromium: three students' browsers (three contexts: no shared cookies) open the
Training Lab on digits with the default model and press Start within one second of each other. The runner
gathers them into one class group: each page says it trains together with 2 classmates, and each sees its own
curve grow (its own job in its own link). Screenshot of one student's page at 1280×720 in presenter mode when
CNNVIZ_SCREENSHOTS names a folder. Then each stops their own run."""
import os
import re
import time

from playwright.sync_api import expect

from tests.support.browser import E2E_WAIT_MS, LOSS_POINTS

STUDENTS = 3
WAIT_MS = 60_000  # once the pages are up: the class trains within seconds
GROUP_LINE = f"Training together with {STUDENTS - 1} classmates"
URL = "/training_lab?data=digits&epochs=50"  # long enough to outlast the test; each student stops at the end


# The page's class-group line (the text of the element that starts with it), or null.
GROUP_TEXT = """line => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stMarkdownContainer] p')]
  .map(p => p.innerText).find(t => t.startsWith(line)) || null"""
# The group line is there and the loss curve has points: their number (else a falsy value: wait on).
READY = f"""line => ({GROUP_TEXT})(line) !== null && ({LOSS_POINTS})()"""
# The loss curve has more than n points (and the group line is still there): the line.
GREW = f"""([line, n]) => ({LOSS_POINTS})() > n && ({GROUP_TEXT})(line)"""
# Press this page's Stop (the Training Lab's, in the main area) when it is enabled; its label is exactly "Stop".
CLICK_STOP = """() => {
  const b = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stButton] button')]
    .find(b => b.querySelector('[data-testid=stMarkdownContainer]')?.innerText.trim() === 'Stop'
      && b.checkVisibility());
  if (b && !b.disabled) b.click();
  return !!b;
}"""


def job_of(page) -> str:
    page.wait_for_function("() => window.location.search.includes('train_job=')", timeout=E2E_WAIT_MS)
    return page.evaluate("() => new URLSearchParams(window.location.search).get('train_job')")


def test_three_students_press_start_together_and_train_as_one_class(server, browser):
    contexts = [browser.new_context(viewport={"width": 1280, "height": 720}) for _ in range(STUDENTS)]
    try:
        pages = [ctx.new_page() for ctx in contexts]
        for i, pg in enumerate(pages):  # the three open at once (a goto that waited for each page's load event
            pg.set_default_timeout(E2E_WAIT_MS)  # opened them one after the other)
            pg.goto(f"{server}{URL}" + ("&present=1" if i == 0 else ""), wait_until="commit")  # the first on a projector
        starts = [pg.get_by_test_id("stMain").get_by_role("button", name="Start", exact=True) for pg in pages]
        for start in starts:
            expect(start).to_be_enabled(timeout=E2E_WAIT_MS)
        buttons = [start.element_handle() for start in starts]
        t0 = time.perf_counter()
        for b in buttons:  # the class presses Start (a DOM click: Playwright's checks before a click take seconds)
            b.evaluate("b => b.click()")
        assert time.perf_counter() - t0 < 1.0, "the three Starts took more than a second"
        jobs = [job_of(pg) for pg in pages]
        assert len(set(jobs)) == STUDENTS  # each student's own job, in their own link

        # Each page says it trains in a class group and its curve has points, then the curve grows without a click.
        # One in-page wait per page and step (a busy page answers each round trip late: no separate probes).
        first = [pg.wait_for_function(READY, arg=GROUP_LINE, timeout=WAIT_MS, polling=200).json_value()
                 for pg in pages]
        for pg, n in zip(pages, first):
            line = pg.wait_for_function(GREW, arg=[GROUP_LINE, n], timeout=WAIT_MS, polling=200).json_value()
            assert re.fullmatch(GROUP_LINE + r" · about \d+ (s|min) left", line), line
            assert pg.get_by_test_id("stException").count() == 0

        if os.environ.get("CNNVIZ_SCREENSHOTS"):  # the presenter's view: the group line above the live curves
            pages[0].get_by_text(GROUP_LINE).first.evaluate("e => e.closest('[data-testid=stAlert]')"
                                                            ".scrollIntoView({block: 'start'})")
            pages[0].wait_for_timeout(500)
            pages[0].screenshot(path=os.path.join(os.environ["CNNVIZ_SCREENSHOTS"], "class_training.png"))

        for pg in pages:  # each student stops their own run (on a busy box it may have finished already)
            assert pg.evaluate(CLICK_STOP), "no Stop button"
        for pg in pages:
            pg.wait_for_function("() => /(Stopped|Finished) after epoch/.test(document.querySelector("
                                 "'[data-testid=stMain]').innerText)", timeout=WAIT_MS, polling=200)
            assert pg.get_by_test_id("stException").count() == 0
    finally:
        for ctx in contexts:
            ctx.close()
