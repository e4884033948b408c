"""The process-wide job limiter: at most N jobs run at once (default: half the CPU cores, at least 1, of this
server's share ``CNNVIZ_JOB_CPUS``; ``CNNVIZ_MAX_JOBS`` overrides); the others wait in a first-come queue and know their position.

With time-slicing (:mod:`.slicing`, child processes only) it admits ``extra`` jobs more than its ``capacity``:
they take turns on the ``capacity`` CPU slots, the others paused (:meth:`JobLimiter.share`)."""
from __future__ import annotations

import os
import threading
from collections import deque

from cnnviz.errors import ConfigError


def _whole(name: str) -> int | None:
    env = os.environ.get(name, "").strip()
    if not env:
        return None
    try:
        return max(1, int(env))
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {env[:40]!r}") from None


def job_cpus() -> int:
    """The CPU cores this server's jobs may use: ``CNNVIZ_JOB_CPUS`` (``deploy/run_replicas.sh`` gives each of its
    N replicas its share of the machine, so N runners do not each count every core), else every core."""
    return _whole("CNNVIZ_JOB_CPUS") or os.cpu_count() or 2


def job_threads(slots: int = 1) -> int:
    """Torch threads of one job child when ``slots`` run at once: the jobs' cores less one (the web process's),
    shared."""
    return max(1, (job_cpus() - 1) // max(1, slots))


def default_max_jobs() -> int:
    """``CNNVIZ_MAX_JOBS``, else half the jobs' cores (:func:`job_cpus`), at least 1."""
    return _whole("CNNVIZ_MAX_JOBS") or max(1, job_cpus() // 2)


class JobLimiter:
    """At most ``capacity`` jobs run at once; the others wait in order. ``request`` starts the job now
    (``start()`` is called) or queues it; ``release`` frees a slot and starts the next waiting job. ``slots``:
    the jobs admitted at once, ``capacity`` plus the ``extra`` that share the CPU slots by turns (its
    :attr:`slicer`, set by :meth:`share`)."""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity or default_max_jobs()
        self.extra, self.slicer = 0, None
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._queue: deque[tuple[str, callable]] = deque()

    @property
    def slots(self) -> int:
        return self.capacity + self.extra

    def share(self, extra: int, quantum: float):
        """Admit ``extra`` jobs beyond ``capacity``, which take turns (every ``quantum`` s) on the CPU slots: the
        limiter's :class:`~cnnviz.jobs.slicing.Slicer` (made once; the runners of one limiter share it)."""
        from cnnviz.jobs.slicing import Slicer
        with self._lock:
            if self.slicer is None:
                self.slicer = Slicer(self.capacity, quantum)
            self.extra = max(self.extra, extra)
            slicer = self.slicer
        self._admit()
        return slicer

    def _admit(self) -> None:
        """Start waiting jobs while there are free slots."""
        while True:
            with self._lock:
                if not self._queue or len(self._running) >= self.slots:
                    return
                nxt = self._queue.popleft()
                self._running.add(nxt[0])
            nxt[1]()

    def request(self, job_id: str, start) -> bool:
        with self._lock:
            if len(self._running) < self.slots:
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
            if self._queue and len(self._running) < self.slots:
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

    def queued(self) -> list[str]:
        """The waiting ids, the next to start first."""
        with self._lock:
            return [jid for jid, _ in self._queue]

    def running_ids(self) -> set[str]:
        with self._lock:
            return set(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)


LIMITER = JobLimiter()  # the one piece of state shared by every session of the process
