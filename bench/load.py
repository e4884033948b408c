"""Load: N concurrent browser sessions (Playwright contexts in Debian chromium) on Conv Arithmetic while T
trainings run in the Training Lab of T other browsers, with the job limiter capped at C.

Each session sets its own kernel size on a 9×9 input and must see its own output shape, never another's.
Latency = fill the Kernel input + Enter until the Output shape metric shows the expected value. Printed side
by side: the same interaction on the idle server (1 session, no training) and under load. The training
browsers report what their pages show: running (the loss curve grows) or queued at a position, and how many
trainings the page says are running; that count must never exceed the cap.

    python -m bench.load                      # 20 sessions, 3 interactions each, 4 trainings, cap 2
    python -m bench.load -n 5 -r 2 -t 0
    python -m bench.load --json out.json      # also write the figures (the CI load test reads them)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, LOSS_POINTS, rss_mib, start_server as start_app, stop_server  # noqa: E402

KERNELS = (1, 2, 4, 5, 6, 7)  # 3 is the page default: setting it would change nothing
SIZE = 9


def expected(k: int) -> str:
    """Conv Arithmetic's defaults: 8 output channels, stride 1, padding 1: (9 + 2 − k) + 1 per axis."""
    n = SIZE + 2 - k + 1
    return f"8×{n}×{n}"


QUEUED = re.compile(r"position (\d+) in the queue \((\d+) of (\d+) trainings running\)")
WAIT_JS = ("t => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
           ".slice(0, 1).some(e => e.innerText.trim() === t)")


async def session(browser, url: str, i: int, rounds: int, start: asyncio.Event, ready: list,
                  timeout_ms: int, gate: asyncio.Semaphore) -> dict:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = await ctx.new_page()
        async with gate:  # first renders a few at a time (2 cores): the load phase is the interactions
            pg.set_default_timeout(4 * timeout_ms)
            await pg.goto(f"{url}/conv_arithmetic?size={SIZE}")
            await pg.wait_for_function(WAIT_JS, arg=expected(3), polling=100)
        pg.set_default_timeout(timeout_ms)
        kernel = pg.get_by_label("Kernel", exact=True)
        ready.append(i)
        await start.wait()
        latencies, k = [], 3
        for r in range(rounds):
            k = KERNELS[(i + r) % len(KERNELS)]
            t0 = time.perf_counter()
            await kernel.fill(str(k))
            await kernel.press("Enter")
            try:
                await pg.wait_for_function(WAIT_JS, arg=expected(k), polling=20)
            except Exception:  # noqa: BLE001 - a timed-out update is a result here, reported as such
                return dict(i=i, k=k, latencies=latencies, shown=None, field=None, own=False, timed_out=True)
            latencies.append(time.perf_counter() - t0)
        await asyncio.sleep(1.0)  # let every other session's last rerun land: ours must not change
        shown = (await pg.get_by_test_id("stMetricValue").first.inner_text()).strip()
        field = await kernel.input_value()
        return dict(i=i, k=k, latencies=latencies, shown=shown, field=field, timed_out=False,
                    own=shown == expected(k) and field == str(k))
    finally:
        await ctx.close()


async def page_state(pg) -> tuple[str, int | None, int | None]:
    """('queued', position, running) from the waiting notice, ('running', None, None) once the curve has a
    point, or ('starting', None, None)."""
    notes = await pg.get_by_test_id("stAlertContentInfo").all_inner_texts()
    for text in notes:
        if m := QUEUED.search(text):
            return "queued", int(m[1]), int(m[2])
    return ("running" if await pg.evaluate(LOSS_POINTS) > 0 else "starting"), None, None


async def trainer(browser, url: str, i: int, known: asyncio.Event, stop: asyncio.Event, timeout_ms: int) -> dict:
    """One student's Training Lab: press Start, set ``known`` once the page shows running or queued, then
    watch the page until ``stop``; returns what it saw."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    seen = dict(i=i, first=None, position=None, running_counts=[], points=0)
    try:
        pg = await ctx.new_page()
        pg.set_default_timeout(4 * timeout_ms)
        await pg.goto(f"{url}/training_lab?data=shapes&model=SmallResNet&epochs=50")
        main = pg.get_by_test_id("stMain")
        await main.get_by_role("button", name="Start", exact=True).click()
        deadline = time.perf_counter() + 4 * timeout_ms / 1000
        while seen["first"] is None and time.perf_counter() < deadline:
            state, position, running = await page_state(pg)
            if state != "starting":
                seen.update(first=state, position=position)
                known.set()
            await asyncio.sleep(0.2)
        known.set()  # (or gave up: the result says first=None)
        while not stop.is_set():
            state, _, running = await page_state(pg)
            if running is not None:
                seen["running_counts"].append(running)
            await asyncio.sleep(0.5)
        seen["points"] = await pg.evaluate(LOSS_POINTS)
        return seen
    finally:
        await ctx.close()


async def drive(url: str, n: int, rounds: int, trainings: int = 0, timeout_ms: int = 90_000) -> dict:
    """Start the trainings one after another (so their queue positions are known), open n sessions, then
    let them all interact at once. Returns {"sessions": [...], "trainers": [...]}."""
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            stop, trainers = asyncio.Event(), []
            for t in range(trainings):
                known = asyncio.Event()
                trainers.append(asyncio.create_task(trainer(browser, url, t, known, stop, timeout_ms)))
                await asyncio.wait([trainers[-1], asyncio.create_task(known.wait())],
                                   return_when=asyncio.FIRST_COMPLETED)
            start, ready = asyncio.Event(), []
            gate = asyncio.Semaphore(4)
            tasks = [asyncio.create_task(session(browser, url, i, rounds, start, ready, timeout_ms, gate))
                     for i in range(n)]
            while len(ready) < n and not any(t.done() for t in tasks):  # all pages loaded, then go together
                await asyncio.sleep(0.1)
            start.set()
            sessions = await asyncio.gather(*tasks)
            stop.set()
            return dict(sessions=sessions, trainers=await asyncio.gather(*trainers))
        finally:
            await browser.close()


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    p50 = statistics.median(xs)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    return p50, p95


def start_server(max_jobs: int) -> tuple[subprocess.Popen, str]:
    # first-come (no turns, CNNVIZ_SLICE_S=0): this measures the limiter's queue; turns have bench/turns_ab.py
    return start_app({"CNNVIZ_MAX_JOBS": str(max_jobs), "CNNVIZ_SLICE_S": "0"})


def run(sessions: int, rounds: int, trainings: int, cap: int) -> dict:
    """The whole measurement on a fresh server; the figures as a dict."""
    proc, url = start_server(cap)
    try:
        asyncio.run(drive(url, 1, 1))  # warm-up: imports, first render
        idle = asyncio.run(drive(url, 1, 2 * rounds))["sessions"][0]
        rss_idle = rss_mib(proc.pid)
        t1 = time.perf_counter()
        loaded = asyncio.run(drive(url, sessions, rounds, trainings))
        wall = time.perf_counter() - t1
        rss_loaded = rss_mib(proc.pid)
    finally:
        stop_server(proc)
    lat = [x for s in loaded["sessions"] for x in s["latencies"]]
    (i50, i95), (l50, l95) = percentiles(idle["latencies"]), percentiles(lat or [float("nan")])
    return dict(sessions=sessions, rounds=rounds, trainings=trainings, cap=cap, cores=os.cpu_count(),
                idle_p50=i50, idle_p95=i95, loaded_p50=l50, loaded_p95=l95, interactions=len(lat), wall_s=wall,
                mixed=[s["i"] for s in loaded["sessions"] if not s["own"] and not s["timed_out"]],
                timed_out=[s["i"] for s in loaded["sessions"] if s["timed_out"]],
                trainers=loaded["trainers"], rss_idle_mib=rss_idle, rss_loaded_mib=rss_loaded)


def report(r: dict) -> None:
    print(f"{r['cores']} CPU cores; {r['trainings']} trainings with the limiter capped at {r['cap']}")
    print(f"{'':28}{'interactions':>13}{'p50 s':>9}{'p95 s':>9}")
    print(f"{'idle (1 session)':28}{2 * r['rounds']:>13}{r['idle_p50']:>9.3f}{r['idle_p95']:>9.3f}")
    label = f"{r['sessions']} sessions + trainings"
    print(f"{label:28}{r['interactions']:>13}{r['loaded_p50']:>9.3f}{r['loaded_p95']:>9.3f}")
    print(f"ratio loaded/idle: p50 ×{r['loaded_p50'] / r['idle_p50']:.1f}, p95 ×{r['loaded_p95'] / r['idle_p95']:.1f};"
          f" load phase wall {r['wall_s']:.1f} s")
    print(f"sessions showing only their own state: {r['sessions'] - len(r['mixed'])}/{r['sessions']}"
          + (f"  MIXED: {r['mixed']}" if r["mixed"] else ""))
    print(f"sessions whose update did not arrive in time: {len(r['timed_out'])} {r['timed_out']}")
    for t in r["trainers"]:
        counts = t["running_counts"]
        print(f"training {t['i'] + 1}: first {t['first']}" + (f" at position {t['position']}" if t["position"] else "")
              + (f", pages said {min(counts)}–{max(counts)} of {r['cap']} running" if counts else "")
              + f", {t['points']} curve points at the end")
    print(f"server RSS: idle {r['rss_idle_mib']:.0f} MiB, under load {r['rss_loaded_mib']:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--sessions", type=int, default=20)
    ap.add_argument("-r", "--rounds", type=int, default=3, help="interactions per session")
    ap.add_argument("-t", "--trainings", type=int, default=4, help="Training Lab browsers that press Start")
    ap.add_argument("-c", "--cap", type=int, default=2, help="the job limiter's cap (CNNVIZ_MAX_JOBS)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    r = run(args.sessions, args.rounds, args.trainings, args.cap)
    report(r)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
