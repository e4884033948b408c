"""Server CPU per rerun, page by page, without a browser: one protocol client (bench/classroom_load.py's Client,
Streamlit's own BackMsg/ForwardMsg) opens each page, then changes one of its widgets at a time (seeded; buttons
that start work — Start, Train, Run search, Distil — and uploads excluded) and reads the server process's own CPU
time (utime + stime, children excluded) around each rerun. A quicker, browser-free companion of page_cost.py:
the same server-side work, none of Chromium's.

    python -m bench.rerun_cost                      # every page, 8 widget changes each
    python -m bench.rerun_cost --pages conv_animation,feature_maps -k 20
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics

from bench.classroom_load import Client, cpu_s, on_server, pct, user_key  # noqa: E402

PAGES = ("home", "lessons", "quiz", "conv_arithmetic", "conv_animation", "architecture_lab", "training_lab",
         "feature_maps", "saliency", "network_explorer", "compression", "metrics_losses")
NOT_CLICKED = re.compile(r"start|train|run|search|distil|stop|resume|upload|download|reset|apply|undo", re.I)


async def measure(url: str, pid: int, pages, k: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    c = Client(url, "probe")
    await c.connect()
    rows = []
    try:
        for page in pages:  # warm-up: imports, caches, first figures
            await c.rerun(page=page)
        for page in pages:
            c0 = cpu_s(pid)
            wall = await c.rerun(page=page)
            rows.append(dict(page=page, what="open", cpu_ms=(cpu_s(pid) - c0) * 1000, wall_ms=wall * 1000))
            for _ in range(k):
                choices = [w for w in c.widgets.items() if not NOT_CLICKED.search(user_key(w[0]) + " " +
                                                                                  getattr(w[1][1], "label", ""))]
                states = [(wid, t, p, c.random_state(wid, t, p, rng)) for wid, (t, p) in choices]
                states = [s for s in states if s[3] is not None and s[1] != "button"]
                if not states:
                    break
                wid, etype, proto, state = rng.choice(states)
                await asyncio.sleep(0.2)
                c0 = cpu_s(pid)
                wall = await c.rerun([state])
                rows.append(dict(page=page, what=f"{etype} {user_key(wid)}", cpu_ms=(cpu_s(pid) - c0) * 1000,
                                 wall_ms=wall * 1000))
    finally:
        await c.close()
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("-k", type=int, default=8, help="widget changes per page")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    rows = on_server(measure, a.pages.split(","), a.k, a.seed)
    print(f"{'page':18s} {'open ms':>8s} {'changes':>8s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}  slowest")
    for page in dict.fromkeys(r["page"] for r in rows):
        mine = [r for r in rows if r["page"] == page]
        ch = [r for r in mine if r["what"] != "open"]
        cpus = [r["cpu_ms"] for r in ch] or [float("nan")]
        worst = max(ch, key=lambda r: r["cpu_ms"])["what"] if ch else ""
        print(f"{page:18s} {mine[0]['cpu_ms']:8.0f} {len(ch):8d} {statistics.median(cpus):10.0f} "
              f"{pct(cpus, 0.95):8.0f} {max(cpus):8.0f}  {worst}")
    widget = [r["cpu_ms"] for r in rows if r["what"] != "open"]
    print(f"{len(widget)} widget changes: server CPU median {statistics.median(widget):.0f} ms, "
          f"p95 {pct(widget, 0.95):.0f} ms")
    print(f"p95_server_ms_per_rerun: {pct(widget, 0.95):.0f}")


if __name__ == "__main__":
    main()
