"""A fresh server (a restart, or the replica a student fails over to) reached first by deep links, several at
once: every page comes up through app.py's navigation, none with an error."""
from tests.support.browser import E2E_WAIT_MS, start_server, stop_server

PAGES = ("training_lab", "architecture_lab?preset=LeNet-5", "conv_animation", "lessons")


# The four sessions' first runs import torch and the engine at the same moment: without cnnviz.warm first in every
# page, three of them got half-initialised modules and a traceback, and the server stayed broken (the flakiness
# of stops 21-23). tests/unit/house/test_warm_imports.py replays that race without a browser.
def test_first_visitors_by_deep_links_at_once_get_the_app(browser):
    proc, url = start_server()
    try:
        contexts = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in PAGES]
        pages = [c.new_page() for c in contexts]
        for page, path in zip(pages, PAGES):  # all four sessions start before any has finished its first run
            page.set_default_timeout(E2E_WAIT_MS)
            page.goto(f"{url}/{path}", wait_until="commit")
        for page in pages:
            nav = page.get_by_test_id("stSidebarNav")
            nav.get_by_text("Convolution Animation").wait_for()  # app.py's titles, not the pages/ file names
            assert nav.get_by_text("training lab", exact=True).count() == 0
            page.get_by_test_id("stMain").locator("h1").first.wait_for()
            assert page.get_by_test_id("stException").count() == 0
        for c in contexts:
            c.close()
    finally:
        stop_server(proc)
