"""A class of N students (bench/classroom_load.py's classroom, its functions imported, not copied) while two
students run feature visualisations back to back, as a student does: open Feature Maps at the Feature visualisation
tab, press Visualise (an ascent estimated above a second: a job of the app's runner, in a child process), poll the
tab's progress fragment at the interval the server asks for until the result shows, then pick the next channel and
press Visualise again, so two visualisations run during the whole class.

Issue 35's goal: long computations never block other students' reruns, p95 ≤ 2 s with 30 students.

    python -m bench.feature_vis_load                  # 30 students, 60 s, two visualisers
    python -m bench.feature_vis_load -n 10 --duration 30
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.classroom_load import Client, Record, _warm, classroom, pct, report, start_server, user_key
from tests.support.browser import stop_server

from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

MODEL, STEPS, IMAGES, CHANNELS = "shapes_SmallResNet", 256, 4, 32  # ~5 s by the page's arithmetic: a job
ACTIVATION = "Visualisation's mean activation"


class VisClient(Client):
    """The protocol client, also keeping the alerts (errors, notices) the page shows: why a job did not start."""

    def _handle(self, msg) -> None:
        super()._handle(msg)
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            if el.WhichOneof("type") == "alert":
                self.alerts = (getattr(self, "alerts", []) + [el.alert.body[:200]])[-5:]


async def visualiser(j: int, url: str, started: asyncio.Event, stop: asyncio.Event, records: list,
                     timeout: float) -> dict:
    """One student visualising channel j, j + 2, j + 4, … one after the other until ``stop`` is set."""
    c = VisClient(url, f"visualiser{j}")
    seen = dict(name=c.name, starts=0, done=0, polls=0, seconds=[], failed=0)
    t0 = time.perf_counter()

    def rec(what, latency):
        records.append(Record(c.name, what, latency, time.perf_counter() - t0))

    try:
        await c.connect(timeout)
        ch = j
        query = dict(model=MODEL, tab="Feature visualisation", fv_steps=STEPS, fv_images=IMAGES, fv_ch=ch)
        rec("load feature visualisation", await c.rerun(page="feature_maps", query=urlencode(query),
                                                        timeout=timeout))
        while not stop.is_set():
            go = c.find(r"^feat_fv_go$", "button")
            if not go:
                raise RuntimeError(f"no Visualise button for channel {ch}: metrics {sorted(c.metrics)}, widgets "
                                   f"{sorted(user_key(w) for w in c.widgets)}, query {c.query}")
            c.auto = None
            rec("Visualise", await c.rerun([WidgetState(id=go[0][0], trigger_value=True)], timeout=timeout))
            seen["starts"] += 1
            began = time.perf_counter()
            started.set()
            while not stop.is_set():  # poll the progress fragment as the browser does, until the result shows
                if c.metrics.get(ACTIVATION, "—") != "—":  # (each rerun clears the metrics: look before the next)
                    seen["done"] += 1
                    seen["seconds"].append(time.perf_counter() - began)
                    break
                if c.auto is None:
                    await asyncio.sleep(1.0)
                    rec("rerun (no fragment yet)", await c.rerun(timeout=timeout))
                    if time.perf_counter() - began > 30:
                        raise RuntimeError(f"no progress 30 s after Visualise: {getattr(c, 'alerts', [])}")
                    continue
                await asyncio.sleep(c.auto[0])
                # the last poll's fragment sees the job done and reruns the whole page: this rerun waits for it
                rec("poll (fragment)", await c.rerun(fragment_id=c.auto[1], timeout=timeout))
                seen["polls"] += 1
            ch = (ch + 2) % CHANNELS
            fv_ch = c.find(r"^feat_fv_ch$", "number_input")
            await c.rerun([WidgetState(id=fv_ch[0][0], double_value=float(ch))], timeout=timeout)
    except Exception as e:  # noqa: BLE001 - any failure is an error of this run
        seen["failed"] += 1
        rec(f"visualiser FAILED {type(e).__name__}: {str(e)[:600]}", None)
        started.set()
    finally:
        await c.close()
    seen.update(exceptions=c.exceptions, runs=c.runs, leaks=c.leaks, closed=c.closed)
    return seen


async def run(url: str, pid: int, n: int, duration: float, visualisers: int, seed: int, timeout: float):
    records: list[Record] = []
    stop = asyncio.Event()
    started = [asyncio.Event() for _ in range(visualisers)]
    tasks = [asyncio.create_task(visualiser(j, url, started[j], stop, records, timeout)) for j in range(visualisers)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started)), 120)  # both running before the class
    r = await classroom(url, n, duration, 0, seed, pid, timeout)
    stop.set()
    return r, await asyncio.gather(*tasks), records


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="simulated students")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--visualisers", type=int, default=2)
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    proc, url = start_server(a.port, env={"CNNVIZ_MAX_JOBS": str(max(1, a.visualisers))})
    try:
        asyncio.run(_warm(Client(url, "warm-up")))  # the first run imports torch & co.: not a student's latency
        r, vis, records = asyncio.run(run(url, proc.pid, a.n, a.duration, a.visualisers, a.seed, a.timeout))
    finally:
        stop_server(proc)
    report(r)
    polls = [x.latency for x in records if x.latency is not None and "poll" in x.what]
    failed = [x for x in records if x.latency is None]
    for v in vis:
        secs = ", ".join(f"{s:.1f}" for s in v["seconds"])
        print(f"{v['name']}: {v['starts']} visualisations started, {v['done']} shown ({secs} s each), "
              f"{v['polls']} polls, {len(v['exceptions'])} exceptions")
    for x in failed:
        print("failed:", x.what[:2000])
    running = sum(v["starts"] > 0 for v in vis)
    errors = r["errors"] + len(failed) + sum(len(v["exceptions"]) for v in vis)
    leaked = r["leaked"] + sum(bool(v["leaks"]) for v in vis)
    print(f"visualisers' polls: p50 {pct(polls, 0.5):.2f} s, p95 {pct(polls, 0.95):.2f} s")
    print(f"p95_s: {r['p95_s']:.2f}, students: {r['n']}, visualisations running: {running}, "
          f"errors: {errors}, leaked: {leaked} (goal: p95 ≤ 2 s)")
    if a.json:
        a.json.write_text(json.dumps(dict(classroom=r, visualisers=vis), indent=1, default=str))


if __name__ == "__main__":
    main()
