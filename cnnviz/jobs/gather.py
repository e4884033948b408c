"""Class groups in the thread runner: compatible jobs submitted together train together, in one slot.

A job whose kind has a class-group key (``kind.group_key_of``: a training's model, data shapes, batch size,
optimizer, precision) does not ask the limiter for a slot at once. The first job of a key opens a *gathering*
(:class:`Gatherer`) for ``CNNVIZ_GATHER_S`` seconds (default 1.0); every job of that key submitted meanwhile joins
it. At the window's end (or at :data:`MAX_MEMBERS`) the group asks the limiter for ONE slot; while it waits in the
queue, jobs of its key still join it. A job arriving after its group started joins the next group. Jobs of other
keys gather in their own groups; a job without a key asks for its own slot, as before.

Each member stays a normal job of the runner (its own id, owner, events, checkpoint, storage and Stop): a member
stopped before its group starts leaves the group (the group's slot request goes when it empties); one stopped
while it trains leaves the computation at the next step. The group runs through its kind's ``run_together``
(``kind.run_group``), in a thread, or with ``isolate`` in ONE child process (``child.run_isolated_group``).

:class:`Classes` is the runner's side (a mixin of :class:`cnnviz.jobs.runner.ThreadRunner`, like ``Upkeep``):
starting and running groups, and each queued job's status with an honest wait estimate."""
from __future__ import annotations

import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field

from cnnviz.errors import ConfigError
from cnnviz.jobs.child import run_isolated, run_isolated_group
from cnnviz.jobs.events import Checkpoint, Failed, Finished, JobStatus, Progress
from cnnviz.jobs.kept import env_number
from cnnviz.jobs.kind import Member, run_group
from cnnviz.jobs.limiter import job_threads
from cnnviz.jobs.upkeep import DONE, QUEUED, RUNNING

GATHER_S = env_number("CNNVIZ_GATHER_S", 1.0)  # a class group's gathering window, in seconds
MAX_MEMBERS = 64                               # a group closes its window at this size (training's MAX_GROUP_SIZE)
GATHERING, CLOSED = "gathering", "closed"      # a group's states besides QUEUED, RUNNING and DONE


@dataclass(eq=False)
class Group:
    id: str                         # its id in the limiter's queue
    key: object
    opened: float
    members: list = field(default_factory=list)  # the runner's jobs, in arrival order
    state: str = GATHERING          # gathering -> queued -> running -> done; closed: emptied before it started
    started: float | None = None


class Gatherer:
    """The open groups (gathering, or queued in the limiter), the groups of jobs, and finished groups' durations."""

    def __init__(self, limiter, start, gather_s: float | None = None, clock=time.monotonic):
        self.limiter, self._start, self.clock = limiter, start, clock
        self.gather_s = GATHER_S if gather_s is None else gather_s
        self.max_members = MAX_MEMBERS
        self._lock = threading.Lock()
        self._open: list[Group] = []
        self._of: dict[str, Group] = {}           # job id -> its group, until the job ends
        self.groups: dict[str, Group] = {}        # limiter id -> group, while queued or running
        self._durations: dict[object, tuple[int, float]] = {}  # key -> (count, mean seconds) of finished runs

    def add(self, job, key) -> Group:
        """``job`` joins the open group of ``key`` (a new one opens its window); returns the group."""
        with self._lock:
            group = next((g for g in self._open if g.key == key and len(g.members) < self.max_members), None)
            new = group is None
            if new:
                group = Group(f"group-{uuid.uuid4().hex}", key, self.clock())
                self._open.append(group)
            group.members.append(job)
            self._of[job.id] = group
            full = group.state == GATHERING and len(group.members) >= self.max_members
        if full:
            self._close(group)
        elif new:
            timer = threading.Timer(self.gather_s, self._close, (group,))
            timer.daemon = True
            timer.start()
        return group

    def _close(self, group: Group) -> None:
        """The window's end: the group asks for its one slot (an emptied group is dropped)."""
        with self._lock:
            if group.state != GATHERING:
                return
            if not group.members:
                group.state = CLOSED
                self._open.remove(group)
                return
            group.state = QUEUED
            self.groups[group.id] = group
        self.limiter.request(group.id, lambda: self._begin(group))

    def _begin(self, group: Group) -> None:
        with self._lock:
            if group in self._open:
                self._open.remove(group)
            members = list(group.members)
            group.state, group.started = (RUNNING if members else CLOSED), self.clock()
            if not members:
                self.groups.pop(group.id, None)
        if not members:  # every member was stopped as its slot came
            self.limiter.release(group.id)
            return
        self._start(group, members)

    def remove(self, job) -> bool:
        """Take a member out of its group before the group starts (its Stop); False when it is not waiting in one."""
        with self._lock:
            group = self._of.get(job.id)
            if group is None or group.state not in (GATHERING, QUEUED) or job not in group.members:
                return False
            group.members.remove(job)
            del self._of[job.id]
            if not group.members and (group.state == GATHERING or self.limiter.cancel(group.id)):
                group.state = CLOSED  # a queued one only when its request was still waiting (else _begin drops it)
                self._open.remove(group)
                self.groups.pop(group.id, None)
        return True

    def left(self, job) -> None:
        """A member's run has ended."""
        with self._lock:
            self._of.pop(job.id, None)

    def finished(self, group: Group, seconds: float | None = None) -> None:
        """The group has ended; ``seconds``: its running time when it was paused by turns (else its wall time)."""
        with self._lock:
            group.state = DONE
            self.groups.pop(group.id, None)
            for job in group.members:
                self._of.pop(job.id, None)
        self.record(group.key, self.clock() - group.started if seconds is None else seconds)

    def record(self, key, seconds: float) -> None:
        """One more finished run of ``key`` (a group, or a solo job's kind) in the running mean."""
        with self._lock:
            n, mean = self._durations.get(key, (0, 0.0))
            self._durations[key] = (n + 1, mean + (seconds - mean) / (n + 1))

    def mean(self, key) -> float | None:
        """The running mean duration of ``key``; of all keys when this one has not finished yet; None when none.
        (``("first", key)``: the seconds from a start to its first point, averaged apart from the durations.)"""
        def first(k) -> bool:
            return isinstance(k, tuple) and k[:1] == ("first",)
        with self._lock:
            if key in self._durations:
                return self._durations[key][1]
            known = [v for k, v in self._durations.items() if first(k) == first(key)]
        return sum(n * m for n, m in known) / sum(n for n, _ in known) if known else None

    def group_of(self, job_id: str) -> Group | None:
        with self._lock:
            return self._of.get(job_id)

    def extra_waiting(self) -> int:
        """Jobs waiting beyond what the limiter counts (it counts a queued group once; a gathering not at all)."""
        with self._lock:
            return sum(len(g.members) - (g.state == QUEUED) for g in self._open)


def _left(job, now: float, mean: float | None, started: float | None) -> float | None:
    """A running job's seconds left: its latest Progress ``eta_s`` less the time since, else its kind's mean."""
    if job.eta is not None:
        return max(0.0, job.eta[0] - (now - job.eta[1]))
    if mean is not None and started is not None:
        return max(0.0, mean - (now - started))
    return None


class Classes:
    """The runner's side of class groups (state on :class:`~cnnviz.jobs.runner.ThreadRunner`: ``gather``,
    ``limiter``, ``isolate``, ``device``, ``spares``, ``kept``, ``clock``, ``_jobs``, ``_emit``, ``_ended``)."""

    def _start_group(self, group: Group, jobs: list) -> None:
        thread = threading.Thread(target=self._work_group, args=(group, jobs), name=f"cnnviz-{group.id}",
                                  daemon=True)
        for job in jobs:
            job.state, job.thread, job.started_at = RUNNING, thread, self.clock()
        thread.start()

    def _member(self, job) -> Member:
        def emit(event):
            if job.state == DONE:  # a late event after its end (a crash's Failed, a second Finished)
                return
            self._track(job, event)
            self._emit(job, event)
            if isinstance(event, (Finished, Failed)):
                self._ended(job)
                self.gather.left(job)

        def keep(blob: bytes):
            job.checkpoint = blob
            if self.kept is not None:
                self.kept.checkpoint(job.id, blob)
        return Member(job.config, emit, job.stop, keep)

    def _track(self, job, event) -> None:
        """What a job's status and its Failed need: its step, last checkpoint's step and latest estimate."""
        job.step = getattr(event, "step", job.step)
        if isinstance(event, Checkpoint):
            job.ckpt_step = event.step
        elif isinstance(event, Progress):
            if job.eta is None and job.started_at is not None:  # its first point: how long a start takes
                group = self.gather.group_of(job.id)
                key = group.key if group is not None else ("alone", job.title)
                self.gather.record(("first", key), self.clock() - job.started_at)
            job.eta = (event.eta_s, self.clock())

    def _work_group(self, group: Group, jobs: list) -> None:
        members = [self._member(job) for job in jobs]
        failure = None
        try:
            if self.isolate and len(members) == 1:  # a group of one: exactly a solo job's child
                m = members[0]
                threads = job_threads(self.limiter.capacity)
                failure = run_isolated(m.config, m.emit, m.stop, m.keep, self.device, threads, self.spares,
                                       self.slicer, group.id)
            elif self.isolate:  # the whole group in one child, which may use every core but one
                failure = run_isolated_group(members, self.device, job_threads(), self.spares,
                                             self.slicer, group.id)
            else:
                run_group(members, self.device)
        except ConfigError as e:
            failure = str(e)
        except Exception as e:  # a crash must reach every member as a message, not kill the server
            failure = f"training crashed: {traceback.format_exception_only(type(e), e)[-1].strip()}"
        finally:
            for job, m in zip(jobs, members):
                if failure is not None:
                    m.emit(Failed(job.step, failure, job.ckpt_step))
                if job.state != DONE:  # ended without its end event (as a solo run may): ended all the same
                    self._ended(job)
            self.gather.finished(group, self._solo_s(group.id, None))
            self.limiter.release(group.id)

    def _group_status(self, job, state: str) -> JobStatus:
        group = self.gather.group_of(job.id) if state != DONE else None
        slot = group.id if group is not None else job.id
        position = self.limiter.position(slot) if state == QUEUED else None
        classmates = sum(1 for j in group.members if j is not job and j.state != DONE) if group is not None else 0
        window = (group.opened + self.gather.gather_s - self.clock()
                  if group is not None and group.state == GATHERING else None)
        if getattr(self, "slicer", None) is not None and state != DONE:  # taking turns: slicing.Turns
            key = group.key if group is not None else ("alone", job.title)
            return JobStatus(state, position, self.limiter.running, self.limiter.slots, classmates,
                             **self._turns_status(job, slot, key, state, window))
        wait = self._wait_s(slot, window) if state == QUEUED else None
        return JobStatus(state, position, self.limiter.running, self.limiter.capacity, classmates, wait)

    def _key_of(self, slot: str):
        group = self.gather.groups.get(slot)
        if group is not None:
            return group.key
        job = self._jobs.get(slot)
        return ("alone", job.title) if job is not None else None

    def _wait_s(self, slot: str, window_left: float | None) -> float | None:
        """Seconds until ``slot`` starts: the slots free up as the running jobs' latest estimates say, and each
        entry ahead in the queue takes the first free slot for its key's mean duration. None when a running or
        waiting entry is unknown (another runner's job, no estimate yet and no finished run to go by)."""
        now, queue, running = self.clock(), self.limiter.queued(), self.limiter.running_ids()
        free = []
        for rid in running:
            group = self.gather.groups.get(rid)
            jobs = [j for j in group.members if j.state != DONE] if group is not None else [self._jobs.get(rid)]
            if not jobs:  # every member has ended: the group is letting go of its slot
                free.append(0.0)
                continue
            if jobs[0] is None:  # another runner's job (a shared limiter): nothing known about it
                return None
            left = [_left(j, now, self.gather.mean(self._key_of(rid)), j.started_at) for j in jobs]
            if any(t is None for t in left):
                return None
            free.append(max(left))
        free += [0.0] * max(0, self.limiter.capacity - len(free))
        ahead = queue[:queue.index(slot)] if slot in queue else queue
        for qid in ahead:
            mean = self.gather.mean(self._key_of(qid))
            if mean is None:
                return None
            free.sort()
            free[0] += mean
        return max(min(free), window_left or 0.0)
