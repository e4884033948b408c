"""A job child's CPU priority, below the web process's: the pages of a class come before the trainings' steps.

``CNNVIZ_JOB_SCHED`` (read here only, by :func:`job_sched`):

- ``nice`` (the default): ``nice 10``: the child keeps about a tenth of a core that a page also wants.
- ``idle``: on Linux the child runs under ``SCHED_IDLE``: it gets only the CPU time nothing else wants, and a page's
  rerun preempts it at once. Where the call fails (not Linux, a sandbox that forbids it: ``EPERM``) the child falls
  back to ``nice``. Opt-in, for a server that runs nothing but the app: measured on the quiet 2-core box
  (``bench.classroom_load -n 30 --trainings 10 --together``, one run each, back to back) it was no better for the
  pages (p95 4.08 s against 2.84 s with nice) and its class trained 33–35 epochs in the minute against 50, and a
  machine whose cores something else keeps busy (the teacher's own browser on a projector, a test suite's
  workers) would leave an idle-class job almost nothing.

A spare child (:class:`cnnviz.jobs.child.SparePool`) does its imports at ``nice 10`` and takes the policy only
when its job comes (:func:`for_job`): a spare started while a class's pages keep every core busy would otherwise
not finish importing torch, and the first Start on that server would wait for it (the 13.8 s first point of the
second replica, see ``deploy/run_replicas.sh``)."""
from __future__ import annotations

import os
import sys

from cnnviz.errors import ConfigError

SCHED_ENV = "CNNVIZ_JOB_SCHED"
POLICIES = ("idle", "nice")
NICENESS = 10      # a job child's niceness (both policies: idle's fallback, and the spare's imports)


def job_sched(env=None) -> str:
    """``CNNVIZ_JOB_SCHED``: "nice" (default) or "idle"; ConfigError naming the variable for anything else."""
    raw = (os.environ if env is None else env).get(SCHED_ENV, "").strip().lower()
    if raw and raw not in POLICIES:
        raise ConfigError(SCHED_ENV, f"must be one of {', '.join(POLICIES)}, got {raw[:40]!r}")
    return raw or "nice"


def lower() -> None:
    """The child's first step: ``nice 10`` for this process (its imports, a spare's wait)."""
    os.nice(NICENESS)


def _threads() -> list[int]:
    """This process's thread ids (the policy is a thread's: torch's pool threads, started by the warm-up, too);
    [0] (the calling thread) where /proc is missing."""
    try:
        return sorted(int(t) for t in os.listdir("/proc/self/task"))
    except OSError:
        return [0]


def for_job(policy: str, setscheduler=None) -> str:
    """Apply ``policy`` to every thread of this process (threads started later inherit it from theirs); returns
    what applies now, "idle" or "nice" (SCHED_IDLE unavailable or refused: the process stays at nice 10)."""
    if policy != "idle":
        return "nice"
    setscheduler = setscheduler or getattr(os, "sched_setscheduler", None)
    if setscheduler is None or not hasattr(os, "SCHED_IDLE"):  # not Linux
        return "nice"
    try:
        for tid in _threads():
            try:
                setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            except ProcessLookupError:  # that thread has just ended
                pass
    except OSError as e:  # EPERM in some sandboxes and containers
        print(f"cnnviz job child: SCHED_IDLE refused ({e}); staying at nice {NICENESS}", file=sys.stderr)
        return "nice"
    return "idle"
