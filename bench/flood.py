"""One client flooding reruns, one classmate changing a widget: does the classmate notice?

Starts the app on 127.0.0.1 (stopped by its PID at the end), opens Conv Arithmetic (``?size=9``) in a classmate's
protocol session (bench/classroom_load.py's ``Client``) and measures the time from sending a kernel change to
its successful ``script_finished``: quietly, then while a second session, in a process of its own, sends
rerun requests (the kernel, changed each time) back to back without waiting for any run to finish; the quiet and
flooded phases alternate (``--rounds``), so both see the same background load on a shared machine. The flooder
counts the script runs the server started for it (one ``new_session`` message each) and checks that the last
value it sent is the one its last run showed. The server's per-session rerun limit is ``CNNVIZ_RERUN_RATE`` /
``CNNVIZ_RERUN_BURST`` (cnnviz.ui.rate_limit); ``--no-limit`` runs the same with the limit off.

    python -m bench.flood                  # ~60 s; last line: flood: quiet_p95_s X, flooded_p95_s Y
    python -m bench.flood --changes 10 --no-limit

Goal: Y <= 2·X + 0.1."""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
import types

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.classroom_load import KERNELS, SIZE, Client, expected, pct, start_server
from cnnviz.ui.rate_limit import settings
from tests.support.browser import stop_server

PAGE, QUERY = "conv_arithmetic", f"size={SIZE}"


class FloodClient(Client):
    """A session that counts the script runs the server starts for it and keeps the last run's metrics."""

    def __post_init__(self):
        super().__post_init__()
        self.started = 0
        self.finished_at = 0.0

    def _handle(self, msg):
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.started += 1
            self.metrics = {}
        super()._handle(msg)
        if kind == "script_finished":
            self.finished_at = time.perf_counter()


async def open_page(c: Client) -> str:
    await c.connect()
    await c.rerun(page=PAGE, query=QUERY, timeout=180)
    return c.find(r"^arith_k_0$", "number_input")[0][0]


async def _flood(url: str, conn, gap_s: float, max_s: float = 180) -> dict:
    """Says "ready" on ``conn`` once its page is open; then floods while the parent's last word was "flood", waits
    while it was "pause", and reports when it is "stop" (or after ``max_s``)."""
    c = FloodClient(url, "flooder")
    wid = await open_page(c)
    started0, sent, last, state, flood_s = c.started, 0, KERNELS[0], "pause", 0.0
    conn.send({"ready": True})
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_s:
        if conn.poll():
            state = conn.recv()
            if state == "stop":
                break
        if state != "flood":
            await asyncio.sleep(0.02)
            continue
        t = time.perf_counter()
        last = KERNELS[sent % len(KERNELS)]
        cs = ClientState(query_string=QUERY, page_script_hash=c.pages.get(PAGE, ""))
        cs.widget_states.widgets.append(WidgetState(id=wid, double_value=float(last)))
        await c.ws.send(BackMsg(rerun_script=cs).SerializeToString())
        sent += 1
        await asyncio.sleep(gap_s)
        flood_s += time.perf_counter() - t
    t_end = time.perf_counter()
    while time.perf_counter() - max(c.finished_at, t_end) < 2.0 and time.perf_counter() - t_end < 20:  # quiet 2 s
        await asyncio.sleep(0.1)
    out = dict(sent=sent, runs_started=c.started - started0, flood_s=flood_s, last_sent=last,
               last_shown=c.metrics.get("Output shape"), expected_last=expected(last))
    await c.close()
    return out


def _flood_process(url: str, gap_s: float, conn) -> None:
    try:
        conn.send(asyncio.run(_flood(url, conn, gap_s)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        conn.send({"error": repr(e)})
    conn.close()


async def _recv(conn, proc, timeout: float = 120) -> dict:
    t0 = time.perf_counter()
    while not conn.poll():
        if not proc.is_alive() and not conn.poll():
            raise RuntimeError("the flooding process ended without a report")
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the flooding process did not answer")
        await asyncio.sleep(0.05)
    return conn.recv()


async def classmate(c: Client, wid: str, changes: int, pause_s: float, offset: int = 0,
                    timeout: float = 15, budget_s: float = 45) -> list[float]:
    """``changes`` kernel changes, ``pause_s`` apart; each one's latency (and the shape shown is checked). A change
    with no answer within ``timeout`` counts as ``timeout`` seconds; after ``budget_s`` the phase ends early."""
    out, t0 = [], time.perf_counter()
    for i in range(changes):
        k = KERNELS[(i + offset) % len(KERNELS)]
        try:
            out.append(await c.rerun([WidgetState(id=wid, double_value=float(k))], timeout=timeout))
        except asyncio.TimeoutError:
            out.append(timeout)
            continue
        if c.metrics.get("Output shape") != expected(k):
            raise AssertionError(f"the classmate saw {c.metrics.get('Output shape')}, expected {expected(k)}")
        if time.perf_counter() - t0 > budget_s:
            break
        await asyncio.sleep(pause_s)
    return out


async def measure(url: str, changes: int = 20, pause_s: float = 0.3, gap_s: float = 0.002,
                  warmup_s: float = 1.0, rounds: int = 1) -> dict:
    """Quiet, then flooded, ``rounds`` times (``changes`` split between the rounds: alternating phases see the
    same background load on a shared box); the figures as a dict (also used by tests/e2e/test_flood.py)."""
    c = Client(url, "classmate")
    wid = await open_page(c)
    await classmate(c, wid, 3, 0.1)  # warm this page's caches
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=_flood_process, args=(url, gap_s, child), daemon=True)
    # A spawned child first re-runs the parent's ``__main__``; after an AppTest in the same process (a test worker)
    # that is the last page script it ran, which dies outside Streamlit: start the child with a bare one.
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        proc.start()
    finally:
        sys.modules["__main__"] = main
    quiet, flooded = [], []
    try:
        flood = await _recv(parent, proc)
        per = [changes // rounds + (r < changes % rounds) for r in range(rounds)]
        for r in range(rounds if "error" not in flood else 0):
            if r:
                parent.send("pause")
                await asyncio.sleep(warmup_s + 1.0)  # its last deferred run has run
            quiet += await classmate(c, wid, per[r], pause_s)
            parent.send("flood")
            await asyncio.sleep(warmup_s)  # the flood is under way
            flooded += await classmate(c, wid, per[r], pause_s, offset=1)
        if "error" not in flood:
            parent.send("stop")
            flood = await _recv(parent, proc)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
        await c.close()
    if "error" in flood:
        raise RuntimeError(f"the flooder failed: {flood['error']}")
    return dict(quiet_p50_s=pct(quiet, 0.5), quiet_p95_s=pct(quiet, 0.95), flooded_p50_s=pct(flooded, 0.5),
                flooded_p95_s=pct(flooded, 0.95), quiet=quiet, flooded=flooded, **flood)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=20, help="classmate's kernel changes, quiet and flooded each")
    ap.add_argument("--rounds", type=int, default=1, help="quiet/flooded phases alternate this many times (a flooder "
                    "that pauses gets its burst back each time)")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds between the classmate's changes")
    ap.add_argument("--gap", type=float, default=0.002, help="seconds between the flooder's rerun requests")
    ap.add_argument("--no-limit", action="store_true", help="CNNVIZ_RERUN_RATE=0: the server without the limit")
    a = ap.parse_args(argv)
    env = {"CNNVIZ_RERUN_RATE": "0"} if a.no_limit else {}
    t0 = time.perf_counter()
    proc, url = start_server(env=env)
    try:
        r = asyncio.run(measure(url, a.changes, a.pause, a.gap, rounds=a.rounds))
    finally:
        stop_server(proc)
    rate, burst = settings()
    limit = "off" if a.no_limit or rate <= 0 else f"{rate:g} reruns/s per session, burst {burst:g}"
    print(f"limit: {limit}; {time.perf_counter() - t0:.0f} s in all")
    print(f"classmate: quiet p50 {r['quiet_p50_s']:.3f} s, p95 {r['quiet_p95_s']:.3f} s; flooded p50 "
          f"{r['flooded_p50_s']:.3f} s, p95 {r['flooded_p95_s']:.3f} s ({a.changes} changes each)")
    print(f"flooder: {r['sent']} reruns sent in {r['flood_s']:.0f} s of flooding ({a.rounds} flood phase(s)), "
          f"{r['runs_started']} script runs started; "
          f"its last value showed {r['last_shown']} (expected {r['expected_last']})")
    goal = r["flooded_p95_s"] <= 2 * r["quiet_p95_s"] + 0.1
    print(f"goal flooded_p95 <= 2·quiet_p95 + 0.1: {'met' if goal else 'NOT met'}")
    print(f"flood: quiet_p95_s {r['quiet_p95_s']:.3f}, flooded_p95_s {r['flooded_p95_s']:.3f}")


if __name__ == "__main__":
    main()
