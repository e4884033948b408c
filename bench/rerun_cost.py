"""Server CPU per rerun, page by page, without a browser: one protocol client (bench/classroom_load.py's Client,
Streamlit's own BackMsg/ForwardMsg) opens each page, then changes one of its widgets at a time (seeded; buttons
that start work — Start, Train, Run search, Distil — and uploads excluded) and reads the server process's own CPU
time (utime + stime, children excluded) around each rerun. A quicker, browser-free companion of page_cost.py:
the same server-side work, none of Chromium's.

A *view* (VIEWS) is a page opened at one of its tabs or settings, its changes drawn from its own widgets only; each
view's changes run twice from the same start, with the same seed: the first pass may compute, the second reads what
the first cached ("cached" rows: the goal is p95 ≤ 250 ms of server CPU for a change that reads a cache).

    python -m bench.rerun_cost                      # every page and view, 8 widget changes each
    python -m bench.rerun_cost --pages conv_animation,feature_maps -k 20
    python -m bench.rerun_cost --pages feature_vis,adversarial,cams,embedding,layer_arithmetic
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
from urllib.parse import urlencode

from bench.classroom_load import Client, cpu_s, on_server, pct, user_key  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

PAGES = ("home", "lessons", "quiz", "conv_arithmetic", "conv_animation", "architecture_lab", "training_lab",
         "feature_maps", "saliency", "network_explorer", "compression", "metrics_losses")
VIEWS = {  # name -> (page, query, the widgets (by key) its changes touch[, a button the warm-up presses]): views a
    # page's first look does not show
    "feature_vis": ("feature_maps", {"tab": "Feature visualisation"}, r"^feat_fv_"),
    # its result on screen (Visualise pressed once in the warm-up), the page's other controls changed: the kept result
    "feature_vis_result": ("feature_maps", {"tab": "Feature visualisation", "fv_ch": "1"}, r"^feat_(invert|sample)$",
                           "feat_fv_go"),
    "adversarial": ("saliency", {"tab": "Adversarial"}, r"^sal_(attack|eps|adv_steps|goal)$"),
    "cams": ("saliency", {}, r"^sal_(layer|alpha|which|cls)$"),  # Grad-CAM++ and Score-CAM in the methods' grid
    "embedding": ("feature_maps", {"tab": "Embedding"}, r"^feat_(model|emb.*)$"),
    "layer_arithmetic": ("network_explorer", {"model": "digits_SmallResNet", "every": "1",
                                              "layer": "block 2 · batch norm 1"}, r"^net_(layer|ch|i|j)$"),
}
GOAL_MS = 250  # p95 server CPU of a change that reads a cache
NOT_CLICKED = re.compile(r"start|train|run|search|distil|stop|resume|upload|download|reset|apply|undo", re.I)


def _changes(c: Client, rng: random.Random, only: str | None):
    """The widgets a change may touch (not buttons, not those NOT_CLICKED; a view's own widgets only) with a
    random new state each, in the page's order."""
    choices = [w for w in c.widgets.items() if not NOT_CLICKED.search(user_key(w[0]) + " " +
                                                                    getattr(w[1][1], "label", ""))
               and (only is None or re.search(only, user_key(w[0])))]
    states = [(wid, t, p, c.random_state(wid, t, p, rng)) for wid, (t, p) in choices]
    return [s for s in states if s[3] is not None and s[1] != "button"]


async def _pass(c: Client, pid: int, name: str, k: int, rng: random.Random, only: str | None) -> list[dict]:
    rows = []
    for _ in range(k):
        states = _changes(c, rng, only)
        if not states:
            break
        wid, etype, proto, state = rng.choice(states)
        await asyncio.sleep(0.2)
        c0 = cpu_s(pid)
        wall = await c.rerun([state])
        rows.append(dict(page=name, what=f"{etype} {user_key(wid)}", cpu_ms=(cpu_s(pid) - c0) * 1000,
                         wall_ms=wall * 1000))
    return rows


async def _open(c: Client, page: str, query: str) -> float:
    """Open ``page`` afresh (no widget state kept from before) with ``query``; the rerun's wall seconds."""
    c.page = None  # a page switch: the client drops the old widgets and states
    return await c.rerun(page=page, query=query)


async def measure(url: str, pid: int, pages, k: int, seed: int) -> list[dict]:
    c = Client(url, "probe")
    await c.connect()
    rows = []
    try:
        for name in pages:  # warm-up: imports, caches, first figures
            page, query, _, *press = VIEWS.get(name, (name, {}, None))
            await _open(c, page, urlencode(query))
            for button in press:  # work the view shows once done (a visualisation): kept by the app
                await c.rerun([WidgetState(id=c.find(rf"^{button}$", "button")[0][0], trigger_value=True)])
        for name in pages:
            page, query, only, *_ = VIEWS.get(name, (name, {}, None))
            c0 = cpu_s(pid)
            wall = await _open(c, page, urlencode(query))
            rows.append(dict(page=name, what="open", cpu_ms=(cpu_s(pid) - c0) * 1000, wall_ms=wall * 1000))
            rows += await _pass(c, pid, name, k, random.Random(f"{seed}-{name}"), only)
            if name in VIEWS:  # the same changes again from the same start: now they read what the first cached
                await _open(c, page, urlencode(query))
                rows += await _pass(c, pid, f"{name} (cached)", k, random.Random(f"{seed}-{name}"), only)
        if c.exceptions:
            print("exceptions:", c.exceptions[:3])
    finally:
        await c.close()
    return rows


def summary(rows: list[dict], by: str = "page", name: str = "p95_server_ms_per_rerun") -> float:
    """Print one line per group of ``rows`` (by ``by``: its open's server CPU, its changes' count, median, p95 and
    max, and its slowest change), then every change's median and p95 and a last line ``name: p95`` for scripts.
    Rows are dicts with ``by``, ``what`` ("open" or the change) and ``cpu_ms``. Returns the p95 of every change.
    bench/photo_kernels_cost.py prints its table with this too."""
    print(f"{'change' if by == 'what' else by:28s} {'open ms':>8s} {'changes':>8s} {'median ms':>10s} {'p95 ms':>8s} "
          f"{'max ms':>8s}{'' if by == 'what' else '  slowest'}")
    for group in dict.fromkeys(r[by] for r in rows):
        mine = [r for r in rows if r[by] == group]
        opened = next((f"{r['cpu_ms']:8.0f}" for r in mine if r["what"] == "open"), f"{'–':>8s}")
        ch = [r for r in mine if r["what"] != "open"]
        if not ch:
            print(f"{group:28s} {opened} {0:8d}")
            continue
        cpus = [r["cpu_ms"] for r in ch]
        worst = max(ch, key=lambda r: r["cpu_ms"])["what"] if by != "what" else ""
        print(f"{group:28s} {opened} {len(ch):8d} {statistics.median(cpus):10.0f} {pct(cpus, 0.95):8.0f} "
              f"{max(cpus):8.0f}  {worst}")
    changes = [r["cpu_ms"] for r in rows if r["what"] != "open"]
    p95 = pct(changes, 0.95) if changes else float("nan")
    if changes:
        print(f"{len(changes)} changes: server CPU median {statistics.median(changes):.0f} ms, p95 {p95:.0f} ms, "
              f"max {max(changes):.0f} ms")
    print(f"{name}: {p95:.0f}")
    return p95


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default=",".join((*PAGES, *VIEWS)), help="pages and views (VIEWS), comma-separated")
    ap.add_argument("-k", type=int, default=8, help="widget changes per page")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    names = a.pages.split(",")
    unknown = [n for n in names if n not in PAGES and n not in VIEWS]
    if unknown:
        ap.error(f"unknown pages or views: {', '.join(unknown)} (pages: {', '.join(PAGES)}; views: "
                 f"{', '.join(VIEWS)})")
    rows = on_server(measure, names, a.k, a.seed)
    summary(rows)
    cached = [r["cpu_ms"] for r in rows if r["page"].endswith(" (cached)") and r["what"] != "open"]
    if cached:
        p95 = pct(cached, 0.95)
        print(f"views, a change that reads a cache: {len(cached)} changes, p95 {p95:.0f} ms "
              f"({'within' if p95 <= GOAL_MS else 'OVER'} the {GOAL_MS} ms goal)")


if __name__ == "__main__":
    main()
