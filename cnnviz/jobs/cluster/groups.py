"""The job manager's class groups (:mod:`.job_manager`): a group's record, and what a member's status says about
it — its classmates and its estimated wait (the thread runner's estimate, :mod:`cnnviz.jobs.gather`)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

QUEUED, RUNNING, DONE = "queued", "running", "done"
GATHERING = "gathering"  # a class group's window is open (its members are "queued" jobs without a position)
ENDED_CHECK_S = 1.0      # a running group's ended members are read from the storage at most this often


@dataclass(eq=False)
class Group:
    """A class group on the cluster: gathering -> queued -> running; its members' job ids in arrival order."""

    id: str
    key: str
    options: dict
    opened: float                  # when its window opened (monotonic seconds)
    members: list = field(default_factory=list)
    state: str = GATHERING
    ended: set = field(default_factory=set)  # members seen ended in the storage while it runs
    checked: float = float("-inf")           # when ``ended`` was last read


class GroupStatus:
    """A mixin of :class:`~cnnviz.jobs.cluster.job_manager.JobManager` (its ``groups``, ``running``, ``started``,
    ``queue``, ``durations``, ``state``, ``store``, ``max_running`` and ``gather_s``)."""

    def _classmates(self, job_id: str, group: Group) -> int:
        """The others of its group that have not ended (a running group's members end on their own: their last
        events, read from the storage at most every :data:`ENDED_CHECK_S` seconds per group)."""
        others = [j for j in group.members if j != job_id and self.state.get(j) != DONE]
        if group.state == RUNNING:
            now = time.monotonic()
            if now - group.checked > ENDED_CHECK_S:
                group.ended, group.checked = {j for j in group.members if self.store.is_done(j)}, now
            others = [j for j in others if j not in group.ended]
        return len(others)

    def _key(self, entry: str) -> str:
        group = self.groups.get(entry)
        return group.key if group is not None else "alone"

    def _mean(self, key: str) -> float | None:
        """Mean seconds of the finished tasks of ``key``; of all tasks when none of it has finished; else None."""
        if key in self.durations:
            return self.durations[key][1]
        known = list(self.durations.values())
        return sum(n * m for n, m in known) / sum(n for n, _ in known) if known else None

    def _wait_s(self, job_id: str) -> float | None:
        """A waiting job's seconds until its task starts (the thread runner's estimate, gather.Classes._wait_s):
        each slot frees when its task has run its key's mean; every entry ahead takes the first free slot for its
        key's mean; a gathering group waits for its window at least. None while no task has finished."""
        now, entry = time.monotonic(), self.group_of.get(job_id, job_id)
        free = []
        for rid in self.running:
            mean = self._mean(self._key(rid))
            if mean is None:
                return None
            free.append(max(0.0, mean - (now - self.started.get(rid, now))))
        free += [0.0] * max(0, self.max_running - len(free))
        for qid, _ in self.queue:
            if qid == entry:
                break
            mean = self._mean(self._key(qid))
            if mean is None:
                return None
            free.sort()
            free[0] += mean
        group = self.groups.get(entry)
        window = group.opened + self.gather_s - now if group is not None and group.state == GATHERING else 0.0
        return max(min(free), window)
