"""The job manager: one detached, named Ray actor that owns admission for the whole cluster.

At most ``max_running`` tasks run; up to ``max_queue`` more jobs wait first-come, first-served and know their
position; beyond that ``submit`` answers ``busy`` at once (the caller turns that into "busy, try again"). Each
admitted job is one Ray task (:func:`cnnviz.jobs.cluster.tasks.run_job`) that asks for a GPU when the cluster has
one and is retried by Ray from its last checkpoint when its worker process dies. The actor is an asyncio actor:
every call is a few dictionary operations on one event loop, so answers come back in milliseconds even under a
burst.

Class groups (the thread runner's rule, :mod:`cnnviz.jobs.gather`, on the cluster): a job submitted with a
class-group key (computed by the submitting replica: the manager never imports torch) opens a gathering of
``gather_s`` seconds (``CNNVIZ_GATHER_S``, default 1.0), or joins the open group of its key (at most
:data:`~cnnviz.jobs.gather.MAX_MEMBERS`). At the window's end the group takes ONE slot, or waits in the queue as
one entry that still takes members of its key, and runs as ONE Ray task
(:func:`cnnviz.jobs.cluster.tasks.run_group_task`): one worker trains every member through its kind's
``run_together``. Each member stays its own job: its own state, owner, queue position (its group's), stop flag,
retry and failure. A group of one runs as a solo task; a job without a key runs alone, as before. A group's
record, its members' classmates and wait estimates: :mod:`.groups`.

This module never imports ray at import time; :func:`get_manager` and the actor's methods do."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque

from cnnviz.jobs.cluster.groups import DONE, GATHERING, QUEUED, RUNNING, Group, GroupStatus
from cnnviz.jobs.cluster.tasks import last_checkpoint_step, run_group_task, run_job
from cnnviz.jobs.gather import GATHER_S, MAX_MEMBERS
from cnnviz.jobs.storage import JobStore

MANAGER_NAME = "cnnviz-job-manager"
NAMESPACE = "cnnviz"


class JobManager(GroupStatus):
    """Admission only: it never imports torch (its calls must answer in milliseconds) and never trains."""

    def __init__(self, root: str, max_running: int, max_queue: int, max_retries: int = 3,
                 use_gpu: bool | None = None, gather_s: float | None = None):
        import ray
        self.root, self.max_running, self.max_queue, self.max_retries = root, max_running, max_queue, max_retries
        self.gather_s = GATHER_S if gather_s is None else gather_s
        self.store = JobStore(root)
        self.use_gpu = ray.cluster_resources().get("GPU", 0) > 0 if use_gpu is None else use_gpu
        self.running: dict[str, object] = {}          # entry (job or group id) -> ObjectRef of its task
        self.queue: deque[tuple[str, dict]] = deque()  # (entry, options): a solo job's id or a group's id
        self.groups: dict[str, Group] = {}            # group id -> group, until its task ends
        self.group_of: dict[str, str] = {}             # job id -> its group's id, until the job ends
        self.open: dict[str, str] = {}                 # key -> the group that takes its members now
        self.group_tasks = 0                           # groups of two or more started as one task
        self.state: dict[str, str] = {}
        self.owner_of: dict[str, str] = {}             # job id -> browser session
        self.active_owner: dict[str, str] = {}         # browser session -> its queued/running job
        self.t_submit: dict[str, float] = {}
        self.waits: list[float] = []                   # seconds each started job waited in the queue
        self.peak = 0
        self.lost = 0                                  # jobs whose task died for good (they get a Failed event)
        self._remote = None
        self.started: dict[str, float] = {}            # running entry -> when its task was launched
        self.durations: dict[str, tuple[int, float]] = {}  # key ("alone" for solo jobs) -> (runs, mean seconds)

    # ------------------------------------------------------------------ calls
    async def submit(self, job_id: str, owner: str | None = None, options: dict | None = None,
                     key: str | None = None) -> dict:
        """``key``: the job's class-group key (a string; None = it runs alone)."""
        if owner is not None and owner in self.active_owner:
            return dict(error="owner", job=self.active_owner[owner])
        if self._waiting() >= self.max_queue and (len(self.running) >= self.max_running or key is not None):
            return dict(error="busy", running=len(self.running), queued=self._waiting())
        self.state[job_id] = QUEUED
        self.t_submit[job_id] = time.monotonic()
        if owner is not None:
            self.owner_of[job_id], self.active_owner[owner] = owner, job_id
        if key is not None:
            group = self._join(job_id, key, options or {})
            return dict(state=QUEUED, position=self._position(job_id), group=group.id)
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
            if job_id in self.group_of:
                self._leave(job_id)
            for item in self.queue:
                if item[0] == job_id:
                    self.queue.remove(item)
                    break
            self.store.append(job_id, dict(kind="Finished", step=0, epoch=0, reason="stopped", best_val_acc=0.0))
            self._done(job_id)
        elif state == RUNNING or (state is None and self.store.exists(job_id)):
            self.store.request_stop(job_id)  # a solo task and a group's task both poll the job's own flag
        return state

    async def status(self, job_id: str) -> dict:
        group = self.groups.get(self.group_of.get(job_id))
        return dict(state=self.state.get(job_id), position=self._position(job_id), running=len(self.running),
                    capacity=self.max_running, classmates=self._classmates(job_id, group) if group else 0,
                    group=group.id if group else None,
                    wait_s=self._wait_s(job_id) if self.state.get(job_id) == QUEUED else None)

    async def stats(self) -> dict:
        return dict(running=len(self.running), queued=len(self.queue), peak=self.peak, capacity=self.max_running,
                    max_queue=self.max_queue, waits=list(self.waits), lost=self.lost,
                    done=sum(s == DONE for s in self.state.values()), use_gpu=self.use_gpu,
                    group_tasks=self.group_tasks, gather_s=self.gather_s)

    async def queued(self) -> list[str]:
        """The waiting job ids, first to start first (a queued group's members at its place)."""
        return [j for item in self.queue for j in self._members(item[0])]

    async def ping(self) -> str:
        return "ok"

    # ------------------------------------------------------------------ internals
    def _members(self, entry: str) -> list[str]:
        group = self.groups.get(entry)
        return list(group.members) if group is not None else [entry]

    def _position(self, job_id: str) -> int | None:
        entry = self.group_of.get(job_id, job_id)  # a member waits at its group's place
        for i, item in enumerate(self.queue):
            if item[0] == entry:
                return i + 1
        return None

    def _waiting(self) -> int:
        """Jobs waiting to start: in the queue (a group's members each) and in gathering groups."""
        return (sum(len(self._members(item[0])) for item in self.queue)
                + sum(len(g.members) for g in self.groups.values() if g.state == GATHERING))

    def _join(self, job_id: str, key: str, options: dict) -> Group:
        """``job_id`` joins the group that takes members of ``key`` now (a new one opens its window)."""
        group = self.groups.get(self.open.get(key))
        if group is None:
            group = Group(f"group-{uuid.uuid4().hex}", key, options, time.monotonic())
            self.groups[group.id], self.open[key] = group, group.id
            asyncio.get_running_loop().call_later(self.gather_s, self._close, group.id)
        group.members.append(job_id)
        self.group_of[job_id] = group.id
        if len(group.members) >= MAX_MEMBERS:  # full: the next job of its key opens the next group
            del self.open[key]
            self._close(group.id)
        return group

    def _close(self, group_id: str) -> None:
        """The window's end: the group takes one slot, or waits in the queue as one entry."""
        group = self.groups.get(group_id)
        if group is None or group.state != GATHERING:  # emptied (every member stopped), or closed when full
            return
        group.state = QUEUED
        if len(self.running) < self.max_running and not self.queue:
            self._start(group_id, group.options)
        else:
            self.queue.append((group_id, group.options))

    def _leave(self, job_id: str) -> None:
        """A waiting member's Stop: it leaves its group; an emptied group gives up its place."""
        group = self.groups[self.group_of.pop(job_id)]
        group.members.remove(job_id)
        if not group.members:
            if (group.id, group.options) in self.queue:
                self.queue.remove((group.id, group.options))
            del self.groups[group.id]
            if self.open.get(group.key) == group.id:
                del self.open[group.key]

    def _start(self, entry: str, options: dict) -> None:
        """Take a slot now; launch the task just after the answer has gone out (a launch can take a moment)."""
        now = time.monotonic()
        for job_id in self._members(entry):
            self.state[job_id] = RUNNING
            self.waits.append(now - self.t_submit.pop(job_id, now))
        group = self.groups.get(entry)
        if group is not None:
            group.state = RUNNING
            if self.open.get(group.key) == entry:  # a job of its key arriving now opens the next group
                del self.open[group.key]
        self.running[entry], self.started[entry] = None, now
        self.peak = max(self.peak, len(self.running))
        asyncio.get_running_loop().create_task(self._watch(entry, options))

    def _task(self, fn, options: dict):
        import ray
        if self._remote is None:
            self._remote = {}
        if fn not in self._remote:
            self._remote[fn] = ray.remote(fn)
        return self._remote[fn].options(num_cpus=options.get("num_cpus", 1), num_gpus=1 if self.use_gpu else 0,
                                        max_retries=self.max_retries, retry_exceptions=False)

    async def _watch(self, entry: str, options: dict) -> None:
        await asyncio.sleep(0)  # let the submit's answer go out first
        members = self._members(entry)
        try:
            if entry in self.groups and len(members) > 1:  # a class group: one task, one worker
                self.group_tasks += 1
                ref = self.running[entry] = self._task(run_group_task, options).remote(self.root, entry, members,
                                                                                       options)
            else:  # a solo job, or a group of one: exactly a solo job's task
                ref = self.running[entry] = self._task(run_job, options).remote(self.root, members[0], options)
            await ref
        except Exception as e:  # the worker died more often than max_retries, or the task could not run
            for job_id in members:  # each member that had not ended: its own Failed, its own checkpoint
                if not self.store.is_done(job_id):
                    self.lost += 1
                    self.store.append(job_id, dict(kind="Failed", step=0, message=f"the training worker died "
                                                   f"({type(e).__name__}); the last checkpoint is kept",
                                                   checkpoint_step=last_checkpoint_step(self.store, job_id)))
        finally:
            self.running.pop(entry, None)
            n, mean = self.durations.get(self._key(entry), (0, 0.0))
            took = time.monotonic() - self.started.pop(entry, time.monotonic())
            self.durations[self._key(entry)] = (n + 1, mean + (took - mean) / (n + 1))
            self.groups.pop(entry, None)
            for job_id in members:
                self.group_of.pop(job_id, None)
                self._done(job_id)
            while self.queue and len(self.running) < self.max_running:
                nxt = self.queue.popleft()
                self._start(*nxt)

    def _done(self, job_id: str) -> None:
        self.state[job_id] = DONE
        owner = self.owner_of.pop(job_id, None)
        if owner is not None and self.active_owner.get(owner) == job_id:
            del self.active_owner[owner]


def get_manager(root: str, max_running: int, max_queue: int, name: str = MANAGER_NAME, max_retries: int = 3,
                gather_s: float | None = None):
    """The cluster's one manager: created detached on first use, found by name afterwards (by every replica).
    The arguments only matter to the call that creates it."""
    import ray
    cls = ray.remote(JobManager)
    return cls.options(name=name, namespace=NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0,
                       max_concurrency=1000).remote(root, max_running, max_queue, max_retries,
                                                              gather_s=gather_s)
