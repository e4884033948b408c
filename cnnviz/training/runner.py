"""Runners: ``submit(config) -> job_id``, ``poll(job_id, since) -> events``, ``stop(job_id)``.

The default :class:`ThreadRunner` runs each job from a background thread of this process; the app's runner
(``factory.get_runner``) has each thread drive a child process that does the training (``isolated.py``). A process-wide
:class:`JobLimiter` lets at most N jobs train at once (default: half the CPU cores, at least 1;
``CNNVIZ_MAX_JOBS`` overrides); the rest wait in a first-come queue and know their position. A browser
session (``owner``) may have one job queued or running at a time, and only it may stop the job, take its
checkpoint or resume from it (job ids are 128 random bits: cnnviz.jobids). Pages only use this interface, so a
Ray runner can take this one's place."""
from __future__ import annotations

import os
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field

from cnnviz.errors import ConfigError
from cnnviz.jobids import check_owner, is_job_id, new_job_id
from cnnviz.training.events import Checkpoint, Failed, Finished, JobStatus
from cnnviz.training.isolated import SparePool, run_isolated
from cnnviz.training.jobs import run_job
from cnnviz.training.recipe import TrainConfig

QUEUED, RUNNING, DONE = "queued", "running", "done"


def default_max_jobs() -> int:
    env = os.environ.get("CNNVIZ_MAX_JOBS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ConfigError("CNNVIZ_MAX_JOBS", f"must be a whole number, got {env!r}") from None
    return max(1, (os.cpu_count() or 2) // 2)


class JobLimiter:
    """At most ``capacity`` jobs run at once; the others wait in order. ``request`` starts the job now
    (``start()`` is called) or queues it; ``release`` frees a slot and starts the next waiting job."""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity or default_max_jobs()
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._queue: deque[tuple[str, callable]] = deque()

    def request(self, job_id: str, start) -> bool:
        with self._lock:
            if len(self._running) < self.capacity:
                self._running.add(job_id)
            else:
                self._queue.append((job_id, start))
                return False
        start()
        return True

    def cancel(self, job_id: str) -> bool:
        """Remove a waiting job from the queue; False if it is not waiting."""
        with self._lock:
            for item in self._queue:
                if item[0] == job_id:
                    self._queue.remove(item)
                    return True
        return False

    def release(self, job_id: str) -> None:
        with self._lock:
            self._running.discard(job_id)
            nxt = None
            if self._queue and len(self._running) < self.capacity:
                nxt = self._queue.popleft()
                self._running.add(nxt[0])
        if nxt is not None:
            nxt[1]()

    def position(self, job_id: str) -> int | None:
        """1 for the next job to start; None when the job is not waiting."""
        with self._lock:
            for i, (jid, _) in enumerate(self._queue):
                if jid == job_id:
                    return i + 1
        return None

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)


LIMITER = JobLimiter()  # the one piece of state shared by every session of the process


@dataclass
class _Job:
    config: TrainConfig              # or a DistillConfig or a SearchConfig: see jobs.py
    owner: str | None
    state: str = QUEUED
    events: list = field(default_factory=list)
    checkpoint: bytes | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class ThreadRunner:
    def __init__(self, limiter: JobLimiter | None = None, device=None, isolate: bool = False, spare: bool = False):
        """``isolate``: each job trains in a child process (the app's runner), so the pages keep the GIL.
        ``spare`` (with ``isolate``): keep one child started ahead, its imports done, so a job's first event
        comes without a process start-up (isolated.SparePool); :meth:`close` (or the process's exit) ends it."""
        self.limiter = limiter or LIMITER
        self.device, self.isolate = device, isolate
        self.spares = SparePool() if isolate and spare else None
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the interface
    def submit(self, config, owner: str | None = None) -> str:
        """``config``: a TrainConfig, a DistillConfig or a SearchConfig (jobs.py). Starts it now or queues it; the job id."""
        with self._lock:
            if owner is not None:
                for job in self._jobs.values():
                    if job.owner == owner and job.state != DONE:
                        raise ConfigError("job", "this browser session already has a training job; "
                                          "stop it before starting another")
            job_id = new_job_id()
            while job_id in self._jobs:  # 128 random bits: never in practice
                job_id = new_job_id()
            self._jobs[job_id] = job = _Job(config, owner, checkpoint=getattr(config, "resume", None))
        self.limiter.request(job_id, lambda: self._start(job_id, job))
        return job_id

    def poll(self, job_id: str, since: int = 0) -> list:
        job = self._job(job_id)
        with job.lock:
            return job.events[since:]

    def stop(self, job_id: str, owner: str | None = None) -> None:
        """Only the job's ``owner`` (the one given to :meth:`submit`) may stop it: ConfigError("job") otherwise."""
        job = self._owned(job_id, owner)
        job.stop.set()
        if self.limiter.cancel(job_id):
            self._emit(job, Finished(0, 0, "stopped", 0.0))
            job.state = DONE

    # ------------------------------------------------------------------ extras
    def status(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        return JobStatus(job.state, self.limiter.position(job_id), self.limiter.running, self.limiter.capacity)

    def checkpoint(self, job_id: str, owner: str | None = None) -> bytes | None:
        """The last good checkpoint's bytes (kept when a later step fails); for the job's ``owner`` only."""
        return self._owned(job_id, owner).checkpoint

    def check_owner(self, job_id: str, owner: str | None) -> None:
        """ConfigError("job") when the job is unknown or ``owner`` is not its owner."""
        self._owned(job_id, owner)

    def join(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait until the job has ended (a queued job first waits for its turn); True when it has."""
        job = self._job(job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while job.thread is None and job.state != DONE:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        if job.thread is not None:
            job.thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            return not job.thread.is_alive()
        return True

    def close(self) -> None:
        """End the spare child, if any (jobs are left alone; the process's exit does this too)."""
        if self.spares is not None:
            self.spares.close()

    # ------------------------------------------------------------------ internals
    def _job(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise ConfigError("job", "no such training job on this server (it may have restarted)")
        return job

    def _owned(self, job_id: str, owner: str | None) -> _Job:
        job = self._job(job_id)
        check_owner(job.owner, owner)
        return job

    @staticmethod
    def _emit(job: _Job, event) -> None:
        with job.lock:
            job.events.append(event)

    def _start(self, job_id: str, job: _Job) -> None:
        job.state = RUNNING
        job.thread = threading.Thread(target=self._work, args=(job_id, job), name=f"cnnviz-{job_id}", daemon=True)
        job.thread.start()

    def _work(self, job_id: str, job: _Job) -> None:
        step, ckpt = [0], [None]

        def emit(event):
            step[0] = getattr(event, "step", step[0])
            if isinstance(event, Checkpoint):
                ckpt[0] = event.step
            self._emit(job, event)

        def keep(blob: bytes):
            job.checkpoint = blob

        try:
            if self.isolate:
                threads = max(1, ((os.cpu_count() or 2) - 1) // self.limiter.capacity)
                failure = run_isolated(job.config, emit, job.stop, keep, self.device, threads, self.spares)
                if failure is not None:
                    emit(Failed(step[0], failure, ckpt[0]))
            else:
                run_job(job.config, emit, job.stop, keep, self.device)
        except ConfigError as e:
            emit(Failed(step[0], str(e), ckpt[0]))
        except Exception as e:  # a crash must reach the page as a message, not kill the server
            last = traceback.format_exception_only(type(e), e)[-1].strip()
            emit(Failed(step[0], f"training crashed: {last}", ckpt[0]))
        finally:
            job.state = DONE
            self.limiter.release(job_id)
