"""Server CPU of the Training Lab's Compare runs tab with a full history (12 runs), without a browser: the job
storage gets 12 ended trainings of one owner (realistic events: a report every epoch fifth, an evaluation per
epoch with its 10×10 confusion and 64 predictions), a fresh app serves it, and one protocol client
(bench/classroom_load.py's Client) connects with that owner's cookie (as a reloaded browser), opens
``?tab=Compare+runs`` and reruns it: plain reruns and switching "Training curves too" (what a refresh of the
chart costs). The server process's own CPU time (utime + stime) is read around each rerun, as bench/rerun_cost.py
does. Also: the bytes of the 12 summaries, and the engine's part (read + legend + figure) in this process.

    python -m bench.run_history_cost            # 12 runs of 8 epochs, 10 reruns
    python -m bench.run_history_cost --epochs 30 -k 20
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from bench.classroom_load import Client, cpu_s, pct, start_server, user_key  # noqa: E402
from tests.support.browser import stop_server  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from cnnviz.figures.run_compare import compare_figure
from cnnviz.jobs import JobLimiter, JobStore, ThreadRunner
from cnnviz.jobs.events import Checkpoint, Evaluation, Finished, Progress
from cnnviz.jobs.ids import new_job_id, new_owner
from cnnviz.jobs.storage import recipe_fields
from cnnviz.training.compare import legend_labels
from cnnviz.training.recipe import from_switches
from cnnviz.training.runs import MAX_RUNS, nbytes, runs_of

SWITCH_SETS = [{}, {"flip": True}, {"noise": True}, {"flip": True, "noise": True}, {"ema": True}, {"clip": True}]


def fill(root: str, owner: str, runs: int, epochs: int) -> list[str]:
    """``runs`` ended trainings of ``owner`` written to the job storage at ``root`` (as the runner writes them)."""
    store, jobs = JobStore(root), []
    for i in range(runs):
        cfg = from_switches(8, {"crop": True, "ls": True, **SWITCH_SETS[i % len(SWITCH_SETS)]}, False,
                            dataset="digits", model="TinyVGG", epochs=epochs, lr=(0.02, 0.05)[i // 6 % 2],
                            optimizer="adamw", schedule="onecycle")
        job = new_job_id()
        store.create(job, cfg, owner, pickled=False, title="training", fields=recipe_fields(cfg))
        store.add_attempt(job)
        step = 0
        for e in range(1, epochs + 1):
            for q in range(5):
                step += 5
                store.append(job, Progress(step, e - 1 + (q + 1) / 5, 1 / e, 1 - 0.5 / e, 0.02, 9000.0, 1.0, "CPU"))
            store.append(job, Evaluation(step, e, 1 / e, 1 - 0.5 / e, 1.1 / e, 1 - 0.6 / e, [[3] * 10] * 10,
                                         [k % 10 for k in range(64)], {"forward": 0.1, "backward": 0.2}))
            store.append(job, Checkpoint(step, e, 110_000, 1 - 0.6 / e))
        store.append(job, Finished(step, epochs, "done", 1 - 0.6 / epochs))
        jobs.append(job)
        time.sleep(0.01)  # distinct creation times: the history's order
    return jobs


class CookieClient(Client):
    """A tab of a browser that has the owner cookie (a reload)."""
    cookie: str = ""

    async def connect(self, timeout: float = 60) -> None:
        from websockets.asyncio.client import connect
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await asyncio.wait_for(connect(ws_url, subprotocols=["streamlit"], max_size=512 * 2 ** 20,
                                                 ping_interval=None, compression=None, open_timeout=timeout,
                                                 additional_headers={"Cookie": self.cookie}), timeout)
        self._reader = asyncio.create_task(self._read())

    def _handle(self, msg) -> None:
        super()._handle(msg)  # and the multiselect of the runs on the chart (not among the load test's widgets)
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            if el.WhichOneof("type") == "multiselect":
                self.widgets[el.multiselect.id] = ("multiselect", el.multiselect)


async def measure(url: str, pid: int, owner: str, k: int) -> list[dict]:
    c = CookieClient(url, "teacher")
    c.cookie = f"cnnviz_owner={owner}"
    await c.connect()
    rows = []
    try:
        for _ in range(2):  # warm-up: imports, the summaries' first read, the first figure
            await c.rerun(page="training_lab", query="tab=Compare+runs")
        picker = [p for wid, (t, p) in c.widgets.items() if user_key(wid).startswith("train_cmp_runs_")]
        shown = len(picker[0].options) if picker else 0
        toggle = [wid for wid in c.widgets if user_key(wid) == "train_cmp_train"]
        assert not c.exceptions, c.exceptions
        assert shown == MAX_RUNS and toggle, f"the tab shows {shown} runs (toggle found: {bool(toggle)})"
        on = False
        for i in range(k):
            states = []
            if i % 2:
                on = not on
                states = [WidgetState(id=toggle[0], bool_value=on)]
            await asyncio.sleep(0.2)
            c0 = cpu_s(pid)
            wall = await c.rerun(states)
            rows.append(dict(what="training curves " + ("on" if on else "off") if i % 2 else "rerun",
                             cpu_ms=(cpu_s(pid) - c0) * 1000, wall_ms=wall * 1000))
        assert not c.exceptions, c.exceptions
    finally:
        await c.close()
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("-k", type=int, default=10, help="reruns measured")
    a = ap.parse_args(argv)
    root, owner = tempfile.mkdtemp(prefix="cnnviz-run-history-"), new_owner()
    fill(root, owner, MAX_RUNS, a.epochs)
    runner = ThreadRunner(JobLimiter(1), storage=root)  # the engine's part, in this process
    runs = runs_of(runner, owner)
    t0 = time.process_time()
    for _ in range(10):
        compare_figure(runs, legend_labels([r.recipe for r in runs]), train=True)
    fig_ms = (time.process_time() - t0) * 100
    print(f"{len(runs)} runs of {a.epochs} epochs: summaries {sum(nbytes(r) for r in runs):,} bytes in all "
          f"(largest {max(nbytes(r) for r in runs):,}); figure with training curves {fig_ms:.1f} ms CPU")
    proc, url = start_server(env={"CNNVIZ_MAX_JOBS": "1", "CNNVIZ_STORAGE": root})
    try:
        rows = asyncio.run(measure(url, proc.pid, owner, a.k))
    finally:
        stop_server(proc)
    for what in dict.fromkeys(r["what"] for r in rows):
        cpus = [r["cpu_ms"] for r in rows if r["what"] == what]
        print(f"{what:22s} n={len(cpus):2d}  server CPU median {statistics.median(cpus):6.0f} ms  max "
              f"{max(cpus):6.0f} ms")
    cpus = [r["cpu_ms"] for r in rows]
    print(f"p95_server_ms_per_refresh: {pct(cpus, 0.95):.0f}")


if __name__ == "__main__":
    main()
