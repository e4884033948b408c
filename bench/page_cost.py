"""Server CPU per interaction: one Chromium (Debian's, via Playwright) goes through a fixed script of typical
interactions on every page — open the page's link, move the first slider one step, press the first number
input's + button (the animation's step button), pick the second option of the first select box, flip the first
switch — and the server process's own CPU time (utime + stime from /proc/<pid>/stat, children such as trainings
excluded) is read before and after each, once the run has finished (its ``script_finished`` ForwardMsg seen on
the page's websocket, then 300 ms without frames). A warm-up pass over every page comes first (imports, caches).

    python -m bench.page_cost
    python -m bench.page_cost --pages conv_arithmetic,quiz
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from bench.classroom_load import OK_FRAGMENT, OK_FULL, cpu_s, on_server, pct  # noqa: E402

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

PAGES = ("home", "lessons", "quiz", "conv_arithmetic", "conv_animation", "architecture_lab", "training_lab",
         "feature_maps", "saliency", "network_explorer", "compression", "metrics_losses")
QUERY = {"conv_arithmetic": "size=9"}
ACTION_MS = 30_000  # finding and clicking a control; a page without one is "skipped" (3 s was too short on a busy box)


class Frames:
    """Counts the page's script runs (successful ``script_finished``) and when the last frame arrived."""

    def __init__(self):
        self.finished, self.last = 0, time.perf_counter()

    def attach(self, pg) -> None:
        def on_ws(ws):
            def frame(payload):
                self.last = time.perf_counter()
                if isinstance(payload, (bytes, bytearray)):
                    m = ForwardMsg()
                    try:
                        m.ParseFromString(bytes(payload))
                    except Exception:  # noqa: BLE001 - not ours to judge here
                        return
                    if m.WhichOneof("type") == "script_finished" and m.script_finished in (OK_FULL, OK_FRAGMENT):
                        self.finished += 1
            ws.on("framereceived", frame)
        pg.on("websocket", on_ws)

    async def settle(self, before: int, timeout: float) -> bool:
        """True once a run finished after ``before`` and 300 ms passed without a frame; False on timeout."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.finished > before and time.perf_counter() - self.last > 0.3:
                return True
            await asyncio.sleep(0.02)
        return False


class Absent(Exception):
    """The page has no such control (checked at once, not after a 30 s wait)."""


async def first(loc):
    if not await loc.count():
        raise Absent()
    return loc.first


async def act(pg, what: str, url: str, page: str):
    main = pg.get_by_test_id("stMain")
    if what == "open link":
        q = QUERY.get(page)
        return await pg.goto(f"{url}/{page}" + (f"?{q}" if q else ""))
    if what == "slider +1":
        s = await first(main.get_by_role("slider").filter(visible=True))
        await s.focus(timeout=ACTION_MS)
        return await s.press("ArrowRight")
    if what == "number + button":
        return await (await first(main.get_by_test_id("stNumberInputStepUp").filter(visible=True))).click(
            timeout=ACTION_MS)
    if what == "select 2nd option":
        await (await first(main.get_by_test_id("stSelectbox").filter(visible=True))).click(timeout=ACTION_MS)
        return await pg.get_by_role("option").nth(1).click(timeout=ACTION_MS)
    if what == "flip switch":
        box = await first(main.get_by_test_id("stCheckbox").filter(visible=True))
        return await box.locator("label").first.click(timeout=ACTION_MS)
    raise ValueError(what)


INTERACTIONS = ("open link", "slider +1", "number + button", "select 2nd option", "flip switch")


async def drive(url: str, pid: int, pages, timeout: float) -> list[dict]:
    from playwright.async_api import async_playwright
    rows = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = await (await browser.new_context(viewport={"width": 1400, "height": 1000})).new_page()
            pg.set_default_timeout(timeout * 1000)
            frames = Frames()
            frames.attach(pg)
            for page in pages:  # warm-up: imports and caches, not measured
                n = frames.finished
                await act(pg, "open link", url, page)
                await frames.settle(n, timeout)
            for page in pages:
                for what in INTERACTIONS:
                    await asyncio.sleep(0.5)
                    n, c0, t0 = frames.finished, cpu_s(pid), time.perf_counter()
                    try:
                        await act(pg, what, url, page)
                    except Exception as e:  # noqa: BLE001 - the page has no such control: skipped
                        rows.append(dict(page=page, what=what, cpu_ms=None, wall_ms=None,
                                         note=f"skipped ({type(e).__name__})"))
                        print(f"  {page} / {what}: skipped ({type(e).__name__})", file=sys.stderr, flush=True)
                        continue
                    done = await frames.settle(n, timeout if what == "open link" else 20)
                    wall = (frames.last - t0) * 1000 if done else None
                    cpu = (cpu_s(pid) - c0) * 1000
                    rows.append(dict(page=page, what=what, cpu_ms=cpu if done else None, wall_ms=wall,
                                     note="" if done else "no rerun"))
                    print(f"  {page} / {what}: server CPU {cpu:.0f} ms, wall {wall or float('nan'):.0f} ms",
                          file=sys.stderr, flush=True)  # progress, for runs cut short
        finally:
            await browser.close()
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args(argv)
    rows = on_server(drive, a.pages.split(","), a.timeout)
    print(f"{'page':18s} {'interaction':20s} {'server CPU ms':>14s} {'wall ms':>9s}")
    for r in rows:
        cpu = f"{r['cpu_ms']:.0f}" if r["cpu_ms"] is not None else "–"
        wall = f"{r['wall_ms']:.0f}" if r["wall_ms"] is not None else "–"
        print(f"{r['page']:18s} {r['what']:20s} {cpu:>14s} {wall:>9s} {r['note']}")
    cpus = [r["cpu_ms"] for r in rows if r["cpu_ms"] is not None]
    widget = [r["cpu_ms"] for r in rows if r["cpu_ms"] is not None and r["what"] != "open link"]
    print(f"{len(cpus)} measured interactions: server CPU median {statistics.median(cpus):.0f} ms, "
          f"p95 {pct(cpus, 0.95):.0f} ms, max {max(cpus):.0f} ms; widget changes only: median "
          f"{statistics.median(widget):.0f} ms, p95 {pct(widget, 0.95):.0f} ms")
    print(f"p95_server_ms_per_interaction: {pct(cpus, 0.95):.0f}")


if __name__ == "__main__":
    main()
