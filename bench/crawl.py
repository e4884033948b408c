"""Crawl every page of the app, and every Lessons link, in Debian's headless chromium at 1400×900 and, in presenter
mode (?present=1), at 1280×720: operate every control of each page (a lesson link is checked as it opens, with its
step's example), collect tracebacks, cut text, formulas and code blocks wider than their column, a page wider than
the window and, in presenter mode, text and chart text under 16 px (tests/support/crawler.py). Prints a table and,
last, one line:

    crawl: <exceptions> exceptions, <truncated> truncated (<n> clipped formulas, <n> clipped code blocks,
    <n> truncated labels, <n> small text, <n> wider than the window, <n> below the fold), <steps> steps, p95 <s> s

("truncated" counts every layout finding; "truncated labels" is cut or ellipsised text of any other element and a
word broken over lines; "below the fold": a page's main figure starting below 2/3 of the window in presenter mode.)

    python -m bench.crawl                                  # all 13 pages and 18 lesson links × both viewports
    python -m bench.crawl --pages conv_arithmetic --viewports present --no-lessons
    python -m bench.crawl --max-steps 20 --max-options 4  # a quicker pass
    python -m bench.crawl --server http://127.0.0.1:8501  # an app already running
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402
from tests.support.crawler import (PAGES, VIEWPORTS, Crawler, describe, format_table, lesson_links,  # noqa: E402
                                   summary_line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", nargs="+", default=list(PAGES), choices=list(PAGES), metavar="PAGE",
                    help=f"pages to crawl (default all): {' '.join(PAGES)}")
    ap.add_argument("--viewports", nargs="+", default=list(VIEWPORTS), choices=list(VIEWPORTS))
    ap.add_argument("--max-steps", type=int, default=None, help="cap the steps per page and viewport")
    ap.add_argument("--no-lessons", action="store_true", help="crawl the pages only, not the Lessons links")
    ap.add_argument("--lesson-steps", type=int, default=0,
                    help="controls operated on each lesson link after it opens (default 0: checked as it opens)")
    ap.add_argument("--max-options", type=int, default=None, help="cap the options tried per selectbox/radio/tabs")
    ap.add_argument("--shots", default=None, help="folder for the screenshots (default: a new temp folder)")
    ap.add_argument("--server", default=None, help="URL of a running app (default: start one on 127.0.0.1)")
    ap.add_argument("--json", default=None, help="also write every finding and step time here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every step")
    a = ap.parse_args(argv)

    # `kill <pid>` (SIGTERM) unwinds like Ctrl-C, so the finally below stops the server it started: no orphan
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shots = Path(a.shots or tempfile.mkdtemp(prefix="cnnviz-crawl-"))
    shots.mkdir(parents=True, exist_ok=True)
    proc = None
    if a.server:
        url = a.server.rstrip("/")
    else:
        proc, url = start_server()
    from playwright.sync_api import sync_playwright
    results = []
    t0 = time.time()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            crawler = Crawler(browser, url, shots, max_steps=a.max_steps, max_options=a.max_options,
                              log=print if a.verbose else None)
            lessons = [] if a.no_lessons else [(label, name, q) for label, name, q in lesson_links() if name in a.pages]
            todo = [(name, name, None) for name in a.pages] + lessons
            for vp in a.viewports:
                for label, name, query in todo:
                    crawler.max_steps = a.max_steps if query is None else a.lesson_steps
                    try:
                        r = crawler.crawl(name, vp, query, label)
                    except Exception as e:  # e.g. the page never became idle: report it, crawl the next
                        print(f"{label} {vp}: crawl aborted: {type(e).__name__}: {str(e).splitlines()[0]}", flush=True)
                        continue
                    results.append(r)
                    print(f"{label} {vp}: {r.steps} steps, {len(r.exceptions)} exceptions, "
                          f"{len(r.truncated)} truncated ({time.time() - t0:.0f} s)", flush=True)
                    if r.exceptions or r.truncated:
                        print(describe(r), flush=True)
            browser.close()
    finally:
        if proc is not None:
            stop_server(proc)
    if a.json:
        Path(a.json).write_text(json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False))
    print(f"screenshots: {shots}")
    print(format_table(results))
    print(summary_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
