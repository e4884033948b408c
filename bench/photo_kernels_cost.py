"""Server CPU per change in the Convolution Animation's Photo kernels tab (a 256×256 photograph and smaller ones):
one protocol client (bench/classroom_load.py's Client) opens the tab, then changes one of the tab's widgets at a
time (seeded: the window's step most often, as a class would drag it; the kernel, padding mode, channel and
photograph too) and reads the server process's CPU time around each rerun, as bench/rerun_cost.py does (and
prints its table with rerun_cost's ``summary``). Target: p95 ≤ 250 ms per change.

    python -m bench.photo_kernels_cost             # 24 changes
    python -m bench.photo_kernels_cost -k 40 --seed 1
"""
from __future__ import annotations

import argparse
import asyncio
import random

from bench.classroom_load import Client, cpu_s, on_server, user_key  # noqa: E402
from bench.rerun_cost import summary

TAB = "tab=Photo+kernels&phphoto=camera"  # the cameraman: 256×256
STEP_SHARE = 0.5  # half the changes move the window, the rest change a control that recomputes the picture


async def measure(url: str, pid: int, k: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    c = Client(url, "probe")
    await c.connect()
    rows = []
    try:
        await c.rerun(page="conv_animation", query=TAB)  # warm-up: imports, the photo, the first figures
        c0 = cpu_s(pid)
        wall = await c.rerun(page="conv_animation", query=TAB)
        rows.append(dict(what="open", cpu_ms=(cpu_s(pid) - c0) * 1000, wall_ms=wall * 1000))
        for _ in range(k):
            mine = {wid: v for wid, v in c.widgets.items() if user_key(wid).startswith("anim_ph")
                    and user_key(wid) not in ("anim_phsrc", "anim_phtext")}
            steps = [wid for wid in mine if user_key(wid) == "anim_phstep"]
            pick = steps if steps and rng.random() < STEP_SHARE else [w for w in mine if w not in steps]
            wid = rng.choice(pick)
            etype, proto = mine[wid]
            state = c.random_state(wid, etype, proto, rng)
            if state is None:
                continue
            await asyncio.sleep(0.2)
            c0 = cpu_s(pid)
            wall = await c.rerun([state])
            rows.append(dict(what=f"{etype} {user_key(wid)}", cpu_ms=(cpu_s(pid) - c0) * 1000, wall_ms=wall * 1000))
        if c.exceptions:
            print("exceptions:", c.exceptions[:3])
    finally:
        await c.close()
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", type=int, default=24, help="widget changes")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    summary(on_server(measure, a.k, a.seed), by="what", name="p95_server_ms_per_change")


if __name__ == "__main__":
    main()
