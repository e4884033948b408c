"""The crawler (tests/support/crawler.py) on every page at 1400×900 and in presenter mode (?present=1) at
1280×720. Each (page, viewport) must show no traceback, no cut text, no formula or code block wider than its
column, no content wider than the window and, in presenter mode, no text or chart text under 16 px. The presenter
crawl of a page also opens each Lessons link to that page (checked as it opens: the step's example and banner), so
every lesson link is crawled without a browser session of its own.

CI budget: the first CNNVIZ_CRAWL_STEPS controls' steps per page (default 2, presenter mode
CNNVIZ_CRAWL_PRESENT_STEPS, default 1; options per control capped at
CNNVIZ_CRAWL_OPTIONS, default 2) — `python -m bench.crawl` is the complete crawl. The (page, viewport) pairs
that fail today are marked xfail (strict=False) in KNOWN_FAILING with what they showed; remove an entry with
its fix (an XPASS in the output says it is fixed). Screenshots: tests/e2e/artifacts/crawl/."""
import os

import pytest

from tests.support.crawler import PAGES, VIEWPORTS, Crawler, describe, lesson_links

STEPS = int(os.environ.get("CNNVIZ_CRAWL_STEPS", "2"))
# Presenter mode: the page as loaded and one control (fonts and cut text are what it adds; the 1400×900 crawl
# operates two). All 12 pages in both viewports would otherwise add ~7 minutes to a 2-core CI run.
PRESENT_STEPS = int(os.environ.get("CNNVIZ_CRAWL_PRESENT_STEPS", "1"))
OPTIONS = int(os.environ.get("CNNVIZ_CRAWL_OPTIONS", "2"))
SHOTS = os.path.join(os.path.dirname(__file__), "artifacts", "crawl")

# (page, viewport): what the crawl found on the day the crawler landed (see the crawl report).
KNOWN_FAILING: dict = {}  # the seven presenter-mode pairs of the first crawl are fixed


def cases(viewports=tuple(VIEWPORTS)):
    for vp in viewports:
        for name in PAGES:
            reason = KNOWN_FAILING.get((name, vp))
            # a known-failing pair costs CI minutes and proves nothing: bench/crawl.py crawls it (CNNVIZ_CRAWL_ALL=1 here)
            marks = [pytest.mark.skip(reason=f"known: {reason}")] if reason and not os.environ.get(
                "CNNVIZ_CRAWL_ALL") else [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            yield pytest.param(name, vp, id=f"{name}-{vp}", marks=marks)


def crawl_and_check(server, browser, name, viewport, steps=STEPS, lessons=False):
    """Crawl page ``name``; ``lessons``: then open each Lessons link to it (checked as it opens)."""
    os.makedirs(SHOTS, exist_ok=True)
    crawler = Crawler(browser, server, SHOTS, max_steps=steps, max_options=OPTIONS)
    r = crawler.crawl(name, viewport)
    assert r.steps > 0 or name in ("home", "lessons"), f"no control operated on {name}: {r.skipped}"
    results = [r]
    crawler.max_steps = 0
    for label, page, query in lesson_links() if lessons else ():
        if page == name:
            results.append(crawler.crawl(page, viewport, query, label))
    bad = [x for x in results if x.exceptions or x.truncated]
    if bad:
        pytest.fail("\n".join(f"{x.page} {viewport}: {len(x.exceptions)} exceptions, {len(x.truncated)} truncated:\n"
                              f"{describe(x)}" for x in bad), pytrace=False)


# The presenter viewport runs from test_crawl_present.py: a file per viewport lets `--dist loadfile` crawl both at once.
@pytest.mark.parametrize("name,viewport", list(cases(("normal",))))
def test_crawl(server, browser, name, viewport):
    crawl_and_check(server, browser, name, viewport)
