"""A fake job runner for the Training Lab's live panels in AppTest: what the panels ask a runner (``status``,
``poll``, ``seen``), answered from a fixed status and a list of events the test appends to; and a status with the
fields the grouping runner adds (``classmates``, ``wait_s``) as a namespace, so a test does not depend on when
:class:`cnnviz.jobs.events.JobStatus` gained them."""
from __future__ import annotations

from types import SimpleNamespace


class FakeRunner:
    """One job ``job`` in state ``status`` with ``events`` (a list: append to it and the next poll sees them)."""

    def __init__(self, status, events=(), job: str = "a" * 32):
        self.job, self._status, self.events, self.seen_by = job, status, list(events), []

    def status(self, job):
        assert job == self.job, job
        return self._status

    def poll(self, job, since=0):
        assert job == self.job, job
        return self.events[since:]

    def seen(self, owner):
        self.seen_by.append(owner)


def group_status(state: str = "running", position=None, classmates: int = 0, wait_s=None, running: int = 1,
                 capacity: int = 1) -> SimpleNamespace:
    """A job status as the grouping runner gives it."""
    return SimpleNamespace(state=state, queue_position=position, running_jobs=running, capacity=capacity,
                           classmates=classmates, wait_s=wait_s)
