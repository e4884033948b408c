"""Load: N concurrent browser sessions (Playwright contexts in Debian chromium) on Conv Arithmetic.

Each session sets its own kernel size on a 9×9 input and must see its own output shape, never another's.
Latency = fill the Kernel input + Enter until the Output shape metric shows the expected value. Printed side
by side: the same interaction on the idle server (1 session) and under N sessions.

    python bench/load.py            # 20 sessions, 3 interactions each
    python bench/load.py -n 5 -r 2
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CNNVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KERNELS = (1, 2, 4, 5, 6, 7)  # 3 is the page default: setting it would change nothing
SIZE = 9


def expected(k: int) -> str:
    """Conv Arithmetic's defaults: 8 output channels, stride 1, padding 1: (9 + 2 − k) + 1 per axis."""
    n = SIZE + 2 - k + 1
    return f"8×{n}×{n}"


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


async def drive(url: str, n: int, rounds: int, timeout_ms: int = 90_000) -> list[dict]:
    """Open n sessions, then let them all interact at once; returns one dict per session."""
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            start, ready = asyncio.Event(), []
            gate = asyncio.Semaphore(4)
            tasks = [asyncio.create_task(session(browser, url, i, rounds, start, ready, timeout_ms, gate))
                     for i in range(n)]
            while len(ready) < n and not any(t.done() for t in tasks):  # all pages loaded, then go together
                await asyncio.sleep(0.1)
            start.set()
            return await asyncio.gather(*tasks)
        finally:
            await browser.close()


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    p50 = statistics.median(xs)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    return p50, p95


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit server did not start within 60 s")


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--sessions", type=int, default=20)
    ap.add_argument("-r", "--rounds", type=int, default=3, help="interactions per session")
    args = ap.parse_args()
    proc, url = start_server()
    try:
        asyncio.run(drive(url, 1, 1))  # warm-up: imports, first render
        t0 = time.perf_counter()
        idle = asyncio.run(drive(url, 1, 2 * args.rounds))
        idle_lat = idle[0]["latencies"]
        rss_idle = rss_mib(proc.pid)
        t1 = time.perf_counter()
        loaded = asyncio.run(drive(url, args.sessions, args.rounds))
        wall = time.perf_counter() - t1
        rss_loaded = rss_mib(proc.pid)
        lat = [x for s in loaded for x in s["latencies"]]
        (i50, i95), (l50, l95) = percentiles(idle_lat), percentiles(lat or [float("nan")])
        mixed = [s for s in loaded if not s["own"] and not s["timed_out"]]
        late = [s["i"] for s in loaded if s["timed_out"]]
        print(f"server {url}, {os.cpu_count()} CPU cores; idle run took {t1 - t0:.1f} s")
        print(f"{'':24}{'interactions':>13}{'p50 s':>9}{'p95 s':>9}")
        print(f"{'idle (1 session)':24}{len(idle_lat):>13}{i50:>9.3f}{i95:>9.3f}")
        print(f"{f'{args.sessions} sessions at once':24}{len(lat):>13}{l50:>9.3f}{l95:>9.3f}")
        print(f"ratio loaded/idle: p50 ×{l50 / i50:.1f}, p95 ×{l95 / i95:.1f}; load phase wall {wall:.1f} s")
        print(f"sessions showing their own state: {args.sessions - len(mixed)}/{args.sessions}"
              + (f"  MIXED: {mixed}" if mixed else ""))
        print(f"sessions whose update did not arrive within 90 s: {len(late)} {late}")
        print(f"server RSS: idle {rss_idle:.0f} MiB, after load {rss_loaded:.0f} MiB")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
