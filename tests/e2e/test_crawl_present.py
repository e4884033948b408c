"""The crawl of test_crawl.py in presenter mode (?present=1) at 1280×720, in its own file so that
`--dist loadfile` runs it beside the 1400×900 crawl; each page's Lessons links are opened and checked here too."""
import pytest

from test_crawl import PRESENT_STEPS, cases, crawl_and_check


@pytest.mark.parametrize("name,viewport", list(cases(("present",))))
def test_crawl_present(server, browser, name, viewport):
    crawl_and_check(server, browser, name, viewport, PRESENT_STEPS, lessons=True)
