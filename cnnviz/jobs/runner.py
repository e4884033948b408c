"""The thread runner: ``submit(job) -> job_id``, ``poll(job_id, since) -> events``, ``stop(job_id)``.

Each job runs from a background thread of this process; with ``isolate`` (the app's runner, ``factory``) that
thread drives a child process that does the work (``child.py``). The process-wide :class:`JobLimiter` decides
when a job starts. A browser session (``owner``) may have one job queued or running at a time, and only it may
stop the job, take its checkpoint or resume from it (job ids are 128 random bits: ``ids``). The runner knows no
job kind: a job is any :class:`~cnnviz.jobs.kind.JobKind`, and the runner calls its ``run``. Pages only use this
interface, so the Ray runner can take this one's place."""
from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field

from cnnviz.errors import ConfigError
from cnnviz.jobs.child import SparePool, run_isolated
from cnnviz.jobs.events import Checkpoint, Failed, Finished, JobStatus
from cnnviz.jobs.ids import check_owner, is_job_id, new_job_id
from cnnviz.jobs.kind import JobKind, check_kind, run_job
from cnnviz.jobs.limiter import LIMITER, JobLimiter

QUEUED, RUNNING, DONE = "queued", "running", "done"


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(name, f"must be a number of seconds, got {raw!r}") from None


# A class's fairness rules (each overridable by its environment variable):
ABANDON_S = _env_seconds("CNNVIZ_ABANDON_S", 900)       # an owner with no page run this long: job stopped
FORGET_S = _env_seconds("CNNVIZ_FORGET_S", 4 * 3600)    # a finished job's curve and checkpoint are kept this long
MAX_QUEUE = int(_env_seconds("CNNVIZ_MAX_QUEUE", 200))  # jobs waiting at most; beyond, "busy, try again"


@dataclass
class _Job:
    config: JobKind | None           # dropped when the job ends (it may hold a student's whole data set)
    owner: str | None
    title: str = "job"
    state: str = QUEUED
    ended_at: float | None = None
    events: list = field(default_factory=list)
    checkpoint: bytes | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    id: str = ""


class ThreadRunner:
    def __init__(self, limiter: JobLimiter | None = None, device=None, isolate: bool = False, spare: bool = False,
                 expect: tuple[str, ...] = ()):
        """``isolate``: each job trains in a child process (the app's runner), so the pages keep the GIL.
        ``spare`` (with ``isolate``): keep one child started ahead (child.SparePool) with its imports done, the
        job kinds' modules of ``expect`` included, so a job's first event comes without a process start-up;
        :meth:`close` (or the process's exit) ends it."""
        self.limiter = limiter or LIMITER
        self.device, self.isolate = device, isolate
        self.spares = SparePool(expect=expect) if isolate and spare else None
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}  # owner -> when a page of theirs last asked (:meth:`seen`)
        self.clock = time.monotonic
        self.abandon_s, self.forget_s, self.max_queue = ABANDON_S, FORGET_S, MAX_QUEUE

    # ------------------------------------------------------------------ the interface
    def submit(self, config, owner: str | None = None) -> str:
        """``config``: any job kind (an object with ``run``: kind.py). Starts it now or queues it; the job id.
        An owner has at most one job queued or running, of any kind (a second tab's Start says where the first
        is); at most ``max_queue`` jobs wait (ConfigError "busy" beyond)."""
        check_kind(config)
        if self.spares is not None:
            self.spares.expect(type(config).__module__)
        self.tidy()
        with self._lock:
            if owner is not None:
                self._seen[owner] = self.clock()  # under the lock, like every write of the owners
                for job in self._jobs.values():
                    if job.owner == owner and job.state != DONE:
                        where = f"waiting, position {self.limiter.position(job.id)}" if job.state == QUEUED \
                            else "running"
                        raise ConfigError("job", f"this browser already has a {job.title} {where} (started here or "
                                          "in another tab); stop it before starting another")
            if self.limiter.waiting >= self.max_queue:
                raise ConfigError("job", f"busy, try again in a minute: {self.limiter.waiting} jobs are waiting, "
                                  "the most this server queues")
            job_id = new_job_id()
            while job_id in self._jobs:  # 128 random bits: never in practice
                job_id = new_job_id()
            self._jobs[job_id] = job = _Job(config, owner, getattr(config, "title", type(config).__name__),
                                            checkpoint=getattr(config, "resume", None), id=job_id)
        self.limiter.request(job_id, lambda: self._start(job_id, job))
        return job_id

    def poll(self, job_id: str, since: int = 0) -> list:
        job = self._job(job_id)
        with job.lock:
            return job.events[since:]

    def stop(self, job_id: str, owner: str | None = None) -> None:
        """Only the job's ``owner`` (the one given to :meth:`submit`) may stop it: ConfigError("job") otherwise."""
        self._stop(self._owned(job_id, owner))

    # ------------------------------------------------------------------ a class's fairness
    def seen(self, owner: str) -> None:
        """A page of ``owner``'s ran (every page run and every live job panel's poll call this): their jobs are not
        abandoned. Also tidies, so an abandoned job frees its slot while its classmates browse, not only at the
        next Start."""
        with self._lock:  # tidy iterates over the owners
            self._seen[owner] = self.clock()
        self.tidy()

    def jobs_of(self, owner: str) -> list[tuple[str, str, str]]:
        """``(job id, title, state)`` of every job this server keeps for ``owner``, oldest first: what a reload (the
        owner cookie) reconnects to."""
        with self._lock:
            return [(jid, j.title, j.state) for jid, j in self._jobs.items() if owner is not None and j.owner == owner]

    def tidy(self) -> None:
        """Stop the jobs of owners unseen for ``abandon_s`` (a closed tab's job trains for nobody, and holds a
        slot); forget jobs finished more than ``forget_s`` ago (their curve and checkpoint)."""
        now = self.clock()
        with self._lock:
            for jid, job in list(self._jobs.items()):
                if job.state == DONE:
                    if job.ended_at is not None and now - job.ended_at > self.forget_s:
                        del self._jobs[jid]
                elif job.owner is not None and now - self._seen.get(job.owner, now) > self.abandon_s \
                        and not job.stop.is_set():
                    self._stop(job)
            live = {j.owner for j in self._jobs.values()}
            for owner in [o for o in self._seen if o not in live and now - self._seen[o] > self.abandon_s]:
                del self._seen[owner]

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

    def _stop(self, job: _Job) -> None:
        job.stop.set()
        if self.limiter.cancel(job.id):
            self._emit(job, Finished(0, 0, "stopped", 0.0))
            self._ended(job)

    def _ended(self, job: _Job) -> None:
        job.state, job.ended_at, job.config = DONE, self.clock(), None

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
            self._ended(job)
            self.limiter.release(job_id)
