"""Server CPU of one Start press in the Training Lab, without a browser: K protocol clients (bench/classroom_load.py's
Client) open the Training Lab (one epoch of the digits), then press Start one at a time, a pause between; the server
process's own CPU time (utime + stime, the training child excluded) is read around each press, and the page's full
runs that press cost are counted (a press that ends in ``st.rerun()`` runs the page twice: the first run stops early).
Ten classmates pressing Start together cost the server ten of these at the same instant.

    python -m bench.start_cost              # 6 presses
    python -m bench.start_cost -k 10

Last line: ``start_cost: presses K, cpu_ms_min X, cpu_ms_median Y, runs_per_press R``.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics

from bench.classroom_load import Client, cpu_s, start_server, _warm
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from tests.support.browser import stop_server


def _count_runs(c: Client) -> None:
    """Count every script run the server started for this tab (new_session messages)."""
    c.started_runs, handle = 0, c._handle

    def counted(msg: ForwardMsg):
        if msg.WhichOneof("type") == "new_session":
            c.started_runs += 1
        handle(msg)
    c._handle = counted


async def measure(url: str, pid: int, k: int, gap: float) -> list[dict]:
    rows = []
    for j in range(k):
        c = Client(url, f"starter{j}")
        await c.connect()
        _count_runs(c)
        await c.rerun(page="training_lab", query="epochs=1")
        btn = c.find(r"^Start$", "button")
        await asyncio.sleep(gap)
        runs0, c0 = c.started_runs, cpu_s(pid)
        wall = await c.rerun([WidgetState(id=btn[0][0], trigger_value=True)])
        await asyncio.sleep(0.3)  # a run st.rerun() asked for may finish after the first script_finished
        rows.append(dict(cpu_ms=(cpu_s(pid) - c0) * 1000, runs=c.started_runs - runs0, wall_ms=wall * 1000,
                         start_disabled=bool(c.find(r"^Start$", "button")[0][2].disabled)))
        await c.close()
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", "--presses", type=int, default=6)
    ap.add_argument("--gap", type=float, default=1.0, help="seconds before each press")
    ap.add_argument("--port", type=int, default=None)
    a = ap.parse_args(argv)
    proc, url = start_server(a.port, env={"CNNVIZ_MAX_JOBS": str(a.presses)})
    try:
        asyncio.run(_warm(Client(url, "warm-up")))
        rows = asyncio.run(measure(url, proc.pid, a.presses, a.gap))
    finally:
        stop_server(proc)
    for r in rows:
        print(f"press: server CPU {r['cpu_ms']:6.0f} ms, script runs {r['runs']}, wall {r['wall_ms']:6.0f} ms, "
              f"Start disabled after it: {r['start_disabled']}")
    cpus = [r["cpu_ms"] for r in rows]
    print(f"start_cost: presses {len(rows)}, cpu_ms_min {min(cpus):.0f}, cpu_ms_median {statistics.median(cpus):.0f}, "
          f"runs_per_press {statistics.mean(r['runs'] for r in rows):.1f}")


if __name__ == "__main__":
    main()
