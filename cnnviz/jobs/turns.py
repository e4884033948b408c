"""The estimates of jobs taking turns (:mod:`cnnviz.jobs.slicing`): processor-sharing arithmetic
(:func:`shared_times`, :func:`share_of`), what a job taking turns is told (:func:`turns_text`), and the runner's
side (:class:`Turns`, a mixin of :class:`cnnviz.jobs.runner.ThreadRunner`: a queued or paused job's time to its
first point and to its end)."""
from __future__ import annotations

import math

from cnnviz.jobs.upkeep import DONE, QUEUED


def share_of(n: int, capacity: int, quantum: float) -> tuple[float, float] | None:
    """(N, M) for ``n`` children on ``capacity`` slots: each trains ``quantum`` s of every
    ``ceil(n / capacity) · quantum`` s; None when ``n <= capacity``."""
    if n <= capacity:
        return None
    return quantum, math.ceil(n / capacity) * quantum


def shared_times(work: list[float], queued: list[float], capacity: int, slots: int) -> tuple[list, list, list]:
    """Processor sharing: ``work`` = the running children's solo seconds left, ``queued`` = the solo seconds of
    the entries waiting, in order, each admitted when fewer than ``slots`` children are left; ``n`` children
    each advance at ``min(1, capacity / n)`` of their solo pace. Returns (each running child's end, each queued
    entry's start, each queued entry's end), in seconds from now."""
    pool = {("r", i): max(0.0, w) for i, w in enumerate(work)}
    ends_r, starts_q, ends_q = [0.0] * len(work), [0.0] * len(queued), [0.0] * len(queued)
    nxt, t = 0, 0.0
    while True:
        while nxt < len(queued) and len(pool) < slots:
            pool[("q", nxt)] = max(0.0, queued[nxt])
            starts_q[nxt], nxt = t, nxt + 1
        if not pool:
            return ends_r, starts_q, ends_q
        rate = min(1.0, capacity / len(pool))
        dt = min(pool.values()) / rate
        t += dt
        for k in list(pool):
            pool[k] -= dt * rate
            if pool[k] <= 1e-9:
                del pool[k]
                (ends_r if k[0] == "r" else ends_q)[k[1]] = t


def turns_text(status) -> str | None:
    """What a job taking turns is told (plain text): "Sharing the machine with 2 other class groups: your group
    trains 3 s of every 9 s (paused now, until its next turn)"; None when it does not take turns."""
    share = getattr(status, "share", None)
    if not share or getattr(status, "state", "") == "done":
        return None
    n, m, others = share
    grouped = (getattr(status, "classmates", 0) or 0) > 0
    who = "your group trains" if grouped else "your training runs"
    return (f"Sharing the machine with {others} other {'class group' if others == 1 else 'class groups'} or "
            f"trainings: {who} {n:g} s of every {m:g} s" + (" (paused now, until its next turn)."
                                                             if getattr(status, "paused", False) else "."))


class Turns:
    """The runner's side of time-slicing (a mixin of :class:`cnnviz.jobs.runner.ThreadRunner`, like ``Classes``,
    whose ``gather``, ``limiter``, ``slicer``, ``clock`` and ``_jobs`` it reads): running seconds for the mean
    durations, and a queued or running job's estimates of its first point and its end with the turns counted."""

    def _solo_s(self, slot: str, wall: float | None) -> float | None:
        """The ended job's or group's running seconds (its pauses left out) when it took turns, else ``wall``."""
        ran = self.slicer.ran_of(slot) if self.slicer is not None else None
        return wall if ran is None else ran

    def _solo_left(self, rid: str, now: float) -> float | None:
        """The solo seconds a running job or group (limiter id ``rid``) has left: its members' latest estimates
        (measured in wall time, so scaled by the share it had: running ÷ wall seconds), else its kind's mean
        less what it has run. None when unknown."""
        group = self.gather.groups.get(rid)
        jobs = [j for j in group.members if j.state != DONE] if group is not None else [self._jobs.get(rid)]
        if not jobs:
            return 0.0
        if jobs[0] is None:  # another runner's job (a shared limiter)
            return None
        ticket = self.slicer.ticket(rid)
        ran = ticket.ran(now) if ticket is not None else now - (jobs[0].started_at or now)
        wall = now - ticket.arrived if ticket is not None else ran
        ratio = min(1.0, ran / wall) if wall > 0 else 1.0
        mean = self.gather.mean(group.key if group is not None else ("alone", jobs[0].title))
        left = []
        for j in jobs:
            if j.eta is not None:
                left.append(max(0.0, j.eta[0] - (now - j.eta[1])) * ratio)
            elif mean is not None:
                left.append(max(0.0, mean - ran))
            else:
                return None
        return max(left)

    def _turns_status(self, job, slot: str, key, state: str, window_left: float | None) -> dict:
        """``wait_s``, ``first_s``, ``end_s``, ``share`` and ``paused`` of a queued or running job with turns."""
        now, cap, slots = self.clock(), self.limiter.capacity, self.limiter.slots
        running, queue = sorted(self.limiter.running_ids()), self.limiter.queued()
        work = [self._solo_left(rid, now) for rid in running]
        gathering = slot not in running and slot not in queue
        order = queue + ([slot] if gathering else [])
        means = [self.gather.mean(key if q == slot else self._key_of(q)) for q in order]
        out: dict = {}
        ticket = self.slicer.ticket(slot)
        if ticket is not None:
            out["paused"] = not ticket.running
        if state != DONE and (ticket is not None or state == QUEUED):
            n = len(running) + (0 if slot in running else 1)
            share = share_of(min(n, slots), cap, self.slicer.quantum)
            out["share"] = share + (min(n, slots) - 1,) if share is not None else None
        if any(w is None for w in work) or (slot in order and any(m is None for m in means[:order.index(slot) + 1])):
            return out
        ends_r, starts_q, ends_q = shared_times(work, means, cap, slots)
        first = self.gather.mean(("first", key))
        if slot in running:
            out["end_s"] = ends_r[running.index(slot)]
            if job.eta is None and first is not None:
                out["first_s"] = max(0.0, first - (now - (job.started_at or now)))
            return out
        j = order.index(slot)
        start = max(starts_q[j], window_left or 0.0)
        out["wait_s"], out["end_s"] = start, ends_q[j] + start - starts_q[j]
        if first is not None:  # it runs at its start (a new child goes first), or after the turn then running
            out["first_s"] = start + first + (self.slicer.quantum if len(running) >= cap else 0.0)
        return out
