"""The process-wide job limiter: at most N jobs run at once (default: half the CPU cores, at least 1;
``CNNVIZ_MAX_JOBS`` overrides); the others wait in a first-come queue and know their position."""
from __future__ import annotations

import os
import threading
from collections import deque

from cnnviz.errors import ConfigError


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
