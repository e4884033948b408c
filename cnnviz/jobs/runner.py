"""The thread runner: ``submit(job) -> job_id``, ``poll(job_id, since) -> events``, ``stop(job_id)``.

Each job runs from a background thread of this process; with ``isolate`` (the app's runner, ``factory``) that
thread drives a child process that does the work (``child.py``). The process-wide :class:`JobLimiter` decides
when a job starts. A browser session (``owner``) may have one job queued or running at a time, and only it may
stop the job, take its checkpoint or resume from it (job ids are 128 random bits: ``ids``). The runner knows no
job kind: a job is any :class:`~cnnviz.jobs.kind.JobKind`, and the runner calls its ``run``. Pages only use this
interface, so the Ray runner can take this one's place.

Nothing is lost when the process ends: each job is written to the job storage as it happens (``kept.Keeper``: its
owner, events and last checkpoint, the Ray runner's layout), and a job this runner does not hold (an earlier
process's, another replica's) is read from there for its owner; one whose process is gone reads as interrupted."""
from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field

from cnnviz.errors import ConfigError
from cnnviz.jobs.child import run_isolated
from cnnviz.jobs.spares import SparePool
from cnnviz.jobs.events import Failed, Finished, JobStatus
from cnnviz.jobs.gather import Classes, Gatherer
from cnnviz.jobs.ids import check_owner, is_job_id, new_job_id
from cnnviz.jobs.kind import JobKind, check_kind, group_key_of, run_job
from cnnviz.jobs.kept import GONE, Keeper, env_number
from cnnviz.jobs.limiter import LIMITER, JobLimiter, job_threads
from cnnviz.jobs.slicing import SLICE_S, extra_children
from cnnviz.jobs.turns import Turns
from cnnviz.jobs.storage import JobStore, recipe_fields
from cnnviz.jobs.upkeep import DONE, QUEUED, RUNNING, Upkeep

# A class's fairness rules (each overridable by its environment variable):
ABANDON_S = env_number("CNNVIZ_ABANDON_S", 900)         # an owner with no page run this long: job stopped
FORGET_S = env_number("CNNVIZ_FORGET_S", 4 * 3600)      # a finished job's curve and checkpoint are kept this long
MAX_QUEUE = int(env_number("CNNVIZ_MAX_QUEUE", 200))    # jobs waiting at most; beyond, "busy, try again"


def _a(title: str) -> str:
    return f"{'an' if title[:1] in 'aeiou' else 'a'} {title}"


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
    fields: dict = field(default_factory=dict)  # the recipe's plain values (what a reconnected page draws with)
    group: object = None             # its class group (gather.Group), when its kind has a group key
    started_at: float | None = None
    step: int = 0                    # its last event's step, its last checkpoint's step, its latest (eta_s, when)
    ckpt_step: int | None = None
    eta: tuple | None = None


class ThreadRunner(Upkeep, Classes, Turns):
    def __init__(self, limiter: JobLimiter | None = None, device=None, isolate: bool = False, spare: bool = False,
                 expect: tuple[str, ...] = (), storage=True, groups: bool = True, slice_s: float | None = 0.0):
        """``isolate``: each job trains in a child process (the app's runner), so the pages keep the GIL.
        ``spare`` (with ``isolate``): keep one child (two with turns) started ahead (child.SparePool), imports done, the
        job kinds' modules of ``expect`` included, so a job's first event comes without a process start-up;
        :meth:`close` (or the process's exit) ends it. ``storage``: where jobs are kept (True: ``CNNVIZ_STORAGE`` or
        ~/.cache/cnnviz/jobs; a path or a JobStore; False: in memory only). ``groups``: compatible jobs gather and
        train as class groups (:mod:`.gather`); False: every job alone in its own slot (the Ray runner's way).
        ``slice_s`` (with ``isolate``; None: ``CNNVIZ_SLICE_S``, as the app's runner has it; 0, the default: off,
        first-come): the limiter admits a few jobs more than its capacity (``CNNVIZ_SLICE_EXTRA``) and they take
        turns of this many seconds (:mod:`.slicing`); without ``isolate``, always first-come."""
        self.limiter = limiter or LIMITER
        self.device, self.isolate, self.groups = device, isolate, groups
        quantum = SLICE_S if slice_s is None else slice_s
        extra = extra_children(self.limiter.capacity) if isolate and quantum > 0 else 0
        self.slicer = self.limiter.share(extra, quantum) if extra > 0 else None
        self.spares = SparePool(expect=expect, size=2 if self.slicer is not None else 1) if isolate and spare \
            else None  # two when jobs take turns: two groups starting together both find a warm child
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}  # owner -> when a page of theirs last asked (:meth:`seen`)
        self.clock = time.monotonic
        self.abandon_s, self.forget_s, self.max_queue = ABANDON_S, FORGET_S, MAX_QUEUE
        try:
            store = storage if isinstance(storage, JobStore) else JobStore(None if storage is True else storage) \
                if storage is not False and storage is not None else None
        except OSError as e:  # an unwritable CNNVIZ_STORAGE: the jobs still run, kept in memory only
            logging.getLogger(__name__).warning("job storage unusable, jobs are kept in memory only: %s", e)
            store = None
        self.kept = Keeper(store) if store is not None else None
        self._beating: threading.Thread | None = None
        self._sweeping = False
        self.gather = Gatherer(self.limiter, self._start_group, clock=lambda: self.clock())  # class groups
        self._sweep_soon()  # which owner has which job on disk: a restarted server knows at once

    # ------------------------------------------------------------------ the interface
    def submit(self, config, owner: str | None = None) -> str:
        """``config``: any job kind (an object with ``run``: kind.py). Starts it now or queues it; the job id.
        An owner has at most one job queued or running, of any kind (a second tab's Start says where the first
        is); at most ``max_queue`` jobs wait (ConfigError "busy" beyond). A kind with a class-group key gathers
        with the jobs of its key (:mod:`.gather`) and trains with them in one slot."""
        check_kind(config)
        key = group_key_of(config, self.device) if self.groups else None
        if self.spares is not None:
            self.spares.expect(type(config).__module__)
        self.tidy()
        if owner is not None and self.kept is not None:  # a job of this browser held by another replica
            for _, title, state in self.kept.jobs_of(owner, self._jobs):
                if state == "running":
                    raise ConfigError("job", f"this browser already has {_a(title)} running (on another server "
                                      "of this class); stop it before starting another")
        with self._lock:
            if owner is not None:
                self._seen[owner] = self.clock()  # under the lock, like every write of the owners
                for job in self._jobs.values():
                    if job.owner == owner and job.state != DONE:
                        at = self._group_status(job, job.state).queue_position
                        where = ("running" if job.state != QUEUED else
                                 f"waiting, position {at}" if at is not None else "about to start")
                        raise ConfigError("job", f"this browser already has {_a(job.title)} {where} (started here "
                                          "or in another tab); stop it before starting another")
            waiting = self.limiter.waiting + self.gather.extra_waiting()
            if waiting >= self.max_queue:
                raise ConfigError("job", f"busy, try again in a minute: {waiting} jobs are waiting, "
                                  "the most this server queues")
            job_id = new_job_id()
            while job_id in self._jobs:  # 128 random bits: never in practice
                job_id = new_job_id()
            self._jobs[job_id] = job = _Job(config, owner, getattr(config, "title", type(config).__name__),
                                            checkpoint=getattr(config, "resume", None), id=job_id,
                                            fields=recipe_fields(config))
        if self.kept is not None:
            self.kept.created(job_id, config, owner, job.title)
            self._beat()
        if key is None:
            self.limiter.request(job_id, lambda: self._start(job_id, job))
        else:
            job.group = self.gather.add(job, key)
        return job_id

    def poll(self, job_id: str, since: int = 0) -> list:
        job = self._job(job_id)
        if job is None:  # kept on disk: an earlier process's job, or another replica's
            return self.kept.events(job_id, since)
        with job.lock:
            return job.events[since:]

    def stop(self, job_id: str, owner: str | None = None) -> None:
        """Only the job's ``owner`` (the one given to :meth:`submit`) may stop it: ConfigError("job") otherwise."""
        job = self._owned(job_id, owner)
        if job is None:
            self.kept.stop(job_id)
        else:
            self._stop(job)

    def jobs_of(self, owner: str) -> list[tuple[str, str, str]]:
        """``(job id, title, state)`` of every job this server keeps for ``owner``, oldest first: what a reload (the
        owner cookie) reconnects to."""
        with self._lock:
            mine = [(jid, j.title, j.state) for jid, j in self._jobs.items() if owner is not None and j.owner == owner]
        if self.kept is None or owner is None:
            return mine
        self._sweep_soon()
        return sorted(self.kept.jobs_of(owner, self._jobs), key=lambda j: self.kept.io(
            lambda: self.kept.store.last_write(j[0]), 0.0)) + mine

    def forget(self, job_id: str, owner: str | None = None) -> None:
        """Delete an ended job of ``owner`` now (its events, checkpoint and files), as :meth:`tidy` forgets an old
        one: the run history's Delete. ConfigError("job") when it is not theirs, unknown, or not ended."""
        job = self._owned(job_id, owner)
        if (job.state if job is not None else self.kept.settle(job_id)) != DONE:
            raise ConfigError("job", "this job is still running: stop it before deleting it")
        with self._lock:
            self._jobs.pop(job_id, None)
        if self.kept is not None:
            self.kept.forget(job_id)

    # ------------------------------------------------------------------ extras
    def status(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        if job is not None:  # its group's queue position, its classmates, an estimate of its wait
            return self._group_status(job, job.state)
        return JobStatus(self.kept.settle(job_id), None, self.limiter.running, self.limiter.capacity)

    def checkpoint(self, job_id: str, owner: str | None = None) -> bytes | None:
        """The last good checkpoint's bytes (kept when a later step fails); for the job's ``owner`` only."""
        job = self._owned(job_id, owner)
        return self.kept.read_checkpoint(job_id) if job is None else job.checkpoint

    def check_owner(self, job_id: str, owner: str | None) -> None:
        """ConfigError("job") when the job is unknown or ``owner`` is not its owner."""
        self._owned(job_id, owner)

    def join(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait until the job has ended (a queued job first waits for its turn); True when it has."""
        job = self._job(job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while job is None and self.kept.settle(job_id) != "done":  # held by another process
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        while job is not None and (job.thread is None or job.group is not None) and job.state != DONE:
            if deadline is not None and time.monotonic() > deadline:  # a group member ends before its group
                return False
            time.sleep(0.05)
        if job is not None and job.group is not None and any(j.state != DONE for j in job.group.members):
            return True  # its run has ended; its classmates train on
        if job is not None and job.thread is not None:
            job.thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            return not job.thread.is_alive()
        return True

    def close(self) -> None:
        """End the spare child, if any (jobs are left alone; the process's exit does this too)."""
        if self.spares is not None:
            self.spares.close()

    # ------------------------------------------------------------------ internals
    def _job(self, job_id: str) -> _Job | None:
        """The job this runner holds; None for one only the storage keeps; ConfigError("job") when neither has it."""
        job = self._jobs.get(job_id) if is_job_id(job_id) else None
        if job is None and not (is_job_id(job_id) and self.kept is not None and self.kept.knows(job_id)):
            raise ConfigError("job", GONE)
        return job

    def _owned(self, job_id: str, owner: str | None) -> _Job | None:
        job = self._job(job_id)
        check_owner(job.owner if job is not None else self.kept.owner(job_id), owner)
        return job

    def _stop(self, job: _Job) -> None:
        job.stop.set()
        if self.gather.remove(job) or self.limiter.cancel(job.id):  # still waiting: it leaves its group / queue
            self._emit(job, Finished(0, 0, "stopped", 0.0))
            self._ended(job)

    def _ended(self, job: _Job) -> None:
        job.state, job.ended_at, job.config = DONE, self.clock(), None
        if self.kept is not None:
            self.kept.ended(job.id)  # its data set goes; its curve and checkpoint stay for a reconnect

    def _emit(self, job: _Job, event) -> None:
        with job.lock:
            job.events.append(event)
            if self.kept is not None:
                self.kept.event(job.id, event)

    def _start(self, job_id: str, job: _Job) -> None:
        job.state, job.started_at = RUNNING, self.clock()
        job.thread = threading.Thread(target=self._work, args=(job_id, job), name=f"cnnviz-{job_id}", daemon=True)
        job.thread.start()

    def _work(self, job_id: str, job: _Job) -> None:
        def emit(event):
            self._track(job, event)
            self._emit(job, event)

        def keep(blob: bytes):
            job.checkpoint = blob
            if self.kept is not None:
                self.kept.checkpoint(job_id, blob)

        try:
            if self.isolate:
                threads = job_threads(self.limiter.capacity)
                failure = run_isolated(job.config, emit, job.stop, keep, self.device, threads, self.spares,
                                       self.slicer, job_id)
                if failure is not None:
                    emit(Failed(job.step, failure, job.ckpt_step))
            else:
                run_job(job.config, emit, job.stop, keep, self.device)
        except ConfigError as e:
            emit(Failed(job.step, str(e), job.ckpt_step))
        except Exception as e:  # a crash must reach the page as a message, not kill the server
            last = traceback.format_exception_only(type(e), e)[-1].strip()
            emit(Failed(job.step, f"training crashed: {last}", job.ckpt_step))
        finally:
            self.gather.record(("alone", job.title), self._solo_s(job_id, self.clock() - job.started_at))
            self._ended(job)
            self.limiter.release(job_id)
