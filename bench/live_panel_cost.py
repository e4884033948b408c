"""Server CPU and bytes of one Training Lab live-panel poll, without a browser: K protocol clients (bench/
classroom_load.py's Client) open the Training Lab and press Start within a second of each other (one class group,
like ``classroom_load --trainings K --together``); once each shows its first epoch, every timed fragment of every
tab (the live panel with its curves, the first layer's kernels and maps) is rerun one at a time, a short pause
between, and the server process's own CPU time (utime + stime, the training child excluded) and the bytes it sent
are read around each rerun. Those counters tick in 10 ms steps (a script run's thread ends with it, so per-thread
clocks lose it): one poll's reading is coarse, their mean is exact to 10 ms / polls, so the table gives means. The
server's background CPU (its runner threads reading the child's events), measured for 3 s with nobody polling, is
taken off each poll for its wall time ("net"). Before that, the start: from the Start presses until every tab shows
its first epoch (each tab polling at the pace the server asks for), the server's CPU and the page's full runs per
tab (the Start press's own, and those a fragment asked for when the job changed state).

    python -m bench.live_panel_cost                    # 10 trainers together, 8 rounds of polls
    python -m bench.live_panel_cost -k 1 --rounds 10   # one training alone

Last line: ``live_panel_cost: trainers K, polls N, cpu_ms_mean X, kib_median Z, per_s W`` (net means) where ``per_s`` = server
CPU ms per second of one trainer's tab (each fragment's net mean cost over its interval, summed).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.classroom_load import OK_FULL, Client, cpu_s, start_server, _warm  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from tests.support.browser import stop_server  # noqa: E402


def _count_bytes(c: Client) -> None:
    """Count what the server sends this client (every websocket frame)."""
    c.nbytes = 0
    recv = c.ws.recv

    async def counted(*a, **k):
        data = await recv(*a, **k)
        c.nbytes += len(data) if data else 0
        return data
    c.ws.recv = counted


async def _trainer(url: str, j: int, epochs: int) -> Client:
    c = Client(url, f"trainer{j}")
    await c.connect()
    _count_bytes(c)
    await c.rerun(page="training_lab", query=f"epochs={epochs}")
    return c


async def _press_start(c: Client) -> None:
    btn = c.find(r"^Start$", "button")
    await c.rerun([WidgetState(id=btn[0][0], trigger_value=True)])
    c.full_after_start = c.full_runs


def _count_full_runs(c: Client) -> None:
    """Count the page's full runs this tab was sent (a fragment's st.rerun(scope="app") is one)."""
    c.full_runs, handle = 0, c._handle

    def counted(msg):
        handle(msg)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished == OK_FULL:
            c.full_runs += 1
    c._handle = counted


async def _start_phase(c: Client, timeout: float) -> float:
    """Poll each timed fragment at the pace the server asks for (as the browser does) until the tab shows its
    first epoch; seconds from its Start until then."""
    t0, due = time.perf_counter(), {}
    while time.perf_counter() - t0 < timeout:
        if not c.autos:
            await asyncio.sleep(0.5)
            await c.rerun()
            continue
        now = time.perf_counter()
        due = {f: due.get(f, now + s) for f, s in c.autos.items()}
        frag = min(due, key=due.get)
        await asyncio.sleep(max(0.0, due[frag] - time.perf_counter()))
        due[frag] = time.perf_counter() + c.autos.get(frag, 1.0)
        await c.rerun(fragment_id=frag)
        if c.metrics.get("Epoch", "–") != "–":
            return time.perf_counter() - t0
    raise SystemExit(f"{c.name} showed no epoch within {timeout:g} s")


def _kind(c: Client) -> str:
    return "live panel (curves, status)" if "Epoch" in c.metrics else "first layer (kernels, maps)"


async def _until_trained(cs: list[Client], timeout: float) -> None:
    """Poll each tab's fragments until it shows an epoch (its first curve point)."""
    deadline = time.time() + timeout
    todo = list(cs)
    while todo and time.time() < deadline:
        for c in list(todo):
            for frag in list(c.autos) or [""]:
                await c.rerun(fragment_id=frag)
                if c.metrics.get("Epoch", "–") not in ("–", None) and "Epoch" in c.metrics:
                    todo.remove(c)
                    break
        await asyncio.sleep(0.5)
    if todo:
        raise SystemExit(f"{len(todo)} trainers showed no epoch within {timeout:g} s")


async def measure(url: str, pid: int, k: int, rounds: int, gap: float, epochs: int) -> tuple[list[dict], float, dict]:
    cs = await asyncio.gather(*(_trainer(url, j, epochs) for j in range(k)))
    for c in cs:
        _count_full_runs(c)
    c0 = cpu_s(pid)
    await asyncio.gather(*(_press_start(c) for c in cs))  # within a second: one class group
    firsts = await asyncio.gather(*(_start_phase(c, 240) for c in cs))
    start = dict(cpu_s=cpu_s(pid) - c0, first_s=max(firsts), press_runs=statistics.mean(c.full_after_start for c in cs),
                 later_runs=statistics.mean(c.full_runs - c.full_after_start for c in cs))
    await _until_trained(cs, 180)
    c0, t0 = cpu_s(pid), time.perf_counter()
    await asyncio.sleep(3.0)
    idle_ms_per_s = (cpu_s(pid) - c0) * 1000 / (time.perf_counter() - t0)
    rows = []
    for _ in range(rounds):
        for c in cs:
            for frag, every in list(c.autos.items()):
                await asyncio.sleep(gap)
                b0, c0 = c.nbytes, cpu_s(pid)
                wall = await c.rerun(fragment_id=frag)
                rows.append(dict(what=_kind(c), every_s=every, cpu_ms=(cpu_s(pid) - c0) * 1000,
                                 wall_ms=wall * 1000, kib=(c.nbytes - b0) / 1024,
                                 epoch=c.metrics.get("Epoch")))
    for c in cs:
        await c.close()
    return rows, idle_ms_per_s, start


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", "--trainers", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--gap", type=float, default=0.3, help="seconds between two measured polls")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--port", type=int, default=None)
    a = ap.parse_args(argv)
    proc, url = start_server(a.port, env={})
    try:
        asyncio.run(_warm(Client(url, "warm-up")))
        rows, idle, start = asyncio.run(measure(url, proc.pid, a.trainers, a.rounds, a.gap, a.epochs))
    finally:
        stop_server(proc)
    for r in rows:
        r["net_ms"] = r["cpu_ms"] - idle * r["wall_ms"] / 1000
    print(f"{'fragment':30s} {'every s':>7s} {'polls':>6s} {'cpu ms mean':>11s} {'net ms mean':>11s} "
          f"{'KiB p50':>8s} {'wall ms p50':>11s}")
    per_s = 0.0
    for what in dict.fromkeys(r["what"] for r in rows):
        mine = [r for r in rows if r["what"] == what]
        net, every = statistics.mean(r["net_ms"] for r in mine), statistics.median(r["every_s"] for r in mine)
        per_s += net / every
        print(f"{what:30s} {every:7.2f} {len(mine):6d} {statistics.mean(r['cpu_ms'] for r in mine):11.1f} "
              f"{net:11.1f} {statistics.median(r['kib'] for r in mine):8.1f} "
              f"{statistics.median(r['wall_ms'] for r in mine):11.0f}")
    cpus = [r["net_ms"] for r in rows]
    print(f"server background (runner threads, nobody polling): {idle:.1f} ms CPU per s; "
          f"epochs shown at the end: {sorted({r['epoch'] for r in rows[-2 * a.trainers:] if r['epoch']})}")
    print(f"from Start to every tab's first epoch ({start['first_s']:.1f} s): server CPU {start['cpu_s']:.2f} s; full "
          f"page runs per tab: {start['press_runs']:.1f} for Start, {start['later_runs']:.1f} after it")
    print(f"live_panel_cost: trainers {a.trainers}, polls {len(rows)}, cpu_ms_mean {statistics.mean(cpus):.1f}, "
          f"kib_median {statistics.median(r['kib'] for r in rows):.1f}, "
          f"per_s {per_s:.1f}")


if __name__ == "__main__":
    main()
