"""The job manager: one detached, named Ray actor that owns admission for the whole cluster.

At most ``max_running`` jobs run; up to ``max_queue`` more wait first-come, first-served and know their
position; beyond that ``submit`` answers ``busy`` at once (the caller turns that into "busy, try again"). Each
admitted job is one Ray task (:func:`run_job`) that asks for a GPU when the cluster has one and is retried by Ray
from its last checkpoint when its worker process dies. The actor is an asyncio actor: every call is a few
dictionary operations on one event loop, so answers come back in milliseconds even under a burst.

This module never imports ray at import time; :func:`get_manager` and the actor's methods do."""
from __future__ import annotations

import asyncio
import os
import threading
import time
import traceback
from collections import deque

from cnnviz.errors import ConfigError
from cnnviz.jobs.storage import JobStore
from cnnviz.jobs.events import Checkpoint, Failed, Finished
from cnnviz.jobs.kind import run_job as run_kind

QUEUED, RUNNING, DONE = "queued", "running", "done"
MANAGER_NAME = "cnnviz-job-manager"
NAMESPACE = "cnnviz"


class JobManager:
    """Admission only: it never imports torch (its calls must answer in milliseconds) and never trains."""

    def __init__(self, root: str, max_running: int, max_queue: int, max_retries: int = 3,
                 use_gpu: bool | None = None):
        import ray
        self.root, self.max_running, self.max_queue, self.max_retries = root, max_running, max_queue, max_retries
        self.store = JobStore(root)
        self.use_gpu = ray.cluster_resources().get("GPU", 0) > 0 if use_gpu is None else use_gpu
        self.running: dict[str, object] = {}          # job id -> ObjectRef of its task
        self.queue: deque[tuple[str, dict]] = deque()  # (job id, options)
        self.state: dict[str, str] = {}
        self.owner_of: dict[str, str] = {}             # job id -> browser session
        self.active_owner: dict[str, str] = {}         # browser session -> its queued/running job
        self.t_submit: dict[str, float] = {}
        self.waits: list[float] = []                   # seconds each started job waited in the queue
        self.peak = 0
        self.lost = 0                                  # jobs whose task died for good (they get a Failed event)
        self._remote = None

    # ------------------------------------------------------------------ calls
    async def submit(self, job_id: str, owner: str | None = None, options: dict | None = None) -> dict:
        if owner is not None and owner in self.active_owner:
            return dict(error="owner", job=self.active_owner[owner])
        if len(self.running) >= self.max_running and len(self.queue) >= self.max_queue:
            return dict(error="busy", running=len(self.running), queued=len(self.queue))
        self.state[job_id] = QUEUED
        self.t_submit[job_id] = time.monotonic()
        if owner is not None:
            self.owner_of[job_id], self.active_owner[owner] = owner, job_id
        if len(self.running) < self.max_running:
            self._start(job_id, options or {})
            return dict(state=RUNNING, position=None)
        self.queue.append((job_id, options or {}))
        return dict(state=QUEUED, position=len(self.queue))

    async def stop(self, job_id: str) -> str:
        """Queued: removed, a Finished("stopped") event written. Running: the stop flag is set and the worker
        stops at its next step. Returns the state before the call (None: unknown to this manager)."""
        state = self.state.get(job_id)
        if state == QUEUED:
            for item in self.queue:
                if item[0] == job_id:
                    self.queue.remove(item)
                    break
            self.store.append(job_id, dict(kind="Finished", step=0, epoch=0, reason="stopped", best_val_acc=0.0))
            self._done(job_id)
        elif state == RUNNING or (state is None and self.store.exists(job_id)):
            self.store.request_stop(job_id)
        return state

    async def status(self, job_id: str) -> dict:
        return dict(state=self.state.get(job_id), position=self._position(job_id), running=len(self.running),
                    capacity=self.max_running)

    async def stats(self) -> dict:
        return dict(running=len(self.running), queued=len(self.queue), peak=self.peak, capacity=self.max_running,
                    max_queue=self.max_queue, waits=list(self.waits), lost=self.lost,
                    done=sum(s == DONE for s in self.state.values()), use_gpu=self.use_gpu)

    async def queued(self) -> list[str]:
        """The waiting job ids, first to start first."""
        return [item[0] for item in self.queue]

    async def ping(self) -> str:
        return "ok"

    # ------------------------------------------------------------------ internals
    def _position(self, job_id: str) -> int | None:
        for i, item in enumerate(self.queue):
            if item[0] == job_id:
                return i + 1
        return None

    def _start(self, job_id: str, options: dict) -> None:
        """Take a slot now; launch the task just after the answer has gone out (a launch can take a moment)."""
        self.state[job_id] = RUNNING
        self.waits.append(time.monotonic() - self.t_submit.pop(job_id, time.monotonic()))
        self.running[job_id] = None
        self.peak = max(self.peak, len(self.running))
        asyncio.get_running_loop().create_task(self._watch(job_id, options))

    def _task(self, options: dict):
        import ray
        if self._remote is None:
            self._remote = ray.remote(run_job)
        return self._remote.options(num_cpus=options.get("num_cpus", 1), num_gpus=1 if self.use_gpu else 0,
                                    max_retries=self.max_retries, retry_exceptions=False)

    async def _watch(self, job_id: str, options: dict) -> None:
        await asyncio.sleep(0)  # let the submit's answer go out first
        try:
            ref = self.running[job_id] = self._task(options).remote(self.root, job_id, options)
            await ref
        except Exception as e:  # the worker died more often than max_retries, or the task could not run
            if not self.store.is_done(job_id):
                self.lost += 1
                self.store.append(job_id, dict(kind="Failed", step=0, message=f"the training worker died "
                                               f"({type(e).__name__}); the last checkpoint is kept",
                                               checkpoint_step=_last_checkpoint_step(self.store, job_id)))
        finally:
            self.running.pop(job_id, None)
            self._done(job_id)
            while self.queue and len(self.running) < self.max_running:
                nxt = self.queue.popleft()
                self._start(*nxt)

    def _done(self, job_id: str) -> None:
        self.state[job_id] = DONE
        owner = self.owner_of.pop(job_id, None)
        if owner is not None and self.active_owner.get(owner) == job_id:
            del self.active_owner[owner]


def _last_checkpoint_step(store: JobStore, job_id: str) -> int | None:
    steps = [e["step"] for e in store.raw_events(job_id) if e["kind"] == "Checkpoint"]
    return steps[-1] if steps else None


def get_manager(root: str, max_running: int, max_queue: int, name: str = MANAGER_NAME, max_retries: int = 3):
    """The cluster's one manager: created detached on first use, found by name afterwards (by every replica).
    The arguments only matter to the call that creates it."""
    import ray
    cls = ray.remote(JobManager)
    return cls.options(name=name, namespace=NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0,
                       max_concurrency=1000).remote(root, max_running, max_queue, max_retries)


# ---------------------------------------------------------------------- the task that runs one job
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
    last = {"step": 0, "ckpt": _last_checkpoint_step(store, job_id)}
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
