"""The Ray tasks the job manager starts: :func:`run_job` (one job) and :func:`run_group_task` (a class group).

The class group's task: the members (jobs of one class-group key, gathered by the job manager) train
together in ONE worker through their kind's ``run_together`` (``kind.run_group``), and each stays its own job in
the shared storage: its own events, checkpoint, attempts and ``times`` lines, and its own stop flag, which the
task polls (as a solo task does) and turns into that member's Stop only. A ``group`` file in each member's
directory names the group, its members and the worker's pid (what a page or a test reads to see who trained
together).

A retried attempt (its worker died) skips the members that had already ended and resumes the others from their
own checkpoints; a member without one starts over. A crash of the whole computation reaches every member that
had not ended as its own Failed event, with its own last checkpoint step."""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback

from cnnviz.errors import ConfigError
from cnnviz.jobs.events import Checkpoint, Failed, Finished
from cnnviz.jobs.kind import Member, run_group
from cnnviz.jobs.kind import run_job as run_kind
from cnnviz.jobs.storage import JobStore

GROUP_FILE = "group"  # in each member's directory: {"group": id, "members": [job ids], "pid": worker pid}
STOP_POLL_S = 0.1


def last_checkpoint_step(store: JobStore, job_id: str) -> int | None:
    steps = [e["step"] for e in store.raw_events(job_id) if e["kind"] == "Checkpoint"]
    return steps[-1] if steps else None


def read_group(store: JobStore, job_id: str) -> dict | None:
    """The ``group`` file of a job that trained in a class group on the cluster (None: it trained alone)."""
    p = store.dir(job_id) / GROUP_FILE
    return json.loads(p.read_text()) if p.exists() else None


class _Seat:
    """One member's side of the task: its events and checkpoint go to its own files; ``stop`` is its own."""

    def __init__(self, store: JobStore, job_id: str, pause):
        self.store, self.id, self.pause = store, job_id, pause
        self.stop = threading.Event()
        self.step, self.ckpt, self.ended = 0, last_checkpoint_step(store, job_id), False
        self._lock = threading.Lock()

    def emit(self, event) -> None:
        with self._lock:
            if self.ended:  # a late event after its end (a crash's Failed after a Finished)
                return
            self.step = getattr(event, "step", self.step)
            self.store.append(self.id, event)
            self.ended = isinstance(event, (Finished, Failed))
        if isinstance(event, Checkpoint):
            self.ckpt = event.step
            self.pause(self)

    def keep(self, blob: bytes) -> None:
        self.store.write_checkpoint(self.id, blob)

    def fail(self, message: str) -> None:
        self.emit(Failed(self.step, message, self.ckpt))


def run_group_task(root: str, group_id: str, job_ids: list, options: dict) -> list:
    """Train the class group ``job_ids`` in this Ray worker; returns the ids. ``options``: ``num_cpus`` (torch's
    threads) and the test hook ``pause_after_checkpoint_s`` (first attempt only: once every member has written a
    checkpoint the task pauses, a window to kill its worker)."""
    store = JobStore(root)
    live, attempts = [], []
    for job_id in job_ids:
        store.repair(job_id)  # a previous attempt may have died mid-line
        if store.is_done(job_id):  # ended in an earlier attempt, or stopped while its group waited
            continue
        attempts.append(store.add_attempt(job_id))
        live.append(job_id)
    wait = options.get("pause_after_checkpoint_s", 0) if attempts and max(attempts) == 1 else 0
    paused: list[str] = []

    def pause(seat: _Seat) -> None:
        if wait and not paused and all(s.ckpt is not None or s.ended for s in seats):
            paused.append(seat.id)
            time.sleep(wait)

    seats = [_Seat(store, j, pause) for j in live]
    record = json.dumps(dict(group=group_id, members=list(job_ids), pid=os.getpid()))
    for seat in seats:
        (store.dir(seat.id) / GROUP_FILE).write_text(record)
    t0, finished = time.time(), threading.Event()

    def watch_stop():
        while not finished.wait(STOP_POLL_S):
            for seat in seats:
                if not seat.stop.is_set() and store.stop_requested(seat.id):
                    seat.stop.set()

    threading.Thread(target=watch_stop, daemon=True).start()
    try:
        members = []
        for seat in seats:
            if store.stop_requested(seat.id):  # stopped between two attempts
                seat.emit(Finished(seat.step, 0, "stopped", 0.0))
                continue
            try:
                job = store.job(seat.id)
                blob = store.checkpoint(seat.id)
                if blob is not None and callable(getattr(job, "resumed", None)):
                    job = job.resumed(blob)
            except Exception as e:  # noqa: BLE001 - one member's unreadable job does not stop the others
                seat.fail(f"the job could not be read ({type(e).__name__})")
                continue
            members.append(Member(job, seat.emit, seat.stop, seat.keep))
        torch = sys.modules.get("torch")  # imported by the jobs' kinds that train (a stand-in kind does without)
        if torch is not None:
            torch.set_num_threads(max(1, int(options.get("num_cpus", 1))))
        run_group(members)
    except ConfigError as e:
        for seat in seats:
            seat.fail(str(e))
    except Exception as e:  # a crash reaches every member's page as a message
        lastline = traceback.format_exception_only(type(e), e)[-1].strip()
        for seat in seats:
            seat.fail(f"training crashed: {lastline}")
    finally:
        finished.set()
        for seat in seats:
            if not seat.ended:  # every member ends with Finished or Failed: a follower never waits forever
                seat.fail("the class group ended without this run's last event")
            with open(store.dir(seat.id) / "times", "a") as f:
                f.write(f"{t0} {time.time()} {os.getpid()}\n")
    return list(job_ids)


def run_job(root: str, job_id: str, options: dict) -> str:
    """Run one job in a Ray worker: the job kind stored at submit (``JobStore.job``), resumed from the job's
    checkpoint when there is one and the kind can resume (a retried attempt); events and checkpoints go to the
    shared storage; the job stops when the stop flag appears."""
    import torch  # the worker's, not the manager's: the manager never imports torch

    store = JobStore(root)
    store.repair(job_id)  # a previous attempt may have died mid-line
    attempt = store.add_attempt(job_id)
    t0 = time.time()
    stop, finished = threading.Event(), threading.Event()

    def watch_stop():
        while not finished.wait(0.1):
            if store.stop_requested(job_id):
                stop.set()
                return

    threading.Thread(target=watch_stop, daemon=True).start()
    last = {"step": 0, "ckpt": last_checkpoint_step(store, job_id)}
    pause = options.get("pause_after_checkpoint_s", 0) if attempt == 1 else 0

    def emit(event):
        last["step"] = getattr(event, "step", last["step"])
        store.append(job_id, event)
        if isinstance(event, Checkpoint):
            last["ckpt"] = event.step
            if pause:
                time.sleep(pause)  # test hook: a window to kill this worker after its first checkpoint

    def keep(blob: bytes):
        store.write_checkpoint(job_id, blob)

    try:
        if store.stop_requested(job_id):  # stopped between two attempts
            emit(Finished(last["step"], 0, "stopped", 0.0))
        else:
            job = store.job(job_id)
            blob = store.checkpoint(job_id)
            if blob is not None and callable(getattr(job, "resumed", None)):
                job = job.resumed(blob)
            torch.set_num_threads(max(1, int(options.get("num_cpus", 1))))
            run_kind(job, emit, stop, keep)
    except ConfigError as e:
        emit(Failed(last["step"], str(e), last["ckpt"]))
    except Exception as e:  # a crash reaches the page as a message
        lastline = traceback.format_exception_only(type(e), e)[-1].strip()
        emit(Failed(last["step"], f"training crashed: {lastline}", last["ckpt"]))
    finally:
        finished.set()
        with open(store.dir(job_id) / "times", "a") as f:
            f.write(f"{t0} {time.time()} {os.getpid()}\n")
    return job_id
